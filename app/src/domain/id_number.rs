//! Resident identity numbers per GB 11643-1999 (R-REG-1).
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};
use time::{Date, Month};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";
/// Province-level codes (first two digits); 81–83 are HK/Macau/Taiwan residence permits.
const PROVINCES: [u8; 36] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// A valid 18-character ID number, upper-case `X`. Birth date and sex are derived, never typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    value: String,
    birth_date: Date,
}

impl IdNumber {
    /// Validates format, region, birth date (a real date, not after `today`) and the
    /// ISO 7064 MOD 11-2 check digit. A lower-case `x` is accepted and normalised.
    pub fn parse(input: &str, today: Date) -> Result<Self, FieldError> {
        let err = |code| FieldError::new(code, Field::IdNumber);
        let value: String = input.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        if bytes.len() != 18
            || !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(err(ErrorCode::IdNumberFormat));
        }
        let province = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(err(ErrorCode::IdNumberRegion));
        }
        let num = |range: std::ops::Range<usize>| -> u32 {
            bytes[range]
                .iter()
                .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
        };
        let birth_date = Month::try_from(num(10..12) as u8)
            .ok()
            .and_then(|month| {
                Date::from_calendar_date(num(6..10) as i32, month, num(12..14) as u8).ok()
            })
            .filter(|d| d.year() >= 1800)
            .ok_or_else(|| err(ErrorCode::IdNumberBirthDate))?;
        if birth_date > today {
            return Err(err(ErrorCode::IdNumberFuture));
        }
        if bytes[17] != check_char(&bytes[..17]) {
            return Err(err(ErrorCode::IdNumberCheckDigit));
        }
        Ok(Self { value, birth_date })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// The 17th digit: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        if (self.value.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// `1101**********002X`: the only form pages and logs show.
    pub fn masked(&self) -> String {
        mask(&self.value)
    }
}

/// Masks any stored 18-character number the same way.
pub fn mask(value: &str) -> String {
    if value.len() == 18 && value.is_ascii() {
        format!("{}**********{}", &value[..4], &value[14..])
    } else {
        "******************".to_owned()
    }
}

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Completed years of age on `on`. Someone born on 29 February becomes a year older
/// on 1 March in common years.
pub fn age_on(birth: Date, on: Date) -> u32 {
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 22);

    fn code(input: &str) -> ErrorCode {
        IdNumber::parse(input, TODAY).unwrap_err().code
    }

    /// Builds a number with a correct check digit from its first 17 digits.
    fn with_check(first17: &str) -> String {
        let c = check_char(first17.as_bytes()) as char;
        format!("{first17}{c}")
    }

    // R-REG-1: real numbers from the standard's own examples validate.
    #[test]
    fn accepts_the_standards_examples() {
        let id = IdNumber::parse("11010519491231002X", TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.sex(), Sex::Female);
        let id = IdNumber::parse("440524188001010014", TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1880 - 01 - 01));
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn lower_case_x_is_accepted_and_normalised() {
        let id = IdNumber::parse(" 11010519491231002x ", TODAY).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    // R-REG-1: MOD 11-2 check digit.
    #[test]
    fn refuses_a_wrong_check_digit() {
        assert_eq!(code("110105194912310021"), ErrorCode::IdNumberCheckDigit);
        assert_eq!(code("440524188001010015"), ErrorCode::IdNumberCheckDigit);
    }

    #[test]
    fn refuses_malformed_numbers() {
        for bad in [
            "",
            "11010519491231002",
            "11010519491231002XX",
            "1101051949123100X2",
            "11010519491231002Y",
            "１１０１０５１９４９１２３１００２X",
        ] {
            assert_eq!(code(bad), ErrorCode::IdNumberFormat, "{bad}");
        }
    }

    #[test]
    fn refuses_unknown_regions() {
        assert_eq!(
            code(&with_check("00010519491231002")),
            ErrorCode::IdNumberRegion
        );
        assert_eq!(
            code(&with_check("99010519491231002")),
            ErrorCode::IdNumberRegion
        );
    }

    // R-REG-1: the birth date must be a real calendar date.
    #[test]
    fn refuses_impossible_birth_dates() {
        assert_eq!(
            code(&with_check("11010519490230002")),
            ErrorCode::IdNumberBirthDate
        ); // 30 Feb
        assert_eq!(
            code(&with_check("11010519491301002")),
            ErrorCode::IdNumberBirthDate
        ); // month 13
        assert_eq!(
            code(&with_check("11010519490000002")),
            ErrorCode::IdNumberBirthDate
        );
        assert_eq!(
            code(&with_check("11010520230229002")),
            ErrorCode::IdNumberBirthDate
        ); // not a leap year
        assert!(IdNumber::parse(&with_check("11010520240229002"), TODAY).is_ok()); // leap year
        assert_eq!(
            code(&with_check("11010517991231002")),
            ErrorCode::IdNumberBirthDate
        );
    }

    // R-REG-1: not born in the future; born today is fine.
    #[test]
    fn refuses_birth_dates_after_today() {
        assert!(IdNumber::parse(&with_check("11010520261122002"), TODAY).is_ok());
        assert_eq!(
            code(&with_check("11010520261123002")),
            ErrorCode::IdNumberFuture
        );
    }

    #[test]
    fn sex_follows_the_seventeenth_digit() {
        let male = IdNumber::parse(&with_check("11010519900101001"), TODAY).unwrap();
        let female = IdNumber::parse(&with_check("11010519900101008"), TODAY).unwrap();
        assert_eq!((male.sex(), female.sex()), (Sex::Male, Sex::Female));
    }

    // R-REG-4: shown masked everywhere.
    #[test]
    fn masks_all_but_region_and_last_four() {
        let id = IdNumber::parse("11010519491231002X", TODAY).unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(mask("short"), "******************");
    }

    // R-ELIG-5 / R-RX-3 boundaries: 5 years 364 days is still 5; the birthday makes 6.
    #[test]
    fn age_counts_completed_years() {
        let birth = date!(2020 - 11 - 23);
        assert_eq!(age_on(birth, date!(2026 - 11 - 22)), 5);
        assert_eq!(age_on(birth, date!(2026 - 11 - 23)), 6);
        assert_eq!(age_on(birth, date!(2020 - 11 - 23)), 0);
        assert_eq!(age_on(birth, date!(2019 - 01 - 01)), 0);
        let leap = date!(2008 - 02 - 29);
        assert_eq!(age_on(leap, date!(2026 - 02 - 28)), 17);
        assert_eq!(age_on(leap, date!(2026 - 03 - 01)), 18);
        assert_eq!(age_on(leap, date!(2028 - 02 - 29)), 20);
    }
}
