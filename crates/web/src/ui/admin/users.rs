//! Users, their roles and permissions (administrators only).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kartoteka_app::users::{NewUser, UserPatch, UserView};
use kartoteka_app::{App, AppError};
use kartoteka_domain::access::{Permission, Role};
use kartoteka_domain::record::FieldError;

use super::{
    AdminNav, Errors, Need, Opt, Saved, all, checked, fail, guard, local_rfc, notice, post_guard,
    redirect, render, seg, text, with_status,
};
use crate::ui::i18n::Lang;
use crate::ui::{PageCtx, UiSession};

const INPUTS: [&str; 9] = [
    "username",
    "display_name",
    "email",
    "role",
    "permissions",
    "active",
    "locale",
    "time_zone",
    "password",
];

pub struct UserRow {
    pub username: String,
    pub href: String,
    pub display_name: String,
    pub email: String,
    pub role: &'static str,
    pub permissions: String,
    pub active: bool,
    pub locale: String,
    pub created: String,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct ListPage {
    page: PageCtx,
    nav: AdminNav,
    rows: Vec<UserRow>,
    notice: Option<&'static str>,
}

pub struct UserForm {
    pub creating: bool,
    pub action: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub time_zone: String,
    pub active: bool,
    pub is_self: bool,
}

pub struct Deletion {
    pub action: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_user_form.html")]
struct FormPage {
    page: PageCtx,
    nav: AdminNav,
    f: UserForm,
    roles: Vec<Opt>,
    permissions: Vec<Opt>,
    locales: Vec<Opt>,
    errors: Errors,
    notice: Option<&'static str>,
    deletion: Option<Deletion>,
}

#[derive(Template)]
#[template(path = "admin_user_created.html")]
struct CreatedPage {
    page: PageCtx,
    nav: AdminNav,
    username: String,
    edit_href: String,
    display_name: String,
    role: &'static str,
    /// The generated password, shown this once.
    password: Option<String>,
    integration: bool,
}

pub fn role_label(lang: Lang, role: &str) -> &'static str {
    match Role::parse(role) {
        Ok(r) => lang.t(&format!("admin.role.{}", r.as_str())),
        Err(_) => lang.t("none"),
    }
}

fn permission_label(lang: Lang, p: &str) -> &'static str {
    match Permission::parse(p) {
        Ok(p) => lang.t(&format!("admin.perm.{}", p.as_str())),
        Err(_) => lang.t("none"),
    }
}

fn roles(lang: Lang, selected: &str) -> Vec<Opt> {
    Role::ALL
        .iter()
        .map(|r| {
            Opt::new(
                r.as_str(),
                role_label(lang, r.as_str()),
                r.as_str() == selected,
            )
        })
        .collect()
}

fn permissions(lang: Lang, granted: &[String]) -> Vec<Opt> {
    Permission::ALL
        .iter()
        .map(|p| {
            Opt::new(
                p.as_str(),
                permission_label(lang, p.as_str()),
                granted.iter().any(|g| g == p.as_str()),
            )
        })
        .collect()
}

fn locales(selected: &str) -> Vec<Opt> {
    [("en", "English"), ("pl", "Polski")]
        .iter()
        .map(|(v, l)| Opt::new(v, l, *v == selected))
        .collect()
}

pub async fn list(State(app): State<App>, s: UiSession, Query(q): Query<Saved>) -> Response {
    if let Some(r) = guard(&s, Need::Administer) {
        return r;
    }
    let users = match app.list_users(&s.actor).await {
        Ok(u) => u,
        Err(e) => return fail(&s, &e),
    };
    let rows = users
        .iter()
        .map(|u| UserRow {
            href: format!("/admin/users/{}/edit", seg(&u.username)),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone().unwrap_or_default(),
            role: role_label(s.lang, &u.role),
            permissions: u
                .permissions
                .iter()
                .map(|p| permission_label(s.lang, p))
                .collect::<Vec<_>>()
                .join(", "),
            active: u.active,
            locale: u.locale.clone(),
            created: local_rfc(&u.created_at, &s.time_zone),
            is_self: u.username == s.actor.username,
        })
        .collect();
    render(&ListPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, "users"),
        rows,
        notice: notice(s.lang, q.saved.as_deref()),
    })
}

pub async fn new_page(s: UiSession) -> Response {
    if let Some(r) = guard(&s, Need::Administer) {
        return r;
    }
    render(&FormPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, "users"),
        f: UserForm {
            creating: true,
            action: "/admin/users".into(),
            username: String::new(),
            display_name: String::new(),
            email: String::new(),
            time_zone: String::new(),
            active: true,
            is_self: false,
        },
        roles: roles(s.lang, "agent"),
        permissions: permissions(s.lang, &[]),
        locales: locales(s.lang.code()),
        errors: Errors::default(),
        notice: None,
        deletion: None,
    })
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
    let new = NewUser {
        username: text(&pairs, "username"),
        display_name: Some(text(&pairs, "display_name")).filter(|d| !d.is_empty()),
        email: Some(text(&pairs, "email")).filter(|e| !e.is_empty()),
        role: text(&pairs, "role"),
        permissions: all(&pairs, "permissions"),
        // Passwords are taken as typed (spaces included); empty means "generate one".
        password: super::value(&pairs, "password")
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        locale: Some(text(&pairs, "locale")).filter(|l| !l.is_empty()),
        time_zone: Some(text(&pairs, "time_zone")).filter(|z| !z.is_empty()),
    };
    let form = UserForm {
        creating: true,
        action: "/admin/users".into(),
        username: new.username.clone(),
        display_name: new.display_name.clone().unwrap_or_default(),
        email: new.email.clone().unwrap_or_default(),
        time_zone: new.time_zone.clone().unwrap_or_default(),
        active: true,
        is_self: false,
    };
    let (role, perms, locale) = (
        new.role.clone(),
        new.permissions.clone(),
        new.locale.clone().unwrap_or_default(),
    );
    let errors = match app.create_user(&s.actor, new).await {
        Ok(created) => {
            return render(&CreatedPage {
                page: s.page("admin"),
                nav: AdminNav::of(&s, "users"),
                integration: created.user.role == Role::Integration.as_str(),
                role: role_label(s.lang, &created.user.role),
                edit_href: format!("/admin/users/{}/edit", seg(&created.user.username)),
                username: created.user.username,
                display_name: created.user.display_name,
                password: created.password,
            });
        }
        Err(AppError::Validation(e)) => e,
        Err(e) => return fail(&s, &e),
    };
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, "users"),
            f: form,
            roles: roles(s.lang, &role),
            permissions: permissions(s.lang, &perms),
            locales: locales(&locale),
            errors: Errors::new(s.lang, &errors, &INPUTS),
            notice: None,
            deletion: None,
        }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

fn edit_form(u: &UserView, s: &UiSession) -> UserForm {
    UserForm {
        creating: false,
        action: format!("/admin/users/{}/edit", seg(&u.username)),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone().unwrap_or_default(),
        time_zone: u.time_zone.clone(),
        active: u.active,
        is_self: u.username == s.actor.username,
    }
}

fn deletion(u: &str) -> Deletion {
    Deletion {
        action: format!("/admin/users/{}/delete", seg(u)),
        error: None,
    }
}

pub async fn edit_page(
    State(app): State<App>,
    s: UiSession,
    Path(username): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    if let Some(r) = guard(&s, Need::Administer) {
        return r;
    }
    let u = match app.get_user(&s.actor, &username).await {
        Ok(u) => u,
        Err(e) => return fail(&s, &e),
    };
    render(&FormPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, "users"),
        f: edit_form(&u, &s),
        roles: roles(s.lang, &u.role),
        permissions: permissions(s.lang, &u.permissions),
        locales: locales(&u.locale),
        errors: Errors::default(),
        notice: notice(s.lang, q.saved.as_deref()),
        deletion: (u.username != s.actor.username).then(|| deletion(&u.username)),
    })
}

pub async fn update(
    State(app): State<App>,
    s: UiSession,
    Path(username): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Administer) {
        return r;
    }
    let u = match app.get_user(&s.actor, &username).await {
        Ok(u) => u,
        Err(e) => return fail(&s, &e),
    };
    let own = u.username == s.actor.username;
    let password = super::value(&pairs, "password")
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let patch = UserPatch {
        display_name: Some(text(&pairs, "display_name")),
        email: Some(text(&pairs, "email")),
        role: Some(text(&pairs, "role")),
        permissions: Some(all(&pairs, "permissions")),
        active: Some(checked(&pairs, "active")),
        // One's own password is changed with the current one, not here.
        password: if own { None } else { password },
        current_password: None,
        locale: Some(text(&pairs, "locale")),
        time_zone: Some(text(&pairs, "time_zone")),
    };
    let mut form = edit_form(&u, &s);
    form.display_name = text(&pairs, "display_name");
    form.email = text(&pairs, "email");
    form.time_zone = text(&pairs, "time_zone");
    form.active = checked(&pairs, "active");
    let (role, perms, locale) = (
        text(&pairs, "role"),
        all(&pairs, "permissions"),
        text(&pairs, "locale"),
    );
    let mut errors: Vec<FieldError> = Vec::new();
    if form.display_name.is_empty() {
        errors.push(super::Errors::one(
            "display_name",
            "required",
            "a display name is required",
        ));
    } else {
        match app.update_user(&s.actor, &username, patch).await {
            Ok(_) => {
                return redirect(&format!("/admin/users/{}/edit?saved=1", seg(&username)));
            }
            Err(AppError::Validation(e)) => errors = e,
            Err(e) => return fail(&s, &e),
        }
    }
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, "users"),
            f: form,
            roles: roles(s.lang, &role),
            permissions: permissions(s.lang, &perms),
            locales: locales(&locale),
            errors: Errors::new(s.lang, &errors, &INPUTS),
            notice: None,
            deletion: (!own).then(|| deletion(&username)),
        }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

pub async fn delete(
    State(app): State<App>,
    s: UiSession,
    Path(username): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Administer) {
        return r;
    }
    let u = match app.get_user(&s.actor, &username).await {
        Ok(u) => u,
        Err(e) => return fail(&s, &e),
    };
    let error = if !checked(&pairs, "confirm") {
        s.lang.t("admin.users.confirm_missing").to_string()
    } else {
        match app.delete_user(&s.actor, &username).await {
            Ok(()) => return redirect("/admin/users?saved=deleted"),
            Err(AppError::Validation(e)) => e
                .iter()
                .map(|e| s.lang.error(&e.code, &e.message))
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => return fail(&s, &e),
        }
    };
    let mut d = deletion(&username);
    d.error = Some(error);
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, "users"),
            f: edit_form(&u, &s),
            roles: roles(s.lang, &u.role),
            permissions: permissions(s.lang, &u.permissions),
            locales: locales(&u.locale),
            errors: Errors::default(),
            notice: None,
            deletion: Some(d),
        }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}
