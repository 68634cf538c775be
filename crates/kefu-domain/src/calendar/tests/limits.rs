//! Limits: deadlines by kind, the elapsed share for the warning, suspensions, and the table of
//! limits with its most-specific-match rule.

use chrono::Duration;

use super::super::{
    DEFAULT_APPEAL_TYPE_CODES, DeadlineError, Limit, LimitKind, LimitQuery, LimitRule, ServiceArea,
    Suspension, TimeLimits,
};
use super::{bj, cal};

#[test]
fn deadlines_by_kind() {
    let c = cal();
    let start = bj("2026-02-13 16:00");
    assert_eq!(
        Limit::WorkingDays(1).deadline(&c, start).unwrap(),
        bj("2026-02-14 16:00")
    );
    assert_eq!(
        Limit::WorkingHours(2).deadline(&c, start).unwrap(),
        bj("2026-02-14 09:00")
    );
    assert_eq!(
        Limit::Clock(Duration::minutes(90))
            .deadline(&c, start)
            .unwrap(),
        bj("2026-02-13 17:30")
    );
}

#[test]
fn elapsed_share_counts_working_time() {
    let c = cal();
    let start = bj("2026-03-09 10:00");
    let limit = Limit::WorkingDays(1);
    let due = limit.deadline(&c, start).unwrap();
    let share = |now| limit.elapsed_share(&c, start, due, bj(now));
    assert_eq!(share("2026-03-09 09:00"), 0.0);
    assert_eq!(share("2026-03-09 10:00"), 0.0);
    // 2 h + 1 h 15 of 7 h.
    assert!((share("2026-03-09 15:15") - 3.25 / 7.0).abs() < 1e-12);
    // The 75 % warning falls at Monday 17:15 (5 h 15 of 7 h) and stays during the night.
    assert_eq!(share("2026-03-09 17:15"), 0.75);
    assert_eq!(share("2026-03-10 08:00"), share("2026-03-09 17:30"));
    assert_eq!(share("2026-03-10 10:00"), 1.0);
    assert!(share("2026-03-10 11:00") > 1.0);
    // Clock limits share the clock.
    let clock = Limit::Clock(Duration::minutes(40));
    let due = clock.deadline(&c, start).unwrap();
    assert_eq!(
        clock.elapsed_share(&c, start, due, bj("2026-03-09 10:30")),
        0.75
    );
}

#[test]
fn suspension_excludes_working_time() {
    let c = cal();
    let start = bj("2026-03-09 10:00");
    let limit = Limit::WorkingDays(1);
    let s = |a: &str, b: Option<&str>| Suspension {
        from: bj(a),
        until: b.map(bj),
    };
    // Suspended Mon 11:00 – Tue 09:00: 5 h of working time stopped, so Tue 10:00 + 5 h → 17:00.
    let suspended = [s("2026-03-09 11:00", Some("2026-03-10 09:00"))];
    assert_eq!(
        limit
            .deadline_with_suspensions(&c, start, &suspended)
            .unwrap(),
        Some(bj("2026-03-10 17:00"))
    );
    // Suspended only outside working hours: nothing changes.
    let night = [s("2026-03-09 18:00", Some("2026-03-10 08:00"))];
    assert_eq!(
        limit.deadline_with_suspensions(&c, start, &night).unwrap(),
        Some(bj("2026-03-10 10:00"))
    );
    // Still suspended: no deadline.
    let open = [s("2026-03-09 11:00", None)];
    assert_eq!(
        limit.deadline_with_suspensions(&c, start, &open).unwrap(),
        None
    );
    // Suspended after the deadline: the order stays overdue.
    let late = [s("2026-03-10 11:00", None)];
    assert_eq!(
        limit.deadline_with_suspensions(&c, start, &late).unwrap(),
        Some(bj("2026-03-10 10:00"))
    );
    // Overlapping, unordered and partly-before-start suspensions merge: Mon 09:00–12:00 and
    // 11:00–14:30 stop 2 h 30 of working time after the start.
    let messy = [
        s("2026-03-09 11:00", Some("2026-03-09 14:30")),
        s("2026-03-09 09:00", Some("2026-03-09 12:00")),
    ];
    assert_eq!(
        limit.deadline_with_suspensions(&c, start, &messy).unwrap(),
        Some(bj("2026-03-10 14:30"))
    );
    // Clock limits extend by the clock time suspended.
    let clock = Limit::Clock(Duration::minutes(45));
    let ten = [s("2026-03-09 10:10", Some("2026-03-09 10:20"))];
    assert_eq!(
        clock.deadline_with_suspensions(&c, start, &ten).unwrap(),
        Some(bj("2026-03-09 10:55"))
    );
    // Suspended only when no working time passes, from an after-hours start: the deadline stays
    // Wednesday 08:30 (not the equivalent Tuesday 17:30).
    let evening = bj("2026-03-09 18:00");
    assert_eq!(
        limit
            .deadline_with_suspensions(
                &c,
                evening,
                &[s("2026-03-09 18:00", Some("2026-03-09 19:00"))]
            )
            .unwrap(),
        Some(bj("2026-03-11 08:30"))
    );
    // A suspension spanning the deadline: the 1 h 30 before it and the 2 h after it both count.
    let spanning = [s("2026-03-10 08:30", Some("2026-03-10 12:00"))];
    assert_eq!(
        limit
            .deadline_with_suspensions(&c, start, &spanning)
            .unwrap(),
        Some(bj("2026-03-10 15:30"))
    );
    // No suspensions: the plain deadline.
    assert_eq!(
        limit.deadline_with_suspensions(&c, start, &[]).unwrap(),
        Some(bj("2026-03-10 10:00"))
    );
}

#[test]
fn suspension_and_elapsed_share_agree() {
    let c = cal();
    let start = bj("2026-03-09 10:00");
    let limit = Limit::WorkingDays(1);
    let suspended = [Suspension {
        from: bj("2026-03-09 11:00"),
        until: Some(bj("2026-03-10 09:00")),
    }];
    let share = |now| {
        limit
            .elapsed_share_with_suspensions(&c, start, &suspended, bj(now))
            .unwrap()
    };
    // 1 h used before the suspension; nothing while suspended.
    assert!((share("2026-03-09 16:00") - 1.0 / 7.0).abs() < 1e-12);
    assert_eq!(share("2026-03-10 17:00"), 1.0);
}

#[test]
fn bad_suspensions_are_refused() {
    let c = cal();
    let start = bj("2026-03-09 10:00");
    let backwards = [Suspension {
        from: bj("2026-03-09 12:00"),
        until: Some(bj("2026-03-09 11:00")),
    }];
    assert_eq!(
        Limit::WorkingDays(1).deadline_with_suspensions(&c, start, &backwards),
        Err(DeadlineError::BackwardsSuspension { index: 0 })
    );
    let many = vec![
        Suspension {
            from: start,
            until: Some(start)
        };
        65
    ];
    assert!(matches!(
        Limit::WorkingDays(1).deadline_with_suspensions(&c, start, &many),
        Err(DeadlineError::TooManySuspensions { .. })
    ));
}

#[test]
fn limit_codes_round_trip() {
    for limit in [
        Limit::WorkingDays(7),
        Limit::WorkingHours(2),
        Limit::Clock(Duration::minutes(45)),
    ] {
        assert_eq!(Limit::parse_code("limit", &limit.code()), Ok(limit));
    }
    assert!(Limit::parse_code("limit", "weeks:2").is_err());
    assert!(Limit::parse_code("limit", "working_days:-1").is_err());
    assert_eq!(Limit::WorkingDays(1).label_zh(), "1个工作日");
    assert_eq!(Limit::Clock(Duration::minutes(180)).label_zh(), "3小时");
    assert_eq!(Limit::WorkingHours(2).to_string(), "2 working hours");
}

fn q(appeal_type: &str) -> LimitQuery<'_> {
    LimitQuery::appeal_type(appeal_type)
}

#[test]
fn default_limits_follow_the_domain_table() {
    let t = TimeLimits::defaults();
    use LimitKind::*;
    let wd = Limit::WorkingDays;
    let min = |m| Some(Limit::Clock(Duration::minutes(m)));
    assert_eq!(t.lookup(Contact, &q("complaint")), Some(wd(1)));
    assert_eq!(t.lookup(Reply, &q("complaint")), Some(wd(7)));
    assert_eq!(t.lookup(Reply, &q("report")), Some(wd(10)));
    assert_eq!(t.lookup(Reply, &q("suggestion")), Some(wd(10)));
    assert_eq!(t.lookup(Reply, &q("consultation")), Some(wd(3)));
    assert_eq!(t.lookup(Return, &q("praise")), Some(Limit::WorkingHours(2)));
    assert_eq!(t.lookup(Visit, &q("complaint")), Some(wd(1)));
    let meter = LimitQuery {
        sub_category: Some("service_request.meter_check"),
        ..q("service_request")
    };
    assert_eq!(t.lookup(Reply, &meter), Some(wd(5)));
    let metering = LimitQuery {
        sub_category: Some("complaint.metering"),
        ..q("complaint")
    };
    assert_eq!(t.lookup(Reply, &metering), Some(wd(5)));
    let outage = LimitQuery {
        sub_category: Some("complaint.outage"),
        ..q("complaint")
    };
    assert_eq!(t.lookup(Reply, &outage), Some(wd(7)));
    let area = |a| LimitQuery {
        area: Some(a),
        ..q("fault_repair")
    };
    assert_eq!(t.lookup(Arrive, &area(ServiceArea::Urban)), min(45));
    assert_eq!(t.lookup(Arrive, &area(ServiceArea::Rural)), min(90));
    assert_eq!(t.lookup(Arrive, &area(ServiceArea::Remote)), min(120));
    assert_eq!(t.lookup(Restore, &area(ServiceArea::Urban)), min(180));
    // Remote areas fall back to the rural restore limit.
    assert_eq!(t.lookup(Restore, &area(ServiceArea::Remote)), min(240));
    let reconnection = LimitQuery {
        sub_category: Some("service_request.reconnection"),
        ..q("service_request")
    };
    assert_eq!(t.lookup(Reconnect, &reconnection), min(24 * 60));
    // Nothing is timed where nothing is defined.
    assert_eq!(t.lookup(Arrive, &q("fault_repair")), None);
    assert_eq!(t.lookup(Contact, &q("praise")), None);
    assert_eq!(t.warning_share(), 0.75);
    // The defaults pass the same checks as an administrator's table.
    assert!(TimeLimits::new(t.rules().to_vec(), 0.75).is_ok());
}

#[test]
fn the_most_specific_rule_wins() {
    use LimitKind::Reply;
    let rules = vec![
        LimitRule::new(Reply, Limit::WorkingDays(7)).for_type("complaint"),
        LimitRule::new(Reply, Limit::WorkingDays(5))
            .for_type("complaint")
            .for_grade("vip"),
        LimitRule::new(Reply, Limit::WorkingDays(3))
            .for_type("complaint")
            .for_sub_category("outage"),
        LimitRule::new(Reply, Limit::WorkingDays(10)),
    ];
    let t = TimeLimits::new(rules, 0.8).unwrap();
    let query = |sub, grade| LimitQuery {
        sub_category: sub,
        grade,
        ..q("complaint")
    };
    assert_eq!(
        t.lookup(Reply, &query(None, None)),
        Some(Limit::WorkingDays(7))
    );
    assert_eq!(
        t.lookup(Reply, &query(None, Some("vip"))),
        Some(Limit::WorkingDays(5))
    );
    // Sub-category outranks grade.
    assert_eq!(
        t.lookup(Reply, &query(Some("outage"), Some("vip"))),
        Some(Limit::WorkingDays(3))
    );
    assert_eq!(t.lookup(Reply, &q("opinion")), Some(Limit::WorkingDays(10)));
}

#[test]
fn bad_tables_are_refused() {
    use LimitKind::Reply;
    let r = |n| LimitRule::new(Reply, Limit::WorkingDays(n)).for_type("complaint");
    let err = TimeLimits::new(vec![r(7), r(5)], 0.75).unwrap_err();
    assert_eq!(err.field, "rules[1]");
    assert!(err.reason.contains("rules[0]"), "{err}");
    assert_eq!(
        TimeLimits::new(vec![r(0)], 0.75).unwrap_err().field,
        "rules[0].limit"
    );
    assert_eq!(
        TimeLimits::new(vec![r(7)], 1.0).unwrap_err().field,
        "warning_share"
    );
    let blank = LimitRule::new(Reply, Limit::WorkingDays(1)).for_type("");
    assert_eq!(
        TimeLimits::new(vec![blank], 0.75).unwrap_err().field,
        "rules[0].appeal_type"
    );
}

#[test]
fn default_limits_use_the_work_order_catalogue_codes() {
    use crate::workorder::{AppealType, Catalogue};
    let catalogue = Catalogue::defaults();
    for code in DEFAULT_APPEAL_TYPE_CODES {
        assert!(AppealType::from_code(code).is_some(), "{code}");
    }
    for rule in TimeLimits::defaults().rules() {
        if let Some(t) = &rule.appeal_type {
            assert!(DEFAULT_APPEAL_TYPE_CODES.contains(&t.as_str()), "{t}");
        }
        if let Some(sub) = &rule.sub_category {
            let entry = catalogue.lookup("sub_category", sub).unwrap();
            assert_eq!(Some(entry.appeal_type.code()), rule.appeal_type.as_deref());
        }
    }
}
