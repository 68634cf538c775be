//! View models: what a page shows, already localised and masked, built from the API's DTOs.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use kefu_domain::customer::{
    BusinessFormat, CustomerStatus, Grid, IdKind, Scale, ServiceGrade, SpecialDateKind,
    UsageCategory, ValueTier, Voltage,
};

use super::{Lang, Text, Viewer};
use crate::customer::dto::{CustomerDto, HistoryEventDto};
use crate::error::{ApiError, ErrorCode};

/// The top bar of every signed-in page.
pub struct TopBar {
    pub user: String,
    pub unit: String,
    pub roles: String,
    pub csrf: String,
    pub switch_href: String,
    pub orders_label: &'static str,
    pub board_label: &'static str,
    pub search_label: &'static str,
    pub knowledge_label: &'static str,
    /// The customer-import page's link, for those who may import (else empty).
    pub imports_label: &'static str,
}

impl TopBar {
    /// The bar for `viewer`, naming their unit from `units`.
    pub fn new(viewer: &Viewer, units: &HashMap<i64, String>, here: &str) -> Self {
        let lang = viewer.lang;
        let staff = &viewer.caller.staff;
        let csrf = match &viewer.caller.method {
            crate::auth::AuthMethod::Session { csrf_token, .. } => csrf_token.clone(),
            crate::auth::AuthMethod::ApiToken | crate::auth::AuthMethod::Portal => String::new(),
        };
        TopBar {
            user: format!("{} ({})", staff.display_name, staff.username.as_str()),
            unit: units.get(&staff.org_unit_id.0).cloned().unwrap_or_default(),
            roles: viewer
                .caller
                .roles
                .as_slice()
                .iter()
                .map(|r| lang.pick(r.label_zh(), r.label_en()))
                .collect::<Vec<_>>()
                .join(" · "),
            csrf,
            switch_href: format!("/ui/lang/{}?next={}", lang.other().code(), url_encode(here)),
            orders_label: lang.o().orders,
            board_label: lang.o().board,
            search_label: lang.pick("工单检索", "Order search"),
            knowledge_label: lang.pick("知识库", "Knowledge base"),
            imports_label: if viewer
                .caller
                .roles
                .allows(kefu_domain::auth::Permission::CustomerWrite)
            {
                lang.pick("客户导入", "Import")
            } else {
                ""
            },
        }
    }
}

/// A customer as a row or a profile on a page.
pub struct CustomerView {
    pub id: i64,
    pub account_number: String,
    pub name: String,
    pub id_number: String,
    pub phones: String,
    pub address: String,
    pub supply_unit: String,
    pub grid: String,
    pub usage_category: String,
    pub voltage: String,
    pub contract_capacity: String,
    pub industry: String,
    pub business_format: String,
    pub scale: String,
    pub value_tier: String,
    pub service_grade: String,
    pub tags: Vec<String>,
    pub special_dates: String,
    pub status: String,
    pub retired: bool,
    pub retired_reason: String,
    pub masked: bool,
}

fn label<T: Copy>(
    lang: Lang,
    code: Option<&str>,
    parse: fn(&str) -> Option<T>,
    zh: fn(T) -> &'static str,
    en: fn(T) -> &'static str,
) -> String {
    match code {
        Some(c) => parse(c).map_or_else(|| c.to_owned(), |v| lang.pick(zh(v), en(v)).to_owned()),
        None => lang.t().none.to_owned(),
    }
}

macro_rules! code_label {
    ($lang:expr, $code:expr, $ty:ty) => {
        label(
            $lang,
            $code,
            <$ty>::from_code,
            <$ty>::label_zh,
            <$ty>::label_en,
        )
    };
}

impl CustomerView {
    /// The view of a customer DTO (already masked for the caller).
    pub fn new(c: &CustomerDto, lang: Lang, units: &HashMap<i64, String>) -> Self {
        let t = lang.t();
        let or_none = |s: Option<&String>| s.cloned().unwrap_or_else(|| t.none.to_owned());
        CustomerView {
            id: c.id,
            account_number: c.account_number.clone(),
            name: c.name.clone(),
            id_number: c
                .id_document
                .as_ref()
                .map_or_else(|| t.none.to_owned(), |d| d.number.clone()),
            phones: if c.phones.is_empty() {
                t.none.to_owned()
            } else {
                c.phones.join("，")
            },
            address: c.address.clone(),
            supply_unit: units
                .get(&c.supply_unit_id)
                .cloned()
                .unwrap_or_else(|| c.supply_unit_id.to_string()),
            grid: code_label!(lang, Some(&c.grid), Grid),
            usage_category: code_label!(lang, Some(&c.usage_category), UsageCategory),
            voltage: code_label!(lang, Some(&c.voltage), Voltage),
            contract_capacity: c
                .contract_capacity_kva
                .map_or_else(|| t.none.to_owned(), |k| k.to_string()),
            industry: or_none(c.industry.as_ref()),
            business_format: code_label!(lang, c.business_format.as_deref(), BusinessFormat),
            scale: code_label!(lang, c.scale.as_deref(), Scale),
            value_tier: code_label!(lang, c.value_tier.as_deref(), ValueTier),
            service_grade: code_label!(lang, c.service_grade.as_deref(), ServiceGrade),
            tags: c.tags.clone(),
            special_dates: if c.special_dates.is_empty() {
                t.none.to_owned()
            } else {
                c.special_dates
                    .iter()
                    .map(|d| special_date(lang, &d.kind, &d.date, d.label.as_deref()))
                    .collect::<Vec<_>>()
                    .join("；")
            },
            status: code_label!(lang, Some(&c.status), CustomerStatus),
            retired: c.status == CustomerStatus::Retired.code(),
            retired_reason: c.retired_reason.clone().unwrap_or_default(),
            masked: c.personal_data_masked,
        }
    }
}

/// One change in a history table.
pub struct ChangeView {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// One history event on the customer page.
pub struct EventView {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub reason: String,
    pub changes: Vec<ChangeView>,
}

/// The field names of history entries, localised.
fn field_label(t: &Text, field: &str) -> String {
    match field {
        "account_number" => t.account_number,
        "name" => t.customer_name,
        "id_document.kind" => t.id_kind,
        "id_document.number" => t.id_number,
        "phones" => t.phones,
        "address" => t.address,
        "supply_unit_id" => t.supply_unit,
        "grid" => t.grid,
        "usage_category" => t.usage_category,
        "voltage" => t.voltage,
        "contract_capacity_kva" => t.contract_capacity,
        "industry" => t.industry,
        "business_format" => t.business_format,
        "scale" => t.scale,
        "value_tier" => t.value_tier,
        "service_grade" => t.service_grade,
        "tags" => t.tags,
        "special_dates" => t.special_dates,
        other => return other.to_owned(),
    }
    .to_owned()
}

/// A special date as a person reads it: `生日 1993-03-21 (label)`.
fn special_date(lang: Lang, kind: &str, date: &str, label: Option<&str>) -> String {
    let kind = code_label!(lang, Some(kind), SpecialDateKind);
    match label {
        Some(l) => format!("{kind} {date} ({l})"),
        None => format!("{kind} {date}"),
    }
}

/// A stored history value as a person reads it: vocabulary codes become labels, unit ids names.
fn value_label(lang: Lang, field: &str, value: &str, units: &HashMap<i64, String>) -> String {
    let t = lang.t();
    if value.is_empty() {
        return t.none.to_owned();
    }
    let v = Some(value);
    match field {
        "grid" => code_label!(lang, v, Grid),
        "usage_category" => code_label!(lang, v, UsageCategory),
        "voltage" => code_label!(lang, v, Voltage),
        "business_format" => code_label!(lang, v, BusinessFormat),
        "scale" => code_label!(lang, v, Scale),
        "value_tier" => code_label!(lang, v, ValueTier),
        "service_grade" => code_label!(lang, v, ServiceGrade),
        "id_document.kind" => code_label!(lang, v, IdKind),
        "supply_unit_id" => value
            .parse::<i64>()
            .ok()
            .and_then(|id| units.get(&id).cloned())
            .unwrap_or_else(|| value.to_owned()),
        // Stored as `kind:date` pairs joined by commas (`CustomerRecord::field_texts`).
        "special_dates" => value
            .split(',')
            .map(|pair| match pair.split_once(':') {
                Some((kind, date)) => special_date(lang, kind, date, None),
                None => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("；"),
        _ => value.to_owned(),
    }
}

impl EventView {
    /// The view of a history event; `staff_names` names the actors, `units` the supply units.
    pub fn new(
        e: &HistoryEventDto,
        lang: Lang,
        staff_names: &HashMap<i64, String>,
        units: &HashMap<i64, String>,
    ) -> Self {
        let t = lang.t();
        EventView {
            at: shanghai_time(e.at),
            actor: e
                .staff_id
                .and_then(|id| staff_names.get(&id).cloned())
                .unwrap_or_else(|| e.actor.clone()),
            kind: match e.kind.as_str() {
                "created" => t.kind_created,
                "updated" => t.kind_updated,
                "retired" => t.kind_retired,
                "reinstated" => t.kind_reinstated,
                other => other,
            }
            .to_owned(),
            reason: e.reason.clone().unwrap_or_default(),
            changes: e
                .changes
                .iter()
                .map(|c| ChangeView {
                    field: field_label(t, &c.field),
                    old: value_label(lang, &c.field, &c.old, units),
                    new: value_label(lang, &c.field, &c.new, units),
                })
                .collect(),
        }
    }
}

/// An instant as the service centre reads it: Beijing time, to the minute.
pub fn shanghai_time(at: chrono::DateTime<chrono::Utc>) -> String {
    (at.naive_utc() + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Renders a template, or a plain 500 if the template itself fails (a bug).
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "page could not be rendered",
            )
                .into_response()
        }
    }
}

/// The message for an API error on a page, in the page language.
pub fn error_message(t: &Text, e: &ApiError) -> String {
    match e.code() {
        ErrorCode::NotFound => t.not_found.to_owned(),
        ErrorCode::Forbidden => t.forbidden.to_owned(),
        ErrorCode::Unauthenticated => t.login_failed.to_owned(),
        ErrorCode::ValidationFailed => {
            let p = e.problem();
            let fields: Vec<String> = p
                .errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.reason))
                .collect();
            format!("{}{}", t.invalid_input, fields.join("; "))
        }
        _ => format!("{}: {}", t.error, e.problem().detail),
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
pub fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_shows_special_dates_with_their_kind_labels() {
        let units = HashMap::new();
        let stored = "birthday:1993-03-21,founding:05-01";
        assert_eq!(
            value_label(Lang::Zh, "special_dates", stored, &units),
            "生日 1993-03-21；成立纪念日 05-01"
        );
        let en = value_label(Lang::En, "special_dates", stored, &units);
        assert!(en.starts_with("Birthday 1993-03-21"), "{en}");
        // A value in no known form is shown as stored rather than dropped.
        assert_eq!(
            value_label(Lang::Zh, "special_dates", "1993-03-21", &units),
            "1993-03-21"
        );
    }
}
