//! Age in 周岁 (full years) and the age rules built on it (R-REG-7, R-ELIG-5, R-RX-3).
//!
//! One rule for the whole app, the one PRC courts apply: 周岁按公历的年、月、日计算，
//! 从周岁生日的第二天起算 (Supreme People's Court, interpretation on juvenile criminal
//! cases, art. 2). A person becomes N years old on the day *after* their N-th birthday;
//! on the birthday itself they still count as N − 1.
//!
//! Born on 29 February: in a common year the birthday is taken as 28 February, so
//! the person turns N on 1 March — the same day as in a leap year, where the birthday
//! is 29 February and the next day is again 1 March.
use super::id_number::IdNumber;
use super::{ErrorCode, Field, FieldError};
use time::{Date, Month};

/// Full age (成年): below it a patient is served only through a guardian (R-REG-7).
pub const ADULT_AGE: u32 = 18;

/// Age in 周岁 on `on`: full years, gained on the day after each birthday.
/// Born on `on` (or a date after it) is 0.
pub fn age_on(birth: Date, on: Date) -> u32 {
    if on <= birth {
        return 0;
    }
    let years = on.year() - birth.year();
    // The N-th birthday falls in `on`'s year; until the day after it, still N − 1.
    let birthday = birthday_in(birth, on.year());
    let not_yet = (on.month() as u8, on.day()) <= (birthday.0 as u8, birthday.1);
    let years = if not_yet { years - 1 } else { years };
    u32::try_from(years).unwrap_or(0)
}

/// `YYYY-MM-DD` (how the server sends "today in China"), without `time`'s parser, which
/// would add to the browser's download.
pub fn parse_ymd(s: &str) -> Option<Date> {
    let mut parts = s.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// The (month, day) of the birthday in `year`: 29 February becomes 28 February in a
/// common year.
fn birthday_in(birth: Date, year: i32) -> (Month, u8) {
    if birth.month() == Month::February && birth.day() == 29 && !time::util::is_leap_year(year) {
        (Month::February, 28)
    } else {
        (birth.month(), birth.day())
    }
}

/// 18 周岁 or older on `on`.
pub fn is_adult_on(birth: Date, on: Date) -> bool {
    age_on(birth, on) >= ADULT_AGE
}

/// R-REG-7: a minor cannot open an account of their own; a guardian registers and adds
/// them as a dependant. Call after [`IdNumber::parse`] with the same `today`.
pub fn registrant_age_ok(id: &IdNumber, today: Date) -> Result<(), FieldError> {
    if is_adult_on(id.birth_date(), today) {
        Ok(())
    } else {
        Err(FieldError::new(
            ErrorCode::MinorNeedsGuardian,
            Field::IdNumber,
        ))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn today_from_the_server_parses_and_nonsense_does_not() {
        assert_eq!(parse_ymd("2026-11-24"), Some(date!(2026 - 11 - 24)));
        assert_eq!(parse_ymd("2024-02-29"), Some(date!(2024 - 02 - 29)));
        for bad in [
            "",
            "2026-11",
            "2026-13-01",
            "2025-02-29",
            "20261124",
            "x-1-1",
        ] {
            assert_eq!(parse_ymd(bad), None, "{bad}");
        }
    }

    use super::*;
    use time::macros::date;

    // R-ELIG-5 / R-RX-3: on the 6th birthday the child is still 5; 6 the day after.
    #[test]
    fn the_sixth_birthday_still_counts_as_five() {
        let birth = date!(2020 - 11 - 23);
        assert_eq!(age_on(birth, date!(2026 - 11 - 22)), 5);
        assert_eq!(age_on(birth, date!(2026 - 11 - 23)), 5);
        assert_eq!(age_on(birth, date!(2026 - 11 - 24)), 6);
        assert_eq!(age_on(birth, date!(2021 - 11 - 23)), 0);
        assert_eq!(age_on(birth, date!(2021 - 11 - 24)), 1);
    }

    // R-REG-7: 17 on the 18th birthday, 18 (adult) the day after.
    #[test]
    fn the_eighteenth_birthday_still_counts_as_seventeen() {
        let birth = date!(2008 - 11 - 22);
        assert_eq!(age_on(birth, date!(2026 - 11 - 21)), 17);
        assert_eq!(age_on(birth, date!(2026 - 11 - 22)), 17);
        assert!(!is_adult_on(birth, date!(2026 - 11 - 22)));
        assert_eq!(age_on(birth, date!(2026 - 11 - 23)), 18);
        assert!(is_adult_on(birth, date!(2026 - 11 - 23)));
        assert_eq!(ADULT_AGE, 18);
    }

    // R-REG-7: born on 29 February, a person turns N on 1 March, leap year or not.
    #[test]
    fn leap_day_births_turn_older_on_the_first_of_march() {
        let leap = date!(2008 - 02 - 29);
        // Common year: the birthday is 28 February.
        assert_eq!(age_on(leap, date!(2026 - 02 - 27)), 17);
        assert_eq!(age_on(leap, date!(2026 - 02 - 28)), 17);
        assert_eq!(age_on(leap, date!(2026 - 03 - 01)), 18);
        // Leap year: the birthday is 29 February itself.
        assert_eq!(age_on(leap, date!(2028 - 02 - 28)), 19);
        assert_eq!(age_on(leap, date!(2028 - 02 - 29)), 19);
        assert_eq!(age_on(leap, date!(2028 - 03 - 01)), 20);
        // The first birthday falls in a common year.
        assert_eq!(age_on(leap, date!(2009 - 02 - 28)), 0);
        assert_eq!(age_on(leap, date!(2009 - 03 - 01)), 1);
        // Year-end births and the turn of the year.
        let dec = date!(2007 - 12 - 31);
        assert_eq!(age_on(dec, date!(2025 - 12 - 31)), 17);
        assert_eq!(age_on(dec, date!(2026 - 01 - 01)), 18);
    }

    // R-REG-7: born today is 0; a date before birth is 0, never a negative age.
    #[test]
    fn born_today_is_zero() {
        let birth = date!(2026 - 11 - 22);
        assert_eq!(age_on(birth, birth), 0);
        assert_eq!(age_on(birth, date!(2026 - 11 - 23)), 0);
        assert_eq!(age_on(birth, date!(2019 - 01 - 01)), 0);
        assert!(!is_adult_on(birth, birth));
    }

    // R-REG-7: under 18 cannot register their own account.
    #[test]
    fn a_minor_cannot_register_their_own_account() {
        let today = date!(2026 - 11 - 22);
        let id = |first17: &str| {
            IdNumber::parse(&crate::domain::id_number::with_check_digit(first17), today)
                .expect("valid test number")
        };
        // 18th birthday today: still 17.
        assert_eq!(
            registrant_age_ok(&id("11010520081122001"), today),
            Err(FieldError::new(
                ErrorCode::MinorNeedsGuardian,
                Field::IdNumber
            ))
        );
        assert_eq!(
            registrant_age_ok(&id("11010520081123001"), today)
                .unwrap_err()
                .code,
            ErrorCode::MinorNeedsGuardian
        );
        // 18th birthday yesterday: adult.
        assert_eq!(registrant_age_ok(&id("11010520081121001"), today), Ok(()));
        assert_eq!(registrant_age_ok(&id("11010519491231002"), today), Ok(()));
    }
}
