//! Provider ports of billable sessions (docs/architecture.md "Ports"): SMS, voice
//! calls and payment requests, with the built-in providers that work with
//! no outside service (they record locally and log). The server adds HTTP
//! webhook providers that post to a configured URL.

use crate::ids::{PaymentId, SessionId};
use async_trait::async_trait;
use std::sync::Arc;

#[derive(Debug, Clone, serde::Serialize)]
pub struct SmsRequest {
    pub session_id: SessionId,
    pub to: String,
    pub body: String,
}

#[async_trait]
pub trait SmsProvider: Send + Sync + 'static {
    /// Sends one SMS; answers the provider's reference for it.
    async fn send_sms(&self, req: &SmsRequest) -> Result<String, String>;
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CallRequest {
    pub session_id: SessionId,
    pub to: String,
}

/// How far a call got when the provider answered the dial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallProgress {
    /// Placed; the provider will report ringing and answer later.
    Placed,
    /// Connected at once (the built-in loopback provider).
    Answered,
}

#[async_trait]
pub trait CallProvider: Send + Sync + 'static {
    /// Places a call to the customer; answers the provider's reference.
    async fn place_call(&self, req: &CallRequest) -> Result<(String, CallProgress), String>;
    async fn hang_up(&self, session_id: SessionId, provider_ref: &str) -> Result<(), String>;
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PaymentRequest {
    pub payment_id: PaymentId,
    pub session_id: SessionId,
    /// Cents.
    pub amount: u64,
    pub description: String,
    pub customer_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLink {
    pub payment_url: String,
    pub provider_ref: Option<String>,
}

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// A name stored with the payment ("builtin", "webhook").
    fn name(&self) -> &'static str;
    async fn request_payment(&self, req: &PaymentRequest) -> Result<PaymentLink, String>;
}

/// The providers a session uses.
#[derive(Clone)]
pub struct Providers {
    pub sms: Arc<dyn SmsProvider>,
    pub call: Arc<dyn CallProvider>,
    pub payment: Arc<dyn PaymentProvider>,
}

impl Providers {
    /// The built-in providers: nothing leaves the machine.
    pub fn builtin() -> Self {
        Providers {
            sms: Arc::new(BuiltinSms),
            call: Arc::new(BuiltinCall),
            payment: Arc::new(BuiltinPayment),
        }
    }
}

/// Records the SMS (the session stores it) and logs it.
pub struct BuiltinSms;

#[async_trait]
impl SmsProvider for BuiltinSms {
    async fn send_sms(&self, req: &SmsRequest) -> Result<String, String> {
        tracing::info!(session = %req.session_id, to = %req.to, chars = req.body.chars().count(), "SMS (built-in provider, not sent)");
        Ok(format!("local-sms-{}", uuid::Uuid::new_v4()))
    }
}

/// A loopback call: answered at once, logged.
pub struct BuiltinCall;

#[async_trait]
impl CallProvider for BuiltinCall {
    async fn place_call(&self, req: &CallRequest) -> Result<(String, CallProgress), String> {
        tracing::info!(session = %req.session_id, to = %req.to, "call (built-in provider, loopback)");
        Ok((
            format!("local-call-{}", uuid::Uuid::new_v4()),
            CallProgress::Answered,
        ))
    }

    async fn hang_up(&self, session_id: SessionId, provider_ref: &str) -> Result<(), String> {
        tracing::info!(session = %session_id, call = provider_ref, "hang up (built-in provider)");
        Ok(())
    }
}

/// A pending payment whose link is served by Switchboard (`/pay/<id>`).
pub struct BuiltinPayment;

#[async_trait]
impl PaymentProvider for BuiltinPayment {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn request_payment(&self, req: &PaymentRequest) -> Result<PaymentLink, String> {
        tracing::info!(session = %req.session_id, amount = req.amount, "payment request (built-in provider)");
        Ok(PaymentLink {
            payment_url: format!("/pay/{}", req.payment_id),
            provider_ref: None,
        })
    }
}
