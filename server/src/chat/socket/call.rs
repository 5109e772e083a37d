//! A connection's part in its consults' calls: call moves, the session descriptions of
//! the backup (relayed to the other side's pages) and of the primary (handed to this
//! side's media leg, which drives the media server for it), and the call frame with the
//! relay's credentials.
use super::{Connection, End, error};
use crate::call::sfu::{LegIn, LegNews, LegOut};
use crate::chat::hub::{News, Signal, What};
use crate::db::consult_call;
use crate::error::AppError;
use app::chat::protocol::{CallView, MAX_SDP_BYTES, SdpKind, ServerFrame};
use app::domain::ErrorCode;
use app::domain::call::{CallAction, Fallback, MediaSystem};
use axum::extract::ws::WebSocket;
use time::OffsetDateTime;
use tokio::sync::mpsc;

impl Connection {
    /// A move of the consult's call; the call's news then reaches every page of both
    /// sides, this one too.
    pub(super) async fn call(
        &mut self,
        socket: &mut WebSocket,
        consult: String,
        action: CallAction,
    ) -> Result<(), End> {
        let Some(id) = self.joined_by_number(&consult) else {
            return self
                .send(socket, &error(ErrorCode::NotFound, Some(consult), None))
                .await;
        };
        let Some(c) = self.joined.get(&id).map(|j| j.consult.clone()) else {
            return Ok(());
        };
        match crate::call::service::act(&self.state, self.who, &c, action, &self.cx()).await {
            Ok(call) => {
                let gone = matches!(
                    action,
                    CallAction::Leave
                        | CallAction::End
                        | CallAction::FallBack { to: Fallback::Text }
                );
                match call {
                    Some(call) if !gone && call.ended_at.is_none() => {
                        self.open_leg(id, &call);
                        self.in_call.insert(id, call.call_number);
                    }
                    _ => {
                        self.in_call.remove(&id);
                        self.legs.remove(&id);
                    }
                }
                Ok(())
            }
            Err(e) => {
                if let AppError::Internal(err) = &e {
                    tracing::warn!(error = ?err, "a call action failed");
                }
                self.send(socket, &error(e.code(), Some(consult), None))
                    .await
            }
        }
    }

    /// On the primary, this side's media leg for `call` (a new one for a new call).
    fn open_leg(&mut self, consult_id: i64, call: &consult_call::Model) {
        if self
            .legs
            .get(&consult_id)
            .is_some_and(|l| l.call == call.call_number)
        {
            return;
        }
        self.legs.remove(&consult_id);
        let system = crate::call::service::system_of(call);
        let (Some(room), Ok(parts)) = (
            call.room.as_deref(),
            self.state.parts.get::<crate::call::CallParts>(),
        ) else {
            return;
        };
        let out = &self.leg_news.get_or_insert_with(mpsc::unbounded_channel).0;
        if let Some(leg) = parts.media.provider(system).leg(
            room,
            self.who.side(),
            &call.call_number,
            consult_id,
            out,
        ) {
            self.legs.insert(consult_id, leg);
        }
    }

    /// A session description from the page: relayed to the other side on the backup,
    /// handed to this side's leg on the primary.
    pub(super) async fn signal(
        &mut self,
        socket: &mut WebSocket,
        consult: String,
        call: String,
        generation: u32,
        kind: SdpKind,
        sdp: String,
    ) -> Result<(), End> {
        let Some(c) = self.joined_by_number(&consult) else {
            return self
                .send(socket, &error(ErrorCode::NotFound, Some(consult), None))
                .await;
        };
        if sdp.len() > MAX_SDP_BYTES || !sdp.starts_with("v=0") {
            return self
                .send(
                    socket,
                    &error(ErrorCode::SignalInvalid, Some(consult), None),
                )
                .await;
        }
        // Only from a page in the call, for the call that runs.
        let mine = self.in_call.get(&c) == Some(&call);
        let running = if mine {
            crate::call::service::running(&self.state.db, c)
                .await
                .ok()
                .flatten()
                .filter(|r| r.call_number == call)
        } else {
            None
        };
        let system = running.as_ref().map(crate::call::service::system_of);
        let delivered = match system {
            Some(MediaSystem::Direct) => {
                crate::chat::news(
                    &self.state,
                    News {
                        consult_id: c,
                        what: What::Signal(Box::new(Signal {
                            call,
                            from: self.who.side(),
                            generation,
                            kind,
                            sdp,
                        })),
                        fresh: None,
                    },
                );
                true
            }
            Some(MediaSystem::Sfu) => {
                if let Some(r) = &running {
                    self.open_leg(c, r);
                }
                let m = match kind {
                    SdpKind::Offer => LegIn::Offer { generation, sdp },
                    SdpKind::Answer => LegIn::Answer { generation, sdp },
                };
                self.legs.get(&c).is_some_and(|l| l.send(m))
            }
            None => false,
        };
        if delivered {
            return Ok(());
        }
        self.send(
            socket,
            &error(ErrorCode::CallNotRunning, Some(consult), None),
        )
        .await
    }

    /// What this side's media leg says: a session description for the page, or that the
    /// media server failed it, so the call goes on on the backup.
    pub(super) async fn leg_news(
        &mut self,
        socket: &mut WebSocket,
        (consult_id, call, news): LegNews,
    ) -> Result<(), End> {
        let Some(j) = self.joined.get(&consult_id) else {
            return Ok(());
        };
        if self.legs.get(&consult_id).is_none_or(|l| l.call != call) {
            return Ok(());
        }
        let number = j.consult.consult_number.clone();
        match news {
            LegOut::Signal {
                generation,
                kind,
                sdp,
            } => {
                self.send(
                    socket,
                    &ServerFrame::Signal {
                        consult: number,
                        call,
                        from: app::domain::consult::Side::System,
                        generation,
                        kind,
                        sdp,
                    },
                )
                .await
            }
            LegOut::Failed(_) => {
                self.legs.remove(&consult_id);
                let c = j.consult.clone();
                let r = crate::call::service::act(
                    &self.state,
                    self.who,
                    &c,
                    CallAction::FallBack {
                        to: Fallback::Backup,
                    },
                    &self.cx(),
                )
                .await;
                match r {
                    Ok(Some(now)) if now.ended_at.is_none() => {
                        self.in_call.insert(consult_id, now.call_number);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = ?e, "a call did not fall back to the backup"),
                }
                Ok(())
            }
        }
    }

    /// The call frame for this connection: the call with the relay's credentials.
    pub(super) fn call_frame(&mut self, consult_id: i64, mut view: CallView) -> ServerFrame {
        // The leg goes with its call: that call ended, or another one runs now (an older
        // call's end arriving late changes nothing).
        let gone = match self.legs.get(&consult_id) {
            Some(l) if l.call == view.call => !view.live,
            Some(_) => view.live,
            None => false,
        };
        if gone {
            self.legs.remove(&consult_id);
        }
        // A call that took over from this one (a fallback to the backup) has this side
        // in it already: its signals are this connection's now.
        let me_in = match self.who.side() {
            app::domain::consult::Side::Doctor => view.doctor_in,
            _ => view.patient_in,
        };
        if view.live && me_in && self.in_call.contains_key(&consult_id) {
            self.in_call.insert(consult_id, view.call.clone());
        }
        if view.live
            && let Ok(parts) = self.state.parts.get::<crate::call::CallParts>()
        {
            view.relay_only = parts.media.relay_only;
            view.ice_servers = parts.media.ice_servers(
                &view.call,
                view.started_at,
                OffsetDateTime::now_utc().unix_timestamp(),
            );
        }
        ServerFrame::Call(view)
    }
}
