//! A connection's `hello`: the consults it follows, what each is missing from the log
//! replayed in pages, then `live` (and a video consult's running call); and the catch-up
//! when news outruns what was sent.
use super::*;

impl Connection {
    pub(super) async fn hello(
        &mut self,
        socket: &mut WebSocket,
        consults: Vec<Resume>,
    ) -> Result<(), End> {
        if consults.len() > MAX_CONSULTS_PER_HELLO {
            return self
                .send(socket, &error(ErrorCode::InvalidJson, None, None))
                .await;
        }
        for r in consults {
            let c = match access::find(&self.state.db, self.who, &r.consult).await {
                Ok(c) => c,
                Err(e) => {
                    self.send(socket, &error(e.code(), Some(r.consult), None))
                        .await?;
                    continue;
                }
            };
            if let Participant::Doctor { staff_id, .. } = self.who
                && !self.joined.contains_key(&c.id)
            {
                // R-EMR-2: a doctor opening a patient's consult is logged.
                if let Err(e) = access::log_access(
                    &self.state.db,
                    &c,
                    staff_id,
                    access::Access::Read,
                    None,
                    &self.cx(),
                )
                .await
                {
                    tracing::warn!(error = ?e, "a consult read was not logged; refused");
                    self.send(socket, &error(ErrorCode::Internal, Some(r.consult), None))
                        .await?;
                    continue;
                }
            }
            // Hear the news first, then replay: nothing falls between the two.
            if let Ok(parts) = self.state.parts.get::<ChatParts>() {
                parts.hub.join(&self.listener, c.id);
            }
            let id = c.id;
            self.joined.insert(
                id,
                Joined {
                    consult: c,
                    sent: r.after.max(0),
                },
            );
            self.catch_up(socket, id).await?;
            let Some(j) = self.joined.get(&id) else {
                continue;
            };
            let live = ServerFrame::Live {
                consult: j.consult.consult_number.clone(),
                last_seq: j.sent,
            };
            let video = j.consult.consult_type == "video";
            let number = j.consult.consult_number.clone();
            self.send(socket, &live).await?;
            // A video consult's running call, so a page that comes back can rejoin it.
            if video && let Ok(Some(call)) = crate::call::service::running(&self.state.db, id).await
            {
                let f = self.call_frame(id, crate::call::service::view(&call, &number));
                self.send(socket, &f).await?;
            }
        }
        Ok(())
    }

    /// Sends every entry of the consult after the last one sent, page by page.
    pub(super) async fn catch_up(
        &mut self,
        socket: &mut WebSocket,
        consult_id: i64,
    ) -> Result<(), End> {
        let side = self.who.side();
        loop {
            let Some(j) = self.joined.get(&consult_id) else {
                return Ok(());
            };
            let page = match service::entries(&self.state.db, &j.consult, j.sent, side).await {
                Ok(p) => p,
                Err(_) => return Err(End::Close(close::TOO_SLOW, "try again")),
            };
            if page.is_empty() {
                return Ok(());
            }
            let full = page.len() >= app::chat::protocol::PAGE;
            for entry in page {
                let seq = entry.seq;
                self.send(socket, &ServerFrame::Entry(entry)).await?;
                if let Some(j) = self.joined.get_mut(&consult_id) {
                    j.sent = seq;
                }
            }
            if !full {
                return Ok(());
            }
        }
    }
}
