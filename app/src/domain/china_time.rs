//! China Standard Time (UTC+8, no daylight saving): the days and clocks patients, doctors
//! and the hospital read. Instants are Unix seconds (UTC) everywhere else.
use time::{Date, OffsetDateTime, UtcOffset};

pub const OFFSET_SECS: i64 = 8 * 3600;

pub const CHINA: UtcOffset = match UtcOffset::from_whole_seconds(OFFSET_SECS as i32) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Today in China: birth dates, ages and "today" on every page.
pub fn today(now: OffsetDateTime) -> Date {
    now.to_offset(CHINA).date()
}

/// An instant as China's wall clock shows it.
pub fn wall(at: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(CHINA)
}

/// The China day an instant falls on.
pub fn day(at: i64) -> Date {
    wall(at).date()
}

/// The start of a China day, in Unix seconds.
pub fn midnight(date: Date) -> i64 {
    date.midnight().assume_utc().unix_timestamp() - OFFSET_SECS
}

/// `HH:MM`, China time.
pub fn clock(at: i64) -> String {
    let t = wall(at);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `YYYY-MM-DD HH:MM`, China time: how lists show a moment.
pub fn local(at: i64) -> String {
    format!("{} {}", day(at), clock(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_china_day_starts_at_sixteen_utc_the_day_before() {
        let start = midnight(date!(2026 - 11 - 24));
        assert_eq!(day(start), date!(2026 - 11 - 24));
        assert_eq!(day(start - 1), date!(2026 - 11 - 23));
        assert_eq!(clock(start - 60), "23:59");
        assert_eq!(local(start + 9 * 3600 + 30 * 60), "2026-11-24 09:30");
    }

    #[test]
    fn today_is_the_china_date_not_the_utc_date() {
        assert_eq!(
            today(datetime!(2026-11-23 15:59 UTC)),
            date!(2026 - 11 - 23)
        );
        assert_eq!(
            today(datetime!(2026-11-23 16:00 UTC)),
            date!(2026 - 11 - 24)
        );
    }
}
