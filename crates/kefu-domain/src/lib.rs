//! kefu's pure rules: plain types and functions with no I/O, no async and no database types.
//!
//! Every value that crosses into the store or the API is parsed here first ("parse, don't
//! validate"): a `ResidentId` or a `Phone` that exists is valid by construction.

pub mod auth;
pub mod calendar;
pub mod code_enum;
pub mod customer;
pub mod ids;
pub mod import_job;
pub mod knowledge;
pub mod mask;
pub mod org;
pub mod selfservice;
pub mod sla;
pub mod workorder;

/// A rule violation for one named input field, phrased so the user knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `id_document.number` or `phones[1]`.
    pub field: String,
    /// Why the value was refused and what a valid one looks like.
    pub reason: String,
}

impl FieldError {
    /// A refusal of `field` with a human-readable `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error, re-rooted under a parent field (`phones` + `[1]` → `phones[1]`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}
