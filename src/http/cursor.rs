//! Keyset cursors for the lists (docs/protocol.md section 1): the last item's
//! `(time, id)`, opaque to clients (base64 of `micros|id`).

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use chrono::{DateTime, Utc};
use std::fmt::Display;
use std::str::FromStr;

pub fn encode(at: DateTime<Utc>, id: impl Display) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}|{id}", at.timestamp_micros()))
}

/// One page of a list fetched with one row more than `limit` (that row
/// says whether a next page exists): keeps the first `limit` rows and
/// answers the cursor after the last of them, or `None` on the last page.
pub fn page<T, I: Display>(
    rows: &mut Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (DateTime<Utc>, I),
) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    if !more {
        return None;
    }
    rows.last().map(|r| {
        let (at, id) = key(r);
        encode(at, id)
    })
}

/// A cursor this API gave out, or 422 on `cursor`.
pub fn decode<I: FromStr>(s: &str) -> ApiResult<(DateTime<Utc>, I)> {
    let bad = || ApiError::field("cursor", "is not a cursor this API gave out");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (us, id) = text.split_once('|').ok_or_else(bad)?;
    let us: i64 = us.parse().map_err(|_| bad())?;
    let at = DateTime::from_timestamp_micros(us).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}
