//! Identity documents: the resident ID (GB 11643-1999) and the unified social credit code
//! (GB 32100-2015), each checked by its own check character, plus documents stored as typed.

use chrono::NaiveDate;

use crate::FieldError;
use crate::code_enum;

const RESIDENT_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_CHECK: &[u8; 11] = b"10X98765432";

/// Two-digit province-level prefixes of GB/T 2260 area codes (incl. Taiwan, Hong Kong, Macao).
const PROVINCE_PREFIXES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// A mainland resident identity card number (居民身份证号码), 18 characters, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

/// The GB 11643 check character for the first 17 digits of a resident ID.
pub fn resident_check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(RESIDENT_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(RESIDENT_CHECK[(sum % 11) as usize])
}

/// Whether a six-digit administrative area code is plausible for a person's registration.
pub fn is_valid_area_code(code: &str) -> bool {
    code.len() == 6
        && code.bytes().all(|b| b.is_ascii_digit())
        && PROVINCE_PREFIXES.contains(&&code[..2])
        && &code[2..4] != "00"
}

impl ResidentId {
    /// Parses an 18-character resident ID: area code, birth date (not after `today`), check char.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let s = raw.trim().to_ascii_uppercase();
        let err = |reason: String| FieldError::new("", reason);
        if s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                "15-digit first-generation IDs are not accepted; enter the 18-digit number".into(),
            ));
        }
        if s.chars().count() != 18 {
            return Err(err(format!(
                "a resident ID has 18 characters, this one has {}",
                s.chars().count()
            )));
        }
        let bytes = s.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(err(
                "the first 17 characters of a resident ID must be digits".into(),
            ));
        }
        if !is_valid_area_code(&s[..6]) {
            return Err(err(format!(
                "'{}' is not a valid area code (first 6 digits)",
                &s[..6]
            )));
        }
        let birth = NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").map_err(|_| {
            err(format!(
                "'{}' is not a valid birth date (digits 7-14)",
                &s[6..14]
            ))
        })?;
        if birth.year_ce().1 < 1900 || birth > today {
            return Err(err(format!(
                "birth date {birth} is out of range (digits 7-14)"
            )));
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&bytes[..17]);
        let expected = resident_check_char(&first17);
        if char::from(bytes[17]) != expected {
            return Err(err(format!(
                "check character is '{}' but the digits give '{expected}'; the number has a typo",
                char::from(bytes[17])
            )));
        }
        Ok(Self(s))
    }

    /// The normalised 18-character number (upper-case X).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The six-digit area code of registration.
    pub fn area_code(&self) -> &str {
        &self.0[..6]
    }

    /// The holder's date of birth.
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// Whether the sequence digit marks the holder as male (odd) or female (even).
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }
}

use chrono::Datelike;

const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code (统一社会信用代码) of an organisation, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

fn credit_value(c: u8) -> Option<u32> {
    CREDIT_ALPHABET
        .iter()
        .position(|&a| a == c)
        .map(|p| p as u32)
}

/// The GB 32100 check character for the first 17 characters of a credit code, if they are valid.
pub fn credit_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.bytes().zip(CREDIT_WEIGHTS) {
        sum += credit_value(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(CREDIT_ALPHABET[check as usize]))
}

impl CreditCode {
    /// Parses an 18-character code: charset, a numeric area code (3rd-8th) and the check char.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_ascii_uppercase();
        let err = |reason: String| FieldError::new("", reason);
        if s.chars().count() != 18 {
            return Err(err(format!(
                "a unified social credit code has 18 characters, this one has {}",
                s.chars().count()
            )));
        }
        if let Some(bad) = s.bytes().find(|&b| credit_value(b).is_none()) {
            return Err(err(format!(
                "'{}' cannot appear in a credit code (letters I, O, S, V, Z are never used)",
                char::from(bad)
            )));
        }
        if !s.as_bytes()[2..8].iter().all(u8::is_ascii_digit) {
            return Err(err(
                "characters 3-8 of a credit code are the area code and must be digits".into(),
            ));
        }
        let expected = credit_check_char(&s[..17]).unwrap_or('?');
        let given = char::from(s.as_bytes()[17]);
        if given != expected {
            return Err(err(format!(
                "check character is '{given}' but the code gives '{expected}'; the code has a typo"
            )));
        }
        Ok(Self(s))
    }

    /// The normalised code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

code_enum! {
    /// The kind of identity document a customer gave.
    pub enum IdKind {
        /// 居民身份证, checked per GB 11643.
        ResidentId = ("resident_id", "居民身份证", "Resident ID card"),
        /// 统一社会信用代码, checked per GB 32100.
        CreditCode = ("credit_code", "统一社会信用代码", "Unified social credit code"),
        /// 护照, stored as typed.
        Passport = ("passport", "护照", "Passport"),
        /// 港澳台居民居住证 / 往来通行证 and other papers, stored as typed.
        Other = ("other", "其他证件", "Other document"),
    }
}

/// The longest document number kefu stores.
pub const MAX_DOCUMENT_LEN: usize = 32;

/// A customer's identity document, checked according to its kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdDocument {
    /// A checked resident ID.
    Resident(ResidentId),
    /// A checked credit code.
    Credit(CreditCode),
    /// A passport number as typed (trimmed, upper-case).
    Passport(String),
    /// Another document number as typed (trimmed).
    Other(String),
}

impl IdDocument {
    /// Parses `number` as a document of `kind`; errors name the field `number`.
    pub fn parse(kind: IdKind, number: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let free = |n: &str| -> Result<String, FieldError> {
            let n = n.trim();
            if n.is_empty() || n.chars().count() > MAX_DOCUMENT_LEN {
                return Err(FieldError::new(
                    "number",
                    format!("a document number has 1 to {MAX_DOCUMENT_LEN} characters"),
                ));
            }
            if n.chars().any(char::is_control) {
                return Err(FieldError::new(
                    "number",
                    "control characters are not allowed",
                ));
            }
            Ok(n.to_owned())
        };
        match kind {
            IdKind::ResidentId => ResidentId::parse(number, today)
                .map(IdDocument::Resident)
                .map_err(|e| e.under("number")),
            IdKind::CreditCode => CreditCode::parse(number)
                .map(IdDocument::Credit)
                .map_err(|e| e.under("number")),
            IdKind::Passport => free(number).map(|n| IdDocument::Passport(n.to_ascii_uppercase())),
            IdKind::Other => free(number).map(IdDocument::Other),
        }
    }

    /// The document's kind.
    pub fn kind(&self) -> IdKind {
        match self {
            IdDocument::Resident(_) => IdKind::ResidentId,
            IdDocument::Credit(_) => IdKind::CreditCode,
            IdDocument::Passport(_) => IdKind::Passport,
            IdDocument::Other(_) => IdKind::Other,
        }
    }

    /// The normalised number, as stored and searched.
    pub fn number(&self) -> &str {
        match self {
            IdDocument::Resident(r) => r.as_str(),
            IdDocument::Credit(c) => c.as_str(),
            IdDocument::Passport(n) | IdDocument::Other(n) => n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
    }

    fn with_check(first17: &str) -> String {
        let mut a = [0u8; 17];
        a.copy_from_slice(first17.as_bytes());
        format!("{first17}{}", resident_check_char(&a))
    }

    #[test]
    fn accepts_the_standard_example_id() {
        // The worked example of GB 11643-1999.
        let id = ResidentId::parse("11010519491231002X", today());
        assert_eq!(
            id.map(|i| i.birth_date().to_string()),
            Ok("1949-12-31".to_string())
        );
    }

    #[test]
    fn lower_case_x_is_normalised() {
        let id = ResidentId::parse("11010519491231002x", today()).map(|i| i.as_str().to_owned());
        assert_eq!(id, Ok("11010519491231002X".to_owned()));
    }

    #[test]
    fn wrong_check_character_is_refused_with_the_expected_one() {
        let e = ResidentId::parse("110105194912310021", today())
            .err()
            .map(|e| e.reason);
        assert!(e.is_some_and(|r| r.contains("'X'")));
    }

    #[test]
    fn impossible_birth_date_is_refused() {
        let e = ResidentId::parse(&with_check("11010519490231002"), today()).err();
        assert!(e.is_some_and(|e| e.reason.contains("birth date")));
    }

    #[test]
    fn future_birth_date_is_refused() {
        let e = ResidentId::parse(&with_check("11010520300101002"), today()).err();
        assert!(e.is_some_and(|e| e.reason.contains("out of range")));
    }

    #[test]
    fn unknown_province_prefix_is_refused() {
        let e = ResidentId::parse(&with_check("99010519491231002"), today()).err();
        assert!(e.is_some_and(|e| e.reason.contains("area code")));
    }

    #[test]
    fn fifteen_digit_ids_get_a_specific_message() {
        let e = ResidentId::parse("110105491231002", today()).err();
        assert!(e.is_some_and(|e| e.reason.contains("15-digit")));
    }

    #[test]
    fn known_credit_code_passes_and_typo_fails() {
        // A published code (a state-owned enterprise), check character included.
        assert!(CreditCode::parse("91110000100010433L").is_ok());
        assert!(CreditCode::parse("91110000100010433M").is_err());
        assert!(CreditCode::parse("91110000100O10433L").is_err());
    }

    #[test]
    fn document_errors_name_the_number_field() {
        let e = IdDocument::parse(IdKind::ResidentId, "123", today()).err();
        assert_eq!(e.map(|e| e.field), Some("number".to_owned()));
    }

    proptest! {
        #[test]
        fn any_generated_resident_id_round_trips(
            area in prop::sample::select(vec!["330106", "110105", "440305", "510104"]),
            days in 0i64..40_000, seq in 0u32..1000,
        ) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap_or_default() + chrono::Duration::days(days);
            prop_assume!(birth <= today());
            let first17 = format!("{area}{}{seq:03}", birth.format("%Y%m%d"));
            let id = with_check(&first17);
            let parsed = ResidentId::parse(&id, today());
            prop_assert!(parsed.is_ok());
            prop_assert_eq!(parsed.map(|p| p.birth_date()).ok(), Some(birth));
        }

        #[test]
        fn changing_one_digit_of_a_resident_id_is_detected(pos in 0usize..17, delta in 1u8..10) {
            let good = b"11010519491231002X";
            let mut bad = *good;
            bad[pos] = b'0' + (good[pos] - b'0' + delta) % 10;
            let s = String::from_utf8(bad.to_vec()).unwrap_or_default();
            prop_assert!(ResidentId::parse(&s, today()).is_err());
        }

        #[test]
        fn generated_credit_codes_validate(body in "[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{9}") {
            let check = credit_check_char(&body);
            prop_assert!(check.is_some());
            let code = format!("{body}{}", check.unwrap_or('0'));
            prop_assert!(CreditCode::parse(&code).is_ok());
        }
    }
}
