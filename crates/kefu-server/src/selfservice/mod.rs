//! Customer self-service (issue 8 item 8), the part shared by its pages: the portal's system
//! account as a caller, one-time codes (sent through a `Notifier`, stored only as a hash), the
//! per-address rate limits, and finding a customer's own order by number and phone.
//!
//! Appeals go through the same intake handler as the agents' (channel `web`, owner = the
//! portal's account, role `self_service`), and ratings through the same `act` path as every
//! order command (`customer_rate`), so the domain and the store judge them as any other step.

pub mod notify;

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use kefu_domain::customer::Phone;
use kefu_domain::selfservice::{CodeVerdict, OneTimeCode};
use kefu_domain::workorder::{Caller as OrderCaller, OrderNumber};
use kefu_store::{CodeIssue, CustomerLookup, PageRequest, Staff, StoredOrder, portal_account};
use sha2::{Digest, Sha256};

use self::notify::{Delivery, NoGateway, Notifier, NotifyError, ShowOnPage};
use crate::AppState;
use crate::auth::rate_limit::{LimitKey, LoginLimiter};
use crate::auth::{AuthMethod, Caller};
use crate::error::{ApiError, ApiResult};

/// Code requests and appeals one client address may send per window.
pub const WRITES_PER_WINDOW: u32 = 20;
/// Progress look-ups and ratings one client address may send per window.
pub const READS_PER_WINDOW: u32 = 60;
/// The window of both limits.
pub const LIMIT_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The portal's shared state.
pub struct Portal {
    notifier: Arc<dyn Notifier>,
    writes: LoginLimiter,
    reads: LoginLimiter,
    account: OnceLock<Staff>,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal").finish_non_exhaustive()
    }
}

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// Asking for a code, submitting an appeal.
    Write,
    /// Looking up an order, rating it.
    Read,
}

/// What asking for a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRequest {
    /// Sent (or, in demo mode, to be shown on the page).
    Sent(Delivery),
    /// The phone had its codes for the hour.
    TooMany,
    /// The code could not be sent.
    Undeliverable(NotifyError),
}

impl Portal {
    /// The portal with a gateway: in demo mode codes are shown on the page, otherwise
    /// `notifier` sends them (`None`: no gateway, codes cannot be sent).
    pub fn new(demo: bool, notifier: Option<Arc<dyn Notifier>>) -> Self {
        let notifier: Arc<dyn Notifier> = match (demo, notifier) {
            (_, Some(n)) => n,
            (true, None) => Arc::new(ShowOnPage),
            (false, None) => Arc::new(NoGateway),
        };
        Portal {
            notifier,
            writes: LoginLimiter::new(WRITES_PER_WINDOW, LIMIT_WINDOW),
            reads: LoginLimiter::new(READS_PER_WINDOW, LIMIT_WINDOW),
            account: OnceLock::new(),
        }
    }

    /// Counts a request from `ip` and refuses it (429) once the address has used its share.
    /// Requests without a known address (in-process tests) are not limited.
    pub fn admit(&self, ip: Option<IpAddr>, traffic: Traffic) -> ApiResult<()> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let limiter = match traffic {
            Traffic::Write => &self.writes,
            Traffic::Read => &self.reads,
        };
        let keys = [LimitKey::Ip(ip)];
        let now = Instant::now();
        limiter.check(&keys, now).map_err(ApiError::rate_limited)?;
        limiter.record_failure(&keys, now);
        Ok(())
    }
}

/// The stored form of a code: SHA-256 over the phone and the code, so a code is bound to the
/// phone it was sent to and the table holds no code.
pub fn code_hash(phone: &Phone, code: &OneTimeCode) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"kefu-self-service-code\0");
    h.update(phone.as_str().as_bytes());
    h.update(b"\0");
    h.update(code.as_str().as_bytes());
    h.finalize().to_vec()
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// The portal's account as the caller of the shared handlers (created on first use).
pub async fn caller(state: &AppState) -> ApiResult<Caller> {
    let portal = &state.portal;
    let staff = match portal.account.get() {
        Some(s) => s.clone(),
        None => {
            let staff = portal_account(state.store.as_ref()).await?.ok_or_else(|| {
                ApiError::internal("the org tree is empty: no unit for the portal")
            })?;
            // A racing first use stored the same account; either copy is right.
            let _ = portal.account.set(staff.clone());
            staff
        }
    };
    Ok(Caller {
        roles: staff.roles.clone(),
        scope: staff.org_path.clone(),
        staff,
        method: AuthMethod::Portal,
    })
}

/// Generates a code for `phone`, stores its hash and hands it to the gateway.
pub async fn request_code(state: &AppState, phone: &Phone) -> ApiResult<CodeRequest> {
    let code = OneTimeCode::from_random(rand::random());
    match state
        .store
        .issue_code(phone, &code_hash(phone, &code), now())
        .await?
    {
        CodeIssue::TooMany => return Ok(CodeRequest::TooMany),
        CodeIssue::Issued { .. } => {}
    }
    Ok(match state.portal.notifier.send_code(phone, &code).await {
        Ok(d) => CodeRequest::Sent(d),
        Err(e) => {
            tracing::warn!(error = %e, "self-service code not sent");
            CodeRequest::Undeliverable(e)
        }
    })
}

/// Tries a typed code for `phone`.
pub async fn check_code(
    state: &AppState,
    phone: &Phone,
    code: &OneTimeCode,
) -> ApiResult<CodeVerdict> {
    Ok(state
        .store
        .try_code(phone, &code_hash(phone, code), now())
        .await?)
}

/// The archived customer reached at `phone`, when exactly one is (then the appeal is theirs
/// and goes to their supply unit); `None` for none or several.
pub async fn customer_of(
    state: &AppState,
    portal: &Caller,
    phone: &Phone,
) -> ApiResult<Option<i64>> {
    let page = state
        .store
        .find_customers(
            &CustomerLookup::Phone(phone.clone()),
            &portal.scope,
            false,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await?;
    Ok(match page.items.as_slice() {
        [only] => Some(only.id.0),
        _ => None,
    })
}

/// The order `number` if `phone` is its caller's number (or one of its customer's phones);
/// `None` otherwise, so a wrong phone and a missing order look the same.
pub async fn own_order(
    state: &AppState,
    portal: &Caller,
    number: &OrderNumber,
    phone: &Phone,
) -> ApiResult<Option<StoredOrder>> {
    let Some(stored) = state.store.get_order(number, &portal.scope).await? else {
        return Ok(None);
    };
    let matches = match &stored.order.caller {
        OrderCaller::Unidentified { phone: p, .. } => p == phone,
        OrderCaller::Customer { phone: Some(p), .. } if p == phone => true,
        OrderCaller::Customer { id, .. } => {
            let page = state
                .store
                .find_customers(
                    &CustomerLookup::Phone(phone.clone()),
                    &portal.scope,
                    true,
                    PageRequest {
                        limit: 50,
                        after: None,
                    },
                )
                .await?;
            page.items.iter().any(|c| c.id == *id)
        }
    };
    Ok(matches.then_some(stored))
}
