//! Valid identity documents for demo customers: resident IDs (GB 11643) registered in the
//! customer's county, and unified social credit codes (GB 32100) whose embedded organisation code
//! carries its own GB 11714 check character.

use chrono::{Datelike, NaiveDate};
use kefu_domain::customer::{credit_check_char, resident_check_char};
use rand::Rng;

/// The characters a credit code may contain (no I, O, S, V, Z).
const CREDIT_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const ORG_CODE_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A resident ID for someone born on `birth` and registered in `area_code` (six digits).
/// The sequence digit is odd for men and even for women, as in real numbers.
pub fn resident_id<R: Rng + ?Sized>(
    rng: &mut R,
    area_code: &str,
    birth: NaiveDate,
    male: bool,
) -> String {
    let seq_hi = rng.random_range(0..100u32);
    let sex_digit = 2 * rng.random_range(0..5u32) + u32::from(male);
    let body = format!(
        "{area_code}{:04}{:02}{:02}{seq_hi:02}{sex_digit}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    let mut first17 = [b'0'; 17];
    first17.copy_from_slice(&body.as_bytes()[..17]);
    format!("{body}{}", resident_check_char(&first17))
}

fn org_code_value(c: u8) -> u32 {
    if c.is_ascii_digit() {
        u32::from(c - b'0')
    } else {
        u32::from(c - b'A') + 10
    }
}

/// A unified social credit code. `kind` is the two-character registration authority and type
/// (`91` company, `92` individual business, `93` farmers' cooperative).
pub fn credit_code<R: Rng + ?Sized>(rng: &mut R, kind: &str, area_code: &str) -> String {
    // The organisation code: eight characters and a GB 11714 check character (digits mostly,
    // as most codes issued since 2015 are).
    let org: Vec<u8> = (0..8)
        .map(|i| {
            if i > 0 && rng.random_bool(0.15) {
                CREDIT_ALPHABET[rng.random_range(10..CREDIT_ALPHABET.len())]
            } else {
                CREDIT_ALPHABET[rng.random_range(0..10)]
            }
        })
        .collect();
    let sum: u32 = org
        .iter()
        .zip(ORG_CODE_WEIGHTS)
        .map(|(c, w)| org_code_value(*c) * w)
        .sum();
    let org_check = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    };
    let org = String::from_utf8_lossy(&org);
    let first17 = format!("{kind}{area_code}{org}{org_check}");
    let check = credit_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::customer::{CreditCode, ResidentId};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn generated_documents_pass_the_domain_checks() {
        let mut rng = StdRng::seed_from_u64(3);
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        let birth = NaiveDate::from_ymd_opt(1980, 2, 29).unwrap_or_default();
        for i in 0..500 {
            let id = resident_id(&mut rng, "330106", birth, i % 2 == 0);
            let parsed = ResidentId::parse(&id, today);
            assert!(parsed.is_ok(), "{id}");
            let parsed = parsed.ok();
            assert_eq!(parsed.as_ref().map(|p| p.area_code()), Some("330106"));
            assert_eq!(parsed.map(|p| p.is_male()), Some(i % 2 == 0));
            let code = credit_code(&mut rng, "91", "330381");
            assert!(CreditCode::parse(&code).is_ok(), "{code}");
        }
    }
}
