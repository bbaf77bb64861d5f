//! The persistence layer: diesel (async) over SQLite (embedded, the
//! default) or PostgreSQL. Owns the database, its schema and migrations
//! (one `migrations/` tree for both, see [`migrations`]), and every query; the
//! engine reaches it only through its ports (`Store`, `SessionStore`), the
//! HTTP side through [`Db`]'s methods.
//!
//! # Layout: one rule for every area
//!
//! Each area of data is a folder with the same split:
//! - `records.rs`: its records (what the server and the engine hold) and its
//!   database rows (one diesel struct per table), with the conversions
//!   between them;
//! - `queries.rs`: its reads, each statement written once over [`DbConn`]
//!   (with `with_conn!`), so it runs alone on a pooled connection or inside
//!   a transaction;
//! - `writes.rs`: its mutations (inserts, upserts, updates, deletes), the same
//!   way, and its part of the writer's group commit where it has one;
//! - `mod.rs`: the area's documentation and its operations on [`Db`], each
//!   converting records to rows, running statements and converting back;
//! - `port.rs`, where the area serves one of the engine's ports.
//!
//! The areas: [`conversations`] (live chat: conversations, messages, the
//! agents' ledger, handoff settings; the engine's `Store` port),
//! [`customers`] (identity, merging, history), [`sessions`] (billable
//! tickets, sessions, their messages, SMS and payments; the engine's
//! `SessionStore` port), [`activity`] (the activity explorer), [`accounts`]
//! (users, tokens, projects, memberships, knowledge). The small areas are
//! one file each, in the same order (records, then reads, then writes, then
//! the operations on [`Db`]): `staff`, `identity`, `leads`, `stats`.
//!
//! Shared by every area: `schema` (the tables, as diesel print-schema
//! writes them from the migrations), `convert` (how a time, an id, JSON and
//! a count are stored), `conn` (the backend enum, the `with_conn!` macro, the
//! pool manager, transactions), `error`, `upsert`, `db` (the [`Db`] handle:
//! opening, pools, migrations) and `batch` (the writer's group commit of the
//! engine's write ops, across areas).

mod accounts;
/// The activity explorer: sessions, tool calls, support requests.
pub mod activity;
mod batch;
pub mod canned;
mod conn;
mod conversations;
mod convert;
mod customers;
mod db;
mod error;
/// Proof of identity: visitors' secrets, one-time codes, identity secrets.
mod identity;
/// Leads of the offline form and the built-in email outbox.
pub mod leads;
pub mod migrations;
/// The tables, hand-kept identical to what `diesel print-schema` writes
/// from `migrations/`; it serves both backends (tests compare it
/// with a migrated SQLite file and a migrated PostgreSQL database).
pub mod schema;
pub mod sessions;
/// Staff accounts beyond their login: who may create projects, proving an
/// account's email, the instance outbox, invitations' lifecycle.
mod staff;
/// An agent's figures for a day (the dashboard's "Today's Stats").
pub mod stats;
mod upsert;

#[cfg(test)]
mod tests;

pub use accounts::records::{
    KnowledgeRow, MemberRole, MemberRow, MemberStatus, ProjectRow, TokenKind, TokenRow, UserRow,
};
pub use conn::{DbConn, Target};
pub use conversations::records::ConversationFilter;
pub use customers::records::{
    CustomerContext, CustomerConversation, CustomerPatch, CustomerRow, LinkedCustomer,
};
pub use db::Db;
pub use error::map_diesel;
pub use identity::{CodeCheck, IdentityCode};
pub use leads::{EmailRecord, LeadRecord};
pub use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use staff::{InstanceEmailRecord, Revoked, StaffEmailCode};
