//! Imports through the API, continued: revert, who may, and chunk and encoding cases (the
//! files and steps are in `imports.rs`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::imports::*;
use crate::imports_matching::*;

// ---------------------------------------------------------------------------------------
// Revert.

#[tokio::test]
async fn a_revert_needs_confirming_deletes_what_the_import_created_and_restores_what_it_updated() {
    let t = spawn_app().await;
    let k = seed_kowalski(&t).await;
    let kid = k["id"].as_str().unwrap().to_string();
    let s = group(&t, "segments", "Z importu").await;
    let had = group(&t, "segments", "Stali").await;
    let r = t
        .call(
            &t.admin_token,
            reqwest::Method::PUT,
            &format!("/api/v1/records/{kid}/segments/{had}"),
            None,
        )
        .await;
    assert!(r.status().is_success());
    let file = csv(&[
        "Imię,Nazwisko,Telefon,Telefon 2,Miasto",
        "Jan,Kowalski,600 100 200,22 123 45 67,",
        "Anna,Nowa,600 100 300,,Opole",
        "Ola,Nowsza,600 100 400,,",
    ]);
    let i = upload_and_import(
        &t,
        "r.csv",
        file,
        json!({"match": ["phone"], "on_match": "update", "segments": [had, s]}),
    )
    .await;
    assert_eq!(counts(&i), (2, 1, 0, 0, 0));
    assert_eq!(record_count(&t).await, 3);
    let mut both = segment_ids(&t, &kid).await;
    both.sort();
    assert_eq!(both, [s, had]);
    let id = i["id"].as_i64().unwrap();
    let path = format!("/api/v1/imports/{id}/revert");

    for body in [json!({}), json!({"confirm": 2})] {
        let p = problem(
            t.post(&t.admin_token, &path, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            field_errors(&p),
            [("confirm".into(), "confirmation_required".into())]
        );
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("deletes 2 records")
                && message.contains("restores 1")
                && message.contains("confirm=3"),
            "{message}"
        );
    }
    assert_eq!(record_count(&t).await, 3);
    // A manager without delete_records may not revert.
    let m = t.user_token("m", "manager", &["record_base"]).await;
    problem(
        t.post(&m, &path, json!({"confirm": 3})).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let r = t.post(&t.admin_token, &path, json!({"confirm": 3})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    assert_eq!(job["kind"], "import_revert");
    let done = t
        .wait_for_job(&t.admin_token, job["id"].as_i64().unwrap())
        .await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["result"]["deleted"], 2, "{done}");
    assert_eq!(done["result"]["restored"], 1, "{done}");
    assert_eq!(
        done["result"]["left_alone"].as_i64().unwrap_or(0),
        0,
        "{done}"
    );
    assert_eq!(record_count(&t).await, 1);
    assert!(by_phone(&t, "600100300").await.is_empty());
    let r = record(&t, &kid).await;
    assert_eq!(r["first_name"], Value::Null);
    assert_eq!(phones(&r), ["+48600100200"]);
    assert_eq!(r["city"], "Łódź");
    assert_eq!(
        segment_ids(&t, &kid).await,
        [had],
        "the segment it added is taken away, the one the record had stays"
    );

    // Twice: refused.
    let p = problem(
        t.post(&t.admin_token, &path, json!({"confirm": 3})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("import".into(), "already_reverted".into())]
    );
    let h: Value = t
        .get(&t.admin_token, &format!("/api/v1/imports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h["result"]["reverted_by_job"], job["id"]);
}

#[tokio::test]
async fn a_revert_leaves_fields_changed_since_the_import_alone_and_lists_them() {
    let t = spawn_app().await;
    let k = seed_kowalski(&t).await;
    let kid = k["id"].as_str().unwrap().to_string();
    let file = csv(&[
        "Imię,Telefon,Kod pocztowy,Województwo",
        "Jan,600 100 200,90-001,łódzkie",
        "Nowy,600 100 900,,",
    ]);
    let i = upload_and_import(
        &t,
        "r.csv",
        file,
        json!({"match": ["phone"], "on_match": "update"}),
    )
    .await;
    assert_eq!(counts(&i), (1, 1, 0, 0, 0));
    let created = by_phone(&t, "600100900").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // After the import someone changes the first name; the created record is edited too.
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{kid}"),
            json!({"first_name": "Janusz"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{created}"),
            json!({"city": "Radom"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let id = i["id"].as_i64().unwrap();
    let r = t
        .post(
            &t.admin_token,
            &format!("/api/v1/imports/{id}/revert"),
            json!({"confirm": 2}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    let done = t
        .wait_for_job(&t.admin_token, job["id"].as_i64().unwrap())
        .await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["result"]["left_alone"], 1, "{done}");
    assert_eq!(
        done["result"]["changed_since"],
        json!([{"id": kid, "field": "first_name"}]),
        "{done}"
    );
    assert_eq!(done["result"]["restored"], 1, "{done}");
    assert_eq!(done["result"]["deleted"], 1, "{done}");
    let r = record(&t, &kid).await;
    assert_eq!(r["first_name"], "Janusz", "changed since: left alone");
    assert_eq!(r["postal_code"], Value::Null, "restored");
    assert_eq!(r["province"], Value::Null, "restored");
    assert_eq!(r["last_name"], "Kowalski");
    let gone = t
        .get(&t.admin_token, &format!("/api/v1/records/{created}"))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------
// Who may.

#[tokio::test]
async fn agents_integrations_and_managers_without_the_record_base_may_not_import() {
    let t = spawn_app().await;
    let u = upload(&t, &t.admin_token, "a.csv", csv(PEOPLE)).await;
    let i = import(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    let id = i["id"].as_i64().unwrap();
    for (name, role) in [
        ("a1", "agent"),
        ("h1", "home_agent"),
        ("pbx", "integration"),
        ("m0", "manager"),
    ] {
        let token = t.user_token(name, role, &[]).await;
        let r = upload_response(&t, &token, "a.csv", csv(PEOPLE)).await;
        problem(r, StatusCode::FORBIDDEN).await;
        let (content_type, body) = multipart("a.csv", &csv(PEOPLE));
        problem(
            t.post_bytes(&token, "/api/v1/imports/uploads", &content_type, body)
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
        for path in ["/api/v1/imports/preview", "/api/v1/imports"] {
            problem(
                t.post(&token, path, json!({"upload": u["id"]})).await,
                StatusCode::FORBIDDEN,
            )
            .await;
        }
        let r = t.get(&token, "/api/v1/imports").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
        for path in [
            format!("/api/v1/imports/{id}"),
            format!("/api/v1/imports/{id}/failures"),
        ] {
            let r = t.get(&token, &path).await;
            assert!(
                [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&r.status()),
                "{role} {path}"
            );
        }
        let r = t
            .post(
                &token,
                &format!("/api/v1/imports/{id}/revert"),
                json!({"confirm": 2}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
    }
    assert_eq!(upload_rows(&t).await, 1);
    assert_eq!(upload_files(&t).len(), 1);
    assert_eq!(record_count(&t).await, 2);
}

#[tokio::test]
async fn a_manager_cannot_preview_or_import_another_managers_upload() {
    let t = spawn_app().await;
    let a = t.user_token("ala", "manager", &["record_base"]).await;
    let b = t.user_token("bob", "manager", &["record_base"]).await;
    let u = upload(&t, &a, "ali.csv", csv(PEOPLE)).await;
    for path in ["/api/v1/imports/preview", "/api/v1/imports"] {
        let p = problem(
            t.post(&b, path, json!({"upload": u["id"]})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(field_errors(&p), [("upload".into(), "not_found".into())]);
    }
    // Its owner and an administrator may.
    assert_eq!(
        preview(&t, &a, json!({"upload": u["id"]})).await["valid"],
        2
    );
    assert_eq!(
        preview(&t, &t.admin_token, json!({"upload": u["id"]})).await["valid"],
        2
    );
    let i = import(&t, &a, json!({"upload": u["id"]})).await;
    assert_eq!(counts(&i), (2, 0, 0, 0, 0));
    let id = i["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/imports/{id}"),
        format!("/api/v1/imports/{id}/failures"),
        format!("/api/v1/imports/{id}/failures/file"),
    ] {
        let r = t.get(&b, &path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_dry_run_counts_rows_created_earlier_in_the_same_file_as_existing_like_the_import() {
    let t = spawn_app().await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon",
        "Anna,Nowa,600 100 300",
        "Anna,Nowa,600 100 300",
        "Anna,,+48 600 100 300",
    ]);
    for on_match in ["skip", "update"] {
        let u = upload(&t, &t.admin_token, "dry.csv", file.clone()).await;
        let options = json!({"upload": u["id"], "match": ["phone"], "on_match": on_match});
        let mut dry = options.clone();
        dry["dry_run"] = json!(true);
        let r = t.post(&t.admin_token, "/api/v1/imports", dry).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let job: Value = r.json().await.unwrap();
        let done = t
            .wait_for_job(&t.admin_token, job["id"].as_i64().unwrap())
            .await;
        let expected = if on_match == "skip" {
            (1, 0, 2, 0)
        } else {
            (1, 2, 0, 0)
        };
        let n = |k: &str| done["result"][k].as_i64().unwrap();
        assert_eq!(
            (n("created"), n("updated"), n("skipped"), n("failed")),
            expected,
            "dry run, {on_match}: {done}"
        );
        // The real import counts the same.
        let i = import(&t, &t.admin_token, options).await;
        let real = &i["result"];
        let m = |k: &str| real[k].as_i64().unwrap();
        assert_eq!(
            (m("created"), m("updated"), m("skipped"), m("failed")),
            expected,
            "the import itself, {on_match}: {real}"
        );
        // Remove what the import created for the next round.
        let id = i["id"].as_i64().unwrap();
        let r = t
            .post(
                &t.admin_token,
                &format!("/api/v1/imports/{id}/revert"),
                json!({"confirm": 1}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let job: Value = r.json().await.unwrap();
        t.wait_for_job(&t.admin_token, job["id"].as_i64().unwrap())
            .await;
    }
}

#[tokio::test]
async fn rows_created_in_an_earlier_chunk_count_as_existing_in_the_import_and_its_dry_run() {
    let t = spawn_app().await;
    // 2,100 rows: more than one chunk of the job; the last repeats the first one's phone.
    let mut lines = vec!["Imię,Nazwisko,Telefon".to_string()];
    for i in 0..2099 {
        lines.push(format!("Osoba,Numer{i},{}", 600_000_000 + i));
    }
    lines.push("Powtórka,Numer0,+48 600 000 000".to_string());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let u = upload(&t, &t.admin_token, "duzo.csv", csv(&refs)).await;
    let options = json!({"upload": u["id"], "match": ["phone"], "on_match": "skip"});
    let mut dry = options.clone();
    dry["dry_run"] = json!(true);
    let r = t.post(&t.admin_token, "/api/v1/imports", dry).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    let done = t
        .wait_for_job(&t.admin_token, job["id"].as_i64().unwrap())
        .await;
    assert_eq!(counts(&done), (2099, 0, 0, 1, 0), "{done}");
    assert_eq!(done["done"], 2100);
    assert_eq!(record_count(&t).await, 0);
    let i = import(&t, &t.admin_token, options).await;
    assert_eq!(counts(&i), (2099, 0, 0, 1, 0));
    assert_eq!((&i["done"], &i["total"]), (&json!(2100), &json!(2100)));
    assert_eq!(record_count(&t).await, 2099);
    let first = by_phone(&t, "600000000").await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["first_name"], "Osoba");
}

#[tokio::test]
async fn a_windows_1250_file_imports_with_its_polish_letters_and_an_organization_row() {
    let t = spawn_app().await;
    let text = "Imię;Nazwisko;Firma;Telefon;Miasto\r\nŻaneta;Źdźbło;;600 100 200;Łódź\r\n;;Spółdzielnia „Gęś”;22 123 45 67;Kraków\r\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1250.encode(text);
    assert!(!unmappable);
    let i = upload_and_import(&t, "cp1250.csv", bytes.into_owned(), json!({})).await;
    assert_eq!(counts(&i), (2, 0, 0, 0, 0));
    let z = &by_phone(&t, "600100200").await[0];
    assert_eq!(
        (&z["kind"], &z["first_name"], &z["last_name"], &z["city"]),
        (
            &json!("person"),
            &json!("Żaneta"),
            &json!("Źdźbło"),
            &json!("Łódź")
        )
    );
    let o = &by_phone(&t, "221234567").await[0];
    assert_eq!(
        (&o["kind"], &o["organization_name"]),
        (&json!("organization"), &json!("Spółdzielnia „Gęś”"))
    );
}

#[tokio::test]
async fn a_revert_job_is_not_an_import() {
    let t = spawn_app().await;
    let i = upload_and_import(&t, "a.csv", csv(PEOPLE), json!({})).await;
    let id = i["id"].as_i64().unwrap();
    let r = t
        .post(
            &t.admin_token,
            &format!("/api/v1/imports/{id}/revert"),
            json!({"confirm": 2}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    let revert = job["id"].as_i64().unwrap();
    t.wait_for_job(&t.admin_token, revert).await;
    for path in [
        format!("/api/v1/imports/{revert}"),
        format!("/api/v1/imports/{revert}/failures"),
        format!("/api/v1/imports/{revert}/failures/file"),
    ] {
        let r = t.get(&t.admin_token, &path).await;
        problem(r, StatusCode::NOT_FOUND).await;
    }
    let r = t
        .post(
            &t.admin_token,
            &format!("/api/v1/imports/{revert}/revert"),
            json!({"confirm": 0}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    // An export job is not one either.
    let r = t
        .post(&t.admin_token, "/api/v1/exports", json!({"format": "csv"}))
        .await;
    let job: Value = r.json().await.unwrap();
    let r = t
        .get(&t.admin_token, &format!("/api/v1/imports/{}", job["id"]))
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn custom_fields_take_number_and_date_cells_of_an_xlsx_by_their_labels() {
    let t = spawn_app().await;
    for def in [
        json!({"key": "budget", "label": "Budżet", "type": "number"}),
        json!({"key": "call_at", "label": "Termin", "type": "date_time"}),
        json!({"key": "tier", "label": "Poziom", "type": "dictionary", "options": ["Gold", "Silver"]}),
        json!({"key": "child_pesel", "label": "PESEL dziecka", "type": "pesel"}),
    ] {
        let r = t.post(&t.admin_token, "/api/v1/fields", def.clone()).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{def}");
    }
    let book = xlsx(&[
        vec![
            X::T("Nazwisko"),
            X::T("Budżet"),
            X::T("Termin"),
            X::T("Poziom"),
            X::T("PESEL dziecka"),
            X::T("Telefon"),
        ],
        vec![
            X::T("Liczbowa"),
            X::N(1200.5),
            X::D(46204.4375),
            X::T("gold"),
            X::N(2270803624.0),
            X::T("600 100 200"),
        ],
        vec![
            X::T("Zła"),
            X::T("dużo"),
            X::T("kiedyś"),
            X::T("Bronze"),
            X::E,
            X::T("600 100 201"),
        ],
    ]);
    let u = upload(&t, &t.admin_token, "custom.xlsx", book).await;
    let p = preview(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    assert_eq!(
        p["suggested"],
        json!([
            "last_name",
            "custom.budget",
            "custom.call_at",
            "custom.tier",
            "custom.child_pesel",
            "phone.mobile"
        ])
    );
    assert_eq!(
        p["rows"][0]["cells"][4]["note"]["code"],
        "leading_zeros_restored"
    );
    let bad = &p["rows"][1]["cells"];
    assert_eq!(
        (1..4)
            .map(|c| bad[c]["error"]["code"].as_str().unwrap_or("-"))
            .collect::<Vec<_>>(),
        ["invalid_number", "invalid_date", "not_in_dictionary"]
    );
    let i = import(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    assert_eq!(counts(&i), (1, 0, 0, 0, 1));
    let r = &by_phone(&t, "600100200").await[0];
    assert_eq!(
        r["custom"],
        json!({"budget": 1200.5, "call_at": "2026-07-01T08:30:00Z", "tier": "Gold", "child_pesel": "02270803624"}),
        "the date is local time in Warsaw (UTC+2 in July)"
    );
}

#[tokio::test]
async fn a_pesel_that_lost_its_leading_zero_still_finds_its_record() {
    let t = spawn_app().await;
    let k = t
        .create(json!({"kind": "person", "last_name": "Zerowa", "pesel": "02270803624"}))
        .await;
    let book = xlsx(&[
        vec![X::T("PESEL"), X::T("Imię"), X::T("Telefon")],
        vec![X::N(2270803624.0), X::T("Ola"), X::T("600 100 200")],
    ]);
    let i = upload_and_import(
        &t,
        "p.xlsx",
        book,
        json!({"match": ["pesel"], "on_match": "update"}),
    )
    .await;
    assert_eq!(counts(&i), (0, 1, 0, 0, 0));
    assert_eq!(i["result"]["repairs"]["leading_zeros_restored"], 1);
    let r = record(&t, k["id"].as_str().unwrap()).await;
    assert_eq!(r["first_name"], "Ola");
    assert_eq!(phones(&r), ["+48600100200"]);
    assert_eq!(record_count(&t).await, 1);
}

#[tokio::test]
async fn a_large_import_into_an_empty_base_builds_its_indexes_at_the_end_and_finds_everything() {
    let t = spawn_app_with(|c| c.import_defer_rows = 5_000).await;
    // 20,000 rows and one repeated phone: large enough to load with the indexes deferred,
    // and the phone index (the match key's) kept for the lookups.
    let mut lines = vec!["Imię,Nazwisko,Telefon,Miasto".to_string()];
    for i in 0..20_000 {
        lines.push(format!("Jan,Nowakowski,{},Łódź", 600_000_000 + i));
    }
    lines.push("Adam,Nowakowski,600000007,Łódź".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let done = upload_and_import(&t, "duzy.csv", csv(&refs), json!({"match": ["phone"]})).await;
    let (created, _, _, skipped, failed) = counts(&done);
    assert_eq!((created, skipped, failed), (20_000, 1, 0), "{done}");

    let found = by_phone(&t, "600 000 007").await;
    assert_eq!(found.len(), 1, "the phone finds its one record");
    assert_eq!(in_lodz(&t).await, 20_000, "the trigram index was filled");
    assert_rebuilt(&t, &["records_k_last"]).await;
}

/// Records whose city has `lodz` in it (a trigram search).
async fn in_lodz(t: &TestApp) -> i64 {
    let page: Value = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}, "limit": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    page["total"].as_i64().unwrap()
}

/// No index is left to build, and the named schema objects exist.
pub(crate) async fn assert_rebuilt(t: &TestApp, names: &[&str]) {
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deferred_indexes")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "every deferred index was built again");
    for name in names {
        let sql = if t.app.db.backend == kartoteka_store::Backend::Postgres {
            "SELECT COUNT(*) FROM pg_indexes WHERE indexname = $1"
        } else {
            "SELECT COUNT(*) FROM sqlite_master WHERE name = $1"
        };
        let present: i64 = sqlx::query_scalar(sql)
            .bind(name)
            .fetch_one(&t.app.db.pool)
            .await
            .unwrap();
        assert_eq!(present, 1, "{name} is back");
    }
}

#[tokio::test]
async fn a_large_import_into_a_base_in_use_defers_only_the_filter_indexes() {
    let t = spawn_app_with(|c| c.import_defer_rows = 5_000).await;
    let old = t
        .create(json!({"kind": "person", "last_name": "Dawna", "city": "Łódź", "phones": [{"number": "500 100 100"}]}))
        .await;
    let c = group(&t, "campaigns", "Wiosna").await;
    let s = group(&t, "segments", "Targi").await;
    // 20,000 rows into a base of one: the list's filter indexes go for the load; the
    // trigram triggers and the lookup indexes stay (the base is in use meanwhile). The
    // import only creates, so its two chunks' phones, cases and segment rows are written
    // together before their transaction commits.
    let mut lines = vec!["Imię,Nazwisko,Telefon,Miasto".to_string()];
    for i in 0..20_000 {
        lines.push(format!("Jan,Nowakowski,{},Łódź", 600_000_000 + i));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let done = upload_and_import(
        &t,
        "duzy.csv",
        csv(&refs),
        json!({"campaigns": [c], "segments": [s]}),
    )
    .await;
    let (created, _, _, _, failed) = counts(&done);
    assert_eq!((created, failed), (20_000, 0), "{done}");
    for phone in ["600 000 000", "600 009 999", "600 010 000", "600 019 999"] {
        let found = by_phone(&t, phone).await;
        assert_eq!(found.len(), 1, "{phone} finds its new record");
        let id = found[0]["id"].as_str().unwrap();
        assert_eq!(campaign_ids(&t, id).await, [c], "{phone}'s case");
        assert_eq!(segment_ids(&t, id).await, [s], "{phone}'s segment");
    }
    let cases: (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT record_id) FROM cases WHERE campaign_id = $1",
    )
    .bind(c)
    .fetch_one(&t.app.db.pool)
    .await
    .unwrap();
    assert_eq!(cases, (20_000, 20_000), "one case a new record");

    let found = by_phone(&t, "500 100 100").await;
    assert_eq!(found.len(), 1, "the old record is still found by its phone");
    assert_eq!(found[0]["id"], old["id"]);
    assert_eq!(
        in_lodz(&t).await,
        20_001,
        "the trigram tables hold old and new"
    );
    let mut names = vec!["records_k_last", "records_sort", "phones_number"];
    if t.app.db.backend == kartoteka_store::Backend::Sqlite {
        names.push("records_trgm_insert");
    }
    assert_rebuilt(&t, &names).await;
}
