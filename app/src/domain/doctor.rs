//! A doctor's public facts (R-DOC-1): licence number, years of independent practice,
//! rating, fees; and the directory's paging.
use super::{ErrorCode, Field, FieldError};
use time::Date;

/// 医师执业证书编码: 15 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceNumber(String);

impl LicenceNumber {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        if s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                ErrorCode::LicenceNumberInvalid,
                Field::LicenceNumber,
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Full years of independent practice on `today`: the anniversary itself counts.
pub fn practice_years(since: Date, today: Date) -> u32 {
    if today <= since {
        return 0;
    }
    let mut years = today.year() - since.year();
    if (today.month() as u8, today.day()) < (since.month() as u8, since.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// What patients see of reviews: nothing until there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Rating {
    /// The average of 1–5 stars, in tenths (48 is 4.8).
    pub average_tenths: u32,
    /// Reviews of 4 or 5 stars, as a whole percentage (rounded down).
    pub good_percent: u32,
    pub reviews: u32,
}

pub fn rating(star_sum: i64, reviews: i64, good: i64) -> Option<Rating> {
    if reviews <= 0 || star_sum < reviews || good < 0 || good > reviews {
        return None;
    }
    // Rounded to the nearest tenth.
    let average_tenths = (star_sum * 10 * 2 + reviews) / (reviews * 2);
    Some(Rating {
        average_tenths: u32::try_from(average_tenths.min(50)).unwrap_or(50),
        good_percent: u32::try_from(good * 100 / reviews).unwrap_or(0),
        reviews: u32::try_from(reviews).unwrap_or(u32::MAX),
    })
}

/// The highest fee on the price list: ¥10,000.
pub const MAX_FEE_FEN: i64 = 1_000_000;

/// A fee for the price list (R-DOC-1, security review item 8): 0 to ¥10,000, and 0 only
/// when it is marked free on purpose (a forgotten field must not give consults away);
/// a fee marked free must be 0.
pub fn price_ok(fee_fen: i64, free: bool) -> Result<i64, super::FieldError> {
    use super::{ErrorCode, Field, FieldError};
    match (fee_fen, free) {
        (0, true) => Ok(0),
        (0, false) => Err(FieldError::new(ErrorCode::FeeZeroNotFree, Field::FeeFen)),
        (_, true) => Err(FieldError::new(ErrorCode::FeeZeroNotFree, Field::FeeFen)),
        (fen, false) if (1..=MAX_FEE_FEN).contains(&fen) => Ok(fen),
        _ => Err(FieldError::new(ErrorCode::FeeOutOfRange, Field::FeeFen)),
    }
}

/// A fee in yuan as patients read it: `¥30`, `¥30.50`.
pub fn fee_text(fen: i64) -> String {
    let (yuan, rest) = (fen / 100, fen % 100);
    if rest == 0 {
        format!("¥{yuan}")
    } else {
        format!("¥{yuan}.{rest:02}")
    }
}

/// Doctors per page of the directory.
pub const PAGE_SIZE: u64 = 20;
/// No directory has more pages than this; a larger number is a bad query.
pub const MAX_PAGE: i64 = 1000;

/// The page asked for: 1 when not given; 0, negative or huge numbers are refused.
pub fn page_number(raw: Option<i64>) -> Result<u64, FieldError> {
    match raw {
        None => Ok(1),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n.unsigned_abs()),
        Some(_) => Err(FieldError::new(ErrorCode::InvalidQuery, Field::Page)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    // R-DOC-1: the licence number is 15 digits.
    #[test]
    fn licence_numbers_are_fifteen_digits() {
        assert!(LicenceNumber::parse("110110000012345").is_ok());
        assert!(LicenceNumber::parse(" 110110000012345 ").is_ok());
        for bad in ["11011000001234", "1101100000123456", "11011000001234X", ""] {
            assert_eq!(
                LicenceNumber::parse(bad).unwrap_err().code,
                ErrorCode::LicenceNumberInvalid
            );
        }
    }

    // R-DOC-1: three years of practice are three full years, to the day.
    #[test]
    fn practice_years_count_full_years() {
        let since = date(2023, 11, 24);
        assert_eq!(practice_years(since, date(2026, 11, 23)), 2);
        assert_eq!(practice_years(since, date(2026, 11, 24)), 3);
        assert_eq!(practice_years(since, date(2020, 1, 1)), 0);
        // Since 29 February: the anniversary in a common year is 1 March.
        let leap = date(2020, 2, 29);
        assert_eq!(practice_years(leap, date(2023, 2, 28)), 2);
        assert_eq!(practice_years(leap, date(2023, 3, 1)), 3);
    }

    #[test]
    fn no_rating_until_there_are_reviews() {
        assert_eq!(rating(0, 0, 0), None);
        assert_eq!(
            rating(48, 10, 9),
            Some(Rating {
                average_tenths: 48,
                good_percent: 90,
                reviews: 10
            })
        );
        // 14 stars over 3 reviews is 4.67: shown as 4.7.
        assert_eq!(rating(14, 3, 3).unwrap().average_tenths, 47);
        assert_eq!(rating(2, 3, 0), None, "impossible sums are not shown");
    }

    #[test]
    fn a_free_consult_is_free_on_purpose() {
        use crate::domain::ErrorCode;
        assert_eq!(price_ok(0, true), Ok(0));
        assert_eq!(price_ok(1, false), Ok(1));
        assert_eq!(price_ok(MAX_FEE_FEN, false), Ok(MAX_FEE_FEN));
        assert_eq!(
            price_ok(0, false).unwrap_err().code,
            ErrorCode::FeeZeroNotFree
        );
        assert_eq!(
            price_ok(100, true).unwrap_err().code,
            ErrorCode::FeeZeroNotFree
        );
        assert_eq!(
            price_ok(MAX_FEE_FEN + 1, false).unwrap_err().code,
            ErrorCode::FeeOutOfRange
        );
        assert_eq!(
            price_ok(-1, false).unwrap_err().code,
            ErrorCode::FeeOutOfRange
        );
    }

    #[test]
    fn fees_read_in_yuan() {
        assert_eq!(fee_text(3000), "¥30");
        assert_eq!(fee_text(3050), "¥30.50");
        assert_eq!(fee_text(5), "¥0.05");
        assert_eq!(fee_text(0), "¥0");
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(page_number(None), Ok(1));
        assert_eq!(page_number(Some(3)), Ok(3));
        for bad in [0, -1, MAX_PAGE + 1, i64::MAX, i64::MIN] {
            assert_eq!(page_number(Some(bad)).unwrap_err().field, Some(Field::Page));
        }
    }
}
