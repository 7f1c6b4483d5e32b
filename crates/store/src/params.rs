//! Building statements with run-time shapes (multi-row inserts, optional filters) while
//! keeping every value a bound parameter.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(Some(s.to_string()))
    }
}
impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(Some(s))
    }
}
impl From<Option<String>> for Param {
    fn from(s: Option<String>) -> Self {
        Param::Text(s)
    }
}
impl From<Option<&str>> for Param {
    fn from(s: Option<&str>) -> Self {
        Param::Text(s.map(str::to_string))
    }
}
impl From<i64> for Param {
    fn from(i: i64) -> Self {
        Param::Int(Some(i))
    }
}
impl From<Option<i64>> for Param {
    fn from(i: Option<i64>) -> Self {
        Param::Int(i)
    }
}
impl From<bool> for Param {
    fn from(b: bool) -> Self {
        Param::Int(Some(i64::from(b)))
    }
}

/// Bound as it is by rusqlite (SQLite's fast paths), texts borrowed.
impl rusqlite::types::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Param::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Param::Int(Some(i)) => ToSqlOutput::Owned(Value::Integer(*i)),
            Param::Real(Some(r)) => ToSqlOutput::Owned(Value::Real(*r)),
            Param::Text(None) | Param::Int(None) | Param::Real(None) => {
                ToSqlOutput::Owned(Value::Null)
            }
        })
    }
}

/// SQL text and its parameters, numbered `$1…` in the order they are pushed.
#[derive(Debug, Default, Clone)]
pub struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            params: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Param>) -> &mut Self {
        self.params.push(value.into());
        let n = self.params.len();
        self.text.push('$');
        self.text.push_str(&n.to_string());
        self
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments> {
        bind_all(sqlx::query(AssertSqlSafe(self.text.clone())), &self.params)
    }
}

pub fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments>,
    params: &[Param],
) -> Query<'q, Any, AnyArguments> {
    for p in params {
        q = match p {
            Param::Text(v) => q.bind(v.clone()),
            Param::Int(v) => q.bind(*v),
            Param::Real(v) => q.bind(*v),
        };
    }
    q
}

/// `INSERT INTO table (cols) VALUES (…), (…)` for `rows`, in statements of at most
/// `max_params` parameters each.
pub fn multi_insert(
    table: &str,
    cols: &[&str],
    rows: &[Vec<Param>],
    max_params: usize,
) -> Vec<Sql> {
    let per = cols.len().max(1);
    let rows_per_stmt = (max_params / per).max(1);
    rows.chunks(rows_per_stmt)
        .map(|chunk| {
            let mut sql = Sql::new(format!("INSERT INTO {table} ({}) VALUES ", cols.join(", ")));
            for (i, row) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                for (j, v) in row.iter().enumerate() {
                    if j > 0 {
                        sql.push(", ");
                    }
                    sql.bind(v.clone());
                }
                sql.push(")");
            }
            sql
        })
        .collect()
}

/// `INSERT INTO table (cols) VALUES (…), (…)` for `rows` in statements of at most
/// `max_rows` rows, each a power of two of them (so that the statements take a few shapes,
/// which the connection's statement cache keeps). For rows with long texts (snapshots):
/// through one JSON parameter each text is escaped into it, then parsed and unescaped out
/// of it again.
pub fn values_insert(table: &str, cols: &[&str], rows: &[Vec<Param>], max_rows: usize) -> Vec<Sql> {
    let mut out = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let size = max_rows.min(rest.len()).max(1);
        // The largest power of two not above `size`.
        let size = 1usize << (usize::BITS - 1 - size.leading_zeros());
        let (chunk, tail) = rest.split_at(size);
        out.extend(multi_insert(table, cols, chunk, usize::MAX));
        rest = tail;
    }
    out
}

/// `INSERT INTO table (cols) SELECT … FROM <rows as one JSON array>`: many rows through ONE
/// bound parameter (sqlx binds thousands of parameters slowly, and a statement of
/// thousands of `$n` costs SQLite more to prepare than the insert itself). PostgreSQL
/// casts each column to the type of its parameters. Ends with `WHERE true` so that an
/// `ON CONFLICT` clause may follow (SQLite's upsert after a SELECT needs a WHERE).
pub fn json_insert(table: &str, cols: &[&str], rows: &[Vec<Param>], postgres: bool) -> Vec<Sql> {
    rows.chunks(5000)
        .map(|chunk| {
            let mut sql = Sql::new(format!(
                "INSERT INTO {table} ({}) SELECT {} FROM ",
                cols.join(", "),
                json_columns(chunk, cols.len(), postgres).join(", ")
            ));
            push_json_rows(&mut sql, chunk, postgres);
            sql.push(" WHERE true");
            sql
        })
        .collect()
}

/// `UPDATE table SET cols = … FROM <rows as one JSON array> WHERE key = …`: many rows'
/// updates of the same columns through one bound parameter. Each row is the key's value,
/// then the columns' values.
pub fn json_update(
    table: &str,
    key: &str,
    cols: &[&str],
    rows: &[Vec<Param>],
    postgres: bool,
) -> Vec<Sql> {
    rows.chunks(5000)
        .map(|chunk| {
            let selected = json_columns(chunk, cols.len() + 1, postgres);
            let set: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = j.c{}", i + 1))
                .collect();
            let aliased: Vec<String> = selected
                .iter()
                .enumerate()
                .map(|(i, e)| format!("{e} AS c{i}"))
                .collect();
            let mut sql = Sql::new(format!(
                "UPDATE {table} SET {} FROM (SELECT {} FROM ",
                set.join(", "),
                aliased.join(", ")
            ));
            push_json_rows(&mut sql, chunk, postgres);
            sql.push(&format!(") j WHERE {table}.{key} = j.c0"));
            sql
        })
        .collect()
}

/// The expressions reading each of `n` columns from a JSON row (PostgreSQL casts each to
/// the type of its parameters).
fn json_columns(chunk: &[Vec<Param>], n: usize, postgres: bool) -> Vec<String> {
    (0..n)
        .map(|i| {
            if postgres {
                let cast = match chunk.first().and_then(|r| r.get(i)) {
                    Some(Param::Int(_)) => "::bigint",
                    Some(Param::Real(_)) => "::double precision",
                    _ => "",
                };
                format!("(e->>{i}){cast}")
            } else {
                format!("value->>{i}")
            }
        })
        .collect()
}

/// The rows as one JSON array parameter, as a table source.
fn push_json_rows(sql: &mut Sql, chunk: &[Vec<Param>], postgres: bool) {
    let json = json_rows(chunk);
    if postgres {
        // jsonb: `e->>i` on a `json` element re-parses its text up to the i-th value, which
        // made a row of 44 columns cost ~70 µs; on jsonb it is a lookup (9× faster).
        sql.push("jsonb_array_elements(")
            .bind(json)
            .push("::jsonb) e");
    } else {
        sql.push("jsonb_each(").bind(json).push(")");
    }
}

/// The rows as the text of one JSON array of arrays, written straight from the values
/// (building a `serde_json::Value` first copied every text once more).
pub(crate) fn json_rows(chunk: &[Vec<Param>]) -> String {
    fn value(out: &mut Vec<u8>, p: &Param) {
        // Writing to a Vec cannot fail, and every value serializes (a non-finite number
        // as null).
        let _ = match p {
            Param::Text(Some(v)) => serde_json::to_writer(&mut *out, v),
            Param::Int(Some(v)) => serde_json::to_writer(&mut *out, v),
            Param::Real(Some(v)) => serde_json::to_writer(&mut *out, v),
            Param::Text(None) | Param::Int(None) | Param::Real(None) => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        };
    }
    let size: usize = chunk
        .iter()
        .flatten()
        .map(|p| match p {
            Param::Text(Some(v)) => v.len() + 3,
            _ => 8,
        })
        .sum();
    let mut out = Vec::with_capacity(size + chunk.len() * 3 + 2);
    out.push(b'[');
    for (r, row) in chunk.iter().enumerate() {
        if r > 0 {
            out.push(b',');
        }
        out.push(b'[');
        for (i, p) in row.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            value(&mut out, p);
        }
        out.push(b']');
    }
    out.push(b']');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_insert_numbers_placeholders_and_splits_by_parameter_count() {
        let rows = vec![vec![Param::from(1), Param::from("a")]; 3];
        let stmts = multi_insert("t", &["x", "y"], &rows, 4);
        assert_eq!(stmts.len(), 2);
        assert_eq!(
            stmts[0].text,
            "INSERT INTO t (x, y) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(stmts[1].text, "INSERT INTO t (x, y) VALUES ($1, $2)");
    }

    #[test]
    fn values_insert_splits_rows_into_powers_of_two() {
        let rows = vec![vec![Param::from(1), Param::from("a")]; 11];
        let sizes: Vec<usize> = values_insert("t", &["x", "y"], &rows, 4)
            .iter()
            .map(|s| s.params.len() / 2)
            .collect();
        assert_eq!(sizes, vec![4, 4, 2, 1]);
        let one = values_insert("t", &["x", "y"], &rows[..1], 64);
        assert_eq!(one[0].text, "INSERT INTO t (x, y) VALUES ($1, $2)");
        assert!(values_insert("t", &["x"], &[], 8).is_empty());
    }

    #[test]
    fn json_rows_write_every_kind_of_value_as_serde_json_would() -> serde_json::Result<()> {
        let rows = vec![
            vec![
                Param::from("a \"quoted\" \\ line\nbreak ąę\u{1}"),
                Param::Int(Some(-42)),
                Param::Real(Some(1.5)),
            ],
            vec![
                Param::Text(None),
                Param::Int(None),
                Param::Real(Some(f64::NAN)),
            ],
        ];
        let text = json_rows(&rows);
        let expected = serde_json::json!([
            ["a \"quoted\" \\ line\nbreak ąę\u{1}", -42, 1.5],
            [null, null, null]
        ]);
        let parsed: serde_json::Value = serde_json::from_str(&text)?;
        assert_eq!(parsed, expected);
        assert_eq!(json_rows(&[]), "[]");
        Ok(())
    }
}
