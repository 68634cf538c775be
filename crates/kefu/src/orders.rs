//! `kefu orders list|show`: work orders for administrators and scripts, read straight from the
//! store (like `admin list-users`), over the whole org tree or one unit's subtree. `list` prints
//! a tab-separated table, newest first; `show` prints the order and its whole timeline. Caller
//! phones are never printed.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use kefu_domain::ids::{OrgUnitId, StaffId};
use kefu_domain::org::{OrgCode, OrgPath};
use kefu_domain::workorder::{Caller, EventKind, MajorReason, Order, OrderNumber, State};
use kefu_store::{OrderFilter, PageRequest, Store};

use crate::cli::{OrdersListArgs, OrdersShowArgs};
use crate::config::Config;
use crate::db;

/// The most orders `list` prints.
pub const MAX_LIST: u32 = 10_000;
/// The centre's offset from UTC (Beijing time), for printed times.
const CENTRE_OFFSET_HOURS: i64 = 8;

/// The subtree to read: `--unit CODE`, else the whole tree (the root of unit 1's tree).
pub(crate) async fn scope(store: &dyn Store, unit: Option<&str>) -> anyhow::Result<OrgPath> {
    if let Some(raw) = unit {
        let code = OrgCode::parse(raw).map_err(|e| anyhow::anyhow!("--unit: {}", e.reason))?;
        let unit = store
            .get_org_unit_by_code(&code)
            .await?
            .with_context(|| format!("--unit: there is no org unit with code '{raw}'"))?;
        return Ok(unit.path);
    }
    let first = store
        .get_org_unit(OrgUnitId(1))
        .await?
        .context("the org tree is empty, so there are no orders")?;
    let root = first.path.ids().first().copied().unwrap_or(first.id);
    Ok(OrgPath::root(root))
}

/// An instant in Beijing time, as the centre reads it.
fn local(at: DateTime<Utc>) -> String {
    (at + Duration::hours(CENTRE_OFFSET_HOURS))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Unit id → code, for the units in `scope`.
pub(crate) async fn unit_codes(
    store: &dyn Store,
    scope: &OrgPath,
) -> anyhow::Result<HashMap<i64, String>> {
    Ok(store
        .list_org_units(scope)
        .await?
        .into_iter()
        .map(|u| (u.id.0, u.code.as_str().to_owned()))
        .collect())
}

fn code_of(codes: &HashMap<i64, String>, path: &OrgPath) -> String {
    path.unit()
        .and_then(|u| codes.get(&u.0).cloned())
        .unwrap_or_else(|| path.as_str().to_owned())
}

fn flags(o: &Order) -> String {
    let mut f = Vec::new();
    if o.major.is_some() {
        f.push("major");
    }
    if !o.repeat_of.is_empty() {
        f.push("repeat");
    }
    if o.is_supervised() {
        f.push("supervised");
    }
    f.join(",")
}

/// `kefu orders list`: a table of the orders, newest first.
pub async fn list(config: &Config, args: &OrdersListArgs) -> anyhow::Result<()> {
    let state = match args.state.as_deref() {
        Some(s) => Some(
            State::parse_code("state", s.trim())
                .map_err(|e| anyhow::anyhow!("--state: {}", e.reason))?,
        ),
        None => None,
    };
    if !(1..=MAX_LIST).contains(&args.limit) {
        anyhow::bail!("--limit: use 1 to {MAX_LIST}");
    }
    let store = db::open_migrated(&config.database).await?;
    let scope = scope(store.as_ref(), args.unit.as_deref()).await?;
    let codes = unit_codes(store.as_ref(), &scope).await?;
    let filter = OrderFilter {
        state,
        ..OrderFilter::default()
    };
    println!("number\tstate\tsub_category\tchannel\tpriority\tunit\topened\tversion\tflags");
    let mut left = args.limit;
    let mut after = None;
    while left > 0 {
        let page = store
            .list_orders(
                &filter,
                &scope,
                PageRequest::new(after, Some(left.min(200))),
            )
            .await?;
        for s in &page.items {
            let o = &s.order;
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                o.number,
                o.state.code(),
                o.sub_category,
                o.channel.code(),
                o.priority.code(),
                code_of(&codes, o.home_unit()),
                local(o.opened_at),
                o.version,
                flags(o),
            );
        }
        left = left.saturating_sub(u32::try_from(page.items.len()).unwrap_or(u32::MAX));
        match page.next {
            Some(next) if !page.items.is_empty() => after = Some(next),
            _ => break,
        }
    }
    Ok(())
}

/// Staff id → login name, looked up once each.
async fn usernames(
    store: &dyn Store,
    ids: impl Iterator<Item = StaffId>,
) -> anyhow::Result<HashMap<i64, String>> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id.0) {
            continue;
        }
        let name = store.get_staff(id).await?.map_or_else(
            || format!("staff:{}", id.0),
            |s| s.username.as_str().to_owned(),
        );
        names.insert(id.0, name);
    }
    Ok(names)
}

fn major_text(m: &MajorReason) -> String {
    match m {
        MajorReason::SubCategory(c) => format!("sub-category {c}"),
        MajorReason::Keyword(k) => format!("keyword '{k}'"),
        MajorReason::Manual(r) => format!("by hand: {r}"),
    }
}

/// What a step recorded, in one line.
fn what(kind: &EventKind, codes: &HashMap<i64, String>) -> String {
    match kind {
        EventKind::Opened(i) => format!(
            "taken via {} as {} ({})",
            i.channel.code(),
            i.sub_category,
            i.priority.code()
        ),
        EventKind::Dispatched {
            assignment,
            override_reason,
        } => {
            let mut s = format!(
                "to unit {} / {}",
                code_of(codes, &assignment.unit),
                assignment.department.code()
            );
            if let Some(r) = override_reason {
                s.push_str(&format!(" (override: {r})"));
            }
            s
        }
        EventKind::Reclassified { sub_category, .. } => format!("now {sub_category}"),
        EventKind::Accepted => "accepted".into(),
        EventKind::Returned { unit, reason, text } => format!(
            "returned by unit {}: {}{}",
            code_of(codes, unit),
            reason.code(),
            text.as_ref().map(|t| format!(" — {t}")).unwrap_or_default()
        ),
        EventKind::Chased { note } => format!(
            "chased{}",
            note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
        ),
        EventKind::Supervised { reason } => format!("supervised: {reason}"),
        EventKind::Replied(r) => format!("reply by {}: {}", r.handler, r.result_and_feedback),
        EventKind::Approved => "reply approved".into(),
        EventKind::SentBack { reason } => format!("reply sent back: {reason}"),
        EventKind::Visited(v) => format!(
            "visit {}{}",
            v.contact.code(),
            v.satisfaction
                .map(|s| format!(", satisfaction {}", s.score()))
                .unwrap_or_default()
        ),
        EventKind::Reopened { reason } => format!("reopened: {reason}"),
        EventKind::Archived => "archived".into(),
        EventKind::AssistAdded { unit } => format!("assisting unit {}", code_of(codes, unit)),
        EventKind::FlaggedMajor(m) => format!("flagged major, {}", major_text(m)),
        EventKind::Contacted { note } => format!("contacted the customer{}", opt(note)),
        EventKind::Arrived { note } => format!("arrived on site{}", opt(note)),
        EventKind::Suspended { reason, text } => {
            format!("suspended: {}{}", reason.code(), opt(text))
        }
        EventKind::Resumed { note } => format!("resumed{}", opt(note)),
        EventKind::CustomerRated {
            satisfaction,
            comment,
        } => format!(
            "customer rated online, satisfaction {}{}",
            satisfaction.score(),
            opt(comment)
        ),
    }
}

fn opt(text: &Option<String>) -> String {
    text.as_deref()
        .map(|t| format!(": {t}"))
        .unwrap_or_default()
}

/// `kefu orders show NUMBER`: the order and its whole timeline.
pub async fn show(config: &Config, args: &OrdersShowArgs) -> anyhow::Result<()> {
    let number =
        OrderNumber::parse(&args.number).map_err(|e| anyhow::anyhow!("NUMBER: {}", e.reason))?;
    let store = db::open_migrated(&config.database).await?;
    let scope = scope(store.as_ref(), None).await?;
    let stored = store
        .get_order(&number, &scope)
        .await?
        .with_context(|| format!("there is no order {number}"))?;
    let timeline = store.timeline(&number, &scope).await?;
    let alerts = store.alerts(&number, &scope).await?;
    let codes = unit_codes(store.as_ref(), &scope).await?;
    let names = usernames(
        store.as_ref(),
        timeline
            .iter()
            .map(|e| e.event.actor)
            .chain([stored.order.owner])
            .chain(alerts.iter().flat_map(|a| a.supervisors.iter().copied())),
    )
    .await?;
    let o = &stored.order;
    let name = |id: StaffId| names.get(&id.0).cloned().unwrap_or_default();
    println!("order       {}", o.number);
    println!("state       {} (version {})", o.state.code(), o.version);
    println!("appeal      {} / {}", o.appeal_type.code(), o.sub_category);
    println!("channel     {}", o.channel.code());
    println!("priority    {}", o.priority.code());
    if let Some(m) = &o.major {
        println!("major       {}", major_text(m));
    }
    let caller = match &o.caller {
        Caller::Customer { id, .. } => format!("customer {}", id.0),
        Caller::Unidentified { name, .. } => format!("unidentified caller {}", name.as_str()),
    };
    println!("caller      {caller}");
    println!("unit        {}", code_of(&codes, o.home_unit()));
    println!("owner       {}", name(o.owner));
    println!("opened      {}", local(o.opened_at));
    if !o.repeat_of.is_empty() {
        let list: Vec<String> = o.repeat_of.iter().map(ToString::to_string).collect();
        println!("repeats     {}", list.join(", "));
    }
    println!("content     {}", o.content);
    for t in &stored.sla {
        println!(
            "due         {} {} ({}{})",
            t.kind.code(),
            t.due_at.map_or_else(|| "suspended".to_owned(), local),
            t.limit.label_zh(),
            t.raised
                .map(|r| format!(", {}", r.code()))
                .unwrap_or_default()
        );
    }
    println!();
    println!("version\tat\tby\tfrom\tto\twhat");
    for e in &timeline {
        let ev = &e.event;
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            ev.version,
            local(ev.at),
            name(ev.actor),
            ev.from.map_or("-", |s| s.code()),
            ev.to.code(),
            what(&ev.kind, &codes),
        );
    }
    for a in &alerts {
        println!(
            "-\t{}\tsweep\t-\t-\t{} {} → unit {} (supervisors: {})",
            local(a.raised_at),
            a.kind.code(),
            a.level.code(),
            code_of(&codes, &a.unit),
            a.supervisors
                .iter()
                .map(|s| name(*s))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
