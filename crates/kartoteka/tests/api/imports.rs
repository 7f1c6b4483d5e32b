//! Imports through the API: upload (raw and multipart), preview, the import job with its
//! report and failed rows, matching, campaigns and segments, dry runs, history, revert,
//! bad files, the size limit and who may.

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

fn multipart(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
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

async fn preview(t: &TestApp, token: &str, options: Value) -> Value {
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
async fn upload_and_import(t: &TestApp, name: &str, bytes: Vec<u8>, mut options: Value) -> Value {
    let u = upload(t, &t.admin_token, name, bytes).await;
    options["upload"] = u["id"].clone();
    import(t, &t.admin_token, options).await
}

/// The report counts of an import: (created, updated, unchanged, skipped, failed).
fn counts(i: &Value) -> (i64, i64, i64, i64, i64) {
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

fn enc(s: &str) -> String {
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

fn phones(r: &Value) -> Vec<String> {
    r["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap().to_string())
        .collect()
}

/// Files left in the uploads folder.
fn upload_files(t: &TestApp) -> Vec<String> {
    match std::fs::read_dir(t.app.settings.files_dir.join("uploads")) {
        Ok(dir) => dir
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

async fn upload_rows(t: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM uploads")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

const PEOPLE: &[&str] = &[
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

// ---------------------------------------------------------------------------------------
// Bad input.

/// An OLE compound file as an encrypted xlsx is: the magic number, and a directory entry
/// named `EncryptedPackage` (UTF-16LE) at a 128-byte boundary.
fn fake_encrypted_ole() -> Vec<u8> {
    let mut bytes = vec![0u8; 2048];
    bytes[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes[1024 + 128..1024 + 128 + name.len()].copy_from_slice(&name);
    bytes
}

#[tokio::test]
async fn bad_files_are_refused_naming_the_file_with_a_clear_code_and_leave_nothing_behind() {
    let t = spawn_app().await;
    let book = xlsx(&[
        vec![X::T("Imię"), X::T("Nazwisko")],
        vec![X::T("Jan"), X::T("Nowak")],
    ]);
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("kontakty.csv", book.clone(), "format_mismatch", ".csv"),
        (
            "polowa.xlsx",
            book[..book.len() / 2].to_vec(),
            "corrupt",
            "damaged",
        ),
        ("x.xlsx", csv(PEOPLE), "format_mismatch", ".xlsx"),
        ("pusty.csv", Vec::new(), "empty_file", "empty"),
        (
            "krzaki.csv",
            b"Imie;Nazwisko\nJan\x81;Kowal\x98ski\n".to_vec(),
            "encoding",
            "UTF-8",
        ),
        (
            "umowa.pdf",
            b"%PDF-1.4\n".to_vec(),
            "unknown_format",
            ".pdf",
        ),
        (
            "bez_rozszerzenia",
            csv(PEOPLE),
            "unknown_format",
            "extension",
        ),
        (
            "tajne.xlsx",
            fake_encrypted_ole(),
            "password_protected",
            "password",
        ),
    ];
    for (name, bytes, code, says) in cases {
        let r = upload_response(&t, &t.admin_token, name, bytes).await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            field_errors(&p),
            [("file".into(), code.into())],
            "{name}: {p}"
        );
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
    }
    // The multipart way refuses the same.
    let (content_type, body) = multipart("kontakty.csv", &book);
    let p = problem(
        t.post_bytes(
            &t.admin_token,
            "/api/v1/imports/uploads",
            &content_type,
            body,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("file".into(), "format_mismatch".into())]
    );
    assert_eq!(upload_files(&t), Vec::<String>::new());
    assert_eq!(upload_rows(&t).await, 0);
    assert_eq!(record_count(&t).await, 0);
}

#[tokio::test]
async fn a_header_only_csv_and_an_empty_sheet_are_refused_at_preview_and_import() {
    let t = spawn_app().await;
    let header_only = upload(
        &t,
        &t.admin_token,
        "naglowek.csv",
        csv(&["Imię,Nazwisko,Telefon"]),
    )
    .await;
    let empty_sheet = upload(&t, &t.admin_token, "pusty.xlsx", xlsx(&[])).await;
    let blank_rows = upload(
        &t,
        &t.admin_token,
        "puste.csv",
        csv(&["Imię,Nazwisko", ",", " , "]),
    )
    .await;
    for (u, code) in [
        (&header_only, "no_data"),
        (&empty_sheet, "empty_sheet"),
        (&blank_rows, "no_data"),
    ] {
        for path in ["/api/v1/imports/preview", "/api/v1/imports"] {
            let p = problem(
                t.post(&t.admin_token, path, json!({"upload": u["id"]}))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(
                field_errors(&p),
                [("file".into(), code.into())],
                "{} {path}",
                u["file_name"]
            );
        }
    }
    let jobs: Value = t
        .get(&t.admin_token, "/api/v1/imports")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jobs, json!([]));
    // An upload that does not exist is named.
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/imports/preview",
            json!({"upload": 999}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p), [("upload".into(), "not_found".into())]);
}

/// Sends a request by hand: the head, then `chunks` of the body as long as the server reads
/// them; returns the status line of the answer and how many body bytes were written.
async fn raw_request(t: &TestApp, head: &str, chunks: Vec<Vec<u8>>) -> (String, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = t.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let writer = tokio::spawn(async move {
        let mut sent = 0;
        for c in chunks {
            if wr.write_all(&c).await.is_err() {
                break;
            }
            sent += c.len();
        }
        sent
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let status = loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), rd.read(&mut buf))
            .await
            .expect("the server answers")
            .unwrap_or(0);
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer).to_string();
        if let Some(line) = text.lines().next().filter(|_| text.contains("\r\n")) {
            break line.to_string();
        }
        assert!(n > 0, "the connection closed without an answer");
    };
    // The writer stops when the server closes the connection, or has sent all.
    let sent = tokio::time::timeout(std::time::Duration::from_secs(30), writer)
        .await
        .map(|r| r.unwrap())
        .unwrap_or(usize::MAX);
    (status, sent)
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_413_before_or_while_it_arrives() {
    let t = spawn_app_with(|c| c.upload_limit_mb = 1).await;
    let token = t.admin_token.clone();
    // Declared too large: refused before the body is read (none is sent).
    let head = format!(
        "POST /api/v1/imports/uploads?name=duzy.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        5 << 20
    );
    let (status, _) = raw_request(&t, &head, Vec::new()).await;
    assert!(status.contains(" 413 "), "{status}");

    // Chunked, with no length: refused once past the limit, before the rest arrives.
    let head = format!(
        "POST /api/v1/imports/uploads?name=duzy.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let line = b"Jan,Kowalski,600100200\n".repeat(2800); // ~64 KB
    let mut chunk = format!("{:x}\r\n", line.len()).into_bytes();
    chunk.extend_from_slice(&line);
    chunk.extend_from_slice(b"\r\n");
    // 1.2 MB announced in chunks, but a further 20 MB would follow (never ending).
    let chunks: Vec<Vec<u8>> = std::iter::repeat_n(chunk, 20 + 320).collect();
    let total: usize = chunks.iter().map(Vec::len).sum();
    let (status, sent) = raw_request(&t, &head, chunks).await;
    assert!(status.contains(" 413 "), "{status}");
    assert!(
        sent < total,
        "refused before the whole body was sent ({sent} of {total})"
    );
    // Multipart with a declared length past the limit.
    let (content_type, body) = multipart("duzy.csv", &vec![b'a'; 2 << 20]);
    let r = t
        .post_bytes(
            &t.admin_token,
            "/api/v1/imports/uploads",
            &content_type,
            body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let p: Value = r.json().await.unwrap();
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("1 MB"),
        "{p}"
    );
    assert_eq!(upload_files(&t), Vec::<String>::new());
    assert_eq!(upload_rows(&t).await, 0);
    // Under the limit it is taken.
    let u = upload(&t, &t.admin_token, "maly.csv", csv(PEOPLE)).await;
    assert_eq!(u["format"], "csv");
}

// ---------------------------------------------------------------------------------------
// The import.

#[tokio::test]
async fn an_import_creates_the_valid_rows_and_reports_every_invalid_cell_of_the_failed_ones() {
    let t = spawn_app().await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon,E-mail,PESEL,Miasto,Język",
        "Jan,Kowalski,600 100 200,jan@example.pl,44051401359,Łódź,polski",
        "Ewa,Nowak,abc,nie-mail,12345678901,Kraków,klingoński",
        "Zofia,Wiśniewska,+48 600 100 201,ZOFIA@example.pl,,Gdańsk,English",
        ",,,,,,",
        "Piotr,Zły,600 100 203,,,Radom,Deutsch",
        "Anna,Dobra,600 100 204,,,Opole,",
        "Olga,Zła,,zla@@example,,,",
    ]);
    let i = upload_and_import(&t, "lista.csv", file, json!({"source_label": "Targi 2026"})).await;
    assert_eq!(i["kind"], "import");
    assert_eq!(counts(&i), (4, 0, 0, 0, 2));
    assert_eq!(i["result"]["blank"], 1);
    assert_eq!(i["result"]["rows"], 7);
    assert_eq!(i["result"]["invalid_cells"], 5);
    assert_eq!(i["result"]["dry_run"], false);
    assert_eq!(record_count(&t).await, 4);

    let jan = &by_phone(&t, "600100200").await[0];
    assert_eq!(
        (
            &jan["first_name"],
            &jan["last_name"],
            &jan["city"],
            &jan["pesel"],
            &jan["language"],
            &jan["source"]
        ),
        (
            &json!("Jan"),
            &json!("Kowalski"),
            &json!("Łódź"),
            &json!("44051401359"),
            &json!("pl"),
            &json!("import")
        )
    );
    assert_eq!(phones(jan), ["+48600100200"]);
    assert_eq!(jan["emails"][0]["address"], "jan@example.pl");
    let zofia = &by_phone(&t, "600100201").await[0];
    assert_eq!(zofia["language"], "en");
    assert_eq!(by_phone(&t, "600100203").await[0]["language"], "de");
    // Found by search too.
    let page: Value = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["last_name"], "Kowalski");

    let id = i["id"].as_i64().unwrap();
    let f: Value = t
        .get(&t.admin_token, &format!("/api/v1/imports/{id}/failures"))
        .await
        .json()
        .await
        .unwrap();
    let f = f.as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["row"], 3);
    assert_eq!(
        f[0]["cells"],
        json!([
            "Ewa",
            "Nowak",
            "abc",
            "nie-mail",
            "12345678901",
            "Kraków",
            "klingoński"
        ])
    );
    let errors: Vec<(&str, &str, &str, &str)> = f[0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(!e["message"].as_str().unwrap().is_empty());
            (
                e["column"].as_str().unwrap(),
                e["header"].as_str().unwrap(),
                e["value"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("C", "Telefon", "abc", "invalid_phone"),
            ("D", "E-mail", "nie-mail", "invalid_email"),
            ("E", "PESEL", "12345678901", "invalid_checksum"),
            ("G", "Język", "klingoński", "not_in_dictionary"),
        ]
    );
    assert_eq!(f[1]["row"], 8);
    assert_eq!(f[1]["errors"][0]["column"], "D");
    assert_eq!(f[1]["errors"][0]["value"], "zla@@example");
    // Paging.
    let after: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/imports/{id}/failures?after=3&limit=5"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after.as_array().unwrap().len(), 1);
    assert_eq!(after[0]["row"], 8);
}

#[tokio::test]
async fn the_failed_rows_come_as_csv_with_a_bom_and_a_reason_column_and_as_xlsx() {
    let t = spawn_app().await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon,E-mail",
        "Jan,Kowalski,600 100 200,jan@example.pl",
        "Żaneta,Nowak,abc,nie-mail",
        "Ewa,\"Kowal, Nowak\",600 100 201,@",
    ]);
    let i = upload_and_import(&t, "żółte.csv", file, json!({})).await;
    assert_eq!(counts(&i), (1, 0, 0, 0, 2));
    let id = i["id"].as_i64().unwrap();

    let r = t
        .get(
            &t.admin_token,
            &format!("/api/v1/imports/{id}/failures/file?format=csv"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("failed-rows.csv"), "{disposition}");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("Imię,Nazwisko,Telefon,E-mail"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(",reason"), "{}", lines[0]);
    assert!(
        lines[1].contains("Żaneta,Nowak,abc,nie-mail,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("Telefon: ") && lines[1].contains("E-mail: "),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("\"Kowal, Nowak\""), "{}", lines[2]);

    let r = t
        .get(
            &t.admin_token,
            &format!("/api/v1/imports/{id}/failures/file?format=xlsx"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    let rows = read_xlsx(bytes);
    assert_eq!(rows.len(), 3);
    let head = &rows[0];
    assert_eq!(head.last().unwrap(), "reason");
    assert!(head.contains(&"Imię".to_string()) && head.contains(&"E-mail".to_string()));
    assert!(rows[1].contains(&"Żaneta".to_string()));
    assert!(rows[1].last().unwrap().contains("Telefon: "));

    let p = problem(
        t.get(
            &t.admin_token,
            &format!("/api/v1/imports/{id}/failures/file?format=pdf"),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("format".into(), "unknown_format".into())]
    );
}

/// The first sheet of an xlsx, every cell as text.
pub fn read_xlsx(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Matching.

async fn seed_kowalski(t: &TestApp) -> Value {
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

async fn group(t: &TestApp, kind: &str, name: &str) -> i64 {
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

async fn campaign_ids(t: &TestApp, rid: &str) -> Vec<i64> {
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

async fn segment_ids(t: &TestApp, rid: &str) -> Vec<i64> {
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
    let t = spawn_app().await;
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
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}, "limit": 1}),
        )
        .await;
    let page: Value = r.json().await.unwrap();
    assert_eq!(
        page["total"], 20_000,
        "the trigram index was filled: {page}"
    );

    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deferred_indexes")
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0, "every deferred index was built again");
    let sql = if t.app.db.backend == kartoteka_store::Backend::Postgres {
        "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'records_k_last'"
    } else {
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'records_k_last'"
    };
    let present: i64 = sqlx::query_scalar(sql)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
    assert_eq!(present, 1, "the last-name index is back");
}
