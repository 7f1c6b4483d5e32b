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
/// records" they are, and how the query is driven.
#[derive(Debug, Clone, Copy)]
pub struct Where<'a> {
    pub conds: &'a [Cond],
    /// Only the records this agent reaches (SPEC "Who may do what").
    pub agent: Option<i64>,
    /// The user asking (for `mine`).
    pub me: Option<i64>,
    pub backend: Backend,
    /// The unit (see `units`) allowed to drive the query by its index; the others are
    /// checked per row. None: every unit in its index form, the engine chooses.
    pub driver: Option<usize>,
    /// No unit drives: the page walks the sort order and stops at its end (broad filters).
    pub walk: bool,
}

/// A part of a filter that one index can answer: one criterion, or all case criteria
/// together (they apply to one and the same case).
#[derive(Debug, Clone)]
pub enum Unit<'a> {
    Case(Vec<&'a Cond>),
    One(&'a Cond),
}

/// The child table and column of a membership criterion.
fn member(field: &str) -> Option<(&'static str, &'static str)> {
    Some(match field {
        "phone" => ("phones", "number"),
        "email" => ("emails", "address_norm"),
        "tags" => ("record_tags", "tag"),
        "segments" => ("record_segments", "segment_id"),
        "managers" => ("record_managers", "user_id"),
        "campaigns" => ("cases", "campaign_id"),
        _ => return None,
    })
}

/// Record columns with an index of their own.
const INDEXED: [&str; 14] = [
    "created_at",
    "modified_at",
    "last_contact_at",
    "nip",
    "pesel",
    "regon",
    "external_id",
    "id",
    "language",
    "stage",
    "position",
    "acquisition_source",
    "modified_by",
    "organization",
];

impl<'a> Where<'a> {
    /// A scope with no plan: every condition in its index form.
    pub fn new(conds: &'a [Cond], agent: Option<i64>, me: Option<i64>, backend: Backend) -> Self {
        Where {
            conds,
            agent,
            me,
            backend,
            driver: None,
            walk: false,
        }
    }

    /// The units of the filter: the case criteria first (as one), then each other one.
    pub fn units(&self) -> Vec<Unit<'a>> {
        let (case, rest): (Vec<&Cond>, Vec<&Cond>) = self.conds.iter().partition(|c| {
            c.field.starts_with("case.")
                || (c.field == "campaigns" && !matches!(c.test, Test::Empty))
        });
        let mut out = Vec::new();
        if !case.is_empty() {
            out.push(Unit::Case(case));
        }
        out.extend(rest.into_iter().map(Unit::One));
        out
    }

    fn sqlite(&self) -> bool {
        self.backend == Backend::Sqlite
    }

    /// Appends ` AND …` for every condition.
    pub fn push(&self, sql: &mut Sql) {
        let plus = if self.walk && self.sqlite() { "+" } else { "" };
        if let Some(user) = self.agent {
            sql.push(" AND ");
            push_agent_scope(sql, &format!("{plus}r.id"), user);
        }
        // Checks on the row itself first, lookups in other tables last.
        let units = self.units();
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.sort_by_key(|i| match &units[*i] {
            Unit::Case(_) => 1,
            Unit::One(c) => i32::from(self.is_member(c)),
        });
        let companion = |i: usize| match (self.driver.map(|d| &units[d]), &units[i]) {
            // City equality and a created-at range share an index (`records_city_created`).
            (Some(Unit::One(d)), Unit::One(c)) => {
                d.field == "city" && matches!(d.test, Test::Eq(_)) && c.field == "created_at"
            }
            _ => false,
        };
        for i in order {
            let driving = !self.walk && (self.driver.is_none_or(|d| d == i) || companion(i));
            sql.push(" AND ");
            self.push_unit(sql, &units[i], driving || !self.sqlite());
        }
    }

    /// One unit: in its index form when `driving`, else as a per-row check.
    fn push_unit(&self, sql: &mut Sql, u: &Unit<'_>, driving: bool) {
        match u {
            Unit::Case(conds) => {
                if driving {
                    sql.push("r.id IN (");
                    self.push_case_select(sql, conds);
                    sql.push(")");
                } else {
                    sql.push("EXISTS (SELECT 1 FROM cases c WHERE c.record_id = r.id");
                    for c in conds {
                        sql.push(" AND ");
                        self.push_case(sql, c);
                    }
                    sql.push(")");
                }
            }
            Unit::One(c) => self.push_one(sql, c, driving),
        }
    }

    /// `SELECT c.record_id FROM cases c WHERE …` (the records having such a case).
    fn push_case_select(&self, sql: &mut Sql, conds: &[&Cond]) {
        sql.push("SELECT c.record_id FROM cases c WHERE 1 = 1");
        for c in conds {
            sql.push(" AND ");
            self.push_case(sql, c);
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

    /// `SELECT t.record_id FROM <child table> t WHERE …` for a membership criterion (custom
    /// values included) with a value test.
    fn push_member_select(&self, sql: &mut Sql, c: &Cond) {
        if let Some(key) = c.field.strip_prefix("custom.") {
            let (expr, test) = custom_expr(c);
            sql.push(
                "SELECT v.record_id FROM custom_values v WHERE v.field_id =                  (SELECT id FROM custom_fields WHERE key = ",
            )
            .bind(key.to_string())
            .push(")");
            if !matches!(test, Test::NotEmpty) {
                sql.push(" AND ");
                push_test(sql, &expr, &test);
            }
            return;
        }
        if let Some((table, piece)) = self.fts_infix(c) {
            sql.push(&format!(
                "SELECT t.rowid AS record_id FROM {table} t WHERE {table} MATCH "
            ))
            .bind(fts_phrase(&piece));
            return;
        }
        let Some((table, col)) = member(&c.field) else {
            sql.push("SELECT 0 WHERE 1 = 0");
            return;
        };
        sql.push(&format!("SELECT t.record_id FROM {table} t"));
        if !matches!(c.test, Test::NotEmpty) {
            sql.push(" WHERE ");
            push_test(sql, &format!("t.{col}"), &c.test);
        }
    }

    /// A membership criterion per row: `[NOT] EXISTS (… WHERE record_id = r.id AND …)`.
    fn push_member_exists(&self, sql: &mut Sql, c: &Cond) {
        let negate = matches!(c.test, Test::Empty);
        sql.push(if negate { "NOT EXISTS (" } else { "EXISTS (" });
        if let Some(key) = c.field.strip_prefix("custom.") {
            let (expr, test) = custom_expr(c);
            sql.push(
                "SELECT 1 FROM custom_values v WHERE v.record_id = r.id AND v.field_id =                  (SELECT id FROM custom_fields WHERE key = ",
            )
            .bind(key.to_string())
            .push(")");
            if !matches!(test, Test::Empty | Test::NotEmpty) {
                sql.push(" AND ");
                push_test(sql, &expr, &test);
            }
        } else if let Some((table, col)) = member(&c.field) {
            sql.push(&format!("SELECT 1 FROM {table} t WHERE t.record_id = r.id"));
            if !matches!(c.test, Test::Empty | Test::NotEmpty) {
                sql.push(" AND ");
                push_test(sql, &format!("t.{col}"), &c.test);
            }
        }
        sql.push(")");
    }

    /// A set of records in another table: memberships, custom values, and (SQLite) an
    /// infix of one piece, which its trigram table answers exactly.
    fn is_member(&self, c: &Cond) -> bool {
        c.field.starts_with("custom.") || member(&c.field).is_some() || self.fts_infix(c).is_some()
    }

    /// `%piece%` on a keyed text, piece of 3 or more characters, on SQLite: the trigram
    /// table and the piece (its phrase matches exactly the keys containing the piece).
    fn fts_infix(&self, c: &Cond) -> Option<(String, String)> {
        let (k, _) = keyed(&c.field)?;
        match &c.test {
            Test::Like(p)
                if self.sqlite()
                    && !p.anchored_start
                    && !p.anchored_end
                    && p.pieces.len() == 1
                    && p.pieces[0].chars().count() >= 3 =>
            {
                Some((trgm(k), p.pieces[0].clone()))
            }
            _ => None,
        }
    }

    fn push_one(&self, sql: &mut Sql, c: &Cond, driving: bool) {
        // A criterion that does not drive keeps SQLite off its index: without statistics
        // on value ranges SQLite guesses a range narrower than an equality it knows.
        let plus = if !driving && self.sqlite() { "+" } else { "" };
        let col = |name: &str| format!("{plus}r.{name}");
        if self.fts_infix(c).is_some() && !driving {
            // Per row, the folded key's LIKE is cheaper than a trigram lookup.
            let (k, _) = keyed(&c.field).unwrap_or(("k_last", "x_last"));
            return push_test(sql, &col(k), &c.test);
        }
        if self.is_member(c) {
            if driving && !matches!(c.test, Test::Empty) {
                sql.push("r.id IN (");
                self.push_member_select(sql, c);
                sql.push(")");
            } else {
                self.push_member_exists(sql, c);
            }
            return;
        }
        match (c.field.as_str(), c.kind) {
            (field, Kind::Text) => match keyed(field) {
                Some((k, x)) => self.push_keyed(sql, (&col(k), &col(x), k), &c.test, driving),
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
                sql.push("(EXISTS (SELECT 1 FROM record_managers m WHERE m.record_id = r.id AND m.user_id = ")
                    .bind(me)
                    .push(") OR EXISTS (SELECT 1 FROM cases c WHERE c.record_id = r.id AND c.assigned_to = ")
                    .bind(me)
                    .push("))");
            }
            (field, _) => push_test(sql, &col(field), &c.test),
        }
    }

    /// A text criterion on a field with folded (`k`) and reversed (`x`) keys; `bare` is the
    /// folded key's column name (which names its trigram table).
    fn push_keyed(
        &self,
        sql: &mut Sql,
        (k, x, bare): (&str, &str, &str),
        test: &Test,
        driving: bool,
    ) {
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
        if driving {
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
            } else if self.sqlite()
                && let Some(piece) = longest(p)
            {
                // The trigram index finds the candidates; LIKE below checks the whole pattern.
                sql.push(&format!(
                    "r.id IN (SELECT rowid FROM {} WHERE {} MATCH ",
                    trgm(bare),
                    trgm(bare)
                ))
                .bind(fts_phrase(piece))
                .push(") AND ");
            }
        }
        sql.push(&format!("{k} LIKE "))
            .bind(like)
            .push(" ESCAPE '\\'");
    }

    /// A query counting, up to `cap`, the records unit `u` alone finds through its index;
    /// None when it has no index to answer from (it never drives).
    pub fn estimate_sql(&self, u: &Unit<'_>, cap: i64) -> Option<Sql> {
        let mut sql = Sql::new("SELECT COUNT(*) FROM (");
        match u {
            Unit::Case(conds) => self.push_case_select(&mut sql, conds),
            Unit::One(c) if self.is_member(c) => {
                if matches!(c.test, Test::Empty) {
                    return None;
                }
                self.push_member_select(&mut sql, c);
            }
            Unit::One(c) => {
                let indexed = match (keyed(&c.field), &c.test) {
                    (Some(_), Test::Eq(_)) => true,
                    (Some(_), Test::Like(p)) => {
                        p.anchored_start || p.anchored_end || longest(p).is_some()
                    }
                    (Some(_), _) => false,
                    (None, Test::Empty | Test::NotEmpty | Test::Like(_)) => false,
                    (None, _) => INDEXED.contains(&c.field.as_str()),
                };
                if !indexed {
                    return None;
                }
                match (keyed(&c.field), &c.test) {
                    (Some((k, _)), Test::Like(p)) if !p.anchored_start && !p.anchored_end => {
                        let piece = longest(p)?;
                        sql.push(&format!(
                            "SELECT rowid FROM {} WHERE {} MATCH ",
                            trgm(k),
                            trgm(k)
                        ))
                        .bind(fts_phrase(piece));
                    }
                    _ => {
                        sql.push("SELECT 1 FROM records r WHERE ");
                        self.push_one(&mut sql, c, true);
                    }
                }
            }
        }
        sql.push(" LIMIT ").bind(cap + 1).push(") t");
        Some(sql)
    }

    /// When every unit is a membership (and no agent scope applies): the count taken from
    /// the child tables alone, without visiting the records.
    pub fn member_count_sql(&self) -> Option<Sql> {
        if self.agent.is_some() || self.conds.is_empty() {
            return None;
        }
        let units = self.units();
        let all_members = units.iter().all(|u| match u {
            Unit::Case(_) => true,
            Unit::One(c) => self.is_member(c) && !matches!(c.test, Test::Empty),
        });
        if !all_members {
            return None;
        }
        let mut sql = Sql::new("SELECT COUNT(*) FROM (");
        for (i, u) in units.iter().enumerate() {
            if i > 0 {
                sql.push(" INTERSECT ");
            }
            match u {
                Unit::Case(conds) => self.push_case_select(&mut sql, conds),
                Unit::One(c) => self.push_member_select(&mut sql, c),
            }
        }
        if units.len() == 1 && !self.unique_members(&units[0]) {
            // One set: its duplicates (a record with two matching phones) counted once.
            let text = std::mem::take(&mut sql.text);
            sql.text = text.replacen(
                "SELECT COUNT(*) FROM (SELECT ",
                "SELECT COUNT(*) FROM (SELECT DISTINCT ",
                1,
            );
        }
        sql.push(") t");
        Some(sql)
    }

    /// Whether a unit's set holds each record at most once (no DISTINCT needed): one
    /// campaign (one case per record and campaign), one segment, tag or manager, a trigram
    /// table.
    fn unique_members(&self, u: &Unit<'_>) -> bool {
        let single =
            |t: &Test| matches!(t, Test::Eq(_)) || matches!(t, Test::In(v) if v.len() == 1);
        match u {
            Unit::Case(conds) => conds
                .iter()
                .any(|c| c.field == "campaigns" && single(&c.test)),
            Unit::One(c) => {
                // One value of a custom field: one row per record and field.
                self.fts_infix(c).is_some()
                    || ((matches!(c.field.as_str(), "segments" | "tags" | "managers")
                        || c.field.starts_with("custom."))
                        && single(&c.test))
            }
        }
    }

    /// Whether a last-name criterion anchored at its start (it follows the default sort,
    /// so walking the sort order would start far from its rows).
    pub fn has_name_prefix(&self) -> bool {
        self.conds.iter().any(|c| {
            c.field == "last_name"
                && match &c.test {
                    Test::Eq(_) => true,
                    Test::Like(p) => p.anchored_start,
                    _ => false,
                }
        })
    }
}

/// The trigram table of a folded key column.
fn trgm(k: &str) -> String {
    format!("trgm_{}", k.trim_start_matches("k_"))
}

/// A literal FTS5 phrase.
fn fts_phrase(piece: &str) -> String {
    format!("\"{}\"", piece.replace('"', "\"\""))
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
