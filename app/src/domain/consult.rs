//! The consult's life (R-CONS-1, R-CONS-3, R-ELIG-4, R-PAY-2): when it opens, when each
//! side may write, the doctor's answer clock, and the one status machine every move goes
//! through. Times are Unix seconds; the clock is always passed in.
use super::order::RefundReason;
use super::schedule::ConsultType;
use serde::{Deserialize, Serialize};

/// R-CONS-3: the response time promised to the patient and shown to both sides.
pub const PROMISED_ANSWER_SECS: i64 = 2 * 3600;
/// R-CONS-3: a paid consult with no doctor answer this long after it opened closes and is
/// refunded, unless configured otherwise.
pub const DEFAULT_UNANSWERED_SECS: i64 = 24 * 3600;
/// A text consult stays open to the patient this long after the doctor's first answer,
/// unless configured otherwise.
pub const DEFAULT_TEXT_WINDOW_SECS: i64 = 48 * 3600;
/// A booked appointment's patient may write this long before its start.
pub const EARLY_WRITE_SECS: i64 = 15 * 60;
/// A message may be recalled (撤回) this long after it was sent; the original stays in the
/// record.
pub const RECALL_SECS: i64 = 2 * 60;
/// The longest text message, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// The longest reason for a referral, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Where a consult is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsultStatus {
    /// Paid and open (or about to open); the doctor has not answered yet.
    Waiting,
    /// The doctor has answered.
    InProgress,
    /// The doctor ended it with an archived record.
    Completed,
    /// The doctor ended it: the condition needs a physical visit (R-ELIG-4).
    Referred,
    /// No doctor answer within the limit: closed and refunded (R-CONS-3).
    Unanswered,
    /// The booking behind it was cancelled before it opened.
    Cancelled,
}

impl ConsultStatus {
    pub const ALL: [ConsultStatus; 6] = [
        ConsultStatus::Waiting,
        ConsultStatus::InProgress,
        ConsultStatus::Completed,
        ConsultStatus::Referred,
        ConsultStatus::Unanswered,
        ConsultStatus::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ConsultStatus::Waiting => "waiting",
            ConsultStatus::InProgress => "in_progress",
            ConsultStatus::Completed => "completed",
            ConsultStatus::Referred => "referred",
            ConsultStatus::Unanswered => "unanswered",
            ConsultStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Open: messages may still be written (within each side's own limits).
    pub const fn is_open(self) -> bool {
        matches!(self, ConsultStatus::Waiting | ConsultStatus::InProgress)
    }
}

/// Something that happens to a consult.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsultEvent {
    /// The doctor's first message (or a call joined): the service begins.
    DoctorAnswered,
    /// The doctor confirms the record and ends the consult.
    Complete,
    /// The doctor refers the patient to a physical visit.
    ReferOffline,
    /// The answer limit passed with no doctor answer.
    AnswerTimedOut,
    /// The booking behind it was cancelled.
    Cancel,
}

/// What must follow a move, besides storing the new status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsultEffect {
    Nothing,
    /// The order is served: the doctor gave the service.
    ServeOrder,
    /// The whole payment goes back (R-PAY-2, R-CONS-3).
    Refund(RefundReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsultOutcome {
    Move {
        to: ConsultStatus,
        effect: ConsultEffect,
    },
    /// A repeat, or the consult moved past it already: nothing changes.
    Stale,
}

/// An event that cannot happen in this status: refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalMove {
    pub from: ConsultStatus,
    pub event: ConsultEvent,
}

/// The one consult machine: every (status, event) pair is decided here.
pub fn apply(from: ConsultStatus, event: ConsultEvent) -> Result<ConsultOutcome, IllegalMove> {
    use ConsultEffect as E;
    use ConsultEvent as Ev;
    use ConsultStatus as S;
    let to = |to, effect| Ok(ConsultOutcome::Move { to, effect });
    match (from, event) {
        (S::Waiting, Ev::DoctorAnswered) => to(S::InProgress, E::ServeOrder),
        (S::InProgress, Ev::DoctorAnswered) => Ok(ConsultOutcome::Stale),
        // A consult the doctor ends with a record has been served, answered in chat or not
        // (a video consult may have no written answer).
        (S::Waiting, Ev::Complete) => to(S::Completed, E::ServeOrder),
        (S::InProgress, Ev::Complete) => to(S::Completed, E::Nothing),
        (S::Completed, Ev::Complete) => Ok(ConsultOutcome::Stale),
        // R-PAY-2: referred before any service, the money goes back in full.
        (S::Waiting, Ev::ReferOffline) => to(S::Referred, E::Refund(RefundReason::ReferredOffline)),
        (S::InProgress, Ev::ReferOffline) => to(S::Referred, E::Nothing),
        (S::Referred, Ev::ReferOffline) => Ok(ConsultOutcome::Stale),
        (S::Waiting, Ev::AnswerTimedOut) => to(S::Unanswered, E::Refund(RefundReason::Unanswered)),
        // The doctor answered first, or the consult ended otherwise: the clock is moot.
        (
            S::InProgress | S::Completed | S::Referred | S::Unanswered | S::Cancelled,
            Ev::AnswerTimedOut,
        ) => Ok(ConsultOutcome::Stale),
        // The booking's cancellation moves the money itself.
        (S::Waiting, Ev::Cancel) => to(S::Cancelled, E::Nothing),
        (S::Cancelled, Ev::Cancel) => Ok(ConsultOutcome::Stale),
        (from, event) => Err(IllegalMove { from, event }),
    }
}

/// How a consult came about, which sets when it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A booked slot: `starts_at` of the appointment.
    Slot { starts_at: i64 },
    /// A live-queue place the doctor has just called.
    QueueCall,
}

/// When a consult opens, i.e. when the doctor's answer clock starts: a text consult
/// (文字, 图文) on payment; a booked video appointment at its start; a live-queue call at
/// once. `at` is the payment's or the call's time.
pub fn opens_at(consult_type: ConsultType, origin: Origin, at: i64) -> i64 {
    match (consult_type, origin) {
        (ConsultType::Video, Origin::Slot { starts_at }) => starts_at.max(at),
        _ => at,
    }
}

/// The answer clock's two times (R-CONS-3), from the opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerClock {
    /// The promised answer time, shown to both sides.
    pub promised_by: i64,
    /// With no answer by then the consult closes and is refunded.
    pub closes_at: i64,
}

impl AnswerClock {
    pub fn new(opens_at: i64, unanswered_secs: i64) -> Self {
        Self {
            promised_by: opens_at + PROMISED_ANSWER_SECS,
            closes_at: opens_at + unanswered_secs,
        }
    }

    /// Whether the limit has passed at `now` (the closing second itself included).
    pub fn timed_out(self, now: i64) -> bool {
        now >= self.closes_at
    }

    /// Seconds left to the promised answer (negative: late).
    pub fn left(self, now: i64) -> i64 {
        self.promised_by - now
    }
}

/// Who writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Patient,
    Doctor,
    /// The server's own entries: state moves.
    System,
}

impl Side {
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Patient => "patient",
            Side::Doctor => "doctor",
            Side::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Side::Patient, Side::Doctor, Side::System]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The facts that decide whether a side may write now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteWindow {
    pub status: ConsultStatus,
    pub consult_type: ConsultType,
    pub opens_at: i64,
    pub first_answer_at: Option<i64>,
    /// How long a text consult stays open to the patient after the first answer.
    pub text_window_secs: i64,
}

/// Why a message cannot be written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteRefused {
    /// The consult has ended.
    Ended,
    /// The appointment has not begun (more than 15 minutes ahead).
    NotYetOpen,
    /// The text consult's window after the doctor's answer has passed.
    WindowPassed,
}

impl WriteWindow {
    /// Whether `side` may write at `now`. The doctor writes while the consult is open; the
    /// patient from 15 minutes before an appointment, and in a text consult until the
    /// window after the doctor's first answer ends.
    pub fn may_write(self, side: Side, now: i64) -> Result<(), WriteRefused> {
        if !self.status.is_open() {
            return Err(WriteRefused::Ended);
        }
        match side {
            Side::Doctor | Side::System => Ok(()),
            Side::Patient => {
                if now < self.opens_at - EARLY_WRITE_SECS {
                    return Err(WriteRefused::NotYetOpen);
                }
                let text = !matches!(self.consult_type, ConsultType::Video);
                match self.first_answer_at {
                    Some(first) if text && now >= first + self.text_window_secs => {
                        Err(WriteRefused::WindowPassed)
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

/// Whether a message sent at `sent_at` may still be recalled at `now` (R-CONS-4: the
/// recall is a new entry; the original stays).
pub fn may_recall(sent_at: i64, now: i64) -> bool {
    now >= sent_at && now - sent_at <= RECALL_SECS
}

/// A message's text: trimmed, 1 to [`MAX_TEXT_CHARS`] characters.
pub fn parse_text(text: &str) -> Result<String, super::FieldError> {
    use super::{ErrorCode, Field, FieldError};
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(ErrorCode::MessageEmpty, Field::Text));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(FieldError::new(ErrorCode::MessageTooLong, Field::Text));
    }
    Ok(t.to_owned())
}

/// The id a client gives its message (a UUID, v7 from our clients), so a resend is
/// recognised: the canonical 36-character form, any version, folded to lower case.
pub fn parse_client_id(id: &str) -> Option<String> {
    let b = id.as_bytes();
    let shape_ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    shape_ok.then(|| id.to_ascii_lowercase())
}

/// A referral's reason, shown to the patient: 1 to [`MAX_REASON_CHARS`] characters.
pub fn parse_reason(text: &str) -> Result<String, super::FieldError> {
    use super::{ErrorCode, Field, FieldError};
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(ErrorCode::ReasonMissing, Field::Reason));
    }
    if t.chars().count() > MAX_REASON_CHARS {
        return Err(FieldError::new(ErrorCode::MessageTooLong, Field::Reason));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsultEvent as Ev;
    use ConsultStatus as S;

    const EVENTS: [ConsultEvent; 5] = [
        Ev::DoctorAnswered,
        Ev::Complete,
        Ev::ReferOffline,
        Ev::AnswerTimedOut,
        Ev::Cancel,
    ];

    fn show(r: Result<ConsultOutcome, IllegalMove>) -> String {
        match r {
            Ok(ConsultOutcome::Move { to, effect }) => match effect {
                ConsultEffect::Nothing => to.as_str().to_owned(),
                ConsultEffect::ServeOrder => format!("{}+serve", to.as_str()),
                ConsultEffect::Refund(r) => format!("{}+refund:{}", to.as_str(), r.as_str()),
            },
            Ok(ConsultOutcome::Stale) => "stale".into(),
            Err(_) => "illegal".into(),
        }
    }

    /// Every (status, event) pair, move by move (R-CONS-3, R-ELIG-4, R-PAY-2).
    #[test]
    fn the_consult_machine_move_by_move() {
        let expected = [
            (
                S::Waiting,
                [
                    "in_progress+serve",
                    "completed+serve",
                    "referred+refund:referred_offline",
                    "unanswered+refund:unanswered",
                    "cancelled",
                ],
            ),
            (
                S::InProgress,
                ["stale", "completed", "referred", "stale", "illegal"],
            ),
            (
                S::Completed,
                ["illegal", "stale", "illegal", "stale", "illegal"],
            ),
            (
                S::Referred,
                ["illegal", "illegal", "stale", "stale", "illegal"],
            ),
            (
                S::Unanswered,
                ["illegal", "illegal", "illegal", "stale", "illegal"],
            ),
            (
                S::Cancelled,
                ["illegal", "illegal", "illegal", "stale", "stale"],
            ),
        ];
        for (from, row) in expected {
            for (event, want) in EVENTS.into_iter().zip(row) {
                assert_eq!(show(apply(from, event)), want, "{from:?} + {event:?}");
            }
        }
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }

    /// R-CONS-3: the promised answer is 2 h after opening; the refund clock closes at the
    /// limit's very second, not a second earlier.
    #[test]
    fn the_answer_clock_at_its_edges() {
        let clock = AnswerClock::new(1_000, DEFAULT_UNANSWERED_SECS);
        assert_eq!(clock.promised_by, 1_000 + 7_200);
        assert_eq!(clock.left(1_000), 7_200);
        assert_eq!(clock.left(8_201), -1);
        assert!(!clock.timed_out(1_000 + 86_399));
        assert!(clock.timed_out(1_000 + 86_400));
        let short = AnswerClock::new(1_000, 3_600);
        assert!(short.timed_out(4_600));
    }

    /// R-CONS-1: a text consult opens on payment; a video appointment at its start (not
    /// before, even if paid early); a queue call at once.
    #[test]
    fn when_a_consult_opens() {
        let slot = Origin::Slot { starts_at: 10_000 };
        assert_eq!(opens_at(ConsultType::ImageText, slot, 2_000), 2_000);
        assert_eq!(opens_at(ConsultType::Text, slot, 2_000), 2_000);
        assert_eq!(opens_at(ConsultType::Video, slot, 2_000), 10_000);
        assert_eq!(opens_at(ConsultType::Video, slot, 12_000), 12_000);
        assert_eq!(opens_at(ConsultType::Video, Origin::QueueCall, 5), 5);
    }

    /// The patient writes from 15 minutes before the appointment (not 15 min + 1 s), and
    /// in a text consult until 48 h after the first answer (the last second excluded).
    #[test]
    fn who_may_write_when() {
        let video = WriteWindow {
            status: S::Waiting,
            consult_type: ConsultType::Video,
            opens_at: 10_000,
            first_answer_at: None,
            text_window_secs: DEFAULT_TEXT_WINDOW_SECS,
        };
        assert_eq!(
            video.may_write(Side::Patient, 10_000 - 901),
            Err(WriteRefused::NotYetOpen)
        );
        assert_eq!(video.may_write(Side::Patient, 10_000 - 900), Ok(()));
        assert_eq!(video.may_write(Side::Doctor, 0), Ok(()));
        let text = WriteWindow {
            status: S::InProgress,
            consult_type: ConsultType::ImageText,
            opens_at: 0,
            first_answer_at: Some(100),
            ..video
        };
        assert_eq!(text.may_write(Side::Patient, 100 + 172_799), Ok(()));
        assert_eq!(
            text.may_write(Side::Patient, 100 + 172_800),
            Err(WriteRefused::WindowPassed)
        );
        assert_eq!(text.may_write(Side::Doctor, 100 + 172_800), Ok(()));
        // A video consult has no text window.
        let answered_video = WriteWindow {
            first_answer_at: Some(100),
            ..video
        };
        assert_eq!(answered_video.may_write(Side::Patient, 10_000_000), Ok(()));
        for ended in [S::Completed, S::Referred, S::Unanswered, S::Cancelled] {
            let w = WriteWindow {
                status: ended,
                ..text
            };
            assert_eq!(w.may_write(Side::Doctor, 200), Err(WriteRefused::Ended));
            assert_eq!(w.may_write(Side::Patient, 200), Err(WriteRefused::Ended));
        }
    }

    /// R-CONS-4: a recall within 2 minutes (120 s yes, 121 s no).
    #[test]
    fn recall_within_two_minutes() {
        assert!(may_recall(100, 100));
        assert!(may_recall(100, 220));
        assert!(!may_recall(100, 221));
        assert!(!may_recall(100, 99));
    }

    /// Text at its edges: 2,000 characters pass, 2,001 and blank do not.
    #[test]
    fn message_text_and_ids_are_parsed() {
        assert_eq!(parse_text(" 好 ").as_deref(), Ok("好"));
        assert!(parse_text(&"字".repeat(2_000)).is_ok());
        assert!(parse_text(&"字".repeat(2_001)).is_err());
        assert!(parse_text(" \n ").is_err());
        let id = "0190B4A2-7C3D-7E00-8000-0123456789AB";
        assert_eq!(
            parse_client_id(id).as_deref(),
            Some("0190b4a2-7c3d-7e00-8000-0123456789ab")
        );
        assert_eq!(parse_client_id("0190b4a2-7c3d-7e00-8000-0123456789a"), None);
        assert_eq!(
            parse_client_id("0190b4a2x7c3d-7e00-8000-0123456789ab"),
            None
        );
        assert_eq!(
            parse_client_id("g190b4a2-7c3d-7e00-8000-0123456789ab"),
            None
        );
        assert!(parse_reason("").is_err());
        assert!(parse_reason("血压持续升高，需线下就诊").is_ok());
    }
}
