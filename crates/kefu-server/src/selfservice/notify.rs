//! The notification gateway the portal sends one-time codes through. A real SMS gateway
//! implements `Notifier`; in demo mode `ShowOnPage` hands the code back to be shown on the
//! page, and a server without a gateway refuses to send (the page says to call 95598).

use async_trait::async_trait;
use kefu_domain::customer::Phone;
use kefu_domain::selfservice::OneTimeCode;

/// What became of a code handed to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Sent to the phone.
    Sent,
    /// Not sent anywhere: demo mode shows it on the page.
    ShowOnPage(String),
}

/// Why a code could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// No gateway is configured on this server.
    #[error("no notification gateway is configured; codes cannot be sent")]
    NotConfigured,
    /// The gateway refused or failed.
    #[error("the notification gateway failed: {0}")]
    Failed(String),
}

/// Sends one-time codes to customers' phones.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends `code` to `phone`.
    async fn send_code(&self, phone: &Phone, code: &OneTimeCode) -> Result<Delivery, NotifyError>;
}

/// Demo mode: nothing leaves the server, the code is shown to whoever asked for it.
#[derive(Debug, Default)]
pub struct ShowOnPage;

#[async_trait]
impl Notifier for ShowOnPage {
    async fn send_code(&self, _phone: &Phone, code: &OneTimeCode) -> Result<Delivery, NotifyError> {
        Ok(Delivery::ShowOnPage(code.as_str().to_owned()))
    }
}

/// No gateway configured: every send is refused.
#[derive(Debug, Default)]
pub struct NoGateway;

#[async_trait]
impl Notifier for NoGateway {
    async fn send_code(
        &self,
        _phone: &Phone,
        _code: &OneTimeCode,
    ) -> Result<Delivery, NotifyError> {
        Err(NotifyError::NotConfigured)
    }
}
