//! Round trips of every record and the read queries, on both backends.

use super::*;

async fn users_and_tokens_round_trip(db: Db) {
    assert_eq!(db.count_users().await.unwrap(), 0);
    let u = user("Mixed.Case@Acme.Test");
    db.insert_user(&u).await.unwrap();
    assert_eq!(db.count_users().await.unwrap(), 1);
    let stored = UserRow {
        email: "mixed.case@acme.test".into(),
        ..u.clone()
    };
    assert_eq!(db.user_by_id(u.id).await.unwrap(), Some(stored.clone()));
    assert_eq!(
        db.user_by_email("MIXED.case@acme.test").await.unwrap(),
        Some(stored)
    );
    assert_eq!(db.user_by_email("nobody@acme.test").await.unwrap(), None);
    assert_eq!(db.user_by_id(UserId::new()).await.unwrap(), None);

    // Duplicate email (any case) is a conflict.
    let dup = UserRow {
        id: UserId::new(),
        ..user("mixed.case@ACME.test")
    };
    assert!(matches!(
        db.insert_user(&dup).await,
        Err(StoreError::Conflict(_))
    ));

    let staff = TokenRow {
        token_hash: "a".repeat(64),
        kind: TokenKind::Staff,
        user_id: Some(u.id),
        project_id: None,
        visitor_id: None,
        customer_id: None,
        expires_at: t(86_400),
        created_at: t(5),
    };
    let customer = TokenRow {
        token_hash: "b".repeat(64),
        kind: TokenKind::Customer,
        user_id: None,
        project_id: Some(ProjectId::new()),
        visitor_id: Some("visitor-9".into()),
        customer_id: Some(CustomerId::new()),
        expires_at: t(86_400),
        created_at: t(6),
    };
    db.insert_token(&staff).await.unwrap();
    db.insert_token(&customer).await.unwrap();
    assert_eq!(
        db.token(&staff.token_hash).await.unwrap(),
        Some(staff.clone())
    );
    assert_eq!(
        db.token(&customer.token_hash).await.unwrap(),
        Some(customer.clone())
    );
    assert!(matches!(
        db.insert_token(&staff).await,
        Err(StoreError::Conflict(_))
    ));
    db.delete_token(&staff.token_hash).await.unwrap();
    db.delete_token(&staff.token_hash).await.unwrap();
    assert_eq!(db.token(&staff.token_hash).await.unwrap(), None);
    assert!(db.token(&customer.token_hash).await.unwrap().is_some());
}

async fn projects_round_trip(db: Db) {
    let owner = user("owner@acme.test");
    db.insert_user(&owner).await.unwrap();
    let p = project_row(owner.id);
    let settings = HandoffSettings {
        default_max_concurrent_chats: 6,
        ..HandoffSettings::default()
    };
    db.create_project(&p, &settings, "Owner@Acme.test", "The Owner")
        .await
        .unwrap();

    assert_eq!(db.project(p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        db.project_by_public_key(&p.public_key).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(
        db.project_by_secret_hash(&p.secret_key_hash).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(db.project_by_public_key("nope").await.unwrap(), None);
    assert_eq!(db.project(ProjectId::new()).await.unwrap(), None);
    assert_eq!(
        db.projects_of_user(owner.id).await.unwrap(),
        vec![(p.clone(), "admin".to_string())]
    );
    assert_eq!(db.list_project_ids().await.unwrap(), vec![p.id]);
    let snap = db.load_project(p.id).await.unwrap().unwrap();
    assert_eq!((snap.id, snap.name.as_str()), (p.id, "Acme"));
    assert_eq!(snap.settings, settings);

    // The owner is an active admin member.
    let m = db.membership(p.id, owner.id).await.unwrap().unwrap();
    assert_eq!(m.role, MemberRole::Admin);
    assert_eq!(m.status, MemberStatus::Active);
    assert_eq!(m.email, "owner@acme.test");
    assert_eq!(m.name.as_deref(), Some("The Owner"));
    assert_eq!(m.max_concurrent_chats, 6);
    assert_eq!(m.accepted_at, Some(p.created_at));

    // The whole creation is one transaction: a taken public key leaves no
    // trace of the second project.
    let mut clash = project_row(owner.id);
    clash.public_key = p.public_key.clone();
    assert!(matches!(
        db.create_project(&clash, &settings, &owner.email, &owner.name)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(db.list_project_ids().await.unwrap(), vec![p.id]);
    assert_eq!(db.members(clash.id).await.unwrap(), vec![]);
}

async fn handoff_settings_round_trip_with_every_field_changed(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let mut s = HandoffSettings {
        enabled: true,
        trigger_mode: TriggerMode::Manual,
        show_human_button: true,
        business_hours_enabled: true,
        timezone: "Europe/Berlin".into(),
        default_max_concurrent_chats: 12,
        inactivity_timeout_minutes: 7,
        auto_close_after_warning_minutes: 8,
        session_keep_alive_minutes: 30,
        send_inactivity_warning: false,
        ..HandoffSettings::default()
    };
    s.auto_triggers.low_confidence_enabled = false;
    s.auto_triggers.low_confidence_threshold = 0.35;
    s.auto_triggers.keywords_enabled = false;
    s.auto_triggers.keywords = vec!["operator".into(), "mensch \"echt\"".into()];
    s.business_hours.monday.start = "08:30".into();
    s.business_hours.friday.enabled = false;
    s.business_hours.sunday.enabled = true;
    s.business_hours.sunday.end = "12:00".into();
    assert_ne!(s, HandoffSettings::default());
    db.commit(vec![WriteOp::PutSettings {
        project_id: p.id,
        settings: Box::new(s.clone()),
        at: t(50),
    }])
    .await
    .unwrap();
    assert_eq!(db.load_project(p.id).await.unwrap().unwrap().settings, s);
    assert!(db.load_project(ProjectId::new()).await.unwrap().is_none());
}

async fn members_and_invitations(db: Db) {
    let (owner, p) = owner_and_project(&db).await;

    let inv = invitation(p.id, owner.id, "New.Agent@acme.test", MemberRole::Agent);
    db.insert_member(&inv).await.unwrap();
    let stored = MemberRow {
        email: "new.agent@acme.test".into(),
        ..inv.clone()
    };
    let hash = inv.invite_token_hash.clone().unwrap();
    assert_eq!(
        db.member_by_invite_hash(&hash).await.unwrap(),
        Some(stored.clone())
    );
    // Same email in the same project again: conflict.
    let again = MemberRow {
        id: Uuid::new_v4(),
        invite_token_hash: Some("other".into()),
        ..invitation(p.id, owner.id, "new.agent@ACME.test", MemberRole::Admin)
    };
    assert!(matches!(
        db.insert_member(&again).await,
        Err(StoreError::Conflict(_))
    ));

    // Accepting: new user, member active, hash cleared, ledger row written.
    let agent = user("new.agent@acme.test");
    let ledger = AgentRecord {
        max_concurrent_chats: 4,
        current_chat_count: 0,
        status: AgentStatus::Offline,
        ..agent_record(p.id, &agent)
    };
    db.accept_invite(inv.id, &agent, true, Some(&ledger), t(40))
        .await
        .unwrap();
    assert_eq!(db.user_by_id(agent.id).await.unwrap(), Some(agent.clone()));
    assert_eq!(db.member_by_invite_hash(&hash).await.unwrap(), None);
    let m = db.membership(p.id, agent.id).await.unwrap().unwrap();
    assert_eq!(
        m,
        MemberRow {
            user_id: Some(agent.id),
            status: MemberStatus::Active,
            accepted_at: Some(t(40)),
            invite_token_hash: None,
            updated_at: t(40),
            ..stored.clone()
        }
    );
    assert_eq!(db.load_agents(p.id).await.unwrap(), vec![ledger]);
    // A second accept finds no pending invitation.
    assert!(matches!(
        db.accept_invite(inv.id, &agent, false, None, t(41)).await,
        Err(StoreError::NotFound)
    ));

    // Accepting with an email that is taken rolls everything back.
    let inv2 = invitation(p.id, owner.id, "second@acme.test", MemberRole::Agent);
    db.insert_member(&inv2).await.unwrap();
    let taken = UserRow {
        id: UserId::new(),
        ..user(&owner.email)
    };
    assert!(matches!(
        db.accept_invite(inv2.id, &taken, true, None, t(42)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        db.member_by_invite_hash(inv2.invite_token_hash.as_deref().unwrap())
            .await
            .unwrap()
            .map(|m| m.status),
        Some(MemberStatus::Pending)
    );

    // An existing user accepting.
    let existing = user("second@acme.test");
    db.insert_user(&existing).await.unwrap();
    db.accept_invite(inv2.id, &existing, false, None, t(43))
        .await
        .unwrap();
    assert!(db.membership(p.id, existing.id).await.unwrap().is_some());

    let all = db.members(p.id).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].user_id, Some(owner.id));
    assert_eq!(
        db.projects_of_user(agent.id).await.unwrap(),
        vec![(p.clone(), "agent".to_string())]
    );

    db.set_agent_max(p.id, agent.id, 11).await.unwrap();
    assert_eq!(
        db.membership(p.id, agent.id)
            .await
            .unwrap()
            .unwrap()
            .max_concurrent_chats,
        11
    );
    assert!(matches!(
        db.set_agent_max(p.id, UserId::new(), 3).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(db.membership(p.id, UserId::new()).await.unwrap(), None);
}

async fn load_agents_for_a_member_without_a_ledger_row(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let agent = agent_member(&db, &p).await;
    // The owner is an admin, not an agent: not listed.
    assert_eq!(
        db.load_agents(p.id).await.unwrap(),
        vec![AgentRecord {
            project_id: p.id,
            user_id: agent.id,
            name: agent.name.clone(),
            avatar_url: agent.avatar_url.clone(),
            status: AgentStatus::Offline,
            max_concurrent_chats: 4,
            current_chat_count: 0,
            last_seen_at: t(30),
            last_assigned_at: None,
            status_changed_at: t(30),
            auto_offline_enabled: true,
            auto_offline_minutes: 30,
        }]
    );
    assert!(db
        .load_agents(p.id)
        .await
        .unwrap()
        .iter()
        .all(|a| a.user_id != owner.id));
    // A pending invitation is not an agent yet.
    db.insert_member(&invitation(
        p.id,
        owner.id,
        "later@acme.test",
        MemberRole::Agent,
    ))
    .await
    .unwrap();
    assert_eq!(db.load_agents(p.id).await.unwrap().len(), 1);
}

async fn knowledge_round_trip(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let (_owner2, p2) = owner_and_project(&db).await;
    let k1 = KnowledgeRow {
        id: KnowledgeId::new(),
        project_id: p.id,
        question: "How do I reset my password?".into(),
        answer: "Use the link on the sign-in page.".into(),
        created_at: t(2),
    };
    let k0 = KnowledgeRow {
        id: KnowledgeId::new(),
        question: "Refunds?".into(),
        answer: "Within 30 days.".into(),
        created_at: t(1),
        ..k1.clone()
    };
    db.insert_knowledge(&k1).await.unwrap();
    db.insert_knowledge(&k0).await.unwrap();
    assert_eq!(
        db.knowledge(p.id).await.unwrap(),
        vec![k0.clone(), k1.clone()]
    );
    assert_eq!(db.knowledge(p2.id).await.unwrap(), vec![]);
    // Deleting needs the right project.
    assert!(!db.delete_knowledge(p2.id, k0.id).await.unwrap());
    assert!(db.delete_knowledge(p.id, k0.id).await.unwrap());
    assert!(!db.delete_knowledge(p.id, k0.id).await.unwrap());
    assert_eq!(db.knowledge(p.id).await.unwrap(), vec![k1]);
}

async fn customers_are_touched_and_found_by_merged_visitor_ids(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let ctx = CustomerContext {
        browser: Some("Firefox".into()),
        device: Some("desktop".into()),
        os: Some("Linux".into()),
        page_url: Some("https://acme.test/pricing".into()),
        referrer: Some("https://search.test".into()),
        timezone: Some("Europe/Paris".into()),
        language: Some("fr-FR".into()),
    };
    let first = db.touch_customer(p.id, "v_1%", t(1), &ctx).await.unwrap();
    assert_eq!(first.visitor_id, "v_1%");
    assert_eq!(first.total_conversations, 1);
    assert_eq!((first.first_seen_at, first.last_seen_at), (t(1), t(1)));
    assert_eq!(first.last_browser.as_deref(), Some("Firefox"));
    assert_eq!(first.last_language.as_deref(), Some("fr-FR"));
    assert_eq!(
        db.customer(p.id, first.id).await.unwrap(),
        Some(first.clone())
    );

    // Again: same row, counted, seen later, None keeps the old context.
    let partial = CustomerContext {
        page_url: Some("https://acme.test/docs".into()),
        ..CustomerContext::default()
    };
    let second = db
        .touch_customer(p.id, "v_1%", t(5), &partial)
        .await
        .unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.total_conversations, 2);
    assert_eq!((second.first_seen_at, second.last_seen_at), (t(1), t(5)));
    assert_eq!(
        second.last_page_url.as_deref(),
        Some("https://acme.test/docs")
    );
    assert_eq!(second.last_browser.as_deref(), Some("Firefox"));

    // A customer with every field set, found through a merged visitor id.
    let full = CustomerRow {
        id: CustomerId::new(),
        project_id: p.id,
        visitor_id: "v-main".into(),
        email: Some("jane@customer.test".into()),
        email_verified: true,
        name: Some("Jane".into()),
        merged_visitor_ids: vec!["v-phone".into(), "v-tablet".into()],
        first_seen_at: t(0),
        last_seen_at: t(3),
        total_conversations: 4,
        last_browser: Some("Safari".into()),
        last_device: Some("mobile".into()),
        last_os: Some("iOS".into()),
        last_page_url: Some("https://acme.test/".into()),
        last_location: Some("Lyon, France".into()),
        last_timezone: Some("Europe/Paris".into()),
        last_language: Some("fr".into()),
        last_referrer: Some("https://ref.test".into()),
        is_flagged: true,
        flag_reason: Some("abuse".into()),
        flagged_at: Some(t(2)),
        flagged_by: Some(owner.id),
        internal_notes: Some("prefers email".into()),
        created_at: t(0),
        updated_at: t(3),
    };
    {
        let mut conn = db.conn().await.unwrap();
        crate::store::customers::writes::insert_customer(
            &mut conn,
            &crate::store::customers::records::DbCustomer::from_row(&full).unwrap(),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        db.customer(p.id, full.id).await.unwrap(),
        Some(full.clone())
    );
    // "v-pho" is a prefix of a merged id, not one of them: a new customer.
    let other = customer_of(&db, p.id, "v-pho", t(6)).await;
    assert_ne!(other.id, full.id);
    let merged = customer_of(&db, p.id, "v-tablet", t(7)).await;
    assert_eq!(
        merged,
        CustomerRow {
            last_seen_at: t(7),
            updated_at: t(7),
            total_conversations: 5,
            ..full.clone()
        }
    );
    // Another project's customer is not visible.
    let (_o2, p2) = owner_and_project(&db).await;
    assert_eq!(db.customer(p2.id, full.id).await.unwrap(), None);
    let elsewhere = customer_of(&db, p2.id, "v-tablet", t(8)).await;
    assert_ne!(elsewhere.id, full.id);
}

async fn conversations_and_messages_round_trip(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let customer = customer_of(&db, p.id, "visitor-1", t(90)).await;
    let full = full_conversation(p.id, customer.id, owner.id);
    let live = conversation(p.id, t(100));
    let closed = ConversationRecord {
        status: ConversationStatus::Closed,
        closed_at: Some(t(101)),
        ..conversation(p.id, t(101))
    };
    let msg = MessageRecord {
        sender_type: SenderType::Agent,
        sender_id: Some(owner.id),
        content: "Hello — how can I help? 👋".into(),
        metadata: json!({"confidence": 0.85, "sources": ["faq:1"]}),
        client_msg_id: Some("client-1".into()),
        internal: true,
        ..message(full.id, 1)
    };
    db.commit(vec![
        put_conv(&full),
        put_conv(&live),
        put_conv(&closed),
        put_msg(&msg),
    ])
    .await
    .unwrap();
    assert_eq!(
        db.load_conversation(full.id).await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        db.load_conversation(ConversationId::new()).await.unwrap(),
        None
    );
    let mut live_ids: Vec<ConversationId> = db
        .load_live_conversations(p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    live_ids.sort();
    let mut expected = vec![full.id, live.id];
    expected.sort();
    assert_eq!(live_ids, expected);
    assert_eq!(db.load_messages(full.id, 0, 10).await.unwrap(), vec![msg]);
}

async fn messages_by_seq_and_client_id(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let a = conversation(p.id, t(100));
    let b = conversation(p.id, t(100));
    assert_eq!(db.last_seq(a.id).await.unwrap(), 0);
    let mut ops = vec![put_conv(&a), put_conv(&b)];
    let msgs: Vec<MessageRecord> = (1..=5)
        .map(|seq| MessageRecord {
            client_msg_id: (seq % 2 == 1).then(|| format!("c-{seq}")),
            ..message(a.id, seq)
        })
        .collect();
    ops.extend(msgs.iter().map(put_msg));
    // The same client id in another conversation is fine.
    let in_b = MessageRecord {
        client_msg_id: Some("c-1".into()),
        ..message(b.id, 1)
    };
    ops.push(put_msg(&in_b));
    db.commit(ops).await.unwrap();

    assert_eq!(db.last_seq(a.id).await.unwrap(), 5);
    assert_eq!(db.load_messages(a.id, 0, 100).await.unwrap(), msgs);
    assert_eq!(
        db.load_messages(a.id, 2, 2).await.unwrap(),
        msgs[2..4].to_vec()
    );
    assert_eq!(db.load_messages(a.id, 5, 10).await.unwrap(), vec![]);
    assert_eq!(
        db.load_recent_messages(a.id, 2).await.unwrap(),
        msgs[3..].to_vec()
    );
    assert_eq!(db.load_recent_messages(a.id, 50).await.unwrap(), msgs);

    assert_eq!(
        db.find_message_by_client_id(a.id, "c-3").await.unwrap(),
        Some(msgs[2].clone())
    );
    assert_eq!(
        db.find_message_by_client_id(b.id, "c-1").await.unwrap(),
        Some(in_b)
    );
    assert_eq!(
        db.find_message_by_client_id(a.id, "c-2").await.unwrap(),
        None
    );
    // A repeated client id in the same conversation is a conflict.
    let dup = MessageRecord {
        client_msg_id: Some("c-3".into()),
        ..message(a.id, 6)
    };
    assert!(matches!(
        db.commit(vec![put_msg(&dup)]).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn list_conversations_pages_newest_first(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let (_owner2, p2) = owner_and_project(&db).await;
    let customer = customer_of(&db, p.id, "visitor-1", t(90)).await;
    // Seven conversations; three share one last_message_at (ties by id).
    let mut convs: Vec<ConversationRecord> = [5, 1, 3, 3, 3, 7, 2]
        .into_iter()
        .map(|s| conversation(p.id, t(1000 + s)))
        .collect();
    convs[1].status = ConversationStatus::Waiting;
    convs[2].assigned_agent_id = Some(owner.id);
    convs[2].status = ConversationStatus::AgentActive;
    convs[3].customer_id = Some(customer.id);
    let foreign = conversation(p2.id, t(2000));
    let mut ops: Vec<WriteOp> = convs.iter().map(put_conv).collect();
    ops.push(put_conv(&foreign));
    db.commit(ops).await.unwrap();

    let mut expected = convs.clone();
    expected.sort_by(|x, y| {
        (y.last_message_at, y.id.to_string()).cmp(&(x.last_message_at, x.id.to_string()))
    });

    let mut filter = ConversationFilter {
        project_ids: vec![p.id],
        status: None,
        assigned_to: None,
        customer_id: None,
        text: None,
        tag: None,
        cursor: None,
        limit: 3,
    };
    let mut pages = Vec::new();
    loop {
        let page = db.list_conversations(&filter).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        filter.cursor = Some((last.last_message_at, last.id));
        pages.push(page.len());
        expected
            .iter()
            .skip(pages.iter().sum::<usize>() - page.len())
            .zip(&page)
            .for_each(|(e, g)| assert_eq!(e, g));
    }
    assert_eq!(pages, vec![3, 3, 1]);

    let only = |f: ConversationFilter| {
        let db = db.clone();
        async move {
            db.list_conversations(&f)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    let base = ConversationFilter {
        cursor: None,
        limit: 50,
        ..filter.clone()
    };
    assert_eq!(
        only(ConversationFilter {
            status: Some(ConversationStatus::Waiting),
            ..base.clone()
        })
        .await,
        vec![convs[1].id]
    );
    assert_eq!(
        only(ConversationFilter {
            assigned_to: Some(owner.id),
            ..base.clone()
        })
        .await,
        vec![convs[2].id]
    );
    assert_eq!(
        only(ConversationFilter {
            customer_id: Some(customer.id),
            ..base.clone()
        })
        .await,
        vec![convs[3].id]
    );
    assert_eq!(
        only(ConversationFilter {
            project_ids: vec![p.id, p2.id],
            ..base.clone()
        })
        .await
        .len(),
        8
    );
    assert_eq!(
        only(ConversationFilter {
            project_ids: vec![],
            ..base.clone()
        })
        .await,
        vec![]
    );
}

async fn average_handling_time(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    assert_eq!(db.avg_handling_minutes(p.id, t(0)).await.unwrap(), None);
    let handled = |claimed: i64, resolved: i64| ConversationRecord {
        status: ConversationStatus::Resolved,
        assigned_agent_id: Some(owner.id),
        claimed_at: Some(t(claimed)),
        resolved_at: Some(t(resolved)),
        ..conversation(p.id, t(resolved))
    };
    let unclaimed = ConversationRecord {
        resolved_at: Some(t(5000)),
        ..conversation(p.id, t(5000))
    };
    db.commit(vec![
        put_conv(&handled(1000, 1600)), // 10 min
        put_conv(&handled(2000, 3800)), // 30 min
        put_conv(&handled(0, 60)),      // before `since`
        put_conv(&unclaimed),           // never claimed
    ])
    .await
    .unwrap();
    let avg = db
        .avg_handling_minutes(p.id, t(100))
        .await
        .unwrap()
        .unwrap();
    assert!((avg - 20.0).abs() < 1e-9, "{avg}");
    assert_eq!(
        db.avg_handling_minutes(p.id, t(100) + Duration::days(1))
            .await
            .unwrap(),
        None
    );
}

async fn concurrent_commits_and_http_writes_do_not_lock_each_other_out(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let conv = conversation(p.id, t(i));
            let mut ops = vec![put_conv(&conv)];
            ops.extend((1..=20).map(|s| put_msg(&message(conv.id, s))));
            db.commit(ops).await.unwrap();
            db.touch_customer(p.id, &format!("v{i}"), t(i), &CustomerContext::default())
                .await
                .unwrap();
            db.insert_knowledge(&KnowledgeRow {
                id: KnowledgeId::new(),
                project_id: p.id,
                question: format!("q{i}"),
                answer: "a".into(),
                created_at: t(i),
            })
            .await
            .unwrap();
            conv.id
        }));
    }
    for task in tasks {
        let id = task.await.unwrap();
        assert_eq!(db.last_seq(id).await.unwrap(), 20);
    }
    assert_eq!(db.knowledge(p.id).await.unwrap().len(), 8);
}

on_both_backends! {
    "multi_thread": [
        users_and_tokens_round_trip,
        projects_round_trip,
        handoff_settings_round_trip_with_every_field_changed,
        members_and_invitations,
        load_agents_for_a_member_without_a_ledger_row,
        knowledge_round_trip,
        customers_are_touched_and_found_by_merged_visitor_ids,
        conversations_and_messages_round_trip,
        messages_by_seq_and_client_id,
        list_conversations_pages_newest_first,
        average_handling_time,
        concurrent_commits_and_http_writes_do_not_lock_each_other_out,
    ],
}
