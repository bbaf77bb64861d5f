//! What a customer may put in `metadata` (issue 14): the keys the widget
//! and the engine actually use, each a short string. Anything else is
//! refused with 422 naming the key, so a customer cannot dress a message
//! up as an agent's (`{"sender_type": "agent"}`), fake the AI's
//! `confidence`, or smuggle server-written keys (`offline_form`,
//! `close_reason`) into what agents and the engine read.
//!
//! Staff and bots are not customers: an agent's or a bot's message keeps
//! any object within the size limit (a bot's `confidence` drives the
//! low-confidence handoff).

use crate::error::{ApiError, ApiResult};
use serde_json::Value;
use std::collections::BTreeMap;
use switchboard_actors::domain::text;

/// A conversation's metadata as the widget starts it (seed 003 5.11.3's
/// visit context; the customer panel shows most of it): key and longest
/// value in characters.
pub const CONVERSATION_KEYS: &[(&str, usize)] = &[
    ("browser", 100),
    ("device", 100),
    ("os", 100),
    ("page_url", 2048),
    ("page_title", 500),
    ("referrer", 2048),
    ("timezone", 100),
    ("language", 100),
    ("screen_resolution", 50),
];

/// A customer's message metadata: the page it was written on.
pub const MESSAGE_KEYS: &[(&str, usize)] = &[("page_url", 2048)];

/// A key is named in the error as `metadata.<key>`, cut to this many
/// characters (it is the caller's own text).
const MAX_KEY_CHARS_SHOWN: usize = 64;

/// Checks a customer's `metadata`: an object whose keys are all in
/// `allowed`, each value `null` or a string of at most that many
/// characters without control or bidi override characters. Every problem
/// is reported, each under `metadata.<key>`.
pub fn check_customer(metadata: &Value, allowed: &[(&str, usize)]) -> ApiResult<()> {
    let Some(object) = metadata.as_object() else {
        return Err(ApiError::field("metadata", "must be an object"));
    };
    let mut problems = BTreeMap::new();
    for (key, value) in object {
        let shown: String = key.chars().take(MAX_KEY_CHARS_SHOWN).collect();
        let field = format!("metadata.{shown}");
        let Some((_, max)) = allowed.iter().find(|(k, _)| k == key) else {
            let names: Vec<&str> = allowed.iter().map(|(k, _)| *k).collect();
            problems.insert(
                field,
                format!(
                    "is not a key a customer may set (allowed: {})",
                    names.join(", ")
                ),
            );
            continue;
        };
        match value {
            Value::Null => {}
            Value::String(s) if s.chars().count() > *max => {
                problems.insert(field, format!("must be at most {max} characters"));
            }
            Value::String(s) => {
                if let Some(problem) = text::problem(s) {
                    problems.insert(field, problem.to_string());
                }
            }
            _ => {
                problems.insert(field, "must be a string or null".to_string());
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_keys_pass_and_others_are_named() {
        assert!(check_customer(
            &json!({ "browser": "Firefox", "referrer": null }),
            CONVERSATION_KEYS
        )
        .is_ok());
        let e = check_customer(
            &json!({ "sender_type": "agent", "confidence": 5, "page_url": 1 }),
            MESSAGE_KEYS,
        )
        .err()
        .and_then(|e| e.fields)
        .unwrap_or_default();
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "metadata.confidence",
                "metadata.page_url",
                "metadata.sender_type"
            ]
        );
    }

    #[test]
    fn values_are_short_clean_strings() {
        assert!(check_customer(&json!({ "os": "x".repeat(101) }), CONVERSATION_KEYS).is_err());
        assert!(check_customer(&json!({ "os": "Linux\u{202E}" }), CONVERSATION_KEYS).is_err());
        assert!(check_customer(&json!(["os"]), CONVERSATION_KEYS).is_err());
    }
}
