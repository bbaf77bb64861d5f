DROP TABLE support_requests;
DROP TABLE tool_calls;
DROP TABLE activity_sessions;
