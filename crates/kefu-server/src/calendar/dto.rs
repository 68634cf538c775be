//! The JSON shapes of the calendar and time-limit endpoints, and their parsing into domain
//! values naming every refused field as sent (`days[3].like`, `rules[2].limit`).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc, Weekday};
use kefu_domain::FieldError;
use kefu_domain::calendar::{
    CalendarError, DayKind, DayOverride, Limit, LimitKind, LimitRule, ServiceArea, TimeLimits,
    WeekPattern, YearSchedule,
};
use kefu_store::calendar_codec::{day_kind_code, weekday_code, weekday_from};
use kefu_store::{Saved, Versioned};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One stretch of working time, local to the centre.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodDto {
    /// Start, `HH:MM`.
    pub start: String,
    /// End (exclusive), `HH:MM`; `24:00` is the end of the day.
    pub end: String,
}

/// The working periods of one weekday.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WeekdayDto {
    /// `mon` … `sun`.
    pub weekday: String,
    /// Empty on a day off.
    pub periods: Vec<PeriodDto>,
}

/// A public holiday or a make-up working day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayDto {
    /// The local date, `YYYY-MM-DD`, in the calendar's year.
    pub date: String,
    /// `holiday` (休息, no working time) or `workday` (调休上班: a day off that works).
    pub kind: String,
    /// The name shown (春节, 春节调休), 1–40 characters.
    pub name: String,
    /// `workday` only: whose working hours it uses, `mon` … `sun` (default `mon`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like: Option<String>,
}

/// One calendar year as read: the weekly hours and the year's holidays and make-up days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarYearDto {
    /// The year.
    pub year: i32,
    /// 0 for the shipped default, then 1, 2, … per save; send it back with a change.
    pub version: i64,
    /// `default` (shipped with kefu, or an empty year) or `stored` (saved by an administrator).
    pub source: String,
    /// Who saved it (`staff:12`); absent for the default.
    pub saved_by: Option<String>,
    /// The staff id of who saved it, when a person did.
    pub saved_by_id: Option<i64>,
    /// When it was saved; absent for the default.
    pub saved_at: Option<DateTime<Utc>>,
    /// The centre's offset from UTC that dates and hours are local to, e.g. `+08:00`.
    pub utc_offset: String,
    /// The weekly working hours, Monday first (not editable yet).
    pub week: Vec<WeekdayDto>,
    /// The year's holidays and make-up working days, by date.
    pub days: Vec<CalendarDayDto>,
}

/// A whole calendar year, based on the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveCalendarYear {
    /// The version this change is based on (the `version` last read).
    pub version: i64,
    /// Every holiday and make-up working day of the year (dates not listed follow the week).
    pub days: Vec<CalendarDayDto>,
}

/// One rule of the time-limit table, as read and as submitted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitRuleDto {
    /// What is timed: contact, return, reply, visit, arrive, restore, reconnect.
    pub kind: String,
    /// Appeal type code (`complaint`); absent matches every type.
    #[serde(default)]
    pub appeal_type: Option<String>,
    /// Sub-category code (`complaint.metering`); absent matches every sub-category.
    #[serde(default)]
    pub sub_category: Option<String>,
    /// Customer grade code; absent matches every grade.
    #[serde(default)]
    pub grade: Option<String>,
    /// urban, rural or remote; absent matches every area.
    #[serde(default)]
    pub area: Option<String>,
    /// `working_days:N`, `working_hours:N` or `clock_minutes:N`.
    pub limit: String,
}

/// A version of the time-limit table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeLimitsDto {
    /// 0 for the built-in defaults, then 1, 2, … per save; send it back with a change.
    pub version: i64,
    /// `default` or `stored`.
    pub source: String,
    /// Who saved it (`staff:12`); absent for the defaults.
    pub saved_by: Option<String>,
    /// The staff id of who saved it, when a person did.
    pub saved_by_id: Option<i64>,
    /// When it was saved; absent for the defaults.
    pub saved_at: Option<DateTime<Utc>>,
    /// The share of a limit at which the warning fires (0.75 = 75 %).
    pub warning_share: f64,
    /// The rules; the most specific matching one applies.
    pub rules: Vec<LimitRuleDto>,
}

/// A whole new time-limit table, based on the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveTimeLimits {
    /// The version this change is based on (the `version` last read).
    pub version: i64,
    /// Strictly between 0 and 1.
    pub warning_share: f64,
    /// At most 1000 rules, no two with the same kind and criteria.
    pub rules: Vec<LimitRuleDto>,
}

fn saved_parts(saved: Option<&Saved>) -> (Option<String>, Option<i64>, Option<DateTime<Utc>>) {
    match saved {
        Some(s) => (Some(s.actor.clone()), s.staff_id.map(|i| i.0), Some(s.at)),
        None => (None, None, None),
    }
}

fn source(version: i64) -> String {
    if version == 0 { "default" } else { "stored" }.to_owned()
}

fn hhmm(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs / 60 % 60)
}

/// The week as sent: seven days, Monday first.
pub fn week_dto(week: &WeekPattern) -> Vec<WeekdayDto> {
    (0..7u8)
        .filter_map(|i| Weekday::try_from(i).ok())
        .map(|day| WeekdayDto {
            weekday: weekday_code(day).to_owned(),
            periods: week
                .day(day)
                .periods()
                .iter()
                .map(|p| PeriodDto {
                    start: hhmm(p.start()),
                    end: hhmm(p.end()),
                })
                .collect(),
        })
        .collect()
}

/// A calendar year as sent.
pub fn year_dto(
    v: &Versioned<YearSchedule>,
    week: &WeekPattern,
    offset: FixedOffset,
) -> CalendarYearDto {
    let (saved_by, saved_by_id, saved_at) = saved_parts(v.saved.as_ref());
    CalendarYearDto {
        year: v.value.year(),
        version: v.version,
        source: source(v.version),
        saved_by,
        saved_by_id,
        saved_at,
        utc_offset: offset.to_string(),
        week: week_dto(week),
        days: v
            .value
            .days()
            .iter()
            .map(|(date, day)| CalendarDayDto {
                date: date.to_string(),
                kind: day_kind_code(day.kind).to_owned(),
                name: day.name.as_str().to_owned(),
                like: match day.kind {
                    DayKind::Workday { like } => Some(weekday_code(like).to_owned()),
                    DayKind::Holiday => None,
                },
            })
            .collect(),
    }
}

/// The time limits as sent.
pub fn time_limits_dto(v: &Versioned<TimeLimits>) -> TimeLimitsDto {
    let (saved_by, saved_by_id, saved_at) = saved_parts(v.saved.as_ref());
    TimeLimitsDto {
        version: v.version,
        source: source(v.version),
        saved_by,
        saved_by_id,
        saved_at,
        warning_share: v.value.warning_share(),
        rules: v
            .value
            .rules()
            .iter()
            .map(|r| LimitRuleDto {
                kind: r.kind.code().to_owned(),
                appeal_type: r.appeal_type.clone(),
                sub_category: r.sub_category.clone(),
                grade: r.grade.clone(),
                area: r.area.map(|a| a.code().to_owned()),
                limit: r.limit.code(),
            })
            .collect(),
    }
}

/// Parses one submitted day; the error names the field of `days[i]` at fault.
fn parse_day(
    i: usize,
    d: &CalendarDayDto,
    year: i32,
    week: &WeekPattern,
) -> Result<(NaiveDate, DayOverride), FieldError> {
    let at = |f: &str| format!("days[{i}].{f}");
    let raw = d.date.trim();
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
        .ok_or_else(|| FieldError::new(at("date"), format!("'{raw}' is not a date YYYY-MM-DD")))?;
    if chrono::Datelike::year(&date) != year {
        return Err(FieldError::new(
            at("date"),
            format!("{date} is not in the year {year} being saved"),
        ));
    }
    let name = d.name.trim();
    let day = match (d.kind.trim(), d.like.as_deref().map(str::trim)) {
        ("holiday", None) => DayOverride::holiday(name),
        ("holiday", Some(_)) => {
            return Err(FieldError::new(
                at("like"),
                "only a workday (make-up working day) takes `like`; leave it out for a holiday",
            ));
        }
        ("workday", like) => {
            let code = like.unwrap_or("mon");
            let like = weekday_from(code).ok_or_else(|| {
                FieldError::new(
                    at("like"),
                    format!("'{code}' is not a weekday; use mon, tue, wed, thu, fri, sat or sun"),
                )
            })?;
            DayOverride::workday(name, like)
        }
        (other, _) => {
            return Err(FieldError::new(
                at("kind"),
                format!("'{other}' is not a day kind; use holiday or workday"),
            ));
        }
    }
    .map_err(|e| FieldError::new(at("name"), e.to_string()))?;
    day.check(date, week).map_err(|e| {
        let field = match e {
            CalendarError::EmptyPattern { .. } => "like",
            _ => "date",
        };
        FieldError::new(at(field), e.to_string())
    })?;
    Ok((date, day))
}

/// Parses a submitted year against `week`, naming every bad field as sent.
pub fn parse_year(
    year: i32,
    days: &[CalendarDayDto],
    week: &WeekPattern,
) -> Result<YearSchedule, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut schedule = YearSchedule::new(year);
    for (i, d) in days.iter().enumerate() {
        match parse_day(i, d, year, week) {
            Ok((date, day)) => {
                if let Err(e) = schedule.insert(date, day) {
                    errors.push(FieldError::new(format!("days[{i}].date"), e.to_string()));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(schedule)
    } else {
        Err(errors)
    }
}

/// An optional code: absent stays absent, text is trimmed (an empty one is refused by the
/// domain, naming the field).
fn optional(raw: &Option<String>) -> Option<String> {
    raw.as_deref().map(|s| s.trim().to_owned())
}

/// Parses a submitted time-limit table, naming every bad field as sent.
pub fn parse_time_limits(body: &SaveTimeLimits) -> Result<TimeLimits, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut rules = Vec::with_capacity(body.rules.len());
    for (i, r) in body.rules.iter().enumerate() {
        let at = |f: &str| format!("rules[{i}].{f}");
        let kind = LimitKind::parse_code(&at("kind"), r.kind.trim())
            .map_err(|e| errors.push(e))
            .ok();
        let area = match r.area.as_deref().map(str::trim) {
            None => Some(None),
            Some(a) => ServiceArea::parse_code(&at("area"), a)
                .map(Some)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        let limit = Limit::parse_code(&at("limit"), r.limit.trim())
            .map_err(|e| errors.push(e))
            .ok();
        if let (Some(kind), Some(area), Some(limit)) = (kind, area, limit) {
            rules.push(LimitRule {
                kind,
                appeal_type: optional(&r.appeal_type),
                sub_category: optional(&r.sub_category),
                grade: optional(&r.grade),
                area,
                limit,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Every rule parsed, so the domain's `rules[i]` are the positions as sent.
    TimeLimits::new(rules, body.warning_share).map_err(|e| vec![e])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, kind: &str, like: Option<&str>) -> CalendarDayDto {
        CalendarDayDto {
            date: date.into(),
            kind: kind.into(),
            name: "节日".into(),
            like: like.map(str::to_owned),
        }
    }

    #[test]
    fn every_bad_day_is_named() {
        let week = WeekPattern::china_default();
        let days = [
            day("2026-05-06", "holiday", None),
            day("2027-01-01", "holiday", None),
            day("2026-03-02", "workday", None),
            day("2026-03-07", "workday", Some("sun")),
            day("2026-03-08", "rest", None),
            day("2026-05-06", "holiday", None),
            day("2026-03-14", "holiday", Some("mon")),
        ];
        let errors = parse_year(2026, &days, &week).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "days[1].date",
                "days[2].date",
                "days[3].like",
                "days[4].kind",
                "days[5].date",
                "days[6].like"
            ]
        );
        let ok = parse_year(2026, &days[..1], &week);
        assert_eq!(ok.map(|s| s.days().len()), Ok(1));
    }

    #[test]
    fn bad_rules_name_their_field() {
        let rule = |kind: &str, limit: &str| LimitRuleDto {
            kind: kind.into(),
            appeal_type: Some("complaint".into()),
            sub_category: None,
            grade: None,
            area: None,
            limit: limit.into(),
        };
        let body = SaveTimeLimits {
            version: 0,
            warning_share: 0.75,
            rules: vec![rule("reply", "working_days:7"), rule("answer", "soon")],
        };
        let errors = parse_time_limits(&body).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["rules[1].kind", "rules[1].limit"]);
        let body = SaveTimeLimits {
            version: 0,
            warning_share: 0.75,
            rules: vec![rule("reply", "working_days:0")],
        };
        let errors = parse_time_limits(&body).err().unwrap_or_default();
        assert_eq!(errors[0].field, "rules[0].limit");
        let defaults = time_limits_dto(&Versioned {
            version: 0,
            value: TimeLimits::defaults(),
            saved: None,
        });
        let body = SaveTimeLimits {
            version: 0,
            warning_share: defaults.warning_share,
            rules: defaults.rules,
        };
        assert_eq!(parse_time_limits(&body), Ok(TimeLimits::defaults()));
    }
}
