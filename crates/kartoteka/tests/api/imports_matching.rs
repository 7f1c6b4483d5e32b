//! Imports through the API, continued: matching, campaigns and segments, dry runs, history,
//! revert and who may (the files and steps are in `imports.rs`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::imports::*;

// ---------------------------------------------------------------------------------------
// Matching.

pub(crate) async fn seed_kowalski(t: &TestApp) -> Value {
    t.create(
        json!({"kind": "person", "last_name": "Kowalski", "city": "Łódź",
                   "phones": ["600 100 200"], "emails": ["jan@example.pl"], "tags": ["stały"]}),
    )
    .await
}

#[tokio::test]
async fn matching_rows_are_skipped_by_default_and_rows_created_earlier_in_the_file_count_as_existing()
 {
    let t = spawn_app().await;
    let k = seed_kowalski(&t).await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon",
        "Jan,Kowalski,600 100 200",
        "Anna,Nowa,600 100 300",
        "Anna,Nowa-Druga,+48600100300",
        "Ola,Inna,600 100 400",
    ]);
    let i = upload_and_import(
        &t,
        "a.csv",
        file,
        json!({"match": ["phone"], "on_match": "skip"}),
    )
    .await;
    assert_eq!(counts(&i), (2, 0, 0, 2, 0));
    let anna = by_phone(&t, "600100300").await;
    assert_eq!(anna.len(), 1);
    assert_eq!(anna[0]["last_name"], "Nowa");
    let kowalski = record(&t, k["id"].as_str().unwrap()).await;
    assert_eq!(kowalski["first_name"], Value::Null, "skipped: not changed");
    assert_eq!(kowalski["version"], k["version"]);
    // Without a match key every row creates.
    let file = csv(&["Nazwisko,Telefon", "Kowalski,600 100 200"]);
    let i = upload_and_import(&t, "b.csv", file, json!({})).await;
    assert_eq!(counts(&i), (1, 0, 0, 0, 0));
    assert_eq!(by_phone(&t, "600100200").await.len(), 2);
}

#[tokio::test]
async fn on_match_update_fills_empty_fields_adds_phones_and_keeps_stored_values_for_blank_cells() {
    let t = spawn_app().await;
    let k = seed_kowalski(&t).await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon,Telefon 2,E-mail,Miasto,Tagi",
        "Jan,,600 100 200,22 123 45 67,JAN@example.pl,,nowy",
        "Nowa,Osoba,600 100 900,,,Opole,",
    ]);
    let i = upload_and_import(
        &t,
        "u.csv",
        file,
        json!({"match": ["phone"], "on_match": "update"}),
    )
    .await;
    assert_eq!(counts(&i), (1, 1, 0, 0, 0));
    let r = record(&t, k["id"].as_str().unwrap()).await;
    assert_eq!(r["first_name"], "Jan", "an empty field filled");
    assert_eq!(r["last_name"], "Kowalski", "a blank cell keeps the value");
    assert_eq!(r["city"], "Łódź");
    assert_eq!(
        phones(&r),
        ["+48600100200", "+48221234567"],
        "phones added, not replaced"
    );
    assert_eq!(r["phones"][0]["default"], true);
    assert_eq!(
        r["emails"].as_array().unwrap().len(),
        1,
        "the same e-mail ignoring case"
    );
    let mut tags: Vec<&str> = r["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["nowy", "stały"]);

    // The same file again changes nothing: unchanged.
    let file = csv(&["Imię,Telefon", "Jan,600 100 200"]);
    let i = upload_and_import(
        &t,
        "u2.csv",
        file,
        json!({"match": ["phone"], "on_match": "update"}),
    )
    .await;
    assert_eq!(counts(&i), (0, 0, 1, 0, 0));
    // A value the row gives overwrites.
    let file = csv(&["Miasto,Telefon", "Kraków,600 100 200"]);
    let i = upload_and_import(
        &t,
        "u3.csv",
        file,
        json!({"match": ["phone"], "on_match": "update"}),
    )
    .await;
    assert_eq!(counts(&i), (0, 1, 0, 0, 0));
    assert_eq!(
        record(&t, k["id"].as_str().unwrap()).await["city"],
        "Kraków"
    );
}

#[tokio::test]
async fn on_match_create_makes_duplicates_and_a_row_matching_two_records_fails_as_ambiguous() {
    let t = spawn_app().await;
    seed_kowalski(&t).await;
    let file = csv(&["Nazwisko,Telefon", "Kowalski-Dubel,600 100 200"]);
    let i = upload_and_import(
        &t,
        "c.csv",
        file,
        json!({"match": ["phone"], "on_match": "create"}),
    )
    .await;
    assert_eq!(counts(&i), (1, 0, 0, 0, 0));
    assert_eq!(by_phone(&t, "600100200").await.len(), 2);

    // Now the phone is on two records: a row with it is ambiguous, whatever on_match says.
    for (on_match, other) in [("skip", "600 100 500"), ("update", "600 100 501")] {
        let file = csv(&["Imię,Telefon", "Jan,600 100 200", &format!("Ola,{other}")]);
        let i = upload_and_import(
            &t,
            "d.csv",
            file,
            json!({"match": ["phone"], "on_match": on_match}),
        )
        .await;
        assert_eq!(counts(&i), (1, 0, 0, 0, 1), "{on_match}");
        let id = i["id"].as_i64().unwrap();
        let f: Value = t
            .get(&t.admin_token, &format!("/api/v1/imports/{id}/failures"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(f[0]["row"], 2);
        assert_eq!(f[0]["errors"][0]["code"], "ambiguous_match");
        assert_eq!(f[0]["errors"][0]["column"], Value::Null);
        assert!(
            f[0]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("more than one")
        );
    }
    for r in by_phone(&t, "600100200").await {
        assert_eq!(r["first_name"], Value::Null);
    }
}

#[tokio::test]
async fn match_keys_are_tried_in_order_and_the_first_that_finds_a_record_decides() {
    let t = spawn_app().await;
    let by_mail = t
        .create(json!({"kind": "person", "last_name": "Mailowa", "emails": ["ola@example.pl"]}))
        .await;
    let by_phone_rec = t
        .create(json!({"kind": "person", "last_name": "Telefoniczna", "phones": ["600 100 700"]}))
        .await;
    // Row 2 matches by_mail by e-mail and by_phone_rec by phone; row 3 only by e-mail.
    let file = csv(&[
        "Imię,Telefon,E-mail,Miasto",
        "Ola,600 100 700,ola@example.pl,",
        ",,OLA@example.pl,Opole",
    ]);
    let i = upload_and_import(
        &t,
        "k.csv",
        file,
        json!({"match": ["email", "phone"], "on_match": "update"}),
    )
    .await;
    assert_eq!(counts(&i), (0, 2, 0, 0, 0));
    let m = record(&t, by_mail["id"].as_str().unwrap()).await;
    assert_eq!(m["first_name"], "Ola", "the e-mail, tried first, decided");
    assert_eq!(m["city"], "Opole");
    assert_eq!(phones(&m), ["+48600100700"]);
    let p = record(&t, by_phone_rec["id"].as_str().unwrap()).await;
    assert_eq!(p["first_name"], Value::Null);
    // Unknown keys and choices are named.
    let u = upload(&t, &t.admin_token, "k2.csv", csv(PEOPLE)).await;
    let e = problem(
        t.post(
            &t.admin_token,
            "/api/v1/imports",
            json!({"upload": u["id"], "match": ["phone", "regon"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&e),
        [("match[1]".into(), "invalid_match_key".into())]
    );
    let e = problem(
        t.post(
            &t.admin_token,
            "/api/v1/imports",
            json!({"upload": u["id"], "on_match": "merge"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&e),
        [("on_match".into(), "unknown_choice".into())]
    );
}

// ---------------------------------------------------------------------------------------
// Campaigns, segments, dry run, history.

pub(crate) async fn group(t: &TestApp, kind: &str, name: &str) -> i64 {
    let r = t
        .post(
            &t.admin_token,
            &format!("/api/v1/{kind}"),
            json!({"name": name}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

pub(crate) async fn campaign_ids(t: &TestApp, rid: &str) -> Vec<i64> {
    let cases: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{rid}/cases"))
        .await
        .json()
        .await
        .unwrap();
    cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["campaign_id"].as_i64().unwrap())
        .collect()
}

pub(crate) async fn segment_ids(t: &TestApp, rid: &str) -> Vec<i64> {
    let segs: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{rid}/segments"))
        .await
        .json()
        .await
        .unwrap();
    segs.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().or(s["segment_id"].as_i64()).unwrap())
        .collect()
}

#[tokio::test]
async fn imported_records_join_the_chosen_campaigns_and_segments_and_updated_ones_too() {
    let t = spawn_app().await;
    let c = group(&t, "campaigns", "Wiosna").await;
    let s = group(&t, "segments", "Targi").await;
    let k = seed_kowalski(&t).await;
    let i = upload_and_import(
        &t,
        "g.csv",
        csv(PEOPLE),
        json!({"campaigns": [c], "segments": [s], "match": ["phone"], "on_match": "update"}),
    )
    .await;
    assert_eq!(counts(&i), (1, 1, 0, 0, 0));
    let zofia = &by_phone(&t, "600100201").await[0];
    let zid = zofia["id"].as_str().unwrap();
    assert_eq!(campaign_ids(&t, zid).await, [c]);
    assert_eq!(segment_ids(&t, zid).await, [s]);
    let kid = k["id"].as_str().unwrap();
    assert_eq!(campaign_ids(&t, kid).await, [c]);
    assert_eq!(segment_ids(&t, kid).await, [s]);
    // A group that is not there is named.
    let u = upload(&t, &t.admin_token, "g2.csv", csv(PEOPLE)).await;
    let e = problem(
        t.post(
            &t.admin_token,
            "/api/v1/imports",
            json!({"upload": u["id"], "campaigns": [c, 999]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&e), [("campaigns".into(), "not_found".into())]);
}

#[tokio::test]
async fn a_dry_run_counts_what_the_import_would_do_and_changes_nothing() {
    let t = spawn_app().await;
    let k = seed_kowalski(&t).await;
    let c = group(&t, "campaigns", "Próba").await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon",
        "Jan,Kowalski,600 100 200",
        "Anna,Nowa,600 100 300",
        "Ola,Inna,600 100 400",
        "Zły,Numer,abc",
    ]);
    let u = upload(&t, &t.admin_token, "dry.csv", file).await;
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/imports",
            json!({"upload": u["id"], "dry_run": true, "match": ["phone"], "on_match": "update", "campaigns": [c]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    assert_eq!(job["kind"], "import_dry_run");
    let done = t
        .wait_for_job(&t.admin_token, job["id"].as_i64().unwrap())
        .await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["result"]["dry_run"], true);
    let n = |k: &str| done["result"][k].as_i64().unwrap();
    assert_eq!(
        (n("created"), n("updated"), n("skipped"), n("failed")),
        (2, 1, 0, 1),
        "{done}"
    );
    assert_eq!(record_count(&t).await, 1);
    let kr = record(&t, k["id"].as_str().unwrap()).await;
    assert_eq!(kr["first_name"], Value::Null);
    assert_eq!(kr["version"], k["version"]);
    assert_eq!(
        campaign_ids(&t, k["id"].as_str().unwrap()).await,
        Vec::<i64>::new()
    );
    let id = done["id"].as_i64().unwrap();
    let f: Value = t
        .get(&t.admin_token, &format!("/api/v1/imports/{id}/failures"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(f, json!([]), "a dry run keeps no failed rows");
    // Not in the history, and nothing to revert.
    let list: Value = t
        .get(&t.admin_token, "/api/v1/imports")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    let p = problem(
        t.post(
            &t.admin_token,
            &format!("/api/v1/imports/{id}/revert"),
            json!({"confirm": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p), [("import".into(), "dry_run".into())]);
}

#[tokio::test]
async fn the_history_lists_each_import_with_who_file_options_and_counts() {
    let t = spawn_app().await;
    let manager = t.user_token("kierownik", "manager", &["record_base"]).await;
    let other = t.user_token("inny", "manager", &["record_base"]).await;
    let c = group(&t, "campaigns", "Lato").await;
    let u = upload(&t, &manager, "lato.csv", csv(PEOPLE)).await;
    let first = import(
        &t,
        &manager,
        json!({"upload": u["id"], "campaigns": [c], "match": ["phone", "email"], "on_match": "update",
               "source_label": "Lista z targów", "kind": "person"}),
    )
    .await;
    let second =
        upload_and_import(&t, "admina.csv", csv(&["Nazwisko", "Adminowa"]), json!({})).await;

    let list: Value = t
        .get(&manager, "/api/v1/imports")
        .await
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "a manager sees their own imports");
    let h = &list[0];
    assert_eq!(h["id"], first["id"]);
    assert_eq!(h["file_name"], "lato.csv");
    assert_eq!(h["created_by"], "kierownik");
    assert_eq!(h["source_label"], "Lista z targów");
    assert_eq!(h["state"], "done");
    assert_eq!(h["result"]["created"], 2);
    assert_eq!(h["options"]["match"], json!(["phone", "email"]));
    assert_eq!(h["options"]["on_match"], "update");
    assert_eq!(h["options"]["campaigns"], json!([c]));
    assert_eq!(h["options"]["kind"], "person");
    assert_eq!(h["options"]["headers"][0], "Imię");
    assert_eq!(h["options"]["mapping"][0], "first_name");
    assert!(
        h["created_at"].is_string() || h["created_at"].is_number(),
        "{h}"
    );

    let all: Value = t
        .get(&t.admin_token, "/api/v1/imports")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&Value> = all.as_array().unwrap().iter().map(|i| &i["id"]).collect();
    assert_eq!(
        ids,
        [&second["id"], &first["id"]],
        "newest first, everyone's for admins"
    );
    let none: Value = t.get(&other, "/api/v1/imports").await.json().await.unwrap();
    assert_eq!(none, json!([]));
    let r = t
        .get(&other, &format!("/api/v1/imports/{}", first["id"]))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
