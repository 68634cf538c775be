//! Time limits as data: which limit applies to what is being timed, by appeal type, sub-category,
//! customer grade and area; the most specific matching rule wins (domain.md "Time limits").
//!
//! Appeal types and sub-categories are plain text codes so that this table does not depend on the
//! work-order catalogue; [`DEFAULT_APPEAL_TYPE_CODES`] lists the codes the defaults assume.

use chrono::Duration;

use super::Limit;
use crate::FieldError;
use crate::code_enum;
use crate::customer::Grid;

/// Most rules in one table.
pub const MAX_RULES: usize = 1_000;
/// Longest appeal type, sub-category or grade code, in characters.
pub const MAX_CODE_CHARS: usize = 64;
/// Largest working-day limit a rule may set.
pub const MAX_LIMIT_WORKING_DAYS: u32 = 365;
/// Largest working-hour limit a rule may set.
pub const MAX_LIMIT_WORKING_HOURS: u32 = 2_000;
/// Largest clock limit a rule may set, in days.
pub const MAX_LIMIT_CLOCK_DAYS: i64 = 366;
/// The *default* share of a limit at which the warning fires.
pub const DEFAULT_WARNING_SHARE: f64 = 0.75;

/// The appeal type codes [`TimeLimits::defaults`] uses (those of `workorder::AppealType`; a test
/// checks the defaults' types and sub-categories against the default catalogue).
pub const DEFAULT_APPEAL_TYPE_CODES: &[&str] = &[
    "complaint",
    "report",
    "opinion",
    "suggestion",
    "consultation",
    "service_request",
    "fault_repair",
];

code_enum! {
    /// What a limit times: each is a separate deadline stored on the order.
    pub enum LimitKind {
        /// Contact the customer after acceptance (complaints: 1 working day).
        Contact = ("contact", "联系客户", "Contact the customer"),
        /// Return an order that is not ours, after receipt.
        Return = ("return", "回退", "Return"),
        /// Reply with the handling result.
        Reply = ("reply", "回复", "Reply"),
        /// Follow-up visit after the reply is reviewed.
        Visit = ("visit", "回访", "Follow-up visit"),
        /// Fault repair: arrive on site.
        Arrive = ("arrive", "到达现场", "Arrive on site"),
        /// Fault repair: restore supply after arrival.
        Restore = ("restore", "恢复送电", "Restore supply"),
        /// Reconnect after arrears are paid.
        Reconnect = ("reconnect", "复电", "Reconnect after payment"),
    }
}

code_enum! {
    /// Where the customer is, for fault-repair limits; remote areas are a kind of rural area.
    pub enum ServiceArea {
        /// 城区
        Urban = ("urban", "城区", "Urban"),
        /// 农村
        Rural = ("rural", "农村", "Rural"),
        /// 特殊边远地区: rural rules apply unless a remote rule exists.
        Remote = ("remote", "特殊边远地区", "Remote area"),
    }
}

impl From<Grid> for ServiceArea {
    fn from(grid: Grid) -> Self {
        match grid {
            Grid::Urban => ServiceArea::Urban,
            Grid::Rural => ServiceArea::Rural,
        }
    }
}

/// One row of the table: a limit for `kind`, for orders matching every criterion that is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRule {
    /// What is being timed.
    pub kind: LimitKind,
    /// Appeal type code (`complaint`); `None` matches every type.
    pub appeal_type: Option<String>,
    /// Sub-category code as in the work-order catalogue (`complaint.metering`); `None` matches
    /// every sub-category.
    pub sub_category: Option<String>,
    /// Customer grade code (`gold`, `1a`); `None` matches every grade.
    pub grade: Option<String>,
    /// Area; `None` matches every area.
    pub area: Option<ServiceArea>,
    /// The limit.
    pub limit: Limit,
}

impl LimitRule {
    /// A rule for every order of `kind` (narrow it with the `for_*` methods).
    pub fn new(kind: LimitKind, limit: Limit) -> Self {
        Self {
            kind,
            appeal_type: None,
            sub_category: None,
            grade: None,
            area: None,
            limit,
        }
    }

    /// Narrowed to an appeal type.
    pub fn for_type(mut self, code: &str) -> Self {
        self.appeal_type = Some(code.to_owned());
        self
    }

    /// Narrowed to a sub-category.
    pub fn for_sub_category(mut self, code: &str) -> Self {
        self.sub_category = Some(code.to_owned());
        self
    }

    /// Narrowed to a customer grade.
    pub fn for_grade(mut self, code: &str) -> Self {
        self.grade = Some(code.to_owned());
        self
    }

    /// Narrowed to an area.
    pub fn for_area(mut self, area: ServiceArea) -> Self {
        self.area = Some(area);
        self
    }

    /// How specifically the rule matches `kind` and `query`, or `None` if it does not. Each set
    /// criterion has its own weight, type over sub-category over grade over area, so two matching
    /// rules score the same only when their criteria are the same (refused by [`TimeLimits::new`]).
    fn score(&self, kind: LimitKind, query: &LimitQuery<'_>) -> Option<u32> {
        fn text(rule: Option<&str>, query: Option<&str>, weight: u32) -> Option<u32> {
            match rule {
                None => Some(0),
                Some(r) if Some(r) == query => Some(weight),
                Some(_) => None,
            }
        }
        if self.kind != kind {
            return None;
        }
        let area = match (self.area, query.area) {
            (None, _) => 0,
            (Some(r), Some(q)) if r == q => 2,
            (Some(ServiceArea::Rural), Some(ServiceArea::Remote)) => 1,
            _ => return None,
        };
        Some(
            text(self.appeal_type.as_deref(), Some(query.appeal_type), 16)?
                + text(self.sub_category.as_deref(), query.sub_category, 8)?
                + text(self.grade.as_deref(), query.grade, 4)?
                + area,
        )
    }

    fn criteria(&self) -> impl PartialEq + '_ {
        (
            self.kind,
            self.appeal_type.as_deref(),
            self.sub_category.as_deref(),
            self.grade.as_deref(),
            self.area,
        )
    }
}

/// What is known about an order when its limit is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitQuery<'a> {
    /// Appeal type code.
    pub appeal_type: &'a str,
    /// Sub-category code, if classified.
    pub sub_category: Option<&'a str>,
    /// Customer grade code, if known.
    pub grade: Option<&'a str>,
    /// Area, if known.
    pub area: Option<ServiceArea>,
}

impl<'a> LimitQuery<'a> {
    /// A query knowing only the appeal type.
    pub fn appeal_type(code: &'a str) -> Self {
        Self {
            appeal_type: code,
            sub_category: None,
            grade: None,
            area: None,
        }
    }
}

/// The table of limits and the warning share, checked on construction.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeLimits {
    rules: Vec<LimitRule>,
    warning_share: f64,
}

impl TimeLimits {
    /// Checks a table: codes 1–64 characters, limits above zero and within the maxima, no two
    /// rules with the same kind and criteria, warning share strictly between 0 and 1.
    pub fn new(rules: Vec<LimitRule>, warning_share: f64) -> Result<Self, FieldError> {
        if !(warning_share > 0.0 && warning_share < 1.0) {
            return Err(FieldError::new(
                "warning_share",
                "must be strictly between 0 and 1, e.g. 0.75 for a warning at 75 % of the limit",
            ));
        }
        if rules.len() > MAX_RULES {
            return Err(FieldError::new(
                "rules",
                format!("at most {MAX_RULES} rules are allowed"),
            ));
        }
        for (i, rule) in rules.iter().enumerate() {
            check_rule(rule).map_err(|e| e.under(&format!("rules[{i}]")))?;
            if let Some(j) = rules[..i]
                .iter()
                .position(|r| r.criteria() == rule.criteria())
            {
                return Err(FieldError::new(
                    format!("rules[{i}]"),
                    format!("has the same kind and criteria as rules[{j}]; keep one of them"),
                ));
            }
        }
        Ok(Self {
            rules,
            warning_share,
        })
    }

    /// The *defaults* of domain.md "Time limits", warning at 75 %.
    pub fn defaults() -> Self {
        use LimitKind::*;
        use ServiceArea::*;
        let wd = Limit::WorkingDays;
        let min = |m| Limit::Clock(Duration::minutes(m));
        let rules = vec![
            LimitRule::new(Contact, wd(1)).for_type("complaint"),
            LimitRule::new(Reply, wd(7)).for_type("complaint"),
            LimitRule::new(Return, Limit::WorkingHours(2)),
            LimitRule::new(Reply, wd(10)).for_type("report"),
            LimitRule::new(Reply, wd(10)).for_type("opinion"),
            LimitRule::new(Reply, wd(10)).for_type("suggestion"),
            LimitRule::new(Reply, wd(3)).for_type("consultation"),
            // 十项承诺 2023: meter calibration results and meter-data anomalies in 5 working days.
            LimitRule::new(Reply, wd(5))
                .for_type("service_request")
                .for_sub_category("service_request.meter_check"),
            LimitRule::new(Reply, wd(5))
                .for_type("complaint")
                .for_sub_category("complaint.metering"),
            LimitRule::new(Arrive, min(45))
                .for_type("fault_repair")
                .for_area(Urban),
            LimitRule::new(Arrive, min(90))
                .for_type("fault_repair")
                .for_area(Rural),
            LimitRule::new(Arrive, min(120))
                .for_type("fault_repair")
                .for_area(Remote),
            LimitRule::new(Restore, min(180))
                .for_type("fault_repair")
                .for_area(Urban),
            LimitRule::new(Restore, min(240))
                .for_type("fault_repair")
                .for_area(Rural),
            LimitRule::new(Reconnect, min(24 * 60))
                .for_type("service_request")
                .for_sub_category("service_request.reconnection"),
            LimitRule::new(Visit, wd(1)),
        ];
        Self {
            rules,
            warning_share: DEFAULT_WARNING_SHARE,
        }
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[LimitRule] {
        &self.rules
    }

    /// The share of a limit at which the warning fires.
    pub fn warning_share(&self) -> f64 {
        self.warning_share
    }

    /// The most specific rule for `kind` matching `query`, if any.
    pub fn rule_for(&self, kind: LimitKind, query: &LimitQuery<'_>) -> Option<&LimitRule> {
        self.rules
            .iter()
            .filter_map(|r| r.score(kind, query).map(|s| (s, r)))
            .max_by_key(|(s, _)| *s)
            .map(|(_, r)| r)
    }

    /// The limit of the most specific matching rule; `None` when nothing is timed (e.g. arriving
    /// on site for a complaint, or a fault repair whose area is unknown).
    pub fn lookup(&self, kind: LimitKind, query: &LimitQuery<'_>) -> Option<Limit> {
        self.rule_for(kind, query).map(|r| r.limit)
    }
}

impl Default for TimeLimits {
    fn default() -> Self {
        Self::defaults()
    }
}

fn check_rule(rule: &LimitRule) -> Result<(), FieldError> {
    for (field, code) in [
        ("appeal_type", &rule.appeal_type),
        ("sub_category", &rule.sub_category),
        ("grade", &rule.grade),
    ] {
        if let Some(code) = code {
            let n = code.chars().count();
            if n == 0 || n > MAX_CODE_CHARS || code.trim() != code {
                return Err(FieldError::new(
                    field,
                    format!(
                        "a code is 1 to {MAX_CODE_CHARS} characters without surrounding spaces; leave it out to match all"
                    ),
                ));
            }
        }
    }
    let ok = match rule.limit {
        Limit::WorkingDays(n) => (1..=MAX_LIMIT_WORKING_DAYS).contains(&n),
        Limit::WorkingHours(n) => (1..=MAX_LIMIT_WORKING_HOURS).contains(&n),
        Limit::Clock(d) => d > Duration::zero() && d <= Duration::days(MAX_LIMIT_CLOCK_DAYS),
    };
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "limit",
            format!(
                "must be above zero and at most {MAX_LIMIT_WORKING_DAYS} working days, {MAX_LIMIT_WORKING_HOURS} working hours or {MAX_LIMIT_CLOCK_DAYS} days of clock time"
            ),
        ))
    }
}
