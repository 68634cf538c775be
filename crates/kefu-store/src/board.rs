//! The supervisors' board (监控, issue 8 item 6): open orders, warnings and overdue per unit of
//! the viewer's subtree, major and supervised orders, and today's intake by channel. Stores
//! answer two grouped queries ([`BoardStore`]); the roll-up to the viewer's own unit and each
//! unit directly below it is written once here ([`roll_up`]).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::Channel;

use crate::StoreError;

/// Counts of the open (not archived) orders whose home unit is one unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenCounts {
    /// Not archived.
    pub open: u64,
    /// A running deadline's warning has passed, none of its deadlines has.
    pub warning: u64,
    /// A running deadline has passed.
    pub overdue: u64,
    /// Major appeals.
    pub major: u64,
    /// Watched by a supervisor.
    pub supervised: u64,
}

impl OpenCounts {
    fn add(&mut self, o: OpenCounts) {
        self.open += o.open;
        self.warning += o.warning;
        self.overdue += o.overdue;
        self.major += o.major;
        self.supervised += o.supervised;
    }
}

/// One grouped row: the home unit's path and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    /// Home unit path as stored.
    pub path: String,
    /// Its counts.
    pub counts: OpenCounts,
}

/// The board's figures for one unit and the units below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitCounts {
    /// The unit (the viewer's own, or one directly below it).
    pub unit: OrgPath,
    /// True for the viewer's own unit, counting only orders it holds itself.
    pub own: bool,
    /// The counts.
    pub counts: OpenCounts,
}

/// Sums `rows` to `scope` itself (orders it holds) and to each of `children` (its subtree);
/// children without orders are kept with zeros, in the order given.
pub fn roll_up(scope: &OrgPath, children: &[OrgPath], rows: &[UnitRow]) -> Vec<UnitCounts> {
    let mut own = OpenCounts::default();
    let mut per: BTreeMap<usize, OpenCounts> = BTreeMap::new();
    for r in rows {
        let Some(path) = OrgPath::from_stored(&r.path) else {
            continue;
        };
        if &path == scope {
            own.add(r.counts);
        } else if let Some(i) = children.iter().position(|c| c.contains(&path)) {
            per.entry(i).or_default().add(r.counts);
        }
    }
    let mut out = vec![UnitCounts {
        unit: scope.clone(),
        own: true,
        counts: own,
    }];
    out.extend(children.iter().enumerate().map(|(i, c)| UnitCounts {
        unit: c.clone(),
        own: false,
        counts: per.get(&i).copied().unwrap_or_default(),
    }));
    out
}

/// Grouped counts for the board.
#[async_trait]
pub trait BoardStore: Send + Sync {
    /// Open orders per home unit in `scope`, their warnings and overdue as of `now`.
    async fn open_counts(
        &self,
        scope: &OrgPath,
        now: DateTime<Utc>,
    ) -> Result<Vec<UnitRow>, StoreError>;

    /// Orders taken since `since` whose home unit lies in `scope`, per channel.
    async fn intake_by_channel(
        &self,
        scope: &OrgPath,
        since: DateTime<Utc>,
    ) -> Result<Vec<(Channel, u64)>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> OrgPath {
        OrgPath::from_stored(s).expect("path")
    }

    #[test]
    fn counts_roll_up_to_the_own_unit_and_each_child_subtree() {
        let c = |open, overdue| OpenCounts {
            open,
            overdue,
            ..OpenCounts::default()
        };
        let rows = vec![
            UnitRow {
                path: "/1/2/".into(),
                counts: c(1, 0),
            },
            UnitRow {
                path: "/1/2/3/".into(),
                counts: c(2, 1),
            },
            UnitRow {
                path: "/1/2/3/4/".into(),
                counts: c(5, 2),
            },
            UnitRow {
                path: "/1/2/9/".into(),
                counts: c(7, 0),
            },
            UnitRow {
                path: "garbage".into(),
                counts: c(100, 100),
            },
        ];
        let out = roll_up(&p("/1/2/"), &[p("/1/2/3/"), p("/1/2/5/")], &rows);
        assert_eq!(out.len(), 3);
        assert!(out[0].own);
        assert_eq!(out[0].counts, c(1, 0));
        assert_eq!(out[1].counts, c(7, 3));
        assert_eq!(out[2].counts, OpenCounts::default());
    }
}
