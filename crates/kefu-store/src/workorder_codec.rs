//! The text encodings of work orders, written once for both stores (the domain has no serde):
//! an event's kind as a short code (the `kind` column) and its data as a small JSON object
//! built field by field, and the whole `Order` as the row's JSON snapshot, so a read needs no
//! replay. The snapshot is written in the same transaction as the events it sums up, and the
//! story checks that `replay` of the stored timeline gives the stored snapshot.
//!
//! Unknown codes and malformed payloads decode to an error text naming the field; the stores
//! wrap it into `StoreError::Corrupt`.

use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerName, Grid, Phone, ServiceGrade};
use kefu_domain::ids::{CustomerId, OrgUnitId, StaffId};
use kefu_domain::org::{DepartmentKind, OrgPath};
use kefu_domain::workorder::{
    AppealType, Assignment, Caller, Channel, Compensation, ContactResult, CustomerRating, Event,
    EventKind, Fault, IdempotencyKey, Intake, MajorReason, Order, OrderNumber, Priority, Reply,
    ReturnReason, ReturnRecord, Satisfaction, SendBack, State, SubCategoryCode, Supervision,
    SuspendReason, SuspensionRecord, Visit,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// An event as stored: the columns of a timeline row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    /// The kind's code (`opened`, `dispatched`, …).
    pub kind: &'static str,
    /// The kind's data as compact JSON text.
    pub payload: String,
}

/// Encodes the kind and data of `event` (version, time, actor and states are columns).
pub fn encode_event(event: &Event) -> EncodedEvent {
    let (kind, payload) = match &event.kind {
        EventKind::Opened(intake) => ("opened", intake_json(intake)),
        EventKind::Dispatched {
            assignment,
            override_reason,
        } => (
            "dispatched",
            json!({
                "unit": assignment.unit.as_str(),
                "department": assignment.department.code(),
                "override_reason": override_reason,
            }),
        ),
        EventKind::Reclassified {
            appeal_type,
            sub_category,
            department,
            major,
        } => (
            "reclassified",
            json!({
                "appeal_type": appeal_type.code(),
                "sub_category": sub_category.as_str(),
                "department": department.code(),
                "major": major.as_ref().map(major_json),
            }),
        ),
        EventKind::Accepted => ("accepted", json!({})),
        EventKind::Returned { unit, reason, text } => (
            "returned",
            json!({"unit": unit.as_str(), "reason": reason.code(), "text": text}),
        ),
        EventKind::Chased { note } => ("chased", json!({ "note": note })),
        EventKind::Supervised { reason } => ("supervised", json!({ "reason": reason })),
        EventKind::Replied(reply) => ("replied", reply_json(reply)),
        EventKind::Approved => ("approved", json!({})),
        EventKind::SentBack { reason } => ("sent_back", json!({ "reason": reason })),
        EventKind::Visited(visit) => (
            "visited",
            json!({
                "contact": visit.contact.code(),
                "satisfaction": visit.satisfaction.map(|s| s.code()),
                "comment": visit.comment,
            }),
        ),
        EventKind::Reopened { reason } => ("reopened", json!({ "reason": reason })),
        EventKind::Archived => ("archived", json!({})),
        EventKind::AssistAdded { unit } => ("assist_added", json!({ "unit": unit.as_str() })),
        EventKind::FlaggedMajor(reason) => ("flagged_major", major_json(reason)),
        EventKind::Contacted { note } => ("contacted", json!({ "note": note })),
        EventKind::Arrived { note } => ("arrived", json!({ "note": note })),
        EventKind::Suspended { reason, text } => (
            "suspended",
            json!({ "reason": reason.code(), "text": text }),
        ),
        EventKind::Resumed { note } => ("resumed", json!({ "note": note })),
        EventKind::CustomerRated {
            satisfaction,
            comment,
        } => (
            "customer_rated",
            json!({ "satisfaction": satisfaction.code(), "comment": comment }),
        ),
    };
    EncodedEvent {
        kind,
        payload: compact(payload).to_string(),
    }
}

/// The counts a snapshot leaves out when they are zero (decoding reads them as 0).
const ZERO_COUNTS: [&str; 4] = [
    "chase_count",
    "visit_attempts",
    "reopen_count",
    "contact_count",
];

/// Leaves out what decoding reads back as the default: unset values (`null`), empty lists and
/// zero counts, at every level. A province keeps tens of millions of orders and most of their
/// fields are unset, so this halves the stored JSON; rows written before (with every key) decode
/// the same.
pub(crate) fn compact(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, v)| match v {
                    Value::Null => false,
                    Value::Array(items) => !items.is_empty(),
                    Value::Number(n) => {
                        !(n.as_i64() == Some(0) && ZERO_COUNTS.contains(&k.as_str()))
                    }
                    _ => true,
                })
                .map(|(k, v)| (k, compact(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

/// The stored columns of one timeline row, as read back.
#[derive(Debug, Clone, Copy)]
pub struct EventRow<'a> {
    /// The order's version after the event.
    pub version: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: i64,
    /// The state before (none for the intake).
    pub from: Option<&'a str>,
    /// The state after.
    pub to: &'a str,
    /// The kind's code.
    pub kind: &'a str,
    /// The kind's JSON data.
    pub payload: &'a str,
}

/// Decodes a stored timeline row; the error names what is wrong.
pub fn decode_event(row: EventRow<'_>) -> Result<Event, String> {
    let v: Value =
        serde_json::from_str(row.payload).map_err(|e| format!("event payload is not JSON: {e}"))?;
    let kind = match row.kind {
        "opened" => EventKind::Opened(Box::new(intake_from(&v)?)),
        "dispatched" => EventKind::Dispatched {
            assignment: Assignment {
                unit: path(&v, "unit")?,
                department: code(&v, "department", DepartmentKind::from_code)?,
            },
            override_reason: opt_text(&v, "override_reason")?,
        },
        "reclassified" => EventKind::Reclassified {
            appeal_type: code(&v, "appeal_type", AppealType::from_code)?,
            sub_category: sub_category(&v, "sub_category")?,
            department: code(&v, "department", DepartmentKind::from_code)?,
            major: match v.get("major") {
                None | Some(Value::Null) => None,
                Some(m) => Some(major_from(m)?),
            },
        },
        "accepted" => EventKind::Accepted,
        "returned" => EventKind::Returned {
            unit: path(&v, "unit")?,
            reason: code(&v, "reason", ReturnReason::from_code)?,
            text: opt_text(&v, "text")?,
        },
        "chased" => EventKind::Chased {
            note: opt_text(&v, "note")?,
        },
        "supervised" => EventKind::Supervised {
            reason: text(&v, "reason")?,
        },
        "replied" => EventKind::Replied(Box::new(reply_from(&v)?)),
        "approved" => EventKind::Approved,
        "sent_back" => EventKind::SentBack {
            reason: text(&v, "reason")?,
        },
        "visited" => EventKind::Visited(Visit {
            contact: code(&v, "contact", ContactResult::from_code)?,
            satisfaction: opt_code(&v, "satisfaction", Satisfaction::from_code)?,
            comment: opt_text(&v, "comment")?,
        }),
        "reopened" => EventKind::Reopened {
            reason: text(&v, "reason")?,
        },
        "archived" => EventKind::Archived,
        "assist_added" => EventKind::AssistAdded {
            unit: path(&v, "unit")?,
        },
        "flagged_major" => EventKind::FlaggedMajor(major_from(&v)?),
        "contacted" => EventKind::Contacted {
            note: opt_text(&v, "note")?,
        },
        "arrived" => EventKind::Arrived {
            note: opt_text(&v, "note")?,
        },
        "suspended" => EventKind::Suspended {
            reason: code(&v, "reason", SuspendReason::from_code)?,
            text: opt_text(&v, "text")?,
        },
        "resumed" => EventKind::Resumed {
            note: opt_text(&v, "note")?,
        },
        "customer_rated" => EventKind::CustomerRated {
            satisfaction: code(&v, "satisfaction", Satisfaction::from_code)?,
            comment: opt_text(&v, "comment")?,
        },
        other => return Err(format!("unknown event kind '{other}'")),
    };
    let state = |s: &str| State::from_code(s).ok_or_else(|| format!("unknown state '{s}'"));
    Ok(Event {
        version: u64::try_from(row.version)
            .map_err(|_| format!("event version {} is negative", row.version))?,
        at: row.at,
        actor: StaffId(row.actor),
        from: row.from.map(state).transpose()?,
        to: state(row.to)?,
        kind,
    })
}

/// The fingerprint stored with an idempotency key: the SHA-256 (lower-case hex) of a canonical
/// JSON encoding of what the client said in the intake — channel, caller, appeal type,
/// sub-category, text, the priority asked for and a manual major reason. Not the order number,
/// the repeat links, the time or the actor (the store assigns them), nor what the catalogue and
/// the major rules derive (department, a rule's major reason and the priority it forces), so a
/// retry after a settings change still matches. The object is built field by field by this one
/// function, so equal content always gives equal text.
pub fn intake_fingerprint(i: &Intake) -> String {
    let (priority, manual) = match &i.major {
        Some(MajorReason::Manual(r)) => (Some(i.priority.code()), Some(r.as_str())),
        Some(MajorReason::SubCategory(_) | MajorReason::Keyword(_)) => (None, None),
        None => (Some(i.priority.code()), None),
    };
    let canonical = json!({
        "channel": i.channel.code(),
        "caller": caller_identity_json(&i.caller),
        "appeal_type": i.appeal_type.code(),
        "sub_category": i.sub_category.as_str(),
        "content": i.content,
        "priority": priority,
        "manual_major": manual,
    });
    Sha256::digest(canonical.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn intake_json(i: &Intake) -> Value {
    let caller = caller_json(&i.caller);
    json!({
        "number": i.number.to_string(),
        "channel": i.channel.code(),
        "caller": caller,
        "appeal_type": i.appeal_type.code(),
        "sub_category": i.sub_category.as_str(),
        "department": i.department.code(),
        "content": i.content,
        "priority": i.priority.code(),
        "major": i.major.as_ref().map(major_json),
        "repeat_of": i.repeat_of.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "idempotency_key": i.idempotency_key.as_ref().map(IdempotencyKey::as_str),
    })
}

fn intake_from(v: &Value) -> Result<Intake, String> {
    let caller = caller_from(v.get("caller").ok_or("caller is missing")?)?;
    let repeat_of = match v.get("repeat_of") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|n| {
                n.as_str()
                    .ok_or_else(|| "repeat_of holds a non-text".to_owned())
                    .and_then(number)
            })
            .collect::<Result<Vec<_>, _>>()?,
        None | Some(Value::Null) => Vec::new(),
        _ => return Err("repeat_of is not a list".to_owned()),
    };
    Ok(Intake {
        number: number(&text(v, "number")?)?,
        channel: code(v, "channel", Channel::from_code)?,
        caller,
        appeal_type: code(v, "appeal_type", AppealType::from_code)?,
        sub_category: sub_category(v, "sub_category")?,
        department: code(v, "department", DepartmentKind::from_code)?,
        content: text(v, "content")?,
        priority: code(v, "priority", Priority::from_code)?,
        major: match v.get("major") {
            None | Some(Value::Null) => None,
            Some(m) => Some(major_from(m)?),
        },
        repeat_of,
        idempotency_key: opt_text(v, "idempotency_key")?
            .map(|k| IdempotencyKey::parse(&k).map_err(|e| format!("idempotency key: {e}")))
            .transpose()?,
    })
}

/// The caller with what the archive said of the customer at intake (grid and grade pick the
/// time limits); absent in events written before they were recorded.
fn caller_json(caller: &Caller) -> Value {
    let mut v = caller_identity_json(caller);
    if let (Caller::Customer { grid, grade, .. }, Value::Object(map)) = (caller, &mut v) {
        if let Some(g) = grid {
            map.insert("grid".into(), json!(g.code()));
        }
        if let Some(g) = grade {
            map.insert("grade".into(), json!(g.code()));
        }
    }
    v
}

/// Who the caller is, as the client said it: what the idempotency fingerprint covers (the
/// archive's grid and grade are the store's business and may change between retries).
fn caller_identity_json(caller: &Caller) -> Value {
    match caller {
        Caller::Customer {
            id,
            supply_unit,
            phone,
            ..
        } => json!({
            "kind": "customer",
            "id": id.0,
            "supply_unit": supply_unit.as_str(),
            "phone": phone.as_ref().map(Phone::as_str),
        }),
        Caller::Unidentified {
            phone,
            name,
            address,
            address_unit,
        } => json!({
            "kind": "unidentified",
            "phone": phone.as_str(),
            "name": name.as_str(),
            "address": address,
            "address_unit": address_unit.as_str(),
        }),
    }
}

fn caller_from(c: &Value) -> Result<Caller, String> {
    Ok(match text(c, "kind")?.as_str() {
        "customer" => Caller::Customer {
            id: CustomerId(int(c, "id")?),
            supply_unit: path(c, "supply_unit")?,
            phone: opt_text(c, "phone")?.map(|p| phone(&p)).transpose()?,
            grid: opt_code(c, "grid", Grid::from_code)?,
            grade: opt_code(c, "grade", ServiceGrade::from_code)?,
        },
        "unidentified" => Caller::Unidentified {
            phone: phone(&text(c, "phone")?)?,
            name: CustomerName::parse(&text(c, "name")?)
                .map_err(|e| format!("caller name: {e}"))?,
            address: text(c, "address")?,
            address_unit: path(c, "address_unit")?,
        },
        other => return Err(format!("unknown caller kind '{other}'")),
    })
}

fn major_json(m: &MajorReason) -> Value {
    match m {
        MajorReason::SubCategory(c) => json!({"rule": "sub_category", "value": c.as_str()}),
        MajorReason::Keyword(k) => json!({"rule": "keyword", "value": k}),
        MajorReason::Manual(r) => json!({"rule": "manual", "value": r}),
    }
}

fn major_from(v: &Value) -> Result<MajorReason, String> {
    Ok(match text(v, "rule")?.as_str() {
        "sub_category" => MajorReason::SubCategory(sub_category(v, "value")?),
        "keyword" => MajorReason::Keyword(text(v, "value")?),
        "manual" => MajorReason::Manual(text(v, "value")?),
        other => return Err(format!("unknown major rule '{other}'")),
    })
}

fn reply_json(r: &Reply) -> Value {
    let fault = match &r.fault {
        Fault::NotAtFault => json!({"at_fault": false}),
        Fault::AtFault {
            responsible_unit,
            responsible_person,
        } => json!({
            "at_fault": true,
            "responsible_unit": responsible_unit.0,
            "responsible_person": responsible_person,
        }),
    };
    json!({
        "handled_at": r.handled_at.timestamp_millis(),
        "handler": r.handler,
        "actions_taken": r.actions_taken,
        "result_and_feedback": r.result_and_feedback,
        "fault": fault,
        "compensation": r.compensation.as_ref().map(|c| json!({
            "amount_fen": c.amount_fen,
            "cause": c.cause,
        })),
    })
}

fn reply_from(v: &Value) -> Result<Reply, String> {
    let f = v.get("fault").ok_or("fault is missing")?;
    let fault = match f.get("at_fault").and_then(Value::as_bool) {
        Some(false) => Fault::NotAtFault,
        Some(true) => Fault::AtFault {
            responsible_unit: OrgUnitId(int(f, "responsible_unit")?),
            responsible_person: opt_text(f, "responsible_person")?,
        },
        None => return Err("fault.at_fault is not a boolean".to_owned()),
    };
    let compensation = match v.get("compensation") {
        None | Some(Value::Null) => None,
        Some(c) => Some(Compensation {
            amount_fen: int(c, "amount_fen")?,
            cause: text(c, "cause")?,
        }),
    };
    let ms = int(v, "handled_at")?;
    Ok(Reply {
        handled_at: DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| format!("handled_at {ms} ms is out of range"))?,
        handler: text(v, "handler")?,
        actions_taken: text(v, "actions_taken")?,
        result_and_feedback: text(v, "result_and_feedback")?,
        fault,
        compensation,
    })
}

pub(crate) fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object().and_then(|m: &Map<String, Value>| m.get(key))
}

pub(crate) fn text(v: &Value, key: &str) -> Result<String, String> {
    field(v, key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("{key} is missing or not text"))
}

fn opt_text(v: &Value, key: &str) -> Result<Option<String>, String> {
    match field(v, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} is not text")),
    }
}

fn int(v: &Value, key: &str) -> Result<i64, String> {
    field(v, key)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("{key} is missing or not an integer"))
}

pub(crate) fn code<T>(v: &Value, key: &str, from: fn(&str) -> Option<T>) -> Result<T, String> {
    let s = text(v, key)?;
    from(&s).ok_or_else(|| format!("{key} has the unknown code '{s}'"))
}

fn opt_code<T>(v: &Value, key: &str, from: fn(&str) -> Option<T>) -> Result<Option<T>, String> {
    opt_text(v, key)?
        .map(|s| from(&s).ok_or_else(|| format!("{key} has the unknown code '{s}'")))
        .transpose()
}

fn path(v: &Value, key: &str) -> Result<OrgPath, String> {
    let s = text(v, key)?;
    OrgPath::from_stored(&s).ok_or_else(|| format!("{key} '{s}' is not an org path"))
}

fn sub_category(v: &Value, key: &str) -> Result<SubCategoryCode, String> {
    SubCategoryCode::parse(&text(v, key)?).map_err(|e| format!("{key}: {e}"))
}

fn phone(s: &str) -> Result<Phone, String> {
    Phone::parse(s).map_err(|e| format!("phone: {e}"))
}

fn number(s: &str) -> Result<OrderNumber, String> {
    OrderNumber::parse(s).map_err(|e| format!("order number: {e}"))
}

/// Encodes the whole order as the row's snapshot (JSON text), so reads need no replay.
pub fn encode_order(o: &Order) -> String {
    let ms = |t: DateTime<Utc>| t.timestamp_millis();
    let mut v = json!({
        "number": o.number.to_string(),
        "state": o.state.code(),
        "version": o.version,
        "opened_at": ms(o.opened_at),
        "updated_at": ms(o.updated_at),
        "channel": o.channel.code(),
        "caller": caller_json(&o.caller),
        "appeal_type": o.appeal_type.code(),
        "sub_category": o.sub_category.as_str(),
        "department": o.department.code(),
        "content": o.content,
        "priority": o.priority.code(),
        "major": o.major.as_ref().map(major_json),
        "repeat_of": o.repeat_of.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "idempotency_key": o.idempotency_key.as_ref().map(IdempotencyKey::as_str),
        "owner": o.owner.0,
        "host": o.host.as_ref().map(|h| json!({
            "unit": h.unit.as_str(),
            "department": h.department.code(),
        })),
        "assisting": o.assisting.iter().map(OrgPath::as_str).collect::<Vec<_>>(),
        "dispatcher": o.dispatcher.map(|s| s.0),
        "handler": o.handler.map(|s| s.0),
        "returns": o.returns.iter().map(|r| json!({
            "at": ms(r.at),
            "by": r.by.0,
            "unit": r.unit.as_str(),
            "reason": r.reason.code(),
            "text": r.text,
        })).collect::<Vec<_>>(),
        "chase_count": o.chase_count,
        "supervisions": o.supervisions.iter().map(|s| json!({
            "at": ms(s.at),
            "by": s.by.0,
            "reason": s.reason,
        })).collect::<Vec<_>>(),
        "reply": o.reply.as_ref().map(reply_json),
        "replied_by": o.replied_by.map(|s| s.0),
        "send_backs": o.send_backs.iter().map(|s| json!({
            "at": ms(s.at),
            "by": s.by.0,
            "reason": s.reason,
        })).collect::<Vec<_>>(),
        "visit_attempts": o.visit_attempts,
        "visit": o.visit.as_ref().map(|v| json!({
            "contact": v.contact.code(),
            "satisfaction": v.satisfaction.map(|s| s.code()),
            "comment": v.comment,
        })),
        "reopen_count": o.reopen_count,
        "archived_at": o.archived_at.map(ms),
    });
    // The instants the time limits run from, added apart (one `json!` this size hits the macro
    // recursion limit).
    if let Value::Object(map) = &mut v {
        map.insert("clock_from".into(), json!(ms(o.clock_from)));
        map.insert("dispatched_at".into(), json!(o.dispatched_at.map(ms)));
        map.insert("contacted_at".into(), json!(o.contacted_at.map(ms)));
        map.insert("contact_count".into(), json!(o.contact_count));
        map.insert("arrived_at".into(), json!(o.arrived_at.map(ms)));
        map.insert("reviewed_at".into(), json!(o.reviewed_at.map(ms)));
        let suspensions: Vec<Value> = o
            .suspensions
            .iter()
            .map(|s| {
                json!({
                    "from": ms(s.from),
                    "until": s.until.map(ms),
                    "reason": s.reason.code(),
                    "text": s.text,
                    "by": s.by.0,
                })
            })
            .collect();
        map.insert("suspensions".into(), Value::Array(suspensions));
        map.insert(
            "customer_rating".into(),
            json!(o.customer_rating.as_ref().map(|r| json!({
                "at": ms(r.at),
                "satisfaction": r.satisfaction.code(),
                "comment": r.comment,
            }))),
        );
    }
    compact(v).to_string()
}

/// Decodes a snapshot written by `encode_order`; the error names what is wrong.
pub fn decode_order(raw: &str) -> Result<Order, String> {
    let v: Value =
        serde_json::from_str(raw).map_err(|e| format!("order snapshot is not JSON: {e}"))?;
    let instant = |v: &Value, key: &str| {
        let ms = int(v, key)?;
        DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("{key} {ms} ms is out of range"))
    };
    let count = |key: &str| match field(&v, key) {
        None | Some(Value::Null) => Ok(0),
        Some(_) => u32::try_from(int(&v, key)?).map_err(|_| format!("{key} is not a small count")),
    };
    let staff = |key: &str| Ok::<_, String>(opt_int(&v, key)?.map(StaffId));
    let host = match field(&v, "host") {
        None | Some(Value::Null) => None,
        Some(h) => Some(Assignment {
            unit: path(h, "unit")?,
            department: code(h, "department", DepartmentKind::from_code)?,
        }),
    };
    let returns = opt_list(&v, "returns")?
        .iter()
        .map(|r| {
            Ok(ReturnRecord {
                at: instant(r, "at")?,
                by: StaffId(int(r, "by")?),
                unit: path(r, "unit")?,
                reason: code(r, "reason", ReturnReason::from_code)?,
                text: opt_text(r, "text")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let supervisions = opt_list(&v, "supervisions")?
        .iter()
        .map(|s| {
            Ok(Supervision {
                at: instant(s, "at")?,
                by: StaffId(int(s, "by")?),
                reason: text(s, "reason")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let send_backs = opt_list(&v, "send_backs")?
        .iter()
        .map(|s| {
            Ok(SendBack {
                at: instant(s, "at")?,
                by: StaffId(int(s, "by")?),
                reason: text(s, "reason")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let assisting = opt_list(&v, "assisting")?
        .iter()
        .map(|p| {
            p.as_str()
                .and_then(OrgPath::from_stored)
                .ok_or_else(|| "assisting holds a bad org path".to_owned())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let visit = match field(&v, "visit") {
        None | Some(Value::Null) => None,
        Some(x) => Some(Visit {
            contact: code(x, "contact", ContactResult::from_code)?,
            satisfaction: opt_code(x, "satisfaction", Satisfaction::from_code)?,
            comment: opt_text(x, "comment")?,
        }),
    };
    let reply = match field(&v, "reply") {
        None | Some(Value::Null) => None,
        Some(r) => Some(reply_from(r)?),
    };
    // Instants absent from snapshots written before the SLA fields existed read as unset.
    let opt_instant = |key: &str| match field(&v, key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => instant(&v, key).map(Some),
    };
    let archived_at = opt_instant("archived_at")?;
    let opened_at = instant(&v, "opened_at")?;
    let suspensions = opt_list(&v, "suspensions")?
        .iter()
        .map(|s| {
            Ok(SuspensionRecord {
                from: instant(s, "from")?,
                until: match field(s, "until") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(instant(s, "until")?),
                },
                reason: code(s, "reason", SuspendReason::from_code)?,
                text: opt_text(s, "text")?,
                by: StaffId(int(s, "by")?),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    // Absent from snapshots written before online ratings existed: none given.
    let customer_rating = match field(&v, "customer_rating") {
        None | Some(Value::Null) => None,
        Some(r) => Some(CustomerRating {
            at: instant(r, "at")?,
            satisfaction: code(r, "satisfaction", Satisfaction::from_code)?,
            comment: opt_text(r, "comment")?,
        }),
    };
    let repeat_of = opt_list(&v, "repeat_of")?
        .iter()
        .map(|n| {
            n.as_str()
                .ok_or_else(|| "repeat_of holds a non-text".to_owned())
                .and_then(number)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Order {
        number: number(&text(&v, "number")?)?,
        state: code(&v, "state", State::from_code)?,
        version: u64::try_from(int(&v, "version")?).map_err(|_| "version is negative")?,
        opened_at,
        updated_at: instant(&v, "updated_at")?,
        channel: code(&v, "channel", Channel::from_code)?,
        caller: caller_from(field(&v, "caller").ok_or("caller is missing")?)?,
        appeal_type: code(&v, "appeal_type", AppealType::from_code)?,
        sub_category: sub_category(&v, "sub_category")?,
        department: code(&v, "department", DepartmentKind::from_code)?,
        content: text(&v, "content")?,
        priority: code(&v, "priority", Priority::from_code)?,
        major: match field(&v, "major") {
            None | Some(Value::Null) => None,
            Some(m) => Some(major_from(m)?),
        },
        repeat_of,
        idempotency_key: opt_text(&v, "idempotency_key")?
            .map(|k| IdempotencyKey::parse(&k).map_err(|e| format!("idempotency key: {e}")))
            .transpose()?,
        owner: StaffId(int(&v, "owner")?),
        host,
        assisting,
        dispatcher: staff("dispatcher")?,
        handler: staff("handler")?,
        returns,
        chase_count: count("chase_count")?,
        supervisions,
        reply,
        replied_by: staff("replied_by")?,
        send_backs,
        visit_attempts: count("visit_attempts")?,
        visit,
        reopen_count: count("reopen_count")?,
        archived_at,
        clock_from: opt_instant("clock_from")?.unwrap_or(opened_at),
        dispatched_at: opt_instant("dispatched_at")?,
        contacted_at: opt_instant("contacted_at")?,
        contact_count: count("contact_count")?,
        arrived_at: opt_instant("arrived_at")?,
        reviewed_at: opt_instant("reviewed_at")?,
        suspensions,
        customer_rating,
    })
}

fn opt_int(v: &Value, key: &str) -> Result<Option<i64>, String> {
    match field(v, key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{key} is not an integer")),
    }
}

/// A list that `compact` leaves out when empty.
fn opt_list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match field(v, key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key} is not a list")),
    }
}

pub(crate) fn list<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    field(v, key)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{key} is missing or not a list"))
}

#[cfg(test)]
#[path = "workorder_codec_tests.rs"]
mod tests;
