//! Administration screens: custom fields, dictionaries, campaigns, segments, users, API
//! tokens, the audit log.
//!
//! Managers and administrators configure fields, dictionaries, campaigns and segments;
//! users, tokens and the
//! audit log are for administrators. The app layer checks roles on every write; these
//! screens check them as well before showing anything, and answer agents with a 403 page.

mod audit;
mod dictionaries;
mod fields;
mod groups;
mod tokens;
mod users;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kartoteka_app::{App, AppError};
use kartoteka_domain::record::FieldError;

use super::i18n::Lang;
use super::{PageCtx, UiSession, render};

pub fn router() -> Router<App> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/fields", get(fields::list).post(fields::create))
        .route("/admin/fields/new", get(fields::new_page))
        .route(
            "/admin/fields/{key}/edit",
            get(fields::edit_page).post(fields::update),
        )
        .route("/admin/fields/{key}/delete", post(fields::delete))
        .route("/admin/dictionaries", get(dictionaries::page))
        .route(
            "/admin/dictionaries/{name}/entries",
            post(dictionaries::add),
        )
        .route(
            "/admin/dictionaries/{name}/entries/{code}",
            post(dictionaries::update),
        )
        .route(
            "/admin/dictionaries/{name}/entries/{code}/delete",
            post(dictionaries::delete),
        )
        .route("/admin/campaigns", get(groups::list).post(groups::create))
        .route(
            "/admin/campaigns/{id}/edit",
            get(groups::edit_page).post(groups::update),
        )
        .route("/admin/campaigns/{id}/delete", post(groups::delete))
        .route("/admin/segments", get(groups::list).post(groups::create))
        .route(
            "/admin/segments/{id}/edit",
            get(groups::edit_page).post(groups::update),
        )
        .route("/admin/segments/{id}/delete", post(groups::delete))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/new", get(users::new_page))
        .route(
            "/admin/users/{username}/edit",
            get(users::edit_page).post(users::update),
        )
        .route("/admin/users/{username}/delete", post(users::delete))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route("/admin/audit", get(audit::page))
}

/// The section links of the administration screens, as far as the role reaches.
pub struct AdminNav {
    pub is_admin: bool,
    pub current: &'static str,
}

impl AdminNav {
    fn of(s: &UiSession, current: &'static str) -> AdminNav {
        AdminNav {
            is_admin: s.actor.may_administer(),
            current,
        }
    }
}

/// Who may open which screen.
#[derive(Clone, Copy)]
enum Need {
    /// Custom fields, dictionaries, campaigns and segments: administrators and managers.
    Configure,
    /// Users, API tokens, the audit log: administrators.
    Administer,
}

/// The 403 page when the role does not reach the screen.
fn guard(s: &UiSession, need: Need) -> Option<Response> {
    let ok = match need {
        Need::Configure => s.actor.may_configure(),
        Need::Administer => s.actor.may_administer(),
    };
    (!ok).then(|| fail(s, &AppError::Forbidden("not for this role".into())))
}

/// The checks every POST does first: the form's CSRF token, then the role.
fn post_guard(
    s: &UiSession,
    headers: &axum::http::HeaderMap,
    pairs: &[(String, String)],
    need: Need,
) -> Option<Response> {
    s.csrf_rejection(headers, value(pairs, "csrf"))
        .or_else(|| guard(s, need))
}

#[derive(Template)]
#[template(path = "admin_error.html")]
struct ErrorPage {
    page: PageCtx,
    message: String,
    back: bool,
}

/// An app error as a page of the administration (403, 404, 409 or 500).
fn fail(s: &UiSession, e: &AppError) -> Response {
    let (status, message) = match e {
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, s.lang.t("error.forbidden").into()),
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, s.lang.t("admin.not_found").into()),
        AppError::Conflict { message, .. } => (StatusCode::CONFLICT, message.clone()),
        AppError::Validation(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, s.lang.error(&e.code, &e.message)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            s.lang.t("error.unexpected").into(),
        ),
    };
    with_status(
        render(&ErrorPage {
            page: s.page("admin"),
            back: status != StatusCode::FORBIDDEN,
            message,
        }),
        status,
    )
}

fn with_status(mut r: Response, status: StatusCode) -> Response {
    *r.status_mut() = status;
    r
}

fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Validation errors of a form: the message beside each input, and the ones no input shows.
#[derive(Default)]
pub struct Errors {
    by_field: Vec<(String, String)>,
    /// Errors of fields the form has no input for, shown at the top.
    pub rest: Vec<String>,
}

impl Errors {
    fn new(lang: Lang, errors: &[FieldError], shown: &[&str]) -> Errors {
        let mut out = Errors::default();
        for e in errors {
            let text = lang.error(&e.code, &e.message);
            if shown.contains(&e.field.as_str()) {
                out.by_field.push((e.field.clone(), text));
            } else {
                out.rest.push(format!("{}: {text}", e.field));
            }
        }
        out
    }

    fn one(field: &str, code: &str, message: &str) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    /// The message beside `field`'s input.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.by_field
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn any(&self) -> bool {
        !self.by_field.is_empty() || !self.rest.is_empty()
    }
}

/// A form value by name.
fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A form value, trimmed, empty when absent.
fn text(pairs: &[(String, String)], key: &str) -> String {
    value(pairs, key).unwrap_or_default().trim().to_string()
}

/// A checkbox: present means checked.
fn checked(pairs: &[(String, String)], key: &str) -> bool {
    value(pairs, key).is_some()
}

/// Every value of a repeated name (checkbox groups).
fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// One path segment, percent-encoded (a dictionary code may hold any character).
pub fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn zone(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::Europe::Warsaw)
}

/// UTC milliseconds as the user reads them: `2026-11-23 14:05:09` in their zone.
fn local_ms(ms: i64, tz: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| {
            d.with_timezone(&zone(tz))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// An RFC 3339 instant as the user reads it: `2026-11-23 14:05` in their zone.
fn local_rfc(rfc3339: &str, tz: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|d| {
            d.with_timezone(&zone(tz))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A choice of a select or a checkbox group, with its state precomputed for the template.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
}

impl Opt {
    fn new(value: &str, label: &str, on: bool) -> Opt {
        Opt {
            value: value.into(),
            label: label.into(),
            on,
        }
    }
}

/// A notice after a redirect (`?saved=…`).
fn notice(lang: Lang, saved: Option<&str>) -> Option<&'static str> {
    saved.map(|k| match k {
        "created" => lang.t("admin.created"),
        "deleted" => lang.t("admin.deleted"),
        "revoked" => lang.t("admin.revoked"),
        _ => lang.t("admin.saved"),
    })
}

#[derive(serde::Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

pub struct Section {
    pub href: &'static str,
    pub title: &'static str,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "admin_index.html")]
struct IndexPage {
    page: PageCtx,
    nav: AdminNav,
    sections: Vec<Section>,
}

/// The overview: the sections this role may open.
async fn index(State(_app): State<App>, s: UiSession) -> Response {
    if let Some(r) = guard(&s, Need::Configure) {
        return r;
    }
    let t = |k: &str| s.lang.t(k);
    let mut sections = vec![
        Section {
            href: "/admin/fields",
            title: t("admin.fields.title"),
            text: t("admin.fields.about"),
        },
        Section {
            href: "/admin/dictionaries",
            title: t("admin.dict.title"),
            text: t("admin.dict.about"),
        },
        Section {
            href: "/admin/campaigns",
            title: t("admin.campaigns.title"),
            text: t("admin.campaigns.about"),
        },
        Section {
            href: "/admin/segments",
            title: t("admin.segments.title"),
            text: t("admin.segments.about"),
        },
    ];
    if s.actor.may_administer() {
        sections.extend([
            Section {
                href: "/admin/users",
                title: t("admin.users.title"),
                text: t("admin.users.about"),
            },
            Section {
                href: "/admin/tokens",
                title: t("admin.tokens.title"),
                text: t("admin.tokens.about"),
            },
            Section {
                href: "/admin/audit",
                title: t("admin.audit.title"),
                text: t("admin.audit.about"),
            },
        ]);
    }
    render(&IndexPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, "index"),
        sections,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_path_segment_keeps_no_slash_or_space() {
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
        assert_eq!(seg("łódź"), "%C5%82%C3%B3d%C5%BA");
        assert_eq!(seg("jan.kowalski@x-y_z"), "jan.kowalski%40x-y_z");
    }

    #[test]
    fn instants_show_in_the_users_zone() {
        // 2026-01-15 12:00:00 UTC is 13:00 in Warsaw (winter time).
        assert_eq!(
            local_ms(1_768_478_400_000, "Europe/Warsaw"),
            "2026-01-15 13:00:00"
        );
        assert_eq!(
            local_rfc("2026-07-01T10:00:00.000Z", "Europe/Warsaw"),
            "2026-07-01 12:00"
        );
    }
}
