//! Real headless Chromium for page tests, driven through Debian's
//! chromedriver with the W3C WebDriver protocol (plain JSON over HTTP, so no
//! extra client crate). `.ci/run` installs `chromium` and `chromium-driver`
//! when missing; without them these tests fail and say so.

use awc::Client;
use base64::Engine as _;
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// The WebDriver element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Desktop and phone window sizes the screenshots are taken at.
pub const DESKTOP: (u32, u32) = (1280, 800);
pub const PHONE: (u32, u32) = (390, 844);

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    client: Client,
}

fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("no free port for chromedriver: {e}"),
    }
}

impl Browser {
    /// Start chromedriver and one headless Chromium session.
    pub async fn start() -> Browser {
        for path in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install Debian's chromium and chromium-driver \
                 (bash .ci/run does) to run the page tests"
            );
        }
        let port = free_port();
        // In a process group of its own, so a failed test can take the
        // Chromium it started down with it (see Drop).
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver does not start: {e}"));
        let client = Client::builder()
            .timeout(StdDuration::from_secs(60))
            .finish();
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            client,
        };
        let deadline = std::time::Instant::now() + StdDuration::from_secs(20);
        loop {
            let ready = browser
                .client
                .get(format!("{}/status", browser.base))
                .send()
                .await
                .is_ok();
            if ready {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "chromedriver never answered on {}",
                browser.base
            );
            actix_rt::time::sleep(StdDuration::from_millis(50)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage",
                         format!("--window-size={},{}", DESKTOP.0, DESKTOP.1)],
            },
        }}});
        let v = browser.raw("POST", "/session", Some(caps)).await;
        browser.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        browser
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let req = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        let mut res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let body = res
            .body()
            .limit(64 << 20)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path} body: {e}"));
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert!(
            res.status().is_success(),
            "WebDriver {method} {path}: {} {v}",
            res.status()
        );
        v["value"].clone()
    }

    /// A read that may find its element gone (the page re-rendered it).
    async fn try_text(&self, element: &str) -> Option<String> {
        let url = format!(
            "{}/session/{}/element/{element}/text",
            self.base, self.session
        );
        let mut res = self.client.get(url).send().await.ok()?;
        if !res.status().is_success() {
            return None;
        }
        let v: Value = res.json().await.ok()?;
        v["value"].as_str().map(str::to_string)
    }

    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{}", self.session, path);
        self.raw(method, &path, body).await
    }

    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Every element matching `css`.
    pub async fn find_all(&self, css: &str) -> Vec<String> {
        let v = self
            .cmd(
                "POST",
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The one element matching `css` (fails when none).
    pub async fn find(&self, css: &str) -> String {
        self.find_all(css)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no element matches {css:?}"))
    }

    pub async fn click(&self, element: &str) {
        self.cmd(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Type `text` into an element as keystrokes ("\u{E007}" is Enter).
    pub async fn type_into(&self, element: &str, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// The first element matching `css` whose text contains `needle`,
    /// waiting for it (bounded): pages update from live events.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
        loop {
            let mut seen = Vec::new();
            for e in self.find_all(css).await {
                let Some(t) = self.try_text(&e).await else {
                    continue;
                };
                if t.contains(needle) {
                    return e;
                }
                seen.push(t);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {css:?} containing {needle:?}; saw {seen:?}"
            );
            actix_rt::time::sleep(StdDuration::from_millis(50)).await;
        }
    }

    /// Click the element matching `css` whose text contains `needle`,
    /// again if the page re-rendered it between finding and clicking
    /// (live lists redraw on every event).
    pub async fn click_text(&self, css: &str, needle: &str) {
        let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
        loop {
            let e = self.wait_text(css, needle).await;
            let url = format!("{}/session/{}/element/{e}/click", self.base, self.session);
            let clicked = match self.client.post(url).send_json(&json!({})).await {
                Ok(res) => res.status().is_success(),
                Err(_) => false,
            };
            if clicked {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "could not click {css:?} containing {needle:?}"
            );
            actix_rt::time::sleep(StdDuration::from_millis(50)).await;
        }
    }

    /// Wait (bounded) until `css` matches something visible.
    pub async fn wait_visible(&self, css: &str) -> String {
        let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
        loop {
            for e in self.find_all(css).await {
                let shown = self
                    .cmd("GET", &format!("/element/{e}/displayed"), None)
                    .await
                    .as_bool()
                    .unwrap_or(false);
                if shown {
                    return e;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{css:?} never became visible"
            );
            actix_rt::time::sleep(StdDuration::from_millis(50)).await;
        }
    }

    pub async fn text(&self, element: &str) -> String {
        self.cmd("GET", &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.cmd("GET", &format!("/element/{element}/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_string)
    }

    /// Run `script` in the page; its `return` value.
    pub async fn eval(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Press keys as the user would on the focused element ("\u{E004}" is Tab).
    pub async fn keys(&self, text: &str) {
        let actions: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                [
                    json!({ "type": "keyDown", "value": c.to_string() }),
                    json!({ "type": "keyUp", "value": c.to_string() }),
                ]
            })
            .collect();
        self.cmd(
            "POST",
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        )
        .await;
    }

    /// The current window's (tab's) handle.
    #[allow(dead_code)] // not every test binary opens tabs
    pub async fn window(&self) -> String {
        let v = self.cmd("GET", "/window", None).await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// Open a new tab and bring it to the front: the one before is hidden.
    #[allow(dead_code)] // not every test binary opens tabs
    pub async fn new_tab(&self) -> String {
        let v = self
            .cmd("POST", "/window/new", Some(json!({ "type": "tab" })))
            .await;
        let handle = v["handle"].as_str().unwrap_or_default().to_string();
        self.switch_to(&handle).await;
        handle
    }

    #[allow(dead_code)] // not every test binary opens tabs
    pub async fn switch_to(&self, handle: &str) {
        self.cmd("POST", "/window", Some(json!({ "handle": handle })))
            .await;
    }

    pub async fn resize(&self, (width, height): (u32, u32)) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Save a PNG of the page to `screenshots/<name>.png` (ignored by git).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.cmd("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("screenshot is not base64: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// Screenshots at desktop and phone widths: `<name>-desktop.png`, `<name>-phone.png`.
    pub async fn screenshots(&self, name: &str) {
        self.resize(DESKTOP).await;
        self.screenshot(&format!("{name}-desktop")).await;
        self.resize(PHONE).await;
        self.screenshot(&format!("{name}-phone")).await;
        self.resize(DESKTOP).await;
    }

    /// Open a staff page (`/dashboard`, `/solver`, `/explorer` share one
    /// login form) at `url` and log in; the caller waits for its page.
    pub async fn log_in(&self, url: &str, email: &str, password: &str) {
        self.goto(url).await;
        let field = self.wait_visible("#email").await;
        self.type_into(&field, email).await;
        let field = self.find("#password").await;
        self.type_into(&field, &format!("{password}\u{E007}")).await;
    }

    /// Open the widget's demo host page at `url` and the chat panel; the
    /// message input.
    pub async fn open_widget(&self, url: &str) -> String {
        self.goto(url).await;
        let launch = self.wait_visible(".sbw-launch").await;
        self.click(&launch).await;
        self.wait_visible("#sbw-input").await
    }

    /// Whether the page is wider than its window (it must not scroll sideways).
    pub async fn overflows_horizontally(&self) -> bool {
        self.eval("return document.documentElement.scrollWidth > window.innerWidth;")
            .await
            .as_bool()
            .unwrap_or(true)
    }

    /// Close the browser; Drop then stops chromedriver.
    pub async fn quit(self) {
        let path = format!("/session/{}", self.session);
        let _ = self.raw("DELETE", &path, None).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reaches `quit`: do not leave chromedriver, or
        // the Chromium it started (which outlives a killed chromedriver and
        // kept spinning), behind. The group was made for this at spawn.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Helpers the dashboard stories (tests/pages_dashboard.rs) add; other page
/// tests include this file without using them.
#[allow(dead_code)]
impl Browser {
    /// Choose the option of the `<select>` matching `css` whose text
    /// contains `needle`, waiting for it (bounded). A closed select's options
    /// are not clickable in headless Chromium, so this sets the value and
    /// fires `change`, as the browser reports a person's choice.
    pub async fn select_option(&self, css: &str, needle: &str) {
        let script = "const [css, needle] = arguments; const s = document.querySelector(css); \
                      if (!s) return false; \
                      const o = Array.from(s.options).find(o => o.text.includes(needle)); \
                      if (!o) return false; \
                      s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true })); \
                      return true;";
        let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
        loop {
            let chosen = self
                .cmd(
                    "POST",
                    "/execute/sync",
                    Some(json!({ "script": script, "args": [css, needle] })),
                )
                .await;
            if chosen == json!(true) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no option containing {needle:?} in {css:?}"
            );
            actix_rt::time::sleep(StdDuration::from_millis(50)).await;
        }
    }

    /// Empty a text field.
    pub async fn clear(&self, element: &str) {
        self.cmd(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
    }
}
