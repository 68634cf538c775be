//! Authentication and authorisation at the edge: who is calling (session cookie or bearer API
//! token), the CSRF check for cookie-authenticated writes, and the permission check every
//! handler makes before touching the store.

pub mod handlers;
pub mod rate_limit;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use chrono::Utc;
use kefu_domain::auth::{Permission, Roles};
use kefu_domain::org::OrgPath;
use kefu_store::{Actor, Staff};

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::token::{constant_time_eq, hash_token};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "kefu_session";
/// The header carrying the session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved who they are.
#[derive(Clone)]
pub enum AuthMethod {
    /// A browser session; the hash of the cookie value identifies it.
    Session {
        /// SHA-256 of the cookie value.
        token_hash: Vec<u8>,
        /// The session's CSRF token.
        csrf_token: String,
    },
    /// An API token (`Authorization: Bearer kefu_…`).
    ApiToken,
    /// The self-service portal's own account, acting for a customer on a public page (no
    /// staff credential: the customer proved their phone or gave order number and phone).
    Portal,
}

impl std::fmt::Debug for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthMethod::Session { .. } => "Session",
            AuthMethod::ApiToken => "ApiToken",
            AuthMethod::Portal => "Portal",
        })
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The staff member.
    pub staff: Staff,
    /// Their roles.
    pub roles: Roles,
    /// Their unit's path: they see this unit and everything below it.
    pub scope: OrgPath,
    /// Session or token.
    pub method: AuthMethod,
}

impl Caller {
    fn new(staff: Staff, method: AuthMethod) -> Self {
        Self {
            roles: staff.roles.clone(),
            scope: staff.org_path.clone(),
            staff,
            method,
        }
    }

    /// 403 unless one of the caller's roles grants `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.roles.allows(p) {
            Ok(())
        } else {
            Err(ApiError::forbidden(p.code()))
        }
    }

    /// Whether the caller may see personal data unmasked.
    pub fn sees_personal_data(&self) -> bool {
        self.roles.allows(Permission::PersonalData)
    }

    /// The caller as the actor of a write.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.staff.id)
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn changes_state(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Where a cookie-authenticated write must carry its CSRF token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfCheck {
    /// In the `X-CSRF-Token` header (the JSON API).
    Header,
    /// In a form field, checked by the page handler itself (the browser UI's plain forms).
    FormField,
}

/// Finds the caller of a request: bearer API token first, then the session cookie.
pub async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
    csrf: CsrfCheck,
) -> Result<Caller, ApiError> {
    if let Some(c) = parts.extensions.get::<Caller>() {
        return Ok(c.clone());
    }
    let now = Utc::now();
    let caller = if let Some(secret) = bearer(parts) {
        let hash = hash_token(secret);
        let (_, staff) = state
            .store
            .use_api_token(&hash, now)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the API token is not valid"))?;
        Caller::new(staff, AuthMethod::ApiToken)
    } else if let Some(cookie) = cookie_value(parts, SESSION_COOKIE) {
        let token_hash = hash_token(cookie);
        let (session, staff) = state
            .store
            .get_session(&token_hash, now)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the session has expired; sign in again"))?;
        if csrf == CsrfCheck::Header && changes_state(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !constant_time_eq(sent, session.csrf_token.as_bytes()) {
                return Err(ApiError::new(
                    ErrorCode::Csrf,
                    "send the csrf_token from sign-in in the X-CSRF-Token header",
                ));
            }
        }
        Caller::new(
            staff,
            AuthMethod::Session {
                token_hash,
                csrf_token: session.csrf_token,
            },
        )
    } else {
        return Err(ApiError::unauthenticated(
            "sign in, or send 'Authorization: Bearer <token>'",
        ));
    };
    if !caller.staff.active {
        return Err(ApiError::unauthenticated("this account is disabled"));
    }
    // The portal's system account acts only through the self-service pages, never with a
    // token or session of its own.
    if caller.roles.has(kefu_domain::auth::Role::SelfService) {
        return Err(ApiError::unauthenticated(
            "the self-service portal's account cannot call the staff API",
        ));
    }
    parts.extensions.insert(caller.clone());
    Ok(caller)
}

impl Caller {
    /// Whether `sent` is this session's CSRF token (always false for API tokens, which have
    /// no business posting browser forms).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        match &self.method {
            AuthMethod::Session { csrf_token, .. } => {
                constant_time_eq(sent.as_bytes(), csrf_token.as_bytes())
            }
            AuthMethod::ApiToken | AuthMethod::Portal => false,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state, CsrfCheck::Header).await
    }
}
