//! Doctors' schedules and bookings (R-DOC-1, R-BOOK-1, R-BOOK-2, R-BOOK-4): who may be
//! scheduled, how a published session splits into slots, when a slot may still change,
//! when a hold ends, what overlaps, and how times read in China. Times are Unix seconds
//! (UTC); days are China days (UTC+8, no daylight saving).
use super::ErrorCode;
use super::china_time;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// R-DOC-1: fewer years of independent practice may not consult online.
pub const MIN_PRACTICE_YEARS: u32 = 3;
/// R-BOOK-4: a published slot changes only this long ahead (one day).
pub const NOTICE_SECS: i64 = 24 * 3600;
/// R-BOOK-2: how long a slot is held for payment, unless configured.
pub const DEFAULT_HOLD_SECS: i64 = 15 * 60;
/// Sessions are published at most this many days ahead.
pub const MAX_DAYS_AHEAD: i64 = 60;
/// The most places one session may offer.
pub const MAX_CAPACITY: u16 = 100;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $( $variant:ident => $code:literal, $zh:literal, $en:literal; )+ } $all:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum $name {
            $( #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $( $code => Some($name::$variant), )+ _ => None }
            }

            pub const fn name(self, english: bool) -> &'static str {
                match (self, english) { $( ($name::$variant, false) => $zh, ($name::$variant, true) => $en, )+ }
            }
        }

        pub const $all: &[$name] = &[ $( $name::$variant ),+ ];
    };
}

named_enum! {
    /// How the consult happens (R-CONS-1); each has its own fee.
    ConsultType {
        Text => "text", "文字问诊", "Text";
        ImageText => "image_text", "图文问诊", "Text and images";
        Video => "video", "视频问诊", "Video";
    } ALL_CONSULT_TYPES
}

named_enum! {
    /// A doctor's professional title, highest first.
    DoctorTitle {
        Chief => "chief", "主任医师", "Chief physician";
        AssociateChief => "associate_chief", "副主任医师", "Associate chief physician";
        Attending => "attending", "主治医师", "Attending physician";
        Resident => "resident", "住院医师", "Resident physician";
    } ALL_TITLES
}

/// R-DOC-1: at least three years of independent practice to consult online.
pub const fn may_consult_online(practice_years: u32) -> bool {
    practice_years >= MIN_PRACTICE_YEARS
}

/// How a session is divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Split {
    /// Appointments of this many minutes, one patient each.
    SlotMinutes(u16),
    /// One block for the whole session, with this many places, seen in turn.
    Capacity(u16),
}

/// A session as an operator or the doctor publishes it, in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPlan {
    pub date: Date,
    /// Minutes after midnight, China time.
    pub start_minute: u16,
    pub end_minute: u16,
    pub split: Split,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedSlot {
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: u16,
}

/// The slots a session makes, or why it cannot be published: the doctor must have three
/// years of practice (R-DOC-1), the session must lie in the future and within
/// [`MAX_DAYS_AHEAD`] days, and divide evenly.
pub fn plan_slots(
    plan: SessionPlan,
    practice_years: u32,
    now: i64,
) -> Result<Vec<PlannedSlot>, ErrorCode> {
    if !may_consult_online(practice_years) {
        return Err(ErrorCode::DoctorPracticeTooShort);
    }
    if plan.end_minute <= plan.start_minute || plan.end_minute > 24 * 60 {
        return Err(ErrorCode::ScheduleTimesInvalid);
    }
    let day = china_time::midnight(plan.date);
    let starts_at = day + i64::from(plan.start_minute) * 60;
    let ends_at = day + i64::from(plan.end_minute) * 60;
    if starts_at <= now {
        return Err(ErrorCode::ScheduleInPast);
    }
    if starts_at - now > MAX_DAYS_AHEAD * 24 * 3600 {
        return Err(ErrorCode::ScheduleTooFarAhead);
    }
    let minutes = plan.end_minute - plan.start_minute;
    match plan.split {
        Split::SlotMinutes(len) => {
            if !(5..=120).contains(&len) || !minutes.is_multiple_of(len) {
                return Err(ErrorCode::ScheduleSlotLength);
            }
            let len = i64::from(len) * 60;
            Ok((0..i64::from(minutes) * 60 / len)
                .map(|i| PlannedSlot {
                    starts_at: starts_at + i * len,
                    ends_at: starts_at + (i + 1) * len,
                    capacity: 1,
                })
                .collect())
        }
        Split::Capacity(places) => {
            if places == 0 || places > MAX_CAPACITY {
                return Err(ErrorCode::ScheduleCapacity);
            }
            Ok(vec![PlannedSlot {
                starts_at,
                ends_at,
                capacity: places,
            }])
        }
    }
}

/// R-BOOK-4: a published slot may be changed or cancelled only with a day's notice
/// (exactly 24 hours ahead is enough).
pub const fn change_allowed(starts_at: i64, now: i64) -> bool {
    starts_at - now >= NOTICE_SECS
}

/// R-BOOK-2: a hold made at `held_at` lasts `hold_secs`; at the end second it is over.
pub const fn hold_live(held_at: i64, hold_secs: i64, now: i64) -> bool {
    now < held_at + hold_secs
}

/// R-BOOK-2, against hoarding: one account (the patient and everyone they act for) may
/// have at most this many unpaid holds running at once. Slots held but never paid block
/// other patients for the whole hold.
pub const MAX_LIVE_HOLDS: usize = 3;

/// Whether an account with `live` unpaid holds running may hold one more.
pub const fn may_hold_another(live: usize) -> bool {
    live < MAX_LIVE_HOLDS
}

/// Two time ranges share a moment; one ending as the other starts does not count.
pub const fn overlaps(a: (i64, i64), b: (i64, i64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// A patient cancels free of charge until this long before the start.
pub const fn cancel_is_free(starts_at: i64, now: i64, cutoff_secs: i64) -> bool {
    starts_at - now >= cutoff_secs
}

/// A day in words: 今天, 明天, 后天, or the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayWord {
    Today,
    Tomorrow,
    DayAfterTomorrow,
    /// Another day (past, or later than the day after tomorrow).
    On(Date),
}

/// Which China day `at` is, seen from `now`.
pub fn day_word(at: i64, now: i64) -> DayWord {
    let (day, today) = (china_time::day(at), china_time::day(now));
    match (day - today).whole_days() {
        0 => DayWord::Today,
        1 => DayWord::Tomorrow,
        2 => DayWord::DayAfterTomorrow,
        _ => DayWord::On(day),
    }
}

/// An honest wait in a live queue: everyone ahead takes the recent average, and the
/// estimate is rounded up to five minutes (never "0 minutes" while someone is ahead).
pub fn estimated_wait_minutes(people_ahead: u32, average_minutes: u32) -> u32 {
    let raw = people_ahead.saturating_mul(average_minutes.max(1));
    raw.div_ceil(5) * 5
}

/// Days from `date` to `other`, for tests and callers that count.
pub fn days_between(date: Date, other: Date) -> i64 {
    (other - date).whole_days()
}

/// The China date `days` after `date`.
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Duration::days(days)).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    // R-BOOK-2: the third running hold is allowed, a fourth is not.
    #[test]
    fn an_account_holds_at_most_three_unpaid_slots() {
        assert!(super::may_hold_another(0));
        assert!(super::may_hold_another(2));
        assert!(!super::may_hold_another(3));
        assert!(!super::may_hold_another(4));
    }

    use super::*;
    use time::Month;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    /// 2026-11-24 10:00 China time.
    fn now() -> i64 {
        china_time::midnight(date(2026, 11, 24)) + 10 * 3600
    }

    // R-DOC-1: three years of independent practice, not two years and some.
    #[test]
    fn three_years_of_practice_to_consult_online() {
        assert!(!may_consult_online(0));
        assert!(!may_consult_online(2));
        assert!(may_consult_online(3));
        assert!(may_consult_online(30));
        let plan = SessionPlan {
            date: date(2026, 11, 26),
            start_minute: 9 * 60,
            end_minute: 10 * 60,
            split: Split::SlotMinutes(15),
        };
        assert_eq!(
            plan_slots(plan, 2, now()),
            Err(ErrorCode::DoctorPracticeTooShort)
        );
    }

    // R-BOOK-1: a session splits into equal appointments, or one block of places.
    #[test]
    fn sessions_split_into_slots_in_china_time() {
        let plan = SessionPlan {
            date: date(2026, 11, 26),
            start_minute: 9 * 60,
            end_minute: 10 * 60,
            split: Split::SlotMinutes(15),
        };
        let slots = plan_slots(plan, 5, now()).unwrap();
        assert_eq!(slots.len(), 4);
        // 09:00 in China is 01:00 UTC.
        assert_eq!(slots[0].starts_at, 1_795_654_800);
        assert_eq!(china_time::clock(slots[0].starts_at), "09:00");
        assert_eq!(china_time::clock(slots[3].ends_at), "10:00");
        assert!(slots.iter().all(|s| s.capacity == 1));
        let block = plan_slots(
            SessionPlan {
                split: Split::Capacity(12),
                ..plan
            },
            5,
            now(),
        )
        .unwrap();
        assert_eq!(block.len(), 1);
        assert_eq!(block[0].capacity, 12);
    }

    #[test]
    fn bad_sessions_are_refused_with_their_reason() {
        let plan = SessionPlan {
            date: date(2026, 11, 26),
            start_minute: 9 * 60,
            end_minute: 10 * 60,
            split: Split::SlotMinutes(15),
        };
        let bad = |p: SessionPlan| plan_slots(p, 5, now()).unwrap_err();
        assert_eq!(
            bad(SessionPlan {
                end_minute: 9 * 60,
                ..plan
            }),
            ErrorCode::ScheduleTimesInvalid
        );
        assert_eq!(
            bad(SessionPlan {
                split: Split::SlotMinutes(25),
                ..plan
            }),
            ErrorCode::ScheduleSlotLength
        );
        assert_eq!(
            bad(SessionPlan {
                split: Split::Capacity(0),
                ..plan
            }),
            ErrorCode::ScheduleCapacity
        );
        assert_eq!(
            bad(SessionPlan {
                split: Split::Capacity(MAX_CAPACITY + 1),
                ..plan
            }),
            ErrorCode::ScheduleCapacity
        );
        assert_eq!(
            bad(SessionPlan {
                date: date(2026, 11, 24),
                start_minute: 9 * 60,
                ..plan
            }),
            ErrorCode::ScheduleInPast
        );
        assert_eq!(
            bad(SessionPlan {
                date: date(2027, 2, 1),
                ..plan
            }),
            ErrorCode::ScheduleTooFarAhead
        );
    }

    // R-BOOK-4: exactly 24 hours' notice is enough; a second less is not.
    #[test]
    fn a_published_slot_changes_with_a_days_notice() {
        let start = now() + NOTICE_SECS;
        assert!(change_allowed(start, now()));
        assert!(!change_allowed(start, now() + 1));
        assert!(change_allowed(start + 3600, now()));
    }

    // R-BOOK-2: a 15-minute hold is live for 15 minutes and over at the end second.
    #[test]
    fn a_hold_ends_at_its_exact_second() {
        let held = now();
        assert!(hold_live(held, DEFAULT_HOLD_SECS, held));
        assert!(hold_live(
            held,
            DEFAULT_HOLD_SECS,
            held + DEFAULT_HOLD_SECS - 1
        ));
        assert!(!hold_live(
            held,
            DEFAULT_HOLD_SECS,
            held + DEFAULT_HOLD_SECS
        ));
    }

    #[test]
    fn back_to_back_appointments_do_not_overlap() {
        assert!(overlaps((0, 900), (600, 1500)));
        assert!(overlaps((0, 900), (0, 900)));
        assert!(overlaps((0, 3600), (900, 1800)));
        assert!(!overlaps((0, 900), (900, 1800)));
        assert!(!overlaps((900, 1800), (0, 900)));
    }

    #[test]
    fn cancelling_is_free_until_the_cut_off() {
        let start = now() + 2 * 3600;
        assert!(cancel_is_free(start, now(), 2 * 3600));
        assert!(!cancel_is_free(start, now() + 1, 2 * 3600));
    }

    // China-time day boundaries: 23:59 and 00:00 China time are different days, while
    // the UTC date would call them the same.
    #[test]
    fn days_are_china_days() {
        let today = china_time::midnight(date(2026, 11, 24));
        let late = today + 24 * 3600 - 60; // 23:59 China, 15:59 UTC
        assert_eq!(day_word(late, now()), DayWord::Today);
        assert_eq!(day_word(late + 60, now()), DayWord::Tomorrow);
        assert_eq!(
            day_word(today + 2 * 86_400, now()),
            DayWord::DayAfterTomorrow
        );
        assert_eq!(
            day_word(today + 3 * 86_400, now()),
            DayWord::On(date(2026, 11, 27))
        );
        assert_eq!(day_word(today - 1, now()), DayWord::On(date(2026, 11, 23)));
        assert_eq!(china_time::clock(late), "23:59");
        assert_eq!(days_between(date(2026, 11, 30), date(2026, 12, 1)), 1);
        assert_eq!(add_days(date(2026, 12, 31), 1), date(2027, 1, 1));
    }

    #[test]
    fn waits_are_estimated_honestly() {
        assert_eq!(estimated_wait_minutes(0, 8), 0);
        assert_eq!(estimated_wait_minutes(1, 8), 10);
        assert_eq!(estimated_wait_minutes(2, 10), 20);
        assert_eq!(
            estimated_wait_minutes(3, 0),
            5,
            "never zero with people ahead"
        );
    }
}
