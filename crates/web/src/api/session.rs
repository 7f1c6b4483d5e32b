//! /api/v1/session and /api/v1/me: cookie log-in for the web UI.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kartoteka_app::App;
use kartoteka_app::users::UserView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::JsonBody;
use crate::auth::{Caller, SESSION_COOKIE, Via, cookie};
use crate::problem::ApiResult;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(log_in, log_out))
        .routes(routes!(me))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    user: UserView,
    /// Send as `X-CSRF-Token` on every change made with the session cookie.
    csrf_token: Option<String>,
}

/// Log in: sets an HttpOnly, SameSite=Strict session cookie. Repeated failures are throttled (429).
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = Credentials, security(()),
    responses((status = 200, body = SessionView), (status = 401), (status = 429)))]
async fn log_in(State(app): State<App>, JsonBody(c): JsonBody<Credentials>) -> ApiResult<Response> {
    let s = app.log_in(&c.username, &c.password).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        s.token, app.settings.session_ttl_secs
    );
    let mut resp = Json(SessionView {
        user: UserView::from(&s.user),
        csrf_token: Some(s.csrf_token),
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Log out: ends the session.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204)))]
async fn log_out(
    State(app): State<App>,
    _caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        app.log_out(&token).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "kartoteka_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(resp)
}

/// Who am I (and the CSRF token of my session).
#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = SessionView), (status = 401)))]
async fn me(State(app): State<App>, caller: Caller) -> ApiResult<Json<SessionView>> {
    let user = app.get_user(&caller.actor, &caller.actor.username).await?;
    let csrf_token = match caller.via {
        Via::Session { csrf_token } => Some(csrf_token),
        Via::Token => None,
    };
    Ok(Json(SessionView { user, csrf_token }))
}
