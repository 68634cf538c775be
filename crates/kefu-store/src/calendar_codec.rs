//! The text encodings of the working-calendar settings, written once for both stores (the
//! domain has no serde): a calendar year's holidays and make-up working days, and the
//! time-limit table. Decoding goes back through the domain's constructors (`DayOverride`,
//! `YearSchedule::insert`, `TimeLimits::new`) and checks make-up days against the default week,
//! so a stored value that breaks a rule is never handed out; the error text names the field,
//! and the stores wrap it into `StoreError::Corrupt`.

use chrono::{NaiveDate, Weekday};
use kefu_domain::calendar::{
    DayKind, DayOverride, Limit, LimitKind, LimitRule, ServiceArea, TimeLimits, WeekPattern,
    YearSchedule,
};
use serde_json::{Value, json};

use crate::workorder_codec::{field, list, text};

const WEEKDAY_CODES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// The stored and API code of a weekday: `mon` … `sun` (as `like=` in year files).
pub fn weekday_code(day: Weekday) -> &'static str {
    WEEKDAY_CODES[day.num_days_from_monday() as usize].0
}

/// The weekday of a code written by [`weekday_code`].
pub fn weekday_from(code: &str) -> Option<Weekday> {
    WEEKDAY_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, w)| *w)
}

/// `holiday` or `workday`: the stored and API code of a day's kind.
pub fn day_kind_code(kind: DayKind) -> &'static str {
    match kind {
        DayKind::Holiday => "holiday",
        DayKind::Workday { .. } => "workday",
    }
}

/// Encodes a year: `{"year": 2026, "days": [{"date", "kind", "name", "like"?}, …]}` by date;
/// `like` only on make-up working days.
pub fn encode_year(schedule: &YearSchedule) -> String {
    let days: Vec<Value> = schedule
        .days()
        .iter()
        .map(|(date, day)| {
            let mut v = json!({
                "date": date.to_string(),
                "kind": day_kind_code(day.kind),
                "name": day.name.as_str(),
            });
            if let DayKind::Workday { like } = day.kind {
                v["like"] = json!(weekday_code(like));
            }
            v
        })
        .collect();
    json!({ "year": schedule.year(), "days": days }).to_string()
}

/// Decodes a year written by [`encode_year`]: every day goes through the domain's constructors
/// and is checked against the default Monday–Friday week.
pub fn decode_year(raw: &str) -> Result<YearSchedule, String> {
    let v: Value = serde_json::from_str(raw).map_err(|e| format!("calendar is not JSON: {e}"))?;
    let year = field(&v, "year")
        .and_then(Value::as_i64)
        .and_then(|y| i32::try_from(y).ok())
        .ok_or("year is missing or not a number")?;
    let week = WeekPattern::china_default();
    let mut schedule = YearSchedule::new(year);
    for (i, d) in list(&v, "days")?.iter().enumerate() {
        let at = |err: String| format!("days[{i}].{err}");
        let raw_date = text(d, "date").map_err(at)?;
        let date = NaiveDate::parse_from_str(&raw_date, "%Y-%m-%d")
            .map_err(|_| at(format!("date: '{raw_date}' is not YYYY-MM-DD")))?;
        let name = text(d, "name").map_err(at)?;
        let day = match text(d, "kind").map_err(at)?.as_str() {
            "holiday" => DayOverride::holiday(&name),
            "workday" => {
                let like = text(d, "like").map_err(at)?;
                let like = weekday_from(&like)
                    .ok_or_else(|| at(format!("like: '{like}' is not a weekday code")))?;
                DayOverride::workday(&name, like)
            }
            other => return Err(at(format!("kind: '{other}' is not holiday or workday"))),
        }
        .map_err(|e| at(format!("name: {e}")))?;
        day.check(date, &week)
            .and_then(|()| schedule.insert(date, day))
            .map_err(|e| at(format!("date: {e}")))?;
    }
    Ok(schedule)
}

/// Encodes the time limits: `{"warning_share": 0.75, "rules": [{"kind", "appeal_type",
/// "sub_category", "grade", "area", "limit"}, …]}` in table order; unset criteria are `null`,
/// `limit` is `Limit::code` (`working_days:7`).
pub fn encode_time_limits(limits: &TimeLimits) -> String {
    let rules: Vec<Value> = limits
        .rules()
        .iter()
        .map(|r| {
            json!({
                "kind": r.kind.code(),
                "appeal_type": r.appeal_type,
                "sub_category": r.sub_category,
                "grade": r.grade,
                "area": r.area.map(ServiceArea::code),
                "limit": r.limit.code(),
            })
        })
        .collect();
    json!({ "warning_share": limits.warning_share(), "rules": rules }).to_string()
}

/// An optional text member: absent or `null` is `None`.
fn optional_text(v: &Value, key: &str) -> Result<Option<String>, String> {
    match field(v, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} is not text")),
    }
}

/// Decodes time limits written by [`encode_time_limits`], validated by `TimeLimits::new`.
pub fn decode_time_limits(raw: &str) -> Result<TimeLimits, String> {
    let v: Value =
        serde_json::from_str(raw).map_err(|e| format!("time limits are not JSON: {e}"))?;
    let share = field(&v, "warning_share")
        .and_then(Value::as_f64)
        .ok_or("warning_share is missing or not a number")?;
    let rules = list(&v, "rules")?
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |err: String| format!("rules[{i}].{err}");
            let kind = text(r, "kind").map_err(at)?;
            let kind = LimitKind::from_code(&kind)
                .ok_or_else(|| at(format!("kind: '{kind}' is not a limit kind")))?;
            let area = match optional_text(r, "area").map_err(at)? {
                None => None,
                Some(a) => Some(
                    ServiceArea::from_code(&a)
                        .ok_or_else(|| at(format!("area: '{a}' is not an area")))?,
                ),
            };
            let limit = Limit::parse_code("limit", &text(r, "limit").map_err(at)?)
                .map_err(|e| at(format!("limit: {}", e.reason)))?;
            Ok(LimitRule {
                kind,
                appeal_type: optional_text(r, "appeal_type").map_err(at)?,
                sub_category: optional_text(r, "sub_category").map_err(at)?,
                grade: optional_text(r, "grade").map_err(at)?,
                area,
                limit,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    TimeLimits::new(rules, share).map_err(|e| format!("{}: {}", e.field, e.reason))
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;
    use kefu_domain::calendar::WorkingCalendar;

    use super::*;

    #[test]
    fn the_shipped_years_round_trip() {
        let cal = WorkingCalendar::china_default();
        for year in [2025, 2026] {
            let s = cal.year_schedule(year);
            assert!(!s.days().is_empty());
            assert_eq!(decode_year(&encode_year(&s)), Ok(s));
        }
        let empty = YearSchedule::new(2031);
        assert_eq!(decode_year(&encode_year(&empty)), Ok(empty));
    }

    #[test]
    fn a_stored_year_breaking_a_rule_is_refused_naming_the_day() {
        let raw = r#"{"year": 2026, "days": [
            {"date": "2026-01-01", "kind": "holiday", "name": "元旦"},
            {"date": "2026-03-02", "kind": "workday", "like": "mon", "name": "调休"}]}"#;
        let err = decode_year(raw).err().unwrap_or_default();
        assert!(err.starts_with("days[1].date"), "{err}");
        let raw =
            r#"{"year": 2026, "days": [{"date": "2027-01-01", "kind": "holiday", "name": "x"}]}"#;
        let err = decode_year(raw).err().unwrap_or_default();
        assert!(
            err.contains("days[0].date") && err.contains("2026"),
            "{err}"
        );
        let raw =
            r#"{"year": 2026, "days": [{"date": "2026-01-01", "kind": "rest", "name": "x"}]}"#;
        assert!(decode_year(raw).is_err());
    }

    #[test]
    fn weekday_codes_cover_the_week() {
        for i in 0..7u8 {
            let day = Weekday::try_from(i).unwrap_or(Weekday::Mon);
            assert_eq!(day.num_days_from_monday(), u32::from(i));
            assert_eq!(weekday_from(weekday_code(day)), Some(day));
        }
        let d = NaiveDate::from_ymd_opt(2026, 2, 14).unwrap_or_default();
        assert_eq!(weekday_code(d.weekday()), "sat");
    }

    #[test]
    fn time_limits_round_trip_and_refuse_bad_rules() {
        let d = TimeLimits::defaults();
        assert_eq!(decode_time_limits(&encode_time_limits(&d)), Ok(d));
        let raw = r#"{"warning_share": 1.5, "rules": []}"#;
        let err = decode_time_limits(raw).err().unwrap_or_default();
        assert!(err.starts_with("warning_share"), "{err}");
        let raw =
            r#"{"warning_share": 0.8, "rules": [{"kind": "reply", "limit": "working_days:0"}]}"#;
        let err = decode_time_limits(raw).err().unwrap_or_default();
        assert!(err.starts_with("rules[0].limit"), "{err}");
    }
}
