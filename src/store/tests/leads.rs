//! Store tests of leads and the email outbox (`store/leads.rs`), on both
//! backends through the parent's `on_both_backends!`: round trips, pages
//! newest first without gaps or repeats (ties on time broken by id), and
//! projects kept apart.

use super::*;
use crate::store::{EmailRecord, LeadRecord};
use switchboard_actors::ids::{EmailId, LeadId};

fn lead(project: ProjectId, at: DateTime<Utc>, n: usize) -> LeadRecord {
    LeadRecord {
        id: LeadId::new(),
        project_id: project,
        conversation_id: (n % 2 == 0).then(ConversationId::new),
        email: format!("lead{n}@example.com"),
        name: (n % 3 == 0).then(|| format!("Lead {n}")),
        message: format!("question {n}"),
        created_at: at,
    }
}

fn email(project: ProjectId, at: DateTime<Utc>, n: usize) -> EmailRecord {
    EmailRecord {
        id: EmailId::new(),
        project_id: project,
        to: format!("to{n}@example.com"),
        subject: format!("subject {n}"),
        body: format!("body {n}\nsecond line"),
        kind: "offline_confirmation".into(),
        created_at: at,
    }
}

async fn leads_round_trip_and_page_newest_first(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let (_other_owner, other) = owner_and_project(&db).await;
    assert!(db.list_leads(p.id, None, 10).await.unwrap().is_empty());
    // Seven leads; 2 and 3 share an instant, so the id breaks the tie.
    let made: Vec<LeadRecord> = (0..7)
        .map(|n| lead(p.id, t(100 + [0, 1, 2, 2, 3, 4, 5][n]), n))
        .collect();
    for l in &made {
        db.insert_lead(l).await.unwrap();
    }
    db.insert_lead(&lead(other.id, t(200), 99)).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = db.list_leads(p.id, cursor, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        cursor = Some((last.created_at, last.id));
        seen.extend(page);
    }
    let mut want = made.clone();
    want.sort_by_key(|l| std::cmp::Reverse((l.created_at, l.id)));
    assert_eq!(seen, want, "every field round-trips, newest first");
    // The same id twice is a conflict.
    assert!(matches!(
        db.insert_lead(&made[0]).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn emails_round_trip_and_page_newest_first(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let (_other_owner, other) = owner_and_project(&db).await;
    let made: Vec<EmailRecord> = (0..5).map(|n| email(p.id, t(50 + n as i64), n)).collect();
    for e in &made {
        db.insert_email(e).await.unwrap();
    }
    db.insert_email(&email(other.id, t(1), 9)).await.unwrap();
    let first = db.list_emails(p.id, None, 2).await.unwrap();
    assert_eq!(first, vec![made[4].clone(), made[3].clone()]);
    let last = first.last().unwrap();
    let rest = db
        .list_emails(p.id, Some((last.created_at, last.id)), 10)
        .await
        .unwrap();
    assert_eq!(
        rest,
        vec![made[2].clone(), made[1].clone(), made[0].clone()]
    );
    assert_eq!(db.list_emails(other.id, None, 10).await.unwrap().len(), 1);
}

on_both_backends! {
    "multi_thread": [
        leads_round_trip_and_page_newest_first,
        emails_round_trip_and_page_newest_first,
    ],
}
