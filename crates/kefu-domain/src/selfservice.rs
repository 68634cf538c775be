//! Customer self-service (issue 8 item 8): the one-time code that proves a customer holds the
//! phone they give. A code is short-lived, tried a limited number of times, and a phone gets a
//! limited number of codes an hour; the store keeps only a hash of it. Deciding is done here,
//! over plain values, so both stores judge a try the same way.

use chrono::{DateTime, Duration, Utc};

use crate::FieldError;

/// Digits of a code.
pub const CODE_DIGITS: usize = 6;
/// How long a code may be used.
pub const CODE_TTL_MINUTES: i64 = 10;
/// Wrong tries after which a code is dead (a new one must be requested).
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// Codes one phone may be sent within `CODE_WINDOW_MINUTES`.
pub const MAX_CODES_PER_WINDOW: u32 = 5;
/// The window in which codes per phone are counted.
pub const CODE_WINDOW_MINUTES: i64 = 60;

/// A one-time code as typed or generated: exactly six ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

impl std::fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeCode(******)")
    }
}

impl OneTimeCode {
    /// Parses a typed code (spaces and full-width digits allowed, as phones type them).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let digits: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                _ => c,
            })
            .collect();
        if digits.len() != CODE_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                "code",
                format!("enter the {CODE_DIGITS}-digit code sent to your phone"),
            ));
        }
        Ok(Self(digits))
    }

    /// The code for a random number (any `u32`; uniform enough: 4 294 967 296 is not a
    /// multiple of a million, the bias is below 0.03 %).
    pub fn from_random(n: u32) -> Self {
        Self(format!("{:06}", n % 1_000_000))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The last code issued to a phone, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeState {
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Wrong tries so far.
    pub attempts: u32,
    /// Whether it was already used.
    pub used: bool,
}

/// What a try of a code comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeVerdict {
    /// Right code, in time: the phone is verified and the code is used up.
    Accepted,
    /// Wrong code; this many tries are left.
    Wrong {
        /// Tries left after this one.
        attempts_left: u32,
    },
    /// No live code: none was requested, it expired, it was used or it was tried too often.
    NoLiveCode,
}

/// When a code issued at `issued_at` expires.
pub fn code_expiry(issued_at: DateTime<Utc>) -> DateTime<Utc> {
    issued_at + Duration::minutes(CODE_TTL_MINUTES)
}

/// The start of the window in which a phone's codes are counted.
pub fn code_window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::minutes(CODE_WINDOW_MINUTES)
}

/// Whether a phone that was sent `issued_in_window` codes in the window may get another.
pub fn may_issue(issued_in_window: u32) -> bool {
    issued_in_window < MAX_CODES_PER_WINDOW
}

/// Judges a try of the phone's last code (`None`: no code was ever issued); `matches` says
/// whether the typed code hashes to the stored one.
pub fn judge(last: Option<CodeState>, matches: bool, now: DateTime<Utc>) -> CodeVerdict {
    let Some(code) = last else {
        return CodeVerdict::NoLiveCode;
    };
    if code.used || now >= code.expires_at || code.attempts >= MAX_CODE_ATTEMPTS {
        return CodeVerdict::NoLiveCode;
    }
    if matches {
        CodeVerdict::Accepted
    } else {
        CodeVerdict::Wrong {
            attempts_left: MAX_CODE_ATTEMPTS - code.attempts - 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn live(attempts: u32) -> Option<CodeState> {
        Some(CodeState {
            expires_at: code_expiry(t0()),
            attempts,
            used: false,
        })
    }

    #[test]
    fn a_typed_code_is_six_digits_and_full_width_digits_count() {
        assert_eq!(
            OneTimeCode::parse(" 123 456 ").map(|c| c.0),
            Ok("123456".into())
        );
        assert_eq!(
            OneTimeCode::parse("１２３４５６").map(|c| c.0),
            Ok("123456".into())
        );
        assert!(OneTimeCode::parse("12345").is_err());
        assert!(OneTimeCode::parse("12345a").is_err());
        assert!(OneTimeCode::parse("1234567").is_err());
    }

    #[test]
    fn a_generated_code_keeps_its_leading_zeros() {
        assert_eq!(OneTimeCode::from_random(42).as_str(), "000042");
        assert_eq!(OneTimeCode::from_random(4_000_123_456).as_str(), "123456");
    }

    #[test]
    fn the_code_is_never_printed() {
        assert!(!format!("{:?}", OneTimeCode::from_random(123_456)).contains("123456"));
    }

    #[test]
    fn a_right_code_in_time_is_accepted() {
        assert_eq!(judge(live(0), true, t0()), CodeVerdict::Accepted);
        assert_eq!(judge(live(4), true, t0()), CodeVerdict::Accepted);
    }

    #[test]
    fn wrong_tries_count_down_and_the_fifth_kills_the_code() {
        assert_eq!(
            judge(live(0), false, t0()),
            CodeVerdict::Wrong { attempts_left: 4 }
        );
        assert_eq!(
            judge(live(4), false, t0()),
            CodeVerdict::Wrong { attempts_left: 0 }
        );
        assert_eq!(judge(live(5), true, t0()), CodeVerdict::NoLiveCode);
    }

    #[test]
    fn an_expired_used_or_missing_code_is_refused_even_when_right() {
        let expired = code_expiry(t0()) + Duration::seconds(1);
        assert_eq!(judge(live(0), true, expired), CodeVerdict::NoLiveCode);
        let used = live(0).map(|c| CodeState { used: true, ..c });
        assert_eq!(judge(used, true, t0()), CodeVerdict::NoLiveCode);
        assert_eq!(judge(None, true, t0()), CodeVerdict::NoLiveCode);
    }

    #[test]
    fn a_phone_gets_five_codes_an_hour() {
        assert!(may_issue(0));
        assert!(may_issue(MAX_CODES_PER_WINDOW - 1));
        assert!(!may_issue(MAX_CODES_PER_WINDOW));
    }
}
