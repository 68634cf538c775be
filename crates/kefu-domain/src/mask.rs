//! Masking of personal data for roles that do not need it (product §11).

/// Masks the middle of a document number, keeping the first 3 and last 4 characters.
pub fn mask_document_number(number: &str) -> String {
    mask_middle(number, 3, 4)
}

/// Masks a phone number: mobile `138****8000`, landline keeps its area code and last 2 digits.
pub fn mask_phone(phone: &str) -> String {
    if phone.starts_with('0') {
        mask_middle(phone, 4, 2)
    } else {
        mask_middle(phone, 3, 4)
    }
}

fn mask_middle(s: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= keep_start + keep_end {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..keep_start].iter().collect();
    out.push_str(&"*".repeat(chars.len() - keep_start - keep_end));
    out.extend(&chars[chars.len() - keep_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(
            mask_document_number("11010519491231002X"),
            "110***********002X"
        );
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("057187654321"), "0571******21");
        assert_eq!(mask_phone("123"), "***");
    }
}
