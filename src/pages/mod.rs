//! The browser pages (PROTOCOL.md section 6), served by the server itself
//! from files compiled into the binary: no build step, nothing to deploy
//! beside it. Pages speak only the public contract (REST and WebSocket).

use actix_web::{web, HttpResponse};

const INDEX_HTML: &str = include_str!("index.html");
const APP_CSS: &str = include_str!("app.css");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/assets/app.css", web::get().to(app_css));
}

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-cache"))
        .body(INDEX_HTML)
}

async fn app_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=300"))
        .body(APP_CSS)
}
