//! The card's cases tab: a row opens the case's form (status, assigned agent, recontact
//! date, a classifier to give, the classifier history) below the table. With htmx the form
//! and the tab are swapped in place; without it the form is a page of its own.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_app::cases::{CaseInput, CaseView, UserRef};
use kartoteka_app::{App, AppError};
use kartoteka_domain::record::FieldError;

use super::list::{local_time, shown_time};
use super::{PageCtx, UiSession, error_page, render};

/// A case as the tab's table lists it.
pub struct CaseRow {
    pub campaign_id: i64,
    pub campaign: String,
    pub status: String,
    pub assigned: String,
    pub classifier: String,
    pub attempts: i64,
    pub recontact: String,
}

/// A choice of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub on: bool,
}

/// A classifier given, as the history lists it.
pub struct HistoryRow {
    pub classifier: String,
    pub by: String,
    pub at: String,
}

/// The form of one case.
pub struct CaseForm {
    pub record_id: String,
    pub campaign_id: i64,
    pub campaign: String,
    /// A page of its own (no htmx): posts and links normally.
    pub standalone: bool,
    pub may_edit: bool,
    pub may_reassign: bool,
    pub status: String,
    pub status_error: Option<String>,
    pub assignees: Vec<Choice>,
    pub assigned_label: String,
    pub assigned_error: Option<String>,
    /// `YYYY-MM-DDTHH:MM` in the user's zone, as `datetime-local` takes it.
    pub recontact: String,
    /// The value the form was rendered with: unchanged, it is not sent.
    pub recontact_original: String,
    pub recontact_error: Option<String>,
    pub classifiers: Vec<Choice>,
    pub classifier_error: Option<String>,
    pub last_classifier: String,
    pub attempts: i64,
    pub last_call: String,
    pub created: String,
    pub modified: String,
    pub history: Vec<HistoryRow>,
    pub alert: Option<String>,
}

/// What the tab's table needs (the names the card template uses as well).
pub struct TabCard {
    pub id: String,
    pub cases: Vec<CaseRow>,
}

#[derive(Template)]
#[template(path = "card_cases_tab.html")]
struct CasesTab {
    page: PageCtx,
    card: TabCard,
    notice: Option<&'static str>,
    alert: Option<String>,
    form: Option<CaseForm>,
}

#[derive(Template)]
#[template(source = "{% include \"card_case_form.html\" %}", ext = "html")]
struct FormPartial {
    page: PageCtx,
    f: CaseForm,
}

#[derive(Template)]
#[template(path = "card_case.html")]
struct CasePage {
    page: PageCtx,
    f: CaseForm,
    display_name: String,
}

/// The classifiers dictionary's active entries: (code, label in the user's language).
async fn classifier_entries(app: &App, s: &UiSession) -> Vec<(String, String)> {
    app.dictionaries(&s.actor)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.name == "classifiers")
        .flat_map(|d| d.entries)
        .filter(|e| e.active)
        .map(|e| {
            let label = s.lang.entry_label("classifiers", &e.code, &e.label);
            (e.code, label)
        })
        .collect()
}

fn label_of(entries: &[(String, String)], code: Option<&str>) -> String {
    match code {
        Some(c) => entries
            .iter()
            .find(|(k, _)| k == c)
            .map_or_else(|| c.to_string(), |(_, l)| l.clone()),
        None => String::new(),
    }
}

fn shown(s: &UiSession, rfc3339: Option<&str>) -> String {
    rfc3339
        .map(|t| shown_time(s.lang, t, &s.time_zone))
        .unwrap_or_default()
}

fn row(s: &UiSession, c: &CaseView, entries: &[(String, String)]) -> CaseRow {
    CaseRow {
        campaign_id: c.campaign_id,
        campaign: c.campaign.clone(),
        status: c.status.clone().unwrap_or_default(),
        assigned: c.assigned_name.clone().unwrap_or_default(),
        classifier: label_of(entries, c.last_classifier.as_deref()),
        attempts: c.attempts,
        recontact: shown(s, c.recontact_at.as_deref()),
    }
}

/// The rows of the card's cases tab (empty when the record is out of reach).
pub async fn rows(app: &App, s: &UiSession, record: &str) -> Vec<CaseRow> {
    let entries = classifier_entries(app, s).await;
    app.record_cases(&s.actor, record)
        .await
        .unwrap_or_default()
        .iter()
        .map(|c| row(s, c, &entries))
        .collect()
}

/// The sent values that differ from the stored ones, kept when the form comes back.
#[derive(Default)]
struct Sent {
    status: Option<String>,
    assigned: Option<String>,
    recontact: Option<String>,
    classifier: Option<String>,
}

async fn case_form(
    app: &App,
    s: &UiSession,
    record: &str,
    c: &CaseView,
    sent: &Sent,
    errors: &[FieldError],
) -> CaseForm {
    let lang = s.lang;
    let err = |key: &str| {
        errors
            .iter()
            .find(|e| e.field == key)
            .map(|e| lang.error(&e.code, &e.message))
    };
    let entries = classifier_entries(app, s).await;
    let assigned = sent
        .assigned
        .clone()
        .unwrap_or_else(|| c.assigned_to.map(|i| i.to_string()).unwrap_or_default());
    let mut assignees: Vec<Choice> = if c.may_reassign {
        app.case_assignees(&s.actor)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(id, username, name)| Choice {
                on: id.to_string() == assigned,
                value: id.to_string(),
                label: if name.is_empty() || name == username {
                    username
                } else {
                    format!("{name} ({username})")
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    // The current assignee stays listed even when no longer assignable.
    if let (Some(id), Some(name)) = (c.assigned_to, &c.assigned_name)
        && c.may_reassign
        && !assignees.iter().any(|a| a.value == id.to_string())
    {
        assignees.push(Choice {
            on: id.to_string() == assigned,
            value: id.to_string(),
            label: name.clone(),
        });
    }
    let classifier = sent.classifier.clone().unwrap_or_default();
    let recontact_original = c
        .recontact_at
        .as_deref()
        .map(|t| local_time(t, &s.time_zone).replace(' ', "T"))
        .unwrap_or_default();
    // Known call codes read in the user's language; others as stored.
    let call = |code: &str| match lang.t(&format!("case.call.{code}")) {
        "?" => code.to_string(),
        t => t.to_string(),
    };
    let last_call = [c.last_call_type.as_deref(), c.last_call_status.as_deref()]
        .into_iter()
        .flatten()
        .map(call)
        .collect::<Vec<_>>()
        .join(" · ");
    let leftover = errors.iter().any(|e| {
        !["status", "assigned_to", "recontact_at", "classifier"].contains(&e.field.as_str())
    });
    CaseForm {
        record_id: record.to_string(),
        campaign_id: c.campaign_id,
        campaign: c.campaign.clone(),
        standalone: false,
        may_edit: c.may_edit,
        may_reassign: c.may_reassign,
        status: sent
            .status
            .clone()
            .unwrap_or_else(|| c.status.clone().unwrap_or_default()),
        status_error: err("status"),
        assignees,
        assigned_label: c.assigned_name.clone().unwrap_or_default(),
        assigned_error: err("assigned_to"),
        recontact: sent
            .recontact
            .clone()
            .unwrap_or_else(|| recontact_original.clone()),
        recontact_original,
        recontact_error: err("recontact_at"),
        classifiers: entries
            .iter()
            .map(|(code, label)| Choice {
                on: *code == classifier,
                value: code.clone(),
                label: label.clone(),
            })
            .collect(),
        classifier_error: err("classifier"),
        last_classifier: label_of(&entries, c.last_classifier.as_deref()),
        attempts: c.attempts,
        last_call,
        created: shown(s, Some(&c.created_at)),
        modified: shown(s, Some(&c.modified_at)),
        history: c
            .classifiers
            .iter()
            .flatten()
            .map(|h| HistoryRow {
                classifier: label_of(&entries, Some(&h.classifier)),
                by: h
                    .user_name
                    .clone()
                    .or_else(|| h.username.clone())
                    .unwrap_or_else(|| lang.t("case.system").to_string()),
                at: shown(s, Some(&h.at)),
            })
            .collect(),
        alert: (!errors.is_empty()).then(|| {
            if leftover {
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, lang.error(&e.code, &e.message)))
                    .collect::<Vec<_>>()
                    .join("; ")
            } else {
                lang.t("card.errors").to_string()
            }
        }),
    }
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

async fn tab(
    app: &App,
    s: &UiSession,
    record: &str,
    notice: Option<&'static str>,
    alert: Option<String>,
    form: Option<CaseForm>,
) -> Response {
    render(&CasesTab {
        page: s.page("records"),
        card: TabCard {
            id: record.to_string(),
            cases: rows(app, s, record).await,
        },
        notice,
        alert,
        form,
    })
}

/// The tab's content (htmx: closing the form); a plain request goes to the card.
pub async fn list(
    State(app): State<App>,
    s: UiSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !is_htmx(&headers) {
        return Redirect::to(&format!("/records/{id}")).into_response();
    }
    tab(&app, &s, &id, None, None, None).await
}

/// The form of one case: a partial for htmx, else a page.
pub async fn form(
    State(app): State<App>,
    s: UiSession,
    Path((id, campaign)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    let c = match app.record_case(&s.actor, &id, campaign).await {
        Ok(c) => c,
        Err(e) => return error_page(&s, &e),
    };
    let mut f = case_form(&app, &s, &id, &c, &Sent::default(), &[]).await;
    if is_htmx(&headers) {
        render(&FormPartial {
            page: s.page("records"),
            f,
        })
    } else {
        f.standalone = true;
        page(&app, &s, f).await
    }
}

async fn page(app: &App, s: &UiSession, f: CaseForm) -> Response {
    let display_name = app
        .get_record(&s.actor, &f.record_id)
        .await
        .map(|r| r.display_name)
        .unwrap_or_default();
    render(&CasePage {
        page: s.page("records"),
        f,
        display_name,
    })
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Saves the form: the tab with a notice (htmx) or the card (plain); errors beside the
/// fields.
pub async fn save(
    State(app): State<App>,
    s: UiSession,
    Path((id, campaign)): Path<(String, i64)>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = s.csrf_rejection(&headers, value(&pairs, "csrf")) {
        return r;
    }
    let htmx = is_htmx(&headers);
    let status = value(&pairs, "status").map(str::to_string);
    let assigned = value(&pairs, "assigned_to").map(str::to_string);
    let recontact = value(&pairs, "recontact_at")
        .filter(|v| Some(*v) != value(&pairs, "recontact_original"))
        .map(str::to_string);
    let classifier = value(&pairs, "classifier")
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let input = CaseInput {
        status: status.clone().map(Some),
        assigned_to: assigned.as_deref().map(|a| match a.trim() {
            "" => None,
            n => Some(
                n.parse()
                    .map_or_else(|_| UserRef::Username(n.to_string()), UserRef::Id),
            ),
        }),
        recontact_at: recontact.clone().map(Some),
        classifier: classifier.clone(),
    };
    match app.update_case(&s.actor, &id, campaign, input).await {
        Ok(_) if htmx => tab(&app, &s, &id, Some(s.lang.t("case.saved")), None, None).await,
        Ok(_) => Redirect::to(&format!("/records/{id}?saved=case")).into_response(),
        Err(AppError::Validation(errors)) => {
            let c = match app.record_case(&s.actor, &id, campaign).await {
                Ok(c) => c,
                Err(e) => return error_page(&s, &e),
            };
            let sent = Sent {
                status,
                assigned,
                recontact,
                classifier,
            };
            let mut f = case_form(&app, &s, &id, &c, &sent, &errors).await;
            if htmx {
                // htmx swaps only successful answers: the errors come back as 200.
                tab(&app, &s, &id, None, None, Some(f)).await
            } else {
                f.standalone = true;
                let mut r = page(&app, &s, f).await;
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            }
        }
        Err(e) if htmx => {
            let key = match e {
                AppError::NotFound(_) => "error.not_found",
                AppError::Forbidden(_) => "case.forbidden",
                _ => "error.unexpected",
            };
            tab(&app, &s, &id, None, Some(s.lang.t(key).to_string()), None).await
        }
        Err(e) => error_page(&s, &e),
    }
}
