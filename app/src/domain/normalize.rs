//! What Chinese phone keyboards and input methods produce, turned into plain ASCII
//! before validation (R-REG-1, R-SEC-6).
//!
//! A pinyin input method left in full-width mode types `１３８…` and `＋８６`; people
//! copy numbers from chat messages with spaces, ideographic spaces, en dashes or
//! invisible characters in them. None of that is the patient's mistake, so the
//! identifiers (ID number, phone number, SMS code) are normalised here first:
//!
//! - full-width digits `０`–`９` (U+FF10..FF19) become `0`–`9`;
//! - full-width letters `Ａ`–`Ｚ`, `ａ`–`ｚ` (U+FF21..FF3A, U+FF41..FF5A) become ASCII
//!   letters, case kept (the ID number upper-cases its `X` itself);
//! - the full-width plus `＋` (U+FF0B) becomes `+`;
//! - separators are dropped: any Unicode white space (space, tab, newline, the
//!   ideographic space U+3000, no-break space), zero-width characters (U+200B..U+200D,
//!   U+2060, U+FEFF), the hyphen-minus `-` and its look-alikes (U+2010..U+2015
//!   hyphens and dashes, U+2212 minus sign, U+FE63 small and U+FF0D full-width
//!   hyphen-minus).
//!
//! Everything else is left alone for the validator to refuse with a clear message.

/// The ASCII form of an identifier as typed; see the module documentation.
pub fn normalize_identifier(input: &str) -> String {
    input.chars().filter_map(normalize_char).collect()
}

/// One character: `None` for a separator, else its ASCII equivalent or itself.
fn normalize_char(c: char) -> Option<char> {
    match c {
        c if is_separator(c) => None,
        '\u{FF10}'..='\u{FF19}'
        | '\u{FF21}'..='\u{FF3A}'
        | '\u{FF41}'..='\u{FF5A}'
        | '\u{FF0B}' => {
            // The full-width forms U+FF01..FF5E mirror ASCII U+0021..007E.
            char::from_u32(u32::from(c) - 0xFEE0)
        }
        c => Some(c),
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'..='\u{2015}'
                | '\u{2212}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-REG-1: full-width digits and letters from an input method become ASCII.
    #[test]
    fn full_width_digits_letters_and_plus_become_ascii() {
        assert_eq!(normalize_identifier("０１２３４５６７８９"), "0123456789");
        assert_eq!(normalize_identifier("ＡＸＺａｘｚ"), "AXZaxz");
        assert_eq!(normalize_identifier("＋８６"), "+86");
        assert_eq!(
            normalize_identifier("１１０１０５１９４９１２３１００２Ｘ"),
            "11010519491231002X"
        );
    }

    // R-REG-1: spaces, tabs, hyphens and dash look-alikes are separators, not content.
    #[test]
    fn separators_are_dropped() {
        assert_eq!(normalize_identifier(" 138 0013\t8000 "), "13800138000");
        assert_eq!(
            normalize_identifier("138\u{3000}0013\u{3000}8000"),
            "13800138000"
        );
        for dash in [
            '-', '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}',
            '\u{2212}', '\u{FE63}', '\u{FF0D}',
        ] {
            assert_eq!(
                normalize_identifier(&format!("138{dash}0013{dash}8000")),
                "13800138000",
                "{dash:?}"
            );
        }
        assert_eq!(
            normalize_identifier("\u{FEFF}123\u{200B}456\u{A0}"),
            "123456"
        );
        assert_eq!(normalize_identifier("１２３ ４５６"), "123456");
    }

    // R-SEC-6: anything else is kept, so the validator can name the problem.
    #[test]
    fn other_characters_are_kept() {
        assert_eq!(normalize_identifier("12a（3）。"), "12a（3）。");
        assert_eq!(normalize_identifier("张三"), "张三");
        assert_eq!(normalize_identifier(""), "");
        // Full-width punctuation other than the plus is not an identifier character.
        assert_eq!(normalize_identifier("＃１"), "＃1");
    }
}
