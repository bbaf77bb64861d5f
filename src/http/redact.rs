//! Credentials out of the logs. The access log prints each request's line,
//! and some URLs carry a credential by contract (`/ws?token=`, the
//! customer's join link `/join/:id?token=`, a page's `?key=`, an
//! invitation link `/invite/:token`): their values
//! are replaced before the line is written, at every log level.

/// Query parameters whose value is a credential.
const SECRET_PARAMS: &[&str] = &["token", "access_token", "key", "secret", "code"];

/// Paths whose last segment is a credential (an invitation link).
const SECRET_PATHS: &[&str] = &["/invite/"];

/// `path?query` with every credential parameter's value replaced.
pub fn redact_uri(path: &str, query: &str) -> String {
    let redacted;
    let path = match SECRET_PATHS.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) => {
            redacted = format!("{prefix}[redacted]");
            redacted.as_str()
        }
        None => path,
    };
    if query.is_empty() {
        return path.to_string();
    }
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !value.is_empty() && SECRET_PARAMS.iter().any(|s| name.eq_ignore_ascii_case(s)) {
                format!("{name}=[redacted]")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

/// The request line as the access log prints it: `GET /ws?token=[redacted] HTTP/1.1`.
pub fn request_line(req: &actix_web::dev::ServiceRequest) -> String {
    format!(
        "{} {} {:?}",
        req.method(),
        redact_uri(req.path(), req.query_string()),
        req.version()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_queries_are_redacted() {
        assert_eq!(redact_uri("/ws", "token=sbt_abc"), "/ws?token=[redacted]");
        assert_eq!(
            redact_uri("/join/1", "x=1&TOKEN=sbs_a&key=pk_b&limit=5"),
            "/join/1?x=1&TOKEN=[redacted]&key=[redacted]&limit=5"
        );
        assert_eq!(redact_uri("/api/x", ""), "/api/x");
        assert_eq!(redact_uri("/api/x", "limit=5"), "/api/x?limit=5");
        assert_eq!(redact_uri("/invite/sbi_secret", ""), "/invite/[redacted]");
        assert_eq!(redact_uri("/invites", ""), "/invites");
    }
}
