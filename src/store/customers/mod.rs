//! Customer identity in the store (seed 003 5.11): linking an email to a
//! visitor and merging two customers into one (5.11.4), the staff's flags
//! and notes, and a customer's conversation history for the context panel
//! (5.11.6). Every write here and `Db::touch_customer` serialize on one key
//! per project (`customers:<project>`), so find-then-write steps never
//! interleave and the two unique keys (visitor id, email) hold.
//!
//! After a conversation is created, `conversations.customer_id` belongs to
//! this file: the engine's snapshot upsert leaves it alone (see
//! `batch.rs`), so a merge can move live conversations.
//!
//! Laid out as every area of the store: `records`, `queries` (reads),
//! `writes`, and here the operations on [`Db`] and the steps they share.

pub(crate) mod queries;
pub(crate) mod records;
pub(crate) mod writes;

use crate::store::conn::{all_rows, DbConn};
use crate::store::conversations::queries::CONVERSATION_CLOSED;
use crate::store::convert::{json_text, ts};
use crate::store::db::{detached, Db};
use crate::store::error::corrupt;
use crate::store::schema::conversations;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use queries::*;
use records::*;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::ids::{ConversationId, CustomerId, ProjectId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult};
use writes::*;

impl Db {
    /// Records a visit that starts a conversation: finds the project's
    /// customer by visitor id (or by a merged visitor id), or creates one;
    /// sets `last_seen_at`, the context fields given (a `None` keeps the
    /// stored value) and adds one to `total_conversations`. Returns the row
    /// as stored.
    pub async fn touch_customer(
        &self,
        project: ProjectId,
        visitor_id: &str,
        at: DateTime<Utc>,
        ctx: &CustomerContext,
    ) -> StoreResult<CustomerRow> {
        let (db, visitor_id, ctx) = (self.clone(), visitor_id.to_string(), ctx.clone());
        detached(async move {
            let project = project.to_string();
            let row = db
                .conn()
                .await?
                .transaction(async move |c| {
                    // Find-or-create must not interleave with another touch
                    // of the project's customers (the same visitor twice at
                    // once would make two rows or lose a count) nor with a
                    // merge (see customers.rs).
                    c.serialize_on(&serialize_key(&project)).await?;
                    let at = ts(at);
                    match customer_of_visitor(c, &project, &visitor_id).await? {
                        Some(mut row) => {
                            row.last_seen_at = at;
                            row.updated_at = at;
                            row.total_conversations = row.total_conversations.saturating_add(1);
                            apply_context(&mut row, ctx);
                            writes::update_customer(c, &row).await?;
                            Ok(row)
                        }
                        None => {
                            let mut row = new_customer(&project, &visitor_id, at);
                            row.total_conversations = 1;
                            apply_context(&mut row, ctx);
                            writes::insert_customer(c, &row).await?;
                            Ok(row)
                        }
                    }
                })
                .await?;
            CustomerRow::try_from(row)
        })
        .await
    }

    pub async fn customer(
        &self,
        project: ProjectId,
        id: CustomerId,
    ) -> StoreResult<Option<CustomerRow>> {
        self.pooled(async move |c| {
            queries::customer(c, &project.to_string(), &id.to_string())
                .await?
                .map(CustomerRow::try_from)
                .transpose()
        })
        .await
    }
}

fn apply_context(row: &mut DbCustomer, ctx: CustomerContext) {
    fn set(slot: &mut Option<String>, value: Option<String>) {
        if value.is_some() {
            *slot = value;
        }
    }
    set(&mut row.last_browser, ctx.browser);
    set(&mut row.last_device, ctx.device);
    set(&mut row.last_os, ctx.os);
    set(&mut row.last_page_url, ctx.page_url);
    set(&mut row.last_referrer, ctx.referrer);
    set(&mut row.last_timezone, ctx.timezone);
    set(&mut row.last_language, ctx.language);
}

/// The key every find-then-write of a project's customers serializes on.
pub(super) fn serialize_key(project: &str) -> String {
    format!("customers:{project}")
}

/// A new customer row seen first at `at`, with no visits counted.
pub(super) fn new_customer(project: &str, visitor: &str, at: NaiveDateTime) -> DbCustomer {
    DbCustomer {
        id: CustomerId::new().to_string(),
        project_id: project.to_string(),
        visitor_id: visitor.to_string(),
        email: None,
        name: None,
        merged_visitor_ids: "[]".into(),
        first_seen_at: at,
        last_seen_at: at,
        total_conversations: 0,
        last_browser: None,
        last_device: None,
        last_os: None,
        last_page_url: None,
        last_location: None,
        last_timezone: None,
        last_language: None,
        last_referrer: None,
        is_flagged: false,
        flag_reason: None,
        flagged_at: None,
        flagged_by: None,
        internal_notes: None,
        created_at: at,
        updated_at: at,
        email_verified: false,
    }
}

fn merged_ids(row: &DbCustomer) -> StoreResult<Vec<String>> {
    serde_json::from_str(&row.merged_visitor_ids)
        .map_err(|e| corrupt("customers.merged_visitor_ids", e))
}

/// The project's customer of `visitor`: the one whose visitor id it is, or
/// else the one that has it among its merged visitor ids.
pub(super) async fn customer_of_visitor(
    c: &mut DbConn,
    project: &str,
    visitor: &str,
) -> StoreResult<Option<DbCustomer>> {
    if let Some(row) = queries::customer_by_visitor(c, project, visitor).await? {
        return Ok(Some(row));
    }
    let pattern = merged_like_pattern(visitor)?;
    for candidate in queries::customers_merged_like(c, project, &pattern).await? {
        if merged_ids(&candidate)?.iter().any(|v| v == visitor) {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// A LIKE pattern matching a JSON array text that contains `visitor` as an
/// element: the JSON-encoded string, with LIKE's wildcards escaped by `\`.
fn merged_like_pattern(visitor: &str) -> StoreResult<String> {
    let quoted = json_text("visitor id", visitor)?;
    let mut pattern = String::with_capacity(quoted.len() + 2);
    pattern.push('%');
    for ch in quoted.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    Ok(pattern)
}

/// Folds `source` into `target` (5.11.4 mergeCustomers): visitor ids,
/// counts, the span of visits, the newer visit's context, flags and notes.
/// Pure; the caller moves the conversations and deletes `source`.
fn merge_rows(target: &mut DbCustomer, source: &DbCustomer) -> StoreResult<()> {
    let mut merged = merged_ids(target)?;
    for v in std::iter::once(source.visitor_id.clone()).chain(merged_ids(source)?) {
        if v != target.visitor_id && !merged.contains(&v) {
            merged.push(v);
        }
    }
    target.merged_visitor_ids = json_text("customers.merged_visitor_ids", &merged)?;
    target.total_conversations = target
        .total_conversations
        .saturating_add(source.total_conversations);
    target.first_seen_at = target.first_seen_at.min(source.first_seen_at);
    if target.name.is_none() {
        target.name.clone_from(&source.name);
    }
    // The newer visit's context wins, field by field; the older fills gaps.
    let (newer, older) = if source.last_seen_at > target.last_seen_at {
        (source.clone(), target.clone())
    } else {
        (target.clone(), source.clone())
    };
    target.last_seen_at = newer.last_seen_at;
    target.last_browser = newer.last_browser.or(older.last_browser);
    target.last_device = newer.last_device.or(older.last_device);
    target.last_os = newer.last_os.or(older.last_os);
    target.last_page_url = newer.last_page_url.or(older.last_page_url);
    target.last_location = newer.last_location.or(older.last_location);
    target.last_timezone = newer.last_timezone.or(older.last_timezone);
    target.last_language = newer.last_language.or(older.last_language);
    target.last_referrer = newer.last_referrer.or(older.last_referrer);
    // A flag on either side stays: a merge must not clear a warning.
    if !target.is_flagged && source.is_flagged {
        target.is_flagged = true;
        target.flag_reason.clone_from(&source.flag_reason);
        target.flagged_at = source.flagged_at;
        target.flagged_by.clone_from(&source.flagged_by);
    }
    target.internal_notes = match (target.internal_notes.take(), &source.internal_notes) {
        (Some(t), Some(s)) if !s.is_empty() => Some(format!("{t}\n\n{s}")),
        (None, Some(s)) => Some(s.clone()),
        (t, _) => t,
    };
    Ok(())
}

impl Db {
    /// Links a *proven* `email` (trimmed and lowercased here; the caller
    /// validates it and checked the proof: the host site's user_hash or a
    /// one-time code) to the project's visitor, in one transaction (seed
    /// 003 5.11.4). An email without proof never comes here: it would let
    /// anyone who knows an address merge into, and learn of, its customer.
    ///
    /// - the email's customer is the visitor's: the name is updated if given;
    /// - both exist and differ: the visitor's customer is merged into the
    ///   email's (its conversations move, its visitor ids join the merged
    ///   list, counts add up, the newer context wins, flags and notes are
    ///   kept) and deleted;
    /// - only the email's exists: the visitor joins its merged ids;
    /// - only the visitor's exists: it gets the email (and name if given);
    /// - neither: a new customer with both.
    ///
    /// Either way the visitor is seen at `at` and the email is verified.
    pub async fn link_email(
        &self,
        project: ProjectId,
        visitor_id: &str,
        email: &str,
        name: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkedCustomer> {
        let db = self.clone();
        let (visitor, email) = (visitor_id.to_string(), email.trim().to_lowercase());
        let name = name.map(str::to_string);
        detached(async move {
            let project = project.to_string();
            let at = ts(at);
            let (row, moved, open) = db
                .conn()
                .await?
                .transaction(async move |c| {
                    c.serialize_on(&serialize_key(&project)).await?;
                    let by_email = customer_by_email(c, &project, &email).await?;
                    let by_visitor = customer_of_visitor(c, &project, &visitor).await?;
                    let mut moved = Vec::new();
                    let mut row = match (by_email, by_visitor) {
                        (Some(target), Some(source)) if target.id == source.id => target,
                        (Some(mut target), Some(source)) => {
                            // A conversation being created for the source
                            // (its visit counted before this merge) must land
                            // before the move, or fail after the delete; the
                            // caller then retries on the survivor.
                            c.lock_row("customers", &source.id).await?;
                            merge_rows(&mut target, &source)?;
                            moved = move_conversations(c, &source.id, &target.id).await?;
                            retarget_tokens(c, &source.id, &target.id).await?;
                            delete_customer(c, &source.id).await?;
                            target
                        }
                        (Some(mut target), None) => {
                            let mut merged = merged_ids(&target)?;
                            merged.push(visitor.clone());
                            target.merged_visitor_ids =
                                json_text("customers.merged_visitor_ids", &merged)?;
                            target
                        }
                        (None, Some(mut own)) => {
                            own.email = Some(email.clone());
                            own
                        }
                        (None, None) => {
                            let mut fresh = new_customer(&project, &visitor, at);
                            fresh.email = Some(email.clone());
                            fresh.name.clone_from(&name);
                            writes::insert_customer(c, &fresh).await?;
                            fresh
                        }
                    };
                    if name.is_some() {
                        row.name.clone_from(&name);
                    }
                    row.email_verified = true;
                    row.last_seen_at = row.last_seen_at.max(at);
                    row.updated_at = at;
                    writes::update_customer(c, &row).await?;
                    // Closed conversations have no actor to take the new
                    // identity into its columns; the store does it for them.
                    name_closed_conversations(c, &row).await?;
                    let open = open_conversations(c, &row.id).await?;
                    Ok((row, moved, open))
                })
                .await?;
            let mut ids = moved;
            for id in open {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let conversations = ids
                .iter()
                .map(|s| {
                    s.parse::<ConversationId>()
                        .map_err(|e| corrupt("conversations.id", format!("{s:?}: {e}")))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(LinkedCustomer {
                customer: CustomerRow::try_from(row)?,
                conversations,
            })
        })
        .await
    }

    /// The visitor's conversations that are not closed, oldest first: where
    /// an email given without proof is written, as contact information.
    pub async fn open_conversations_of_visitor(
        &self,
        project: ProjectId,
        visitor: &str,
    ) -> StoreResult<Vec<ConversationId>> {
        let (db, visitor) = (self.clone(), visitor.to_string());
        detached(async move {
            let project = project.to_string();
            let mut conn = db.conn().await?;
            let ids: Vec<String> = all_rows!(
                &mut *conn,
                conversations::table
                    .filter(conversations::project_id.eq(&project))
                    .filter(conversations::visitor_id.eq(&visitor))
                    .filter(conversations::status.ne(CONVERSATION_CLOSED))
                    .order((conversations::created_at.asc(), conversations::id.asc()))
                    .select(conversations::id)
            )?;
            ids.iter()
                .map(|s| {
                    s.parse::<ConversationId>()
                        .map_err(|e| corrupt("conversations.id", format!("{s:?}: {e}")))
                })
                .collect()
        })
        .await
    }

    /// The project's customer of `visitor` (by its own or a merged visitor
    /// id), without recording a visit.
    pub async fn customer_of_visitor(
        &self,
        project: ProjectId,
        visitor: &str,
    ) -> StoreResult<Option<CustomerRow>> {
        let visitor = visitor.to_string();
        self.pooled(async move |c| {
            customer_of_visitor(c, &project.to_string(), &visitor)
                .await?
                .map(CustomerRow::try_from)
                .transpose()
        })
        .await
    }

    /// Applies a staff edit: flagging sets `flagged_by` and `flagged_at`,
    /// unflagging clears them and the reason. `NotFound` when the project
    /// has no such customer (merged away, or another project's).
    pub async fn patch_customer(
        &self,
        project: ProjectId,
        id: CustomerId,
        patch: &CustomerPatch,
        by: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<CustomerRow> {
        let (db, patch) = (self.clone(), patch.clone());
        detached(async move {
            let project = project.to_string();
            let id = id.to_string();
            let at = ts(at);
            let row = db
                .conn()
                .await?
                .transaction(async move |c| {
                    // A merge writes the whole target row; without this an
                    // edit made meanwhile would be lost.
                    c.serialize_on(&serialize_key(&project)).await?;
                    let mut row = queries::customer(c, &project, &id)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    match patch.is_flagged {
                        Some(true) => {
                            row.is_flagged = true;
                            row.flagged_by = Some(by.to_string());
                            row.flagged_at = Some(at);
                        }
                        Some(false) => {
                            row.is_flagged = false;
                            row.flag_reason = None;
                            row.flagged_by = None;
                            row.flagged_at = None;
                        }
                        None => {}
                    }
                    if let Some(reason) = patch.flag_reason {
                        if row.is_flagged {
                            row.flag_reason = reason;
                        }
                    }
                    if let Some(notes) = patch.internal_notes {
                        row.internal_notes = notes;
                    }
                    row.updated_at = at;
                    writes::update_customer(c, &row).await?;
                    Ok(row)
                })
                .await?;
            CustomerRow::try_from(row)
        })
        .await
    }

    /// The customer's conversations, newest `created_at` first (ties by id
    /// descending), strictly after `cursor`, at most `limit`, each with the
    /// first message its customer wrote.
    pub async fn customer_conversations(
        &self,
        customer: CustomerId,
        cursor: Option<(DateTime<Utc>, ConversationId)>,
        limit: i64,
    ) -> StoreResult<Vec<CustomerConversation>> {
        let db = self.clone();
        detached(async move {
            let mut conn = db.conn().await?;
            let cursor = cursor.map(|(at, id)| (ts(at), id.to_string()));
            let rows = history_page(&mut conn, &customer.to_string(), cursor, limit).await?;
            let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            let previews = first_customer_messages(&mut conn, &ids).await?;
            rows.into_iter()
                .map(|(id, status, times, rating, email, verified)| {
                    let (created, last, resolved, closed) = times;
                    let preview = previews
                        .iter()
                        .find(|(c, _)| *c == id)
                        .map(|(_, text)| text.clone());
                    Ok(CustomerConversation {
                        id: id
                            .parse()
                            .map_err(|e| corrupt("conversations.id", format!("{id:?}: {e}")))?,
                        status: ConversationStatus::parse(&status)
                            .ok_or_else(|| corrupt("conversations.status", &status))?,
                        created_at: created.and_utc(),
                        last_message_at: last.and_utc(),
                        resolved_at: resolved.map(|t| t.and_utc()),
                        closed_at: closed.map(|t| t.and_utc()),
                        satisfaction_rating: rating,
                        customer_email: email,
                        customer_email_verified: verified,
                        preview,
                    })
                })
                .collect()
        })
        .await
    }
}
