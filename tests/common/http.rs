//! The HTTP client of the tests: one request and its answer, the verbs as
//! the bearer of a token, and logging in.

use super::TestApp;
use awc::http::Method;
use serde_json::{json, Value};

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    ProjectKey(&'a str),
}

impl TestApp {
    // ----- raw HTTP -------------------------------------------------------

    pub(super) fn request(&self, method: Method, path: &str, auth: Auth<'_>) -> awc::ClientRequest {
        let req = self.client.request(method, self.url(path));
        match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
            Auth::ProjectKey(k) => req.insert_header(("X-Project-Key", k.to_string())),
        }
    }

    pub(super) async fn finish(send: awc::SendClientRequest) -> (u16, Value) {
        let (status, _, body) = Self::finish_with_headers(send).await;
        (status, body)
    }

    /// The status, the response's headers and its body (JSON, or the text
    /// when it is not JSON; Null when empty).
    pub(super) async fn finish_with_headers(
        send: awc::SendClientRequest,
    ) -> (u16, awc::http::header::HeaderMap, Value) {
        let mut resp = match send.await {
            Ok(r) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.body().limit(16 << 20).await.expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, headers, body)
    }

    /// One request with an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, _, body) = self.call_with_headers(method, path, auth, body, &[]).await;
        (status, body)
    }

    /// One request with an optional JSON body; also returns the value of
    /// the response header `header` (e.g. `Retry-After`).
    pub async fn call_with_header(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        header: &str,
    ) -> (u16, Option<String>, Value) {
        let (status, headers, body) = self.call_with_headers(method, path, auth, body, &[]).await;
        let value = headers
            .get(header)
            .map(|v| v.to_str().expect("header text").to_string());
        (status, value, body)
    }

    /// One request with extra headers; returns the status, the response's
    /// headers and its body.
    pub async fn call_with_headers(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, awc::http::header::HeaderMap, Value) {
        let mut req = self.request(method, path, auth);
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let send = match body {
            Some(b) => req.send_json(&b),
            None => req.send(),
        };
        Self::finish_with_headers(send).await
    }

    /// One request with a raw body sent as `application/json`, for
    /// malformed input.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        raw: &str,
    ) -> (u16, Value) {
        let res = self
            .request(method, path, auth)
            .content_type("application/json")
            .send_body(raw.to_string());
        Self::finish(res).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Auth::Bearer(token), None)
            .await
    }

    /// GET that must answer 200 (a failure names `what`); the body.
    pub async fn get_ok(&self, path: &str, token: &str, what: &str) -> Value {
        let (status, body) = self.get(path, token).await;
        assert_eq!(status, 200, "{what}: {body}");
        body
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Auth::Bearer(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Auth::Bearer(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Auth::Bearer(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, Auth::Bearer(token), None)
            .await
    }

    // ----- identity and projects -------------------------------------------

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/auth/login",
                Auth::None,
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, 200, "login of {email}: {body}");
        body["token"].as_str().expect("login token").to_string()
    }

    /// A login that may fail, from client address `from` (sent as
    /// X-Forwarded-For): `(status, body)`. A 429 must carry Retry-After.
    pub async fn login_attempt(
        &self,
        email: &str,
        password: &str,
        from: Option<&str>,
    ) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = from.map(|a| ("x-forwarded-for", a)).into_iter().collect();
        let (status, h, body) = self
            .call_with_headers(
                Method::POST,
                "/api/auth/login",
                Auth::None,
                Some(json!({ "email": email, "password": password })),
                &headers,
            )
            .await;
        if status == 429 {
            assert_eq!(body["error"], json!("RATE_LIMITED"), "{body}");
            let retry = h
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            assert!(
                retry.is_some_and(|s| s >= 1),
                "429 without Retry-After: {body}"
            );
        }
        (status, body)
    }
}
