//! Log-in, log-out and the language switch.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::users::UserPatch;
use kartoteka_app::{App, AppError};
use serde::Deserialize;

use super::i18n::Lang;
use super::{UiSession, render};
use crate::auth::{SESSION_COOKIE, cookie};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    next: String,
    username: String,
    message: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// Only local paths may follow a log-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/records".into(),
    }
}

fn lang_of(headers: &HeaderMap, explicit: Option<&str>) -> Lang {
    match explicit {
        Some(l) => Lang::parse(l),
        None => {
            let accept = headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if accept.trim_start().to_lowercase().starts_with("pl") {
                Lang::Pl
            } else {
                Lang::En
            }
        }
    }
}

pub async fn page(headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    render(&LoginPage {
        lang: lang_of(&headers, q.lang.as_deref()),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        message: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers, None);
    match app.log_in(&f.username, &f.password).await {
        Ok(s) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                s.token, app.settings.session_ttl_secs
            );
            let mut r = Redirect::to(&safe_next(f.next.as_deref())).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            let message = match e {
                AppError::TooManyRequests { .. } => "login.throttled",
                _ => "login.wrong",
            };
            let mut r = render(&LoginPage {
                lang,
                next: safe_next(f.next.as_deref()),
                username: f.username,
                message: Some(lang.t(message)),
            });
            *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            r
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
    locale: Option<String>,
}

pub async fn log_out(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, f.csrf.as_deref()) {
        return r;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let _ = app.log_out(&token).await;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "kartoteka_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    r
}

/// Switches the interface language of the user (kept on the user, so it follows them).
pub async fn set_locale(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, f.csrf.as_deref()) {
        return r;
    }
    let patch = UserPatch {
        locale: f.locale,
        ..UserPatch::default()
    };
    if let Err(e) = app.update_user(&s.actor, &s.actor.username, patch).await {
        return super::error_page(&s, &e);
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        });
    Redirect::to(&safe_next(back.as_deref())).into_response()
}
