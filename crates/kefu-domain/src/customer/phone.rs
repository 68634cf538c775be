//! Phone numbers, normalised to digits so that a screen-pop finds a customer however the number
//! was typed ("138 0013 8000", "+86-138-0013-8000" and "13800138000" are one number).

use crate::FieldError;

/// A normalised Chinese phone number: an 11-digit mobile or a landline with its area code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number, stripping spaces, dashes, brackets and a +86 / 0086 prefix.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let mut digits: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '（' | '）'))
            .collect();
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_owned();
        } else if let Some(rest) = digits.strip_prefix("0086") {
            digits = rest.to_owned();
        }
        if digits.is_empty() {
            return Err(FieldError::new("", "a phone number is required"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                "",
                format!("'{raw}' contains characters other than digits"),
            ));
        }
        let ok = match digits.as_bytes()[0] {
            b'1' => digits.len() == 11 && matches!(digits.as_bytes()[1], b'3'..=b'9'),
            b'0' => (10..=12).contains(&digits.len()),
            _ => false,
        };
        if !ok {
            return Err(FieldError::new(
                "",
                format!(
                    "'{raw}' is not a phone number: use an 11-digit mobile (1xxxxxxxxxx) \
                     or a landline with its area code (0xx-xxxxxxxx)"
                ),
            ));
        }
        Ok(Self(digits))
    }

    /// The digits as stored and searched.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a mobile number (can receive SMS).
    pub fn is_mobile(&self) -> bool {
        self.0.starts_with('1')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_of_one_mobile_number_normalise_alike() {
        for raw in [
            "13800138000",
            "138 0013 8000",
            "+86-138-0013-8000",
            "0086 13800138000",
        ] {
            assert_eq!(
                Phone::parse(raw).map(|p| p.0),
                Ok("13800138000".to_owned()),
                "{raw}"
            );
        }
    }

    #[test]
    fn landline_keeps_its_area_code() {
        assert_eq!(
            Phone::parse("(0571) 8765-4321").map(|p| p.0),
            Ok("057187654321".to_owned())
        );
    }

    #[test]
    fn local_number_without_area_code_is_refused() {
        assert!(Phone::parse("87654321").is_err());
        assert!(Phone::parse("12345678901").is_err());
        assert!(Phone::parse("1380013800a").is_err());
    }
}
