use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn wait_for(t: &TestApp, token: &str, job: i64) -> Value {
    t.wait_for_job(token, job).await
}

async fn all_ids(t: &TestApp) -> Vec<String> {
    let page: Value = t
        .get(&t.admin_token, "/api/v1/records?limit=1000&sort=id")
        .await
        .json()
        .await
        .unwrap();
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let mut cursor = page["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let p: Value = t
            .get(
                &t.admin_token,
                &format!("/api/v1/records?limit=1000&sort=id&cursor={c}"),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        cursor = p["next_cursor"].as_str().map(str::to_string);
    }
    ids
}

#[tokio::test]
async fn a_bulk_add_runs_as_a_job_reports_what_it_could_not_change_and_is_audited_once() {
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 1200, 2, false).await.unwrap();
    let manager = t.user_token("m1", "manager", &["record_base"]).await;
    let c: Value = t
        .post(
            &t.admin_token,
            "/api/v1/campaigns",
            json!({"name": "Masowa"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut ids = all_ids(&t).await;
    assert_eq!(ids.len(), 1200);
    ids.push("ZZZZZZZZ".into());
    ids.push("nope".into());
    let r = t
        .post(
            &manager,
            "/api/v1/records/bulk/membership",
            json!({"group_kind": "campaign", "group": c["id"], "action": "add", "ids": ids}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    assert_eq!(job["total"], 1202);
    let done = wait_for(&t, &manager, job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["done"], 1202);
    assert_eq!(done["result"]["changed"], 1200);
    assert_eq!(done["result"]["failed_count"], 2);
    let reasons: Vec<_> = done["result"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [("ZZZZZZZZ", "no such record"), ("nope", "not a record ID")]
    );
    let campaign: Value = t
        .get(&manager, &format!("/api/v1/campaigns/{}", c["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaign["records"], 1200);
    let audit: Value = t
        .get(&t.admin_token, "/api/v1/audit?action=bulk_add_to_campaign")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        1,
        "one entry for the whole bulk action"
    );
    assert_eq!(
        audit["items"][0]["details"]["records"]
            .as_array()
            .unwrap()
            .len(),
        1200
    );
    // Again: nothing changes, and the job says so.
    let again: Value = t
        .post(
            &manager,
            "/api/v1/records/bulk/membership",
            json!({"group_kind": "campaign", "group": c["id"], "action": "add", "ids": &ids[..10]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let again = wait_for(&t, &manager, again["id"].as_i64().unwrap()).await;
    assert_eq!(
        (
            again["result"]["unchanged"].as_i64(),
            again["result"]["changed"].as_i64()
        ),
        (Some(10), None)
    );
    let mine: Value = t.get(&manager, "/api/v1/jobs").await.json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bulk_actions_answer_403_to_agents_and_integrations() {
    let t = spawn_app().await;
    let c: Value = t
        .post(&t.admin_token, "/api/v1/segments", json!({"name": "S"}))
        .await
        .json()
        .await
        .unwrap();
    for (name, role) in [
        ("a1", "agent"),
        ("h1", "home_agent"),
        ("pbx", "integration"),
        ("m0", "manager"),
    ] {
        let token = t.user_token(name, role, &[]).await;
        let r = t.post(&token, "/api/v1/records/bulk/membership", json!({"group_kind": "segment", "group": c["id"], "action": "add", "ids": ["ABCDEFGH"]})).await;
        problem(r, StatusCode::FORBIDDEN).await;
    }
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/records/bulk/membership",
            json!({"group_kind": "team", "group": 1, "action": "add", "ids": ["A"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "group_kind");
}

#[tokio::test]
async fn an_interrupted_job_resumes_from_its_cursor_and_a_cancelled_one_stops() {
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 900, 4, false).await.unwrap();
    let s: Value = t
        .post(
            &t.admin_token,
            "/api/v1/segments",
            json!({"name": "Wznowione"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let ids = all_ids(&t).await;
    // A job a killed server left running: its cursor says the first 500 were done.
    let spec = json!({"kind": "membership", "group": s["id"], "campaign": false, "add": true, "records": ids});
    let db = &t.app.db;
    // One transaction, so the worker never sees the job still queued.
    let mut tx = db.pool.begin().await.unwrap();
    let job =
        kartoteka_store::jobs::insert(&mut *tx, "membership", &spec.to_string(), 900, None, 0)
            .await
            .unwrap();
    sqlx::query("UPDATE jobs SET state = 'running', cursor = 500, done = 500, heartbeat_at = 1 WHERE id = $1").bind(job).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let done = wait_for(&t, &t.admin_token, job).await;
    assert_eq!(
        (done["state"].as_str(), done["done"].as_i64()),
        (Some("done"), Some(900))
    );
    let segment: Value = t
        .get(&t.admin_token, &format!("/api/v1/segments/{}", s["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        segment["records"], 400,
        "only the rows after the cursor were done, none twice"
    );
    // A job asked to stop before it ran does nothing.
    let mut tx = db.pool.begin().await.unwrap();
    let job =
        kartoteka_store::jobs::insert(&mut *tx, "membership", &spec.to_string(), 900, None, 0)
            .await
            .unwrap();
    kartoteka_store::jobs::request_cancel(&mut *tx, job)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let done = wait_for(&t, &t.admin_token, job).await;
    assert_eq!(
        (done["state"].as_str(), done["done"].as_i64()),
        (Some("cancelled"), Some(0))
    );
}

#[tokio::test]
async fn a_failed_job_builds_the_indexes_a_large_write_had_dropped() {
    let t = spawn_app().await;
    let db = &t.app.db;
    // What a large import or bulk merge leaves while it runs: an index dropped and noted.
    let postgres = db.backend == kartoteka_store::Backend::Postgres;
    let (find, count) = if postgres {
        (
            "SELECT indexdef::text FROM pg_indexes WHERE indexname = $1",
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname = $1",
        )
    } else {
        (
            "SELECT sql FROM sqlite_master WHERE name = $1",
            "SELECT COUNT(*) FROM sqlite_master WHERE name = $1",
        )
    };
    let sql: String = sqlx::query_scalar(find)
        .bind("records_k_last")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::query("DROP INDEX records_k_last")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO deferred_indexes (name, sql) VALUES ($1, $2)")
        .bind("records_k_last")
        .bind(&sql)
        .execute(&db.pool)
        .await
        .unwrap();
    // A job that fails: its parameters are not what its kind reads.
    let job = kartoteka_store::jobs::insert(&db.pool, "membership", "{}", 1, None, 0)
        .await
        .unwrap();
    let done = wait_for(&t, &t.admin_token, job).await;
    assert_eq!(done["state"], "failed", "{done}");
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deferred_indexes")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "the failed job's cleanup built the noted index");
    let present: i64 = sqlx::query_scalar(count)
        .bind("records_k_last")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(present, 1, "records_k_last is back");
}
