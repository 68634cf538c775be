//! Every event kind and every order piece survives encode → decode unchanged; damaged rows
//! decode to an error naming what is wrong.

use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerName, Phone};
use kefu_domain::ids::{OrgUnitId, StaffId};
use kefu_domain::org::{DepartmentKind, OrgPath};
use kefu_domain::workorder::{
    AppealType, Assignment, Caller, Channel, Compensation, ContactResult, Event, EventKind, Fault,
    IdempotencyKey, Intake, MajorReason, OrderNumber, Priority, Reply, ReturnReason, Satisfaction,
    State, SubCategoryCode, Visit, evolve, replay,
};

use super::{EventRow, decode_event, decode_order, encode_event, encode_order, intake_fingerprint};

fn at(min: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000 + min * 60, 0).expect("in range")
}

fn path(ids: &[i64]) -> OrgPath {
    let mut p = OrgPath::root(OrgUnitId(1));
    for id in ids {
        p = p.child(OrgUnitId(*id));
    }
    p
}

fn sub(code: &str) -> SubCategoryCode {
    SubCategoryCode::parse(code).expect("valid code")
}

fn opened() -> Intake {
    Intake {
        number: OrderNumber::parse("GD20261122000042").expect("number"),
        channel: Channel::Letter,
        caller: Caller::Unidentified {
            phone: Phone::parse("0571-8765 4321").expect("phone"),
            name: CustomerName::parse("王 \"先生\"").expect("name"),
            address: "杭州市西湖区\n文三路 1 号".into(),
            address_unit: path(&[2, 3]),
        },
        appeal_type: AppealType::Compensation,
        sub_category: sub("compensation.appliance"),
        department: DepartmentKind::Marketing,
        content: "雷击后电视损坏 \\ 要求赔偿".into(),
        priority: Priority::Major,
        major: Some(MajorReason::Keyword("触电".into())),
        repeat_of: vec![OrderNumber::parse("GD20261101000001").expect("number")],
        idempotency_key: IdempotencyKey::parse("msg-42").ok(),
    }
}

fn event(version: u64, from: Option<State>, to: State, kind: EventKind) -> Event {
    Event {
        version,
        at: at(i64::try_from(version).expect("small")),
        actor: StaffId(7),
        from,
        to,
        kind,
    }
}

fn round_trip(e: &Event) -> Event {
    let enc = encode_event(e);
    decode_event(EventRow {
        version: i64::try_from(e.version).expect("small"),
        at: e.at,
        actor: e.actor.0,
        from: e.from.map(|s| s.code()),
        to: e.to.code(),
        kind: enc.kind,
        payload: &enc.payload,
    })
    .unwrap_or_else(|err| panic!("{:?} does not decode: {err}", e.kind))
}

#[test]
fn every_event_kind_and_the_snapshot_round_trip() {
    use State as S;
    let unit = path(&[2, 3, 4]);
    let kinds = [
        (S::PendingDispatch, EventKind::Opened(Box::new(opened()))),
        (
            S::PendingDispatch,
            EventKind::Reclassified {
                appeal_type: AppealType::Complaint,
                sub_category: sub("complaint.outage"),
                department: DepartmentKind::Operations,
                major: Some(MajorReason::SubCategory(sub("complaint.outage"))),
            },
        ),
        (
            S::Dispatched,
            EventKind::Dispatched {
                assignment: Assignment {
                    unit: unit.clone(),
                    department: DepartmentKind::Operations,
                },
                override_reason: Some("人手不足".into()),
            },
        ),
        (
            S::Dispatched,
            EventKind::AssistAdded {
                unit: path(&[2, 5]),
            },
        ),
        (
            S::Returned,
            EventKind::Returned {
                unit: unit.clone(),
                reason: ReturnReason::Other,
                text: Some("地址不详".into()),
            },
        ),
        (
            S::Dispatched,
            EventKind::Dispatched {
                assignment: Assignment {
                    unit: unit.clone(),
                    department: DepartmentKind::Marketing,
                },
                override_reason: None,
            },
        ),
        (S::InProgress, EventKind::Accepted),
        (S::InProgress, EventKind::Chased { note: None }),
        (
            S::InProgress,
            EventKind::Supervised {
                reason: "媒体关注".into(),
            },
        ),
        (
            S::Replied,
            EventKind::Replied(Box::new(Reply {
                handled_at: at(30),
                handler: "张伟".into(),
                actions_taken: "现场核实".into(),
                result_and_feedback: "同意赔偿".into(),
                fault: Fault::AtFault {
                    responsible_unit: OrgUnitId(4),
                    responsible_person: None,
                },
                compensation: Some(Compensation {
                    amount_fen: 123_456,
                    cause: "雷击".into(),
                }),
            })),
        ),
        (
            S::SentBack,
            EventKind::SentBack {
                reason: "补充照片".into(),
            },
        ),
        (
            S::Replied,
            EventKind::Replied(Box::new(Reply {
                handled_at: at(40),
                handler: "张伟".into(),
                actions_taken: "补充照片".into(),
                result_and_feedback: "客户认可".into(),
                fault: Fault::NotAtFault,
                compensation: None,
            })),
        ),
        (S::Reviewed, EventKind::Approved),
        (
            S::Reviewed,
            EventKind::Visited(Visit {
                contact: ContactResult::Busy,
                satisfaction: None,
                comment: None,
            }),
        ),
        (
            S::Reviewed,
            EventKind::CustomerRated {
                satisfaction: Satisfaction::Neutral,
                comment: Some("还行".into()),
            },
        ),
        (
            S::Visited,
            EventKind::Visited(Visit {
                contact: ContactResult::Reached,
                satisfaction: Some(Satisfaction::Dissatisfied),
                comment: Some("太慢".into()),
            }),
        ),
        (
            S::Reopened,
            EventKind::Reopened {
                reason: "不满意".into(),
            },
        ),
        (
            S::Reopened,
            EventKind::FlaggedMajor(MajorReason::Manual("领导批示".into())),
        ),
        (S::Archived, EventKind::Archived),
    ];
    let mut events = Vec::new();
    let mut from = None;
    for (i, (to, kind)) in kinds.into_iter().enumerate() {
        let e = event(u64::try_from(i).expect("small") + 1, from, to, kind);
        assert_eq!(round_trip(&e), e);
        from = Some(to);
        events.push(e);
    }
    let rated_at = events
        .iter()
        .position(|e| matches!(e.kind, EventKind::CustomerRated { .. }))
        .expect("a rating event");
    let rated = replay(&events[..=rated_at]).expect("replays");
    assert!(rated.customer_rating.is_some());
    assert_eq!(decode_order(&encode_order(&rated)), Ok(rated));
    let order = replay(&events).expect("replays");
    assert_eq!(decode_order(&encode_order(&order)), Ok(order.clone()));
    let before_archive = events[..events.len() - 1]
        .iter()
        .skip(1)
        .fold(replay(&events[..1]).expect("opened"), |o, e| evolve(&o, e));
    assert_eq!(
        decode_order(&encode_order(&before_archive)),
        Ok(before_archive)
    );
}

#[test]
fn damaged_rows_name_what_is_wrong() {
    let row = |kind: &'static str, payload: &'static str| EventRow {
        version: 2,
        at: at(0),
        actor: 1,
        from: Some("dispatched"),
        to: "in_progress",
        kind,
        payload,
    };
    let err = |r| decode_event(r).expect_err("refused");
    assert!(err(row("teleported", "{}")).contains("teleported"));
    assert!(err(row("accepted", "not json")).contains("JSON"));
    assert!(err(row("returned", r#"{"unit":"/1/","reason":"bored"}"#)).contains("bored"));
    assert!(
        err(row(
            "dispatched",
            r#"{"unit":"x","department":"marketing"}"#
        ))
        .contains("unit")
    );
    let mut bad_state = row("accepted", "{}");
    bad_state.to = "limbo";
    assert!(err(bad_state).contains("limbo"));
    assert!(decode_order("{}").is_err());
}

#[test]
fn the_fingerprint_covers_the_clients_content_not_what_the_store_assigns() {
    let first = opened();
    let fp = intake_fingerprint(&first);
    assert_eq!(fp.len(), 64, "SHA-256 in hex");
    let mut retry = first.clone();
    retry.number = OrderNumber::parse("GD20261123000007").expect("number");
    retry.repeat_of = vec![first.number];
    retry.department = DepartmentKind::Operations;
    assert_eq!(
        intake_fingerprint(&retry),
        fp,
        "assigned and derived fields do not count"
    );
    let mut other = first.clone();
    other.content.push('！');
    assert_ne!(
        intake_fingerprint(&other),
        fp,
        "another text is another appeal"
    );
    let mut other = first;
    other.channel = Channel::Web;
    assert_ne!(intake_fingerprint(&other), fp);
}

/// An intake with nothing optional set.
fn plain() -> Intake {
    Intake {
        major: None,
        repeat_of: Vec::new(),
        idempotency_key: None,
        ..opened()
    }
}

#[test]
fn a_fresh_order_is_stored_without_its_unset_fields_and_reads_back_whole() {
    let order = replay(&[event(
        1,
        None,
        State::PendingDispatch,
        EventKind::Opened(Box::new(plain())),
    )])
    .expect("opened");
    let stored = encode_order(&order);
    for absent in [
        "\"host\"",
        "\"returns\"",
        "\"reply\"",
        "\"chase_count\"",
        "\"archived_at\"",
        "null",
        "[]",
    ] {
        assert!(!stored.contains(absent), "{absent} stored in {stored}");
    }
    assert_eq!(decode_order(&stored), Ok(order.clone()));
}

#[test]
fn snapshots_written_with_every_key_still_read() {
    let order = replay(&[event(
        1,
        None,
        State::PendingDispatch,
        EventKind::Opened(Box::new(plain())),
    )])
    .expect("opened");
    // The layout written before unset fields were left out: every key, nulls and zeros.
    let mut full: serde_json::Value = serde_json::from_str(&encode_order(&order)).expect("json");
    let map = full.as_object_mut().expect("object");
    for key in [
        "major",
        "idempotency_key",
        "host",
        "dispatcher",
        "handler",
        "reply",
        "replied_by",
        "visit",
        "archived_at",
        "dispatched_at",
        "contacted_at",
        "arrived_at",
        "reviewed_at",
        "customer_rating",
    ] {
        map.entry(key).or_insert(serde_json::Value::Null);
    }
    for key in [
        "repeat_of",
        "assisting",
        "returns",
        "supervisions",
        "send_backs",
        "suspensions",
    ] {
        map.entry(key).or_insert(serde_json::json!([]));
    }
    for key in [
        "chase_count",
        "visit_attempts",
        "reopen_count",
        "contact_count",
    ] {
        map.entry(key).or_insert(serde_json::json!(0));
    }
    assert_eq!(decode_order(&full.to_string()), Ok(order));
    let intake = event(
        1,
        None,
        State::PendingDispatch,
        EventKind::Opened(Box::new(plain())),
    );
    let mut payload: serde_json::Value =
        serde_json::from_str(&encode_event(&intake).payload).expect("json");
    let map = payload.as_object_mut().expect("object");
    for key in ["major", "idempotency_key"] {
        map.entry(key).or_insert(serde_json::Value::Null);
    }
    map.entry("repeat_of").or_insert(serde_json::json!([]));
    let payload = payload.to_string();
    let row = EventRow {
        version: 1,
        at: intake.at,
        actor: intake.actor.0,
        from: None,
        to: State::PendingDispatch.code(),
        kind: "opened",
        payload: &payload,
    };
    assert_eq!(decode_event(row), Ok(intake));
}
