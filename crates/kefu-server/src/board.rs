//! The supervisors' board (监控, issue 8 item 6) over the API: the caller's unit and each unit
//! directly below it with open, warning, overdue, major and supervised counts, and today's
//! intake by channel (the centre's day). Every count is scoped like the order list, so the
//! numbers match the lists they link to.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use kefu_store::roll_up;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};

/// One unit's line on the board.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardUnitDto {
    pub unit_id: Option<i64>,
    pub name: String,
    /// True for the caller's own unit (orders it holds itself); false for a unit below it
    /// (its whole subtree).
    pub own: bool,
    pub open: u64,
    pub warning: u64,
    pub overdue: u64,
    pub major: u64,
    pub supervised: u64,
}

/// Appeals taken today on one channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelCountDto {
    pub channel: String,
    pub count: u64,
}

/// The board.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardDto {
    /// When the counts were taken.
    pub as_of: DateTime<Utc>,
    /// The centre's day the intake counts cover, `YYYY-MM-DD`.
    pub day: String,
    pub units: Vec<BoardUnitDto>,
    pub intake_today: Vec<ChannelCountDto>,
}

/// The board of the caller's unit and the units below it.
#[utoipa::path(
    get, path = "/api/v1/board", tag = "work-order",
    responses(
        (status = 200, body = BoardDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn board(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<BoardDto>> {
    let now = Utc::now();
    let local = now.with_timezone(&state.config.utc_offset);
    let midnight = local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(state.config.utc_offset).single())
        .map_or(now, |t| t.with_timezone(&Utc));
    let units = state.store.list_org_units(&caller.scope).await?;
    let own_id = caller.staff.org_unit_id;
    let mut children: Vec<_> = units
        .iter()
        .filter(|u| u.parent_id == Some(own_id))
        .collect();
    children.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let paths: Vec<_> = children.iter().map(|u| u.path.clone()).collect();
    let rows = state.store.open_counts(&caller.scope, now).await?;
    let name_of = |id: Option<i64>| {
        units
            .iter()
            .find(|u| Some(u.id.0) == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let lines = roll_up(&caller.scope, &paths, &rows)
        .into_iter()
        .map(|l| {
            let id = l.unit.unit().map(|u| u.0);
            BoardUnitDto {
                unit_id: id,
                name: name_of(id),
                own: l.own,
                open: l.counts.open,
                warning: l.counts.warning,
                overdue: l.counts.overdue,
                major: l.counts.major,
                supervised: l.counts.supervised,
            }
        })
        .collect();
    let mut intake = state
        .store
        .intake_by_channel(&caller.scope, midnight)
        .await?;
    intake.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Json(BoardDto {
        as_of: now,
        day: local.date_naive().to_string(),
        units: lines,
        intake_today: intake
            .into_iter()
            .map(|(c, n)| ChannelCountDto {
                channel: c.code().to_owned(),
                count: n,
            })
            .collect(),
    }))
}
