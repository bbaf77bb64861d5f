//! Security regression suite, password hashing (issue 14 item 3): 200
//! concurrent failed logins hash two at a time, so the heap does not grow by
//! one argon2id hash (~19 MiB) per login. Alone in its binary, so no other
//! test's server grows the same process while it measures.

mod common;

use common::*;
use futures_util::future::join_all;

/// RssAnon of this process (the server runs in it), in KiB: what the
/// allocator holds for the heap, not the database's mapped file.
fn anon_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("RssAnon")
}

#[actix_rt::test]
async fn two_hundred_concurrent_logins_do_not_hash_at_once() {
    // Limits off: only the hashing bound is under test.
    let app = TestApp::start().await;
    let before = anon_kib();
    let attempts = (0..200).map(|i| {
        let app = &app;
        async move {
            app.login_attempt(&format!("nobody-{i}@example.com"), "wrong", None)
                .await
        }
    });
    let results = join_all(attempts).await;
    let after = anon_kib();
    let refused = results.iter().filter(|(s, _)| *s == 429).count();
    let failed = results.iter().filter(|(s, _)| *s == 401).count();
    assert_eq!(refused + failed, 200, "{results:?}");
    // Each argon2id hash holds ~19 MiB while it runs: 200 at once was
    // ~3.8 GiB; two at a time stay far below 200 MiB.
    let grown_mib = after.saturating_sub(before) / 1024;
    assert!(grown_mib < 200, "the heap grew by {grown_mib} MiB");
    // Two hashers with eight waiting each: most are refused at once.
    assert!(refused >= 150, "only {refused} refused");
    // And the server still logs in.
    let (status, body) = app.login_attempt(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
}
