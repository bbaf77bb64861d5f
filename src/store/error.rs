//! Mapping diesel's errors to the port's [`StoreError`]: a unique violation
//! is a `Conflict`, a missing row `NotFound`, everything else `Backend` with
//! its message (for the log; callers answer a generic 500).

use diesel::result::{DatabaseErrorKind, Error};
use switchboard_actors::ports::{StoreError, StoreResult};

/// Converts one diesel error.
pub fn map_diesel(e: Error) -> StoreError {
    match e {
        Error::NotFound => StoreError::NotFound,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(info.message().to_string())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

/// `.store()` on a diesel result: `?`-friendly conversion to [`StoreResult`].
pub trait ResultExt<T> {
    fn store(self) -> StoreResult<T>;
}

impl<T> ResultExt<T> for Result<T, Error> {
    fn store(self) -> StoreResult<T> {
        self.map_err(map_diesel)
    }
}

/// A stored value that does not decode (a bad uuid, an unknown enum name,
/// malformed JSON): the database holds something this code never writes.
pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt {what} in database: {detail}"))
}

/// An update of one row by its key, which changed `n` rows: `NotFound` when
/// there is no row with that key.
pub fn one_row(n: usize) -> StoreResult<()> {
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
