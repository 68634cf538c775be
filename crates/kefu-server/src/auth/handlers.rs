//! Sign-in, sign-out, "who am I" and password change.
//!
//! A failed sign-in answers 401 with one body whether the name or the password was wrong, takes
//! the same argon2 work either way (a dummy hash for unknown names), is audited, and counts
//! towards the per-name and per-address rate limit.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kefu_domain::auth::{MAX_PASSWORD_LEN, Permission, Role, Username, check_new_password};
use kefu_store::{Actor, NewAuditEntry, Session, Staff};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rate_limit::LimitKey;
use super::{AuthMethod, Caller, SESSION_COOKIE};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ClientIp, JsonBody};
use crate::password::{dummy_hash, hash_password, verify_password};
use crate::staff::StaffDto;
use crate::token::{new_csrf_token, new_session_token};

/// The one message of every failed sign-in.
const LOGIN_FAILED: &str = "the login name or the password is wrong";

/// Sign-in credentials (no `Debug`: it holds a password).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
}

/// A new session: who signed in and the token to echo in `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub staff: StaffDto,
    /// Send in the `X-CSRF-Token` header on every POST/PUT/PATCH/DELETE made with the cookie.
    pub csrf_token: String,
}

/// The caller and what they may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub staff: StaffDto,
    /// Permission codes granted by the caller's roles.
    pub permissions: Vec<String>,
    /// `session` or `api_token`.
    pub auth_method: String,
}

/// A password change (no `Debug`: it holds passwords).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(format = Password)]
    pub current_password: String,
    /// 10–128 characters with a letter and a digit, not containing the login name.
    #[schema(format = Password)]
    pub new_password: String,
}

fn session_cookie(state: &AppState, value: &str, max_age_secs: u64) -> Option<HeaderValue> {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// Creates a session for `staff`: the `Set-Cookie` value and the body naming its CSRF token.
pub async fn start_session(
    state: &AppState,
    staff: &Staff,
) -> ApiResult<(HeaderValue, SessionResponse)> {
    let (secret, hash) = new_session_token();
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(state.config.session_ttl)
        .map_err(|e| ApiError::internal(format!("session ttl out of range: {e}")))?;
    let session = Session {
        staff_id: staff.id,
        csrf_token: new_csrf_token(),
        created_at: now,
        expires_at: now + ttl,
    };
    state.store.create_session(&hash, &session).await?;
    let cookie = session_cookie(state, &secret, state.config.session_ttl.as_secs())
        .ok_or_else(|| ApiError::internal("session cookie is not a valid header"))?;
    let body = SessionResponse {
        staff: StaffDto::from(staff),
        csrf_token: session.csrf_token,
    };
    Ok((cookie, body))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cleared_session_cookie(state: &AppState) -> ApiResult<HeaderValue> {
    session_cookie(state, "", 0)
        .ok_or_else(|| ApiError::internal("session cookie is not a valid header"))
}

/// Verifies on the blocking pool; `None` hash means an unknown name (a dummy is checked).
async fn verify_blocking(password: String, phc: Option<String>) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        let too_long = password.chars().count() > MAX_PASSWORD_LEN;
        let pw = if too_long { "" } else { password.as_str() };
        match phc {
            Some(phc) => verify_password(pw, &phc) && !too_long,
            None => {
                verify_password(pw, dummy_hash());
                false
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(format!("verification task failed: {e}")))
}

fn truncated(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Sign in with a login name and password; sets the `kefu_session` cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses(
        (status = 200, body = SessionResponse, headers(("Set-Cookie" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64))),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    let staff = sign_in(&state, ip, &body.username, body.password).await?;
    let (cookie, body) = start_session(&state, &staff).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Checks a login name and password under the rate limit, auditing the attempt either way.
/// Every failure is the same 401, whichever part was wrong.
pub async fn sign_in(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    username: &str,
    password: String,
) -> ApiResult<Staff> {
    let typed_name = truncated(username.trim(), 64).to_lowercase();
    let mut keys = vec![LimitKey::Username(typed_name.clone())];
    keys.extend(ip.map(LimitKey::Ip));
    if let Err(wait) = state.limiter.check(&keys, Instant::now()) {
        return Err(ApiError::rate_limited(wait));
    }
    let found = match Username::parse(username) {
        Ok(name) => state.store.get_staff_for_login(&name).await?,
        Err(_) => None,
    };
    let (staff, phc) = match found {
        // The self-service portal's system account never signs in, even with a password set
        // by hand: it is treated as an unknown name (same work, same answer).
        Some((staff, _)) if staff.roles.has(Role::SelfService) => (None, None),
        Some((staff, phc)) => (Some(staff), Some(phc)),
        None => (None, None),
    };
    let password_ok = verify_blocking(password, phc).await?;
    let now = Utc::now();
    let ip_text = ip.map_or_else(|| "unknown".to_owned(), |i| i.to_string());
    match staff {
        Some(staff) if password_ok && staff.active => {
            state.limiter.clear(&keys[0]);
            state
                .store
                .append_audit(
                    NewAuditEntry {
                        action: "auth.login".into(),
                        target: format!("staff:{}", staff.id),
                        detail: format!("ip={ip_text}"),
                    },
                    &Actor::Staff(staff.id),
                    now,
                )
                .await?;
            Ok(staff)
        }
        other => {
            state.limiter.record_failure(&keys, Instant::now());
            let reason = match other {
                None => "unknown login name",
                Some(s) if !s.active => "account disabled",
                Some(_) => "wrong password",
            };
            state
                .store
                .append_audit(
                    NewAuditEntry {
                        action: "auth.login_failed".into(),
                        target: format!("username:{typed_name}"),
                        detail: format!("ip={ip_text}; {reason}"),
                    },
                    &Actor::System("login"),
                    now,
                )
                .await?;
            Err(ApiError::unauthenticated(LOGIN_FAILED))
        }
    }
}

/// Sign out: ends the session and clears the cookie (a no-op for API tokens).
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let AuthMethod::Session { token_hash, .. } = &caller.method else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    state.store.delete_session(token_hash).await?;
    let cookie = cleared_session_cookie(&state)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The signed-in staff member and their permissions.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    responses(
        (status = 200, body = MeResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(caller: Caller) -> Json<MeResponse> {
    Json(MeResponse {
        staff: StaffDto::from(&caller.staff),
        permissions: Permission::ALL
            .iter()
            .filter(|p| caller.roles.allows(**p))
            .map(|p| p.code().to_owned())
            .collect(),
        auth_method: match caller.method {
            AuthMethod::Session { .. } => "session",
            AuthMethod::ApiToken => "api_token",
            AuthMethod::Portal => "portal",
        }
        .to_owned(),
    })
}

/// Change the caller's password: ends every session of theirs and starts a fresh one.
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses(
        (status = 200, body = SessionResponse, headers(("Set-Cookie" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PasswordChange>,
) -> ApiResult<Response> {
    let (cookie, body) = replace_password(&state, &caller, body).await?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Checks the current password (rate-limited), applies the policy to the new one, stores it,
/// ends every session of the caller's and starts a fresh one.
pub async fn replace_password(
    state: &AppState,
    caller: &Caller,
    change: PasswordChange,
) -> ApiResult<(HeaderValue, SessionResponse)> {
    let key = [LimitKey::Username(
        caller.staff.username.as_str().to_owned(),
    )];
    if let Err(wait) = state.limiter.check(&key, Instant::now()) {
        return Err(ApiError::rate_limited(wait));
    }
    let phc = state
        .store
        .get_staff_for_login(&caller.staff.username)
        .await?
        .map(|(_, phc)| phc)
        .ok_or_else(|| ApiError::unauthenticated("this account no longer exists"))?;
    if !verify_blocking(change.current_password, Some(phc)).await? {
        state.limiter.record_failure(&key, Instant::now());
        return Err(ApiError::field(
            "current_password",
            "this is not your current password",
        ));
    }
    check_new_password(&change.new_password, caller.staff.username.as_str())
        .map_err(|e| ApiError::validation(vec![e]))?;
    let new_password = change.new_password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&new_password))
        .await
        .map_err(|e| ApiError::internal(format!("hashing task failed: {e}")))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    state
        .store
        .set_password(caller.staff.id, &hash, &caller.actor())
        .await?;
    start_session(state, &caller.staff).await
}
