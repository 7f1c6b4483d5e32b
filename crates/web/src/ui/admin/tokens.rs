//! API tokens (administrators only): list, create for a user (the secret shown once), revoke.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kartoteka_app::{App, AppError};
use kartoteka_domain::record::FieldError;

use super::users::role_label;
use super::{
    AdminNav, Errors, Need, Opt, Saved, fail, guard, local_rfc, notice, post_guard, redirect,
    render, text, with_status,
};
use crate::ui::{PageCtx, UiSession};

pub struct TokenRow {
    pub prefix: String,
    pub username: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
    pub revoke_action: String,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct ListPage {
    page: PageCtx,
    nav: AdminNav,
    rows: Vec<TokenRow>,
    users: Vec<Opt>,
    name: String,
    errors: Errors,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "admin_token_created.html")]
struct CreatedPage {
    page: PageCtx,
    nav: AdminNav,
    secret: String,
    prefix: String,
    username: String,
    name: String,
}

async fn build(
    app: &App,
    s: &UiSession,
    user: &str,
    name: String,
    errors: &[FieldError],
) -> Result<ListPage, AppError> {
    let (tokens, users) = (
        app.list_tokens(&s.actor).await?,
        app.list_users(&s.actor).await?,
    );
    // Newest first.
    let rows = tokens
        .iter()
        .rev()
        .map(|t| TokenRow {
            prefix: t.prefix.clone(),
            username: t.username.clone(),
            name: t.name.clone(),
            created: local_rfc(&t.created_at, &s.time_zone),
            last_used: t
                .last_used_at
                .as_deref()
                .map(|l| local_rfc(l, &s.time_zone))
                .unwrap_or_else(|| s.lang.t("admin.tokens.never").into()),
            revoked: t.revoked,
            revoke_action: format!("/admin/tokens/{}/revoke", t.id),
        })
        .collect();
    let users = users
        .iter()
        .filter(|u| u.active)
        .map(|u| {
            Opt::new(
                &u.username,
                &format!(
                    "{} ({}, {})",
                    u.display_name,
                    u.username,
                    role_label(s.lang, &u.role)
                ),
                u.username == user,
            )
        })
        .collect();
    Ok(ListPage {
        page: s.page("admin"),
        nav: AdminNav::of(s, "tokens"),
        rows,
        users,
        name,
        errors: Errors::new(s.lang, errors, &["username", "name"]),
        notice: None,
    })
}

pub async fn list(State(app): State<App>, s: UiSession, Query(q): Query<Saved>) -> Response {
    if let Some(r) = guard(&s, Need::Administer) {
        return r;
    }
    match build(&app, &s, "", String::new(), &[]).await {
        Ok(mut p) => {
            p.notice = notice(s.lang, q.saved.as_deref());
            render(&p)
        }
        Err(e) => fail(&s, &e),
    }
}

pub async fn create(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Administer) {
        return r;
    }
    let (user, name) = (text(&pairs, "username"), text(&pairs, "name"));
    let errors = if user.is_empty() {
        vec![Errors::one("username", "required", "choose a user")]
    } else {
        match app.create_token(&s.actor, &user, &name).await {
            Ok(created) => {
                return render(&CreatedPage {
                    page: s.page("admin"),
                    nav: AdminNav::of(&s, "tokens"),
                    secret: created.secret,
                    prefix: created.token.prefix,
                    username: created.token.username,
                    name: created.token.name,
                });
            }
            Err(AppError::Validation(e)) => e,
            Err(e) => return fail(&s, &e),
        }
    };
    match build(&app, &s, &user, name, &errors).await {
        Ok(p) => with_status(render(&p), StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => fail(&s, &e),
    }
}

pub async fn revoke(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Administer) {
        return r;
    }
    match app.revoke_token(&s.actor, id).await {
        Ok(()) => redirect("/admin/tokens?saved=revoked"),
        Err(e) => fail(&s, &e),
    }
}
