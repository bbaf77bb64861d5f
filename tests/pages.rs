//! The server's pages in real headless Chromium (PROTOCOL.md section 6):
//! what a person sees and can do with mouse, keyboard and a phone-sized
//! window. Screenshots at desktop and phone widths go to `screenshots/`.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::{Browser, PHONE};
use common::*;
use serde_json::json;

#[actix_rt::test]
async fn the_front_page_leads_to_every_page_and_fits_a_phone() {
    let app = TestApp::start().await;
    let b = Browser::start().await;
    b.goto(&app.url("/")).await;
    assert_eq!(b.title().await, "Switchboard: real-time customer support");
    let h1 = b.find("h1").await;
    assert_eq!(b.text(&h1).await, "Switchboard");

    let mut links = Vec::new();
    for a in b.find_all(".card a").await {
        links.push((
            b.text(&a).await,
            b.attribute(&a, "href").await.unwrap_or_default(),
        ));
    }
    assert_eq!(
        links,
        [
            ("Open the dashboard".to_string(), "/dashboard".to_string()),
            ("Open the workspace".into(), "/solver".into()),
            ("Open the explorer".into(), "/explorer".into()),
            ("See the demo page".into(), "/widget/demo".into()),
        ]
    );

    // Keyboard: the first Tab lands on "Skip to content", which is then shown.
    b.keys("\u{E004}").await;
    let focused = b
        .eval("return [document.activeElement.textContent, document.activeElement.getBoundingClientRect().left >= 0];")
        .await;
    assert_eq!(focused, json!(["Skip to content", true]));

    // A phone: one column, nothing wider than the screen.
    b.resize(PHONE).await;
    assert!(
        !b.overflows_horizontally().await,
        "the page scrolls sideways on a phone"
    );
    let columns = b
        .eval("return getComputedStyle(document.querySelector('.cards')).gridTemplateColumns.split(' ').length;")
        .await;
    assert_eq!(columns, json!(1));
    b.eval("document.activeElement.blur(); return null;").await;
    b.screenshots("front").await;
    b.quit().await;
}
