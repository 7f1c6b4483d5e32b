//! SQLite's trigram tables after a bulk merge, which suspends their triggers for each of
//! its transactions and writes the trigrams of what it removed and changed itself.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::duplicates::{bulk_merge, id, search, state};
use crate::helpers::*;

async fn internal_id(t: &TestApp, public_id: &str) -> i64 {
    sqlx::query("SELECT id FROM records WHERE public_id = $1")
        .bind(public_id)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// The rows of a trigram table matching a phrase.
async fn matching(t: &TestApp, table: &str, phrase: &str) -> Vec<i64> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT rowid FROM {table} WHERE {table} MATCH $1 ORDER BY rowid"
    )))
    .bind(format!("\"{phrase}\""))
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get(0).unwrap())
    .collect()
}

/// The records an infix search by last name finds.
async fn by_last_name(t: &TestApp, part: &str) -> Vec<String> {
    let page: Value = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": [{"field": "last_name", "op": "like", "value": format!("%{part}%")}]}}),
        )
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().iter().map(id).collect()
}

#[tokio::test]
async fn a_bulk_merge_leaves_the_trigram_tables_as_their_triggers_would() {
    // Two groups in the first transaction: the job runs several.
    let t = spawn_app_with(|c| c.duplicate_first_chunk = 2).await;
    if t.app.db.backend != kartoteka_store::Backend::Sqlite {
        eprintln!("skipped: SQLite's trigram tables (PostgreSQL's trigram indexes are indexes)");
        return;
    }
    let mut pairs = Vec::new();
    for i in 0..5 {
        let phone = format!("600 300 20{i}");
        // The main record (older) has no last name; the other one's comes to it. The
        // other one's city goes with it (the main record's is newer).
        let b = t
            .create(json!({"kind": "person", "last_name": format!("Qwxyz{i}"), "city": format!("Oldcity{i}"),
                           "phones": [phone]}))
            .await;
        let a = t
            .create(json!({"kind": "person", "first_name": format!("Anna{i}"), "phones": [phone]}))
            .await;
        let r = t
            .patch(
                &t.admin_token,
                &format!("/api/v1/records/{}", id(&a)),
                json!({"city": format!("Newcity{i}")}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        pairs.push((internal_id(&t, &id(&b)).await, b, a));
    }
    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
    assert_eq!(view["ready"], 5, "{view}");
    let (_, done) = bulk_merge(&t, sid, 5).await;
    assert_eq!(done["result"]["removed"], 5, "{done}");
    for (i, (b_id, b, a)) in pairs.iter().enumerate() {
        // b was the older record: it stays and takes a's first name and newer city.
        let (main, removed) = (b, a);
        assert!(state(&t, &id(removed)).await.is_null());
        let main_id = internal_id(&t, &id(main)).await;
        assert_eq!(main_id, *b_id);
        assert_eq!(
            matching(&t, "trgm_first", &format!("anna{i}")).await,
            vec![main_id]
        );
        assert_eq!(
            matching(&t, "trgm_city", &format!("newcity{i}")).await,
            vec![main_id]
        );
        assert!(
            matching(&t, "trgm_city", &format!("oldcity{i}"))
                .await
                .is_empty()
        );
        assert_eq!(
            matching(&t, "trgm_last", &format!("qwxyz{i}")).await,
            vec![main_id]
        );
        assert_eq!(by_last_name(&t, &format!("wxyz{i}")).await, vec![id(main)]);
    }
    // The triggers are back: a later edit and a new record reach the trigram tables.
    let triggers: i64 = sqlx::query(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'records_trgm_%'",
    )
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap()
    .try_get(0)
    .unwrap();
    assert_eq!(triggers, 7);
    // Each table merges its segments again (the bulk transactions turned it off).
    for (table, _) in kartoteka_store::trigrams::TRIGRAM_TABLES {
        let automerge: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT v FROM {table}_config WHERE k = 'automerge'"
        )))
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(automerge, 4, "{table}");
    }
    let (_, main, _) = &pairs[0];
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{}", id(main)),
            json!({"last_name": "Zzyzx"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(by_last_name(&t, "zyzx").await, vec![id(main)]);
    assert!(matching(&t, "trgm_last", "qwxyz0").await.is_empty());
}
