//! The import, export and downloads screens: who may open them over HTTP, and in real
//! Chromium a Windows-1250 CSV uploaded, mapped, checked, dry-run, imported, reported and
//! reverted, and the list exported into the downloads (skipped when Chromium is missing).
//! Screenshots land in target/screenshots/.
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::webdriver::Driver;
use crate::webdriver::{scripts_ready, until};

#[tokio::test]
async fn agents_get_403_on_the_import_export_and_downloads_screens() {
    let t = spawn_app().await;
    t.user_token("agent1", "agent", &[]).await;
    let (agent, csrf) = browser(&t, "agent1", "a-long-password").await;
    for path in [
        "/imports",
        "/imports/uploads/1",
        "/imports/1",
        "/imports/1/panel",
        "/imports/1/failures.csv",
        "/downloads",
        "/downloads/1",
        "/exports/1",
    ] {
        let r = agent.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Your role does not allow this."),
            "{path}"
        );
    }
    for path in ["/exports", "/imports/1/revert", "/imports/uploads/1/start"] {
        let r = agent
            .post(t.url(path))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let page = agent
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("href=\"/imports\""),
        "no import link for agents"
    );

    let (admin, admin_csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    for path in ["/imports", "/downloads"] {
        let r = admin.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // An upload without the form's token is refused.
    let r = admin
        .post(t.url("/imports/uploads?csrf=wrong"))
        .header("content-type", "text/csv")
        .header("x-file-name", "a.csv")
        .body("Imię;Nazwisko\nJan;Lis\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With it, the file is kept and its mapping opens.
    let r = admin
        .post(t.url(&format!("/imports/uploads?csrf={admin_csrf}")))
        .header("content-type", "text/csv")
        .header("x-file-name", "a.csv")
        .body("Imię;Nazwisko\nJan;Lis\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mapping = r.headers()["location"].to_str().unwrap().to_string();
    assert!(mapping.starts_with("/imports/uploads/"), "{mapping}");
    let html = admin
        .get(t.url(&mapping))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"<option value="first_name" selected>"#));
    // Someone else's upload is not there for an agent either way.
    let r = agent.get(t.url(&mapping)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Windows-1250 bytes of `text` (Polish letters; the rest is ASCII).
fn cp1250(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'ą' => 0xB9,
            'ć' => 0xE6,
            'ę' => 0xEA,
            'ł' => 0xB3,
            'ń' => 0xF1,
            'ó' => 0xF3,
            'ś' => 0x9C,
            'ź' => 0x9F,
            'ż' => 0xBF,
            'Ą' => 0xA5,
            'Ć' => 0xC6,
            'Ę' => 0xCA,
            'Ł' => 0xA3,
            'Ń' => 0xD1,
            'Ó' => 0xD3,
            'Ś' => 0x8C,
            'Ź' => 0x8F,
            'Ż' => 0xAF,
            c if c.is_ascii() => c as u8,
            c => panic!("no Windows-1250 byte for {c}"),
        })
        .collect()
}

/// Ten people, one with a PESEL whose check digit is wrong (row 4), one with a phone that
/// is no phone (row 7).
const CSV: &str = "Imię;Nazwisko;Telefon;E-mail;Miasto;PESEL;Wartość umowy\r\n\
Łucja;Żółkiewska;600 100 201;lucja@example.pl;Łódź;44051401359;1200\r\n\
Grzegorz;Brzęczyszczykiewicz;600 100 202;grzegorz@example.pl;Chrząszczyżewoszyce;;800\r\n\
Anna;Kowalska;600 100 203;anna@example.pl;Gdańsk;44051401358;300\r\n\
Źdźisław;Ćwik;600 100 204;zdzislaw@example.pl;Świętochłowice;;\r\n\
Małgorzata;Nowak;600 100 205;malgosia@example.pl;Kraków;;150\r\n\
Paweł;Wiśniewski;12;pawel@example.pl;Poznań;;90\r\n\
Ewa;Śliwińska;600 100 207;ewa@example.pl;Wrocław;;\r\n\
Jan;Dąbrowski;600 100 208;jan@example.pl;Zielona Góra;;40\r\n\
Ołena;Szewczenko;600 100 209;olena@example.pl;Białystok;;\r\n\
Zofia;Kaczmarek;600 100 210;zofia@example.pl;Bielsko-Biała;;75\r\n";

#[tokio::test]
async fn a_windows_1250_csv_is_mapped_checked_imported_reported_exported_and_reverted_in_the_browser()
 {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kontakty-cp1250.csv");
    std::fs::write(&file, cp1250(CSV)).unwrap();

    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.click("header nav a[href='/imports']").await;
    b.wait_text("h1", "Import").await;
    b.type_into("#imp-file", file.to_str().unwrap()).await;
    b.click(".imp-upload button[type=submit]").await;
    b.find("#preview table.imp-table").await;
    scripts_ready(&b).await;

    // Detected and shown: Windows-1250, semicolons; the headers' suggestions are chosen.
    assert_eq!(b.value("#imp-encoding").await, "windows-1250");
    assert_eq!(b.value("#imp-delimiter").await, ";");
    assert!(b.text("#imp-about").await.contains("windows-1250"));
    assert_eq!(b.value("select[name=map0]").await, "first_name");
    assert_eq!(b.value("select[name=map1]").await, "last_name");
    assert!(b.value("select[name=map2]").await.starts_with("phone."));
    assert_eq!(b.value("select[name=map3]").await, "email");
    assert_eq!(b.value("select[name=map4]").await, "city");
    assert_eq!(b.value("select[name=map5]").await, "pesel");
    assert_eq!(b.value("select[name=map6]").await, "", "no field says this");
    assert_eq!(b.count("th .auto").await, 6, "six suggested columns");
    assert!(b.text("#preview tbody").await.contains("Żółkiewska"));
    // Every invalid cell is marked with its reason.
    assert_eq!(b.count("td.bad-cell").await, 2);
    let pesel = b.text("tbody tr:nth-child(3) td.bad-cell .why").await;
    assert!(!pesel.is_empty());
    assert!(
        b.attr("tbody tr:nth-child(3) td.bad-cell", "title")
            .await
            .contains(&pesel)
    );
    b.wait_text(
        "#preview-counts",
        "First 10 rows: 8 valid, 2 with errors, 0 blank",
    )
    .await;

    // Ignoring a column re-renders the preview; choosing it again brings it back.
    b.execute(
        "const s = document.querySelector('select[name=map5]'); s.value = ''; \
         s.dispatchEvent(new Event('change', {bubbles: true}));",
    )
    .await;
    b.wait_text("#preview-counts", "9 valid, 1 with errors")
        .await;
    assert_eq!(b.count("td.bad-cell").await, 1);
    b.execute(
        "const s = document.querySelector('select[name=map5]'); s.value = 'pesel'; \
         s.dispatchEvent(new Event('change', {bubbles: true}));",
    )
    .await;
    b.wait_text("#preview-counts", "8 valid, 2 with errors")
        .await;

    // A custom field made from the last column, which is then mapped to it.
    b.click("th[data-col='6'] .new-field").await;
    assert_eq!(b.value("#nf6-key").await, "wartosc_umowy");
    b.fill("#nf6-label", "Wartość umowy").await;
    b.click("#nf-6 button.primary").await;
    until(
        &b,
        "return document.querySelector('select[name=map6]').value === 'custom.wartosc_umowy'",
    )
    .await;
    b.click("input[name=match][value=phone]").await;
    b.fill("#imp-label", "Targi 2024").await;
    b.screenshot("import_mapping").await;

    // The dry run counts without changing anything.
    b.click("#dry-run-button").await;
    b.find("#dry-run.job-done").await;
    let dry = b.text("#dry-run").await;
    assert!(dry.contains("Created\n8"), "{dry}");
    assert!(dry.contains("Failed\n2"), "{dry}");
    let none: Value = t
        .get(&t.admin_token, "/api/v1/records")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0, "{none}");

    // The import runs; its page follows the progress to the report.
    b.click("#import-button").await;
    b.find("#import-report").await;
    b.wait_url("/imports/").await;
    until(
        &b,
        "return !!document.querySelector('#import-report.job-done')",
    )
    .await;
    let report = b.text("#import-report .imp-counts").await;
    assert!(report.contains("Created\n8"), "{report}");
    assert!(report.contains("Failed\n2"), "{report}");
    let failures = b.text("table.imp-failures").await;
    assert!(failures.contains("44051401358"), "{failures}");
    assert!(failures.contains("PESEL"), "{failures}");
    assert_eq!(b.count("table.imp-failures tbody tr").await, 2);
    assert!(b.text(".imp-options").await.contains("Targi 2024"));
    let report_url = b.url().await;
    let import_id = report_url.rsplit('/').next().unwrap().to_string();
    assert_eq!(
        b.attr("a[href$='/failures.xlsx']", "href").await,
        format!("/imports/{import_id}/failures.xlsx")
    );
    b.screenshot("import_report").await;
    let imported: Value = t
        .get(&t.admin_token, &format!("/api/v1/imports/{import_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(imported["result"]["created"], 8, "{imported}");

    // The list's eight records exported (nothing selected: the filter's result) as CSV.
    b.go("/records").await;
    b.find("#record-grid").await;
    scripts_ready(&b).await;
    b.click(".export-menu > summary").await;
    b.click(".export-menu input[name=format][value=csv]").await;
    b.click(".export-menu input[name=columns][value=city]")
        .await;
    b.screenshot("export_menu").await;
    b.click("#export-button").await;
    b.find("#job.export-job.job-done").await;
    b.wait_text("#job", "8 rows").await;
    let href = b.attr("#job a.export-download", "href").await;
    assert!(href.contains("/downloads/"), "{href}");
    b.screenshot("export").await;
    b.click("header nav a[href='/downloads']").await;
    b.wait_text("table.downloads", "kartoteka-").await;
    assert!(b.text("table.downloads").await.contains(".csv"));

    // Reverting asks first, naming the counts, then deletes what the import created.
    b.go(&format!("/imports/{import_id}")).await;
    scripts_ready(&b).await;
    b.click(".imp-revert [data-revert]").await;
    b.wait_text(
        ".imp-revert dialog",
        "This deletes 8 records the import created and restores 0 records it updated.",
    )
    .await;
    b.click(".imp-revert dialog button[type=submit]").await;
    b.wait_text(".imp-reverted", "deleted 8").await;
    b.go("/imports").await;
    b.wait_text("table.imp-history", "reverted").await;
    b.screenshot("import_history").await;
    let left: Value = t
        .get(&t.admin_token, "/api/v1/records")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(left["total"], 0, "{left}");
    b.quit().await;
}
