//! Small JSON helpers and the assertions of the error contract.

use serde_json::{json, Value};

/// A JSON string as an owned String (panics on anything else).
pub fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}

pub fn seqs(msgs: &[Value]) -> Vec<i64> {
    msgs.iter()
        .map(|m| m["seq"].as_i64().unwrap_or_else(|| panic!("no seq in {m}")))
        .collect()
}

pub fn sender_types(msgs: &[Value]) -> Vec<String> {
    msgs.iter().map(|m| s(&m["sender_type"])).collect()
}

/// Assert an error answer of the contract: status, `error` code, and a
/// human `message`.
pub fn assert_error(res: &(u16, Value), status: u16, code: &str) {
    let (st, body) = res;
    assert_eq!(
        (*st, &body["error"]),
        (status, &json!(code)),
        "expected {status} {code}, got {st} {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error without a message: {body}"
    );
}

/// Assert a validation error (422 `VALIDATION_FAILED`) that names `field`
/// among its `fields`.
pub fn assert_invalid_field(res: &(u16, Value), field: &str) {
    assert_error(res, 422, "VALIDATION_FAILED");
    assert!(
        res.1["fields"][field].is_string(),
        "{field} is not named: {}",
        res.1
    );
}

/// Every key of `expected` is in `actual` with exactly that value.
pub fn assert_fields(actual: &Value, expected: &Value) {
    let exp = expected.as_object().expect("expected an object");
    for (k, v) in exp {
        assert_eq!(&actual[k], v, "field {k} of {actual}");
    }
}
