//! Duplicates: merging by hand and in bulk, undo, who may (searches: `duplicates_search.rs`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

use crate::helpers::*;

/// Runs a search and returns (search ID, the search view).
pub async fn search(t: &TestApp, token: &str, body: Value) -> (i64, Value) {
    let r = t.post(token, "/api/v1/duplicates/searches", body).await;
    let status = r.status();
    let job: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_i64().unwrap();
    let done = t.wait_for_job(token, id).await;
    assert_eq!(done["state"], "done", "{done}");
    (id, search_view(t, token, id).await)
}

/// A search with its counts, as the API shows it.
pub async fn search_view(t: &TestApp, token: &str, id: i64) -> Value {
    t.get(token, &format!("/api/v1/duplicates/searches/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

pub async fn groups(t: &TestApp, id: i64, query: &str) -> Value {
    let r = t
        .get(
            &t.admin_token,
            &format!("/api/v1/duplicates/searches/{id}/groups{query}"),
        )
        .await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

pub fn ids_of(group: &Value) -> Vec<String> {
    group["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A record as the API shows it, without what a merge and its undo may change (version,
/// modification stamps), with its cases and their classifier history.
pub async fn state(t: &TestApp, public_id: &str) -> Value {
    let r = t
        .get(&t.admin_token, &format!("/api/v1/records/{public_id}"))
        .await;
    if r.status() == StatusCode::NOT_FOUND {
        return Value::Null;
    }
    let mut v: Value = r.json().await.unwrap();
    for k in ["version", "modified_at", "modified_by"] {
        v.as_object_mut().unwrap().remove(k);
    }
    let rows = sqlx::query(
        "SELECT k.campaign_id, k.attempts, k.status, c.classifier, c.at FROM cases k \
         JOIN records r ON r.id = k.record_id LEFT JOIN case_classifiers c ON c.case_id = k.id \
         WHERE r.public_id = $1 ORDER BY k.campaign_id, c.id",
    )
    .bind(public_id)
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap();
    let cases: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!([
                r.try_get::<i64, _>(0).unwrap(),
                r.try_get::<i64, _>(1).unwrap(),
                r.try_get::<Option<String>, _>(2).unwrap(),
                r.try_get::<Option<String>, _>(3).unwrap(),
                r.try_get::<Option<i64>, _>(4).unwrap(),
            ])
        })
        .collect();
    v["cases_rows"] = json!(cases);
    v
}

async fn campaign(t: &TestApp, name: &str) -> i64 {
    let r = t
        .post(&t.admin_token, "/api/v1/campaigns", json!({"name": name}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn segment(t: &TestApp, name: &str) -> i64 {
    let r = t
        .post(&t.admin_token, "/api/v1/segments", json!({"name": name}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn put(t: &TestApp, path: &str) {
    let r = t.call(&t.admin_token, Method::PUT, path, None).await;
    assert!(
        r.status().is_success(),
        "{path}: {}",
        r.text().await.unwrap()
    );
}

async fn classify(t: &TestApp, record: &str, campaign: i64, code: &str) {
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{record}/cases/{campaign}"),
            json!({"classifier": code}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn classifiers(t: &TestApp) {
    for code in ["sale", "callback"] {
        let r = t
            .call(
                &t.admin_token,
                Method::PUT,
                &format!("/api/v1/dictionaries/classifiers/entries/{code}"),
                Some(json!({"label": code})),
            )
            .await;
        assert!(r.status().is_success());
    }
}

async fn merge(t: &TestApp, token: &str, body: Value) -> Value {
    let r = t.post(token, "/api/v1/duplicates/merge", body).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

/// Starts a bulk merge of a search's ready groups, confirming `confirm` removals, and waits
/// for its job: (job ID, the finished job).
pub async fn bulk_merge(t: &TestApp, sid: i64, confirm: i64) -> (i64, Value) {
    let job: Value = t
        .post(
            &t.admin_token,
            &format!("/api/v1/duplicates/searches/{sid}/bulk"),
            json!({"action": "merge", "confirm": confirm}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_i64().unwrap();
    let done = t.wait_for_job(&t.admin_token, id).await;
    assert_eq!(done["state"], "done", "{done}");
    (id, done)
}

/// The operations a bulk job journaled, newest first.
async fn job_operations(t: &TestApp, job: i64) -> Value {
    t.get(
        &t.admin_token,
        &format!("/api/v1/duplicates/operations?job={job}"),
    )
    .await
    .json()
    .await
    .unwrap()
}

async fn undo(t: &TestApp, op: i64) -> reqwest::Response {
    t.post(
        &t.admin_token,
        &format!("/api/v1/duplicates/operations/{op}/undo"),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_merge_keeps_every_phone_and_email_unites_memberships_moves_cases_and_undo_restores_all()
{
    let t = spawn_app().await;
    classifiers(&t).await;
    let a = t
        .create(
            json!({"kind": "person", "first_name": "Anna", "last_name": "Nowak", "city": "Kraków",
                       "phones": ["600 100 200"], "emails": ["anna@nowak.pl"], "tags": ["old"]}),
        )
        .await;
    let b = t
        .create(json!({"kind": "person", "first_name": "Anna", "last_name": "Nowak-Lis",
                       "phones": ["+48600100200", "601 222 333"], "emails": ["ANNA@nowak.pl", "a@lis.pl"],
                       "tags": ["vip"], "custom": {}}))
        .await;
    // b's city is set later than a's: the merged record takes it
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{}", id(&b)),
            json!({"city": "Warszawa"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let both = campaign(&t, "Both").await;
    let only_b = campaign(&t, "Only B").await;
    let seg = segment(&t, "Seg").await;
    for (rec, c) in [(&a, both), (&b, both), (&b, only_b)] {
        put(&t, &format!("/api/v1/records/{}/campaigns/{c}", id(rec))).await;
    }
    put(&t, &format!("/api/v1/records/{}/segments/{seg}", id(&b))).await;
    classify(&t, &id(&a), both, "sale").await;
    classify(&t, &id(&b), both, "callback").await;
    classify(&t, &id(&b), only_b, "sale").await;
    let person = t
        .create(json!({"kind": "person", "first_name": "Related"}))
        .await;
    let before_a = state(&t, &id(&a)).await;
    let before_b = state(&t, &id(&b)).await;

    let r = t
        .post(
            &t.admin_token,
            "/api/v1/duplicates/merge/preview",
            json!({"records": [id(&a), id(&b)]}),
        )
        .await;
    let preview: Value = r.json().await.unwrap();
    assert_eq!(preview["main"], id(&a), "{preview}");
    assert_eq!(preview["merged"], json!([id(&b)]));
    let fields: Vec<&str> = preview["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["city", "last_name"], "{preview}");
    assert_eq!(preview["fields"][0]["chosen"], id(&b));
    assert_eq!(preview["result"]["fields"]["city"], "Warszawa");

    // the user keeps a's last name and makes b's second number the default
    let version_a = t
        .get(&t.admin_token, &format!("/api/v1/records/{}", id(&a)))
        .await
        .json::<Value>()
        .await
        .unwrap()["version"]
        .clone();
    let op = merge(
        &t,
        &t.admin_token,
        json!({"records": [id(&a), id(&b)], "main": id(&a),
               "choices": {"fields": {"last_name": id(&a)}, "default_phone": "+48601222333"},
               "versions": {id(&a): version_a}}),
    )
    .await;
    assert_eq!(op["action"], "merge");
    assert_eq!(op["removed"], json!([id(&b)]));
    assert!(op["undo_until"].is_string());
    let merged = state(&t, &id(&a)).await;
    assert_eq!(merged["city"], "Warszawa");
    assert_eq!(merged["last_name"], "Nowak");
    let numbers: Vec<(&str, bool)> = merged["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["number"].as_str().unwrap(),
                p["default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        numbers,
        vec![("+48600100200", false), ("+48601222333", true)]
    );
    assert_eq!(merged["emails"].as_array().unwrap().len(), 2);
    assert_eq!(merged["tags"], json!(["old", "vip"]));
    let campaigns: Vec<&str> = merged["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(campaigns, vec!["Both", "Only B"]);
    assert_eq!(merged["segments"][0]["name"], "Seg");
    // the main record's case in "Both" stays, with b's classifier and attempts added
    let both_rows: Vec<&Value> = merged["cases_rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r[0] == both)
        .collect();
    assert_eq!(both_rows.len(), 2, "{merged}");
    let origin: Vec<Option<String>> = sqlx::query(
        "SELECT c.origin_record FROM case_classifiers c JOIN cases k ON k.id = c.case_id \
         WHERE k.campaign_id = $1 ORDER BY c.id",
    )
    .bind(both)
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get(0).unwrap())
    .collect();
    assert_eq!(origin, vec![None, Some(id(&b))]);
    assert_eq!(state(&t, &id(&b)).await, Value::Null);
    let _ = person;

    // undo: both records as they were
    let r = undo(&t, op["id"].as_i64().unwrap()).await;
    let undone: Value = r.json().await.unwrap();
    assert!(undone["undone_at"].is_string(), "{undone}");
    assert_eq!(state(&t, &id(&a)).await, before_a);
    assert_eq!(state(&t, &id(&b)).await, before_b);
    // and not twice
    let r = undo(&t, op["id"].as_i64().unwrap()).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_stale_merge_is_refused_and_undo_after_a_later_edit_explains_why_it_cannot() {
    let t = spawn_app().await;
    let a = t
        .create(json!({"kind": "person", "first_name": "A", "phones": ["600 000 009"]}))
        .await;
    let b = t
        .create(json!({"kind": "person", "first_name": "B", "phones": ["600 000 009"]}))
        .await;
    let seen = a["version"].clone();
    // someone edits a after the user opened the merge
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{}", id(&a)),
            json!({"city": "Opole"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/duplicates/merge",
            json!({"records": [id(&a), id(&b)], "versions": {id(&a): seen}}),
        )
        .await;
    let p = problem(r, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains(&id(&a)), "{p}");
    assert_eq!(p["code"], "stale_version");
    // the edit survives; both records still there
    assert_eq!(state(&t, &id(&a)).await["city"], "Opole");
    assert!(!state(&t, &id(&b)).await.is_null());
    let op = merge(&t, &t.admin_token, json!({"records": [id(&a), id(&b)]})).await;
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{}", id(&a)),
            json!({"city": "Nysa"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = undo(&t, op["id"].as_i64().unwrap()).await;
    let p = problem(r, StatusCode::CONFLICT).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("city"), "{detail}");
    assert_eq!(p["code"], "main_changed");
    assert_eq!(state(&t, &id(&a)).await["city"], "Nysa");
    assert!(state(&t, &id(&b)).await.is_null());
}

#[tokio::test]
async fn bulk_merge_takes_every_ready_group_leaves_held_ones_and_each_merge_can_be_undone() {
    // Two groups in the first transaction: the job runs several.
    let t = spawn_app_with(|c| {
        c.duplicate_exclusions = vec!["22 500 00 00".into()];
        c.duplicate_first_chunk = 2;
    })
    .await;
    let mut pairs = Vec::new();
    for i in 0..5 {
        let phone = format!("600 200 10{i}");
        let a = t
            .create(json!({"kind": "person", "first_name": format!("P{i}"), "phones": [phone]}))
            .await;
        let b = t
            .create(json!({"kind": "person", "last_name": format!("L{i}"), "phones": [phone], "emails": [format!("p{i}@x.pl")]}))
            .await;
        pairs.push((a, b));
    }
    // tied only by the switchboard number: held
    let s1 = t
        .create(json!({"kind": "person", "first_name": "S1", "phones": ["22 500 00 00"]}))
        .await;
    let s2 = t
        .create(json!({"kind": "person", "first_name": "S2", "phones": ["22 500 00 00"]}))
        .await;
    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
    assert_eq!(view["ready"], 5, "{view}");
    assert_eq!(view["held_by_reason"]["excluded"], 1);
    // the confirmation must name the records removed
    let r = t
        .post(
            &t.admin_token,
            &format!("/api/v1/duplicates/searches/{sid}/bulk"),
            json!({"action": "merge"}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&p)[0].0, "confirm");
    let (job, done) = bulk_merge(&t, sid, 5).await;
    assert_eq!(done["result"]["groups"], 5);
    assert_eq!(done["result"]["removed"], 5);
    for (a, b) in &pairs {
        let s = state(&t, &id(a)).await;
        assert!(state(&t, &id(b)).await.is_null());
        assert_eq!(s["emails"].as_array().unwrap().len(), 1);
        assert!(s["last_name"].is_string(), "{s}");
    }
    assert!(!state(&t, &id(&s1)).await.is_null());
    assert!(!state(&t, &id(&s2)).await.is_null());
    let view: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/duplicates/searches/{sid}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["resolved"], 5);
    assert_eq!(view["ready"], 0);
    let ops = job_operations(&t, job).await;
    assert_eq!(ops.as_array().unwrap().len(), 5);
    let first = &ops[4];
    let r = undo(&t, first["id"].as_i64().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (a, b) = &pairs[0];
    assert_eq!(state(&t, &id(b)).await["last_name"], "L0");
    assert!(state(&t, &id(a)).await["last_name"].is_null());
    // one audit entry for the job
    let audit = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = 'bulk_merge'")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
    assert_eq!(audit, 1);
}

/// One group in the first transaction: a later transaction's group sees what an earlier
/// one changed of its records (here an organization's people, moved to its main record),
/// and its snapshot is the record as the merge found it.
#[tokio::test]
async fn a_later_group_of_a_bulk_merge_sees_what_an_earlier_group_moved_to_its_records() {
    let t = spawn_app_with(|c| c.duplicate_first_chunk = 1).await;
    let a = t
        .create(json!({"kind": "organization", "name": "Acme", "phones": ["600 300 001"]}))
        .await;
    let a2 = t
        .create(json!({"kind": "organization", "name": "Acme SA", "phones": ["600 300 001"]}))
        .await;
    let x = t
        .create(json!({"kind": "person", "last_name": "Nowak", "organization": id(&a2), "phones": ["600 300 002"]}))
        .await;
    let x2 = t
        .create(json!({"kind": "person", "last_name": "Nowak", "first_name": "Jan", "phones": ["600 300 002"]}))
        .await;
    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
    assert_eq!(view["ready"], 2, "{view}");
    let page = groups(&t, sid, "").await;
    assert!(
        page["items"][0]["records"].to_string().contains(&id(&a)),
        "the organizations' group comes first: {page}"
    );
    let (job, done) = bulk_merge(&t, sid, 2).await;
    assert_eq!(done["result"]["removed"], 2, "{done}");
    let s = state(&t, &id(&x)).await;
    assert_eq!(s["organization"], id(&a), "{s}");
    assert_eq!(s["first_name"], "Jan");
    assert!(state(&t, &id(&x2)).await.is_null());
    // Undoing the people's merge puts back the person as the merge found it: in Acme.
    let ops = job_operations(&t, job).await;
    let people = ops
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["main"] == json!(id(&x)))
        .unwrap();
    let r = undo(&t, people["id"].as_i64().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let s = state(&t, &id(&x)).await;
    assert_eq!(s["organization"], id(&a), "{s}");
    assert!(s["first_name"].is_null(), "{s}");
    assert!(!state(&t, &id(&x2)).await.is_null());
}

/// A merge builds its records' cards from their snapshots; in debug builds (tests) it also
/// reads them directly and fails on any difference. Records here carry what the other tests
/// leave out: custom values of two types, managers, an organization, tags and e-mails.
#[tokio::test]
async fn a_merge_of_records_with_custom_values_managers_and_an_organization_keeps_them() {
    let t = spawn_app().await;
    for body in [
        json!({"key": "budget", "label": "Budget", "type": "number"}),
        json!({"key": "note", "label": "Note", "type": "text"}),
    ] {
        let r = t.post(&t.admin_token, "/api/v1/fields", body).await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let org = t
        .create(json!({"kind": "organization", "name": "Acme"}))
        .await;
    let a = t
        .create(
            json!({"kind": "person", "last_name": "Nowak", "organization": id(&org),
                       "managers": ["admin"], "custom": {"budget": "100"}, "tags": ["z", "a"],
                       "phones": ["600 400 001"]}),
        )
        .await;
    let b = t
        .create(
            json!({"kind": "person", "last_name": "Nowak", "custom": {"note": "call after 5"},
                       "phones": ["600 400 001", "600 400 002"], "emails": ["n@nowak.pl"]}),
        )
        .await;
    let op = merge(&t, &t.admin_token, json!({"records": [id(&a), id(&b)]})).await;
    let after = state(&t, &id(&a)).await;
    assert_eq!(after["organization"], json!(id(&org)), "{after}");
    assert_eq!(after["managers"], json!(["admin"]), "{after}");
    assert_eq!(after["custom"]["budget"], json!(100), "{after}");
    assert_eq!(after["custom"]["note"], json!("call after 5"), "{after}");
    assert_eq!(after["phones"].as_array().unwrap().len(), 2, "{after}");
    assert_eq!(state(&t, &id(&b)).await, Value::Null);
    let r = undo(&t, op["id"].as_i64().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        state(&t, &id(&b)).await["custom"]["note"],
        json!("call after 5")
    );
}

#[tokio::test]
async fn a_bulk_merge_removing_much_of_the_base_builds_the_filter_indexes_at_its_end() {
    // Removing 4 of 8 records is at least 1/20 of the base: on SQLite the list's filter
    // indexes go for the job and come back at its end.
    let t = spawn_app_with(|c| c.duplicate_defer_removes = 1).await;
    let mut removed = Vec::new();
    for i in 0..4 {
        let phone = format!("600 300 10{i}");
        t.create(json!({"kind": "person", "first_name": "Anna", "last_name": format!("Zięba{i}"), "phones": [phone]}))
            .await;
        let b = t
            .create(json!({"kind": "person", "last_name": format!("Wrona{i}"), "phones": [phone]}))
            .await;
        removed.push(b);
    }
    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
    assert_eq!(view["ready_removes"], 4, "{view}");
    let (_, done) = bulk_merge(&t, sid, 4).await;
    assert_eq!(done["result"]["removed"], 4);
    for b in &removed {
        assert!(state(&t, &id(b)).await.is_null());
    }
    let names: &[&str] = if t.app.db.backend == kartoteka_store::Backend::Sqlite {
        &["records_k_last", "records_sort", "records_x_last"]
    } else {
        &[]
    };
    crate::imports_revert::assert_rebuilt(&t, names).await;
    // The survivors took the newer last names, and a filter on them finds them.
    let page: Value = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": [{"field": "last_name", "op": "like", "value": "wrona%"}]}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 4, "{page}");
}

#[tokio::test]
async fn every_table_referring_to_records_is_known_to_merge() {
    let t = spawn_app().await;
    use kartoteka_store::merge::{NOT_SNAPSHOT, RELATED};
    let pool = &t.app.db.pool;
    let sqlite = t.app.db.backend == kartoteka_store::Backend::Sqlite;
    let sql = if sqlite {
        "SELECT m.name, f.\"from\", f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
         WHERE m.type = 'table' AND f.\"table\" IN ('records', 'cases')"
    } else {
        "SELECT tc.table_name::text, kcu.column_name::text, ccu.table_name::text \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name \
         JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name \
         WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name IN ('records', 'cases')"
    };
    let rows = sqlx::query(sql).fetch_all(pool).await.unwrap();
    let mut refs: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
        .collect();
    // columns named record_id without a foreign key count too
    let cols = if sqlite {
        "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND c.name LIKE '%record_id'"
    } else {
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_name LIKE '%record_id'"
    };
    for r in sqlx::query(cols).fetch_all(pool).await.unwrap() {
        refs.push((r.try_get(0).unwrap(), r.try_get(1).unwrap()));
    }
    assert!(refs.len() >= 10, "{refs:?}");
    for (table, column) in refs {
        let known = RELATED.iter().any(|(t, c)| *t == table && *c == column)
            || NOT_SNAPSHOT
                .iter()
                .any(|(t, c, _)| *t == table && *c == column)
            || table == "merge_operations";
        assert!(
            known,
            "{table}.{column} refers to a record: list it in store::merge::RELATED (moved, snapshotted, restored) or NOT_SNAPSHOT with a reason"
        );
    }
}
