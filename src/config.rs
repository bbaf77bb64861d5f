//! Configuration from the environment (docs/protocol.md section 0). Every
//! variable that is wrong stops the start with one line naming it.

use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/switchboard.db";
pub const DEFAULT_TOKEN_TTL_HOURS: i64 = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (created with its folder when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server: `postgres://user:password@host:port/database`.
    Postgres(String),
}

impl DatabaseUrl {
    /// The URL without its password, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminBootstrap {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `SWITCHBOARD_BIND`: where HTTP and WebSocket listen.
    pub bind: SocketAddr,
    /// `DATABASE_URL`.
    pub database: DatabaseUrl,
    /// `SWITCHBOARD_ADMIN_EMAIL` + `SWITCHBOARD_ADMIN_PASSWORD`: the first
    /// admin, created only on an empty database.
    pub admin: Option<AdminBootstrap>,
    /// `SWITCHBOARD_TOKEN_TTL_HOURS`: how long staff tokens live.
    pub token_ttl: chrono::Duration,
    /// `--demo`: seed a demo project.
    pub demo: bool,
    /// HTTP worker threads (`SWITCHBOARD_WORKERS`, default: 2).
    pub workers: usize,
    /// `SWITCHBOARD_SMS_WEBHOOK_URL`, `SWITCHBOARD_CALL_WEBHOOK_URL`,
    /// `SWITCHBOARD_PAYMENT_WEBHOOK_URL`: billable sessions' providers
    /// (unset: the built-in ones; see `providers.rs`);
    /// `SWITCHBOARD_EMAIL_WEBHOOK_URL`: the email provider (see `email.rs`).
    pub webhooks: crate::providers::WebhookUrls,
    /// `SWITCHBOARD_RATE_LIMIT_*`: requests per minute of each limit (0
    /// turns one off); `SWITCHBOARD_RATE_LIMITS=off` turns all off. See
    /// `limits.rs`.
    pub rate_limits: crate::limits::RateLimits,
    /// `SWITCHBOARD_TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For`
    /// names the client (comma-separated addresses or CIDR ranges); from
    /// anyone else the header is ignored, so no client picks its own
    /// address for the limits.
    pub trusted_proxies: Vec<crate::http::client_addr::IpRange>,
    /// `SWITCHBOARD_PASSWORD_HASHERS`: threads that hash passwords (each
    /// hash takes about 19 MiB while it runs); see `passwords.rs`.
    pub password_hashers: usize,
}

/// One line naming the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

pub fn parse_database_url(url: &str) -> Result<DatabaseUrl, ConfigError> {
    let var = "DATABASE_URL";
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
        if rest.is_empty() {
            return Err(err(var, "the postgres URL names no server"));
        }
        return Ok(DatabaseUrl::Postgres(url.to_string()));
    } else {
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or(url);
        return Err(err(
            var,
            format!(
                "unknown scheme {scheme:?}; expected sqlite://<path> or postgres://user:password@host/database"
            ),
        ));
    };
    if path.is_empty() {
        return Err(err(var, "the sqlite path is empty"));
    }
    if path == ":memory:" {
        return Err(err(
            var,
            "in-memory SQLite is not supported (every connection would see its own empty database); use a file path",
        ));
    }
    Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
}

impl Config {
    /// Read the environment through `get` (std::env::var in production).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        demo: bool,
    ) -> Result<Config, ConfigError> {
        let bind_s = get("SWITCHBOARD_BIND").unwrap_or_else(|| DEFAULT_BIND.to_string());
        let bind = bind_s.parse::<SocketAddr>().map_err(|_| {
            err(
                "SWITCHBOARD_BIND",
                format!("{bind_s:?} is not an address like 127.0.0.1:8080"),
            )
        })?;
        let db_s = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let database = parse_database_url(&db_s)?;
        let admin = match (
            get("SWITCHBOARD_ADMIN_EMAIL"),
            get("SWITCHBOARD_ADMIN_PASSWORD"),
        ) {
            (None, None) => None,
            (Some(email), Some(password)) => {
                if !crate::http::validate::looks_like_email(&email) {
                    return Err(err(
                        "SWITCHBOARD_ADMIN_EMAIL",
                        format!("{email:?} is not an email address"),
                    ));
                }
                if password.chars().count() < 8 {
                    return Err(err(
                        "SWITCHBOARD_ADMIN_PASSWORD",
                        "must be at least 8 characters",
                    ));
                }
                Some(AdminBootstrap {
                    email: email.trim().to_lowercase(),
                    password,
                })
            }
            (Some(_), None) => {
                return Err(err(
                    "SWITCHBOARD_ADMIN_PASSWORD",
                    "must be set when SWITCHBOARD_ADMIN_EMAIL is",
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "SWITCHBOARD_ADMIN_EMAIL",
                    "must be set when SWITCHBOARD_ADMIN_PASSWORD is",
                ))
            }
        };
        let ttl_hours = match get("SWITCHBOARD_TOKEN_TTL_HOURS") {
            None => DEFAULT_TOKEN_TTL_HOURS,
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|h| (1..=24 * 365).contains(h))
                .ok_or_else(|| {
                    err(
                        "SWITCHBOARD_TOKEN_TTL_HOURS",
                        format!("{s:?} is not a number of hours from 1 to 8760"),
                    )
                })?,
        };
        let workers = match get("SWITCHBOARD_WORKERS") {
            None => 2,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|w| (1..=256).contains(w))
                .ok_or_else(|| {
                    err(
                        "SWITCHBOARD_WORKERS",
                        format!("{s:?} is not a number from 1 to 256"),
                    )
                })?,
        };
        let webhooks = crate::providers::WebhookUrls {
            sms: crate::providers::parse_webhook_url(
                "SWITCHBOARD_SMS_WEBHOOK_URL",
                get("SWITCHBOARD_SMS_WEBHOOK_URL"),
            )?,
            call: crate::providers::parse_webhook_url(
                "SWITCHBOARD_CALL_WEBHOOK_URL",
                get("SWITCHBOARD_CALL_WEBHOOK_URL"),
            )?,
            payment: crate::providers::parse_webhook_url(
                "SWITCHBOARD_PAYMENT_WEBHOOK_URL",
                get("SWITCHBOARD_PAYMENT_WEBHOOK_URL"),
            )?,
            email: crate::providers::parse_webhook_url(
                "SWITCHBOARD_EMAIL_WEBHOOK_URL",
                get("SWITCHBOARD_EMAIL_WEBHOOK_URL"),
            )?,
        };
        let rate_limits = rate_limits(&get)?;
        let trusted_proxies = match get("SWITCHBOARD_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(s) => crate::http::client_addr::parse_proxies(&s)
                .map_err(|problem| err("SWITCHBOARD_TRUSTED_PROXIES", problem))?,
        };
        let password_hashers = match get("SWITCHBOARD_PASSWORD_HASHERS") {
            None => crate::passwords::DEFAULT_HASHERS,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| {
                    err(
                        "SWITCHBOARD_PASSWORD_HASHERS",
                        format!("{s:?} is not a number from 1 to 64"),
                    )
                })?,
        };
        Ok(Config {
            bind,
            database,
            admin,
            token_ttl: chrono::Duration::hours(ttl_hours),
            demo,
            workers,
            webhooks,
            rate_limits,
            trusted_proxies,
            password_hashers,
        })
    }

    pub fn from_env(demo: bool) -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()), demo)
    }

    /// Loopback on a free port, the given SQLite file, a known first admin.
    pub fn for_tests(db: PathBuf) -> Config {
        Self::for_tests_on(DatabaseUrl::Sqlite(db))
    }

    /// Loopback on a free port, the given database, a known first admin.
    pub fn for_tests_on(database: DatabaseUrl) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database,
            admin: Some(AdminBootstrap {
                email: "admin@example.com".into(),
                password: "admin-password-1".into(),
            }),
            token_ttl: chrono::Duration::hours(DEFAULT_TOKEN_TTL_HOURS),
            demo: false,
            workers: 2,
            webhooks: crate::providers::WebhookUrls::default(),
            rate_limits: crate::limits::RateLimits::default(),
            trusted_proxies: Vec::new(),
            password_hashers: crate::passwords::DEFAULT_HASHERS,
        }
    }
}

/// Every limit from its variable, or all off with `SWITCHBOARD_RATE_LIMITS=off`.
fn rate_limits(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<crate::limits::RateLimits, ConfigError> {
    use crate::limits::{LimitKind, RateLimits};
    let all_off = match get("SWITCHBOARD_RATE_LIMITS").as_deref().map(str::trim) {
        None | Some("on") => false,
        Some("off") => true,
        Some(other) => {
            return Err(err(
                "SWITCHBOARD_RATE_LIMITS",
                format!("{other:?} is neither on nor off"),
            ))
        }
    };
    let mut limits = RateLimits::default();
    for kind in LimitKind::ALL {
        let n = per_minute(kind.variable(), get(kind.variable()), limits.get(kind))?;
        limits = limits.with(kind, if all_off { 0 } else { n });
    }
    Ok(limits)
}

/// A rate limit variable: requests per period, 0 (off) to 1,000,000.
fn per_minute(
    variable: &'static str,
    value: Option<String>,
    default: u32,
) -> Result<u32, ConfigError> {
    let Some(s) = value else {
        return Ok(default);
    };
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= 1_000_000)
        .ok_or_else(|| {
            err(
                variable,
                format!("{s:?} is not a number of requests from 0 (off) to 1000000"),
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned(), false)
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            c.database,
            DatabaseUrl::Sqlite(PathBuf::from("data/switchboard.db"))
        );
        assert!(c.admin.is_none());
        assert_eq!(c.token_ttl, chrono::Duration::hours(12));
    }

    #[test]
    fn each_bad_variable_is_named() {
        let e = cfg(&[("SWITCHBOARD_BIND", "nowhere")]).unwrap_err();
        assert_eq!(e.variable, "SWITCHBOARD_BIND");
        let e = cfg(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL");
        assert!(e
            .to_string()
            .starts_with("DATABASE_URL: unknown scheme \"mysql\""));
        let e = cfg(&[("SWITCHBOARD_ADMIN_EMAIL", "a@b.co")]).unwrap_err();
        assert_eq!(e.variable, "SWITCHBOARD_ADMIN_PASSWORD");
        let e = cfg(&[
            ("SWITCHBOARD_ADMIN_EMAIL", "a@b.co"),
            ("SWITCHBOARD_ADMIN_PASSWORD", "short"),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "SWITCHBOARD_ADMIN_PASSWORD");
        let e = cfg(&[("SWITCHBOARD_TOKEN_TTL_HOURS", "0")]).unwrap_err();
        assert_eq!(e.variable, "SWITCHBOARD_TOKEN_TTL_HOURS");
        for var in crate::limits::LimitKind::ALL.map(|k| k.variable()) {
            let e = cfg(&[(var, "-1")]).unwrap_err();
            assert_eq!(e.variable, var);
            assert!(e.to_string().starts_with(&format!("{var}: \"-1\"")), "{e}");
        }
    }

    #[test]
    fn rate_limits_default_to_the_seed_and_zero_is_off() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.rate_limits.widget_messages, 10);
        assert_eq!(c.rate_limits.dashboard, 100);
        assert_eq!(c.rate_limits.heartbeats, 2);
        let c = cfg(&[
            ("SWITCHBOARD_RATE_LIMIT_WIDGET_MESSAGES", "0"),
            ("SWITCHBOARD_RATE_LIMIT_DASHBOARD", "250"),
            ("SWITCHBOARD_RATE_LIMIT_HEARTBEATS", "6"),
        ])
        .unwrap();
        assert_eq!(
            c.rate_limits,
            crate::limits::RateLimits {
                widget_messages: 0,
                dashboard: 250,
                heartbeats: 6,
                ..crate::limits::RateLimits::default()
            }
        );
        let c = cfg(&[
            ("SWITCHBOARD_RATE_LIMITS", "off"),
            ("SWITCHBOARD_RATE_LIMIT_DASHBOARD", "250"),
        ])
        .unwrap();
        assert_eq!(c.rate_limits, crate::limits::RateLimits::OFF);
        let e = cfg(&[("SWITCHBOARD_RATE_LIMITS", "maybe")]).unwrap_err();
        assert_eq!(e.variable, "SWITCHBOARD_RATE_LIMITS");
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(
            parse_database_url("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(
            parse_database_url("sqlite:rel.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("rel.db"))
        );
        assert!(parse_database_url("sqlite://").is_err());
    }

    #[test]
    fn postgres_urls_and_redaction() {
        let url = "postgres://sb:secret@127.0.0.1:5432/switchboard";
        assert_eq!(
            parse_database_url(url).unwrap(),
            DatabaseUrl::Postgres(url.into())
        );
        assert!(parse_database_url("postgresql://localhost/x").is_ok());
        assert!(parse_database_url("postgres://").is_err());
        assert_eq!(
            DatabaseUrl::Postgres(url.into()).redacted(),
            "postgres://sb:***@127.0.0.1:5432/switchboard"
        );
        assert_eq!(
            redact_password("postgres://localhost/x"),
            "postgres://localhost/x"
        );
    }
}
