//! View models of the work-order pages: rows of the list, the order page with its deadlines and
//! timeline, and the action forms the viewer may use — localised, built from the API's DTOs.

use std::collections::HashMap;

use kefu_domain::calendar::{Limit, LimitKind};
use kefu_domain::org::DepartmentKind;
use kefu_domain::sla::AlertLevel;
use kefu_domain::workorder::{
    Action, AppealType, Catalogue, Channel, ContactResult, FaultFinding, Priority, ReturnReason,
    Satisfaction, State, SuspendReason, roles_for,
};
use serde_json::Value;

use super::Lang;
use super::view::shanghai_time;
use crate::auth::Caller;
use crate::workorder::dto::{EventDto, OrderDto};

/// A vocabulary code as a label in `lang` (the code itself when unknown).
macro_rules! vocab {
    ($lang:expr, $ty:ty, $code:expr) => {{
        let code: &str = $code;
        <$ty>::from_code(code).map_or_else(
            || code.to_owned(),
            |v| $lang.pick(v.label_zh(), v.label_en()).to_owned(),
        )
    }};
}

/// The CSS class and label of an SLA status code.
pub fn sla_badge(lang: Lang, status: &str) -> (String, String) {
    let o = lang.o();
    let label = match status {
        "warning" => o.sla_warning,
        "overdue" => o.sla_overdue,
        "suspended" => o.sla_suspended,
        _ => o.sla_normal,
    };
    (format!("sla sla-{status}"), label.to_owned())
}

/// An RFC 3339 instant with offset as the centre reads it: `2026-02-14 16:00`.
pub fn local_text(rfc3339: &str) -> String {
    rfc3339.replacen('T', " ", 1).chars().take(16).collect()
}

/// A unit's name, or its id when it lies outside the viewer's tree.
fn unit_name(units: &HashMap<i64, String>, id: Option<i64>) -> String {
    id.map(|i| units.get(&i).cloned().unwrap_or_else(|| format!("#{i}")))
        .unwrap_or_default()
}

/// The sub-category's name in `lang`, from the catalogue.
fn sub_name(lang: Lang, catalogue: &Catalogue, code: &str) -> String {
    catalogue
        .entries()
        .iter()
        .find(|s| s.code.as_str() == code)
        .map_or_else(
            || code.to_owned(),
            |s| match lang {
                Lang::Zh => s.name_zh.clone(),
                Lang::En => s.name_en.clone(),
            },
        )
}

/// One order in a list.
pub struct OrderRow {
    pub number: String,
    pub state: String,
    pub appeal: String,
    pub channel: String,
    pub unit: String,
    pub opened: String,
    pub due: String,
    pub sla_class: String,
    pub sla_label: String,
    pub major: bool,
    pub repeat: bool,
    pub supervised: bool,
}

impl OrderRow {
    /// The row of `o`.
    pub fn new(o: &OrderDto, lang: Lang, units: &HashMap<i64, String>, cat: &Catalogue) -> Self {
        let (sla_class, sla_label) = sla_badge(lang, &o.sla.status);
        let due = o
            .sla
            .running
            .iter()
            .filter_map(|t| t.due_at.as_deref())
            .min()
            .map(local_text)
            .unwrap_or_default();
        let unit = o
            .host
            .as_ref()
            .and_then(|h| h.unit_id)
            .or(o.caller.territory_unit_id);
        OrderRow {
            number: o.number.clone(),
            state: vocab!(lang, State, &o.state),
            appeal: format!(
                "{} · {}",
                vocab!(lang, AppealType, &o.appeal_type),
                sub_name(lang, cat, &o.sub_category)
            ),
            channel: vocab!(lang, Channel, &o.channel),
            unit: unit_name(units, unit),
            opened: shanghai_time(o.opened_at),
            due,
            sla_class,
            sla_label,
            major: o.major.is_some(),
            repeat: !o.repeat_of.is_empty(),
            supervised: !o.supervisions.is_empty() && o.state != State::Archived.code(),
        }
    }
}

/// One running deadline on the order page.
pub struct DeadlineRow {
    pub kind: String,
    pub limit: String,
    pub due: String,
    pub warn: String,
    pub escalate: String,
    pub raised: String,
}

/// One step of the timeline on the order page.
pub struct StepRow {
    pub at: String,
    pub who: String,
    pub step: String,
    pub states: String,
    pub details: String,
    pub alert: bool,
}

/// A `(value, label)` option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// Everything the order page shows.
pub struct OrderView {
    pub number: String,
    pub version: u64,
    pub state: String,
    pub appeal: String,
    pub channel: String,
    pub priority: String,
    pub major: String,
    pub caller: String,
    pub customer_id: Option<i64>,
    pub phone: String,
    pub content: String,
    pub department: String,
    pub owner: String,
    pub host: String,
    pub assisting: String,
    pub repeat_of: Vec<String>,
    pub chase_count: u32,
    pub returns: Vec<String>,
    pub reply: Vec<(String, String)>,
    pub visit: String,
    /// The customer's online rating: its heading and its text (empty when none).
    pub customer_rating_label: String,
    pub customer_rating: String,
    pub sla_class: String,
    pub sla_label: String,
    pub suspended: bool,
    pub masked: bool,
    pub deadlines: Vec<DeadlineRow>,
    pub timeline: Vec<StepRow>,
}

/// The label of a 1–5 score found in an event's details.
fn score_label(lang: Lang, v: Option<&Value>) -> String {
    v.and_then(Value::as_u64)
        .and_then(|n| u8::try_from(n).ok())
        .and_then(Satisfaction::from_score)
        .map(|s| lang.pick(s.label_zh(), s.label_en()).to_owned())
        .unwrap_or_default()
}

fn detail_text(lang: Lang, e: &EventDto, units: &HashMap<i64, String>, cat: &Catalogue) -> String {
    let d = &e.details;
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let unit = || unit_name(units, d.get("unit_id").and_then(Value::as_i64));
    let parts: Vec<String> = match e.kind.as_str() {
        "opened" => vec![
            vocab!(lang, Channel, &s("channel")),
            sub_name(lang, cat, &s("sub_category")),
        ],
        "dispatched" => vec![
            unit(),
            vocab!(lang, DepartmentKind, &s("department")),
            s("override_reason"),
        ],
        "reclassified" => vec![sub_name(lang, cat, &s("sub_category"))],
        "returned" => vec![unit(), vocab!(lang, ReturnReason, &s("reason")), s("text")],
        "suspended" => vec![vocab!(lang, SuspendReason, &s("reason")), s("text")],
        "visited" => vec![
            vocab!(lang, ContactResult, &s("contact")),
            d.get("satisfaction")
                .and_then(Value::as_u64)
                .and_then(|n| u8::try_from(n).ok())
                .and_then(Satisfaction::from_score)
                .map(|v| lang.pick(v.label_zh(), v.label_en()).to_owned())
                .unwrap_or_default(),
            s("comment"),
        ],
        "customer_rated" => vec![score_label(lang, d.get("satisfaction")), s("comment")],
        "replied" => vec![s("actions_taken"), s("result_and_feedback")],
        "assist_added" => vec![unit()],
        "flagged_major" => vec![s("detail")],
        k if k.starts_with("sla_") => vec![
            vocab!(lang, LimitKind, &s("limit")),
            unit(),
            d.get("due_at")
                .and_then(Value::as_str)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| shanghai_time(t.with_timezone(&chrono::Utc)))
                .unwrap_or_default(),
        ],
        _ => vec![s("reason"), s("note")],
    };
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

impl OrderView {
    /// The page view of `o` and its timeline.
    pub fn new(
        o: &OrderDto,
        timeline: &[EventDto],
        lang: Lang,
        units: &HashMap<i64, String>,
        staff: &HashMap<i64, String>,
        cat: &Catalogue,
    ) -> Self {
        let who = |id: i64| staff.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
        let (sla_class, sla_label) = sla_badge(lang, &o.sla.status);
        let caller = match (&o.caller.name, o.caller.customer_id) {
            (Some(n), _) => n.clone(),
            (None, Some(id)) => format!("#{id}"),
            (None, None) => String::new(),
        };
        let mut reply = Vec::new();
        if let Some(r) = &o.reply {
            let t = lang.o();
            reply = vec![
                (t.handled_at.to_owned(), shanghai_time(r.handled_at)),
                (t.handler.to_owned(), r.handler.clone()),
                (t.actions_taken.to_owned(), r.actions_taken.clone()),
                (
                    t.result_and_feedback.to_owned(),
                    r.result_and_feedback.clone(),
                ),
                (t.fault.to_owned(), vocab!(lang, FaultFinding, &r.fault)),
            ];
            if let Some(u) = r.responsible_unit_id {
                reply.push((t.responsible_unit.to_owned(), unit_name(units, Some(u))));
            }
            if let Some(p) = &r.responsible_person {
                reply.push((t.responsible_person.to_owned(), p.clone()));
            }
            if let Some(fen) = r.compensation_amount_fen {
                reply.push((
                    t.compensation_yuan.to_owned(),
                    format!("{}.{:02}", fen / 100, fen % 100),
                ));
            }
        }
        OrderView {
            number: o.number.clone(),
            version: o.version,
            state: vocab!(lang, State, &o.state),
            appeal: format!(
                "{} · {}",
                vocab!(lang, AppealType, &o.appeal_type),
                sub_name(lang, cat, &o.sub_category)
            ),
            channel: vocab!(lang, Channel, &o.channel),
            priority: vocab!(lang, Priority, &o.priority),
            major: o
                .major
                .as_ref()
                .map(|m| format!("{} ({})", m.detail, m.rule))
                .unwrap_or_default(),
            caller,
            customer_id: o.caller.customer_id,
            phone: o.caller.phone.clone().unwrap_or_default(),
            content: o.content.clone(),
            department: vocab!(lang, DepartmentKind, &o.department),
            owner: who(o.owner_id),
            host: o
                .host
                .as_ref()
                .map(|h| {
                    format!(
                        "{} · {}",
                        unit_name(units, h.unit_id),
                        vocab!(lang, DepartmentKind, &h.department)
                    )
                })
                .unwrap_or_default(),
            assisting: o
                .assisting_unit_ids
                .iter()
                .map(|u| unit_name(units, *u))
                .collect::<Vec<_>>()
                .join("，"),
            repeat_of: o.repeat_of.clone(),
            chase_count: o.chase_count,
            returns: o
                .returns
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {}{}",
                        shanghai_time(r.at),
                        unit_name(units, r.unit_id),
                        vocab!(lang, ReturnReason, &r.reason),
                        r.text
                            .as_deref()
                            .map(|t| format!("：{t}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
            reply,
            visit: o
                .visit
                .as_ref()
                .map(|v| {
                    let score = v
                        .satisfaction
                        .and_then(Satisfaction::from_score)
                        .map(|s| lang.pick(s.label_zh(), s.label_en()))
                        .unwrap_or("");
                    let contact = vocab!(lang, ContactResult, &v.contact);
                    if score.is_empty() {
                        contact
                    } else {
                        format!("{contact} · {score}")
                    }
                })
                .unwrap_or_default(),
            customer_rating_label: lang
                .pick(
                    Action::CustomerRate.label_zh(),
                    Action::CustomerRate.label_en(),
                )
                .to_owned(),
            customer_rating: o
                .customer_rating
                .as_ref()
                .map(|r| {
                    let score = Satisfaction::from_score(r.satisfaction)
                        .map(|s| lang.pick(s.label_zh(), s.label_en()))
                        .unwrap_or("");
                    let comment = r.comment.as_deref().map(|c| format!(" · {c}"));
                    format!("{score}{}", comment.unwrap_or_default())
                })
                .unwrap_or_default(),
            sla_class,
            sla_label,
            suspended: o.sla.suspended,
            masked: o.personal_data_masked,
            deadlines: o
                .sla
                .running
                .iter()
                .map(|t| DeadlineRow {
                    kind: vocab!(lang, LimitKind, &t.kind),
                    limit: Limit::parse_code("limit", &t.limit).map_or_else(
                        |_| t.limit.clone(),
                        |l| match lang {
                            Lang::Zh => l.label_zh(),
                            Lang::En => l.to_string(),
                        },
                    ),
                    due: t
                        .due_at
                        .as_deref()
                        .map(local_text)
                        .unwrap_or_else(|| "—".into()),
                    warn: t.warn_at.as_deref().map(local_text).unwrap_or_default(),
                    escalate: t.escalate_at.as_deref().map(local_text).unwrap_or_default(),
                    raised: t
                        .raised
                        .as_deref()
                        .map(|r| vocab!(lang, AlertLevel, r))
                        .unwrap_or_default(),
                })
                .collect(),
            timeline: timeline
                .iter()
                .map(|e| {
                    let alert = e.kind.starts_with("sla_");
                    let step = match (&e.action, alert) {
                        (_, true) => vocab!(lang, AlertLevel, e.kind.trim_start_matches("sla_")),
                        (Some(a), false) => vocab!(lang, Action, a),
                        (None, false) => vocab!(lang, Action, "intake"),
                    };
                    let states = match &e.from {
                        Some(f) if f != &e.to => {
                            format!(
                                "{} → {}",
                                vocab!(lang, State, f),
                                vocab!(lang, State, &e.to)
                            )
                        }
                        _ => vocab!(lang, State, &e.to),
                    };
                    StepRow {
                        at: shanghai_time(e.at),
                        who: if alert {
                            lang.o().system.to_owned()
                        } else {
                            who(e.actor_id)
                        },
                        step,
                        states,
                        details: detail_text(lang, e, units, cat),
                        alert,
                    }
                })
                .collect(),
        }
    }
}

/// Which action forms the viewer gets: allowed in the order's state and held by one of their
/// roles (the server still checks units and the rest).
pub fn actions_for(o: &OrderDto, caller: &Caller) -> Vec<Action> {
    let fault_repair = o.appeal_type == AppealType::FaultRepair.code();
    let watching = o.supervisions.iter().any(|s| s.by == caller.staff.id.0);
    // Agents and dispatchers reopen only for a dissatisfied customer (on the visit or online).
    let dissatisfied = o
        .visit
        .as_ref()
        .and_then(|v| v.satisfaction)
        .into_iter()
        .chain(o.customer_rating.as_ref().map(|r| r.satisfaction))
        .any(|s| s <= 2);
    let supervisor = caller.roles.has(kefu_domain::auth::Role::Supervisor);
    o.allowed_actions
        .iter()
        .filter_map(|a| Action::from_code(a))
        .filter(|a| roles_for(*a).iter().any(|r| caller.roles.has(*r)))
        // Forms the order's own record already rules out are not offered.
        .filter(|a| match a {
            Action::Suspend => !o.sla.suspended,
            Action::Resume => o.sla.suspended,
            Action::Arrive => fault_repair && o.sla.arrived_at.is_none(),
            Action::FlagMajor => o.major.is_none(),
            Action::Supervise => !watching,
            Action::Reopen => supervisor || dissatisfied,
            _ => true,
        })
        .collect()
}

/// Select options from a vocabulary.
pub fn choices<T: Copy>(
    lang: Lang,
    all: &[T],
    code: fn(T) -> &'static str,
    zh: fn(T) -> &'static str,
    en: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: code(*v).to_owned(),
            label: lang.pick(zh(*v), en(*v)).to_owned(),
        })
        .collect()
}

/// The catalogue's sub-categories as options, labelled `type · name`.
pub fn sub_category_choices(lang: Lang, cat: &Catalogue) -> Vec<Choice> {
    cat.entries()
        .iter()
        .map(|s| Choice {
            value: s.code.as_str().to_owned(),
            label: format!(
                "{} · {}",
                lang.pick(s.appeal_type.label_zh(), s.appeal_type.label_en()),
                match lang {
                    Lang::Zh => &s.name_zh,
                    Lang::En => &s.name_en,
                }
            ),
        })
        .collect()
}
