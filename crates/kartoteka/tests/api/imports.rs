//! Imports through the API: upload (raw and multipart), preview, the import job with its
//! report and failed rows (`imports_job.rs`, with bad files and the size limit), matching,
//! campaigns and segments, dry runs and history (`imports_matching.rs`), revert and who may
//! (`imports_revert.rs`). This file holds the shared files and steps, upload and preview.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

// ---------------------------------------------------------------------------------------
// Files, built in the test.

/// A UTF-8 CSV of these lines.
pub fn csv(lines: &[&str]) -> Vec<u8> {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s.into_bytes()
}

/// A value of an xlsx cell.
pub enum X {
    T(&'static str),
    N(f64),
    /// An Excel date-time serial with a date format.
    D(f64),
    E,
}

/// An xlsx workbook of one sheet `Arkusz1` with these rows.
pub fn xlsx(rows: &[Vec<X>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Arkusz1").unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                X::T(t) => {
                    sheet.write_string(r as u32, c as u16, *t).unwrap();
                }
                X::N(n) => {
                    sheet.write_number(r as u32, c as u16, *n).unwrap();
                }
                X::D(n) => {
                    let f = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
                    sheet
                        .write_number_with_format(r as u32, c as u16, *n, &f)
                        .unwrap();
                }
                X::E => {}
            }
        }
    }
    book.save_to_buffer().unwrap()
}

pub(crate) fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----kartotekaTestBoundary7d1";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

// ---------------------------------------------------------------------------------------
// Steps.

pub async fn upload_response(t: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Response {
    t.post_bytes(
        token,
        &format!("/api/v1/imports/uploads?name={}", enc(name)),
        "application/octet-stream",
        bytes,
    )
    .await
}

/// Uploads a file (raw body) and returns the upload.
pub async fn upload(t: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    let r = upload_response(t, token, name, bytes).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

pub(crate) async fn preview(t: &TestApp, token: &str, options: Value) -> Value {
    let r = t.post(token, "/api/v1/imports/preview", options).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Starts an import, waits for its job, and returns the import as GET /imports/{id} shows it.
pub async fn import(t: &TestApp, token: &str, options: Value) -> Value {
    let r = t.post(token, "/api/v1/imports", options).await;
    let status = r.status();
    let job: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_i64().unwrap();
    let done = t.wait_for_job(token, id).await;
    assert_eq!(done["state"], "done", "{done}");
    let r = t.get(token, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Uploads `bytes` as `name` and imports them with `options` (the upload ID added).
pub(crate) async fn upload_and_import(
    t: &TestApp,
    name: &str,
    bytes: Vec<u8>,
    mut options: Value,
) -> Value {
    let u = upload(t, &t.admin_token, name, bytes).await;
    options["upload"] = u["id"].clone();
    import(t, &t.admin_token, options).await
}

/// The report counts of an import: (created, updated, unchanged, skipped, failed).
pub(crate) fn counts(i: &Value) -> (i64, i64, i64, i64, i64) {
    let r = &i["result"];
    let n = |k: &str| r[k].as_i64().unwrap_or_else(|| panic!("no {k} in {r}"));
    (
        n("created"),
        n("updated"),
        n("unchanged"),
        n("skipped"),
        n("failed"),
    )
}

pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The records holding this phone (as identification finds them), full.
pub async fn by_phone(t: &TestApp, phone: &str) -> Vec<Value> {
    let r: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/identify?phone={}", enc(phone)),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut out = Vec::new();
    for m in r["matches"].as_array().unwrap() {
        out.push(record(t, m["id"].as_str().unwrap()).await);
    }
    out
}

pub async fn record(t: &TestApp, id: &str) -> Value {
    let r = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

pub async fn record_count(t: &TestApp) -> u64 {
    let page: Value = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": []}, "limit": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    page["total"].as_u64().unwrap()
}

pub(crate) fn phones(r: &Value) -> Vec<String> {
    r["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap().to_string())
        .collect()
}

/// Files left in the uploads folder.
pub(crate) fn upload_files(t: &TestApp) -> Vec<String> {
    match std::fs::read_dir(t.app.settings.files_dir.join("uploads")) {
        Ok(dir) => dir
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

pub(crate) async fn upload_rows(t: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM uploads")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

pub(crate) const PEOPLE: &[&str] = &[
    "Imię,Nazwisko,Telefon,E-mail,PESEL,Miasto",
    "Jan,Kowalski,600 100 200,jan@example.pl,44051401359,Łódź",
    "Zofia,Wiśniewska,+48 600 100 201,zofia@example.pl,,Gdańsk",
];

// ---------------------------------------------------------------------------------------
// Upload.

#[tokio::test]
async fn a_utf8_csv_uploads_raw_or_as_multipart_with_its_format_encoding_delimiter_and_sheet() {
    let t = spawn_app().await;
    let u = upload(&t, &t.admin_token, "kontakty.csv", csv(PEOPLE)).await;
    assert_eq!(
        (
            &u["file_name"],
            &u["format"],
            &u["encoding"],
            &u["delimiter"],
            &u["sheets"],
            u["size"].as_u64(),
        ),
        (
            &json!("kontakty.csv"),
            &json!("csv"),
            &json!("utf-8"),
            &json!(","),
            &json!(["kontakty"]),
            Some(csv(PEOPLE).len() as u64),
        )
    );

    let (content_type, body) = multipart("lista źródłowa.csv", &csv(PEOPLE));
    let r = t
        .post_bytes(
            &t.admin_token,
            "/api/v1/imports/uploads",
            &content_type,
            body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["file_name"], "lista źródłowa.csv");
    assert_eq!(m["format"], "csv");
    assert_eq!(m["encoding"], "utf-8");
    assert_eq!(m["delimiter"], ",");
    assert_eq!(m["size"].as_u64(), Some(csv(PEOPLE).len() as u64));
    assert_ne!(m["id"], u["id"]);

    // The name may also come in X-File-Name; without any name the upload is refused.
    let r = t
        .client
        .post(t.url("/api/v1/imports/uploads"))
        .bearer_auth(&t.admin_token)
        .header("x-file-name", "naglowek.csv")
        .body(csv(PEOPLE))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let h: Value = r.json().await.unwrap();
    assert_eq!(h["file_name"], "naglowek.csv");
    // A path is cut to the file's name.
    let u = upload(
        &t,
        &t.admin_token,
        "C:\\Users\\ala\\../lista.csv",
        csv(PEOPLE),
    )
    .await;
    assert_eq!(u["file_name"], "lista.csv");
    let p = problem(
        t.post_bytes(
            &t.admin_token,
            "/api/v1/imports/uploads",
            "text/csv",
            csv(PEOPLE),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p), [("name".into(), "required".into())]);
}

#[tokio::test]
async fn a_windows_1250_semicolon_csv_and_a_tab_separated_one_are_detected_and_read() {
    let t = spawn_app().await;
    let text = "Imię;Nazwisko;Miasto\r\nŻaneta;Źdźbło;Łódź\r\nŚwiętosław;Gęś;Kraków\r\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1250.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    let u = upload(&t, &t.admin_token, "cp1250.csv", bytes.into_owned()).await;
    assert_eq!(
        (&u["encoding"], &u["delimiter"]),
        (&json!("windows-1250"), &json!(";"))
    );
    let p = preview(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    assert_eq!(p["headers"], json!(["Imię", "Nazwisko", "Miasto"]));
    assert_eq!(p["encoding"], "windows-1250");
    assert_eq!(p["rows"][0]["cells"][1]["value"], "Źdźbło");
    assert_eq!(p["rows"][1]["cells"][0]["value"], "Świętosław");
    assert_eq!(p["rows"][1]["row"], 3);

    let tsv = "Imię\tNazwisko\tTelefon\nAnna\tNowak\t600 100 300\n"
        .as_bytes()
        .to_vec();
    let u = upload(&t, &t.admin_token, "taby.tsv", tsv).await;
    assert_eq!(
        (&u["format"], &u["encoding"], &u["delimiter"]),
        (&json!("csv"), &json!("utf-8"), &json!("\t"))
    );
    let p = preview(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    assert_eq!(p["headers"], json!(["Imię", "Nazwisko", "Telefon"]));
    assert_eq!(p["rows"][0]["cells"][2]["value"], "600 100 300");
    assert_eq!(p["valid"], 1);
}

// ---------------------------------------------------------------------------------------
// Preview.

#[tokio::test]
async fn the_preview_suggests_targets_for_polish_headers_and_explains_each_invalid_cell() {
    let t = spawn_app().await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon,E-mail,PESEL,Miasto,Kod pocztowy,Firma,Język,Uwagi",
        "Jan,Kowalski,600 100 200,jan@example.pl,44051401359,Łódź,90-001,,polski,x",
        "Ewa,Nowak,abc,nie-mail,12345678901,Kraków,,,klingoński,",
        ",,,,,,,,,",
        "Adam,Zieliński,600100202,,,,,,English,",
    ]);
    let u = upload(&t, &t.admin_token, "lista.csv", file).await;
    let p = preview(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    assert_eq!(
        p["suggested"],
        json!([
            "first_name",
            "last_name",
            "phone.mobile",
            "email",
            "pesel",
            "city",
            "postal_code",
            "organization_name",
            "language",
            ""
        ])
    );
    assert_eq!(p["mapping"], p["suggested"]);
    assert_eq!(p["sheet"], "lista");
    assert_eq!(
        (&p["valid"], &p["invalid"], &p["blank"]),
        (&json!(2), &json!(1), &json!(1))
    );
    let rows = p["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "the blank row is counted, not shown");
    assert_eq!(
        rows.iter()
            .map(|r| r["row"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [2, 3, 5]
    );
    assert!(
        rows[0]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["error"].is_null())
    );
    let bad = &rows[1]["cells"];
    for (col, code) in [
        (2, "invalid_phone"),
        (3, "invalid_email"),
        (4, "invalid_checksum"),
        (8, "not_in_dictionary"),
    ] {
        let e = &bad[col]["error"];
        assert!(e.is_object(), "column {col}: {bad}");
        assert_eq!(e["code"], code, "column {col}: {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    for col in [0, 1, 5, 6, 7, 9] {
        assert!(bad[col]["error"].is_null(), "column {col}: {bad}");
    }
    assert_eq!(bad[2]["value"], "abc");
    // The targets offered include the phone types and the system fields.
    let keys: Vec<&str> = p["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    for k in ["", "first_name", "phone.landline", "email", "tags", "kind"] {
        assert!(keys.contains(&k), "{k}");
    }

    // A mapping given is used; a single target twice is refused by column.
    let p = preview(
        &t,
        &t.admin_token,
        json!({"upload": u["id"], "mapping": ["last_name", "first_name"]}),
    )
    .await;
    assert_eq!(p["mapping"][0], "last_name");
    assert_eq!(p["mapping"][2], "", "columns past the mapping are ignored");
    assert_eq!(p["invalid"], 0);
    let e = problem(
        t.post(
            &t.admin_token,
            "/api/v1/imports/preview",
            json!({"upload": u["id"], "mapping": ["city", "city", "created_at"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&e),
        [
            ("mapping[1]".into(), "duplicate_target".into()),
            ("mapping[2]".into(), "read_only".into())
        ]
    );
}

#[tokio::test]
async fn a_pesel_that_lost_its_leading_zero_in_an_xlsx_is_padded_back_and_noted() {
    let t = spawn_app().await;
    let book = xlsx(&[
        vec![
            X::T("Imię"),
            X::T("Nazwisko"),
            X::T("PESEL"),
            X::T("Telefon"),
        ],
        vec![
            X::T("Ola"),
            X::T("Zerowa"),
            X::N(2270803624.0),
            X::N(600100200.0),
        ],
        vec![X::T("Jan"), X::T("Zły"), X::N(2270803625.0), X::E],
    ]);
    let u = upload(&t, &t.admin_token, "pesele.xlsx", book).await;
    assert_eq!(
        (&u["format"], &u["encoding"], &u["delimiter"], &u["sheets"]),
        (
            &json!("xlsx"),
            &Value::Null,
            &Value::Null,
            &json!(["Arkusz1"])
        )
    );
    let p = preview(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    assert_eq!(p["sheet"], "Arkusz1");
    let ok = &p["rows"][0]["cells"][2];
    assert_eq!(ok["value"], "2270803624");
    assert!(ok["error"].is_null(), "{ok}");
    assert_eq!(ok["note"]["code"], "leading_zeros_restored");
    assert!(ok["note"]["message"].as_str().unwrap().contains("PESEL"));
    // Padded back it is still no PESEL: the cell is invalid as it was read.
    let bad = &p["rows"][1]["cells"][2];
    assert_eq!(bad["error"]["code"], "invalid_length", "{bad}");
    assert!(bad["note"].is_null(), "{bad}");

    // Imported, the PESEL is stored with its zero and the report counts the repair.
    let i = import(&t, &t.admin_token, json!({"upload": u["id"]})).await;
    assert_eq!(counts(&i), (1, 0, 0, 0, 1));
    assert_eq!(i["result"]["repairs"]["leading_zeros_restored"], 1);
    let r = by_phone(&t, "600100200").await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["pesel"], "02270803624");
    // A sheet that is not there is named.
    let e = problem(
        t.post(
            &t.admin_token,
            "/api/v1/imports/preview",
            json!({"upload": u["id"], "sheet": "Arkusz9"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&e), [("sheet".into(), "no_such_sheet".into())]);
}
