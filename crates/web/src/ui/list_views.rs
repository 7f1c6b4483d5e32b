//! Saved views of the record list: the views select, opening a view (its filter and sort
//! into the URL), saving the current filter under a name, deleting a view.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::{App, AppError};

use super::list_filter::{Opt, f_param, parse_f};
use super::{UiSession, encode, form_value};

/// The views select and what the page knows of the open view.
pub struct ViewsBar {
    pub mine: Vec<Opt>,
    pub shared: Vec<Opt>,
    /// The open view, when its owner (or an administrator) may delete it.
    pub deletable: Option<(i64, String)>,
    /// Why the last save was refused (a key of the strings).
    pub error: Option<&'static str>,
}

pub async fn views_bar(
    app: &App,
    s: &UiSession,
    open: Option<i64>,
    error: Option<&str>,
) -> ViewsBar {
    let all = app.views(&s.actor).await.unwrap_or_default();
    let opt = |v: &kartoteka_app::saved_views::ViewInfo| Opt {
        value: v.id.to_string(),
        label: if v.owned && v.shared {
            format!("{} · {}", v.name, s.lang.t("views.shared_mark"))
        } else if v.owned {
            v.name.clone()
        } else {
            format!("{} · {}", v.name, v.owner)
        },
        selected: Some(v.id) == open,
    };
    // `mine` says who may delete (administrators may delete any); the groups go by owner.
    let own = |v: &&kartoteka_app::saved_views::ViewInfo| v.owned;
    ViewsBar {
        mine: all.iter().filter(own).map(opt).collect(),
        shared: all.iter().filter(|v| !own(v)).map(opt).collect(),
        deletable: all
            .iter()
            .find(|v| Some(v.id) == open && v.mine)
            .map(|v| (v.id, v.name.clone())),
        error: match error {
            Some("filter") => Some("views.filter_invalid"),
            Some(_) => Some("views.name_needed"),
            None => None,
        },
    }
}

/// The list URL of a view: its filter and sort.
pub async fn view_url(app: &App, s: &UiSession, id: i64) -> Option<String> {
    let v = app.view(&s.actor, id).await.ok()?;
    let mut url = format!("/records?view={id}");
    if let Some(f) = f_param(&v.filter) {
        url.push_str(&format!("&f={f}"));
    } else {
        url.push_str("&f=");
    }
    if let Some(sort) = v.sort.as_deref().filter(|s| !s.is_empty()) {
        url.push_str(&format!("&sort={}", encode(sort)));
    }
    Some(url)
}

/// `POST /records/views`: saves the list's filter and sort under a name.
pub async fn save_view(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    let filter = parse_f(form_value(&pairs, "f")).unwrap_or_default();
    let sort = form_value(&pairs, "sort").filter(|s| !s.is_empty());
    let name = form_value(&pairs, "name").unwrap_or_default();
    let shared = form_value(&pairs, "shared").is_some();
    match app.save_view(&s.actor, name, &filter, sort, shared).await {
        Ok(v) => Redirect::to(
            &view_url(&app, &s, v.id)
                .await
                .unwrap_or_else(|| "/records".into()),
        )
        .into_response(),
        Err(AppError::Validation(errors)) => {
            let why = if errors.iter().any(|e| e.field.starts_with("filter")) {
                "filter"
            } else {
                "name"
            };
            let mut url = format!("/records?view_error={why}");
            if let Some(f) = f_param(&filter) {
                url.push_str(&format!("&f={f}"));
            }
            if let Some(sort) = sort {
                url.push_str(&format!("&sort={}", encode(sort)));
            }
            Redirect::to(&url).into_response()
        }
        Err(e) => super::error_page(&s, &e),
    }
}

/// `POST /records/views/{id}/delete`.
pub async fn delete_view(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, form_value(&pairs, "csrf")) {
        return r;
    }
    match app.delete_view(&s.actor, id).await {
        Ok(()) => Redirect::to("/records").into_response(),
        Err(e) => super::error_page(&s, &e),
    }
}
