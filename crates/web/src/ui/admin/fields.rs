//! Custom field definitions: list, create, edit (key and type read-only), delete after a
//! typed confirmation naming how many values will be lost.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kartoteka_app::fields::{FieldInput, FieldView};
use kartoteka_app::{App, AppError};
use kartoteka_domain::field::FieldType;
use kartoteka_domain::record::FieldError;

use super::{
    AdminNav, Errors, Need, Opt, Saved, checked, fail, guard, notice, post_guard, redirect, render,
    seg, text, value, with_status,
};
use crate::ui::i18n::Lang;
use crate::ui::{PageCtx, UiSession};

/// The inputs of the field form, in the order they show.
const INPUTS: [&str; 9] = [
    "key", "label", "type", "options", "mask", "visible", "editable", "required", "position",
];

pub struct FieldRow {
    pub key: String,
    pub href: String,
    pub label: String,
    pub type_label: &'static str,
    pub detail: String,
    pub visible: bool,
    pub editable: bool,
    pub required: bool,
    pub position: i64,
}

#[derive(Template)]
#[template(path = "admin_fields.html")]
struct ListPage {
    page: PageCtx,
    nav: AdminNav,
    rows: Vec<FieldRow>,
    notice: Option<&'static str>,
}

/// The field form's state (as stored, or as sent).
pub struct FieldForm {
    pub creating: bool,
    pub key: String,
    pub label: String,
    pub field_type: String,
    pub type_label: &'static str,
    pub options: String,
    pub mask: String,
    pub visible: bool,
    pub editable: bool,
    pub required: bool,
    pub position: String,
    pub action: String,
}

/// The deletion part of the edit page.
pub struct Deletion {
    pub action: String,
    /// How many stored values the deletion loses.
    pub values: i64,
    pub values_text: String,
    pub typed: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_field_form.html")]
struct FormPage {
    page: PageCtx,
    nav: AdminNav,
    f: FieldForm,
    types: Vec<Opt>,
    errors: Errors,
    notice: Option<&'static str>,
    deletion: Option<Deletion>,
}

pub fn type_label(lang: Lang, t: &str) -> &'static str {
    match FieldType::parse(t) {
        Ok(t) => lang.t(&format!("admin.type.{}", t.as_str())),
        Err(_) => lang.t("none"),
    }
}

fn type_options(lang: Lang, selected: &str) -> Vec<Opt> {
    FieldType::ALL
        .iter()
        .map(|t| {
            Opt::new(
                t.as_str(),
                type_label(lang, t.as_str()),
                t.as_str() == selected,
            )
        })
        .collect()
}

fn form_of(v: &FieldView, lang: Lang) -> FieldForm {
    FieldForm {
        creating: false,
        action: format!("/admin/fields/{}/edit", seg(&v.key)),
        key: v.key.clone(),
        label: v.label.clone(),
        type_label: type_label(lang, &v.field_type),
        field_type: v.field_type.clone(),
        options: v.options.join("\n"),
        mask: v.mask.clone().unwrap_or_default(),
        visible: v.visible,
        editable: v.editable,
        required: v.required,
        position: v.position.to_string(),
    }
}

fn values_text(lang: Lang, n: i64) -> String {
    lang.count(
        n,
        "admin.values_one",
        "admin.values_few",
        "admin.values_many",
    )
}

fn deletion(lang: Lang, key: &str, values: i64) -> Deletion {
    Deletion {
        action: format!("/admin/fields/{}/delete", seg(key)),
        values,
        values_text: values_text(lang, values),
        typed: String::new(),
        error: None,
    }
}

pub async fn list(State(app): State<App>, s: UiSession, Query(q): Query<Saved>) -> Response {
    if let Some(r) = guard(&s, Need::Configure) {
        return r;
    }
    let fields = match app.list_fields(&s.actor).await {
        Ok(f) => f,
        Err(e) => return fail(&s, &e),
    };
    let rows = fields
        .iter()
        .map(|f| FieldRow {
            href: format!("/admin/fields/{}/edit", seg(&f.key)),
            key: f.key.clone(),
            label: f.label.clone(),
            type_label: type_label(s.lang, &f.field_type),
            detail: match f.field_type.as_str() {
                "dictionary" => f.options.join(", "),
                "masked" => f.mask.clone().unwrap_or_default(),
                _ => String::new(),
            },
            visible: f.visible,
            editable: f.editable,
            required: f.required,
            position: f.position,
        })
        .collect();
    render(&ListPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, "fields"),
        rows,
        notice: notice(s.lang, q.saved.as_deref()),
    })
}

pub async fn new_page(State(app): State<App>, s: UiSession) -> Response {
    if let Some(r) = guard(&s, Need::Configure) {
        return r;
    }
    // A new field goes after the last one.
    let next = match app.list_fields(&s.actor).await {
        Ok(f) => f.iter().map(|f| f.position).max().map_or(1, |p| p + 1),
        Err(e) => return fail(&s, &e),
    };
    let f = FieldForm {
        creating: true,
        action: "/admin/fields".into(),
        key: String::new(),
        label: String::new(),
        field_type: "text".into(),
        type_label: type_label(s.lang, "text"),
        options: String::new(),
        mask: String::new(),
        visible: true,
        editable: true,
        required: false,
        position: next.to_string(),
    };
    render(&FormPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, "fields"),
        types: type_options(s.lang, "text"),
        f,
        errors: Errors::default(),
        notice: None,
        deletion: None,
    })
}

/// The form as sent, and the input for the app layer (or the errors the form itself finds).
fn parse(
    pairs: &[(String, String)],
    field_type: &str,
    creating: bool,
) -> (FieldInput, Vec<FieldError>, String, String) {
    let options: Vec<String> = value(pairs, "options")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect();
    let mask = value(pairs, "mask").unwrap_or_default().to_string();
    let position_text = text(pairs, "position");
    let mut errors = Vec::new();
    let position = if position_text.is_empty() {
        Some(0)
    } else {
        match position_text.parse::<i64>() {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push(Errors::one(
                    "position",
                    "invalid_number",
                    "a position is a whole number",
                ));
                None
            }
        }
    };
    let input = FieldInput {
        key: creating.then(|| text(pairs, "key")),
        label: Some(text(pairs, "label")),
        field_type: creating.then(|| field_type.to_string()),
        options: (field_type == "dictionary").then_some(options),
        mask: (field_type == "masked").then(|| mask.clone()),
        visible: Some(checked(pairs, "visible")),
        editable: Some(checked(pairs, "editable")),
        required: Some(checked(pairs, "required")),
        position,
    };
    (
        input,
        errors,
        value(pairs, "options").unwrap_or_default().to_string(),
        position_text,
    )
}

fn form_from(
    pairs: &[(String, String)],
    input: &FieldInput,
    options: String,
    position: String,
    lang: Lang,
) -> FieldForm {
    let field_type = input.field_type.clone().unwrap_or_default();
    FieldForm {
        creating: true,
        action: "/admin/fields".into(),
        key: input.key.clone().unwrap_or_default(),
        label: input.label.clone().unwrap_or_default(),
        type_label: type_label(lang, &field_type),
        field_type,
        options,
        mask: value(pairs, "mask").unwrap_or_default().to_string(),
        visible: input.visible.unwrap_or(false),
        editable: input.editable.unwrap_or(false),
        required: input.required.unwrap_or(false),
        position,
    }
}

pub async fn create(
    State(app): State<App>,
    s: UiSession,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let field_type = text(&pairs, "type");
    let (input, mut errors, options, position) = parse(&pairs, &field_type, true);
    let f = form_from(&pairs, &input, options, position, s.lang);
    if errors.is_empty() {
        match app.create_field(&s.actor, input).await {
            Ok(_) => return redirect("/admin/fields?saved=created"),
            Err(AppError::Validation(e)) => errors = e,
            Err(e) => return fail(&s, &e),
        }
    }
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, "fields"),
            types: type_options(s.lang, &f.field_type),
            f,
            errors: Errors::new(s.lang, &errors, &INPUTS),
            notice: None,
            deletion: None,
        }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

pub async fn edit_page(
    State(app): State<App>,
    s: UiSession,
    Path(key): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    if let Some(r) = guard(&s, Need::Configure) {
        return r;
    }
    let (view, values) = match app.get_field(&s.actor, &key).await {
        Ok(v) => v,
        Err(e) => return fail(&s, &e),
    };
    render(&FormPage {
        page: s.page("admin"),
        nav: AdminNav::of(&s, "fields"),
        types: Vec::new(),
        f: form_of(&view, s.lang),
        errors: Errors::default(),
        notice: notice(s.lang, q.saved.as_deref()),
        deletion: Some(deletion(s.lang, &view.key, values)),
    })
}

pub async fn update(
    State(app): State<App>,
    s: UiSession,
    Path(key): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let (stored, values) = match app.get_field(&s.actor, &key).await {
        Ok(v) => v,
        Err(e) => return fail(&s, &e),
    };
    let (input, mut errors, options, position) = parse(&pairs, &stored.field_type, false);
    let mut f = form_of(&stored, s.lang);
    f.label = input.label.clone().unwrap_or_default();
    f.options = options;
    f.mask = value(&pairs, "mask").unwrap_or_default().to_string();
    f.visible = input.visible.unwrap_or(false);
    f.editable = input.editable.unwrap_or(false);
    f.required = input.required.unwrap_or(false);
    f.position = position;
    if errors.is_empty() {
        match app.update_field(&s.actor, &key, input).await {
            Ok(v) => {
                return redirect(&format!("/admin/fields/{}/edit?saved=1", seg(&v.key)));
            }
            Err(AppError::Validation(e)) => errors = e,
            Err(e) => return fail(&s, &e),
        }
    }
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, "fields"),
            types: Vec::new(),
            f,
            errors: Errors::new(s.lang, &errors, &INPUTS),
            notice: None,
            deletion: Some(deletion(s.lang, &stored.key, values)),
        }),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// Deletes a definition when the user typed the number of values it holds (or its key).
pub async fn delete(
    State(app): State<App>,
    s: UiSession,
    Path(key): Path<String>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = post_guard(&s, &headers, &pairs, Need::Configure) {
        return r;
    }
    let (stored, values) = match app.get_field(&s.actor, &key).await {
        Ok(v) => v,
        Err(e) => return fail(&s, &e),
    };
    let typed = text(&pairs, "confirm");
    // The number the page showed: typing the key confirms that one.
    let shown = value(&pairs, "values").and_then(|v| v.trim().parse::<i64>().ok());
    let confirm = if typed == stored.key {
        shown
    } else {
        typed.parse::<i64>().ok()
    };
    let (status, error) = match confirm {
        None => (
            StatusCode::UNPROCESSABLE_ENTITY,
            s.lang.t("admin.fields.confirm_missing").to_string(),
        ),
        Some(n) => match app.delete_field(&s.actor, &key, Some(n)).await {
            Ok(_) => return redirect("/admin/fields?saved=deleted"),
            Err(AppError::Conflict { details, .. }) => {
                let now = details
                    .get("values")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(values);
                (
                    StatusCode::CONFLICT,
                    format!(
                        "{} {}",
                        s.lang.t("admin.fields.confirm_wrong"),
                        values_text(s.lang, now)
                    ),
                )
            }
            Err(e) => return fail(&s, &e),
        },
    };
    let mut d = deletion(s.lang, &stored.key, values);
    d.typed = typed;
    d.error = Some(error);
    with_status(
        render(&FormPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, "fields"),
            types: Vec::new(),
            f: form_of(&stored, s.lang),
            errors: Errors::default(),
            notice: None,
            deletion: Some(d),
        }),
        status,
    )
}
