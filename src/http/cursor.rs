//! Keyset cursors for the lists (docs/protocol.md section 1): the last item's
//! `(time, id)`, opaque to clients (base64 of `micros|id`).

use crate::error::{ApiError, ApiResult};
use crate::http::validate;
use actix_web::HttpResponse;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt::Display;
use std::future::Future;
use std::str::FromStr;
use switchboard_actors::ports::StoreResult;

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

/// The query of a list paged by nothing but the cursor.
#[derive(Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One page of a keyset list, answered as `{items, next_cursor}`: `fetch`
/// gets the cursor to start after and one row more than the limit; `key`
/// is the cursor of a row. The limit is checked before the cursor.
pub async fn list<T, I, K, Fut>(
    q: &PageQuery,
    fetch: impl FnOnce(Option<(DateTime<Utc>, I)>, i64) -> Fut,
    key: impl Fn(&T) -> (DateTime<Utc>, K),
) -> ApiResult<HttpResponse>
where
    T: Serialize,
    I: FromStr,
    K: Display,
    Fut: Future<Output = StoreResult<Vec<T>>>,
{
    let limit = validate::limit(q.limit)?;
    let after = q.cursor.as_deref().map(decode).transpose()?;
    let mut items = fetch(after, limit + 1).await?;
    let next = page(&mut items, limit, key);
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

/// Where a message history's page starts: after `after_seq`, which must
/// be 0 or more (422 on `after_seq`).
pub fn after_seq(after: Option<i64>) -> ApiResult<i64> {
    let after = after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::field("after_seq", "must be 0 or more"));
    }
    Ok(after)
}

/// A message history's next cursor: the last `seq` of a full page (more
/// may follow), `None` after a short one.
pub fn next_seq<T>(rows: &[T], limit: i64, seq: impl Fn(&T) -> i64) -> Option<String> {
    if rows.len() as i64 == limit {
        rows.last().map(|m| seq(m).to_string())
    } else {
        None
    }
}
