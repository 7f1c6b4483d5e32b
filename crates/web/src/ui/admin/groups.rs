//! Campaigns and segments (SPEC C3): list with a form for a new one, edit (name,
//! description, active, a campaign's agents), delete after a typed confirmation naming how
//! many records are in it. Both kinds share the handlers; the path tells which kind.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kartoteka_app::groups::{GroupInput, GroupView};
use kartoteka_app::{App, AppError};
use kartoteka_domain::record::FieldError;
use kartoteka_store::groups::GroupKind;

use super::{
    AdminNav, Errors, Need, Opt, Saved, all, checked, fail, guard, local_rfc, notice, post_guard,
    redirect, render, text, value, with_status,
};
use crate::ui::i18n::Lang;
use crate::ui::{PageCtx, UiSession};

/// The inputs of the form, in the order they show.
const INPUTS: [&str; 4] = ["name", "description", "active", "agents"];

/// The kind of group, from the path (`/admin/campaigns…` or `/admin/segments…`).
#[derive(Clone, Copy)]
pub struct Kind(GroupKind);

impl<S: Send + Sync> FromRequestParts<S> for Kind {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path();
        if path.starts_with("/admin/campaigns") {
            Ok(Kind(GroupKind::Campaign))
        } else if path.starts_with("/admin/segments") {
            Ok(Kind(GroupKind::Segment))
        } else {
            Err(StatusCode::NOT_FOUND)
        }
    }
}

impl Kind {
    fn campaign(self) -> bool {
        matches!(self.0, GroupKind::Campaign)
    }

    /// The list's path, e.g. `/admin/campaigns`.
    fn base(self) -> &'static str {
        if self.campaign() {
            "/admin/campaigns"
        } else {
            "/admin/segments"
        }
    }

    /// The section in the administration's tabs.
    fn current(self) -> &'static str {
        if self.campaign() {
            "campaigns"
        } else {
            "segments"
        }
    }

    /// A string of this kind (`admin.campaigns.…` or `admin.segments.…`).
    fn t(self, lang: Lang, key: &str) -> &'static str {
        lang.t(&format!("admin.{}.{key}", self.current()))
    }

    fn texts(self, lang: Lang) -> Texts {
        Texts {
            title: self.t(lang, "title"),
            new: self.t(lang, "new"),
            edit: self.t(lang, "edit"),
            none: self.t(lang, "none"),
            active: self.t(lang, "active"),
            active_hint: self.t(lang, "active_hint"),
            inactive: self.t(lang, "inactive"),
            delete: self.t(lang, "delete"),
            delete_loses: self.t(lang, "delete_loses"),
            delete_button: self.t(lang, "delete_button"),
        }
    }
}

/// The strings that differ between campaigns and segments.
pub struct Texts {
    pub title: &'static str,
    pub new: &'static str,
    pub edit: &'static str,
    pub none: &'static str,
    pub active: &'static str,
    pub active_hint: &'static str,
    pub inactive: &'static str,
    pub delete: &'static str,
    pub delete_loses: &'static str,
    pub delete_button: &'static str,
}

pub struct GroupRow {
    pub href: String,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub records: String,
    pub agents: String,
}

/// A campaign's agents: checkboxes when the user may list the users (administrators),
/// otherwise usernames typed, separated by commas.
pub struct Agents {
    pub pick: bool,
    pub choices: Vec<Opt>,
    pub typed: String,
}

/// The form's state (as stored, or as sent).
pub struct GroupForm {
    pub action: String,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub agents: Agents,
}

/// The deletion part of the edit page.
pub struct Deletion {
    pub action: String,
    /// How many records are in the group.
    pub records: i64,
    pub records_text: String,
    pub typed: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct ListPage {
    page: PageCtx,
    nav: AdminNav,
    t: Texts,
    campaign: bool,
    rows: Vec<GroupRow>,
    f: GroupForm,
    errors: Errors,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "admin_group_form.html")]
struct FormPage {
    page: PageCtx,
    nav: AdminNav,
    t: Texts,
    campaign: bool,
    base: &'static str,
    f: GroupForm,
    created: String,
    errors: Errors,
    notice: Option<&'static str>,
    deletion: Deletion,
}

fn records_text(lang: Lang, n: i64) -> String {
    lang.count(
        n,
        "admin.records_one",
        "admin.records_few",
        "admin.records_many",
    )
}

/// The agents' input with `chosen` ticked (or typed).
async fn agents(app: &App, s: &UiSession, chosen: &[String], typed: Option<String>) -> Agents {
    let typed = typed.unwrap_or_else(|| chosen.join(", "));
    if !s.actor.may_administer() {
        return Agents {
            pick: false,
            choices: Vec::new(),
            typed,
        };
    }
    let Ok(users) = app.list_users(&s.actor).await else {
        return Agents {
            pick: false,
            choices: Vec::new(),
            typed,
        };
    };
    let mut choices: Vec<Opt> = users
        .iter()
        .filter(|u| {
            let on = chosen.contains(&u.username);
            on || (u.active && matches!(u.role.as_str(), "agent" | "home_agent"))
        })
        .map(|u| {
            let label = if u.display_name.is_empty() || u.display_name == u.username {
                u.username.clone()
            } else {
                format!("{} ({})", u.display_name, u.username)
            };
            Opt::new(&u.username, &label, chosen.contains(&u.username))
        })
        .collect();
    // Names sent that are no user (any more) stay visible, ticked, so the error makes sense.
    for name in chosen {
        if !choices.iter().any(|o| &o.value == name) {
            choices.push(Opt::new(name, name, true));
        }
    }
    Agents {
        pick: true,
        choices,
        typed,
    }
}

/// The usernames the form sent, each once, in order.
fn sent_agents(s: &UiSession, pairs: &[(String, String)]) -> Vec<String> {
    let raw = if s.actor.may_administer() {
        all(pairs, "agents")
    } else {
        value(pairs, "agents")
            .unwrap_or_default()
            .split([',', ';', ' ', '\n', '\r', '\t'])
            .map(str::to_string)
            .collect()
    };
    let mut out: Vec<String> = Vec::new();
    for n in raw.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

/// The errors beside the inputs; an unknown agent is named in either language.
fn errors_of(lang: Lang, errors: &[FieldError]) -> Errors {
    let mut out = Errors::new(lang, errors, &INPUTS);
    for e in errors {
        if e.field == "agents" && e.code == "not_found" {
            let who = e.message.strip_prefix("no user ").unwrap_or(&e.message);
            let text = format!("{} {who}", lang.t("admin.groups.no_such_user"));
            if let Some(slot) = out.by_field.iter_mut().find(|(f, _)| f == "agents") {
                slot.1 = text;
            }
        }
    }
    out
}

/// The form as sent, and the input for the app layer.
fn parse(kind: Kind, s: &UiSession, pairs: &[(String, String)]) -> GroupInput {
    GroupInput {
        name: Some(text(pairs, "name")),
        description: Some(text(pairs, "description")),
        active: Some(checked(pairs, "active")),
        agents: kind.campaign().then(|| sent_agents(s, pairs)),
    }
}

async fn form_from(
    app: &App,
    s: &UiSession,
    action: String,
    input: &GroupInput,
    pairs: &[(String, String)],
) -> GroupForm {
    let chosen = input.agents.clone().unwrap_or_default();
    let typed = (!s.actor.may_administer()).then(|| text(pairs, "agents"));
    GroupForm {
        action,
        name: input.name.clone().unwrap_or_default(),
        description: input.description.clone().unwrap_or_default(),
        active: input.active.unwrap_or(false),
        agents: agents(app, s, &chosen, typed).await,
    }
}

async fn form_of(app: &App, s: &UiSession, kind: Kind, v: &GroupView) -> GroupForm {
    GroupForm {
        action: format!("{}/{}/edit", kind.base(), v.id),
        name: v.name.clone(),
        description: v.description.clone(),
        active: v.active,
        agents: agents(app, s, v.agents.as_deref().unwrap_or_default(), None).await,
    }
}

fn deletion(lang: Lang, kind: Kind, v: &GroupView) -> Deletion {
    Deletion {
        action: format!("{}/{}/delete", kind.base(), v.id),
        records: v.records,
        records_text: records_text(lang, v.records),
        typed: String::new(),
        error: None,
    }
}

/// The list page, with the form for a new one (blank, or as sent with its errors).
async fn list_page(
    app: &App,
    s: &UiSession,
    kind: Kind,
    f: GroupForm,
    errors: Errors,
    saved: Option<&str>,
) -> Response {
    let groups = match app.list_groups(&s.actor, kind.0).await {
        Ok(g) => g,
        Err(e) => return fail(s, &e),
    };
    let rows = groups
        .iter()
        .map(|g| GroupRow {
            href: format!("{}/{}/edit", kind.base(), g.id),
            name: g.name.clone(),
            description: g.description.clone(),
            active: g.active,
            records: s.lang.number(g.records),
            agents: g.agents.clone().unwrap_or_default().join(", "),
        })
        .collect();
    render(&ListPage {
        page: s.page("admin"),
        nav: AdminNav::of(s, kind.current()),
        t: kind.texts(s.lang),
        campaign: kind.campaign(),
        rows,
        f,
        errors,
        notice: notice(s.lang, saved),
    })
}

pub async fn list(
    State(app): State<App>,
    kind: Kind,
    s: UiSession,
    Query(q): Query<Saved>,
) -> Response {
    if let Some(r) = guard(&s, Need::Configure) {
        return r;
    }
    let f = GroupForm {
        action: kind.base().into(),
        name: String::new(),
        description: String::new(),
        active: true,
        agents: agents(&app, &s, &[], None).await,
    };
    list_page(&app, &s, kind, f, Errors::default(), q.saved.as_deref()).await
}

pub async fn create(
    State(app): State<App>,
    kind: Kind,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let input = parse(kind, &s, &pairs);
    let f = form_from(&app, &s, kind.base().into(), &input, &pairs).await;
    let errors = match app.create_group(&s.actor, kind.0, input).await {
        Ok(_) => return redirect(&format!("{}?saved=created", kind.base())),
        Err(AppError::Validation(e)) => e,
        Err(e) => return fail(&s, &e),
    };
    with_status(
        list_page(&app, &s, kind, f, errors_of(s.lang, &errors), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

pub async fn edit_page(
    State(app): State<App>,
    kind: Kind,
    s: UiSession,
    Path(id): Path<i64>,
    Query(q): Query<Saved>,
) -> Response {
    if let Some(r) = guard(&s, Need::Configure) {
        return r;
    }
    let v = match app.get_group(&s.actor, kind.0, id).await {
        Ok(v) => v,
        Err(e) => return fail(&s, &e),
    };
    render(&FormPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, kind.current()),
        t: kind.texts(s.lang),
        campaign: kind.campaign(),
        base: kind.base(),
        f: form_of(&app, &s, kind, &v).await,
        created: local_rfc(&v.created_at, &s.time_zone),
        errors: Errors::default(),
        notice: notice(s.lang, q.saved.as_deref()),
        deletion: deletion(s.lang, kind, &v),
    })
}

pub async fn update(
    State(app): State<App>,
    kind: Kind,
    s: UiSession,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let stored = match app.get_group(&s.actor, kind.0, id).await {
        Ok(v) => v,
        Err(e) => return fail(&s, &e),
    };
    let input = parse(kind, &s, &pairs);
    let action = format!("{}/{}/edit", kind.base(), id);
    let f = form_from(&app, &s, action, &input, &pairs).await;
    let errors = match app.update_group(&s.actor, kind.0, id, input).await {
        Ok(v) => return redirect(&format!("{}/{}/edit?saved=1", kind.base(), v.id)),
        Err(AppError::Validation(e)) => e,
        Err(e) => return fail(&s, &e),
    };
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, kind.current()),
            t: kind.texts(s.lang),
            campaign: kind.campaign(),
            base: kind.base(),
            f,
            created: local_rfc(&stored.created_at, &s.time_zone),
            errors: errors_of(s.lang, &errors),
            notice: None,
            deletion: deletion(s.lang, kind, &stored),
        }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// Deletes a campaign or segment when the user typed the number of records in it.
pub async fn delete(
    State(app): State<App>,
    kind: Kind,
    s: UiSession,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let stored = match app.get_group(&s.actor, kind.0, id).await {
        Ok(v) => v,
        Err(e) => return fail(&s, &e),
    };
    let typed = text(&pairs, "confirm");
    let wrong = |now: i64| {
        format!(
            "{} {}.",
            s.lang.t("admin.groups.confirm_wrong"),
            records_text(s.lang, now)
        )
    };
    let (status, error) = match typed.parse::<i64>() {
        Err(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            s.lang.t("admin.groups.confirm_missing").to_string(),
        ),
        // Even an empty group is deleted only with its number (0) typed.
        Ok(n) if n != stored.records => (StatusCode::CONFLICT, wrong(stored.records)),
        Ok(n) => match app.delete_group(&s.actor, kind.0, id, Some(n)).await {
            Ok(()) => return redirect(&format!("{}?saved=deleted", kind.base())),
            Err(AppError::Conflict { details, .. }) => {
                let now = details
                    .get("records")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(stored.records);
                (StatusCode::CONFLICT, wrong(now))
            }
            Err(e) => return fail(&s, &e),
        },
    };
    let mut d = deletion(s.lang, kind, &stored);
    d.typed = typed;
    d.error = Some(error);
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, kind.current()),
            t: kind.texts(s.lang),
            campaign: kind.campaign(),
            base: kind.base(),
            f: form_of(&app, &s, kind, &stored).await,
            created: local_rfc(&stored.created_at, &s.time_zone),
            errors: Errors::default(),
            notice: None,
            deletion: d,
        }),
        status,
    )
}
