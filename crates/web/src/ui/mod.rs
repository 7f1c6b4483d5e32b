//! The web UI: server-rendered pages (askama) with htmx for partial updates. Screens call
//! the same app layer as the API; each page has a partial for htmx requests.

mod admin;
mod card;
mod card_cases;
mod card_form;
mod card_save;
mod duplicates;
mod duplicates_bulk;
mod duplicates_merge;
mod duplicates_ops;
mod duplicates_results;
mod exports;
pub mod i18n;
mod i18n_admin;
mod i18n_cases;
mod i18n_duplicates;
mod i18n_filter;
mod i18n_imports;
mod imports;
mod imports_mapping;
mod list;
mod list_bulk;
mod list_filter;
mod list_views;
mod live;
mod login;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kartoteka_app::{Actor, App, AppError};

use crate::auth::{SESSION_COOKIE, cookie};
use i18n::Lang;

pub fn router() -> Router<App> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/records") }))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::log_out))
        .route("/me/locale", post(login::set_locale))
        .route("/records", get(list::page))
        .route(
            "/records/columns",
            post(list::save_columns_form).put(list::save_columns_json),
        )
        .route("/records/criterion", get(list_filter::criterion))
        .route("/records/views", post(list_views::save_view))
        .route("/records/views/{id}/delete", post(list_views::delete_view))
        .route("/records/bulk", post(list_bulk::submit))
        .route("/jobs/{id}/progress", get(list_bulk::progress))
        .route("/jobs/{id}/cancel", post(list_bulk::cancel))
        .route("/records/new", get(card::new_page).post(card_save::create))
        .route("/records/{id}", get(card::page).post(card_save::save))
        .route("/records/{id}/events", get(live::card_events))
        .route("/records/{id}/delete", post(card_save::delete))
        .route("/records/{id}/memberships", post(card_save::memberships))
        .route("/records/{id}/cases", get(card_cases::list))
        .route(
            "/records/{id}/cases/{campaign}",
            get(card_cases::form).post(card_cases::save),
        )
        .route("/imports", get(imports::page))
        .route("/imports/uploads", post(imports::upload))
        .route("/imports/uploads/{id}", get(imports_mapping::page))
        .route(
            "/imports/uploads/{id}/preview",
            post(imports_mapping::preview),
        )
        .route(
            "/imports/uploads/{id}/field",
            post(imports_mapping::new_field),
        )
        .route("/imports/uploads/{id}/start", post(imports_mapping::start))
        .route("/imports/{id}", get(imports::report))
        .route("/imports/{id}/panel", get(imports::panel))
        .route("/imports/{id}/revert", post(imports::revert))
        .route("/imports/{id}/failures.csv", get(imports::failures_csv))
        .route("/imports/{id}/failures.xlsx", get(imports::failures_xlsx))
        .route("/exports", post(exports::start))
        .route("/exports/{id}", get(exports::page))
        .route("/exports/{id}/panel", get(exports::panel))
        .route("/duplicates", get(duplicates::page).post(duplicates::start))
        .route(
            "/duplicates/merge",
            get(duplicates_merge::selection_page).post(duplicates_merge::apply),
        )
        .route("/duplicates/merge/preview", post(duplicates_merge::preview))
        .route("/duplicates/operations", get(duplicates_ops::page))
        .route(
            "/duplicates/operations/{id}/undo",
            post(duplicates_ops::undo),
        )
        .route("/duplicates/{id}", get(duplicates_results::results))
        .route("/duplicates/{id}/bulk", post(duplicates_bulk::bulk))
        .route(
            "/duplicates/{id}/bulk/{job}",
            get(duplicates_bulk::bulk_progress),
        )
        .route(
            "/duplicates/{id}/groups/{position}",
            get(duplicates_merge::group_page),
        )
        .route("/downloads", get(exports::downloads))
        .route("/downloads/{id}", get(exports::download))
        .route("/static/{*file}", get(asset))
        .merge(admin::router())
}

/// What every page's frame needs.
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
    pub display_name: String,
    pub section: &'static str,
    /// Administration link: administrators and managers.
    pub may_configure: bool,
    /// Import and downloads links: those with the record base.
    pub may_import: bool,
}

/// A logged-in person using the UI. Without a session, pages redirect to the log-in.
pub struct UiSession {
    pub actor: Actor,
    pub lang: Lang,
    pub csrf: String,
    pub display_name: String,
    pub time_zone: String,
}

impl UiSession {
    pub fn page(&self, section: &'static str) -> PageCtx {
        PageCtx {
            lang: self.lang,
            csrf: self.csrf.clone(),
            display_name: self.display_name.clone(),
            section,
            may_configure: self.actor.may_configure(),
            may_import: self.actor.may_use_record_base(),
        }
    }

    /// Forms carry the session's CSRF token (cookies are SameSite=Strict as well); the
    /// answer to send back when the token is wrong.
    pub fn csrf_rejection(
        &self,
        headers: &HeaderMap,
        form_value: Option<&str>,
    ) -> Option<Response> {
        let sent = headers
            .get(crate::auth::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .or(form_value)
            .unwrap_or_default();
        if sent.len() == self.csrf.len()
            && sent
                .bytes()
                .zip(self.csrf.bytes())
                .fold(0u8, |a, (x, y)| a | (x ^ y))
                == 0
        {
            None
        } else {
            Some(
                (
                    StatusCode::FORBIDDEN,
                    "The form expired; reload the page and try again.",
                )
                    .into_response(),
            )
        }
    }
}

impl FromRequestParts<App> for UiSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/records");
            let target = format!("/login?next={}", encode(next));
            if parts.headers.contains_key("hx-request") {
                // htmx follows this header with a full page load.
                ([("hx-redirect", target)], StatusCode::UNAUTHORIZED).into_response()
            } else {
                Redirect::to(&target).into_response()
            }
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match app.session(&token).await {
            Ok(s) => Ok(UiSession {
                lang: Lang::parse(&s.user.locale),
                csrf: s.csrf_token,
                display_name: s.user.display_name.clone(),
                time_zone: s.user.time_zone.clone(),
                actor: s.actor,
            }),
            Err(_) => Err(to_login()),
        }
    }
}

/// Percent-encodes a path and query for use inside a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: PageCtx,
    message: &'a str,
}

/// An app error as a page.
pub fn error_page(s: &UiSession, e: &AppError) -> Response {
    let (status, key) = match e {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "error.not_found"),
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "error.forbidden"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "error.unexpected"),
    };
    let mut r = render(&ErrorPage {
        page: s.page("records"),
        message: s.lang.t(key),
    });
    *r.status_mut() = status;
    r
}

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_str!("../../static/admin.css"),
    ),
    (
        "imports.css",
        "text/css; charset=utf-8",
        include_str!("../../static/imports.css"),
    ),
    (
        "duplicates.css",
        "text/css; charset=utf-8",
        include_str!("../../static/duplicates.css"),
    ),
    (
        "duplicates.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/duplicates.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "vendor/htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/vendor/htmx-2.0.11.min.js"),
    ),
    (
        "vendor/htmx-ext-sse-2.2.4.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/vendor/htmx-ext-sse-2.2.4.min.js"),
    ),
];

/// Static files, compiled into the binary.
async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The first value of `name` among a form's or a query's pairs.
pub(crate) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
