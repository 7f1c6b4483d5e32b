//! Exports through the API: the job, the downloads area, the file's bytes, who may.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::imports_job::read_xlsx;

/// Starts an export, waits for it and returns the finished job.
async fn export(t: &TestApp, token: &str, body: Value) -> Value {
    let r = t.post(token, "/api/v1/exports", body).await;
    let status = r.status();
    let job: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["kind"], "export");
    let done = t.wait_for_job(token, job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "done", "{done}");
    done
}

async fn fetch(t: &TestApp, token: &str, download: &Value) -> (String, Vec<u8>) {
    let r = t.get(token, &format!("/api/v1/downloads/{download}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    (ct, r.bytes().await.unwrap().to_vec())
}

async fn seed(t: &TestApp) -> Vec<Value> {
    vec![
        t.create(
            json!({"kind": "person", "first_name": "Łucja", "last_name": "Żółkiewska",
                        "city": "Łódź", "phones": ["600 100 200", "22 123 45 67"],
                        "emails": ["lucja@example.pl"], "pesel": "44051401359"}),
        )
        .await,
        t.create(
            json!({"kind": "person", "first_name": "Jan", "last_name": "Kowalski",
                        "city": "Łódź", "phones": ["600 100 201"]}),
        )
        .await,
        t.create(
            json!({"kind": "person", "first_name": "Piotr", "last_name": "Nowak",
                        "city": "Kraków", "phones": ["600 100 202"]}),
        )
        .await,
    ]
}

fn lodz() -> Value {
    json!({"all": [{"field": "city", "op": "like", "value": "%lodz%"}]})
}

#[tokio::test]
async fn a_filter_exported_to_csv_with_semicolons_lands_in_the_downloads_with_a_bom_and_the_chosen_columns()
 {
    let t = spawn_app().await;
    let people = seed(&t).await;
    let done = export(
        &t,
        &t.admin_token,
        json!({"filter": lodz(), "columns": ["id", "first_name", "last_name", "phones", "emails", "city"],
               "format": "csv", "delimiter": ";"}),
    )
    .await;
    assert_eq!(done["result"]["rows"], 2, "{done}");
    let download = done["result"]["download"].clone();
    assert!(download.is_i64(), "{done}");
    let name = done["result"]["file_name"].as_str().unwrap().to_string();
    assert!(
        name.starts_with("kartoteka-") && name.ends_with(".csv"),
        "{name}"
    );

    let list: Value = t
        .get(&t.admin_token, "/api/v1/downloads")
        .await
        .json()
        .await
        .unwrap();
    let d = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == download)
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(d["file_name"], name.as_str());
    assert_eq!(d["rows"], 2);
    assert_eq!(d["job"], done["id"]);
    assert!(d["expires_at"].as_str().unwrap() > d["created_at"].as_str().unwrap());

    let r = t
        .get(&t.admin_token, &format!("/api/v1/downloads/{download}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = r.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains(&name), "{disposition}");
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(bytes.len() as i64, d["size"].as_i64().unwrap());
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "id;first_name;last_name;phones;emails;city");
    lines[1..].sort();
    let lucja = people[0]["id"].as_str().unwrap();
    let jan = people[1]["id"].as_str().unwrap();
    let mut expected = [
        format!("{lucja};Łucja;Żółkiewska;+48600100200, +48221234567;lucja@example.pl;Łódź"),
        format!("{jan};Jan;Kowalski;+48600100201;;Łódź"),
    ];
    expected.sort();
    assert_eq!(
        lines[1..],
        expected.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
}

#[tokio::test]
async fn the_listed_records_exported_to_xlsx_come_in_the_order_asked_with_the_default_columns() {
    let t = spawn_app().await;
    let people = seed(&t).await;
    let ids = json!([people[2]["id"], people[0]["id"]]);
    let done = export(&t, &t.admin_token, json!({"ids": ids, "format": "xlsx"})).await;
    assert_eq!(done["result"]["rows"], 2);
    assert!(
        done["result"]["file_name"]
            .as_str()
            .unwrap()
            .ends_with(".xlsx")
    );
    let (ct, bytes) = fetch(&t, &t.admin_token, &done["result"]["download"]).await;
    assert_eq!(
        ct,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let rows = read_xlsx(bytes);
    assert_eq!(
        rows[0],
        [
            "id",
            "kind",
            "first_name",
            "last_name",
            "organization_name",
            "phones",
            "emails",
            "city",
            "address_line1",
            "postal_code"
        ]
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][0], people[2]["id"].as_str().unwrap());
    assert_eq!(rows[1][3], "Nowak");
    assert_eq!(rows[2][3], "Żółkiewska");
    assert_eq!(rows[2][5], "+48600100200, +48221234567");
    assert_eq!(rows[2][7], "Łódź");
}

#[tokio::test]
async fn an_export_names_unknown_columns_formats_and_records() {
    let t = spawn_app().await;
    let people = seed(&t).await;
    let cases = [
        (
            json!({"columns": ["id", "shoe_size", "last_name", "custom.nope"], "format": "csv"}),
            vec![
                ("columns[1]", "unknown_column"),
                ("columns[3]", "unknown_column"),
            ],
        ),
        (json!({"format": "pdf"}), vec![("format", "unknown_format")]),
        (
            json!({"format": "csv", "delimiter": "|"}),
            vec![("delimiter", "unknown_delimiter")],
        ),
        (
            json!({"ids": [people[0]["id"], "ZZZZZZZZ"], "format": "csv"}),
            vec![("ids", "not_found")],
        ),
        (
            json!({"ids": [people[0]["id"]], "filter": lodz(), "format": "csv"}),
            vec![("ids", "conflict")],
        ),
        (
            json!({"filter": {"all": [{"field": "nope", "op": "eq", "value": "x"}]}, "format": "csv"}),
            vec![("filter.all[0].field", "unknown_field")],
        ),
    ];
    for (body, expected) in cases {
        let p = problem(
            t.post(&t.admin_token, "/api/v1/exports", body.clone())
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        assert_eq!(field_errors(&p), expected, "{body}");
    }
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/exports",
            json!({"columns": ["shoe_size"], "format": "csv"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("shoe_size")
    );
    let list: Value = t
        .get(&t.admin_token, "/api/v1/downloads")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn agents_integrations_and_managers_without_the_record_base_may_not_export() {
    let t = spawn_app().await;
    seed(&t).await;
    for (name, role, perms) in [
        ("a1", "agent", vec![]),
        ("a2", "agent", vec!["see_national_ids"]),
        ("h1", "home_agent", vec![]),
        ("pbx", "integration", vec![]),
        ("m0", "manager", vec!["delete_records"]),
    ] {
        let token = t.user_token(name, role, &perms).await;
        for columns in [json!(["id", "last_name"]), json!(["id", "pesel"])] {
            let r = t
                .post(
                    &token,
                    "/api/v1/exports",
                    json!({"columns": columns, "format": "csv"}),
                )
                .await;
            problem(r, StatusCode::FORBIDDEN).await;
        }
    }
}

#[tokio::test]
async fn a_manager_with_the_record_base_exports_national_ids_and_the_export_is_audited() {
    let t = spawn_app().await;
    let people = seed(&t).await;
    let m = t.user_token("kierownik", "manager", &["record_base"]).await;
    let done = export(
        &t,
        &m,
        json!({"ids": [people[0]["id"]], "columns": ["last_name", "pesel"], "format": "csv"}),
    )
    .await;
    let (_, bytes) = fetch(&t, &m, &done["result"]["download"]).await;
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["last_name,pesel", "Żółkiewska,44051401359"]
    );
    let audit: Value = t
        .get(&t.admin_token, "/api/v1/audit?action=export")
        .await
        .json()
        .await
        .unwrap();
    let entries = audit["items"]
        .as_array()
        .or(audit.as_array())
        .unwrap_or_else(|| panic!("{audit}"));
    let e = entries
        .iter()
        .find(|e| e["action"] == "export")
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(e["details"]["national_ids"], true, "{e}");
    assert_eq!(e["details"]["rows"], 1, "{e}");
}

#[tokio::test]
async fn nobody_else_lists_or_fetches_a_download_but_an_administrator() {
    let t = spawn_app().await;
    seed(&t).await;
    let a = t.user_token("ala", "manager", &["record_base"]).await;
    let b = t.user_token("bob", "manager", &["record_base"]).await;
    let agent = t.user_token("agent", "agent", &[]).await;
    let done = export(&t, &a, json!({"filter": lodz(), "format": "csv"})).await;
    let download = done["result"]["download"].clone();
    let mine: Value = t.get(&a, "/api/v1/downloads").await.json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], download);
    for token in [&b, &agent] {
        let theirs: Value = t
            .get(token, "/api/v1/downloads")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(theirs, json!([]));
        let r = t.get(token, &format!("/api/v1/downloads/{download}")).await;
        problem(r, StatusCode::NOT_FOUND).await;
    }
    let r = t.get(&a, "/api/v1/downloads/99999").await;
    problem(r, StatusCode::NOT_FOUND).await;
    let (_, bytes) = fetch(&t, &t.admin_token, &download).await;
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let all: Value = t
        .get(&t.admin_token, "/api/v1/downloads")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_openapi_document_lists_the_import_and_export_endpoints() {
    let t = spawn_app().await;
    let doc: Value = t
        .client
        .get(t.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/imports", "post"),
        ("/api/v1/imports", "get"),
        ("/api/v1/imports/uploads", "post"),
        ("/api/v1/imports/preview", "post"),
        ("/api/v1/imports/{id}", "get"),
        ("/api/v1/imports/{id}/failures", "get"),
        ("/api/v1/imports/{id}/failures/file", "get"),
        ("/api/v1/imports/{id}/revert", "post"),
        ("/api/v1/exports", "post"),
        ("/api/v1/downloads", "get"),
        ("/api/v1/downloads/{id}", "get"),
    ] {
        assert!(
            paths.get(path).is_some_and(|p| p.get(method).is_some()),
            "{method} {path}"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "ImportOptions",
        "UploadView",
        "Preview",
        "ImportView",
        "ExportInput",
        "DownloadView",
    ] {
        assert!(schemas.contains_key(s), "{s}");
    }
}

#[tokio::test]
async fn every_kind_of_column_exports_as_the_record_shows_it() {
    let t = spawn_app().await;
    for def in [
        json!({"key": "budget", "label": "Budżet", "type": "number"}),
        json!({"key": "call_at", "label": "Termin", "type": "date_time"}),
    ] {
        let r = t.post(&t.admin_token, "/api/v1/fields", def).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let org = t
        .create(json!({"kind": "organization", "organization_name": "Spółka Łąka", "nip": "526-025-02-74"}))
        .await;
    let c: Value = t
        .post(
            &t.admin_token,
            "/api/v1/campaigns",
            json!({"name": "Jesień"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let s: Value = t
        .post(&t.admin_token, "/api/v1/segments", json!({"name": "VIP"}))
        .await
        .json()
        .await
        .unwrap();
    let p = t
        .create(
            json!({"kind": "person", "first_name": "Łucja", "last_name": "Żółkiewska",
                       "organization": org["id"], "tags": ["b", "a"],
                       "custom": {"budget": "1 200,50", "call_at": "2026-07-01 10:30"}}),
        )
        .await;
    let pid = p["id"].as_str().unwrap();
    for (kind, g) in [("campaigns", &c), ("segments", &s)] {
        let r = t
            .call(
                &t.admin_token,
                reqwest::Method::PUT,
                &format!("/api/v1/records/{pid}/{kind}/{}", g["id"]),
                None,
            )
            .await;
        assert!(r.status().is_success(), "{kind}: {}", r.status());
    }
    let columns = json!([
        "display_name",
        "kind",
        "organization",
        "tags",
        "campaigns",
        "segments",
        "created_by",
        "source",
        "custom.budget",
        "custom.call_at",
        "nip",
        "created_at"
    ]);
    let done = export(
        &t,
        &t.admin_token,
        json!({"ids": [pid, org["id"]], "columns": columns, "format": "xlsx"}),
    )
    .await;
    let (_, bytes) = fetch(&t, &t.admin_token, &done["result"]["download"]).await;
    let rows = read_xlsx(bytes);
    assert_eq!(
        rows[0],
        [
            "display_name",
            "kind",
            "organization",
            "tags",
            "campaigns",
            "segments",
            "created_by",
            "source",
            "Budżet",
            "Termin",
            "nip",
            "created_at"
        ]
    );
    let person = &rows[1];
    assert_eq!(person[0], "Łucja Żółkiewska");
    assert_eq!(person[1], "person");
    assert_eq!(person[2], org["id"].as_str().unwrap());
    assert_eq!(person[3], "a, b");
    assert_eq!(person[4], "Jesień");
    assert_eq!(person[5], "VIP");
    assert_eq!(person[6], "admin");
    assert_eq!(person[7], "api");
    assert_eq!(person[8], "1200.5");
    assert_eq!(
        person[9], "2026-07-01 10:30:00",
        "local time, as the card shows it"
    );
    assert_eq!(person[10], "");
    assert_eq!(
        person[11].len(),
        "2026-01-01 00:00:00".len(),
        "{}",
        person[11]
    );
    assert_eq!(rows[2][0], "Spółka Łąka");
    assert_eq!(rows[2][10], "5260250274");
}

#[tokio::test]
async fn a_search_text_narrows_an_export_as_it_narrows_the_list() {
    let t = spawn_app().await;
    let people = seed(&t).await;
    let kowalczyk = t
        .create(
            json!({"kind": "person", "first_name": "Anna", "last_name": "Kowalczyk",
                       "city": "Kraków", "phones": ["600 100 203"]}),
        )
        .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let exported = |body: Value| {
        let t = &t;
        async move {
            let done = export(t, &t.admin_token, body).await;
            let (_, bytes) = fetch(t, &t.admin_token, &done["result"]["download"]).await;
            let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
            let mut ids: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
            ids.sort();
            ids
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let csv = |q: &str| json!({"q": q, "columns": ["id"], "format": "csv"});

    // The beginning of a last name, as the list's search box reads it.
    assert_eq!(
        exported(csv("kowal")).await,
        sorted(vec![id(&people[1]), id(&kowalczyk)])
    );
    // Within a filter.
    assert_eq!(
        exported(json!({"q": "Kowal", "filter": lodz(), "columns": ["id"], "format": "csv"})).await,
        vec![id(&people[1])]
    );
    // A phone in any format, an e-mail, a record ID.
    assert_eq!(exported(csv("600-100-202")).await, vec![id(&people[2])]);
    assert_eq!(
        exported(csv("LUCJA@example.pl")).await,
        vec![id(&people[0])]
    );
    assert_eq!(exported(csv(&id(&kowalczyk))).await, vec![id(&kowalczyk)]);

    // IDs and a search text together are refused.
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/exports",
            json!({"ids": [id(&people[0])], "q": "kowal", "format": "csv"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(body.to_string().contains("conflict"), "{body}");
}
