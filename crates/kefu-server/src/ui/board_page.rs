//! The supervisors' board page (issue 8 item 6): every number links to the filtered list.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kefu_domain::workorder::Channel;

use super::order_text::OrderText;
use super::order_view::Choice;
use super::pages::unit_names;
use super::view::{TopBar, render};
use super::{Text, Viewer};
use crate::AppState;

/// One unit's line of the board, with the links to its lists.
pub struct BoardLine {
    name: String,
    own: bool,
    open: u64,
    warning: u64,
    overdue: u64,
    major: u64,
    supervised: u64,
    href: String,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    t: &'static Text,
    o: &'static OrderText,
    lang: &'static str,
    title: String,
    top: TopBar,
    day: String,
    lines: Vec<BoardLine>,
    intake: Vec<Choice>,
    intake_total: u64,
}

/// GET /ui/board: the supervisors' board; every number links to the filtered list.
pub async fn board(State(state): State<AppState>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let (t, o) = (lang.t(), lang.o());
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let dto = match crate::board::board(State(state.clone()), viewer.caller.clone()).await {
        Ok(b) => b.0,
        Err(e) => return super::pages::api_error_page(&viewer, &e),
    };
    let lines = dto
        .units
        .iter()
        .map(|u| BoardLine {
            name: if u.own {
                format!("{}（{}）", u.name, o.own_unit)
            } else {
                u.name.clone()
            },
            own: u.own,
            open: u.open,
            warning: u.warning,
            overdue: u.overdue,
            major: u.major,
            supervised: u.supervised,
            href: u
                .unit_id
                .map(|id| format!("/ui/orders?unit={id}"))
                .unwrap_or_else(|| "/ui/orders?".to_owned()),
        })
        .collect();
    let intake_total = dto.intake_today.iter().map(|c| c.count).sum();
    let page = BoardPage {
        t,
        o,
        lang: lang.html_code(),
        title: o.board.to_owned(),
        top: TopBar::new(&viewer, &units, "/ui/board"),
        day: dto.day.clone(),
        lines,
        intake: dto
            .intake_today
            .iter()
            .map(|c| Choice {
                value: c.count.to_string(),
                label: Channel::from_code(&c.channel).map_or_else(
                    || c.channel.clone(),
                    |ch| lang.pick(ch.label_zh(), ch.label_en()).to_owned(),
                ),
            })
            .collect(),
        intake_total,
    };
    render(StatusCode::OK, &page)
}
