//! Open queue event streams. Each holds a connection and asks the database every two
//! seconds, so one account may keep only a few open at once on an instance (a phone, a
//! tablet and a spare tab); each ends when its session does (logout, expiry).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Streams one account may have open on this instance.
pub const STREAMS_PER_ACCOUNT: usize = 3;

#[derive(Default)]
pub struct QueueStreams {
    open: Arc<Mutex<HashMap<i64, usize>>>,
}

/// A stream's place in the count, given back when the stream is dropped (the client
/// went away, the place stopped waiting, or the session ended).
pub struct StreamSlot {
    open: Arc<Mutex<HashMap<i64, usize>>>,
    patient_id: i64,
}

impl QueueStreams {
    /// A slot for one more stream of `patient_id`, or None when they have the most.
    pub fn open(&self, patient_id: i64) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(patient_id).or_default();
        if *n >= STREAMS_PER_ACCOUNT {
            return None;
        }
        *n += 1;
        Some(StreamSlot {
            open: self.open.clone(),
            patient_id,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.patient_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.patient_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_keeps_only_a_few_streams_and_gets_them_back() {
        let streams = QueueStreams::default();
        let held: Vec<_> = (0..STREAMS_PER_ACCOUNT)
            .map(|_| streams.open(7).expect("a slot"))
            .collect();
        assert!(streams.open(7).is_none());
        assert!(streams.open(8).is_some(), "another account is not counted");
        drop(held);
        assert!(
            !streams.open.lock().unwrap().contains_key(&7),
            "all given back"
        );
        assert!(streams.open(7).is_some());
    }
}
