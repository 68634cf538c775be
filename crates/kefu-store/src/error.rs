//! Errors of the store, HTTP-agnostic; the server maps each variant to a status and a code.

use thiserror::Error;

/// What went wrong in a store call.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The entity does not exist, or lies outside the caller's scope (indistinguishable on purpose).
    #[error("{entity} not found")]
    NotFound {
        /// `customer`, `org_unit`, `staff`…
        entity: &'static str,
    },
    /// A unique value is already taken (e.g. an account number or a login name).
    #[error("{field} '{value}' is already in use")]
    Duplicate {
        /// The API field that must be unique.
        field: &'static str,
        /// The value that collided.
        value: String,
    },
    /// A referenced entity does not exist (e.g. an unknown supply unit).
    #[error("{field} refers to a {entity} that does not exist")]
    UnknownReference {
        /// The API field holding the reference.
        field: &'static str,
        /// What it should refer to.
        entity: &'static str,
    },
    /// An optimistic-concurrency check failed: someone else changed the row first.
    #[error("{entity} was changed by someone else (now at version {current}); reload and retry")]
    VersionConflict {
        /// What was being changed.
        entity: &'static str,
        /// The version now stored.
        current: i64,
    },
    /// The change is not allowed in the entity's current state (e.g. editing a retired customer).
    #[error("{0}")]
    InvalidState(String),
    /// The database schema is newer than this binary understands.
    #[error(
        "the database schema is at version {found} but this kefu binary knows only up to {supported}; \
         run a newer kefu (never downgrade a database)"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Highest version this binary knows.
        supported: i64,
    },
    /// A value read back from the database broke a domain rule (data written outside kefu?).
    #[error("stored {entity} {id} is corrupt: {reason}")]
    Corrupt {
        /// What was being read.
        entity: &'static str,
        /// Which row.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(String),
}
