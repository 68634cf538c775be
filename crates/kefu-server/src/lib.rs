//! kefu's HTTP shell: the JSON API under `/api/v1` (documented by a generated OpenAPI 3.1
//! document), sign-in with sessions and API tokens, role and unit checks, `/healthz` and
//! `/metrics`. Handlers parse input into domain types, check the caller's permission, and call
//! the store with the caller's scope; they never build SQL and never see a database type.
//!
//! Entry points: [`app`] builds the whole router for an [`AppState`] (tests drive it with
//! `oneshot`), [`serve`] runs it on a listener with graceful shutdown.

pub mod audit;
pub mod auth;
pub mod board;
pub mod cache;
pub mod calendar;
pub mod catalogue;
pub mod customer;
pub mod error;
pub mod extract;
pub mod health;
pub mod import;
pub mod knowledge;
pub mod metrics;
pub mod openapi;
pub mod org;
pub mod password;
pub mod search;
pub mod selfservice;
pub mod sla;
pub mod staff;
pub mod time_rules;
pub mod token;
pub mod ui;
pub mod workorder;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use chrono::FixedOffset;
use kefu_domain::ids::DepartmentId;
use kefu_domain::org::DepartmentKind;
use kefu_store::{Store, StoreError, TimeRules};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use openapi::openapi;

use crate::auth::rate_limit::LoginLimiter;
use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;
use crate::time_rules::{TIME_RULES_MAX_AGE, TimeRulesCache};

/// How often expired sessions are purged.
pub const SESSION_PURGE_INTERVAL: Duration = Duration::from_secs(600);
/// The longest one purge may take before it is abandoned until the next tick.
pub const SESSION_PURGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Server settings (no secrets: the database URL stays with the binary).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// Demo mode (the binary seeded demo data); shown in `/healthz`.
    pub demo: bool,
    /// Failed logins per login name or client IP before further attempts are refused.
    pub login_max_failures: u32,
    /// The window in which failed logins are counted.
    pub login_window: Duration,
    /// How often the SLA sweep runs (warnings, overdue, escalation); `None` turns it off
    /// (another process sweeps).
    pub sla_sweep_interval: Option<Duration>,
    /// The centre's offset from UTC (`calendar.utc_offset`, *default* +08:00): calendar dates,
    /// working hours and deadlines are local to it.
    pub utc_offset: FixedOffset,
    /// How long cached time rules are used before being read again (*default* 30 s).
    pub time_rules_max_age: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_ttl: Duration::from_secs(12 * 3600),
            demo: false,
            login_max_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            sla_sweep_interval: Some(Duration::from_secs(30)),
            utc_offset: kefu_domain::calendar::WorkingCalendar::china_default().offset(),
            time_rules_max_age: TIME_RULES_MAX_AGE,
        }
    }
}

/// How long the department map is used before it is read again.
const DEPARTMENTS_MAX_AGE: Duration = Duration::from_secs(600);

/// What every handler shares: the store, the settings, the metrics recorder and the login limiter.
#[derive(Clone)]
pub struct AppState {
    /// The persistence layer.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// This app's metrics.
    pub metrics: Metrics,
    /// Failed-login counters.
    pub limiter: Arc<LoginLimiter>,
    /// Group-committing writer for audit entries on hot read paths.
    pub audit: Arc<audit::AuditWriter>,
    /// The cached working calendar and time limits (see [`AppState::time_rules`]).
    pub rules: Arc<TimeRulesCache>,
    /// The cached catalogue and major rules (see [`AppState::intake_settings`]).
    pub intake_settings: Arc<cache::Cached<time_rules::IntakeSettings>>,
    /// Department kinds by id (see [`AppState::department_kind`]).
    pub departments: Arc<cache::Cached<HashMap<DepartmentId, DepartmentKind>>>,
    /// The customer self-service portal (its code gateway, limits and account).
    pub portal: Arc<selfservice::Portal>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store.backend())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a migrated store.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> AppState {
        let limiter = LoginLimiter::new(config.login_max_failures, config.login_window);
        AppState {
            audit: Arc::new(audit::AuditWriter::new(store.clone())),
            rules: Arc::new(TimeRulesCache::new(
                config.utc_offset,
                config.time_rules_max_age,
            )),
            intake_settings: Arc::new(cache::Cached::new(time_rules::INTAKE_SETTINGS_MAX_AGE)),
            departments: Arc::new(cache::Cached::new(DEPARTMENTS_MAX_AGE)),
            portal: Arc::new(selfservice::Portal::new(config.demo, None)),
            store,
            config: Arc::new(config),
            metrics: Metrics::new(),
            limiter: Arc::new(limiter),
        }
    }
}

impl AppState {
    /// The effective working calendar (stored years over the shipped ones, in the centre's
    /// offset) and the time limits, for computing deadlines. Cached: reloaded right after a
    /// save through this process, otherwise at most every `time_rules_max_age` (30 s), so
    /// several processes on one PostgreSQL converge.
    pub async fn time_rules(&self) -> Result<Arc<TimeRules>, StoreError> {
        self.rules.get(self.store.as_ref()).await
    }

    /// Reads the time rules again now (after a calendar or time-limit save).
    pub async fn reload_time_rules(&self) -> Result<Arc<TimeRules>, StoreError> {
        self.rules.reload(self.store.as_ref()).await
    }

    /// The current catalogue and major rules, cached: reloaded right after a save through
    /// this process, otherwise at most every 5 s.
    pub async fn intake_settings(&self) -> Result<Arc<time_rules::IntakeSettings>, StoreError> {
        let store = self.store.as_ref();
        self.intake_settings
            .get(|| time_rules::load_intake_settings(store))
            .await
    }

    /// The kind of department `id` (a department's kind never changes, so a cached map serves;
    /// an id it does not know yet — a department created since — reloads it once). `scope`
    /// is the caller's unit: the map is read for the whole tree it belongs to.
    pub async fn department_kind(
        &self,
        id: DepartmentId,
        scope: &kefu_domain::org::OrgPath,
    ) -> Result<Option<DepartmentKind>, StoreError> {
        let root = scope
            .ids()
            .first()
            .map_or_else(|| scope.clone(), |r| kefu_domain::org::OrgPath::root(*r));
        let store = self.store.as_ref();
        let load = || async {
            Ok(store
                .list_departments(&root)
                .await?
                .into_iter()
                .map(|d| (d.id, d.kind))
                .collect::<HashMap<_, _>>())
        };
        let map = self.departments.get(load).await?;
        if let Some(kind) = map.get(&id) {
            return Ok(Some(*kind));
        }
        Ok(self.departments.reload(load).await?.get(&id).copied())
    }

    /// Reads the catalogue and major rules again now (after one of them was saved).
    pub async fn reload_intake_settings(
        &self,
    ) -> Result<Arc<time_rules::IntakeSettings>, StoreError> {
        let store = self.store.as_ref();
        self.intake_settings
            .reload(|| time_rules::load_intake_settings(store))
            .await
    }
}

async fn no_route() -> ApiError {
    ApiError::new(ErrorCode::NoRoute, "there is no endpoint at this path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this endpoint does not accept that method",
    )
}

/// The whole application: every route, the body limit, metrics, tracing and security headers.
pub fn app(state: AppState) -> Router {
    let (router, _doc) = openapi::router().split_for_parts();
    // Pages are not API operations, so they sit beside the documented router.
    router
        .merge(ui::router())
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cache-control"),
            HeaderValue::from_static("no-store"),
        ))
        .layer(
            // The span names the path only: query strings carry phone and ID look-ups.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state)
}

/// Serves the app on `listener` until `shutdown` completes, then drains in-flight requests.
/// Also runs the periodic purge of expired sessions (each purge bounded by a timeout).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Cut with the administrators' words from the start (a failure leaves the built-in ones).
    if let Err(e) = state.store.load_search_dictionary().await {
        tracing::warn!(error = %e, "cannot load the search dictionary; using the built-in words");
    }
    // An index from before format 2 still answers (scope kept by the order rows) but finds no
    // phone numbers and narrows nothing inside the index: tell the operator what to run.
    match state.store.index_format().await {
        Ok(f) if f < kefu_store::search_terms::INDEX_FORMAT => tracing::warn!(
            format = f,
            current = kefu_store::search_terms::INDEX_FORMAT,
            "the search index predates this version: run `kefu search reindex` once \
             (searches work meanwhile, but phone numbers are not found and county searches are slower)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the search index format"),
    }
    // Jobs of a server that stopped cannot continue: show them as interrupted, not running.
    match state
        .store
        .interrupt_unfinished_import_jobs(chrono::Utc::now())
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(jobs = n, "unfinished import jobs marked interrupted"),
        Err(e) => tracing::warn!(error = %e, "could not mark unfinished import jobs"),
    }
    let purge = tokio::spawn(purge_sessions(state.store.clone()));
    let sweep = state
        .config
        .sla_sweep_interval
        .map(|every| tokio::spawn(sla::sweep_forever(state.store.clone(), every)));
    // Compute the dummy login hash now, so the first unknown-name login is not the slow one.
    drop(tokio::task::spawn_blocking(|| password::dummy_hash().len()));
    let result = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    purge.abort();
    if let Some(s) = sweep {
        s.abort();
    }
    result
}

async fn purge_sessions(store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(SESSION_PURGE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = chrono::Utc::now();
        match tokio::time::timeout(SESSION_PURGE_TIMEOUT, store.purge_expired_sessions(now)).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(purged = n, "expired sessions removed"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "session purge failed"),
            Err(_) => tracing::warn!("session purge timed out"),
        }
    }
}
