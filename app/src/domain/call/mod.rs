//! Video and voice calls inside a consult (R-CONS-1, R-CONS-4, R-CONS-6): which media
//! system carries a call, who may start, join, leave and end it and when, the steps that
//! go into the consult's log, the lifetimes of what the server hands out for a call, and
//! the browser's side of the offer/answer exchange. Times are Unix seconds; the clock is
//! always passed in.
use super::consult::{ConsultStatus, EARLY_WRITE_SECS, Side};
use super::schedule::ConsultType;
use serde::{Deserialize, Serialize};

/// How long a ticket to join a call's room is good for: long enough to check the camera
/// and connect, short enough that a leaked one is soon worthless.
pub const JOIN_TICKET_SECS: i64 = 120;
/// The longest a call may run; the TURN credentials for it last as long.
pub const MAX_CALL_SECS: i64 = 2 * 3600;
/// TURN credentials are never issued for less than this (a call that starts near the
/// end of its consult still gets a usable relay).
pub const MIN_TURN_SECS: i64 = 10 * 60;
/// How long the primary system counts as healthy after its last good health check.
pub const HEALTH_FRESH_SECS: i64 = 30;
/// Recordings are kept at least this long (R-CONS-7 with the records' retention):
/// three years of 365 days; the configuration may only lengthen it.
pub const MIN_RECORDING_RETENTION_DAYS: i64 = 3 * 365;

/// The two audio/video systems (R-CONS-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaSystem {
    /// The primary: a media server (Janus) that both sides reach and that records.
    Sfu,
    /// The backup: the two browsers directly, through STUN/TURN.
    Direct,
}

impl MediaSystem {
    pub const fn as_str(self) -> &'static str {
        match self {
            MediaSystem::Sfu => "sfu",
            MediaSystem::Direct => "direct",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [MediaSystem::Sfu, MediaSystem::Direct]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// What the primary system looks like to the server when a call starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimaryState {
    /// A media server is configured at all (the embedded default has none).
    pub configured: bool,
    /// When its health check last passed.
    pub healthy_at: Option<i64>,
}

/// R-CONS-6: the system a new call runs on. The primary when it is configured and was
/// healthy within [`HEALTH_FRESH_SECS`], and this consult's last call did not fail to
/// reach it; otherwise the backup. A call keeps the system it started on (the row says
/// which); only a new call is chosen again.
pub fn choose_system(primary: PrimaryState, last_failed_on_primary: bool, now: i64) -> MediaSystem {
    let fresh = primary
        .healthy_at
        .is_some_and(|at| at <= now && now - at <= HEALTH_FRESH_SECS);
    if primary.configured && fresh && !last_failed_on_primary {
        MediaSystem::Sfu
    } else {
        MediaSystem::Direct
    }
}

/// What a call carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallMedia {
    Video,
    /// Sound only: asked for, or fallen back to.
    Voice,
}

/// Where a side falls back to when its call cannot go on as it is (R-CONS-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// The primary system cannot be reached: the call starts again on the backup.
    Backup,
    /// Video cannot work: the call goes on with sound only.
    Voice,
    /// No call can work: the consult goes on in writing.
    Text,
}

/// A step of a call, as the consult's log keeps it (R-CONS-4: who, when).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallStep {
    Started,
    Joined,
    Left,
    Ended,
    FellBack,
}

/// A call's part of a consult's log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallNote {
    /// The call's number.
    pub call: String,
    pub step: CallStep,
    pub system: MediaSystem,
    pub media: CallMedia,
    /// For a fallback: to what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Fallback>,
}

/// What a side asks of a consult's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum CallAction {
    /// The doctor calls the patient.
    Start {
        media: CallMedia,
    },
    Join,
    Leave,
    /// The doctor ends the call (the consult goes on until the doctor completes it).
    End,
    FallBack {
        to: Fallback,
    },
}

/// A call as the server keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallFacts {
    pub ended: bool,
    pub patient_in: bool,
    pub doctor_in: bool,
}

/// What the consult around a call looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallWindow {
    pub status: ConsultStatus,
    pub consult_type: ConsultType,
    pub opens_at: i64,
}

/// Why a call action is refused; nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallRefused {
    /// Not a video consult.
    NotVideo,
    /// The consult has ended.
    ConsultEnded,
    /// More than 15 minutes before the appointment.
    NotYetOpen,
    /// Only the doctor starts and ends a call.
    DoctorOnly,
    /// A call is already running (start), or none is (join, leave, end, fall back).
    AlreadyLive,
    NoCall,
}

/// What an allowed action does to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// A new call, and the doctor in it.
    Start,
    /// The side is in the call (again, after a drop: a rejoin is logged too).
    Join,
    Leave,
    End,
    /// Logged; the call's media or system changes as [`Fallback`] says.
    FallBack(Fallback),
    /// Asked again for what is already so (leaving a call one is not in).
    Nothing,
}

/// The one call machine: every (consult, call, side, action) is decided here. `call` is
/// the consult's running call, if any.
pub fn decide(
    window: CallWindow,
    call: Option<CallFacts>,
    side: Side,
    action: CallAction,
    now: i64,
) -> Result<CallOutcome, CallRefused> {
    if window.consult_type != ConsultType::Video {
        return Err(CallRefused::NotVideo);
    }
    let live = call.filter(|c| !c.ended);
    // Leaving and ending are always allowed while a call runs, even once the consult has
    // ended: a call is never stuck open.
    match action {
        CallAction::Leave => {
            let Some(c) = live else {
                return Ok(CallOutcome::Nothing);
            };
            let inside = match side {
                Side::Patient => c.patient_in,
                Side::Doctor => c.doctor_in,
                Side::System => false,
            };
            return Ok(if inside {
                CallOutcome::Leave
            } else {
                CallOutcome::Nothing
            });
        }
        CallAction::End => {
            if side != Side::Doctor {
                return Err(CallRefused::DoctorOnly);
            }
            return live.map(|_| CallOutcome::End).ok_or(CallRefused::NoCall);
        }
        _ => {}
    }
    if !window.status.is_open() {
        return Err(CallRefused::ConsultEnded);
    }
    if now < window.opens_at - EARLY_WRITE_SECS {
        return Err(CallRefused::NotYetOpen);
    }
    match action {
        CallAction::Start { .. } => {
            if side != Side::Doctor {
                return Err(CallRefused::DoctorOnly);
            }
            if live.is_some() {
                return Err(CallRefused::AlreadyLive);
            }
            Ok(CallOutcome::Start)
        }
        CallAction::Join => live.map(|_| CallOutcome::Join).ok_or(CallRefused::NoCall),
        CallAction::FallBack { to } => live
            .map(|_| CallOutcome::FallBack(to))
            .ok_or(CallRefused::NoCall),
        CallAction::Leave | CallAction::End => Ok(CallOutcome::Nothing),
    }
}

/// When a join ticket issued at `now` stops being accepted.
pub fn ticket_expires(now: i64) -> i64 {
    now + JOIN_TICKET_SECS
}

/// Whether a ticket that expires at `expires` is still good at `now` (the second of
/// expiry itself is not).
pub fn ticket_valid(expires: i64, now: i64) -> bool {
    now < expires && expires - now <= JOIN_TICKET_SECS
}

/// When TURN credentials issued at `now` for a call that started at `started_at` expire:
/// at the call's longest end, but never sooner than [`MIN_TURN_SECS`] from now.
pub fn turn_expires(started_at: i64, now: i64) -> i64 {
    (started_at + MAX_CALL_SECS).max(now + MIN_TURN_SECS)
}

/// How a call sounds and looks to the side that reads the figures: from the round-trip
/// time (ms) and the share of packets lost (0–1) that `getStats()` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallQuality {
    Good,
    Fair,
    Poor,
}

/// Round trips of up to 300 ms and loss of up to 2 % are good; up to 600 ms and 8 %
/// fair (speech still flows); beyond either, poor.
pub fn quality(rtt_ms: f64, loss: f64) -> CallQuality {
    if rtt_ms > 600.0 || loss > 0.08 {
        CallQuality::Poor
    } else if rtt_ms > 300.0 || loss > 0.02 {
        CallQuality::Fair
    } else {
        CallQuality::Good
    }
}

/// The share of packets lost between two `getStats()` readings of the same stream.
pub fn loss_between(lost_before: f64, received_before: f64, lost: f64, received: f64) -> f64 {
    let lost = (lost - lost_before).max(0.0);
    let received = (received - received_before).max(0.0);
    if lost + received <= 0.0 {
        0.0
    } else {
        lost / (lost + received)
    }
}

/// The browser's side of a call's offer and answer (the backup system, where the two
/// browsers talk directly). The doctor always offers; the patient answers. Every offer
/// has a generation, one more than the last, so an answer to an older offer (a rejoin
/// crossed it) is ignored rather than applied to the wrong connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// Not in the call.
    Out,
    /// In the call, the other side is not.
    Waiting,
    /// The doctor sent offer `generation` and waits for its answer.
    Offered { generation: u32 },
    /// The patient answered offer `generation`; media should flow.
    Answered { generation: u32 },
    /// Media flows.
    Connected { generation: u32 },
    /// The connection failed or dropped: one tap starts it again.
    Broken { generation: u32 },
}

/// What happens to a side's negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationEvent {
    /// This side is in the call; whether the other side is too.
    Joined {
        other_in: bool,
    },
    /// The other side came in (or came back).
    OtherJoined,
    OtherLeft,
    OfferReceived {
        generation: u32,
    },
    AnswerReceived {
        generation: u32,
    },
    /// The peer connection reports `connected`.
    MediaFlowing,
    /// The peer connection reports `failed` or `disconnected` for too long.
    MediaLost,
    /// The user tapped rejoin.
    Rejoin,
    Left,
}

/// What the browser must do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationDo {
    Nothing,
    /// Make a new peer connection and send offer `generation`.
    Offer {
        generation: u32,
    },
    /// Make a new peer connection, apply the offer and send its answer.
    Answer {
        generation: u32,
    },
    /// Apply the answer to the current connection.
    ApplyAnswer,
    /// Close the peer connection.
    Close,
    /// Ask the server to join again (the other side then offers or answers anew).
    JoinAgain,
}

impl Negotiation {
    fn generation(self) -> u32 {
        match self {
            Negotiation::Out | Negotiation::Waiting => 0,
            Negotiation::Offered { generation }
            | Negotiation::Answered { generation }
            | Negotiation::Connected { generation }
            | Negotiation::Broken { generation } => generation,
        }
    }

    /// The next state and what to do, for `side` (the doctor offers, the patient answers).
    pub fn on(self, side: Side, event: NegotiationEvent) -> (Negotiation, NegotiationDo) {
        use Negotiation as N;
        use NegotiationDo as Do;
        use NegotiationEvent as E;
        let doctor = side == Side::Doctor;
        let next = self.generation().wrapping_add(1);
        match (self, event) {
            (_, E::Left) => (N::Out, Do::Close),
            (N::Out, E::Joined { other_in }) | (N::Broken { .. }, E::Joined { other_in }) => {
                if doctor && other_in {
                    (
                        N::Offered { generation: next },
                        Do::Offer { generation: next },
                    )
                } else {
                    (N::Waiting, Do::Nothing)
                }
            }
            (N::Out, _) => (N::Out, Do::Nothing),
            // The other side (re)joined: the doctor offers afresh, whatever stood before.
            (_, E::OtherJoined) if doctor => (
                N::Offered { generation: next },
                Do::Offer { generation: next },
            ),
            // The doctor came (back): its page counts offers from 1 again, so the patient
            // drops what it held and takes the next offer, whatever its number.
            (_, E::OtherJoined) => (N::Waiting, Do::Close),
            (_, E::OtherLeft) => (N::Waiting, Do::Close),
            // The patient answers any offer newer than the one it holds.
            (_, E::OfferReceived { generation }) if !doctor => {
                if generation > self.generation() || matches!(self, N::Waiting) {
                    (N::Answered { generation }, Do::Answer { generation })
                } else {
                    (self, Do::Nothing)
                }
            }
            (N::Offered { generation }, E::AnswerReceived { generation: g })
                if doctor && g == generation =>
            {
                (N::Answered { generation }, Do::ApplyAnswer)
            }
            (N::Answered { generation } | N::Offered { generation }, E::MediaFlowing) => {
                (N::Connected { generation }, Do::Nothing)
            }
            (
                N::Offered { generation }
                | N::Answered { generation }
                | N::Connected { generation },
                E::MediaLost,
            ) => (N::Broken { generation }, Do::Close),
            (N::Broken { .. } | N::Connected { .. } | N::Waiting, E::Rejoin) => {
                (N::Out, Do::JoinAgain)
            }
            (state, _) => (state, Do::Nothing),
        }
    }
}

/// The browser's side of a call on the primary system (the media server). The page
/// sends its media on one connection, which it offers (counting its offers), and
/// receives the other side's on another, which the server offers; the page answers any
/// server offer newer than the last it answered. Who came or went does not concern the
/// page: the server subscribes it to the other side when that side publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SfuNegotiation {
    /// The sending connection, as [`Negotiation`] names its states.
    pub publish: Negotiation,
    /// The last server offer answered (0: none since the page came into the call).
    pub subscribe: u32,
}

impl Default for SfuNegotiation {
    fn default() -> Self {
        Self {
            publish: Negotiation::Out,
            subscribe: 0,
        }
    }
}

impl SfuNegotiation {
    pub fn on(self, event: NegotiationEvent) -> (SfuNegotiation, NegotiationDo) {
        use Negotiation as N;
        use NegotiationDo as Do;
        use NegotiationEvent as E;
        let publish = self.publish;
        let next = publish.generation().wrapping_add(1);
        let with = |p: Negotiation| SfuNegotiation {
            publish: p,
            subscribe: self.subscribe,
        };
        match (publish, event) {
            (_, E::Left) => (SfuNegotiation::default(), Do::Close),
            (N::Out | N::Broken { .. }, E::Joined { .. }) => (
                // A new sending connection: the server subscribes this page afresh.
                SfuNegotiation {
                    publish: N::Offered { generation: next },
                    subscribe: 0,
                },
                Do::Offer { generation: next },
            ),
            (N::Out, _) => (self, Do::Nothing),
            (N::Offered { generation }, E::AnswerReceived { generation: g }) if g == generation => {
                (with(N::Answered { generation }), Do::ApplyAnswer)
            }
            (_, E::OfferReceived { generation }) if generation > self.subscribe => (
                SfuNegotiation {
                    publish,
                    subscribe: generation,
                },
                Do::Answer { generation },
            ),
            (N::Answered { generation } | N::Offered { generation }, E::MediaFlowing) => {
                (with(N::Connected { generation }), Do::Nothing)
            }
            (
                N::Offered { generation }
                | N::Answered { generation }
                | N::Connected { generation },
                E::MediaLost,
            ) => (with(N::Broken { generation }), Do::Close),
            (N::Broken { .. } | N::Connected { .. } | N::Waiting, E::Rejoin) => {
                (SfuNegotiation::default(), Do::JoinAgain)
            }
            _ => (self, Do::Nothing),
        }
    }
}

#[cfg(test)]
mod tests;
