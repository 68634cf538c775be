//! The instant at which a share of a limit is used up, suspensions taken out: where the 75 %
//! warning fires, and where an overdue order goes one level up (past 100 %).

use chrono::{DateTime, Duration, Utc};

use super::limit::normalise;
use super::{DeadlineError, Limit, Suspension, WorkingCalendar};

impl Limit {
    /// The first instant at which `share` of this limit's counted time (working or clock time,
    /// measured from `start` to the plain deadline) has been used, counting no time inside
    /// `suspensions`. `share` 1 is the plain deadline's counted time, so with no suspensions the
    /// result for working-time limits is the earliest instant with that much working time used.
    /// `None` when the instant falls after a suspension that is still open.
    pub fn instant_at_share(
        self,
        calendar: &WorkingCalendar,
        start: DateTime<Utc>,
        suspensions: &[Suspension],
        share: f64,
    ) -> Result<Option<DateTime<Utc>>, DeadlineError> {
        if !share.is_finite() || share < 0.0 {
            return Err(DeadlineError::NegativeDuration);
        }
        let plain = self.deadline(calendar, start)?;
        let total = self.measure(calendar, start, plain);
        let millis = (total.num_milliseconds() as f64 * share).round();
        if millis > i64::MAX as f64 {
            return Err(DeadlineError::OutOfRange);
        }
        let mut budget = Duration::milliseconds(millis as i64);
        let mut t = start;
        for s in normalise(start, suspensions)? {
            let reached = self.advance(calendar, t, budget)?;
            if s.from >= reached {
                break;
            }
            budget = (budget - self.measure(calendar, t, s.from)).max(Duration::zero());
            let Some(until) = s.until else {
                return Ok(None);
            };
            t = until;
        }
        self.advance(calendar, t, budget).map(Some)
    }
}
