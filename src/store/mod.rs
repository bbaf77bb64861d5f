//! The persistence layer: diesel (async) over SQLite (embedded, the
//! default) or PostgreSQL. Owns the database, its schema and migrations
//! (one `migrations/` tree for both, see [`migrations`]), and every query; the
//! engine reaches it only through the `Store` port, the HTTP side through
//! [`Db`]'s methods.
//!
//! Layout: `schema` (the tables, as diesel print-schema writes them from
//! the migrations), `rows` (one struct per table and the conversions to
//! and from records), `queries` (each statement once, over [`DbConn`]),
//! `conn` (the backend enum, the `with_conn!` macro, the pool manager,
//! transactions), `db` (the [`Db`] handle and the HTTP side's operations),
//! `port` (the engine's `Store` port), `records` (the HTTP side's records),
//! `customers` (identity: linking emails, merging customers, history),
//! `identity` (the proofs identity needs: visitor secrets, codes), `staff`
//! (who may create projects, proving a staff email, invitations).

/// The activity explorer: sessions, tool calls, support requests.
pub mod activity;
mod batch;
mod conn;
mod customers;
mod db;
mod error;
/// Proof of identity: visitors' secrets, one-time codes, identity secrets.
mod identity;
/// Leads of the offline form and the built-in email outbox.
pub mod leads;
pub mod migrations;
mod port;
mod queries;
mod records;
mod rows;
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

pub use conn::{DbConn, Target};
pub use customers::{CustomerConversation, CustomerPatch, LinkedCustomer};
pub use db::Db;
pub use error::map_diesel;
pub use identity::{CodeCheck, IdentityCode};
pub use leads::{EmailRecord, LeadRecord};
pub use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use records::{
    ConversationFilter, CustomerContext, CustomerRow, KnowledgeRow, MemberRole, MemberRow,
    MemberStatus, ProjectRow, TokenKind, TokenRow, UserRow,
};
pub use staff::{InstanceEmailRecord, Revoked, StaffEmailCode};
