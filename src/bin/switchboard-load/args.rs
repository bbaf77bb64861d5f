//! `driver scenario --key value ...` with typed lookups and defaults.

use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct Args {
    pub driver: String,
    pub scenario: String,
    opts: HashMap<String, String>,
}

impl Args {
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
        let driver = it.next().ok_or("missing driver (actors or ws)")?;
        let scenario = it.next().ok_or("missing scenario")?;
        let mut opts = HashMap::new();
        while let Some(k) = it.next() {
            let key = k
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --option, got {k:?}"))?;
            let v = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
            opts.insert(key.to_string(), v);
        }
        Ok(Args {
            driver,
            scenario,
            opts,
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.opts.get(key).map(String::as_str)
    }

    /// A typed option with a default; a value that does not parse is an error
    /// naming the option.
    pub fn num<T: FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        match self.opts.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{key}: {v:?} is not a valid number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_driver_scenario_and_options() {
        let a = Args::parse(
            ["actors", "chat", "--rate", "100", "--store", "memory"]
                .iter()
                .map(|s| s.to_string()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.driver, "actors");
        assert_eq!(a.scenario, "chat");
        assert_eq!(a.num("rate", 1u32), Ok(100));
        assert_eq!(a.num("seconds", 5u32), Ok(5));
        assert_eq!(a.get("store"), Some("memory"));
        assert!(a.num::<u32>("store", 1).is_err());
        assert!(Args::parse(["actors", "chat", "rate"].iter().map(|s| s.to_string())).is_err());
    }
}
