//! A local webhook server for the providers the server calls out to (SMS,
//! call, payment, email), recording what it is sent.

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// What a webhook server was sent: `(kind, body)`, in arrival order.
pub type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// A webhook server: `/ok/<kind>` records and answers 200 with an id (and a
/// payment link); `/fail/<kind>` records and answers 503.
pub async fn webhook_server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let data = web::Data::new(seen.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/{mode}/{kind}",
            web::post().to(
                |path: web::Path<(String, String)>,
                 body: web::Json<Value>,
                 seen: web::Data<Seen>| async move {
                    let (mode, kind) = path.into_inner();
                    seen.lock().expect("seen").push((kind, body.into_inner()));
                    if mode == "ok" {
                        HttpResponse::Ok().json(json!({
                            "id": "ext-1",
                            "payment_url": "https://pay.example/abc",
                        }))
                    } else {
                        HttpResponse::ServiceUnavailable().finish()
                    }
                },
            ),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind the webhook server");
    let addr = server.addrs()[0];
    actix_rt::spawn(server.run());
    (format!("http://{addr}"), seen)
}
