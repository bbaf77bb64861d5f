// @generated automatically by Diesel CLI.

diesel::table! {
    activity_sessions (id) {
        id -> Text,
        project_id -> Text,
        user_id -> Text,
        server_name -> Text,
        server_slug -> Text,
        title -> Nullable<Text>,
        connected_at -> Timestamp,
    }
}

diesel::table! {
    agent_availability (user_id, project_id) {
        user_id -> Text,
        project_id -> Text,
        status -> Text,
        max_concurrent_chats -> Integer,
        current_chat_count -> Integer,
        last_seen_at -> Timestamp,
        last_assigned_at -> Nullable<Timestamp>,
        status_changed_at -> Timestamp,
        auto_offline_enabled -> Bool,
        auto_offline_minutes -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    auth_tokens (token_hash) {
        token_hash -> Text,
        kind -> Text,
        user_id -> Nullable<Text>,
        project_id -> Nullable<Text>,
        visitor_id -> Nullable<Text>,
        customer_id -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    canned_responses (id) {
        id -> Text,
        project_id -> Text,
        owner_id -> Nullable<Text>,
        shortcode -> Text,
        content -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        project_id -> Text,
        customer_id -> Nullable<Text>,
        visitor_id -> Text,
        customer_email -> Nullable<Text>,
        customer_name -> Nullable<Text>,
        customer_presence -> Text,
        customer_last_seen_at -> Nullable<Timestamp>,
        auto_close_warning_sent_at -> Nullable<Timestamp>,
        status -> Text,
        assigned_agent_id -> Nullable<Text>,
        handoff_reason -> Nullable<Text>,
        handoff_triggered_at -> Nullable<Timestamp>,
        ai_confidence_at_handoff -> Nullable<Double>,
        trigger_keyword -> Nullable<Text>,
        ai_messages_before_handoff -> BigInt,
        queue_entered_at -> Nullable<Timestamp>,
        claimed_at -> Nullable<Timestamp>,
        first_response_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        satisfaction_rating -> Nullable<Integer>,
        satisfaction_feedback -> Nullable<Text>,
        source -> Text,
        metadata -> Text,
        tags -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_message_at -> Timestamp,
        customer_email_verified -> Bool,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        project_id -> Text,
        visitor_id -> Text,
        email -> Nullable<Text>,
        name -> Nullable<Text>,
        merged_visitor_ids -> Text,
        first_seen_at -> Timestamp,
        last_seen_at -> Timestamp,
        total_conversations -> Integer,
        last_browser -> Nullable<Text>,
        last_device -> Nullable<Text>,
        last_os -> Nullable<Text>,
        last_page_url -> Nullable<Text>,
        last_location -> Nullable<Text>,
        last_timezone -> Nullable<Text>,
        last_language -> Nullable<Text>,
        last_referrer -> Nullable<Text>,
        is_flagged -> Bool,
        flag_reason -> Nullable<Text>,
        flagged_at -> Nullable<Timestamp>,
        flagged_by -> Nullable<Text>,
        internal_notes -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        email_verified -> Bool,
    }
}

diesel::table! {
    handoff_settings (id) {
        id -> Text,
        project_id -> Text,
        enabled -> Bool,
        trigger_mode -> Text,
        show_human_button -> Bool,
        auto_triggers -> Text,
        business_hours_enabled -> Bool,
        timezone -> Text,
        business_hours -> Text,
        default_max_concurrent_chats -> Integer,
        inactivity_timeout_minutes -> Integer,
        auto_close_after_warning_minutes -> Integer,
        session_keep_alive_minutes -> Integer,
        send_inactivity_warning -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    identity_codes (project_id, visitor_id) {
        project_id -> Text,
        visitor_id -> Text,
        email -> Text,
        code_hash -> Text,
        attempts -> Integer,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    instance_emails (id) {
        id -> Text,
        to_email -> Text,
        subject -> Text,
        body -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    knowledge_entries (id) {
        id -> Text,
        project_id -> Text,
        question -> Text,
        answer -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    leads (id) {
        id -> Text,
        project_id -> Text,
        conversation_id -> Nullable<Text>,
        email -> Text,
        name -> Nullable<Text>,
        message -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        conversation_id -> Text,
        seq -> BigInt,
        sender_type -> Text,
        sender_id -> Nullable<Text>,
        content -> Text,
        metadata -> Text,
        client_msg_id -> Nullable<Text>,
        internal -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbound_emails (id) {
        id -> Text,
        project_id -> Text,
        to_email -> Text,
        subject -> Text,
        body -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        session_id -> Text,
        amount -> BigInt,
        status -> Text,
        payment_url -> Text,
        provider -> Text,
        provider_ref -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    project_members (id) {
        id -> Text,
        project_id -> Text,
        user_id -> Nullable<Text>,
        email -> Text,
        name -> Nullable<Text>,
        role -> Text,
        status -> Text,
        invited_by -> Text,
        invited_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        invite_token_hash -> Nullable<Text>,
        max_concurrent_chats -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        name -> Text,
        public_key -> Text,
        secret_key_hash -> Text,
        allowed_origins -> Text,
        owner_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        solver_share_percent -> Integer,
        identity_secret -> Nullable<Text>,
        widget_appearance -> Text,
    }
}

diesel::table! {
    session_messages (id) {
        id -> Text,
        session_id -> Text,
        seq -> BigInt,
        sender_type -> Text,
        sender_id -> Nullable<Text>,
        content -> Text,
        client_msg_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    session_sms (id) {
        id -> Text,
        session_id -> Text,
        to_phone -> Text,
        body -> Text,
        provider_ref -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        project_id -> Text,
        ticket_id -> Text,
        solver_id -> Text,
        status -> Text,
        duration_seconds -> BigInt,
        timer_started_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        tier -> Text,
        notes -> Text,
        notes_saved_at -> Nullable<Timestamp>,
        access_token_hash -> Text,
        base_price -> Nullable<BigInt>,
        overage_minutes -> Nullable<BigInt>,
        overage_amount -> Nullable<BigInt>,
        total_charged -> Nullable<BigInt>,
        solver_earnings -> Nullable<BigInt>,
        platform_fee -> Nullable<BigInt>,
        tier_warning -> Nullable<Text>,
        sms_count -> Integer,
        call_info -> Text,
        rating -> Nullable<Integer>,
        rating_comment -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        solver_share_percent -> Integer,
    }
}

diesel::table! {
    staff_email_codes (user_id) {
        user_id -> Text,
        email -> Text,
        code_hash -> Text,
        attempts -> Integer,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    support_requests (id) {
        id -> Text,
        project_id -> Text,
        activity_session_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        title -> Text,
        concise_summary -> Nullable<Text>,
        context -> Nullable<Text>,
        status -> Text,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        project_id -> Text,
        customer_name -> Text,
        customer_phone -> Nullable<Text>,
        customer_email -> Nullable<Text>,
        description -> Text,
        urgency -> Text,
        status -> Text,
        solver_id -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tool_calls (id) {
        id -> Text,
        project_id -> Text,
        activity_session_id -> Text,
        tool_name -> Text,
        input -> Text,
        output -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        avatar_url -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        can_create_projects -> Bool,
        email_verified -> Bool,
    }
}

diesel::table! {
    visitors (project_id, visitor_id) {
        project_id -> Text,
        visitor_id -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(agent_availability -> projects (project_id));
diesel::joinable!(activity_sessions -> projects (project_id));
diesel::joinable!(agent_availability -> users (user_id));
diesel::joinable!(auth_tokens -> users (user_id));
diesel::joinable!(canned_responses -> projects (project_id));
diesel::joinable!(canned_responses -> users (owner_id));
diesel::joinable!(conversations -> customers (customer_id));
diesel::joinable!(conversations -> projects (project_id));
diesel::joinable!(conversations -> users (assigned_agent_id));
diesel::joinable!(customers -> projects (project_id));
diesel::joinable!(customers -> users (flagged_by));
diesel::joinable!(handoff_settings -> projects (project_id));
diesel::joinable!(identity_codes -> projects (project_id));
diesel::joinable!(knowledge_entries -> projects (project_id));
diesel::joinable!(leads -> projects (project_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(outbound_emails -> projects (project_id));
diesel::joinable!(payments -> sessions (session_id));
diesel::joinable!(project_members -> projects (project_id));
diesel::joinable!(projects -> users (owner_id));
diesel::joinable!(session_messages -> sessions (session_id));
diesel::joinable!(session_messages -> users (sender_id));
diesel::joinable!(session_sms -> sessions (session_id));
diesel::joinable!(sessions -> projects (project_id));
diesel::joinable!(sessions -> tickets (ticket_id));
diesel::joinable!(sessions -> users (solver_id));
diesel::joinable!(staff_email_codes -> users (user_id));
diesel::joinable!(support_requests -> activity_sessions (activity_session_id));
diesel::joinable!(support_requests -> projects (project_id));
diesel::joinable!(tickets -> projects (project_id));
diesel::joinable!(tickets -> users (solver_id));
diesel::joinable!(tool_calls -> activity_sessions (activity_session_id));
diesel::joinable!(tool_calls -> projects (project_id));
diesel::joinable!(visitors -> projects (project_id));

diesel::allow_tables_to_appear_in_same_query!(
    activity_sessions,
    agent_availability,
    auth_tokens,
    canned_responses,
    conversations,
    customers,
    handoff_settings,
    identity_codes,
    instance_emails,
    knowledge_entries,
    leads,
    messages,
    outbound_emails,
    payments,
    project_members,
    projects,
    session_messages,
    session_sms,
    sessions,
    staff_email_codes,
    support_requests,
    tickets,
    tool_calls,
    users,
    visitors,
);
