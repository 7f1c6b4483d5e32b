//! The record list's filter builder (SPEC C4); saved views are in `list_views`.
//!
//! The filter lives in the list's URL as `f=<the Filter's JSON>`, so a filter can be
//! bookmarked and shared. The builder is a plain GET form with one row of inputs per
//! criterion (`c0.field`, `c0.op`, `c0.v` — repeated for lists —, `c0.vt` the time of a
//! date, `c0.v2` and `c0.v2t` the end of a range); the list turns such a request into the
//! JSON and redirects to it. Rows are added by htmx from `GET /records/criterion`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use kartoteka_app::App;
use kartoteka_domain::field::FieldDefinition;
use kartoteka_domain::filter::{Criterion, Filter, Kind, Op, SYSTEM, kind_of};
use kartoteka_store::groups::GroupKind;
use serde_json::Value;

use super::i18n::Lang;
use super::{PageCtx, UiSession, encode, render};

/// An option of a select or a checkbox list.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct OptGroup {
    pub label: String,
    pub opts: Vec<Opt>,
}

/// One criterion of the builder, as its row shows it.
pub struct CritRow {
    pub i: usize,
    pub field: String,
    pub label: String,
    /// The input the kind needs: text, phone, dictionary, date, number, user, campaign,
    /// segment, tag, record, kind, flag.
    pub input: &'static str,
    pub op: String,
    pub ops: Vec<Opt>,
    pub v: String,
    pub vt: String,
    pub v2: String,
    pub v2t: String,
    /// The choices of a list input (dictionaries, campaigns, segments, users, kind).
    pub choices: Vec<Opt>,
    /// What a closed list input shows: the chosen labels.
    pub picked: String,
    pub hint: &'static str,
    pub error: Option<String>,
}

impl CritRow {
    pub fn multi(&self) -> bool {
        matches!(self.input, "dictionary" | "campaign" | "segment" | "user")
    }
}

/// What the builder offers: fields, dictionaries, campaigns, segments and users.
#[derive(Default)]
pub struct Catalog {
    pub defs: Vec<FieldDefinition>,
    dicts: Vec<(String, Vec<(String, String)>)>,
    pub campaigns: Vec<(i64, String, bool)>,
    pub segments: Vec<(i64, String, bool)>,
    users: Vec<(i64, String)>,
}

/// Which lists a page needs besides the field definitions.
#[derive(Default, Clone, Copy)]
pub struct Needs {
    pub dicts: bool,
    pub groups: bool,
    pub users: bool,
}

impl Needs {
    pub fn of(filter: &Filter, defs: &[FieldDefinition]) -> Needs {
        let mut n = Needs::default();
        for c in &filter.all {
            n.add(kind_of(&c.field, defs));
        }
        n
    }

    pub fn add(&mut self, kind: Option<Kind>) {
        match kind {
            Some(Kind::Dictionary(_)) => self.dicts = true,
            Some(Kind::Campaign | Kind::Segment) => self.groups = true,
            Some(Kind::User) => self.users = true,
            _ => {}
        }
    }
}

impl Catalog {
    pub async fn load(
        app: &App,
        s: &UiSession,
        defs: Vec<FieldDefinition>,
        needs: Needs,
    ) -> Catalog {
        let mut c = Catalog {
            defs,
            ..Catalog::default()
        };
        if needs.dicts {
            c.dicts = app
                .dictionaries(&s.actor)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|d| {
                    let entries = d
                        .entries
                        .into_iter()
                        .map(|e| {
                            let label = s.lang.entry_label(&d.name, &e.code, &e.label);
                            (e.code, label)
                        })
                        .collect();
                    (d.name, entries)
                })
                .collect();
        }
        if needs.groups {
            for (kind, out) in [
                (GroupKind::Campaign, &mut c.campaigns),
                (GroupKind::Segment, &mut c.segments),
            ] {
                *out = app.group_names(&s.actor, kind).await.unwrap_or_default();
            }
        }
        if needs.users && s.actor.may_use_record_base() {
            let mut users = app.user_choices(&s.actor).await.unwrap_or_default();
            users.sort_by_key(|(_, l)| kartoteka_domain::text::sort_key(l));
            c.users = users;
        }
        c
    }

    /// A criterion's label: the filter table's, else the card's or the list's.
    pub fn label(&self, lang: Lang, key: &str) -> String {
        if let Some(k) = key.strip_prefix("custom.") {
            return self
                .defs
                .iter()
                .find(|d| d.key == k)
                .map(|d| d.label.clone())
                .unwrap_or_else(|| key.to_string());
        }
        for prefix in ["fk", "f", "col"] {
            let l = lang.t(&format!("{prefix}.{key}"));
            if l != "?" {
                return l.to_string();
            }
        }
        key.to_string()
    }

    /// The fields "add criterion" offers: the system ones, then the custom fields.
    pub fn add_options(&self, lang: Lang) -> Vec<OptGroup> {
        let opt = |k: String| Opt {
            label: self.label(lang, &k),
            value: k,
            selected: false,
        };
        let mut custom: Vec<&FieldDefinition> = self.defs.iter().filter(|d| d.visible).collect();
        custom.sort_by_key(|d| d.position);
        vec![
            OptGroup {
                label: lang.t("filter.system_fields").to_string(),
                opts: SYSTEM.iter().map(|(k, _)| opt(k.to_string())).collect(),
            },
            OptGroup {
                label: lang.t("filter.custom_fields").to_string(),
                opts: custom
                    .iter()
                    .map(|d| opt(format!("custom.{}", d.key)))
                    .collect(),
            },
        ]
        .into_iter()
        .filter(|g| !g.opts.is_empty())
        .collect()
    }

    fn choices(&self, lang: Lang, field: &str, kind: Kind) -> Vec<(String, String)> {
        let groups = |g: &[(i64, String, bool)], inactive: &str| {
            g.iter()
                .map(|(id, name, active)| {
                    let label = if *active {
                        name.clone()
                    } else {
                        format!("{name} ({})", lang.t(inactive))
                    };
                    (id.to_string(), label)
                })
                .collect()
        };
        match kind {
            Kind::Dictionary("custom") => field
                .strip_prefix("custom.")
                .and_then(|k| self.defs.iter().find(|d| d.key == k))
                .map(|d| d.options.iter().map(|o| (o.clone(), o.clone())).collect())
                .unwrap_or_default(),
            Kind::Dictionary(name) => self
                .dicts
                .iter()
                .find(|(d, _)| d == name)
                .map(|(_, e)| e.clone())
                .unwrap_or_default(),
            Kind::Campaign => groups(&self.campaigns, "filter.inactive_campaign"),
            Kind::Segment => groups(&self.segments, "filter.inactive_segment"),
            Kind::User => self
                .users
                .iter()
                .map(|(id, l)| (id.to_string(), l.clone()))
                .collect(),
            Kind::RecordKind => ["person", "organization"]
                .iter()
                .map(|k| (k.to_string(), lang.t(&format!("kind.{k}")).to_string()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The row of criterion `c`, shown as number `i`.
    pub fn row(&self, lang: Lang, i: usize, c: &Criterion) -> CritRow {
        let kind = kind_of(&c.field, &self.defs);
        let input = kind.map(Kind::input).unwrap_or("text");
        let allowed: &[Op] = kind.map(Kind::ops).unwrap_or(&Op::ALL);
        let ops = allowed
            .iter()
            .map(|o| Opt {
                value: o.as_str().to_string(),
                label: op_label(lang, input, *o).to_string(),
                selected: *o == c.op,
            })
            .collect();
        let texts: Vec<String> = match &c.value {
            Value::Array(a) => a.iter().map(value_text).collect(),
            Value::Null => Vec::new(),
            v => vec![value_text(v)],
        };
        let (mut v, mut vt, mut v2, mut v2t) = Default::default();
        match input {
            "date" => {
                let split = |s: &str| match s.split_once(['T', ' ']) {
                    Some((d, t)) => (d.to_string(), t.to_string()),
                    None => (s.to_string(), String::new()),
                };
                if let Some(a) = texts.first() {
                    (v, vt) = split(a);
                }
                if let Some(b) = texts.get(1) {
                    (v2, v2t) = split(b);
                }
            }
            "number" => {
                v = texts.first().cloned().unwrap_or_default();
                v2 = texts.get(1).cloned().unwrap_or_default();
            }
            _ => v = texts.join(", "),
        }
        let kind_choices = kind
            .map(|k| self.choices(lang, &c.field, k))
            .unwrap_or_default();
        let choices: Vec<Opt> = kind_choices
            .into_iter()
            .map(|(value, label)| Opt {
                selected: texts.iter().any(|t| t == &value),
                value,
                label,
            })
            .collect();
        let picked = choices
            .iter()
            .filter(|o| o.selected)
            .map(|o| o.label.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        CritRow {
            i,
            label: self.label(lang, &c.field),
            field: c.field.clone(),
            input,
            op: c.op.as_str().to_string(),
            ops,
            v,
            vt,
            v2,
            v2t,
            picked: if picked.is_empty() {
                lang.t("filter.choose").to_string()
            } else {
                picked
            },
            choices,
            hint: match input {
                "text" | "phone" => "filter.hint_text",
                "tag" | "record" => "filter.hint_list",
                _ => "",
            },
            error: None,
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

/// An operator as the user reads it; dates say before / after, numbers less / more.
pub fn op_label(lang: Lang, input: &str, op: Op) -> &'static str {
    let key = match (input, op) {
        ("date", Op::Lt) => "op.before",
        ("date", Op::Gt) => "op.after",
        ("date", Op::Eq) => "op.on",
        (_, Op::Eq) => "op.eq",
        (_, Op::Like) => "op.like",
        (_, Op::In) => "op.in",
        (_, Op::Lt) => "op.lt",
        (_, Op::Gt) => "op.gt",
        (_, Op::Between) => "op.between",
        (_, Op::Empty) => "op.empty",
        (_, Op::NotEmpty) => "op.not_empty",
    };
    lang.t(key)
}

/// Reads `f`: the filter's JSON.
pub fn parse_f(f: Option<&str>) -> Result<Filter, ()> {
    match f.map(str::trim) {
        None | Some("") => Ok(Filter::default()),
        Some(s) => serde_json::from_str(s).map_err(|_| ()),
    }
}

/// The filter's JSON for a URL, or None when it has no criteria.
pub fn f_param(filter: &Filter) -> Option<String> {
    if filter.all.is_empty() {
        return None;
    }
    serde_json::to_string(filter).ok().map(|j| encode(&j))
}

/// The builder's rows (`c<N>.<part>`) in their order.
fn rows_of(pairs: &[(String, String)]) -> Vec<(usize, Vec<(&str, &str)>)> {
    let mut rows: Vec<(usize, Vec<(&str, &str)>)> = Vec::new();
    for (k, v) in pairs {
        let Some((n, part)) = k.strip_prefix('c').and_then(|r| r.split_once('.')) else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else { continue };
        match rows.iter_mut().find(|(i, _)| *i == n) {
            Some((_, parts)) => parts.push((part, v.as_str())),
            None => rows.push((n, vec![(part, v.as_str())])),
        }
    }
    rows.sort_by_key(|(n, _)| *n);
    rows
}

/// The highest row number in the form, for numbering a new row.
pub fn next_row(pairs: &[(String, String)]) -> usize {
    rows_of(pairs).last().map(|(n, _)| n + 1).unwrap_or(0)
}

/// Turns the builder's form into a filter. Values are kept as typed, so a wrong one comes
/// back with its error beside it.
pub fn filter_from_form(pairs: &[(String, String)], defs: &[FieldDefinition]) -> Filter {
    let mut all = Vec::new();
    for (_, parts) in rows_of(pairs) {
        let get = |name: &str| {
            parts
                .iter()
                .find(|(p, _)| *p == name)
                .map(|(_, v)| v.trim())
                .unwrap_or_default()
        };
        let field = get("field");
        if field.is_empty() {
            continue;
        }
        let kind = kind_of(field, defs);
        let op = Op::parse(get("op"))
            .or_else(|| kind.and_then(|k| k.ops().first().copied()))
            .unwrap_or(Op::Eq);
        let list = |s: &str| -> Value {
            Value::Array(
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| Value::String(x.to_string()))
                    .collect(),
            )
        };
        let text = |s: &str| Value::String(s.to_string());
        let value = if matches!(op, Op::Empty | Op::NotEmpty) {
            Value::Null
        } else {
            match kind {
                Some(Kind::Mine) => {
                    if get("v").is_empty() {
                        // "My records" unticked: no criterion.
                        continue;
                    }
                    Value::Bool(true)
                }
                Some(Kind::Dictionary(_) | Kind::Campaign | Kind::Segment | Kind::User) => {
                    let ints = matches!(kind, Some(Kind::Campaign | Kind::Segment | Kind::User));
                    Value::Array(
                        parts
                            .iter()
                            .filter(|(p, v)| *p == "v" && !v.trim().is_empty())
                            .map(|(_, v)| match v.trim().parse::<i64>() {
                                Ok(n) if ints => Value::from(n),
                                _ => text(v.trim()),
                            })
                            .collect(),
                    )
                }
                Some(Kind::Tag | Kind::Record) => list(get("v")),
                Some(Kind::Date) => {
                    let at = |d: &str, t: &str| {
                        if t.is_empty() || d.is_empty() {
                            d.to_string()
                        } else {
                            format!("{d}T{t}")
                        }
                    };
                    let a = at(get("v"), get("vt"));
                    if op == Op::Between {
                        Value::Array(vec![text(&a), text(&at(get("v2"), get("v2t")))])
                    } else {
                        text(&a)
                    }
                }
                Some(Kind::Number) if op == Op::Between => {
                    Value::Array(vec![text(get("v")), text(get("v2"))])
                }
                _ if op == Op::In => list(get("v")),
                _ => text(get("v")),
            }
        };
        all.push(Criterion {
            field: field.to_string(),
            op,
            value,
        });
    }
    Filter { all }
}

/// Puts each validation error beside its criterion (`filter.all[i].…`); returns the ones
/// that name no criterion.
pub fn place_errors(
    rows: &mut [CritRow],
    errors: &[kartoteka_domain::record::FieldError],
    lang: Lang,
) -> Vec<String> {
    let mut rest = Vec::new();
    for e in errors {
        let msg = message(lang, &e.code, &e.message);
        let at = e
            .field
            .strip_prefix("filter.all[")
            .and_then(|r| r.split_once(']'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        match at.and_then(|i| rows.get_mut(i)) {
            Some(row) => {
                row.error = Some(match row.error.take() {
                    Some(prev) => format!("{prev}; {msg}"),
                    None => msg,
                })
            }
            None => rest.push(msg),
        }
    }
    rest
}

/// An error in the user's language: this table's text for the code when it has one.
pub fn message(lang: Lang, code: &str, fallback: &str) -> String {
    let own = lang.t(&format!("err.{code}"));
    if own != "?" && (lang == Lang::Pl || fallback.is_empty() || code_is_ui(code)) {
        own.to_string()
    } else {
        fallback.to_string()
    }
}

/// Codes whose API message speaks to API clients (`send confirm=N`), not to people.
fn code_is_ui(code: &str) -> bool {
    matches!(code, "confirmation_required" | "empty" | "out_of_range")
}

#[derive(Template)]
#[template(path = "records_criterion.html")]
struct CriterionRow {
    page: PageCtx,
    row: CritRow,
}

/// `GET /records/criterion?add=FIELD&…the builder's form…`: a new row for the builder.
pub async fn criterion(
    State(app): State<App>,
    s: UiSession,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let field = pairs
        .iter()
        .find(|(k, _)| k == "add")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let defs = app.custom_definitions().await.unwrap_or_default();
    let Some(kind) = kind_of(&field, &defs) else {
        return axum::http::StatusCode::NO_CONTENT.into_response();
    };
    let mut needs = Needs::default();
    needs.add(Some(kind));
    let catalog = Catalog::load(&app, &s, defs, needs).await;
    let c = Criterion {
        field,
        op: kind.ops().first().copied().unwrap_or(Op::Eq),
        value: if kind == Kind::Mine {
            Value::Bool(true)
        } else {
            Value::Null
        },
    };
    render(&CriterionRow {
        row: catalog.row(s.lang, next_row(&pairs), &c),
        page: s.page("records"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_form_becomes_a_filter_row_by_row() {
        let f = filter_from_form(
            &pairs(&[
                ("q", ""),
                ("c2.field", "campaigns"),
                ("c2.op", "in"),
                ("c2.v", "3"),
                ("c2.v", "5"),
                ("c0.field", "last_name"),
                ("c0.op", "like"),
                ("c0.v", " %ski "),
                ("c7.field", "created_at"),
                ("c7.op", "between"),
                ("c7.v", "2026-01-01"),
                ("c7.v2", "2026-01-31"),
                ("c7.v2t", "12:00"),
                ("c8.field", "mine"),
                ("c8.op", "eq"),
                ("c9.field", "tags"),
                ("c9.op", "in"),
                ("c9.v", "vip, , new"),
                ("c10.field", "city"),
                ("c10.op", "empty"),
                ("c10.v", "x"),
            ]),
            &[],
        );
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"all": [
                {"field": "last_name", "op": "like", "value": "%ski"},
                {"field": "campaigns", "op": "in", "value": [3, 5]},
                {"field": "created_at", "op": "between", "value": ["2026-01-01", "2026-01-31T12:00"]},
                {"field": "tags", "op": "in", "value": ["vip", "new"]},
                {"field": "city", "op": "empty"},
            ]})
        );
        assert_eq!(next_row(&pairs(&[("c3.field", "x"), ("c10.v", "")])), 11);
    }

    #[test]
    fn a_filter_comes_back_as_rows_with_their_errors() {
        let f: Filter = serde_json::from_value(json!({"all": [
            {"field": "created_at", "op": "between", "value": ["2026-01-01T10:00", "2026-02-01"]},
            {"field": "kind", "op": "eq", "value": "person"},
        ]}))
        .unwrap();
        let c = Catalog::default();
        let mut rows: Vec<CritRow> = f
            .all
            .iter()
            .enumerate()
            .map(|(i, x)| c.row(Lang::En, i, x))
            .collect();
        assert_eq!(
            (rows[0].v.as_str(), rows[0].vt.as_str(), rows[0].v2.as_str()),
            ("2026-01-01", "10:00", "2026-02-01")
        );
        assert!(
            rows[1]
                .choices
                .iter()
                .any(|o| o.value == "person" && o.selected)
        );
        let errs = vec![kartoteka_domain::record::FieldError {
            field: "filter.all[1].value".into(),
            code: "invalid_value".into(),
            message: "expected person or organization".into(),
        }];
        assert!(place_errors(&mut rows, &errs, Lang::En).is_empty());
        assert_eq!(
            rows[1].error.as_deref(),
            Some("expected person or organization")
        );
    }
}
