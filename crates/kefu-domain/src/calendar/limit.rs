//! A time limit (working days, working hours or clock time), the deadline it gives from a start,
//! how much of it has elapsed (for the 75 % warning), and suspensions (挂起) that stop its clock.

use chrono::{DateTime, Duration, Utc};

use super::{DeadlineError, WorkingCalendar};
use crate::FieldError;

/// Most suspensions one order's deadline is computed with.
pub const MAX_SUSPENSIONS: usize = 64;

/// How long something may take, and on which clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// N working days: the same time of day on the N-th next working day.
    WorkingDays(u32),
    /// N hours of working time.
    WorkingHours(u32),
    /// Clock time, 24 × 7 (fault repair, reconnection).
    Clock(Duration),
}

impl Limit {
    /// The deadline of this limit for something started at `start`.
    pub fn deadline(
        self,
        calendar: &WorkingCalendar,
        start: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, DeadlineError> {
        match self {
            Limit::WorkingDays(n) => calendar.add_working_days(start, n),
            Limit::WorkingHours(h) => {
                calendar.add_working_hours(start, Duration::hours(i64::from(h)))
            }
            Limit::Clock(d) => calendar.add_clock(start, d),
        }
    }

    /// Whether the limit counts working time (as opposed to the clock).
    pub fn is_working_time(self) -> bool {
        !matches!(self, Limit::Clock(_))
    }

    /// The time this limit counts in `[a, b)`: working time, or clock time.
    pub fn measure(
        self,
        calendar: &WorkingCalendar,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) -> Duration {
        if self.is_working_time() {
            calendar.working_time_between(a, b)
        } else if b > a {
            b - a
        } else {
            Duration::zero()
        }
    }

    /// Moves on by `d` of the time this limit counts.
    pub(super) fn advance(
        self,
        calendar: &WorkingCalendar,
        t: DateTime<Utc>,
        d: Duration,
    ) -> Result<DateTime<Utc>, DeadlineError> {
        if self.is_working_time() {
            calendar.add_working_hours(t, d)
        } else {
            calendar.add_clock(t, d)
        }
    }

    /// The share of the limit used at `now`: counted time from `start` to `now` over counted time
    /// from `start` to `deadline`. 0 before the start, 1 at the deadline, above 1 when overdue; a
    /// zero-length limit is 0 before its deadline and 1 from it.
    pub fn elapsed_share(
        self,
        calendar: &WorkingCalendar,
        start: DateTime<Utc>,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> f64 {
        let total = self.measure(calendar, start, deadline);
        let used = self.measure(calendar, start, now);
        share(used, total, now >= deadline)
    }

    /// The deadline when the clock stops during `suspensions` (挂起): the plain deadline extended
    /// by the counted time (working time, or clock time for clock limits) inside each suspension.
    ///
    /// Suspended time counts only while the limit is still running: a suspension that starts at or
    /// after the deadline as extended so far changes nothing (an overdue order stays overdue).
    /// `None` when a suspension still open (no `until`) began before the deadline: the deadline is
    /// not known until it ends. Suspensions may overlap and come in any order. A suspension with no
    /// working time in it never moves the deadline, not even to an equivalent instant.
    pub fn deadline_with_suspensions(
        self,
        calendar: &WorkingCalendar,
        start: DateTime<Utc>,
        suspensions: &[Suspension],
    ) -> Result<Option<DateTime<Utc>>, DeadlineError> {
        let merged = normalise(start, suspensions)?;
        let mut deadline = self.deadline(calendar, start)?;
        // Merged suspensions are sorted and disjoint, and each extension only moves the deadline
        // later, so one pass in order is enough.
        for s in merged {
            if s.from >= deadline {
                break;
            }
            let Some(until) = s.until else {
                return Ok(None);
            };
            let stopped = self.measure(calendar, s.from, until);
            if stopped > Duration::zero() {
                deadline = self.advance(calendar, deadline, stopped)?;
            }
        }
        Ok(Some(deadline))
    }

    /// Like [`Limit::elapsed_share`], with suspended time taken out of the time used.
    pub fn elapsed_share_with_suspensions(
        self,
        calendar: &WorkingCalendar,
        start: DateTime<Utc>,
        suspensions: &[Suspension],
        now: DateTime<Utc>,
    ) -> Result<f64, DeadlineError> {
        let base = self.deadline(calendar, start)?;
        let total = self.measure(calendar, start, base);
        let deadline = self.deadline_with_suspensions(calendar, start, suspensions)?;
        let mut used = self.measure(calendar, start, now);
        // Only suspensions that began while the limit was running stopped it (as in
        // `deadline_with_suspensions`).
        for s in normalise(start, suspensions)? {
            if deadline.is_some_and(|d| s.from >= d) {
                continue;
            }
            let until = s.until.map_or(now, |u| u.min(now));
            used -= self.measure(calendar, s.from, until);
        }
        let done = deadline.is_some_and(|d| now >= d);
        Ok(share(used, total, done))
    }

    /// The stable text form stored with a limit rule: `working_days:7`, `working_hours:2`,
    /// `clock_minutes:45` (clock limits are stored in whole minutes; seconds are dropped).
    pub fn code(self) -> String {
        match self {
            Limit::WorkingDays(n) => format!("working_days:{n}"),
            Limit::WorkingHours(n) => format!("working_hours:{n}"),
            Limit::Clock(d) => format!("clock_minutes:{}", d.num_minutes()),
        }
    }

    /// Parses [`Limit::code`]; clock limits are whole minutes, at most a year.
    pub fn parse_code(field: &str, code: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                format!(
                    "'{code}' is not a limit; write working_days:N, working_hours:N or clock_minutes:N"
                ),
            )
        };
        let (unit, n) = code.split_once(':').ok_or_else(bad)?;
        let n: u32 = n.parse().map_err(|_| bad())?;
        match unit {
            "working_days" => Ok(Limit::WorkingDays(n)),
            "working_hours" => Ok(Limit::WorkingHours(n)),
            "clock_minutes" if n <= 366 * 24 * 60 => {
                Ok(Limit::Clock(Duration::minutes(i64::from(n))))
            }
            _ => Err(bad()),
        }
    }

    /// The zh-CN wording shown to staff: 1个工作日, 2个工作小时, 45分钟.
    pub fn label_zh(self) -> String {
        match self {
            Limit::WorkingDays(n) => format!("{n}个工作日"),
            Limit::WorkingHours(n) => format!("{n}个工作小时"),
            Limit::Clock(d) if d.num_minutes() % 60 == 0 => format!("{}小时", d.num_hours()),
            Limit::Clock(d) => format!("{}分钟", d.num_minutes()),
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::WorkingDays(1) => f.write_str("1 working day"),
            Limit::WorkingDays(n) => write!(f, "{n} working days"),
            Limit::WorkingHours(1) => f.write_str("1 working hour"),
            Limit::WorkingHours(n) => write!(f, "{n} working hours"),
            Limit::Clock(d) => write!(f, "{} min (clock)", d.num_minutes()),
        }
    }
}

/// A stretch of time during which an order's limit is stopped (挂起): closed with `until`, or
/// still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Suspension {
    /// When the order was suspended.
    pub from: DateTime<Utc>,
    /// When it resumed; `None` while still suspended.
    pub until: Option<DateTime<Utc>>,
}

/// Used over total as a fraction, with the zero-length limit handled.
fn share(used: Duration, total: Duration, done: bool) -> f64 {
    if total <= Duration::zero() {
        return if done { 1.0 } else { 0.0 };
    }
    used.max(Duration::zero()).as_seconds_f64() / total.as_seconds_f64()
}

/// Checks suspensions, clips them to start at or after `start`, sorts and merges overlapping
/// ones; an open suspension swallows every later one.
pub(super) fn normalise(
    start: DateTime<Utc>,
    suspensions: &[Suspension],
) -> Result<Vec<Suspension>, DeadlineError> {
    if suspensions.len() > MAX_SUSPENSIONS {
        return Err(DeadlineError::TooManySuspensions {
            count: suspensions.len(),
            max: MAX_SUSPENSIONS,
        });
    }
    let mut clipped = Vec::with_capacity(suspensions.len());
    for (index, s) in suspensions.iter().enumerate() {
        if s.until.is_some_and(|u| u < s.from) {
            return Err(DeadlineError::BackwardsSuspension { index });
        }
        let from = s.from.max(start);
        let until = s.until.map(|u| u.max(start));
        if until.is_none_or(|u| u > from) {
            clipped.push(Suspension { from, until });
        }
    }
    clipped.sort_by_key(|s| s.from);
    let mut merged: Vec<Suspension> = Vec::with_capacity(clipped.len());
    for s in clipped {
        match merged.last_mut() {
            Some(last) if last.until.is_none_or(|u| s.from <= u) => {
                last.until = match (last.until, s.until) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push(s),
        }
    }
    Ok(merged)
}
