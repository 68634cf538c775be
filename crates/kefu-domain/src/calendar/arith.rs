//! Working-time arithmetic over UTC instants: what is working time, the next working instant,
//! adding working days or working time, and the working time between two instants.
//!
//! Everything is computed on the calendar's local dates and times (a fixed offset, so local time
//! and UTC convert one to one) and converted back. Working periods are half-open, `[start, end)`.
//!
//! Decisions, each tested in `tests/`:
//! - **Outside working hours** a working-day count starts from the next working instant: an
//!   acceptance at 12:00 (lunch) counts from 14:00, at 17:30 or on a holiday from the next
//!   working day's 08:30. So 1 working day from Mon 17:29:59 is Tue 17:29:59 but from Mon 17:30:00
//!   it is Wed 08:30 — both the same amount of working time (one full day) later.
//! - **Same time of day**: N working days from a working instant at local time τ on day D ends at τ
//!   on the N-th working day after D. When that day's periods differ (a make-up day working like
//!   another weekday, or a custom short day) and τ is not working time on it, the deadline is the
//!   end of the last period before τ, or the day's first start if τ is before all its periods; it
//!   never moves to another day.
//! - **Working time** `add_working_hours(t, d)` is the *earliest* instant at which `d` of working
//!   time has passed since `t`: when the budget runs out exactly at a period end (12:00, 17:30)
//!   the result is that end, not the next period's start.
//! - **Make-up days** (调休上班) work with the periods of the weekday their override names, Monday
//!   unless the year file says `like=…`; with the default week every working day is alike, so a
//!   working-day deadline is always working time (tested against the oracle).
//! - Only loaded years know their holidays; outside them the weekly pattern applies
//!   ([`WorkingCalendar::loaded_years`] tells which years are loaded).
//! - Every scan is bounded: [`MAX_IDLE_DAYS`] days in a row without working time, or
//!   [`MAX_SCAN_DAYS`] days in all, end in an error rather than a hang.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use super::{DeadlineError, WorkingCalendar};

/// Consecutive days without working time after which the calendar is taken to be broken.
pub const MAX_IDLE_DAYS: u32 = 3 * 366;

/// Days any single computation may scan (about 50 years).
pub const MAX_SCAN_DAYS: u32 = 50 * 366;

/// A second of the day as a duration since midnight.
fn secs(s: u32) -> Duration {
    Duration::seconds(i64::from(s))
}

/// Local midnight at the start of `date`.
fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_time(NaiveTime::MIN)
}

/// Bounds a day-by-day scan: counts days, and days in a row without working time.
struct Scan {
    from: NaiveDate,
    days: u32,
    idle: u32,
}

impl Scan {
    fn new(from: NaiveDate) -> Self {
        Self {
            from,
            days: 0,
            idle: 0,
        }
    }

    /// Records a scanned day and moves to the next one, or fails when a bound is reached.
    fn next(&mut self, date: NaiveDate, worked: bool) -> Result<NaiveDate, DeadlineError> {
        self.days += 1;
        self.idle = if worked { 0 } else { self.idle + 1 };
        if self.idle > MAX_IDLE_DAYS {
            return Err(DeadlineError::NoWorkingTime {
                from: self.from,
                days: self.idle,
            });
        }
        if self.days > MAX_SCAN_DAYS {
            return Err(DeadlineError::ScanLimit {
                from: self.from,
                days: self.days,
            });
        }
        date.succ_opt().ok_or(DeadlineError::OutOfRange)
    }
}

impl WorkingCalendar {
    /// The local date and time of day (with sub-second precision) of an instant.
    fn local(&self, t: DateTime<Utc>) -> (NaiveDate, Duration) {
        let local = t.with_timezone(&self.offset()).naive_local();
        (local.date(), local - midnight(local.date()))
    }

    /// The UTC instant of a local date and time of day.
    fn instant(&self, date: NaiveDate, tod: Duration) -> Result<DateTime<Utc>, DeadlineError> {
        midnight(date)
            .checked_add_signed(tod)
            .and_then(|l| l.checked_sub_signed(Duration::seconds(self.offset_secs())))
            .map(|utc| utc.and_utc())
            .ok_or(DeadlineError::OutOfRange)
    }

    fn offset_secs(&self) -> i64 {
        i64::from(self.offset().local_minus_utc())
    }

    /// Whether `t` falls in a working period (period starts are working time, ends are not).
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let local = t.with_timezone(&self.offset()).naive_local();
        self.periods_on(local.date())
            .contains(local.num_seconds_from_midnight())
    }

    /// `t` itself if it is working time, else the start of the next working period.
    pub fn next_working_instant(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, DeadlineError> {
        let (mut date, mut tod) = self.local(t);
        let mut scan = Scan::new(date);
        loop {
            let found = self
                .periods_on(date)
                .periods()
                .iter()
                .find(|p| tod < secs(p.end()));
            if let Some(p) = found {
                if tod >= secs(p.start()) {
                    return Ok(t);
                }
                return self.instant(date, secs(p.start()));
            }
            date = scan.next(date, false)?;
            tod = Duration::zero();
        }
    }

    /// `n` working days after `t`: the same local time of day on the `n`-th working day after the
    /// day of the next working instant (see the module notes for the rules at the edges).
    /// `n = 0` gives the next working instant.
    pub fn add_working_days(
        &self,
        t: DateTime<Utc>,
        n: u32,
    ) -> Result<DateTime<Utc>, DeadlineError> {
        let start = self.next_working_instant(t)?;
        if n == 0 {
            return Ok(start);
        }
        let (mut date, tod) = self.local(start);
        let mut scan = Scan::new(date);
        let mut left = n;
        while left > 0 {
            let worked = self.periods_on(date).is_working();
            date = scan.next(date, worked)?;
            if self.periods_on(date).is_working() {
                left -= 1;
            }
        }
        let periods = self.periods_on(date).periods();
        let tod = if periods
            .iter()
            .any(|p| secs(p.start()) <= tod && tod < secs(p.end()))
        {
            tod
        } else if let Some(p) = periods.iter().rev().find(|p| secs(p.end()) <= tod) {
            secs(p.end())
        } else {
            periods.first().map_or(tod, |p| secs(p.start()))
        };
        self.instant(date, tod)
    }

    /// The earliest instant by which `d` of working time has passed since `t` (a budget used up
    /// exactly at a period end gives that end). `d = 0` gives `t`.
    pub fn add_working_hours(
        &self,
        t: DateTime<Utc>,
        d: Duration,
    ) -> Result<DateTime<Utc>, DeadlineError> {
        if d < Duration::zero() {
            return Err(DeadlineError::NegativeDuration);
        }
        if d.is_zero() {
            return Ok(t);
        }
        let (mut date, mut tod) = self.local(t);
        let mut scan = Scan::new(date);
        let mut left = d;
        loop {
            let mut worked = false;
            for p in self.periods_on(date).periods() {
                let end = secs(p.end());
                if end <= tod {
                    continue;
                }
                worked = true;
                let from = tod.max(secs(p.start()));
                let available = end - from;
                if left <= available {
                    return self.instant(date, from + left);
                }
                left -= available;
            }
            date = scan.next(date, worked)?;
            tod = Duration::zero();
        }
    }

    /// Working time in `[a, b)`; zero when `b` is not after `a`. Runs in time proportional to the
    /// overrides in between, not the days, so it cannot fail or hang.
    pub fn working_time_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        if b <= a {
            return Duration::zero();
        }
        let (da, ta) = self.local(a);
        let (db, tb) = self.local(b);
        if da == db {
            return self.within(da, ta, tb);
        }
        let Some(first_full) = da.succ_opt() else {
            return Duration::zero();
        };
        self.within(da, ta, secs(super::DAY_SECS))
            + Duration::seconds(self.full_days_secs(first_full, db))
            + self.within(db, Duration::zero(), tb)
    }

    /// Working time on `date` between two times of day.
    fn within(&self, date: NaiveDate, from: Duration, to: Duration) -> Duration {
        self.periods_on(date)
            .periods()
            .iter()
            .map(|p| {
                let (s, e) = (from.max(secs(p.start())), to.min(secs(p.end())));
                if e > s { e - s } else { Duration::zero() }
            })
            .fold(Duration::zero(), |acc, x| acc + x)
    }

    /// Working seconds of the whole days `from..to` (to exclusive): whole weeks by the pattern,
    /// the remainder day by day, then each override in the range corrected.
    fn full_days_secs(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let days = (to - from).num_days();
        if days <= 0 {
            return 0;
        }
        let week = self.week();
        let week_secs: i64 = from
            .iter_days()
            .take(7)
            .map(|d| i64::from(week.day(d.weekday()).total_secs()))
            .sum();
        let remainder: i64 = from
            .iter_days()
            .take((days % 7) as usize)
            .map(|d| i64::from(week.day(d.weekday()).total_secs()))
            .sum();
        let corrections: i64 = self
            .overrides()
            .range(from..to)
            .map(|(d, _)| {
                i64::from(self.periods_on(*d).total_secs())
                    - i64::from(week.day(d.weekday()).total_secs())
            })
            .sum();
        days / 7 * week_secs + remainder + corrections
    }

    /// `t + d` on the clock (24 × 7), for limits such as fault repair that ignore working hours.
    pub fn add_clock(&self, t: DateTime<Utc>, d: Duration) -> Result<DateTime<Utc>, DeadlineError> {
        if d < Duration::zero() {
            return Err(DeadlineError::NegativeDuration);
        }
        t.checked_add_signed(d).ok_or(DeadlineError::OutOfRange)
    }
}
