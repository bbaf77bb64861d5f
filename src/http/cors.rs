//! CORS for what the widget calls from customers' own sites (docs/protocol.md
//! section 2): the widget endpoints, the customer's conversation endpoints
//! and the WebSocket. Staff endpoints send no CORS headers, so a browser
//! page on another origin cannot call them.
//!
//! The headers are sent to any origin: a preflight carries no credential,
//! so the project is not known here. A project's allowed-origins list (set
//! with `PUT /api/projects/:id/widget`; empty means any origin) is enforced
//! where the credential is read (`origins.rs`): a request from a site not
//! on the list is refused 403 and changes nothing.

use actix_web::body::EitherBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{Error, HttpResponse};

/// Paths a widget on another origin may call.
pub fn widget_facing(path: &str) -> bool {
    if path.starts_with("/api/widget/") || path == "/ws" {
        return true;
    }
    let Some(rest) = path.strip_prefix("/api/conversations/") else {
        return false;
    };
    let mut parts = rest.split('/');
    let _id = parts.next();
    matches!(
        (parts.next(), parts.next()),
        (None, _)
            | (Some("messages"), None)
            | (Some("handoff"), None)
            | (Some("close"), None)
            | (Some("offline-form"), None)
            | (Some("rating"), None)
    )
}

fn allow(headers: &mut header::HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}

pub async fn middleware(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl actix_web::body::MessageBody>>, Error> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let facing = widget_facing(req.path());
    match origin {
        Some(origin) if facing && req.method() == Method::OPTIONS => {
            let mut res = HttpResponse::NoContent().finish();
            let h = res.headers_mut();
            allow(h, &origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type, x-project-key"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            Ok(req.into_response(res).map_into_right_body())
        }
        Some(origin) if facing => {
            let mut res = next.call(req).await?;
            allow(res.headers_mut(), &origin);
            Ok(res.map_into_left_body())
        }
        _ => Ok(next.call(req).await?.map_into_left_body()),
    }
}

#[cfg(test)]
mod tests {
    use super::widget_facing;

    #[test]
    fn only_customer_paths_face_the_widget() {
        assert!(widget_facing("/api/widget/availability"));
        assert!(widget_facing("/api/conversations/abc"));
        assert!(widget_facing("/api/conversations/abc/messages"));
        assert!(widget_facing("/api/conversations/abc/handoff"));
        assert!(widget_facing("/ws"));
        assert!(!widget_facing("/api/conversations/abc/claim"));
        assert!(!widget_facing("/api/conversations/abc/notes"));
        assert!(!widget_facing("/api/conversations"));
        assert!(!widget_facing("/api/projects"));
        assert!(!widget_facing("/api/auth/login"));
    }
}
