//! PostgreSQL's import writer: an import that only creates records writes its transactions
//! over `COPY … FROM STDIN` on a connection of its own, not through multi-row statements
//! (the server's insert of a JSON row cost ~70 µs a record, session 7). The counterpart of
//! [`super::SqliteWriter`], with the same steps: [`begin`](PgWriter::begin), chunks of
//! records, journal rows and the job's cursor, then [`commit`](PgWriter::commit). Dropped
//! mid-transaction (an error), its connection closes and the server rolls back.

use std::io::Write as _;

use sqlx::Connection as _;
use sqlx::postgres::{PgArguments, PgConnection, Postgres};
use sqlx::query::Query;

use super::*;
use crate::imports::Journal;

/// Bytes of COPY data sent to the server at a time.
const COPY_BUFFER: usize = 1 << 20;

pub struct PgWriter {
    conn: PgConnection,
    /// Child rows of the transaction's records, copied table by table at its commit.
    children: ChildRows,
}

impl PgWriter {
    /// A connection of its own to the database at `url`.
    pub async fn open(url: &str) -> Result<PgWriter> {
        Ok(PgWriter {
            conn: PgConnection::connect(url).await?,
            children: ChildRows::default(),
        })
    }

    pub async fn begin(&mut self) -> Result<()> {
        sqlx::raw_sql("BEGIN").execute(&mut self.conn).await?;
        Ok(())
    }

    /// Copies `records` in with IDs drawn from the table's sequence (so that records
    /// created meanwhile elsewhere take others), gathering their child rows for the
    /// commit. A public ID that is taken is drawn again.
    pub async fn insert_records(
        &mut self,
        records: &mut [NewRecord],
        field_ids: &HashMap<String, i64>,
    ) -> Result<Vec<i64>> {
        loop {
            let wanted: Vec<String> = records.iter().map(|r| r.public_id.clone()).collect();
            let taken: HashSet<String> =
                sqlx::query_scalar("SELECT public_id FROM records WHERE public_id = ANY($1)")
                    .bind(wanted)
                    .fetch_all(&mut self.conn)
                    .await?
                    .into_iter()
                    .collect();
            if !redraw_taken(records, &taken) {
                break;
            }
        }
        let ids = next_ids(&mut self.conn, "records", records.len()).await?;
        let rows = record_rows(records, &ids);
        copy_rows(&mut self.conn, "records", &record_columns(), &rows).await?;
        drop(rows);
        let cases = records.iter().map(|r| r.cases.len()).sum();
        let mut case_ids = next_ids(&mut self.conn, "cases", cases).await?.into_iter();
        for (r, id) in records.iter().zip(&ids) {
            self.children
                .add(child_rows(r, *id, &mut case_ids, field_ids));
        }
        Ok(ids)
    }

    /// Journals `rows` into `journal`, leaving out those already there.
    pub async fn journal(&mut self, journal: &Journal, rows: &[Vec<Param>]) -> Result<()> {
        for mut s in json_insert(journal.table, journal.cols, rows, true) {
            s.push(&format!(" ON CONFLICT ({}) DO NOTHING", journal.key));
            pg_query(&s.text, &s.params).execute(&mut self.conn).await?;
        }
        Ok(())
    }

    /// Runs one statement with `params` bound in order.
    pub async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        Ok(pg_query(sql, params)
            .execute(&mut self.conn)
            .await?
            .rows_affected())
    }

    /// Copies the gathered child rows in and commits.
    pub async fn commit(&mut self) -> Result<()> {
        for (table, cols, rows) in std::mem::take(&mut self.children.tables) {
            copy_rows(&mut self.conn, table, cols, &rows).await?;
        }
        self.children.next_case = None;
        sqlx::raw_sql("COMMIT").execute(&mut self.conn).await?;
        Ok(())
    }
}

impl PgWriter {
    /// Replaces a duplicate search's stored groups in one transaction of its own, copied
    /// in (249k groups as multi-row JSON statements took 3.6 s at 1M records).
    pub async fn save_groups(
        &mut self,
        job_id: i64,
        groups: &[crate::duplicates::GroupRow],
    ) -> Result<()> {
        self.begin().await?;
        sqlx::query("DELETE FROM duplicate_groups WHERE job_id = $1")
            .bind(job_id)
            .execute(&mut self.conn)
            .await?;
        let mut copy = self
            .conn
            .copy_in_raw(
                "COPY duplicate_groups (job_id, position, size, records, ties, tie_text, held) \
                 FROM STDIN",
            )
            .await?;
        for chunk in groups.chunks(4096) {
            let mut buf = Vec::with_capacity(chunk.len() * 160);
            for g in chunk {
                copy_line(
                    &mut buf,
                    &[
                        Param::from(job_id),
                        g.position.into(),
                        g.size.into(),
                        g.records.as_str().into(),
                        g.ties.as_str().into(),
                        g.tie_text.as_str().into(),
                        g.held.as_str().into(),
                    ],
                );
            }
            copy.send(buf).await?;
        }
        copy.finish().await?;
        sqlx::raw_sql("COMMIT").execute(&mut self.conn).await?;
        Ok(())
    }
}

/// `n` new IDs from `table`'s identity sequence, ascending.
async fn next_ids(conn: &mut PgConnection, table: &'static str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
    )))
    .bind(n as i64)
    .fetch_all(&mut *conn)
    .await?;
    ids.sort_unstable();
    Ok(ids)
}

/// A statement with `params` bound to `$1…` in order.
fn pg_query(sql: &str, params: &[Param]) -> Query<'static, Postgres, PgArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for p in params {
        q = match p {
            Param::Text(v) => q.bind(v.clone()),
            Param::Int(v) => q.bind(*v),
            Param::Real(v) => q.bind(*v),
        };
    }
    q
}

/// `COPY table (cols) FROM STDIN` of `rows`, in COPY's text format.
async fn copy_rows(
    conn: &mut PgConnection,
    table: &str,
    cols: &[&str],
    rows: &[Vec<Param>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({}) FROM STDIN", cols.join(", ")))
        .await?;
    let mut buf = Vec::with_capacity(COPY_BUFFER + 4096);
    for row in rows {
        copy_line(&mut buf, row);
        if buf.len() >= COPY_BUFFER {
            copy.send(std::mem::replace(
                &mut buf,
                Vec::with_capacity(COPY_BUFFER + 4096),
            ))
            .await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// One row in COPY's text format: values separated by tabs, `\N` for NULL, backslash,
/// tab, newline and carriage return escaped; ends with a newline.
fn copy_line(out: &mut Vec<u8>, row: &[Param]) {
    for (i, p) in row.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        // Writing to a Vec cannot fail.
        let _ = match p {
            Param::Text(Some(t)) => {
                for b in t.bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        _ => out.push(b),
                    }
                }
                Ok(())
            }
            Param::Int(Some(v)) => write!(out, "{v}"),
            // As JSON rows write them: a non-finite number as NULL.
            Param::Real(Some(v)) if v.is_finite() => write!(out, "{v}"),
            Param::Text(None) | Param::Int(None) | Param::Real(_) => {
                out.extend_from_slice(b"\\N");
                Ok(())
            }
        };
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_lines_escape_what_the_text_format_reserves() {
        let mut out = Vec::new();
        copy_line(
            &mut out,
            &[
                Param::from("a\tb\\c\nd\re ąę"),
                Param::Int(Some(-7)),
                Param::Real(Some(1.5)),
                Param::Text(None),
                Param::Int(None),
                Param::Real(Some(f64::NAN)),
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "a\\tb\\\\c\\nd\\re ąę\t-7\t1.5\t\\N\t\\N\t\\N\n"
        );
    }
}
