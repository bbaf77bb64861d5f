//! Store tests of customer identity (`store/customers.rs`), on both
//! backends through the parent's `on_both_backends!`: the four cases of
//! linking an email (seed 003 5.11.4), the merge with its moved
//! conversations and sums, one customer out of concurrent identifies, the
//! staff's flags and notes, and the history page with its previews.

use super::*;
use crate::store::{CustomerPatch, LinkedCustomer};

fn visit(page: &str, browser: &str) -> CustomerContext {
    CustomerContext {
        browser: Some(browser.into()),
        page_url: Some(page.into()),
        ..CustomerContext::default()
    }
}

/// A conversation of `customer` (visitor `visitor`) created at `at`.
fn conv_of(
    project: ProjectId,
    customer: CustomerId,
    visitor: &str,
    at: DateTime<Utc>,
) -> ConversationRecord {
    ConversationRecord {
        customer_id: Some(customer),
        visitor_id: visitor.into(),
        created_at: at,
        updated_at: at,
        ..conversation(project, at)
    }
}

async fn customer_id_of(db: &Db, conv: ConversationId) -> Option<CustomerId> {
    db.load_conversation(conv)
        .await
        .unwrap()
        .unwrap()
        .customer_id
}

async fn link_email_creates_or_completes_a_customer(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;

    // Neither exists: a new customer with both, the email normalized.
    let LinkedCustomer {
        customer: fresh,
        conversations,
    } = db
        .link_email(p.id, "v-new", "  Ana@Example.COM ", Some("Ana"), t(10))
        .await
        .unwrap();
    assert_eq!(fresh.visitor_id, "v-new");
    assert_eq!(fresh.email.as_deref(), Some("ana@example.com"));
    assert_eq!(fresh.name.as_deref(), Some("Ana"));
    // Only proven emails are linked, so a linked email is verified.
    assert!(fresh.email_verified);
    assert_eq!(fresh.total_conversations, 0);
    assert_eq!((fresh.first_seen_at, fresh.last_seen_at), (t(10), t(10)));
    assert!(conversations.is_empty());
    assert_eq!(db.customer(p.id, fresh.id).await.unwrap(), Some(fresh));

    // Only the visitor's exists: it gets the email and name; its open
    // conversation is reported for its actor.
    let anon = db
        .touch_customer(p.id, "v-anon", t(20), &visit("/pricing", "Firefox"))
        .await
        .unwrap();
    let open = conv_of(p.id, anon.id, "v-anon", t(21));
    db.commit(vec![put_conv(&open)]).await.unwrap();
    let linked = db
        .link_email(p.id, "v-anon", "bo@example.com", None, t(30))
        .await
        .unwrap();
    assert_eq!(linked.customer.id, anon.id);
    assert_eq!(linked.customer.email.as_deref(), Some("bo@example.com"));
    assert_eq!(linked.customer.name, None);
    assert_eq!(linked.customer.total_conversations, 1);
    assert_eq!(linked.customer.last_seen_at, t(30));
    assert_eq!(linked.conversations, vec![open.id]);

    // The same customer again: only the name changes.
    let again = db
        .link_email(p.id, "v-anon", "BO@example.com", Some("Bo"), t(40))
        .await
        .unwrap();
    assert_eq!(again.customer.id, anon.id);
    assert_eq!(again.customer.name.as_deref(), Some("Bo"));
    assert_eq!(again.customer.email.as_deref(), Some("bo@example.com"));
    assert_eq!(again.customer.merged_visitor_ids, Vec::<String>::new());
    assert_eq!(again.conversations, vec![open.id]);

    // Emails are per project.
    let (_o2, p2) = owner_and_project(&db).await;
    let other = db
        .link_email(p2.id, "v-anon", "bo@example.com", None, t(50))
        .await
        .unwrap();
    assert_ne!(other.customer.id, anon.id);
    assert_eq!(other.customer.project_id, p2.id);
}

async fn link_email_adds_a_new_visitor_to_the_email_customer(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let known = db
        .link_email(p.id, "v-laptop", "cy@example.com", Some("Cy"), t(10))
        .await
        .unwrap()
        .customer;
    let linked = db
        .link_email(p.id, "v-phone", "cy@example.com", None, t(20))
        .await
        .unwrap();
    assert_eq!(linked.customer.id, known.id);
    assert_eq!(linked.customer.visitor_id, "v-laptop");
    assert_eq!(linked.customer.merged_visitor_ids, vec!["v-phone"]);
    assert_eq!(linked.customer.name.as_deref(), Some("Cy"));
    // The phone's next visit lands on the same customer.
    let touched = customer_of(&db, p.id, "v-phone", t(30)).await;
    assert_eq!(touched.id, known.id);
    assert_eq!(touched.total_conversations, 1);
    assert_eq!(
        db.customer_of_visitor(p.id, "v-phone")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(known.id)
    );
}

async fn link_email_merges_the_visitor_customer_into_the_email_customer(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    // The email's customer: two visits on the laptop, a note.
    let target = db
        .touch_customer(p.id, "v-laptop", t(100), &visit("/docs", "Firefox"))
        .await
        .unwrap();
    customer_of(&db, p.id, "v-laptop", t(200)).await;
    db.link_email(p.id, "v-laptop", "dee@example.com", None, t(200))
        .await
        .unwrap();
    db.patch_customer(
        p.id,
        target.id,
        &CustomerPatch {
            internal_notes: Some(Some("VIP".into())),
            ..CustomerPatch::default()
        },
        owner.id,
        t(201),
    )
    .await
    .unwrap();
    let laptop_conv = conv_of(p.id, target.id, "v-laptop", t(100));

    // The phone's customer: seen first earlier and last later, flagged,
    // with a merged tablet, an open and a closed conversation.
    let source = db
        .touch_customer(p.id, "v-phone", t(50), &visit("/old", "Safari"))
        .await
        .unwrap();
    db.touch_customer(p.id, "v-phone", t(300), &visit("/pricing", "Safari"))
        .await
        .unwrap();
    db.link_email(p.id, "v-phone", "phone-owner@example.com", None, t(300))
        .await
        .unwrap();
    db.link_email(p.id, "v-tablet", "phone-owner@example.com", None, t(60))
        .await
        .unwrap();
    db.patch_customer(
        p.id,
        source.id,
        &CustomerPatch {
            is_flagged: Some(true),
            flag_reason: Some(Some("chargeback".into())),
            internal_notes: Some(Some("asked for refund".into())),
        },
        owner.id,
        t(301),
    )
    .await
    .unwrap();
    let source = db.customer(p.id, source.id).await.unwrap().unwrap();
    assert_eq!(source.merged_visitor_ids, vec!["v-tablet"]);
    let phone_open = conv_of(p.id, source.id, "v-phone", t(300));
    let phone_closed = ConversationRecord {
        status: ConversationStatus::Closed,
        closed_at: Some(t(60)),
        ..conv_of(p.id, source.id, "v-phone", t(50))
    };
    db.commit(vec![
        put_conv(&laptop_conv),
        put_conv(&phone_open),
        put_conv(&phone_closed),
    ])
    .await
    .unwrap();
    let phone_token = TokenRow {
        token_hash: "phone-token".into(),
        kind: TokenKind::Customer,
        user_id: None,
        project_id: Some(p.id),
        visitor_id: Some("v-phone".into()),
        customer_id: Some(source.id),
        expires_at: t(10_000),
        created_at: t(50),
    };
    db.insert_token(&phone_token).await.unwrap();

    let linked = db
        .link_email(p.id, "v-phone", "DEE@example.com", Some("Dee"), t(400))
        .await
        .unwrap();
    let merged = linked.customer;
    assert_eq!(merged.id, target.id);
    assert_eq!(merged.visitor_id, "v-laptop");
    assert_eq!(merged.email.as_deref(), Some("dee@example.com"));
    assert_eq!(merged.name.as_deref(), Some("Dee"));
    assert_eq!(merged.merged_visitor_ids, vec!["v-phone", "v-tablet"]);
    assert_eq!(merged.total_conversations, 4);
    assert_eq!(merged.first_seen_at, t(50));
    assert_eq!(merged.last_seen_at, t(400));
    // The phone's visit was the newer one.
    assert_eq!(merged.last_page_url.as_deref(), Some("/pricing"));
    assert_eq!(merged.last_browser.as_deref(), Some("Safari"));
    assert!(merged.is_flagged);
    assert_eq!(merged.flag_reason.as_deref(), Some("chargeback"));
    assert_eq!(merged.flagged_by, Some(owner.id));
    assert_eq!(
        merged.internal_notes.as_deref(),
        Some("VIP\n\nasked for refund")
    );
    assert_eq!(db.customer(p.id, merged.id).await.unwrap(), Some(merged));

    // The source is gone, its conversations moved; the closed one took
    // the identity into its columns, the open one is left to its actor.
    assert_eq!(db.customer(p.id, source.id).await.unwrap(), None);
    for c in [laptop_conv.id, phone_open.id, phone_closed.id] {
        assert_eq!(customer_id_of(&db, c).await, Some(target.id));
    }
    let closed = db
        .load_conversation(phone_closed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.customer_email.as_deref(), Some("dee@example.com"));
    assert_eq!(closed.customer_name.as_deref(), Some("Dee"));
    assert_eq!(
        linked.conversations,
        vec![phone_closed.id, phone_open.id, laptop_conv.id]
    );
    assert_eq!(
        db.token("phone-token").await.unwrap().unwrap().customer_id,
        Some(target.id)
    );
    // Every visitor id finds the survivor.
    for v in ["v-laptop", "v-phone", "v-tablet"] {
        assert_eq!(
            db.customer_of_visitor(p.id, v).await.unwrap().map(|c| c.id),
            Some(target.id),
            "{v}"
        );
    }
    // A snapshot of the moved live conversation, written with the id its
    // actor held before, does not move it back.
    db.commit(vec![put_conv(&phone_open)]).await.unwrap();
    assert_eq!(customer_id_of(&db, phone_open.id).await, Some(target.id));
}

/// Visitors identifying with one email at the same moment end as one
/// customer holding all of them and all their visits.
async fn concurrent_identifies_of_one_email_make_one_customer(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let visitors: Vec<String> = (0..8).map(|i| format!("v-{i}")).collect();
    let mut convs = Vec::new();
    for (i, v) in visitors.iter().enumerate() {
        let c = db
            .touch_customer(p.id, v, t(i as i64), &CustomerContext::default())
            .await
            .unwrap();
        convs.push(conv_of(p.id, c.id, v, t(i as i64)));
    }
    db.commit(convs.iter().map(put_conv).collect())
        .await
        .unwrap();
    let tasks: Vec<_> = visitors
        .iter()
        .map(|v| {
            let (db, v) = (db.clone(), v.clone());
            tokio::spawn(async move {
                db.link_email(p.id, &v, "same@example.com", None, t(100))
                    .await
                    .unwrap()
                    .customer
                    .id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    let survivor = ids[0];
    assert!(ids.iter().all(|id| *id == survivor), "{ids:?}");
    let customer = db.customer(p.id, survivor).await.unwrap().unwrap();
    assert_eq!(customer.total_conversations, 8);
    let mut all: Vec<String> = customer.merged_visitor_ids.clone();
    all.push(customer.visitor_id.clone());
    all.sort();
    assert_eq!(all, visitors);
    for c in &convs {
        assert_eq!(customer_id_of(&db, c.id).await, Some(survivor));
    }
    for v in &visitors {
        assert_eq!(
            db.customer_of_visitor(p.id, v).await.unwrap().map(|c| c.id),
            Some(survivor)
        );
    }
}

async fn patch_customer_flags_and_notes(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let (_o2, p2) = owner_and_project(&db).await;
    let c = customer_of(&db, p.id, "v-1", t(1)).await;
    let flagged = db
        .patch_customer(
            p.id,
            c.id,
            &CustomerPatch {
                is_flagged: Some(true),
                flag_reason: Some(Some("abusive".into())),
                internal_notes: Some(Some("called twice".into())),
            },
            owner.id,
            t(5),
        )
        .await
        .unwrap();
    assert!(flagged.is_flagged);
    assert_eq!(flagged.flag_reason.as_deref(), Some("abusive"));
    assert_eq!(flagged.flagged_by, Some(owner.id));
    assert_eq!(flagged.flagged_at, Some(t(5)));
    assert_eq!(flagged.internal_notes.as_deref(), Some("called twice"));
    assert_eq!(db.customer(p.id, c.id).await.unwrap(), Some(flagged));

    // Notes alone keep the flag; unflagging clears it and its reason.
    let notes = db
        .patch_customer(
            p.id,
            c.id,
            &CustomerPatch {
                internal_notes: Some(None),
                ..CustomerPatch::default()
            },
            owner.id,
            t(6),
        )
        .await
        .unwrap();
    assert!(notes.is_flagged);
    assert_eq!(notes.internal_notes, None);
    let cleared = db
        .patch_customer(
            p.id,
            c.id,
            &CustomerPatch {
                is_flagged: Some(false),
                ..CustomerPatch::default()
            },
            owner.id,
            t(7),
        )
        .await
        .unwrap();
    assert!(!cleared.is_flagged);
    assert_eq!(
        (cleared.flag_reason, cleared.flagged_at, cleared.flagged_by),
        (None, None, None)
    );

    // Another project's customer is not found.
    assert!(matches!(
        db.patch_customer(p2.id, c.id, &CustomerPatch::default(), owner.id, t(8))
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn customer_history_pages_newest_first_with_previews(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let c = customer_of(&db, p.id, "v-1", t(1)).await;
    let convs: Vec<ConversationRecord> = (0..5)
        .map(|i| conv_of(p.id, c.id, "v-1", t(10 * i)))
        .collect();
    let mut ops: Vec<WriteOp> = convs.iter().map(put_conv).collect();
    // The newest starts with an AI greeting, then the customer speaks; the
    // oldest has no customer message at all.
    let greet = MessageRecord {
        sender_type: SenderType::Ai,
        content: "Hi!".into(),
        ..message(convs[4].id, 1)
    };
    let asks = MessageRecord {
        content: "Cannot log in".into(),
        ..message(convs[4].id, 2)
    };
    let later = MessageRecord {
        content: "still broken".into(),
        ..message(convs[4].id, 3)
    };
    ops.extend([put_msg(&greet), put_msg(&asks), put_msg(&later)]);
    for conv in &convs[1..4] {
        ops.push(put_msg(&MessageRecord {
            content: format!("question of {}", conv.id),
            ..message(conv.id, 1)
        }));
    }
    db.commit(ops).await.unwrap();

    let first = db.customer_conversations(c.id, None, 2).await.unwrap();
    assert_eq!(
        first.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![convs[4].id, convs[3].id]
    );
    assert_eq!(first[0].preview.as_deref(), Some("Cannot log in"));
    assert_eq!(first[0].created_at, t(40));
    assert_eq!(first[0].status, ConversationStatus::AiActive);
    let last = first.last().unwrap();
    let rest = db
        .customer_conversations(c.id, Some((last.created_at, last.id)), 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![convs[2].id, convs[1].id, convs[0].id]
    );
    assert_eq!(
        rest[0].preview,
        Some(format!("question of {}", convs[2].id))
    );
    assert_eq!(rest[2].preview, None);
    let other = customer_of(&db, p.id, "v-2", t(1)).await;
    assert!(db
        .customer_conversations(other.id, None, 10)
        .await
        .unwrap()
        .is_empty());
}

on_both_backends! {
    "multi_thread": [
        link_email_creates_or_completes_a_customer,
        link_email_adds_a_new_visitor_to_the_email_customer,
        link_email_merges_the_visitor_customer_into_the_email_customer,
        concurrent_identifies_of_one_email_make_one_customer,
        patch_customer_flags_and_notes,
        customer_history_pages_newest_first_with_previews,
    ],
}
