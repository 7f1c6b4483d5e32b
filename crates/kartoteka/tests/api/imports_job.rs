//! Imports through the API, continued: bad files, the size limit, and the import job with
//! its report and failed rows (the files and steps are in `imports.rs`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::imports::*;

// ---------------------------------------------------------------------------------------
// Bad input.

/// An OLE compound file as an encrypted xlsx is: the magic number, and a directory entry
/// named `EncryptedPackage` (UTF-16LE) at a 128-byte boundary.
pub(crate) fn fake_encrypted_ole() -> Vec<u8> {
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
pub(crate) async fn raw_request(t: &TestApp, head: &str, chunks: Vec<Vec<u8>>) -> (String, usize) {
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
    let page = search(
        &t,
        json!({"filter": {"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}}),
    )
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["last_name"], "Kowalski");
    // The import wrote the trigrams itself, with the trigram trigger dropped for its
    // transaction (SQLite): the trigger is back for records created after it.
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records",
            json!({"kind": "person", "first_name": "Jerzy", "last_name": "Kowalczyk", "city": "Łódź"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let page = search(
        &t,
        json!({"filter": {"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}}),
    )
    .await;
    let mut names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["last_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Kowalczyk", "Kowalski"]);
    let page = search(
        &t,
        json!({"filter": {"all": [{"field": "last_name", "op": "like", "value": "%isniew%"}]}}),
    )
    .await;
    assert_eq!(page["total"], 1);

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

/// The first page of the records a search body finds.
async fn search(t: &TestApp, body: Value) -> Value {
    t.post(&t.admin_token, "/api/v1/records/search", body)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn backslashes_in_cells_arrive_as_written_on_either_backend() {
    // PostgreSQL copies created records in COPY's text format, where `\N` is NULL and
    // `\n` a newline unless escaped.
    let t = spawn_app().await;
    let file = csv(&[
        "Imię,Nazwisko,Telefon,Miasto",
        r"Jan,Nowak\Kowalska,600 100 300,\N",
        r"Ewa,Kos,600 100 301,Nowa\nHuta",
    ]);
    let i = upload_and_import(&t, "ukosniki.csv", file, json!({})).await;
    assert_eq!(counts(&i), (2, 0, 0, 0, 0));
    let jan = &by_phone(&t, "600100300").await[0];
    assert_eq!(jan["last_name"], r"Nowak\Kowalska");
    assert_eq!(jan["city"], r"\N");
    let ewa = &by_phone(&t, "600100301").await[0];
    assert_eq!(ewa["city"], r"Nowa\nHuta");
}
