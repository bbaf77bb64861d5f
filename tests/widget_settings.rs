//! The widget's settings (issue 16), black-box: how it looks, where it may
//! be used from, and the allowed-origins list enforced on every widget
//! credential (the public key, a customer token over REST and over the
//! WebSocket). An empty list allows any site; a request without an Origin
//! (not a browser's cross-site request) is not judged by it.

mod common;

use awc::http::Method;
use common::*;
use serde_json::{json, Value};

const SHOP: &str = "https://shop.example.com";
const EVIL: &str = "https://evil.example.com";

fn widget_path(project: &Project) -> String {
    format!("/api/projects/{}/widget", project.id)
}

/// `GET /api/widget/availability` with the public key, from `origin`.
async fn availability_from(app: &TestApp, project: &Project, origin: Option<&str>) -> u16 {
    let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
    app.call_with_headers(
        Method::GET,
        "/api/widget/availability",
        Auth::ProjectKey(&project.public_key),
        None,
        &headers,
    )
    .await
    .0
}

#[actix_rt::test]
async fn an_admin_sets_how_the_widget_looks_and_the_widget_reads_it() {
    let (app, project) = TestApp::with_handoff().await;
    let agent = app.add_agent(&project, "Ana", 2).await;

    let (st, w) = app.get(&widget_path(&project), app.admin_token()).await;
    assert_eq!(st, 200, "{w}");
    assert_eq!(w["appearance"]["title"], json!("Chat with us"));
    assert_eq!(w["allowed_origins"], json!([]));
    let snippet = s(&w["snippet"]);
    assert!(
        snippet.contains(&format!("data-project-key=\"{}\"", project.public_key))
            && snippet.contains("/widget.js"),
        "{snippet}"
    );

    let look = json!({ "title": "Acme help", "greeting": "Hello!", "accent_color": "#AA3300",
                       "position": "left", "language": "pt-BR" });
    let (st, saved) = app
        .put(
            &widget_path(&project),
            app.admin_token(),
            json!({ "appearance": look, "allowed_origins": [format!("{SHOP}/"), SHOP] }),
        )
        .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["appearance"]["accent_color"], json!("#aa3300"));
    assert_eq!(
        saved["allowed_origins"],
        json!([SHOP]),
        "normalized, each once"
    );

    let (st, config) = app
        .call(
            Method::GET,
            "/api/widget/config",
            Auth::ProjectKey(&project.public_key),
            None,
        )
        .await;
    assert_eq!(st, 200, "{config}");
    assert_eq!(config["appearance"]["title"], json!("Acme help"));
    assert_eq!(config["appearance"]["position"], json!("left"));

    // Bad input: every problem at once, nothing saved.
    let (st, bad) = app
        .put(
            &widget_path(&project),
            app.admin_token(),
            json!({ "appearance": { "title": "", "accent_color": "blue", "position": "top",
                                    "language": "english" },
                    "allowed_origins": [SHOP, "shop.example.com", "https://x.com/path"] }),
        )
        .await;
    assert_eq!(st, 422, "{bad}");
    for field in [
        "appearance.title",
        "appearance.accent_color",
        "appearance.position",
        "appearance.language",
        "allowed_origins.1",
        "allowed_origins.2",
    ] {
        assert!(bad["fields"][field].is_string(), "{field}: {bad}");
    }
    let too_many: Vec<String> = (0..51).map(|i| format!("https://s{i}.example")).collect();
    let (st, _) = app
        .put(
            &widget_path(&project),
            app.admin_token(),
            json!({ "allowed_origins": too_many }),
        )
        .await;
    assert_eq!(st, 422);
    let (st, _) = app
        .put(
            &widget_path(&project),
            app.admin_token(),
            json!({ "appearance": { "colour": "red" } }),
        )
        .await;
    assert_eq!(st, 400, "an unknown field is a mistake, not ignored");
    let (st, _) = app
        .put(
            &widget_path(&project),
            &agent.token,
            json!({ "allowed_origins": [] }),
        )
        .await;
    assert_eq!(st, 403);
    let other = app.create_project("Other").await;
    let olga = app.add_member(&other, "Olga", "admin", None).await;
    assert_eq!(app.get(&widget_path(&project), &olga.token).await.0, 404);
    let (_, after) = app.get(&widget_path(&project), app.admin_token()).await;
    assert_eq!(after["appearance"], saved["appearance"]);
    assert_eq!(after["allowed_origins"], json!([SHOP]));
}

#[actix_rt::test]
async fn a_site_not_on_the_list_cannot_use_the_widget() {
    let (app, project) = TestApp::with_handoff().await;
    // Any site while the list is empty.
    assert_eq!(availability_from(&app, &project, Some(EVIL)).await, 200);
    let (conv, customer) = app.new_conversation(&project, "v-1").await;
    let id = s(&conv["id"]);

    let (st, body) = app
        .put(
            &widget_path(&project),
            app.admin_token(),
            json!({ "allowed_origins": [SHOP] }),
        )
        .await;
    assert_eq!(st, 200, "{body}");

    // The public key.
    assert_eq!(availability_from(&app, &project, Some(SHOP)).await, 200);
    assert_eq!(availability_from(&app, &project, Some(EVIL)).await, 403);
    assert_eq!(
        availability_from(&app, &project, None).await,
        200,
        "not a browser's cross-site call"
    );
    let (st, _, body) = app
        .call_with_headers(
            Method::POST,
            "/api/widget/conversations",
            Auth::ProjectKey(&project.public_key),
            Some(json!({})),
            &[("origin", EVIL)],
        )
        .await;
    assert_eq!(st, 403, "{body}");

    // A customer token, over REST: refused from another site, and nothing sent.
    let send = |origin: &'static str| {
        let path = format!("/api/conversations/{id}/messages");
        let customer = customer.clone();
        let app = &app;
        async move {
            app.call_with_headers(
                Method::POST,
                &path,
                Auth::Bearer(&customer),
                Some(json!({ "content": format!("from {origin}") })),
                &[("origin", origin)],
            )
            .await
            .0
        }
    };
    assert_eq!(send(EVIL).await, 403);
    assert_eq!(send(SHOP).await, 201);
    let (_, history) = app
        .get(
            &format!("/api/conversations/{id}/messages"),
            app.admin_token(),
        )
        .await;
    let texts: Vec<Value> = history["items"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].clone())
        .collect();
    assert!(texts.contains(&json!(format!("from {SHOP}"))));
    assert!(!texts.contains(&json!(format!("from {EVIL}"))), "{texts:?}");

    // Over the WebSocket: the upgrade's Origin.
    let url = format!("ws://{}/ws?token={}", app.addr, customer);
    let from = |origin: &'static str| {
        let url = url.clone();
        async move {
            match awc::Client::new().ws(url).origin(origin).connect().await {
                Ok(_) => 101,
                Err(awc::error::WsClientError::InvalidResponseStatus(st)) => st.as_u16(),
                Err(e) => panic!("{e}"),
            }
        }
    };
    assert_eq!(from(EVIL).await, 403);
    assert_eq!(from(SHOP).await, 101);

    // Staff are not judged by the widget's list.
    let (st, _, _) = app
        .call_with_headers(
            Method::GET,
            &format!("/api/conversations/{id}"),
            Auth::Bearer(app.admin_token()),
            None,
            &[("origin", EVIL)],
        )
        .await;
    assert_eq!(st, 200);
}
