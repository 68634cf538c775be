//! The work-order lists (issue 8 items 3–4 and 9): the filtered list (dispatch queue, the
//! unit's orders, overdue, assisting — filters and sort live in the URL) and its export to Excel.
//! The order page is `order_page`, the new-order form's target `order_intake`, the board
//! `board_page`. Every page goes through the JSON API's handlers, so rules, scope and audit are
//! shared.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::order_text::OrderText;
use super::order_view::{Choice, OrderRow, choices};
use super::pages::{catalogue, unit_names};
use super::view::{TopBar, error_message, render, url_encode};
use super::{Text, Viewer};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{self};
use crate::workorder::{self, OrderQuery};

/// Orders on one list page.
const PAGE_SIZE: u32 = 50;

/// The list's filters, as the URL carries them.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    appeal_type: Option<String>,
    overdue: Option<String>,
    major: Option<String>,
    supervised: Option<String>,
    repeat: Option<String>,
    assisting: Option<String>,
    unit: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

pub(super) fn flag(v: &Option<String>) -> Option<bool> {
    match v.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    }
}

pub(super) fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl ListQuery {
    /// The same filters as a query string (for the next page and the filter form).
    fn href(&self, cursor: Option<&str>) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("state", &self.state),
            ("appeal_type", &self.appeal_type),
            ("overdue", &self.overdue),
            ("major", &self.major),
            ("supervised", &self.supervised),
            ("repeat", &self.repeat),
            ("assisting", &self.assisting),
            ("unit", &self.unit),
            ("sort", &self.sort),
        ] {
            if let Some(v) = nonempty(v) {
                parts.push(format!("{k}={}", url_encode(&v)));
            }
        }
        if let Some(c) = cursor {
            parts.push(format!("cursor={}", url_encode(c)));
        }
        format!("/ui/orders?{}", parts.join("&"))
    }

    /// The export link of the same filters.
    fn export_href(&self) -> String {
        self.href(None)
            .replacen("/ui/orders?", "/ui/orders/export.xlsx?", 1)
    }

    fn to_api(&self) -> OrderQuery {
        OrderQuery {
            state: nonempty(&self.state),
            appeal_type: nonempty(&self.appeal_type),
            host_unit_id: nonempty(&self.unit).and_then(|u| u.parse().ok()),
            major: flag(&self.major),
            repeat: flag(&self.repeat),
            channel: None,
            supervised: flag(&self.supervised),
            overdue: flag(&self.overdue),
            assisting: flag(&self.assisting),
            customer_id: None,
            created_from: None,
            created_to: None,
            sort: nonempty(&self.sort),
            limit: Some(PAGE_SIZE),
            cursor: self.cursor.clone(),
        }
    }

    /// Whether the list is in sort order `sort` (newest first unless asked otherwise).
    fn sorted(&self, sort: &str) -> bool {
        nonempty(&self.sort).as_deref().unwrap_or("newest") == sort
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    t: &'static Text,
    o: &'static OrderText,
    lang: &'static str,
    title: String,
    top: TopBar,
    q: ListQuery,
    states: Vec<Choice>,
    types: Vec<Choice>,
    rows: Vec<OrderRow>,
    message: String,
    next_href: String,
    export_href: String,
}

impl OrdersPage {
    fn sel(&self, field: &str, value: &str) -> bool {
        let v = match field {
            "state" => &self.q.state,
            "appeal_type" => &self.q.appeal_type,
            "overdue" => &self.q.overdue,
            "major" => &self.q.major,
            "supervised" => &self.q.supervised,
            "repeat" => &self.q.repeat,
            _ => &self.q.assisting,
        };
        v.as_deref() == Some(value)
    }
}

/// GET /ui/orders: the scoped, filtered list.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = viewer.lang;
    let (t, o) = (lang.t(), lang.o());
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let cat = catalogue(&state).await;
    let here = q.href(None);
    let mut page = OrdersPage {
        t,
        o,
        lang: lang.html_code(),
        title: o.orders.to_owned(),
        top: TopBar::new(&viewer, &units, &here),
        states: choices(
            lang,
            kefu_domain::workorder::State::ALL,
            kefu_domain::workorder::State::code,
            kefu_domain::workorder::State::label_zh,
            kefu_domain::workorder::State::label_en,
        ),
        types: choices(
            lang,
            kefu_domain::workorder::AppealType::ALL,
            kefu_domain::workorder::AppealType::code,
            kefu_domain::workorder::AppealType::label_zh,
            kefu_domain::workorder::AppealType::label_en,
        ),
        rows: Vec::new(),
        message: String::new(),
        next_href: String::new(),
        export_href: q.export_href(),
        q: ListQuery::default(),
    };
    let mut status = StatusCode::OK;
    match workorder::list_orders(
        State(state.clone()),
        viewer.caller.clone(),
        extract::Query(q.to_api()),
    )
    .await
    {
        Ok(found) => {
            page.rows = found
                .0
                .items
                .iter()
                .map(|d| OrderRow::new(d, lang, &units, &cat))
                .collect();
            if let Some(next) = &found.0.next_cursor {
                page.next_href = q.href(Some(next));
            }
        }
        Err(e) => {
            status = e.code().status();
            page.message = error_message(t, &e);
        }
    }
    page.q = q;
    render(status, &page)
}

/// The most orders one export writes (a larger list is narrowed with the filters first).
const MAX_EXPORT_ROWS: usize = 10_000;

/// GET /ui/orders/export.xlsx: the current list (same filters, same scope and masking) as an
/// Excel file, newest first, at most [`MAX_EXPORT_ROWS`] orders.
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = viewer.lang;
    let o = lang.o();
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let cat = catalogue(&state).await;
    let mut rows = Vec::new();
    let mut api = q.to_api();
    api.limit = Some(kefu_store::MAX_PAGE_SIZE);
    api.cursor = None;
    loop {
        let page = match workorder::list_orders(
            State(state.clone()),
            viewer.caller.clone(),
            extract::Query(OrderQuery {
                cursor: api.cursor.clone(),
                ..api.clone_filters()
            }),
        )
        .await
        {
            Ok(p) => p.0,
            Err(e) => return super::pages::api_error_page(&viewer, &e),
        };
        rows.extend(
            page.items
                .iter()
                .map(|d| OrderRow::new(d, lang, &units, &cat)),
        );
        match page.next_cursor {
            Some(next) if rows.len() < MAX_EXPORT_ROWS => api.cursor = Some(next),
            _ => break,
        }
    }
    rows.truncate(MAX_EXPORT_ROWS);
    let headers = [
        o.number,
        o.state,
        o.appeal,
        o.channel,
        o.unit,
        o.opened,
        o.due,
        o.sla,
        o.major,
        o.repeat,
        o.supervised,
    ];
    match xlsx(&headers, &rows, o) {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"kefu-orders.xlsx\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the order export could not be written");
            super::pages::api_error_page(
                &viewer,
                &ApiError::new(ErrorCode::Internal, "the export could not be written"),
            )
        }
    }
}

/// The rows as one worksheet: a bold header row, one order per row.
fn xlsx(
    headers: &[&str],
    rows: &[OrderRow],
    o: &OrderText,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(o.orders)?;
    let bold = Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, *h, &bold)?;
        sheet.set_column_width(col, if c == 2 || c == 4 { 28 } else { 16 })?;
    }
    let yes_no = |b: bool| if b { o.yes } else { "" };
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let cells = [
            r.number.as_str(),
            &r.state,
            &r.appeal,
            &r.channel,
            &r.unit,
            &r.opened,
            &r.due,
            &r.sla_label,
            yes_no(r.major),
            yes_no(r.repeat),
            yes_no(r.supervised),
        ];
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string(row, u16::try_from(c).unwrap_or(u16::MAX), *v)?;
        }
    }
    book.save_to_buffer()
}
