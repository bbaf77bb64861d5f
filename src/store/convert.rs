//! The conversions every area's records share: how a time, an id, a JSON
//! value and a count are stored. One copy, so every table stores a value
//! the same way: uuids as lowercase text, JSON as text, times as UTC
//! `NaiveDateTime` truncated to microseconds (what PostgreSQL keeps, so both
//! backends give back the same value).

use super::error::corrupt;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::str::FromStr;
use switchboard_actors::ports::{StoreError, StoreResult};

/// A UTC instant as stored.
pub fn ts(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

pub fn ts_opt(t: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    t.map(ts)
}

/// A stored instant as UTC.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub fn utc_opt(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(utc)
}

/// Parses a stored id (a typed id or a bare uuid) or string enum.
pub fn parse_id<T: FromStr>(what: &str, s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(s).map_err(|e| corrupt(what, format!("{s:?}: {e}")))
}

pub fn id_opt<T: FromStr>(what: &str, s: Option<&str>) -> StoreResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    s.map(|s| parse_id(what, s)).transpose()
}

pub fn opt_string<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

pub fn json_text<T: Serialize + ?Sized>(what: &str, v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encode {what}: {e}")))
}

pub fn from_json<T: DeserializeOwned>(what: &str, s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

/// A count or amount into its column; too large to store fails the write.
pub fn to_column<T, C>(what: &str, v: T) -> StoreResult<C>
where
    T: Copy + std::fmt::Display,
    C: TryFrom<T>,
{
    C::try_from(v).map_err(|_| StoreError::Backend(format!("{what} out of range: {v}")))
}

/// A stored count or amount back; out of range means a corrupt row.
pub fn from_column<C, T>(what: &str, v: C) -> StoreResult<T>
where
    C: Copy + std::fmt::Display,
    T: TryFrom<C>,
{
    T::try_from(v).map_err(|_| corrupt(what, v))
}

pub fn to_i32(what: &str, v: u32) -> StoreResult<i32> {
    to_column(what, v)
}

pub fn to_u32(what: &str, v: i32) -> StoreResult<u32> {
    from_column(what, v)
}

pub fn to_i64(what: &str, v: u64) -> StoreResult<i64> {
    to_column(what, v)
}

pub fn to_u64(what: &str, v: i64) -> StoreResult<u64> {
    from_column(what, v)
}

/// Converts a batch of rows, failing on the first that does not decode.
pub fn convert_all<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
