//! One side's media through the primary system (Janus's VideoRoom), driven by the server
//! on behalf of that side's page: the page never talks to Janus's API and holds none of
//! its secrets. The page's consult connection carries its session descriptions; this
//! leg turns them into VideoRoom requests in a Janus session of its own:
//!
//! - the page's offer (its camera and microphone) joins the room as a publisher named
//!   after the side; Janus's answer goes back to the page;
//! - when the other side publishes, the leg subscribes to it; Janus's offer goes to the
//!   page, and the page's answer starts the subscription.
//!
//! Each page so holds two connections to Janus: one that sends, one that receives. A new
//! offer from the page (it came back, or its connection broke) replaces the publisher;
//! the other side's leg sees the new publisher and subscribes again. Dropping the leg
//! (the page left, its connection closed, the call ended) destroys its session, which
//! takes the side out of the room.
use super::janus::Janus;
use super::media::MediaError;
use app::chat::protocol::SdpKind;
use app::domain::consult::Side;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::mpsc;

/// What the page sends the leg.
#[derive(Debug)]
pub enum LegIn {
    /// The page's offer to publish (generation counted by the page).
    Offer { generation: u32, sdp: String },
    /// The page's answer to the leg's offer `generation` of the other side's media.
    Answer { generation: u32, sdp: String },
}

/// What the leg sends the page's connection.
#[derive(Debug)]
pub enum LegOut {
    Signal {
        generation: u32,
        kind: SdpKind,
        sdp: String,
    },
    /// The media server failed this side: the call should go on on the backup.
    Failed(String),
}

/// A leg's news for the connection: the consult, the call, what happened.
pub type LegNews = (i64, String, LegOut);

/// A side's leg of a call. Dropping it takes the side out of the room.
pub struct Leg {
    pub call: String,
    to: mpsc::UnboundedSender<LegIn>,
}

impl Leg {
    /// Hands the leg a session description; false when the leg has ended.
    pub fn send(&self, m: LegIn) -> bool {
        self.to.send(m).is_ok()
    }
}

/// Opens `side`'s leg of call `call` (consult `consult_id`) in Janus room `room`.
pub fn open(
    janus: Janus,
    room: u64,
    side: Side,
    call: String,
    consult_id: i64,
    out: mpsc::UnboundedSender<LegNews>,
) -> Leg {
    let (to, from_page) = mpsc::unbounded_channel();
    let run = Run {
        janus,
        session: 0,
        room,
        side,
        publisher: None,
        publish_generation: 0,
        subscriber: None,
        subscribe_generation: 0,
        out: Box::new({
            let call = call.clone();
            move |o| {
                let _ = out.send((consult_id, call.clone(), o));
            }
        }),
    };
    tokio::spawn(run.run(from_page));
    Leg { call, to }
}

struct Run {
    janus: Janus,
    session: u64,
    room: u64,
    side: Side,
    /// The handle that publishes this side's media.
    publisher: Option<u64>,
    publish_generation: u32,
    /// The handle that receives the other side's media, and the publisher it follows.
    subscriber: Option<(u64, u64)>,
    subscribe_generation: u32,
    out: Box<dyn Fn(LegOut) + Send + Sync>,
}

/// How often the leg tells Janus its session is alive (Janus ends it after 60 s).
const KEEPALIVE: Duration = Duration::from_secs(25);

impl Run {
    async fn run(mut self, mut from_page: mpsc::UnboundedReceiver<LegIn>) {
        self.session = match self.janus.session().await {
            Ok(s) => s,
            Err(e) => {
                (self.out)(LegOut::Failed(e.to_string()));
                return;
            }
        };
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let poller = tokio::spawn(poll(self.janus.clone(), self.session, events_tx));
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        keepalive.tick().await;
        let failed = loop {
            let done = tokio::select! {
                m = from_page.recv() => match m {
                    None => break None,
                    Some(m) => self.page(m).await,
                },
                e = events.recv() => match e {
                    None => Err(MediaError::Unreachable("no more events".into())),
                    Some(e) => self.event(e).await,
                },
                _ = keepalive.tick() => self
                    .janus
                    .post(&format!("/{}", self.session), json!({ "janus": "keepalive" }))
                    .await
                    .map(drop),
            };
            if let Err(e) = done {
                break Some(e);
            }
        };
        poller.abort();
        if let Some(e) = failed {
            tracing::warn!(error = %e, side = self.side.as_str(), "a call's media leg failed on the primary media server");
            (self.out)(LegOut::Failed(e.to_string()));
        }
        self.janus.end_session(self.session).await;
    }

    fn path(&self, handle: u64) -> String {
        format!("/{}/{handle}", self.session)
    }

    async fn message(
        &self,
        handle: u64,
        body: Value,
        jsep: Option<Value>,
    ) -> Result<(), MediaError> {
        let mut m = json!({ "janus": "message", "body": body });
        if let Some(j) = jsep {
            m["jsep"] = j;
        }
        self.janus.post(&self.path(handle), m).await.map(drop)
    }

    async fn detach(&self, handle: u64) {
        let _ = self
            .janus
            .post(&self.path(handle), json!({ "janus": "detach" }))
            .await;
    }

    async fn page(&mut self, m: LegIn) -> Result<(), MediaError> {
        match m {
            LegIn::Offer { generation, sdp } => {
                // A new sending connection: the old publisher leaves, a new one joins.
                if let Some(old) = self.publisher.take() {
                    self.detach(old).await;
                }
                let handle = self.janus.attach(self.session).await?;
                self.publisher = Some(handle);
                self.publish_generation = generation;
                // The publisher's id says the side (even: the doctor, odd: the patient),
                // so the recording's files tell whose they are.
                self.message(
                    handle,
                    json!({
                        "request": "joinandconfigure",
                        "room": self.room,
                        "ptype": "publisher",
                        "id": publisher_id(self.side),
                        "display": self.side.as_str(),
                    }),
                    Some(json!({ "type": "offer", "sdp": sdp })),
                )
                .await
            }
            LegIn::Answer { generation, sdp } => {
                let Some((handle, _)) = self.subscriber else {
                    return Ok(());
                };
                if generation != self.subscribe_generation {
                    return Ok(());
                }
                self.message(
                    handle,
                    json!({ "request": "start", "room": self.room }),
                    Some(json!({ "type": "answer", "sdp": sdp })),
                )
                .await
            }
        }
    }

    async fn event(&mut self, e: Value) -> Result<(), MediaError> {
        let sender = e["sender"].as_u64();
        let data = &e["plugindata"]["data"];
        let sdp = e["jsep"]["sdp"].as_str().map(str::to_owned);
        if sender.is_some() && sender == self.publisher {
            if let Some(reason) = data["error"].as_str() {
                return Err(MediaError::Refused(reason.to_owned()));
            }
            if let Some(sdp) = sdp {
                (self.out)(LegOut::Signal {
                    generation: self.publish_generation,
                    kind: SdpKind::Answer,
                    sdp,
                });
            }
            if let Some(list) = data["publishers"].as_array() {
                self.follow(list).await?;
            }
            let gone = data["unpublished"].as_u64().or(data["leaving"].as_u64());
            if let (Some(gone), Some((handle, feed))) = (gone, self.subscriber)
                && gone == feed
            {
                self.subscriber = None;
                self.detach(handle).await;
            }
        } else if let (Some(s), Some((handle, _))) = (sender, self.subscriber)
            && s == handle
        {
            if let Some(reason) = data["error"].as_str() {
                // The other side went before the subscription took: it subscribes anew
                // when the other side publishes again.
                tracing::debug!(reason, "a subscription to the other side was refused");
                self.subscriber = None;
                self.detach(handle).await;
                return Ok(());
            }
            if let (Some(sdp), Some("attached" | "updated")) = (sdp, data["videoroom"].as_str()) {
                self.subscribe_generation += 1;
                (self.out)(LegOut::Signal {
                    generation: self.subscribe_generation,
                    kind: SdpKind::Offer,
                    sdp,
                });
            }
        }
        Ok(())
    }

    /// Subscribes to the other side's publisher, if `publishers` has a new one.
    async fn follow(&mut self, publishers: &[Value]) -> Result<(), MediaError> {
        let other = publishers
            .iter()
            .filter(|p| p["display"].as_str() != Some(self.side.as_str()))
            .filter_map(|p| p["id"].as_u64())
            .next_back();
        let Some(feed) = other else { return Ok(()) };
        if self.subscriber.is_some_and(|(_, f)| f == feed) {
            return Ok(());
        }
        if let Some((old, _)) = self.subscriber.take() {
            self.detach(old).await;
        }
        let handle = self.janus.attach(self.session).await?;
        self.subscriber = Some((handle, feed));
        self.message(
            handle,
            json!({
                "request": "join",
                "room": self.room,
                "ptype": "subscriber",
                "streams": [{ "feed": feed }],
            }),
            None,
        )
        .await
    }
}

/// A new publisher id for `side`: random, 53 bits (exact as a JSON number), even for
/// the doctor and odd for the patient.
pub fn publisher_id(side: Side) -> u64 {
    let id = (rand::random::<u64>() >> 11) & !1;
    if side == Side::Doctor { id } else { id | 1 }
}

/// Whose a publisher id is.
pub fn side_of_publisher(id: u64) -> Side {
    if id.is_multiple_of(2) {
        Side::Doctor
    } else {
        Side::Patient
    }
}

/// Passes the session's events on until the leg ends or Janus stops answering.
async fn poll(janus: Janus, session: u64, to: mpsc::UnboundedSender<Value>) {
    loop {
        match janus.events(session).await {
            Ok(all) => {
                for e in all {
                    if e["janus"] == "keepalive" {
                        continue;
                    }
                    if to.send(e).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "a media leg's events stopped");
                return;
            }
        }
    }
}
