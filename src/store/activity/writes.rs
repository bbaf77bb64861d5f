//! The explorer's writes: recording sessions, tool calls and support
//! requests (in bulk for seeding), and a support request's status.

use crate::store::conn::{with_conn, DbConn};
use crate::store::error::ResultExt;
use crate::store::schema::support_requests;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ids::SupportRequestId;
use switchboard_actors::ports::StoreResult;

/// Inserts `rows` into `table` in one transaction: SQLite (through the
/// sync wrapper) one row per statement, prepared once; PostgreSQL 500 rows
/// a statement (at most 10 values a row: inside its bind limit).
macro_rules! insert_rows {
    ($db:expr, $table:path, $rows:expr) => {{
        let (db, rows) = ($db.clone(), $rows);
        detached(async move {
            let conn = &mut *db.conn().await?;
            conn.transaction(async |conn: &mut DbConn| {
                match conn {
                    DbConn::Sqlite(c) => {
                        for row in &rows {
                            diesel::insert_into($table)
                                .values(row)
                                .execute(c)
                                .await
                                .store()?;
                        }
                    }
                    DbConn::Pg(c) => {
                        for chunk in rows.chunks(500) {
                            diesel::insert_into($table)
                                .values(chunk)
                                .execute(&mut **c)
                                .await
                                .store()?;
                        }
                    }
                }
                Ok(())
            })
            .await
        })
        .await
    }};
}

/// Sets a support request's status and `resolved_at`; the rows changed.
pub(super) async fn update_support_request_status(
    conn: &mut DbConn,
    id: SupportRequestId,
    status: &'static str,
    resolved_at: Option<NaiveDateTime>,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        support_requests::table.filter(support_requests::id.eq(id.to_string()))
    )
    .set((
        support_requests::status.eq(status),
        support_requests::resolved_at.eq(resolved_at),
    ))
    .execute(c)
    .await
    .store())
}
pub(super) use insert_rows;
