//! `kefu export orders`: work orders as rows (number, state, channel, appeal, sub-category,
//! priority, home unit, caller, content, opened / due / archived in the centre's time, flags),
//! newest first, keyset page by page with the store's list filters. The caller's phone is
//! masked as an administrator sees it unless `--unmasked`; names and addresses of callers
//! outside the archive are personal data too and are left out unless `--unmasked`.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use kefu_domain::mask::mask_phone;
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{Caller, Order};
use kefu_store::{MAX_PAGE_SIZE, OrderFilter, PageRequest, Store, StoredOrder};

use super::sink::Sink;

/// The header of an order export.
pub const HEADER: [&str; 16] = [
    "工单编号",
    "状态",
    "受理渠道",
    "诉求类型",
    "业务子类",
    "紧急程度",
    "承办单位",
    "户号ID",
    "来电号码",
    "客户姓名",
    "地址",
    "受理内容",
    "受理时间",
    "办结时限",
    "归档时间",
    "标记",
];

fn local(at: Option<DateTime<Utc>>, offset: FixedOffset) -> String {
    at.map(|t| {
        t.with_timezone(&offset)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    })
    .unwrap_or_default()
}

fn flags(o: &Order) -> String {
    let mut f = Vec::new();
    if o.major.is_some() {
        f.push("重大");
    }
    if !o.repeat_of.is_empty() {
        f.push("重复");
    }
    if o.is_supervised() {
        f.push("督办");
    }
    f.join(",")
}

/// One order's cells, in `HEADER` order.
pub fn cells(
    s: &StoredOrder,
    codes: &HashMap<i64, String>,
    offset: FixedOffset,
    unmasked: bool,
) -> Vec<String> {
    let o = &s.order;
    let phone = |p: &str| {
        if unmasked {
            p.to_owned()
        } else {
            mask_phone(p)
        }
    };
    let (customer, phone, name, address) = match &o.caller {
        Caller::Customer { id, phone: p, .. } => (
            id.0.to_string(),
            p.as_ref().map(|p| phone(p.as_str())).unwrap_or_default(),
            String::new(),
            String::new(),
        ),
        Caller::Unidentified {
            phone: p,
            name,
            address,
            ..
        } => (
            String::new(),
            phone(p.as_str()),
            if unmasked {
                name.as_str().to_owned()
            } else {
                String::new()
            },
            if unmasked {
                address.clone()
            } else {
                String::new()
            },
        ),
    };
    let unit = o
        .home_unit()
        .unit()
        .and_then(|u| codes.get(&u.0).cloned())
        .unwrap_or_else(|| o.home_unit().as_str().to_owned());
    let due = s.sla.iter().filter_map(|t| t.due_at).min();
    vec![
        o.number.to_string(),
        o.state.label_zh().to_owned(),
        o.channel.label_zh().to_owned(),
        o.appeal_type.label_zh().to_owned(),
        o.sub_category.to_string(),
        o.priority.label_zh().to_owned(),
        unit,
        customer,
        phone,
        name,
        address,
        o.content.clone(),
        local(Some(o.opened_at), offset),
        local(due, offset),
        local(o.archived_at, offset),
        flags(o),
    ]
}

/// Writes every order in `scope` the filter selects, newest first; returns how many.
pub async fn write(
    store: &dyn Store,
    filter: &OrderFilter,
    scope: &OrgPath,
    codes: &HashMap<i64, String>,
    offset: FixedOffset,
    unmasked: bool,
    sink: &mut Sink,
) -> anyhow::Result<u64> {
    let mut after = None;
    let mut n = 0;
    loop {
        let page = store
            .list_orders(filter, scope, PageRequest::new(after, Some(MAX_PAGE_SIZE)))
            .await?;
        for s in &page.items {
            sink.row(&cells(s, codes, offset, unmasked))?;
            n += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(n),
        }
    }
}
