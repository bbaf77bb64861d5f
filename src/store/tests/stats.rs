//! Store tests of an agent's day (`store/stats.rs`), on both backends
//! through the parent's `on_both_backends!`. The ratings are written here
//! as conversation rows (the rating endpoint is built elsewhere), which is
//! what makes CSAT testable before it exists.

use super::*;

async fn an_agents_day_counts_only_their_conversations_of_that_day(db: Db) {
    let (me, p) = owner_and_project(&db).await;
    let other = agent_member(&db, &p).await;
    let day = (t(0), t(86_400));
    let conv =
        |agent: UserId, claimed: i64, answered: i64, resolved: Option<i64>, rating: Option<i32>| {
            ConversationRecord {
                status: if resolved.is_some() {
                    ConversationStatus::Resolved
                } else {
                    ConversationStatus::AgentActive
                },
                assigned_agent_id: Some(agent),
                claimed_at: Some(t(claimed)),
                first_response_at: Some(t(answered)),
                resolved_at: resolved.map(t),
                resolved_by: resolved.map(|_| agent),
                satisfaction_rating: rating,
                ..conversation(p.id, t(answered))
            }
        };
    let empty = db.agent_day_stats(p.id, me.id, day.0, day.1).await.unwrap();
    assert_eq!(empty, crate::store::stats::AgentDayStats::default());
    db.commit(vec![
        // Mine, today: answered in 45 s, 15 s, 30 s; two rated (5, 4).
        put_conv(&conv(me.id, 100, 145, Some(500), Some(5))),
        put_conv(&conv(me.id, 200, 215, Some(900), Some(4))),
        put_conv(&conv(me.id, 300, 330, Some(1000), None)),
        // Mine, still open: answered in 60 s today.
        put_conv(&conv(me.id, 3000, 3060, None, None)),
        // Mine, yesterday.
        put_conv(&conv(me.id, -100, -50, Some(-10), Some(1))),
        // Mine, resolved as the day ended (the next day's).
        put_conv(&conv(me.id, 4000, 4010, Some(86_400), Some(1))),
        // Transferred to me after someone else's first response.
        put_conv(&conv(me.id, 2000, 1500, None, None)),
        // Someone else's.
        put_conv(&conv(other.id, 100, 101, Some(200), Some(1))),
    ])
    .await
    .unwrap();
    let s = db.agent_day_stats(p.id, me.id, day.0, day.1).await.unwrap();
    assert_eq!(s.resolved, 3, "{s:?}");
    assert_eq!(s.ratings, 2, "{s:?}");
    assert_eq!(s.csat, Some(4.5), "{s:?}");
    // 45, 15, 30, 60 and the 10 s of the one resolved at midnight, which
    // was answered today.
    assert_eq!(s.first_responses, 5, "{s:?}");
    let avg = s.avg_first_response_seconds.unwrap();
    assert!((avg - 32.0).abs() < 1e-3, "{s:?}");

    let theirs = db
        .agent_day_stats(p.id, other.id, day.0, day.1)
        .await
        .unwrap();
    assert_eq!((theirs.resolved, theirs.ratings), (1, 1));
    assert_eq!(theirs.csat, Some(1.0));
    let next_day = db
        .agent_day_stats(p.id, me.id, day.1, day.1 + Duration::days(1))
        .await
        .unwrap();
    assert_eq!((next_day.resolved, next_day.ratings), (1, 1));
    assert_eq!(next_day.first_responses, 0);
    assert_eq!(next_day.avg_first_response_seconds, None);
}

on_both_backends! {
    "multi_thread": [an_agents_day_counts_only_their_conversations_of_that_day],
}
