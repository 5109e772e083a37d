//! The consult connection (docs/chat-protocol.md): one WebSocket per page. `hello` names
//! the consults and the last seq held of each; the server replays what is missing from
//! the log in pages, says `live`, then forwards each new entry. Nothing is queued per
//! client beyond one bounded queue while connected, so a phone that sleeps costs nothing
//! and catches up from the log when it comes back.
//!
//! Limits: frames ≤ 64 KiB, a 2 KiB read buffer and a bounded write buffer; a ping every
//! 25 s and a close after 60 s without a frame or pong (`FUZHEN_CHAT_PING_SECS`); a
//! per-connection frame rate (`FUZHEN_CHAT_FRAMES_PER_SECOND`); a
//! per-account connection count; the session checked by a job every 20 s (a connection
//! whose session has ended closes at its next ping); the page's origin checked at the
//! upgrade. A bad frame gets an error frame and changes nothing.
mod call;
mod replay;

use super::ChatParts;
use super::hub::{Listener, News, Signal, What};
use super::log;
use super::service::{self, Body};
use super::sessions::Watched;
use crate::call::sfu::{Leg, LegNews};
use crate::consult::access::{self, Participant};
use crate::context::RequestContext;
use crate::db::consult;
use crate::error::AppError;
use crate::state::{AppState, State};
use app::chat::protocol::{
    ClientFrame, MAX_CONSULTS_PER_HELLO, MAX_FRAME_BYTES, Resume, ServerFrame, close,
};
use app::domain::ErrorCode;
use app::domain::call::CallAction;
use app::domain::consult::Side;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::{Instant, interval_at};

/// How long one frame may take to go out before the client counts as too slow.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The upgrade, for a participant the route's extractor has proved.
pub async fn upgrade(
    state: AppState,
    who: Participant,
    session: Option<tower_sessions::Session>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
    ip: String,
) -> Response {
    if !same_origin(&state, &headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(parts) = state.parts.get::<ChatParts>() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let hub = parts.hub.clone();
    // The session is watched by its id; its data is not kept while connected.
    let watched = session
        .as_ref()
        .and_then(tower_sessions::Session::id)
        .map(|id| parts.sessions.watch(&id));
    drop(session);
    let seat = hub.seat(who.account_key(), parts.connections_per_account);
    let pace = Pace {
        ping_every: parts.ping_every,
        frames_per_second: parts.frames_per_second,
    };
    // Small buffers: 10,000 phones hold a connection each, and most frames are a few
    // hundred bytes. Frames are flushed as they are written (no write buffer); a frame
    // bigger than the read buffer grows it.
    ws.read_buffer_size(2 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(4 * MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let Some(seat) = seat else {
                let mut socket = socket;
                let _ = socket
                    .send(close_frame(close::TOO_MANY, "too many connections"))
                    .await;
                return;
            };
            let conn = Connection {
                state,
                who,
                session: watched,
                listener: hub.listener(),
                joined: HashMap::new(),
                in_call: HashMap::new(),
                legs: HashMap::new(),
                leg_news: None,
                ip,
                pace,
            };
            conn.run(socket).await;
            drop(seat);
        })
}

/// The page's origin must be ours: a page elsewhere cannot ride the patient's cookie.
fn same_origin(state: &State, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not a browser: the cookie is its own; Origin protects browsers only.
        return true;
    };
    if origin == state.public_origin {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"))
}

fn close_frame(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

fn frame(f: &ServerFrame) -> Message {
    Message::Text(serde_json::to_string(f).unwrap_or_default().into())
}

fn error(code: ErrorCode, consult: Option<String>, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        code: code.as_str().to_owned(),
        consult,
        client_id,
        words: Vec::new(),
    }
}

/// One consult as this connection follows it.
struct Joined {
    consult: consult::Model,
    /// The last seq sent to the client.
    sent: i64,
}

/// The connection's clock: pings, the idle limit and the frame rate.
#[derive(Clone, Copy)]
struct Pace {
    ping_every: Duration,
    frames_per_second: f64,
}

struct Connection {
    pace: Pace,
    state: AppState,
    who: Participant,
    /// The session it was opened with (none: not a browser's).
    session: Option<Watched>,
    listener: Listener,
    joined: HashMap<i64, Joined>,
    /// The calls this connection is in, by consult: left when it closes.
    in_call: HashMap<i64, String>,
    /// This side's media legs on the primary system, by consult (dropped: out of the
    /// room), and where they report (made with the first).
    legs: HashMap<i64, Leg>,
    leg_news: Option<(
        mpsc::UnboundedSender<LegNews>,
        mpsc::UnboundedReceiver<LegNews>,
    )>,
    ip: String,
}

/// Why a connection ends.
enum End {
    Close(u16, &'static str),
    Gone,
}

impl Connection {
    async fn run(mut self, mut socket: WebSocket) {
        let end = self.serve(&mut socket).await;
        if let Ok(parts) = self.state.parts.get::<ChatParts>() {
            parts.hub.leave(&self.listener, self.joined.keys().copied());
        }
        // A page that went away has left its calls (it joins again when it comes back).
        for (consult_id, _) in std::mem::take(&mut self.in_call) {
            if let Some(j) = self.joined.get(&consult_id) {
                let (state, who, c, cx) =
                    (self.state.clone(), self.who, j.consult.clone(), self.cx());
                tokio::spawn(async move {
                    if let Err(e) =
                        crate::call::service::act(&state, who, &c, CallAction::Leave, &cx).await
                    {
                        tracing::warn!(error = ?e, "a closed connection's call was not left");
                    }
                });
            }
        }
        if let End::Close(code, reason) = end {
            let _ =
                tokio::time::timeout(SEND_TIMEOUT, socket.send(close_frame(code, reason))).await;
        }
    }

    async fn serve(&mut self, socket: &mut WebSocket) -> End {
        // Each connection's pings at its own phase, so 10,000 of them do not tick at once.
        let phase = self.pace.ping_every.mul_f64(rand::random::<f64>());
        let mut ping = interval_at(Instant::now() + phase, self.pace.ping_every);
        let idle_after = self.pace.ping_every * 12 / 5;
        let burst = self.pace.frames_per_second * 4.0;
        let mut heard = Instant::now();
        let mut tokens = burst;
        let mut refilled = Instant::now();
        loop {
            tokio::select! {
                incoming = socket.recv() => {
                    let Some(Ok(msg)) = incoming else { return End::Gone };
                    heard = Instant::now();
                    let now = Instant::now();
                    tokens = (tokens + now.duration_since(refilled).as_secs_f64() * self.pace.frames_per_second).min(burst);
                    refilled = now;
                    tokens -= 1.0;
                    if tokens < 0.0 {
                        return End::Close(close::RATE, "too many frames");
                    }
                    match msg {
                        Message::Text(text) => {
                            // Boxed: a waiting connection holds no room for a frame's work.
                            if let Err(end) = Box::pin(self.frame(socket, text.as_str())).await {
                                return end;
                            }
                        }
                        Message::Binary(_) => {
                            if self.send(socket, &error(ErrorCode::InvalidJson, None, None)).await.is_err() {
                                return End::Gone;
                            }
                        }
                        Message::Close(_) => return End::Gone,
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                news = self.listener.news.recv() => {
                    let Some(news) = news else { return End::Gone };
                    if let Err(end) = Box::pin(self.news(socket, news)).await {
                        return end;
                    }
                }
                leg = async {
                    match &mut self.leg_news {
                        Some((_, rx)) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(leg) = leg
                        && let Err(end) = Box::pin(self.leg_news(socket, leg)).await
                    {
                        return end;
                    }
                }
                _ = ping.tick() => {
                    if heard.elapsed() >= idle_after {
                        return End::Close(close::IDLE, "idle");
                    }
                    if self.session.as_ref().is_some_and(Watched::ended) {
                        return End::Close(close::UNAUTHENTICATED, "session ended");
                    }
                    // A connection dropped from a consult as too slow resumes from the log.
                    if let Ok(parts) = self.state.parts.get::<ChatParts>()
                        && self.joined.keys().any(|c| !parts.hub.hears(&self.listener, *c))
                    {
                        return End::Close(close::TOO_SLOW, "behind");
                    }
                    if socket.send(Message::Ping(Default::default())).await.is_err() {
                        return End::Gone;
                    }
                }
            }
        }
    }

    async fn send(&self, socket: &mut WebSocket, f: &ServerFrame) -> Result<(), End> {
        match tokio::time::timeout(SEND_TIMEOUT, socket.send(frame(f))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => Err(End::Close(close::TOO_SLOW, "too slow")),
        }
    }

    fn cx(&self) -> RequestContext {
        let actor = match self.who {
            Participant::Patient { id } => crate::audit::Actor::Patient(id),
            Participant::Doctor { staff_id, .. } => crate::audit::Actor::Staff(staff_id),
        };
        RequestContext {
            actor,
            acting_for: None,
            ip: self.ip.clone(),
            now: OffsetDateTime::now_utc(),
        }
    }

    async fn frame(&mut self, socket: &mut WebSocket, text: &str) -> Result<(), End> {
        let parsed: ClientFrame = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(_) => {
                return self
                    .send(socket, &error(ErrorCode::InvalidJson, None, None))
                    .await;
            }
        };
        match parsed {
            ClientFrame::Hello { consults } => self.hello(socket, consults).await,
            ClientFrame::Send {
                consult,
                client_id,
                text,
            } => {
                let r = self
                    .send_message(&consult, &client_id, Body::Text(text))
                    .await;
                self.acked(socket, consult, client_id, r).await
            }
            ClientFrame::SendFile {
                consult,
                client_id,
                file,
            } => {
                let r = self
                    .send_message(&consult, &client_id, Body::File(file))
                    .await;
                self.acked(socket, consult, client_id, r).await
            }
            ClientFrame::Recall {
                consult,
                client_id,
                seq,
            } => {
                let r =
                    service::recall(&self.state, self.who, &consult, &client_id, seq, &self.cx())
                        .await;
                self.acked(socket, consult, client_id, r).await
            }
            ClientFrame::Read { consult, seq } => {
                let Some(c) = self.joined_by_number(&consult) else {
                    return self
                        .send(socket, &error(ErrorCode::NotFound, Some(consult), None))
                        .await;
                };
                let side = self.who.side();
                match service::mark_read(&self.state.db, c, side, seq).await {
                    Ok(true) => super::news(
                        &self.state,
                        News {
                            consult_id: c,
                            what: What::Read { side, seq },
                            fresh: None,
                        },
                    ),
                    Ok(false) => {}
                    Err(_) => {
                        return self
                            .send(socket, &error(ErrorCode::Internal, Some(consult), None))
                            .await;
                    }
                }
                Ok(())
            }
            ClientFrame::Call { consult, action } => self.call(socket, consult, action).await,
            ClientFrame::Signal {
                consult,
                call,
                generation,
                kind,
                sdp,
            } => {
                self.signal(socket, consult, call, generation, kind, sdp)
                    .await
            }
            ClientFrame::Typing { consult } => {
                let Some(c) = self.joined_by_number(&consult) else {
                    return self
                        .send(socket, &error(ErrorCode::NotFound, Some(consult), None))
                        .await;
                };
                super::news(
                    &self.state,
                    News {
                        consult_id: c,
                        what: What::Typing {
                            side: self.who.side(),
                        },
                        fresh: None,
                    },
                );
                Ok(())
            }
        }
    }

    /// A message to a consult: one the connection follows is not looked up again.
    async fn send_message(
        &self,
        number: &str,
        client_id: &str,
        body: Body,
    ) -> Result<service::Sent, AppError> {
        let cx = self.cx();
        let joined = self
            .joined_by_number(number)
            .and_then(|id| self.joined.get(&id));
        match joined {
            Some(j) => {
                service::send_to(&self.state, self.who, &j.consult, client_id, body, &cx).await
            }
            None => service::send(&self.state, self.who, number, client_id, body, &cx).await,
        }
    }

    fn joined_by_number(&self, number: &str) -> Option<i64> {
        self.joined
            .iter()
            .find(|(_, j)| j.consult.consult_number == number)
            .map(|(id, _)| *id)
    }

    async fn acked(
        &mut self,
        socket: &mut WebSocket,
        consult: String,
        client_id: String,
        result: Result<service::Sent, AppError>,
    ) -> Result<(), End> {
        match result {
            Ok(sent) => {
                self.send(
                    socket,
                    &ServerFrame::Ack {
                        consult,
                        client_id,
                        seq: sent.seq,
                    },
                )
                .await
            }
            Err(AppError::Blocked { words, .. }) => {
                let f = ServerFrame::Error {
                    code: ErrorCode::TextBlocked.as_str().to_owned(),
                    consult: Some(consult),
                    client_id: Some(client_id),
                    words,
                };
                self.send(socket, &f).await
            }
            Err(e) => {
                if let AppError::Internal(err) = &e {
                    tracing::warn!(error = ?err, "a consult message failed");
                }
                self.send(socket, &error(e.code(), Some(consult), Some(client_id)))
                    .await
            }
        }
    }

    async fn news(&mut self, socket: &mut WebSocket, news: News) -> Result<(), End> {
        let Some(j) = self.joined.get(&news.consult_id) else {
            return Ok(());
        };
        let number = j.consult.consult_number.clone();
        let me = self.who.side();
        match news.what {
            What::Entry { seq } if seq > j.sent => {
                // The entry came with the news: no read of the log when it is the next one.
                if let Some(f) = &news.fresh
                    && f.message.seq == j.sent + 1
                {
                    let entry = log::view(&j.consult, &f.message, f.file.clone(), false, me);
                    self.send(socket, &ServerFrame::Entry(entry)).await?;
                    if let Some(j) = self.joined.get_mut(&news.consult_id) {
                        j.sent = f.message.seq;
                    }
                    if seq == f.message.seq {
                        return Ok(());
                    }
                }
                self.catch_up(socket, news.consult_id).await
            }
            What::Entry { .. } => Ok(()),
            What::Read { side, seq } if side != me => {
                self.send(
                    socket,
                    &ServerFrame::Read {
                        consult: number,
                        side,
                        seq,
                    },
                )
                .await
            }
            What::Call(view) => {
                if !view.live && self.in_call.get(&news.consult_id) == Some(&view.call) {
                    self.in_call.remove(&news.consult_id);
                }
                let f = self.call_frame(news.consult_id, *view);
                self.send(socket, &f).await
            }
            What::Signal(sig) if sig.from != me => {
                let Signal {
                    call,
                    from,
                    generation,
                    kind,
                    sdp,
                } = *sig;
                self.send(
                    socket,
                    &ServerFrame::Signal {
                        consult: number,
                        call,
                        from,
                        generation,
                        kind,
                        sdp,
                    },
                )
                .await
            }
            What::Typing { side } if side != me && side != Side::System => {
                self.send(
                    socket,
                    &ServerFrame::Typing {
                        consult: number,
                        side,
                    },
                )
                .await
            }
            _ => Ok(()),
        }
    }
}
