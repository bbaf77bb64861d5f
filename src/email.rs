//! The email port and its providers. The offline form (seed 003 5.8.4)
//! sends its confirmation, and identify its one-time codes, through
//! `AppState::email`, which is one of:
//!
//! - the built-in [`OutboxEmail`] (the default): logs the email and keeps
//!   it in the `outbound_emails` table, where a project admin can read it
//!   (`GET /api/projects/:id/emails`), or, for an email of no project (a
//!   staff account's code), in `instance_emails`, where the holders of the
//!   instance's permission to create projects read it
//!   (`GET /api/instance/emails`). Nothing leaves the machine, so a fresh
//!   install needs no mail server.
//! - [`WebhookEmail`], when `SWITCHBOARD_EMAIL_WEBHOOK_URL` is set: POSTs
//!   `{"type": "email", project_id, to, subject, body, kind}` to the URL
//!   (`project_id` is `null` for an email of no project)
//!   (through the shared [`WebhookClient`]); a 2xx answer is sent, and its
//!   `id` (if any) is kept as the provider's reference. A non-2xx answer, a
//!   timeout or an unreachable URL is a failure.
//!
//! SMTP is not built in: a webhook can hand the email to any mail service.

use crate::config::Config;
use crate::providers::WebhookClient;
use crate::store::{Db, EmailRecord, InstanceEmailRecord};
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use switchboard_actors::clock::SharedClock;
use switchboard_actors::ids::{EmailId, ProjectId};

/// What the offline form sends to confirm it has the customer's message.
pub const KIND_OFFLINE_CONFIRMATION: &str = "offline_confirmation";
/// A one-time code proving an email (`POST /api/widget/identify/code`).
pub const KIND_IDENTITY_CODE: &str = "identity_code";
/// A one-time code proving a staff account's email
/// (`POST /api/auth/email-verification`); sent for no project.
pub const KIND_STAFF_EMAIL_CODE: &str = "staff_email_code";

/// An invitation to join a project's team, with its link.
pub const KIND_INVITATION: &str = "invitation";

/// One email to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The project it is sent for (its outbox, its webhook payload); `None`
    /// for an email of the instance, not of a project: a staff account's
    /// own email, which no project's admins should read (a project admin
    /// who could read a code sent to an account would prove an address
    /// they do not own).
    pub project_id: Option<ProjectId>,
    pub to: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
    /// What it is for, e.g. [`KIND_OFFLINE_CONFIRMATION`].
    pub kind: String,
}

/// Sends email. `Ok` carries the provider's reference for the email;
/// `Err` a one-line reason (logged by the caller; never shown verbatim to
/// customers).
#[async_trait]
pub trait EmailProvider: Send + Sync {
    async fn send(&self, email: &EmailMessage) -> Result<String, String>;
}

/// The provider the config asks for: the webhook when
/// `SWITCHBOARD_EMAIL_WEBHOOK_URL` is set, else the built-in outbox.
pub fn from_config(config: &Config, db: Db, clock: SharedClock) -> Arc<dyn EmailProvider> {
    match &config.webhooks.email {
        Some(url) => Arc::new(WebhookEmail {
            client: WebhookClient::spawn(),
            url: url.clone(),
        }),
        None => Arc::new(OutboxEmail { db, clock }),
    }
}

/// The built-in provider: log and keep (see the module comment).
pub struct OutboxEmail {
    pub db: Db,
    pub clock: SharedClock,
}

#[async_trait]
impl EmailProvider for OutboxEmail {
    async fn send(&self, email: &EmailMessage) -> Result<String, String> {
        let id = EmailId::new();
        let kept = match email.project_id {
            Some(project_id) => {
                self.db
                    .insert_email(&EmailRecord {
                        id,
                        project_id,
                        to: email.to.clone(),
                        subject: email.subject.clone(),
                        body: email.body.clone(),
                        kind: email.kind.clone(),
                        created_at: self.clock.now(),
                    })
                    .await
            }
            None => {
                self.db
                    .insert_instance_email(&InstanceEmailRecord {
                        id,
                        to: email.to.clone(),
                        subject: email.subject.clone(),
                        body: email.body.clone(),
                        kind: email.kind.clone(),
                        created_at: self.clock.now(),
                    })
                    .await
            }
        };
        kept.map_err(|e| format!("could not keep the email: {e}"))?;
        tracing::info!(
            project_id = ?email.project_id,
            to = %email.to,
            subject = %email.subject,
            kind = %email.kind,
            id = %id,
            "email kept in the built-in outbox (set SWITCHBOARD_EMAIL_WEBHOOK_URL to send it)"
        );
        Ok(format!("outbox-{id}"))
    }
}

/// POSTs each email to a URL (see the module comment).
pub struct WebhookEmail {
    pub client: WebhookClient,
    pub url: String,
}

#[async_trait]
impl EmailProvider for WebhookEmail {
    async fn send(&self, email: &EmailMessage) -> Result<String, String> {
        let answer = self
            .client
            .post(
                &self.url,
                json!({
                    "type": "email",
                    "project_id": email.project_id,
                    "to": email.to,
                    "subject": email.subject,
                    "body": email.body,
                    "kind": email.kind,
                }),
            )
            .await?;
        Ok(crate::providers::reference(&answer)
            .unwrap_or_else(|| format!("webhook-email-{}", uuid::Uuid::new_v4())))
    }
}
