//! Staff, login sessions and API tokens. Secrets are stored only as hashes: argon2id for
//! passwords (computed by the server), SHA-256 for session and API tokens (random 256-bit values,
//! so a fast hash is enough and look-up by hash is an index probe).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::auth::{Roles, Username};
use kefu_domain::ids::{ApiTokenId, DepartmentId, OrgUnitId, StaffId};
use kefu_domain::org::OrgPath;

use crate::{Actor, Page, PageRequest, StoreError};

/// A staff member as stored (the password hash is never part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: StaffId,
    pub username: Username,
    pub display_name: String,
    pub org_unit_id: OrgUnitId,
    /// The unit's path, so scope checks need no second query.
    pub org_path: OrgPath,
    pub department_id: Option<DepartmentId>,
    pub roles: Roles,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A staff member to create, with the argon2id PHC string of their first password.
#[derive(Clone, PartialEq, Eq)]
pub struct NewStaff {
    pub username: Username,
    pub display_name: String,
    pub org_unit_id: OrgUnitId,
    pub department_id: Option<DepartmentId>,
    pub roles: Roles,
    pub password_hash: String,
}

impl std::fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaff")
            .field("username", &self.username)
            .field("org_unit_id", &self.org_unit_id)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A login session, found by the SHA-256 of its cookie value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub staff_id: StaffId,
    /// Sent back by the browser in `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API token's metadata (the secret is shown once at creation and never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub staff_id: StaffId,
    /// What the token is for ("CTI screen-pop", "billing sync").
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// How stale `ApiToken::last_used_at` may get: a token used more often is marked at most once
/// per this interval.
pub const TOKEN_USE_RESOLUTION_SECS: i64 = 60;

/// Staff, session and token persistence.
#[async_trait]
pub trait StaffStore {
    /// Creates a staff member. Errors: `Duplicate{username}`, `UnknownReference{org_unit_id}` or
    /// `{department_id}` (also when the department belongs to another unit).
    async fn create_staff(&self, staff: NewStaff, actor: &Actor) -> Result<Staff, StoreError>;

    /// One staff member by id.
    async fn get_staff(&self, id: StaffId) -> Result<Option<Staff>, StoreError>;

    /// A staff member and their password hash, for login.
    async fn get_staff_for_login(
        &self,
        username: &Username,
    ) -> Result<Option<(Staff, String)>, StoreError>;

    /// Staff whose unit lies inside `scope`, by id.
    async fn list_staff(
        &self,
        scope: &OrgPath,
        page: PageRequest,
    ) -> Result<Page<Staff>, StoreError>;

    /// Replaces a password hash and ends all of that person's sessions (a changed password
    /// logs out every other browser).
    async fn set_password(
        &self,
        id: StaffId,
        password_hash: &str,
        actor: &Actor,
    ) -> Result<(), StoreError>;

    /// Stores a new session under the hash of its token.
    async fn create_session(&self, token_hash: &[u8], session: &Session) -> Result<(), StoreError>;

    /// The unexpired session for a token hash, with its staff member (only if active).
    async fn get_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, Staff)>, StoreError>;

    /// Ends a session (logout). Ending a session that does not exist is not an error.
    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError>;

    /// Removes expired sessions; returns how many.
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Stores a new API token under the hash of its secret.
    async fn create_api_token(
        &self,
        staff_id: StaffId,
        name: &str,
        token_hash: &[u8],
        actor: &Actor,
    ) -> Result<ApiToken, StoreError>;

    /// The live token for a secret's hash with its (active) staff member; records `now` as its
    /// last use when the stored one is older than `TOKEN_USE_RESOLUTION`, so that a busy
    /// integration's look-ups stay reads instead of one write transaction per request.
    async fn use_api_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiToken, Staff)>, StoreError>;

    /// Revokes a token. Errors: `NotFound` if there is no such token.
    async fn revoke_api_token(&self, id: ApiTokenId, actor: &Actor) -> Result<(), StoreError>;
}
