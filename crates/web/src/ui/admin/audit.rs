//! The audit log (administrators only): newest first, filters by user, record, action, kind
//! of item and dates, "older" pages by the last entry's ID.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use kartoteka_app::App;
use kartoteka_domain::record::FieldError;
use kartoteka_domain::time::parse_instant;
use kartoteka_store::audit::{AuditEntry, AuditQuery};
use serde::Deserialize;
use serde_json::Value;

use super::{AdminNav, Errors, Need, Opt, fail, guard, local_ms, render, with_status, zone};
use crate::ui::i18n::Lang;
use crate::ui::{PageCtx, UiSession, encode};

/// Entries per page.
const PAGE: i64 = 50;

const ACTIONS: [&str; 5] = ["create", "update", "delete", "revoke", "log_in"];
const ENTITIES: [&str; 7] = [
    "record",
    "custom_field",
    "dictionary_entry",
    "campaign",
    "segment",
    "user",
    "api_token",
];

#[derive(Deserialize, Default)]
pub struct AuditParams {
    user: Option<String>,
    record: Option<String>,
    action: Option<String>,
    entity: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

pub struct ChangeRow {
    pub field: String,
    pub before: String,
    pub after: String,
}

pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub user: String,
    pub action: String,
    /// The action's name, for styling.
    pub action_code: String,
    pub entity: String,
    pub entity_id: String,
    pub record_href: Option<String>,
    pub summary: String,
    pub changes: Vec<ChangeRow>,
    /// The keys and values of a flat details object.
    pub pairs: Vec<(String, String)>,
    /// The whole details object, indented; empty when there is nothing more to show.
    pub json: String,
}

pub struct Filter {
    pub user: String,
    pub record: String,
    pub from: String,
    pub to: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    page: PageCtx,
    nav: AdminNav,
    q: Filter,
    actions: Vec<Opt>,
    entities: Vec<Opt>,
    users: Vec<String>,
    rows: Vec<AuditRow>,
    older: Option<String>,
    newest: Option<String>,
    errors: Errors,
}

/// A translated label, or the raw name for one the screens do not know.
fn label(lang: Lang, prefix: &str, raw: &str) -> String {
    match lang.t(&format!("{prefix}.{raw}")) {
        "?" => raw.to_string(),
        l => l.to_string(),
    }
}

/// A value of a change as a person reads it.
fn shown(v: &Value, lang: Lang) -> String {
    match v {
        Value::Null => lang.t("none").to_string(),
        Value::String(s) if s.is_empty() => lang.t("none").to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => lang.t("none").to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(o) => o
                    .get("number")
                    .or_else(|| o.get("address"))
                    .map(|x| shown(x, lang))
                    .unwrap_or_else(|| i.to_string()),
                other => shown(other, lang),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The before → after pairs an entry's details hold: `changes` of record edits, or the
/// differing keys of `before` and `after` objects (users, fields).
fn changes_of(details: &Value, lang: Lang) -> Vec<ChangeRow> {
    if let Some(list) = details.get("changes").and_then(Value::as_array) {
        return list
            .iter()
            .map(|c| ChangeRow {
                field: c["field"].as_str().unwrap_or_default().to_string(),
                before: shown(&c["before"], lang),
                after: shown(&c["after"], lang),
            })
            .collect();
    }
    match (
        details.get("before").and_then(Value::as_object),
        details.get("after").and_then(Value::as_object),
    ) {
        (Some(b), Some(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| ChangeRow {
                    field: k.clone(),
                    before: shown(b.get(k).unwrap_or(&Value::Null), lang),
                    after: shown(a.get(k).unwrap_or(&Value::Null), lang),
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The keys and values of a details object without nested objects (most entries).
fn pairs_of(details: &Value, lang: Lang) -> Vec<(String, String)> {
    match details {
        Value::Object(o) if o.values().all(|v| !v.is_object()) => {
            o.iter().map(|(k, v)| (k.clone(), shown(v, lang))).collect()
        }
        _ => Vec::new(),
    }
}

/// One line saying what an entry holds.
fn summary(details: &Value, changes: &[ChangeRow], pairs: &[(String, String)]) -> String {
    let text = if !changes.is_empty() {
        changes
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    } else if !pairs.is_empty() {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(" · ")
    } else {
        match details {
            Value::Object(o) if o.is_empty() => String::new(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    };
    if text.chars().count() > 90 {
        let cut: String = text.chars().take(88).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn row(e: AuditEntry, lang: Lang, tz: &str) -> AuditRow {
    let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
    let changes = changes_of(&details, lang);
    let pairs = if changes.is_empty() {
        pairs_of(&details, lang)
    } else {
        Vec::new()
    };
    let json = match &details {
        Value::Object(o) if o.is_empty() => String::new(),
        Value::Null => String::new(),
        d => serde_json::to_string_pretty(d).unwrap_or_default(),
    };
    let entity_id = e.entity_id.unwrap_or_default();
    AuditRow {
        id: e.id,
        at: local_ms(e.at, tz),
        user: e.username,
        action: label(lang, "admin.action", &e.action),
        action_code: e.action.clone(),
        record_href: (e.entity == "record" && !entity_id.is_empty() && e.action != "delete")
            .then(|| format!("/records/{entity_id}")),
        entity: label(lang, "admin.entity", &e.entity),
        entity_id,
        summary: summary(&details, &changes, &pairs),
        changes,
        pairs,
        json,
    }
}

/// The instant a date input means in the user's zone; `to` takes the whole day.
fn instant(raw: &str, field: &str, end_of_day: bool, tz: &str) -> Result<Option<i64>, FieldError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let tz = zone(tz);
    let date_only = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(raw, "%d.%m.%Y"))
        .ok();
    let at = match (date_only, end_of_day) {
        (Some(d), true) => {
            let next = d.succ_opt().unwrap_or(d).format("%Y-%m-%d").to_string();
            parse_instant(&next, tz).map(|t| t.timestamp_millis() - 1)
        }
        _ => parse_instant(raw, tz).map(|t| t.timestamp_millis()),
    };
    at.map(Some)
        .map_err(|invalid| FieldError::new(field, invalid))
}

fn query_string(q: &Filter, action: &str, entity: &str, before: Option<i64>) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("user", q.user.as_str()),
        ("record", q.record.as_str()),
        ("action", action),
        ("entity", entity),
        ("from", q.from.as_str()),
        ("to", q.to.as_str()),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", encode(v)));
        }
    }
    if let Some(b) = before {
        parts.push(format!("before={b}"));
    }
    if parts.is_empty() {
        "/admin/audit".into()
    } else {
        format!("/admin/audit?{}", parts.join("&"))
    }
}

pub async fn page(State(app): State<App>, s: UiSession, Query(p): Query<AuditParams>) -> Response {
    if let Some(r) = guard(&s, Need::Administer) {
        return r;
    }
    let clean = |v: &Option<String>| v.as_deref().unwrap_or_default().trim().to_string();
    let q = Filter {
        user: clean(&p.user),
        record: clean(&p.record).to_uppercase(),
        from: clean(&p.from),
        to: clean(&p.to),
        active: false,
    };
    let (action, entity) = (clean(&p.action), clean(&p.entity));
    let before = clean(&p.before).parse::<i64>().ok();
    let mut errors = Vec::new();
    let from = instant(&q.from, "from", false, &s.time_zone).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let to = instant(&q.to, "to", true, &s.time_zone).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let some = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
    let query = AuditQuery {
        username: some(&q.user),
        entity: if q.record.is_empty() {
            some(&entity)
        } else {
            Some("record".into())
        },
        entity_id: some(&q.record),
        action: some(&action),
        from,
        to,
        before_id: before,
        limit: PAGE,
    };
    let entries = if errors.is_empty() {
        match app.audit_log(&s.actor, query).await {
            Ok(e) => e,
            Err(e) => return fail(&s, &e),
        }
    } else {
        Vec::new()
    };
    let users = match app.list_users(&s.actor).await {
        Ok(u) => u.into_iter().map(|u| u.username).collect(),
        Err(e) => return fail(&s, &e),
    };
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten()
        .map(|id| query_string(&q, &action, &entity, Some(id)));
    let newest = before.map(|_| query_string(&q, &action, &entity, None));
    let rows = entries
        .into_iter()
        .map(|e| row(e, s.lang, &s.time_zone))
        .collect();
    let filtered = !(q.user.is_empty()
        && q.record.is_empty()
        && action.is_empty()
        && entity.is_empty()
        && q.from.is_empty()
        && q.to.is_empty());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    with_status(
        render(&AuditPage {
            page: s.page("admin"),
            nav: AdminNav::of(&s, "audit"),
            actions: ACTIONS
                .iter()
                .map(|a| Opt::new(a, &label(s.lang, "admin.action", a), *a == action))
                .collect(),
            entities: ENTITIES
                .iter()
                .map(|a| Opt::new(a, &label(s.lang, "admin.entity", a), *a == entity))
                .collect(),
            q: Filter {
                active: filtered,
                ..q
            },
            users,
            rows,
            older,
            newest,
            errors: Errors::new(s.lang, &errors, &["from", "to"]),
        }),
        status,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_edits_and_user_changes_read_as_before_and_after() {
        let edit = json!({"version": 2, "changes": [{"field": "city", "before": "Opole", "after": "Gdańsk"},
                                                     {"field": "phones", "before": [], "after": [{"number": "+48600700800"}]}]});
        let c = changes_of(&edit, Lang::En);
        assert_eq!(
            (
                c[0].field.as_str(),
                c[0].before.as_str(),
                c[0].after.as_str()
            ),
            ("city", "Opole", "Gdańsk")
        );
        assert_eq!(
            (c[1].before.as_str(), c[1].after.as_str()),
            ("—", "+48600700800")
        );
        assert_eq!(summary(&edit, &c, &[]), "city, phones");
        let token = json!({"user": "pbx", "name": "Centrala"});
        let p = pairs_of(&token, Lang::En);
        assert_eq!(summary(&token, &[], &p), "name: Centrala · user: pbx");
        assert!(pairs_of(&json!({"snapshot": {"id": "X"}}), Lang::En).is_empty());
        let user = json!({"before": {"role": "agent", "active": true}, "after": {"role": "manager", "active": true}});
        let c = changes_of(&user, Lang::En);
        assert_eq!(c.len(), 1, "only what differs");
        assert_eq!(c[0].after, "manager");
    }

    #[test]
    fn the_to_date_takes_the_whole_day_in_the_users_zone() {
        let from = instant("2026-01-15", "from", false, "Europe/Warsaw").unwrap();
        let to = instant("2026-01-15", "to", true, "Europe/Warsaw").unwrap();
        assert_eq!(
            from,
            Some(1_768_431_600_000),
            "midnight in Warsaw is 23:00 UTC"
        );
        assert_eq!(to, Some(1_768_431_600_000 + 86_400_000 - 1));
        assert!(instant("15/01/2026", "from", false, "Europe/Warsaw").is_err());
    }
}
