//! Customers: the server's records and the `customers` row, with the
//! conversions between them.

use crate::store::convert::{
    from_json, id_opt, json_text, opt_string, parse_id as id, ts, ts_opt, utc, utc_opt,
};
use crate::store::schema::customers;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::ids::{ConversationId, CustomerId, ProjectId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = customers)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbCustomer {
    pub id: String,
    pub project_id: String,
    pub visitor_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub merged_visitor_ids: String,
    pub first_seen_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub total_conversations: i32,
    pub last_browser: Option<String>,
    pub last_device: Option<String>,
    pub last_os: Option<String>,
    pub last_page_url: Option<String>,
    pub last_location: Option<String>,
    pub last_timezone: Option<String>,
    pub last_language: Option<String>,
    pub last_referrer: Option<String>,
    pub is_flagged: bool,
    pub flag_reason: Option<String>,
    pub flagged_at: Option<NaiveDateTime>,
    pub flagged_by: Option<String>,
    pub internal_notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub email_verified: bool,
}

impl DbCustomer {
    pub fn from_row(c: &CustomerRow) -> StoreResult<Self> {
        Ok(Self {
            id: c.id.to_string(),
            project_id: c.project_id.to_string(),
            visitor_id: c.visitor_id.clone(),
            email: c.email.clone(),
            name: c.name.clone(),
            merged_visitor_ids: json_text("customers.merged_visitor_ids", &c.merged_visitor_ids)?,
            first_seen_at: ts(c.first_seen_at),
            last_seen_at: ts(c.last_seen_at),
            total_conversations: i32::try_from(c.total_conversations).map_err(|_| {
                StoreError::Backend(format!(
                    "total_conversations out of range: {}",
                    c.total_conversations
                ))
            })?,
            last_browser: c.last_browser.clone(),
            last_device: c.last_device.clone(),
            last_os: c.last_os.clone(),
            last_page_url: c.last_page_url.clone(),
            last_location: c.last_location.clone(),
            last_timezone: c.last_timezone.clone(),
            last_language: c.last_language.clone(),
            last_referrer: c.last_referrer.clone(),
            is_flagged: c.is_flagged,
            flag_reason: c.flag_reason.clone(),
            flagged_at: ts_opt(c.flagged_at),
            flagged_by: opt_string(c.flagged_by),
            internal_notes: c.internal_notes.clone(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
            email_verified: c.email_verified,
        })
    }
}

impl TryFrom<DbCustomer> for CustomerRow {
    type Error = StoreError;
    fn try_from(r: DbCustomer) -> StoreResult<Self> {
        Ok(Self {
            id: id("customers.id", &r.id)?,
            project_id: id("customers.project_id", &r.project_id)?,
            merged_visitor_ids: from_json("customers.merged_visitor_ids", &r.merged_visitor_ids)?,
            flagged_by: id_opt("customers.flagged_by", r.flagged_by.as_deref())?,
            visitor_id: r.visitor_id,
            email: r.email,
            name: r.name,
            first_seen_at: utc(r.first_seen_at),
            last_seen_at: utc(r.last_seen_at),
            total_conversations: i64::from(r.total_conversations),
            last_browser: r.last_browser,
            last_device: r.last_device,
            last_os: r.last_os,
            last_page_url: r.last_page_url,
            last_location: r.last_location,
            last_timezone: r.last_timezone,
            last_language: r.last_language,
            last_referrer: r.last_referrer,
            is_flagged: r.is_flagged,
            flag_reason: r.flag_reason,
            flagged_at: utc_opt(r.flagged_at),
            internal_notes: r.internal_notes,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            email_verified: r.email_verified,
        })
    }
}

/// A customer of a project (seed 003 5.11.5).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub id: CustomerId,
    pub project_id: ProjectId,
    pub visitor_id: String,
    pub email: Option<String>,
    /// The email was proven (the host site's user_hash or a one-time code),
    /// not only typed. Emails linked before proof was required are not.
    pub email_verified: bool,
    pub name: Option<String>,
    /// Other visitor ids known to be this customer.
    pub merged_visitor_ids: Vec<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub total_conversations: i64,
    pub last_browser: Option<String>,
    pub last_device: Option<String>,
    pub last_os: Option<String>,
    pub last_page_url: Option<String>,
    pub last_location: Option<String>,
    pub last_timezone: Option<String>,
    pub last_language: Option<String>,
    pub last_referrer: Option<String>,
    pub is_flagged: bool,
    pub flag_reason: Option<String>,
    pub flagged_at: Option<DateTime<Utc>>,
    pub flagged_by: Option<UserId>,
    pub internal_notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the widget reports about a visit. A `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerContext {
    pub browser: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub timezone: Option<String>,
    pub language: Option<String>,
}

/// What linking an email did.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedCustomer {
    /// The customer the visitor now belongs to, as stored.
    pub customer: CustomerRow,
    /// Conversations whose live actor must learn the identity: the ones
    /// moved to this customer and every one of its conversations that is
    /// not closed. Oldest first, no repeats.
    pub conversations: Vec<ConversationId>,
}

/// A staff edit of a customer: `None` leaves a field as it is;
/// `Some(None)` clears a text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPatch {
    pub is_flagged: Option<bool>,
    pub flag_reason: Option<Option<String>>,
    pub internal_notes: Option<Option<String>>,
}

/// One line of a customer's conversation history.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerConversation {
    pub id: ConversationId,
    pub status: ConversationStatus,
    pub created_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction_rating: Option<i32>,
    /// The email given in that conversation, and whether it was proven
    /// (an unproven one is contact information only).
    pub customer_email: Option<String>,
    pub customer_email_verified: bool,
    /// The first message the customer wrote, if any.
    pub preview: Option<String>,
}

pub(crate) type HistoryRow = (
    String,
    String,
    (
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    ),
    Option<i32>,
    Option<String>,
    bool,
);
