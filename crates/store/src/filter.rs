//! The filter engine: checked criteria (`domain::filter::Cond`) compiled to SQL conditions
//! on `records r`, using the search keys of migration 0007 (folded prefix, reversed suffix,
//! trigram infix) and the membership tables' indexes.

use kartoteka_domain::filter::{Cond, Kind, Pattern, Test, Val};

use crate::Backend;
use crate::cards::push_agent_scope;
use crate::params::{Param, Sql};

/// The highest character: every key starting with `k` sorts below `k` + this.
const MAX_CHAR: char = '\u{10FFFF}';

/// Which records a query covers: the filter's conditions, an agent's reach, whose "my
/// records" they are.
#[derive(Debug, Clone, Copy)]
pub struct Where<'a> {
    pub conds: &'a [Cond],
    /// Only the records this agent reaches (SPEC "Who may do what").
    pub agent: Option<i64>,
    /// The user asking (for `mine`).
    pub me: Option<i64>,
    pub backend: Backend,
    /// Keep SQLite from driving the query by the filter's indexes (prefixes columns with
    /// `+`), so that a broad filter walks the sort order and stops at the page's end.
    pub unindexed: bool,
}

impl Where<'_> {
    /// Appends ` AND …` for every condition.
    pub fn push(&self, sql: &mut Sql) {
        let plus = if self.unindexed && self.backend == Backend::Sqlite {
            "+"
        } else {
            ""
        };
        let rid = format!("{plus}r.id");
        if let Some(user) = self.agent {
            sql.push(" AND ");
            push_agent_scope(sql, &rid, user);
        }
        let (case, rest): (Vec<&Cond>, Vec<&Cond>) = self.conds.iter().partition(|c| {
            c.field.starts_with("case.")
                || (c.field == "campaigns" && !matches!(c.test, Test::Empty))
        });
        if !case.is_empty() {
            // Case criteria apply to one and the same case.
            sql.push(&format!(
                " AND {rid} IN (SELECT c.record_id FROM cases c WHERE 1 = 1"
            ));
            for c in case {
                sql.push(" AND ");
                self.push_case(sql, c);
            }
            sql.push(")");
        }
        for c in rest {
            sql.push(" AND ");
            self.push_one(sql, c, plus, &rid);
        }
    }

    fn push_case(&self, sql: &mut Sql, c: &Cond) {
        match c.field.as_str() {
            "campaigns" => match &c.test {
                Test::NotEmpty => {
                    sql.push("1 = 1");
                }
                t => push_test(sql, "c.campaign_id", t),
            },
            "case.status" => push_text_test(sql, "LOWER(c.status)", &c.test),
            "case.assigned_to" => push_test(sql, "c.assigned_to", &c.test),
            "case.last_classifier" => push_test(sql, "c.last_classifier", &c.test),
            "case.attempts" => push_test(sql, "c.attempts", &c.test),
            "case.last_call_type" => push_test(sql, "c.last_call_type", &c.test),
            "case.last_call_status" => push_test(sql, "c.last_call_status", &c.test),
            "case.recontact_at" => push_test(sql, "c.recontact_at", &c.test),
            "case.classifiers" => {
                let exists = matches!(c.test, Test::Empty);
                sql.push(if exists { "NOT " } else { "" })
                    .push("EXISTS (SELECT 1 FROM case_classifiers cc WHERE cc.case_id = c.id");
                if !matches!(c.test, Test::Empty | Test::NotEmpty) {
                    sql.push(" AND ");
                    push_test(sql, "cc.classifier", &c.test);
                }
                sql.push(")");
            }
            _ => {
                sql.push("1 = 0");
            }
        }
    }

    fn push_one(&self, sql: &mut Sql, c: &Cond, plus: &str, rid: &str) {
        let col = |name: &str| format!("{plus}r.{name}");
        if let Some(key) = c.field.strip_prefix("custom.") {
            let (expr, test) = custom_expr(c);
            let negate = matches!(c.test, Test::Empty);
            sql.push(&format!(
                "{rid} {}IN (SELECT v.record_id FROM custom_values v WHERE v.field_id = \
                 (SELECT id FROM custom_fields WHERE key = ",
                if negate { "NOT " } else { "" }
            ))
            .bind(key.to_string())
            .push(")");
            if !matches!(c.test, Test::Empty | Test::NotEmpty) {
                sql.push(" AND ");
                push_test(sql, &expr, &test);
            }
            sql.push(")");
            return;
        }
        match (c.field.as_str(), c.kind) {
            (field, Kind::Text) => match keyed(field) {
                Some((k, x)) => self.push_keyed(sql, &col(k), &col(x), k, &c.test, rid),
                None => {
                    let expr = match field {
                        "postal_code" => col("k_postal"),
                        "province" => col("k_province"),
                        "country" => col("k_country"),
                        _ => format!("LOWER({})", col("source")),
                    };
                    push_text_test(sql, &expr, &c.test)
                }
            },
            ("phone", _) => push_member(sql, rid, "phones", "number", &c.test),
            ("email", _) => push_member(sql, rid, "emails", "address_norm", &c.test),
            ("tags", _) => push_member(sql, rid, "record_tags", "tag", &c.test),
            ("segments", _) => push_member(sql, rid, "record_segments", "segment_id", &c.test),
            ("managers", _) => push_member(sql, rid, "record_managers", "user_id", &c.test),
            ("campaigns", _) => push_member(sql, rid, "cases", "campaign_id", &c.test),
            ("id", _) => push_test(sql, &col("public_id"), &c.test),
            ("organization", _) => match &c.test {
                Test::Empty | Test::NotEmpty => push_test(sql, &col("organization_id"), &c.test),
                t => {
                    sql.push(&format!(
                        "{} IN (SELECT o.id FROM records o WHERE ",
                        col("organization_id")
                    ));
                    push_test(sql, "o.public_id", t);
                    sql.push(")");
                }
            },
            ("mine", _) => {
                let me = self.me.unwrap_or(0);
                sql.push(&format!(
                    "({rid} IN (SELECT m.record_id FROM record_managers m WHERE m.user_id = "
                ))
                .bind(me)
                .push(&format!(
                    ") OR {rid} IN (SELECT c.record_id FROM cases c WHERE c.assigned_to = "
                ))
                .bind(me)
                .push("))");
            }
            (field, _) => push_test(sql, &col(field), &c.test),
        }
    }

    /// A text criterion on a field with folded (`k`) and reversed (`x`) keys.
    fn push_keyed(&self, sql: &mut Sql, k: &str, x: &str, bare: &str, test: &Test, rid: &str) {
        let Test::Like(p) = test else {
            return match test {
                Test::Empty => {
                    sql.push(&format!("{k} = ''"));
                }
                Test::NotEmpty => {
                    sql.push(&format!("{k} <> ''"));
                }
                t => push_test(sql, k, t),
            };
        };
        let like = p.to_like();
        let simple_prefix = p.anchored_start && !p.anchored_end && p.pieces.len() == 1;
        let simple_suffix = !p.anchored_start && p.anchored_end && p.pieces.len() == 1;
        if p.anchored_start
            && let Some(first) = p.pieces.first()
        {
            push_range(sql, k, first);
            if simple_prefix {
                return;
            }
            sql.push(" AND ");
        } else if p.anchored_end
            && let Some(last) = p.pieces.last()
        {
            push_range(sql, x, &crate::search_keys::reversed(last));
            if simple_suffix {
                return;
            }
            sql.push(" AND ");
        } else if self.backend == Backend::Sqlite
            && let Some(piece) = longest(p)
        {
            // The trigram index finds the candidates; LIKE below checks the whole pattern.
            sql.push(&format!(
                "{rid} IN (SELECT rowid FROM record_trgm WHERE record_trgm MATCH "
            ))
            .bind(format!("{bare} : \"{}\"", piece.replace('"', "\"\"")))
            .push(") AND ");
        }
        sql.push(&format!("{k} LIKE "))
            .bind(like)
            .push(" ESCAPE '\\'");
    }
}

/// The longest literal piece of a pattern, when the trigram index can search it (≥ 3
/// characters).
fn longest(p: &Pattern) -> Option<&str> {
    p.pieces
        .iter()
        .max_by_key(|s| s.chars().count())
        .filter(|s| s.trim().chars().count() >= 3)
        .map(String::as_str)
}

/// The folded and reversed key columns of an indexed text field.
fn keyed(field: &str) -> Option<(&'static str, &'static str)> {
    Some(match field {
        "last_name" => ("k_last", "x_last"),
        "first_name" => ("k_first", "x_first"),
        "display_name" => ("k_display", "x_display"),
        "city" => ("k_city", "x_city"),
        "address" => ("k_address", "x_address"),
        _ => return None,
    })
}

/// `col` starts with `prefix`.
fn push_range(sql: &mut Sql, col: &str, prefix: &str) {
    sql.push(&format!("{col} >= ")).bind(prefix.to_string());
    sql.push(&format!(" AND {col} < "))
        .bind(format!("{prefix}{MAX_CHAR}"));
}

/// The expression and test of a custom field criterion (numbers compared as numbers,
/// instants as their stored RFC 3339 text, text folded).
fn custom_expr(c: &Cond) -> (String, Test) {
    let to_text = |v: &Val| match v {
        Val::Int(ms) => Val::Text(kartoteka_domain::time::to_rfc3339(*ms)),
        v => v.clone(),
    };
    match c.kind {
        Kind::Number => ("CAST(v.value AS DOUBLE PRECISION)".into(), c.test.clone()),
        Kind::Date => (
            "v.value".into(),
            match &c.test {
                Test::Lt(a) => Test::Lt(to_text(a)),
                Test::Gt(a) => Test::Gt(to_text(a)),
                Test::Between(a, b) => Test::Between(to_text(a), to_text(b)),
                t => t.clone(),
            },
        ),
        Kind::Text => ("v.folded".into(), c.test.clone()),
        _ => ("v.value".into(), c.test.clone()),
    }
}

/// Membership in a child table: `rid IN (SELECT record_id FROM table WHERE col …)`.
fn push_member(sql: &mut Sql, rid: &str, table: &str, col: &str, test: &Test) {
    let negate = matches!(test, Test::Empty);
    sql.push(&format!(
        "{rid} {}IN (SELECT t.record_id FROM {table} t",
        if negate { "NOT " } else { "" }
    ));
    if !matches!(test, Test::Empty | Test::NotEmpty) {
        sql.push(" WHERE ");
        push_test(sql, &format!("t.{col}"), test);
    }
    sql.push(")");
}

/// A text test on an expression holding folded (lower-case) text.
fn push_text_test(sql: &mut Sql, expr: &str, test: &Test) {
    match test {
        Test::Empty => {
            sql.push(&format!("({expr} IS NULL OR {expr} = '')"));
        }
        Test::NotEmpty => {
            sql.push(&format!("{expr} <> ''"));
        }
        t => push_test(sql, expr, t),
    }
}

fn param(v: &Val) -> Param {
    match v {
        Val::Int(i) => Param::from(*i),
        Val::Num(n) => Param::Real(Some(*n)),
        Val::Text(s) => Param::from(s.clone()),
    }
}

/// `expr` passes `test`.
fn push_test(sql: &mut Sql, expr: &str, test: &Test) {
    match test {
        Test::Eq(v) => {
            sql.push(&format!("{expr} = ")).bind(param(v));
        }
        Test::In(vs) => {
            sql.push(&format!("{expr} IN ("));
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(param(v));
            }
            sql.push(")");
        }
        Test::Lt(v) => {
            sql.push(&format!("{expr} < ")).bind(param(v));
        }
        Test::Gt(v) => {
            sql.push(&format!("{expr} > ")).bind(param(v));
        }
        Test::Between(a, b) => {
            sql.push(&format!("{expr} >= ")).bind(param(a));
            sql.push(&format!(" AND {expr} <= ")).bind(param(b));
        }
        Test::Like(p) => {
            sql.push(&format!("{expr} LIKE "))
                .bind(p.to_like())
                .push(" ESCAPE '\\'");
        }
        Test::Empty => {
            sql.push(&format!("{expr} IS NULL"));
        }
        Test::NotEmpty => {
            sql.push(&format!("{expr} IS NOT NULL"));
        }
    }
}
