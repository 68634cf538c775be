//! Customer self-service (issue 8 item 8): the portal's system account and the one-time codes
//! that verify a customer's phone (migration 0010). Codes are stored only as hashes; the rules
//! (lifetime, tries, codes per hour) are the domain's `selfservice`, judged inside the store's
//! transaction so two tries of one code never both count as the last.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::customer::Phone;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::selfservice::CodeVerdict;

use crate::{Actor, NewStaff, Staff, StaffStore, StoreError};

/// The login name of the portal's system account.
pub const PORTAL_USERNAME: &str = "self-service";
/// Its display name (what the staff timeline shows as the owner of self-service appeals).
pub const PORTAL_DISPLAY_NAME: &str = "客户自助服务 (系统)";
/// Its password hash: not a PHC string, so no password ever matches and nobody signs in as it.
pub const PORTAL_PASSWORD_HASH: &str = "!no-login:self-service-portal";

/// What asking for a code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeIssue {
    /// Stored; the code works until then.
    Issued {
        /// When it expires.
        expires_at: DateTime<Utc>,
    },
    /// The phone had its codes for the window; nothing was stored.
    TooMany,
}

/// Persistence of the self-service portal.
#[async_trait]
pub trait SelfServiceStore: Send + Sync {
    /// The top unit of the org tree (the first unit without a parent), where the portal's
    /// account sits so its appeals may belong to any unit; `None` while the tree is empty.
    async fn top_unit(&self) -> Result<Option<OrgUnitId>, StoreError>;

    /// Stores the hash of a new code for `phone`, unless the phone already had
    /// `MAX_CODES_PER_WINDOW` codes in the window (one transaction: count, then insert). The
    /// new code replaces the phone's earlier ones: only the last is ever tried.
    async fn issue_code(
        &self,
        phone: &Phone,
        code_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CodeIssue, StoreError>;

    /// Tries a code: judges it against the phone's last code with the domain's `judge`, and in
    /// the same transaction marks it used (accepted) or counts the wrong try.
    async fn try_code(
        &self,
        phone: &Phone,
        code_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CodeVerdict, StoreError>;
}

/// The portal's system account, created on first use at the top unit (audited as a system
/// action). `None` while the org tree is empty. Two first uses at once both get the one account.
pub async fn portal_account<S>(store: &S) -> Result<Option<Staff>, StoreError>
where
    S: StaffStore + SelfServiceStore + ?Sized,
{
    let corrupt = |reason: String| StoreError::Corrupt {
        entity: "staff",
        id: PORTAL_USERNAME.to_owned(),
        reason,
    };
    let username = Username::parse(PORTAL_USERNAME).map_err(|e| corrupt(e.to_string()))?;
    if let Some((staff, _)) = store.get_staff_for_login(&username).await? {
        return Ok(Some(staff));
    }
    let Some(unit) = store.top_unit().await? else {
        return Ok(None);
    };
    let roles = Roles::new(vec![Role::SelfService]).map_err(|e| corrupt(e.to_string()))?;
    let new = NewStaff {
        username: username.clone(),
        display_name: PORTAL_DISPLAY_NAME.to_owned(),
        org_unit_id: unit,
        department_id: None,
        roles,
        password_hash: PORTAL_PASSWORD_HASH.to_owned(),
    };
    match store
        .create_staff(new, &Actor::System("self-service"))
        .await
    {
        Ok(staff) => Ok(Some(staff)),
        // Created meanwhile by a concurrent first use.
        Err(StoreError::Duplicate { .. }) => Ok(store
            .get_staff_for_login(&username)
            .await?
            .map(|(staff, _)| staff)),
        Err(e) => Err(e),
    }
}
