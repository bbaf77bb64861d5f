//! Upserts whose prepared statement diesel can cache.
//!
//! diesel never caches `INSERT ... ON CONFLICT ... DO UPDATE` (a changeset
//! may skip `None` fields, so its SQL may vary), and re-parsing them was a
//! quarter of the group commit's time in the handoff storm. [`Upsert`] is
//! the plain insert, which diesel caches, followed by a fixed conflict
//! clause that sets every column from `excluded`: the same SQL on SQLite
//! and PostgreSQL, the same rows written as the changeset form.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::QueryResult;
use std::marker::PhantomData;

/// The `ON CONFLICT (...) DO UPDATE SET ...` text of one table.
pub trait ConflictClause: 'static {
    const SQL: &'static str;
}

/// ` ON CONFLICT (keys) DO UPDATE SET c = excluded.c, ...` from column
/// names, each checked against the schema at compile time.
macro_rules! conflict_clause {
    ($name:ident, $table:ident, ($($key:ident),+), [$first:ident $(, $col:ident)* $(,)?]) => {
        pub struct $name;
        impl $crate::store::upsert::ConflictClause for $name {
            const SQL: &'static str = concat!(
                " ON CONFLICT (",
                $crate::store::upsert::conflict_clause!(@keys $($key),+),
                ") DO UPDATE SET ",
                stringify!($first), " = excluded.", stringify!($first)
                $(, ", ", stringify!($col), " = excluded.", stringify!($col))*
            );
        }
        #[allow(dead_code)]
        const _: () = {
            fn columns_exist() {
                let _ = ($($table::$key,)+ $table::$first, $($table::$col,)*);
            }
        };
    };
    (@keys $first:ident $(, $key:ident)*) => {
        concat!(stringify!($first) $(, ", ", stringify!($key))*)
    };
}
pub(super) use conflict_clause;

/// `insert` followed by `C`'s conflict clause.
pub struct Upsert<I, C> {
    insert: I,
    clause: PhantomData<C>,
}

impl<I, C> Upsert<I, C> {
    pub fn new(insert: I) -> Self {
        Upsert {
            insert,
            clause: PhantomData,
        }
    }
}

impl<I: QueryId, C: ConflictClause> QueryId for Upsert<I, C> {
    type QueryId = (I::QueryId, C);
    const HAS_STATIC_QUERY_ID: bool = I::HAS_STATIC_QUERY_ID;
}

impl<I, C, DB> QueryFragment<DB> for Upsert<I, C>
where
    DB: Backend,
    I: QueryFragment<DB>,
    C: ConflictClause,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.insert.walk_ast(out.reborrow())?;
        out.push_sql(C::SQL);
        Ok(())
    }
}

impl<I, C, Conn> diesel::RunQueryDsl<Conn> for Upsert<I, C> {}
