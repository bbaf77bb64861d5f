//! Store tests of the proofs identity needs (`store/identity.rs`), on both
//! backends through the parent's `on_both_backends!`: a visitor registers
//! once (and never over a customer's visitor id from before secrets), a
//! code counts its attempts and dies when used, expired or exhausted, and
//! a project's identity secret is made once and rotated.

use super::*;
use crate::store::{CodeCheck, IdentityCode};

fn same(a: &str, b: &str) -> bool {
    a == b
}

async fn visitors_register_once_and_never_over_an_old_visitor(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let (_other_owner, other) = owner_and_project(&db).await;
    assert!(db
        .register_visitor(p.id, "v-1", "hash-1", t(0))
        .await
        .unwrap());
    assert!(!db
        .register_visitor(p.id, "v-1", "hash-2", t(1))
        .await
        .unwrap());
    assert_eq!(
        db.visitor_secret_hash(p.id, "v-1")
            .await
            .unwrap()
            .as_deref(),
        Some("hash-1")
    );
    // Another project's visitor of the same id is another visitor.
    assert!(db
        .register_visitor(other.id, "v-1", "hash-3", t(2))
        .await
        .unwrap());
    // A customer's own or merged visitor id from before secrets is taken.
    customer_of(&db, p.id, "v-old", t(3)).await;
    db.link_email(p.id, "v-old", "old@example.com", None, t(4))
        .await
        .unwrap();
    db.link_email(p.id, "v-merged", "old@example.com", None, t(5))
        .await
        .unwrap();
    for old in ["v-old", "v-merged"] {
        assert!(!db.register_visitor(p.id, old, "hash", t(6)).await.unwrap());
        assert_eq!(db.visitor_secret_hash(p.id, old).await.unwrap(), None);
    }
}

async fn codes_count_attempts_and_die_when_used_expired_or_exhausted(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let check = |visitor: &'static str, email: &'static str, hash: &'static str, at| {
        let db = db.clone();
        async move {
            db.check_identity_code(p.id, visitor, email, hash, at, 3, same)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        check("v", "a@x.test", "right", t(0)).await,
        CodeCheck::NoCode
    );
    let code = IdentityCode::new(p.id, "v", "a@x.test", "right".into(), t(600), t(0));
    db.put_identity_code(&code).await.unwrap();
    // Another email, or another visitor, has no code.
    assert_eq!(
        check("v", "b@x.test", "right", t(1)).await,
        CodeCheck::NoCode
    );
    assert_eq!(
        check("w", "a@x.test", "right", t(1)).await,
        CodeCheck::NoCode
    );
    assert_eq!(
        check("v", "a@x.test", "wrong", t(1)).await,
        CodeCheck::Wrong
    );
    assert_eq!(
        check("v", "a@x.test", "right", t(2)).await,
        CodeCheck::Accepted
    );
    assert_eq!(
        check("v", "a@x.test", "right", t(3)).await,
        CodeCheck::NoCode
    );

    // Three wrong attempts and the right code no longer works; a new code
    // replaces the dead one.
    db.put_identity_code(&code).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            check("v", "a@x.test", "wrong", t(4)).await,
            CodeCheck::Wrong
        );
    }
    assert_eq!(
        check("v", "a@x.test", "right", t(5)).await,
        CodeCheck::Exhausted
    );
    db.put_identity_code(&code).await.unwrap();
    assert_eq!(
        check("v", "a@x.test", "right", t(6)).await,
        CodeCheck::Accepted
    );

    // At its expiry it is gone.
    db.put_identity_code(&code).await.unwrap();
    assert_eq!(
        check("v", "a@x.test", "right", t(600)).await,
        CodeCheck::Expired
    );
    assert_eq!(
        check("v", "a@x.test", "right", t(1)).await,
        CodeCheck::NoCode
    );
}

async fn concurrent_wrong_codes_never_get_more_tries(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let code = IdentityCode::new(p.id, "v", "a@x.test", "right".into(), t(600), t(0));
    db.put_identity_code(&code).await.unwrap();
    let tries = (0..12).map(|_| {
        let db = db.clone();
        tokio::spawn(async move {
            db.check_identity_code(p.id, "v", "a@x.test", "wrong", t(1), 5, same)
                .await
                .unwrap()
        })
    });
    let mut wrong = 0;
    for t in tries {
        if t.await.unwrap() == CodeCheck::Wrong {
            wrong += 1;
        }
    }
    assert_eq!(wrong, 5);
}

async fn identity_secrets_are_made_once_and_rotated(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    assert_eq!(db.identity_secret(p.id).await.unwrap(), None);
    let first = db.ensure_identity_secret(p.id, "s-1").await.unwrap();
    assert_eq!(first.as_deref(), Some("s-1"));
    let again = db.ensure_identity_secret(p.id, "s-2").await.unwrap();
    assert_eq!(again.as_deref(), Some("s-1"));
    db.rotate_identity_secret(p.id, "s-3").await.unwrap();
    assert_eq!(
        db.identity_secret(p.id).await.unwrap().as_deref(),
        Some("s-3")
    );
    assert_eq!(
        db.ensure_identity_secret(ProjectId::new(), "s-4")
            .await
            .unwrap(),
        None
    );
}

on_both_backends! {
    "multi_thread": [
        visitors_register_once_and_never_over_an_old_visitor,
        codes_count_attempts_and_die_when_used_expired_or_exhausted,
        concurrent_wrong_codes_never_get_more_tries,
        identity_secrets_are_made_once_and_rotated,
    ],
}
