//! How a project's widget looks, and where it may be embedded: the
//! appearance document the admin console edits and the widget reads with
//! the public key, and the allowed-origins list with its checks.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most origins one project lists.
pub const MAX_ORIGINS: usize = 50;

/// The widget's look (a partial document is filled in from the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Appearance {
    /// The panel's header.
    pub title: String,
    /// The AI's first words, shown before the customer writes.
    pub greeting: String,
    /// `#rrggbb`: the launcher, the header and the customer's messages.
    pub accent_color: String,
    /// `right` or `left`: the launcher's corner.
    pub position: String,
    /// The widget's language when the visitor's browser does not say
    /// (`en`, `fr`, `pt-BR`...).
    pub language: String,
}

impl Default for Appearance {
    fn default() -> Self {
        Self {
            title: "Chat with us".into(),
            greeting: "Hi! Ask me anything; a person is never far away.".into(),
            accent_color: "#2457c5".into(),
            position: "right".into(),
            language: "en".into(),
        }
    }
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let lang = parts.next().unwrap_or_default();
    let region = parts.next();
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
        && parts.next().is_none()
}

impl Appearance {
    /// Trimmed text; the colour in lower case.
    pub fn normalized(mut self) -> Self {
        self.title = self.title.trim().to_string();
        self.greeting = self.greeting.trim().to_string();
        self.accent_color = self.accent_color.trim().to_ascii_lowercase();
        self.position = self.position.trim().to_string();
        self.language = self.language.trim().to_string();
        self
    }

    /// Every field's problem at once.
    pub fn validate(&self) -> Result<(), BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let mut check = |ok: bool, field: &str, problem: &str| {
            if !ok {
                errors.insert(field.to_string(), problem.to_string());
            }
        };
        let chars = |s: &str| s.chars().count();
        check(
            (1..=60).contains(&chars(&self.title)),
            "title",
            "must be 1 to 60 characters",
        );
        check(
            chars(&self.greeting) <= 500,
            "greeting",
            "must be at most 500 characters",
        );
        check(
            is_hex_colour(&self.accent_color),
            "accent_color",
            "must be a colour written #rrggbb, like #2457c5",
        );
        check(
            matches!(self.position.as_str(), "right" | "left"),
            "position",
            "must be \"right\" or \"left\"",
        );
        check(
            is_language_tag(&self.language),
            "language",
            "must be a language code like en, fr or pt-BR",
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An origin as browsers send it (`scheme://host[:port]`, lower case, no
/// path), or why `s` is not one.
pub fn parse_origin(s: &str) -> Result<String, &'static str> {
    let s = s.trim().trim_end_matches('/').to_ascii_lowercase();
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err("must start with http:// or https://");
    };
    if scheme != "http" && scheme != "https" {
        return Err("must start with http:// or https://");
    }
    // A bracketed IPv6 host keeps its colons; otherwise the first one
    // starts the port.
    let (host, port) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((v6, after)) => (
            v6,
            after
                .strip_prefix(':')
                .or(Some(after).filter(|a| !a.is_empty())),
        ),
        None => match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        },
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    if !host_ok || !port_ok {
        return Err("must be an origin: a scheme, a host and an optional port, with no path");
    }
    Ok(s)
}

/// Whether a browser request from `origin` may use a project whose list is
/// `allowed` (an empty list allows every origin). A request that carries no
/// Origin is not a browser's cross-site request and is not judged here.
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    allowed.is_empty()
        || allowed
            .iter()
            .any(|a| a.eq_ignore_ascii_case(origin.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origin("https://Shop.Example.com/"),
            Ok("https://shop.example.com".into())
        );
        assert_eq!(
            parse_origin("http://localhost:8080"),
            Ok("http://localhost:8080".into())
        );
        assert_eq!(
            parse_origin("http://[::1]:8080"),
            Ok("http://[::1]:8080".into())
        );
        for bad in [
            "shop.example.com",
            "ftp://x.com",
            "https://",
            "https://x.com/path",
            "https://x.com:99999",
            "https://x .com",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        let list = vec!["https://shop.example.com".to_string()];
        assert!(origin_allowed(&list, "https://shop.example.com"));
        assert!(!origin_allowed(&list, "https://evil.example.com"));
        assert!(origin_allowed(&[], "https://anything.example"));
    }

    #[test]
    fn appearance_reports_every_bad_field() {
        assert_eq!(Appearance::default().validate(), Ok(()));
        let bad = Appearance {
            title: " ".into(),
            greeting: "x".repeat(501),
            accent_color: "blue".into(),
            position: "top".into(),
            language: "english".into(),
        }
        .normalized();
        let errors = bad.validate().expect_err("five bad fields");
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["accent_color", "greeting", "language", "position", "title"]
        );
        let partial: Appearance =
            serde_json::from_str(r##"{"accent_color":"#FF0000"}"##).expect("a partial document");
        assert_eq!(partial.normalized().accent_color, "#ff0000");
        assert!(serde_json::from_str::<Appearance>(r#"{"colour":"red"}"#).is_err());
    }
}
