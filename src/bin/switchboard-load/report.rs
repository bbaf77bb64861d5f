//! The result of a run: figures, the invariant checks, and how they are
//! printed (a short table on stdout, JSON to a file).

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub driver: String,
    pub scenario: String,
    pub store: String,
    /// The parameters the run was given.
    pub params: Value,
    /// Named figures (numbers or latency summaries).
    pub figures: serde_json::Map<String, Value>,
    pub invariants: Vec<Check>,
}

impl Report {
    pub fn new(driver: &str, scenario: &str, store: &str, params: Value) -> Self {
        Report {
            driver: driver.into(),
            scenario: scenario.into(),
            store: store.into(),
            params,
            figures: serde_json::Map::new(),
            invariants: Vec::new(),
        }
    }

    pub fn figure(&mut self, name: &str, value: impl Serialize) {
        self.figures.insert(
            name.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    pub fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.invariants.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
        });
    }

    pub fn all_ok(&self) -> bool {
        !self.invariants.is_empty() && self.invariants.iter().all(|c| c.ok)
    }

    pub fn print_table(&self) {
        println!(
            "switchboard-load {} {} (store: {})",
            self.driver, self.scenario, self.store
        );
        println!("  params: {}", self.params);
        for (k, v) in &self.figures {
            println!("  {k:<32} {v}");
        }
        for c in &self.invariants {
            println!(
                "  [{}] {:<28} {}",
                if c.ok { " ok " } else { "FAIL" },
                c.name,
                c.detail
            );
        }
        println!(
            "  invariants: {}",
            if self.all_ok() { "all hold" } else { "BROKEN" }
        );
    }
}
