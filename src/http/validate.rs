//! Small input checks shared by the handlers; each failure names its field.

use crate::error::{ApiError, ApiResult};

pub fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(char::is_whitespace)
}

pub fn email(field: &str, s: &str) -> ApiResult<String> {
    if looks_like_email(s) {
        Ok(s.trim().to_lowercase())
    } else {
        Err(ApiError::field(field, "must be an email address"))
    }
}

/// Trimmed text of `min..=max` characters.
pub fn text(field: &str, s: &str, min: usize, max: usize) -> ApiResult<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(ApiError::field(
            field,
            &format!("must be {min} to {max} characters"),
        ));
    }
    Ok(t.to_string())
}

pub fn password(field: &str, s: &str) -> ApiResult<()> {
    let n = s.chars().count();
    if !(8..=200).contains(&n) {
        return Err(ApiError::field(field, "must be 8 to 200 characters"));
    }
    Ok(())
}

/// `?limit=` of docs/protocol.md section 1: 1..100, default 20.
pub fn limit(v: Option<i64>) -> ApiResult<i64> {
    match v {
        None => Ok(20),
        Some(n) if (1..=100).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field("limit", "must be between 1 and 100")),
    }
}

/// One 422 with every field problem of several checks that failed, so a
/// form shows them all at once.
pub fn fields<const N: usize>(errors: [Option<ApiError>; N]) -> ApiError {
    let mut all = std::collections::BTreeMap::new();
    for e in errors.into_iter().flatten() {
        all.extend(e.fields.unwrap_or_default());
    }
    ApiError::validation(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(looks_like_email("a@b.co"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("@b.co"));
        assert!(!looks_like_email("a b@c.de"));
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).ok(), Some(20));
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(101)).is_err());
        assert_eq!(limit(Some(100)).ok(), Some(100));
    }
}
