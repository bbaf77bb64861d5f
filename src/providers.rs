//! The providers of billable sessions as the server configures them: the
//! built-in ones (record locally, log) unless a webhook URL is set, in which
//! case that provider POSTs JSON to the URL and takes a 2xx answer as done.
//!
//! | variable | posts |
//! |---|---|
//! | `SWITCHBOARD_SMS_WEBHOOK_URL` | `{"type": "sms", session_id, to, body}` |
//! | `SWITCHBOARD_CALL_WEBHOOK_URL` | `{"type": "call", session_id, to}`, then `{"type": "hangup", session_id, call_id}` |
//! | `SWITCHBOARD_PAYMENT_WEBHOOK_URL` | `{"type": "payment_request", payment_id, session_id, amount, description, customer_email}`; the answer may carry `payment_url` and `id` |
//!
//! The answer's `id` (when present) is kept as the provider's reference. A
//! non-2xx answer, a timeout or an unreachable URL is a provider failure:
//! the session answers `PROVIDER_FAILED` and changes nothing.
//!
//! awc's client is not `Send`, and the engine's provider ports are; so one
//! thread of its own runs an actix system with the client, and requests
//! reach it over a channel.

use crate::config::Config;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::ids::SessionId;
use switchboard_actors::providers::{
    BuiltinPayment, CallProgress, CallProvider, CallRequest, PaymentLink, PaymentProvider,
    PaymentRequest, Providers, SmsProvider, SmsRequest,
};
use tokio::sync::{mpsc, oneshot};

/// How long a webhook may take to answer.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The webhook URLs (`None`: the built-in provider).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookUrls {
    pub sms: Option<String>,
    pub call: Option<String>,
    pub payment: Option<String>,
    /// `SWITCHBOARD_EMAIL_WEBHOOK_URL`: the email provider (see `email.rs`).
    pub email: Option<String>,
}

/// The providers `config` asks for.
pub fn from_config(config: &Config) -> Providers {
    let mut p = Providers::builtin();
    let urls = &config.webhooks;
    if urls.sms.is_none() && urls.call.is_none() && urls.payment.is_none() {
        return p;
    }
    let client = WebhookClient::spawn();
    if let Some(url) = &urls.sms {
        p.sms = Arc::new(WebhookSms {
            client: client.clone(),
            url: url.clone(),
        });
    }
    if let Some(url) = &urls.call {
        p.call = Arc::new(WebhookCall {
            client: client.clone(),
            url: url.clone(),
        });
    }
    if let Some(url) = &urls.payment {
        p.payment = Arc::new(WebhookPayment {
            client,
            url: url.clone(),
        });
    }
    p
}

struct Job {
    url: String,
    body: Value,
    done: oneshot::Sender<Result<Value, String>>,
}

/// POSTs JSON from a thread of its own (see the module comment).
#[derive(Clone)]
pub struct WebhookClient {
    tx: mpsc::UnboundedSender<Job>,
}

impl WebhookClient {
    pub fn spawn() -> WebhookClient {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("switchboard-webhooks".into())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let client = awc::Client::builder().timeout(WEBHOOK_TIMEOUT).finish();
                    while let Some(job) = rx.recv().await {
                        let client = client.clone();
                        actix_web::rt::spawn(async move {
                            let _ = job.done.send(post(&client, &job.url, &job.body).await);
                        });
                    }
                });
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start the webhook thread");
        }
        WebhookClient { tx }
    }

    /// POST `body` to `url`; the answer's JSON (or null) on a 2xx.
    pub async fn post(&self, url: &str, body: Value) -> Result<Value, String> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Job {
                url: url.to_string(),
                body,
                done,
            })
            .map_err(|_| "the webhook client stopped".to_string())?;
        rx.await
            .map_err(|_| "the webhook client stopped".to_string())?
    }
}

async fn post(client: &awc::Client, url: &str, body: &Value) -> Result<Value, String> {
    let mut resp = client
        .post(url)
        .send_json(body)
        .await
        .map_err(|e| format!("webhook unreachable: {e}"))?;
    let status = resp.status();
    let bytes = resp
        .body()
        .limit(64 * 1024)
        .await
        .map_err(|e| format!("webhook answer unreadable: {e}"))?;
    if !status.is_success() {
        return Err(format!("webhook answered {}", status.as_u16()));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The answer's `id`, kept as the provider's reference.
pub fn reference(answer: &Value) -> Option<String> {
    match &answer["id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub struct WebhookSms {
    pub client: WebhookClient,
    pub url: String,
}

#[async_trait]
impl SmsProvider for WebhookSms {
    async fn send_sms(&self, req: &SmsRequest) -> Result<String, String> {
        let answer = self
            .client
            .post(
                &self.url,
                json!({ "type": "sms", "session_id": req.session_id, "to": req.to, "body": req.body }),
            )
            .await?;
        Ok(reference(&answer).unwrap_or_else(|| format!("webhook-sms-{}", uuid::Uuid::new_v4())))
    }
}

pub struct WebhookCall {
    pub client: WebhookClient,
    pub url: String,
}

#[async_trait]
impl CallProvider for WebhookCall {
    async fn place_call(&self, req: &CallRequest) -> Result<(String, CallProgress), String> {
        let answer = self
            .client
            .post(
                &self.url,
                json!({ "type": "call", "session_id": req.session_id, "to": req.to }),
            )
            .await?;
        let id =
            reference(&answer).unwrap_or_else(|| format!("webhook-call-{}", uuid::Uuid::new_v4()));
        let progress = if answer["state"] == json!("active") {
            CallProgress::Answered
        } else {
            CallProgress::Placed
        };
        Ok((id, progress))
    }

    async fn hang_up(&self, session_id: SessionId, provider_ref: &str) -> Result<(), String> {
        self.client
            .post(
                &self.url,
                json!({ "type": "hangup", "session_id": session_id, "call_id": provider_ref }),
            )
            .await
            .map(drop)
    }
}

pub struct WebhookPayment {
    pub client: WebhookClient,
    pub url: String,
}

#[async_trait]
impl PaymentProvider for WebhookPayment {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn request_payment(&self, req: &PaymentRequest) -> Result<PaymentLink, String> {
        let answer = self
            .client
            .post(
                &self.url,
                json!({
                    "type": "payment_request",
                    "payment_id": req.payment_id,
                    "session_id": req.session_id,
                    "amount": req.amount,
                    "currency": "usd",
                    "description": req.description,
                    "customer_email": req.customer_email,
                }),
            )
            .await?;
        let builtin = BuiltinPayment.request_payment(req).await?;
        Ok(PaymentLink {
            payment_url: answer["payment_url"]
                .as_str()
                .map(str::to_string)
                .unwrap_or(builtin.payment_url),
            provider_ref: reference(&answer),
        })
    }
}

/// Parses a webhook URL variable: absent, or an http(s) URL.
pub fn parse_webhook_url(
    variable: &'static str,
    value: Option<String>,
) -> Result<Option<String>, crate::config::ConfigError> {
    let Some(v) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !v.contains(char::is_whitespace) => {
            Ok(Some(v))
        }
        _ => Err(crate::config::ConfigError {
            variable,
            problem: format!("{v:?} is not an http:// or https:// URL"),
        }),
    }
}
