//! Resident identity numbers per GB 11643-1999 (R-REG-1).
use super::normalize::normalize_identifier;
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// Kept here too: the server imports `age_on` from this module.
pub use super::age::age_on;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";
/// Province-level codes (first two digits) of the 31 mainland provinces, autonomous
/// regions and municipalities: the only ones a mainland resident ID (居民身份证) carries.
/// Not here: 71 (Taiwan), 81 (Hong Kong), 82 (Macao) and 91 (overseas) are codes of the
/// administrative-division table that no resident ID is issued under, and 83 is the
/// prefix of the Residence Permit for Hong Kong, Macao and Taiwan residents
/// (港澳台居民居住证), which is not a resident ID.
const PROVINCES: [u8; 31] = [
    11, 12, 13, 14, 15, // 北京 天津 河北 山西 内蒙古
    21, 22, 23, // 辽宁 吉林 黑龙江
    31, 32, 33, 34, 35, 36, 37, // 上海 江苏 浙江 安徽 福建 江西 山东
    41, 42, 43, 44, 45, 46, // 河南 湖北 湖南 广东 广西 海南
    50, 51, 52, 53, 54, // 重庆 四川 贵州 云南 西藏
    61, 62, 63, 64, 65, // 陕西 甘肃 青海 宁夏 新疆
];
/// The earliest birth year accepted: nobody born before 1900 is alive to register.
const MIN_BIRTH_YEAR: i32 = 1900;

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    /// Validates format, region (mainland provinces only), birth date (a real date,
    /// from 1900, not after `today`) and the ISO 7064 MOD 11-2 check digit. Input is
    /// normalised first ([`normalize_identifier`]): full-width digits and `Ｘ`, spaces
    /// and hyphens are accepted; a lower-case `x` becomes `X`.
    pub fn parse(input: &str, today: Date) -> Result<Self, FieldError> {
        let err = |code| FieldError::new(code, Field::IdNumber);
        let value: String = normalize_identifier(input).to_ascii_uppercase();
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
            .filter(|d| d.year() >= MIN_BIRTH_YEAR)
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

    /// `**************002X`: the only form pages and logs show (R-REG-4).
    pub fn masked(&self) -> String {
        mask(&self.value)
    }
}

/// Masks any stored 18-character number the same way: 14 asterisks and the last four
/// characters. Pages show the derived birth date and sex beside the masked number, so
/// the old `1101**********002X` form left only the rest of the region code to guess;
/// now the whole six-digit region code and the birth date stay hidden.
pub fn mask(value: &str) -> String {
    if value.len() == 18 && value.is_ascii() {
        format!("{}{}", "*".repeat(14), &value[14..])
    } else {
        "*".repeat(18)
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

/// Test numbers: the first 17 digits completed with their check digit.
#[cfg(test)]
pub(crate) fn with_check_digit(first17: &str) -> String {
    let c = check_char(first17.as_bytes()) as char;
    format!("{first17}{c}")
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
        with_check_digit(first17)
    }

    // R-REG-1: real numbers from the standard's own examples validate.
    #[test]
    fn accepts_the_standards_examples() {
        let id = IdNumber::parse("11010519491231002X", TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
        assert_eq!(id.sex(), Sex::Female);
        let id = IdNumber::parse(&with_check("44052419800101001"), TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1980 - 01 - 01));
        assert_eq!(id.sex(), Sex::Male);
    }

    // R-REG-1: a lower-case x is the same check character.
    #[test]
    fn lower_case_x_is_accepted_and_normalised() {
        let id = IdNumber::parse(" 11010519491231002x ", TODAY).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    // R-REG-1: what a Chinese input method types (full-width digits, Ｘ or ｘ, spaces,
    // hyphens) is the same number.
    #[test]
    fn full_width_and_separated_input_is_accepted() {
        for input in [
            "１１０１０５１９４９１２３１００２Ｘ",
            "１１０１０５１９４９１２３１００２ｘ",
            "１１０１０５１９４９１２３１００２X",
            "110105 19491231 002X",
            "110105-19491231-002x",
            "１１０１０５\u{3000}１９４９１２３１\u{3000}００２Ｘ",
            "\t11010519491231002X\n",
        ] {
            let id = IdNumber::parse(input, TODAY).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert_eq!(id.as_str(), "11010519491231002X", "{input}");
        }
    }

    // R-REG-1: MOD 11-2 check digit.
    #[test]
    fn refuses_a_wrong_check_digit() {
        assert_eq!(code("110105194912310021"), ErrorCode::IdNumberCheckDigit);
        assert_eq!(
            code("１１０１０５１９４９１２３１００２１"),
            ErrorCode::IdNumberCheckDigit
        );
        let good = with_check("44052419800101001");
        let bad = format!(
            "{}{}",
            &good[..17],
            if good.ends_with('0') { '1' } else { '0' }
        );
        assert_eq!(code(&bad), ErrorCode::IdNumberCheckDigit);
    }

    // R-SEC-6: malformed input gets the format error.
    #[test]
    fn refuses_malformed_numbers() {
        for bad in [
            "",
            "11010519491231002",
            "11010519491231002XX",
            "1101051949123100X2",
            "11010519491231002Y",
            "１１０１０５１９４９１２３１００２Ｙ",
            "11010519491231002X。",
            "110105.19491231.002X",
        ] {
            assert_eq!(code(bad), ErrorCode::IdNumberFormat, "{bad}");
        }
    }

    #[test]
    fn refuses_unknown_regions() {
        for first2 in [
            "00", "10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "99",
        ] {
            assert_eq!(
                code(&with_check(&format!("{first2}010519491231002"))),
                ErrorCode::IdNumberRegion,
                "{first2}"
            );
        }
    }

    // R-REG-1: only the 31 mainland provinces issue resident IDs. 71/81/82/91 issue none;
    // 83 is the HK/Macao/Taiwan residence permit, which is not a resident ID.
    #[test]
    fn refuses_non_mainland_prefixes() {
        for first2 in ["71", "81", "82", "83", "91"] {
            assert_eq!(
                code(&with_check(&format!("{first2}000019491231002"))),
                ErrorCode::IdNumberRegion,
                "{first2}"
            );
        }
    }

    // R-REG-1: every mainland province code, including each range's ends, is accepted.
    #[test]
    fn accepts_every_mainland_province() {
        assert_eq!(PROVINCES.len(), 31);
        for first2 in [11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65] {
            assert!(
                IdNumber::parse(&with_check(&format!("{first2}010519491231002")), TODAY).is_ok(),
                "{first2}"
            );
        }
        for p in PROVINCES {
            assert!(IdNumber::parse(&with_check(&format!("{p}010519491231002")), TODAY).is_ok());
        }
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

    // R-REG-1: born 1900 or later; 31 Dec 1899 is refused, 1 Jan 1900 accepted.
    #[test]
    fn refuses_birth_years_before_1900() {
        assert_eq!(
            code(&with_check("11010518991231002")),
            ErrorCode::IdNumberBirthDate
        );
        assert_eq!(
            code(&with_check("44052418800101001")),
            ErrorCode::IdNumberBirthDate
        );
        assert_eq!(code("440524188001010014"), ErrorCode::IdNumberBirthDate);
        let id = IdNumber::parse(&with_check("11010519000101002"), TODAY).unwrap();
        assert_eq!(id.birth_date(), date!(1900 - 01 - 01));
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

    // R-REG-1: sex is derived, never typed.
    #[test]
    fn sex_follows_the_seventeenth_digit() {
        let male = IdNumber::parse(&with_check("11010519900101001"), TODAY).unwrap();
        let female = IdNumber::parse(&with_check("11010519900101008"), TODAY).unwrap();
        assert_eq!((male.sex(), female.sex()), (Sex::Male, Sex::Female));
    }

    // R-REG-4: shown masked everywhere, only the last four characters visible.
    #[test]
    fn masks_all_but_the_last_four() {
        let id = IdNumber::parse("11010519491231002X", TODAY).unwrap();
        assert_eq!(id.masked(), "**************002X");
        assert_eq!(id.masked().len(), 18);
        assert!(!id.masked().contains("1101") && !id.masked().contains("1949"));
        assert_eq!(mask("short"), "******************");
        assert_eq!(
            mask("１１０１０５１９４９１２３１００２Ｘ"),
            "******************"
        );
    }

    // R-ELIG-5 / R-REG-7: the re-exported age rule (周岁, see `age`): the birthday
    // itself still counts as the younger age.
    #[test]
    fn age_is_reexported_with_the_courts_rule() {
        let birth = date!(2020 - 11 - 23);
        assert_eq!(age_on(birth, date!(2026 - 11 - 22)), 5);
        assert_eq!(age_on(birth, date!(2026 - 11 - 23)), 5);
        assert_eq!(age_on(birth, date!(2026 - 11 - 24)), 6);
        assert_eq!(age_on(birth, date!(2020 - 11 - 23)), 0);
        assert_eq!(age_on(birth, date!(2019 - 01 - 01)), 0);
        let leap = date!(2008 - 02 - 29);
        assert_eq!(age_on(leap, date!(2026 - 02 - 28)), 17);
        assert_eq!(age_on(leap, date!(2026 - 03 - 01)), 18);
        assert_eq!(age_on(leap, date!(2028 - 02 - 29)), 19);
        assert_eq!(age_on(leap, date!(2028 - 03 - 01)), 20);
    }
}
