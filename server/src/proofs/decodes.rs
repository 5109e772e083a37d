//! The image decoding pool (security review item 2). A decode reserves its cost in MiB
//! (the decoded size times the copies it holds) from one budget before it starts, so
//! decodes at once never hold more than the budget whatever arrives in parallel; a few
//! may wait for room, and beyond them the answer is `busy` (503 with `Retry-After`). A
//! request that goes away while waiting starts nothing; one that goes away while its
//! decode runs stops it at the next step.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Decodes {
    budget: Arc<Semaphore>,
    budget_mib: u32,
    /// Decodes running or waiting; beyond them the answer is "busy".
    places: Arc<Semaphore>,
}

/// A running decode's room in the budget and its place, given back when it is dropped.
pub struct Reserved {
    _room: OwnedSemaphorePermit,
    _place: OwnedSemaphorePermit,
}

/// Every place is taken: the caller answers 503 with `Retry-After`.
#[derive(Debug)]
pub struct DecodesBusy;

impl Decodes {
    pub fn new(budget_mib: u32, places: usize) -> Self {
        let budget_mib = budget_mib.max(1);
        Self {
            budget: Arc::new(Semaphore::new(budget_mib as usize)),
            budget_mib,
            places: Arc::new(Semaphore::new(places.max(1))),
        }
    }

    /// Room for a decode of `cost_mib`, waiting for it if others hold it. A decode that
    /// costs more than the whole budget waits for all of it: one at a time.
    pub async fn reserve(&self, cost_mib: u32) -> Result<Reserved, DecodesBusy> {
        let place = self
            .places
            .clone()
            .try_acquire_owned()
            .map_err(|_| DecodesBusy)?;
        let room = self
            .budget
            .clone()
            .acquire_many_owned(cost_mib.clamp(1, self.budget_mib))
            .await
            .map_err(|_| DecodesBusy)?;
        Ok(Reserved {
            _room: room,
            _place: place,
        })
    }
}

/// Set when the request that asked for the work has gone; the worker looks between steps.
#[derive(Clone, Default)]
pub struct Abandoned(Arc<AtomicBool>);

impl Abandoned {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Held by the request's future: dropping it (the request went away) marks the work
/// abandoned.
pub struct AbandonOnDrop(pub Abandoned);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn decodes_share_one_budget_and_a_full_queue_is_busy() {
        let decodes = Decodes::new(100, 3);
        let first = decodes.reserve(60).await.unwrap();
        // The second does not fit beside the first: it waits.
        let waiting = tokio::time::timeout(Duration::from_millis(50), decodes.reserve(60)).await;
        assert!(waiting.is_err());
        let second = decodes.reserve(40).await.unwrap();
        // Three places: the third waits, a fourth is busy at once.
        let third = tokio::spawn({
            let budget = decodes.budget.clone();
            async move { budget.acquire_many_owned(1).await.map(|_| ()) }
        });
        let _held = decodes.places.clone().try_acquire_owned().unwrap();
        assert!(matches!(decodes.reserve(1).await, Err(DecodesBusy)));
        drop((first, second));
        third.await.unwrap().unwrap();
        // More than the whole budget: it waits for all of it, and runs alone.
        let big = decodes.reserve(500).await.unwrap();
        assert_eq!(decodes.budget.available_permits(), 0);
        drop(big);
        let abandoned = Abandoned::default();
        drop(AbandonOnDrop(abandoned.clone()));
        assert!(abandoned.is_set());
    }
}
