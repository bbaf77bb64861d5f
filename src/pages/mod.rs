//! The browser pages (docs/protocol.md section 6), served by the server itself
//! from files compiled into the binary: no build step, nothing to deploy
//! beside it. Pages speak only the public contract (REST and WebSocket).

use actix_web::{web, HttpResponse, HttpResponseBuilder};

/// What the pages may load and who may frame them: only this server's own
/// scripts (no inline script, so injected markup cannot run), images also
/// from https addresses (staff avatars), styles inline
/// as the pages write them, media from WebRTC streams, and no framing of a
/// staff page by another site (clickjacking).
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; media-src 'self' blob:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";
/// The widget's demo host page may be framed, as a customer's site may be.
pub const HOST_PAGE_CSP: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; \
object-src 'none'; base-uri 'none'";

/// An HTML page's answer with its security headers. Pages carry tokens in
/// their addresses (`/join/:id?token=`), so no Referer leaves them.
fn html(csp: &'static str) -> HttpResponseBuilder {
    let mut b = HttpResponse::Ok();
    b.content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("content-security-policy", csp))
        .insert_header(("referrer-policy", "no-referrer"));
    b
}

const INDEX_HTML: &str = include_str!("index.html");
const APP_CSS: &str = include_str!("app.css");
const WIDGET_JS: &str = include_str!("widget.js");
const WIDGET_DEMO_HTML: &str = include_str!("widget_demo.html");
const DASHBOARD_HTML: &str = include_str!("dashboard.html");
const DASHBOARD_JS: &str = include_str!("dashboard.js");
const JOIN_HTML: &str = include_str!("join.html");
const JOIN_JS: &str = include_str!("join.js");
const SOLVER_HTML: &str = include_str!("solver.html");
const SOLVER_JS: &str = include_str!("solver.js");
const STAFF_JS: &str = include_str!("staff.js");
const EXPLORER_HTML: &str = include_str!("explorer.html");
const EXPLORER_JS: &str = include_str!("explorer.js");
const ADMIN_HTML: &str = include_str!("admin.html");
const ADMIN_JS: &str = include_str!("admin.js");
const INVITE_HTML: &str = include_str!("invite.html");
const INVITE_JS: &str = include_str!("invite.js");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/assets/app.css", web::get().to(app_css))
        .route("/dashboard", web::get().to(dashboard))
        .route("/assets/dashboard.js", web::get().to(dashboard_js))
        .route("/join/{session_id}", web::get().to(join))
        .route("/assets/join.js", web::get().to(join_js))
        .route("/solver", web::get().to(|| async { page(SOLVER_HTML) }))
        .route(
            "/assets/solver.js",
            web::get().to(|| async { script(SOLVER_JS) }),
        )
        .route(
            "/assets/staff.js",
            web::get().to(|| async { script(STAFF_JS) }),
        )
        .route("/explorer", web::get().to(|| async { page(EXPLORER_HTML) }))
        .route(
            "/assets/explorer.js",
            web::get().to(|| async { script(EXPLORER_JS) }),
        )
        .route("/admin", web::get().to(|| async { page(ADMIN_HTML) }))
        .route(
            "/assets/admin.js",
            web::get().to(|| async { script(ADMIN_JS) }),
        )
        // The token is in the address by design (a link in an email); the
        // access log redacts it and the page moves it out of the address.
        .route(
            "/invite/{token}",
            web::get().to(|| async { page(INVITE_HTML) }),
        )
        .route(
            "/assets/invite.js",
            web::get().to(|| async { script(INVITE_JS) }),
        )
        .route("/widget.js", web::get().to(widget_js))
        .route("/widget/demo", web::get().to(widget_demo));
}

/// The embeddable widget: loaded by customers' own sites, so any origin may
/// fetch it.
async fn widget_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=300"))
        .insert_header(("access-control-allow-origin", "*"))
        .body(WIDGET_JS)
}

#[derive(serde::Deserialize)]
struct DemoQuery {
    key: Option<String>,
}

/// A host page with the widget on it (`?key=<public_key>`).
async fn widget_demo(q: web::Query<DemoQuery>) -> HttpResponse {
    // Only a well-formed key reaches the page: it is written into HTML.
    let key = q.key.as_deref().filter(|k| {
        k.len() <= 100
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    let script = match key {
        Some(k) => format!(r#"<script src="/widget.js" data-project-key="{k}"></script>"#),
        None => String::new(),
    };
    let note = if key.is_some() {
        "The chat button is in the bottom right corner."
    } else {
        "Add <code>?key=pk_...</code> (a project's public key) to this address to load the widget."
    };
    html(HOST_PAGE_CSP).body(
        WIDGET_DEMO_HTML
            .replace("{{note}}", note)
            .replace("{{widget}}", &script),
    )
}

async fn index() -> HttpResponse {
    page(INDEX_HTML)
}

async fn dashboard() -> HttpResponse {
    page(DASHBOARD_HTML)
}

async fn dashboard_js() -> HttpResponse {
    script(DASHBOARD_JS)
}

/// The customer's page of a billable session (`/join/:id?token=`); the page
/// reads the session with the token, so a wrong link shows an error there.
async fn join() -> HttpResponse {
    page(JOIN_HTML)
}

async fn join_js() -> HttpResponse {
    script(JOIN_JS)
}

fn script(js: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("cache-control", "no-cache"))
        .body(js)
}

fn page(body: &'static str) -> HttpResponse {
    html(PAGE_CSP).body(body)
}

async fn app_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=300"))
        .body(APP_CSS)
}

/// The built-in payment link as a page: what is owed and the request's
/// status.
pub fn pay_page(p: &switchboard_actors::session_ports::PaymentRecord) -> HttpResponse {
    const PAY_HTML: &str = include_str!("pay.html");
    let status = match p.status.as_str() {
        "pending" => "Pending",
        "paid" => "Paid",
        "failed" => "Failed",
        _ => "Unknown",
    };
    html(PAGE_CSP).body(
        PAY_HTML
            .replace(
                "{{amount}}",
                &format!("${}.{:02}", p.amount / 100, p.amount % 100),
            )
            .replace("{{status}}", status),
    )
}
