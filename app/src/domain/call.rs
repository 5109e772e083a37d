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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn window() -> CallWindow {
        CallWindow {
            status: ConsultStatus::Waiting,
            consult_type: ConsultType::Video,
            opens_at: NOW,
        }
    }

    fn live(patient_in: bool, doctor_in: bool) -> Option<CallFacts> {
        Some(CallFacts {
            ended: false,
            patient_in,
            doctor_in,
        })
    }

    #[test]
    fn r_cons_6_the_primary_only_when_configured_healthy_and_not_just_failed() {
        let healthy = PrimaryState {
            configured: true,
            healthy_at: Some(NOW - HEALTH_FRESH_SECS),
        };
        assert_eq!(choose_system(healthy, false, NOW), MediaSystem::Sfu);
        // One second staler and the backup carries the call.
        assert_eq!(choose_system(healthy, false, NOW + 1), MediaSystem::Direct);
        // The last call could not reach it.
        assert_eq!(choose_system(healthy, true, NOW), MediaSystem::Direct);
        // Not configured (the embedded default): always the backup.
        let none = PrimaryState {
            configured: false,
            healthy_at: Some(NOW),
        };
        assert_eq!(choose_system(none, false, NOW), MediaSystem::Direct);
        let never = PrimaryState {
            configured: true,
            healthy_at: None,
        };
        assert_eq!(choose_system(never, false, NOW), MediaSystem::Direct);
        // A health check "from the future" (a clock step) does not count.
        let ahead = PrimaryState {
            configured: true,
            healthy_at: Some(NOW + 5),
        };
        assert_eq!(choose_system(ahead, false, NOW), MediaSystem::Direct);
        for m in [MediaSystem::Sfu, MediaSystem::Direct] {
            assert_eq!(MediaSystem::parse(m.as_str()), Some(m));
        }
    }

    #[test]
    fn r_cons_1_only_the_doctor_starts_and_ends_and_only_one_call_runs() {
        let start = CallAction::Start {
            media: CallMedia::Video,
        };
        assert_eq!(
            decide(window(), None, Side::Doctor, start, NOW),
            Ok(CallOutcome::Start)
        );
        assert_eq!(
            decide(window(), None, Side::Patient, start, NOW),
            Err(CallRefused::DoctorOnly)
        );
        assert_eq!(
            decide(window(), live(false, true), Side::Doctor, start, NOW),
            Err(CallRefused::AlreadyLive)
        );
        // An ended call does not stop a new one.
        let ended = Some(CallFacts {
            ended: true,
            patient_in: false,
            doctor_in: false,
        });
        assert_eq!(
            decide(window(), ended, Side::Doctor, start, NOW),
            Ok(CallOutcome::Start)
        );
        assert_eq!(
            decide(
                window(),
                live(true, true),
                Side::Patient,
                CallAction::End,
                NOW
            ),
            Err(CallRefused::DoctorOnly)
        );
        assert_eq!(
            decide(
                window(),
                live(true, true),
                Side::Doctor,
                CallAction::End,
                NOW
            ),
            Ok(CallOutcome::End)
        );
        assert_eq!(
            decide(window(), None, Side::Doctor, CallAction::End, NOW),
            Err(CallRefused::NoCall)
        );
        assert_eq!(
            decide(window(), None, Side::Patient, CallAction::Join, NOW),
            Err(CallRefused::NoCall)
        );
        assert_eq!(
            decide(
                window(),
                live(false, true),
                Side::Patient,
                CallAction::Join,
                NOW
            ),
            Ok(CallOutcome::Join)
        );
        // A rejoin after a drop is a join again.
        assert_eq!(
            decide(
                window(),
                live(true, true),
                Side::Patient,
                CallAction::Join,
                NOW
            ),
            Ok(CallOutcome::Join)
        );
    }

    #[test]
    fn r_cons_1_calls_only_within_the_consults_time_and_type() {
        let join = CallAction::Join;
        // 15 minutes before the appointment: allowed; one second earlier: not yet.
        let at = NOW - EARLY_WRITE_SECS;
        assert_eq!(
            decide(window(), live(false, true), Side::Patient, join, at),
            Ok(CallOutcome::Join)
        );
        assert_eq!(
            decide(window(), live(false, true), Side::Patient, join, at - 1),
            Err(CallRefused::NotYetOpen)
        );
        let start = CallAction::Start {
            media: CallMedia::Voice,
        };
        assert_eq!(
            decide(window(), None, Side::Doctor, start, at - 1),
            Err(CallRefused::NotYetOpen)
        );
        for status in [
            ConsultStatus::Completed,
            ConsultStatus::Referred,
            ConsultStatus::Unanswered,
            ConsultStatus::Cancelled,
        ] {
            let w = CallWindow { status, ..window() };
            assert_eq!(
                decide(w, None, Side::Doctor, start, NOW),
                Err(CallRefused::ConsultEnded)
            );
            // A call still running when the consult ended can always be left and ended.
            assert_eq!(
                decide(w, live(true, true), Side::Patient, CallAction::Leave, NOW),
                Ok(CallOutcome::Leave)
            );
            assert_eq!(
                decide(w, live(true, true), Side::Doctor, CallAction::End, NOW),
                Ok(CallOutcome::End)
            );
        }
        let w = CallWindow {
            status: ConsultStatus::InProgress,
            ..window()
        };
        assert_eq!(
            decide(w, None, Side::Doctor, start, NOW + 86_400),
            Ok(CallOutcome::Start)
        );
        for consult_type in [ConsultType::Text, ConsultType::ImageText] {
            let w = CallWindow {
                consult_type,
                ..window()
            };
            assert_eq!(
                decide(w, None, Side::Doctor, start, NOW),
                Err(CallRefused::NotVideo)
            );
        }
    }

    #[test]
    fn leaving_a_call_one_is_not_in_changes_nothing_and_fallbacks_need_a_call() {
        assert_eq!(
            decide(
                window(),
                live(false, true),
                Side::Patient,
                CallAction::Leave,
                NOW
            ),
            Ok(CallOutcome::Nothing)
        );
        assert_eq!(
            decide(window(), None, Side::Doctor, CallAction::Leave, NOW),
            Ok(CallOutcome::Nothing)
        );
        let voice = CallAction::FallBack {
            to: Fallback::Voice,
        };
        assert_eq!(
            decide(window(), live(true, true), Side::Patient, voice, NOW),
            Ok(CallOutcome::FallBack(Fallback::Voice))
        );
        assert_eq!(
            decide(window(), None, Side::Patient, voice, NOW),
            Err(CallRefused::NoCall)
        );
    }

    #[test]
    fn tickets_last_two_minutes_and_turn_credentials_the_whole_call() {
        let expires = ticket_expires(NOW);
        assert!(ticket_valid(expires, NOW));
        assert!(ticket_valid(expires, expires - 1));
        assert!(!ticket_valid(expires, expires));
        // A ticket that claims to last longer than any the server issues is not accepted.
        assert!(!ticket_valid(NOW + JOIN_TICKET_SECS + 1, NOW));
        assert_eq!(turn_expires(NOW, NOW), NOW + MAX_CALL_SECS);
        assert_eq!(turn_expires(NOW, NOW + 600), NOW + MAX_CALL_SECS);
        // Late in a long call: still ten minutes of relay.
        assert_eq!(
            turn_expires(NOW, NOW + MAX_CALL_SECS),
            NOW + MAX_CALL_SECS + MIN_TURN_SECS
        );
    }

    #[test]
    fn quality_in_plain_words_at_its_edges() {
        assert_eq!(quality(300.0, 0.02), CallQuality::Good);
        assert_eq!(quality(300.1, 0.0), CallQuality::Fair);
        assert_eq!(quality(0.0, 0.021), CallQuality::Fair);
        assert_eq!(quality(600.0, 0.08), CallQuality::Fair);
        assert_eq!(quality(600.1, 0.0), CallQuality::Poor);
        assert_eq!(quality(10.0, 0.09), CallQuality::Poor);
        assert_eq!(loss_between(0.0, 0.0, 5.0, 95.0), 0.05);
        assert_eq!(loss_between(5.0, 95.0, 5.0, 95.0), 0.0);
        // Counters that went back (a new connection) do not make a negative loss.
        assert_eq!(loss_between(10.0, 100.0, 0.0, 50.0), 0.0);
    }

    #[test]
    fn the_doctor_offers_the_patient_answers_and_stale_answers_are_ignored() {
        use Negotiation as N;
        use NegotiationDo as Do;
        use NegotiationEvent as E;
        // The doctor joins first and waits; the patient comes: offer 1.
        let (d, act) = N::Out.on(Side::Doctor, E::Joined { other_in: false });
        assert_eq!((d, act), (N::Waiting, Do::Nothing));
        let (d, act) = d.on(Side::Doctor, E::OtherJoined);
        assert_eq!(act, Do::Offer { generation: 1 });
        // The patient answers offer 1.
        let (p, _) = N::Out.on(Side::Patient, E::Joined { other_in: true });
        assert_eq!(p, N::Waiting);
        let (p, act) = p.on(Side::Patient, E::OfferReceived { generation: 1 });
        assert_eq!(act, Do::Answer { generation: 1 });
        // The patient drops and rejoins before the answer arrives: offer 2.
        let (d, act) = d.on(Side::Doctor, E::OtherJoined);
        assert_eq!(act, Do::Offer { generation: 2 });
        // The late answer to offer 1 is ignored; the answer to 2 is applied.
        let (d, act) = d.on(Side::Doctor, E::AnswerReceived { generation: 1 });
        assert_eq!((d, act), (N::Offered { generation: 2 }, Do::Nothing));
        let (d, act) = d.on(Side::Doctor, E::AnswerReceived { generation: 2 });
        assert_eq!((d, act), (N::Answered { generation: 2 }, Do::ApplyAnswer));
        let (d, _) = d.on(Side::Doctor, E::MediaFlowing);
        assert_eq!(d, N::Connected { generation: 2 });
        // The patient ignores an old offer once it holds a newer one.
        let (p, _) = p.on(Side::Patient, E::OfferReceived { generation: 2 });
        let (p, act) = p.on(Side::Patient, E::OfferReceived { generation: 1 });
        assert_eq!((p, act), (N::Answered { generation: 2 }, Do::Nothing));
        // A drop: broken, and one tap joins again.
        let (p, act) = p.on(Side::Patient, E::MediaLost);
        assert_eq!((p, act), (N::Broken { generation: 2 }, Do::Close));
        let (p, act) = p.on(Side::Patient, E::Rejoin);
        assert_eq!((p, act), (N::Out, Do::JoinAgain));
        // The doctor reloads its page: the patient drops generation 2 and takes offer 1.
        let (p, act) = N::Connected { generation: 2 }.on(Side::Patient, E::OtherJoined);
        assert_eq!((p, act), (N::Waiting, Do::Close));
        assert_eq!(
            p.on(Side::Patient, E::OfferReceived { generation: 1 }),
            (N::Answered { generation: 1 }, Do::Answer { generation: 1 })
        );
        // The doctor, joining when the patient is already in, offers at once.
        let (_, act) = N::Out.on(Side::Doctor, E::Joined { other_in: true });
        assert_eq!(act, Do::Offer { generation: 1 });
        // The other side leaving closes the connection; leaving closes it too.
        assert_eq!(d.on(Side::Doctor, E::OtherLeft), (N::Waiting, Do::Close));
        assert_eq!(d.on(Side::Doctor, E::Left), (N::Out, Do::Close));
        // Nothing happens to a side that is out.
        assert_eq!(
            N::Out.on(Side::Patient, E::OfferReceived { generation: 9 }),
            (N::Out, Do::Nothing)
        );
    }
}
