//! Moving what hangs off merged records to their main records, a chunk of merges at a time.

use serde_json::Value;
use sqlx::AnyConnection;

use super::Image;
use crate::params::Sql;
use crate::{Backend, Result};

/// A record merged into another: what `move_links` moves, and from which tables (read off
/// its snapshot, so that nothing is queried for tables it has no rows in).
#[derive(Debug, Clone)]
pub struct Pair {
    pub main: i64,
    pub other: i64,
    pub other_public: String,
    segments: bool,
    cases: bool,
    relations: bool,
    referrers: bool,
}

impl Pair {
    pub fn new(main: i64, other: i64, other_public: &str, image: &Image) -> Pair {
        let has = |t: &str| image.tables.get(t).is_some_and(|r| !r.rows.is_empty());
        Pair {
            main,
            other,
            other_public: other_public.to_string(),
            segments: has("record_segments"),
            cases: has("cases"),
            relations: has("record_relations"),
            referrers: !image.referrers.is_empty(),
        }
    }
}

/// Statements over a round of pairs (the pairs come from `p(main, other, pub)`), in order:
/// segments united; the classifier history of cases in campaigns both have moved to the
/// main record's case (marked with the other's public ID) and their attempts added; the
/// other cases (and their history) marked and moved. Each joins the pairs once
/// (`UPDATE … FROM`): correlated subqueries over `p` scanned it for every row they
/// updated, which grew with the square of a transaction's pairs.
const SEGMENT_ROUND: &str = "INSERT INTO record_segments (record_id, segment_id, added_at) \
     SELECT p.main, s.segment_id, s.added_at FROM p JOIN record_segments s ON s.record_id = p.other \
     WHERE true ON CONFLICT DO NOTHING";
const CASE_ROUND: [&str; 4] = [
    "UPDATE case_classifiers SET origin_record = COALESCE(case_classifiers.origin_record, x.pub), \
     case_id = x.main_case \
     FROM (SELECT o.id AS other_case, m.id AS main_case, p.pub FROM p \
        JOIN cases o ON o.record_id = p.other \
        JOIN cases m ON m.record_id = p.main AND m.campaign_id = o.campaign_id) x \
     WHERE case_classifiers.case_id = x.other_case",
    "UPDATE cases SET attempts = cases.attempts + COALESCE(x.attempts, 0) \
     FROM (SELECT p.main, o.campaign_id, o.attempts FROM p JOIN cases o ON o.record_id = p.other) x \
     WHERE cases.record_id = x.main AND cases.campaign_id = x.campaign_id",
    "UPDATE case_classifiers SET origin_record = COALESCE(case_classifiers.origin_record, x.pub) \
     FROM (SELECT o.id, p.pub FROM p JOIN cases o ON o.record_id = p.other \
        WHERE NOT EXISTS (SELECT 1 FROM cases m WHERE m.record_id = p.main \
        AND m.campaign_id = o.campaign_id)) x \
     WHERE case_classifiers.case_id = x.id",
    "UPDATE cases SET record_id = p.main, origin_record = COALESCE(cases.origin_record, p.pub) \
     FROM p WHERE cases.record_id = p.other AND NOT EXISTS (SELECT 1 FROM cases m \
        WHERE m.record_id = p.main AND m.campaign_id = cases.campaign_id)",
];

/// `WITH p(main, other, pub) AS (<the pairs as one JSON parameter>) ` + `statement`.
fn with_pairs(backend: Backend, pairs: &[&Pair], statement: &str) -> Sql {
    let json: Vec<Value> = pairs
        .iter()
        .map(|p| serde_json::json!([p.main, p.other, p.other_public]))
        .collect();
    let mut sql = Sql::new("WITH p(main, other, pub) AS MATERIALIZED (");
    if backend == Backend::Postgres {
        sql.push("SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2 FROM jsonb_array_elements(")
            .bind(Value::Array(json).to_string())
            .push("::jsonb) e) ");
    } else {
        sql.push("SELECT value->>0, value->>1, value->>2 FROM jsonb_each(")
            .bind(Value::Array(json).to_string())
            .push(")) ");
    }
    sql.push(statement);
    sql
}

/// Moves what hangs off merged records to their main records before they are deleted:
/// segments united, cases in campaigns the main record lacks moved (marked with the
/// other's public ID), the classifier history and attempts of cases in campaigns both
/// have added to the main record's case, relations re-pointed, people of an organization
/// re-pointed. `groups` lists each main record's pairs in merge order; the k-th pairs of
/// all groups move together (one statement per kind of link), so that a group with
/// several merged records moves them one after the other, as if merged one by one.
pub async fn move_links(
    conn: &mut AnyConnection,
    backend: Backend,
    groups: &[Vec<Pair>],
) -> Result<()> {
    let rounds = groups.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..rounds {
        let round: Vec<&Pair> = groups.iter().filter_map(|g| g.get(k)).collect();
        let segments: Vec<&Pair> = round.iter().copied().filter(|p| p.segments).collect();
        if !segments.is_empty() {
            with_pairs(backend, &segments, SEGMENT_ROUND)
                .query()
                .execute(&mut *conn)
                .await?;
        }
        let cases: Vec<&Pair> = round.iter().copied().filter(|p| p.cases).collect();
        if !cases.is_empty() {
            for statement in CASE_ROUND {
                with_pairs(backend, &cases, statement)
                    .query()
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    for p in groups.iter().flatten() {
        let mut statements: Vec<&str> = Vec::new();
        if p.relations {
            statements.extend([
                "INSERT INTO record_relations (record_id, other_id, label) SELECT $1, other_id, label \
                 FROM record_relations WHERE record_id = $2 AND other_id <> $1 ON CONFLICT DO NOTHING",
                "INSERT INTO record_relations (record_id, other_id, label) SELECT record_id, $1, label \
                 FROM record_relations WHERE other_id = $2 AND record_id <> $1 ON CONFLICT DO NOTHING",
            ]);
        }
        if p.referrers {
            statements.push(
                "UPDATE records SET organization_id = $1 WHERE organization_id = $2 AND id <> $1",
            );
        }
        for s in statements {
            sqlx::query(s)
                .bind(p.main)
                .bind(p.other)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}
