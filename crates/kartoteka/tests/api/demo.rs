use serde_json::Value;
use sqlx::Row;

use crate::helpers::*;

#[tokio::test]
async fn demo_records_are_valid_polish_records_found_by_identification() {
    let t = spawn_app().await;
    let report = kartoteka::demo::fill(&t.app, 400, 3, false).await.unwrap();
    assert!(report.starts_with("Added 400 demo records"), "{report}");
    let page: Value = t
        .get(&t.admin_token, "/api/v1/records?limit=1000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 400);
    let items = page["items"].as_array().unwrap();
    let orgs = items.iter().filter(|r| r["kind"] == "organization").count();
    assert!((10..100).contains(&orgs), "{orgs} organizations");
    let with_diacritics = items
        .iter()
        .filter(|r| {
            r["display_name"]
                .as_str()
                .unwrap()
                .chars()
                .any(|c| "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ".contains(c))
        })
        .count();
    assert!(
        with_diacritics > 40,
        "{with_diacritics} names with Polish letters"
    );
    assert!(items.iter().any(|r| {
        r["last_name"]
            .as_str()
            .is_some_and(|n| n.ends_with("ski") || n.ends_with("ska"))
    }));
    assert!(items.iter().filter(|r| r["pesel"].is_string()).count() > 200);
    assert!(
        items.iter().any(|r| r["organization"].is_string()),
        "some people belong to organizations"
    );
    // Every stored value passes the validators, and a stored number identifies its record.
    for r in items.iter().take(50) {
        for id in ["nip", "pesel", "regon"] {
            if let Some(v) = r[id].as_str() {
                let valid = match id {
                    "nip" => kartoteka_domain::national::Nip::parse(v).is_ok(),
                    "pesel" => kartoteka_domain::national::Pesel::parse(v).is_ok(),
                    _ => kartoteka_domain::national::Regon::parse(v).is_ok(),
                };
                assert!(valid, "{id} {v}");
            }
        }
        let raw = r["phones"][0]["raw"].as_str().unwrap();
        let found: Value = t
            .get(
                &t.admin_token,
                &format!(
                    "/api/v1/identify?phone={}",
                    raw.replace('+', "%2B").replace(' ', "%20")
                ),
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(
            found["matches"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == r["id"]),
            "{raw}"
        );
    }
    // Demo campaigns hold cases (with classifiers), demo segments hold records.
    let campaigns: Value = t
        .get(&t.admin_token, "/api/v1/campaigns")
        .await
        .json()
        .await
        .unwrap();
    let cases: i64 = campaigns
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["records"].as_i64().unwrap())
        .sum();
    assert!((100..300).contains(&cases), "{cases} cases");
    let segments: Value = t
        .get(&t.admin_token, "/api/v1/segments")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        segments
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["records"].as_i64().unwrap())
            .sum::<i64>()
            > 50
    );
    let with_case = items
        .iter()
        .find(|r| !r["campaigns"].as_array().unwrap().is_empty())
        .unwrap();
    let tabs = t
        .app
        .record_links(
            &kartoteka_app::auth::system_actor(),
            with_case["id"].as_str().unwrap(),
        )
        .await
        .unwrap();
    assert!(!tabs.cases.is_empty() && tabs.cases.iter().all(|c| c.status.is_some()));
    let classified: i64 = sqlx::query("SELECT COUNT(*) FROM case_classifiers")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert!(classified > 50, "{classified} classifier entries");
    // A second run adds to the first without clashing.
    kartoteka::demo::fill(&t.app, 100, 4, false).await.unwrap();
    let page: Value = t
        .get(&t.admin_token, "/api/v1/records?limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 500);
    let users: Value = t
        .get(&t.admin_token, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        users.as_array().unwrap().len(),
        1,
        "demo never creates users"
    );
}

#[tokio::test]
async fn indexes_a_killed_bulk_load_dropped_are_rebuilt_at_the_next_start() {
    let t = spawn_app().await;
    let Some(path) = t.app.db.sqlite_path.clone() else {
        return; // SQLite only
    };
    let count = |db: kartoteka_store::Db| async move {
        sqlx::query(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'phones_number'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
    };
    let load = path.clone();
    let dropped = tokio::task::spawn_blocking(move || {
        let mut loader = kartoteka_store::bulk::SqliteLoader::open(&load).unwrap();
        loader
            .defer_indexes(kartoteka_store::bulk::Defer::All { keep: &[] })
            .unwrap()
        // the loader goes here: killed before building them
    })
    .await
    .unwrap();
    assert!(dropped >= 10);
    assert_eq!(count(t.app.db.clone()).await, 0);
    let db = kartoteka_store::Db::connect(&format!("sqlite:{}", path.display()), 2)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    assert_eq!(count(db).await, 1);
}

#[tokio::test]
async fn a_load_into_a_base_in_use_defers_only_the_filter_indexes() {
    let t = spawn_app().await;
    let Some(path) = t.app.db.sqlite_path.clone() else {
        return; // SQLite only (PostgreSQL's path is the import's test)
    };
    let names = |db: kartoteka_store::Db| async move {
        sqlx::query(
            "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect::<std::collections::BTreeSet<String>>()
    };
    let before = names(t.app.db.clone()).await;
    // The loader blocks: off the test's one runtime thread, where the server's tasks run
    // (one of them may hold the write lock a moment).
    let (mut loader, dropped) = tokio::task::spawn_blocking(move || {
        let mut loader = kartoteka_store::bulk::SqliteLoader::open(&path).unwrap();
        let dropped = loader
            .defer_indexes(kartoteka_store::bulk::Defer::Filters {
                keep: &["records_regon"],
            })
            .unwrap();
        (loader, dropped)
    })
    .await
    .unwrap();
    let during = names(t.app.db.clone()).await;
    let gone: Vec<&String> = before.difference(&during).collect();
    assert_eq!(gone.len(), dropped);
    assert!(
        gone.iter()
            .all(|n| kartoteka_store::bulk::FILTER_INDEXES.contains(&n.as_str())),
        "{gone:?}"
    );
    for kept in [
        "records_regon",
        "phones_number",
        "phones_record",
        "emails_norm",
        "records_pesel",
        "records_nip",
        "records_external",
        "records_organization",
        "records_trgm_insert",
        "cases_campaign",
    ] {
        assert!(during.contains(kept), "{kept} stays");
    }
    assert!(!during.contains("records_k_last") && !during.contains("records_sort"));
    tokio::task::spawn_blocking(move || loader.build_deferred_indexes().unwrap())
        .await
        .unwrap();
    assert_eq!(names(t.app.db.clone()).await, before);
}

/// The planner's statistics of the indexes a load into a base in use drops come back with
/// them while the table's size stays within 4x of what they describe; past that, the build
/// analyzes the table again.
#[tokio::test]
async fn deferred_indexes_get_their_statistics_back_unless_the_table_grew_fourfold() {
    let t = spawn_app().await;
    let Some(path) = t.app.db.sqlite_path.clone() else {
        return;
    };
    for i in 0..8 {
        t.create(serde_json::json!({"kind": "person", "last_name": format!("Nowak{i}")}))
            .await;
    }
    let pool = t.app.db.pool.clone();
    let stat = |idx: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT stat FROM sqlite_stat1 WHERE idx = $1")
                .bind(idx)
                .fetch_optional(&pool)
                .await
                .unwrap()
                .map(|r| r.try_get::<String, _>(0).unwrap())
        }
    };
    // (statistics as stored before the load, what the build leaves)
    for (before, kept) in [("8 7", true), ("1 1", false)] {
        sqlx::query("ANALYZE").execute(&pool).await.unwrap();
        // A marker no ANALYZE writes: kept only if the statistics are put back.
        sqlx::query("UPDATE sqlite_stat1 SET stat = $1 WHERE tbl = 'records'")
            .bind(before)
            .execute(&pool)
            .await
            .unwrap();
        let p = path.clone();
        tokio::task::spawn_blocking(move || {
            let mut loader = kartoteka_store::bulk::SqliteLoader::open(&p).unwrap();
            loader
                .defer_indexes(kartoteka_store::bulk::Defer::Filters { keep: &[] })
                .unwrap();
            assert!(
                loader.build_deferred_indexes().is_ok(),
                "the deferred indexes build"
            );
        })
        .await
        .unwrap();
        let after = stat("records_k_last").await;
        if kept {
            assert_eq!(after.as_deref(), Some(before), "kept: {after:?}");
        } else {
            let after = after.unwrap_or_default();
            assert!(after.starts_with("8 "), "8 records analyzed again: {after}");
        }
    }
}
