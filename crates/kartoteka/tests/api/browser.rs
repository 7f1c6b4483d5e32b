//! What a person does, in real Chromium (skipped, saying so, when it is not installed).
//! Screenshots land in target/screenshots/.
use serde_json::{Value, json};

use crate::helpers::*;
use crate::webdriver::Driver;
use crate::webdriver::{scripts_ready, until};

#[tokio::test]
async fn a_person_is_created_with_two_phones_corrected_edited_and_saved_in_the_browser() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 60, 5, false).await.unwrap();
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.find("table.grid").await;
    b.screenshot("list").await;

    b.go("/records/new?kind=person").await;
    b.fill("#f-first_name", "Anna").await;
    b.fill("#f-last_name", "Kowalska").await;
    b.fill("#f-pesel", "44051401358").await;
    b.fill("#phones .row input[name='phone.number']", "600 700 800")
        .await;
    b.click("[data-add-row=phones]").await;
    b.execute("const n = document.querySelectorAll('#phones input[name=\"phone.number\"]'); n[1].value = '22 123 45 67';").await;
    b.execute("document.querySelectorAll('#phones input[name=\"phone.default\"]')[1].click();")
        .await;
    b.click("button.primary").await;
    let error = b.wait_text("#e-pesel", "check digit").await;
    assert!(error.contains("PESEL"), "{error}");
    assert_eq!(
        b.value("#f-last_name").await,
        "Kowalska",
        "what was typed stays"
    );

    b.fill("#f-pesel", "44051401359").await;
    b.click("button.primary").await;
    b.wait_text(".notice", "Saved.").await;
    b.wait_url("saved=created").await;
    assert_eq!(
        b.attr(".actions a[href^='tel:']", "href").await,
        "tel:+48221234567",
        "the call action uses the default number"
    );
    b.screenshot("card").await;

    // Unsaved changes are marked and Cancel asks before throwing them away.
    b.fill("#f-city", "Gdańsk").await;
    assert_eq!(
        b.execute("return document.body.classList.contains('is-dirty')")
            .await,
        json!(true)
    );
    b.click("[data-cancel]").await;
    assert_eq!(
        b.dialog().await.as_deref(),
        Some("You have unsaved changes. Leave anyway?")
    );
    b.dismiss_dialog().await;
    assert_eq!(b.value("#f-city").await, "Gdańsk");
    b.click("button.primary").await;
    b.wait_text(".notice", "Saved.").await;
    let id = b
        .url()
        .await
        .split("/records/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let stored: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["city"], "Gdańsk");
    assert_eq!(stored["phones"].as_array().unwrap().len(), 2);

    b.click("header .user button.link").await;
    b.find("#username").await;
    b.quit().await;
}

#[tokio::test]
async fn two_users_see_each_other_on_a_card_and_resolve_a_conflict_field_by_field() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    t.user_token("ewa", "manager", &["record_base"]).await;
    let rec = t
        .create(json!({"kind": "person", "first_name": "Jan", "last_name": "Lis", "city": "Opole"}))
        .await;
    let path = format!("/records/{}", rec["id"].as_str().unwrap());
    let (a, b) = (driver.browser(&t.base).await, driver.browser(&t.base).await);
    a.log_in("admin", ADMIN_PASSWORD).await;
    b.log_in("ewa", "a-long-password").await;
    a.go(&path).await;
    b.go(&path).await;
    a.wait_text("#presence", "ewa").await;
    b.wait_text("#presence", "Administrator").await;

    b.fill("#f-city", "Sopot").await;
    b.fill("#f-first_name", "Janusz").await;
    b.click("button.primary").await;
    b.wait_text(".notice", "Saved.").await;
    a.wait_text("#saved-notice", "saved by ewa").await;

    // A, still on the old version, changes the city and the last name.
    a.fill("#f-city", "Hel").await;
    a.fill("#f-last_name", "Lisowski").await;
    a.click("button.primary").await;
    a.find("input[name='choose.city']").await;
    assert_eq!(
        a.count("input[name='choose.first_name']").await,
        0,
        "A left the first name alone"
    );
    a.screenshot("conflict").await;
    a.click("input[name='choose.city'][value=theirs]").await;
    a.click("button[name=resolve]").await;
    a.wait_text(".notice", "Saved.").await;
    let stored: Value = t
        .get(&t.admin_token, &format!("/api/v1{path}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["city"], "Sopot", "their city, as A chose");
    assert_eq!(stored["last_name"], "Lisowski", "A's last name");
    assert_eq!(stored["first_name"], "Janusz", "B's untouched change");
    a.quit().await;
    b.quit().await;
}

#[tokio::test]
async fn the_interface_speaks_polish_and_a_masked_input_takes_only_what_its_mask_allows() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    t.post(
        &t.admin_token,
        "/api/v1/fields",
        json!({"key": "zip", "label": "Kod pocztowy firmy", "type": "masked", "mask": "##-###"}),
    )
    .await;
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.execute("const s = document.getElementById('locale'); s.value = 'pl'; s.form.submit();")
        .await;
    b.wait_text("header nav", "Nowa osoba").await;
    b.go("/records/new?kind=organization").await;
    b.wait_text("h1", "Nowa firma").await;
    b.type_into("#c-zip", "40a9 50x1").await;
    assert_eq!(b.value("#c-zip").await, "40-950");
    b.fill("#f-organization_name", "Śląska Spółdzielnia").await;
    b.click("button.primary").await;
    b.wait_text(".notice", "Zapisano.").await;
    b.screenshot("card-pl").await;
    // Many visible fields: the header shows two rows and a control to show them all.
    for i in 0..14 {
        t.post(&t.admin_token, "/api/v1/fields", json!({"key": format!("extra{i}"), "label": format!("Dodatkowe pole numer {i}"), "type": "text"})).await;
    }
    b.refresh().await;
    assert_eq!(
        b.execute("return document.querySelector('.head-fields .expand').hidden")
            .await,
        json!(false)
    );
    b.click(".head-fields .expand").await;
    assert_eq!(
        b.execute("return document.querySelector('.head-fields').classList.contains('open')")
            .await,
        json!(true)
    );
    assert_eq!(b.text(".head-fields .expand").await, "Zwiń");
    b.quit().await;
}

/// Picks an option of a select as a person does (the change event bubbles to the page's
/// handlers and to htmx).
async fn choose(b: &crate::webdriver::Browser, select: &str, value: &str) {
    b.find(select).await;
    b.execute(&format!(
        "const s = document.querySelector({select:?}); s.value = {value:?}; \
         s.dispatchEvent(new Event('change', {{bubbles: true}}));"
    ))
    .await;
}

#[tokio::test]
async fn the_filter_builder_runs_criteria_added_in_the_browser_and_a_bulk_action_shows_its_progress()
 {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 120, 7, false).await.unwrap();
    let mine = t
        .create(
            json!({"kind": "person", "first_name": "Jan", "last_name": "Kowalski",
                       "city": "Łódź", "phones": ["600 100 200"]}),
        )
        .await;
    let mine = mine["id"].as_str().unwrap().to_string();
    let segment: Value = t
        .post(
            &t.admin_token,
            "/api/v1/segments",
            json!({"name": "Łódzcy -ski"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.find("#record-grid").await;
    scripts_ready(&b).await;

    // The page's selection offers every record found.
    b.click("#sel-page").await;
    b.wait_text("#sel-count", "50 selected").await;
    b.wait_text("#sel-all", "Select all 121 found").await;
    b.screenshot("list-selection").await;
    b.click("#sel-all").await;
    b.wait_text("#sel-all-note", "All 121 found are selected")
        .await;
    // Deleting asks first, naming the count it will post as the confirmation.
    b.click("[data-bulk-delete]").await;
    b.wait_text("#bulk-delete-text", "Delete 121 records?")
        .await;
    assert_eq!(
        b.execute("return document.querySelector('#bulk-form input[name=confirm]').value")
            .await,
        json!("121")
    );
    b.screenshot("bulk-delete-dialog").await;
    b.click("#bulk-delete [data-close]").await;
    until(&b, "return !document.getElementById('bulk-delete').open").await;
    b.click("#sel-clear").await;
    until(&b, "return document.getElementById('bulk-bar').hidden").await;

    // Three criteria added through the builder: text with wildcards and "is not empty".
    b.click("#filter-panel > summary").await;
    choose(&b, "#add-criterion", "last_name").await;
    b.fill("#criteria input[name='c0.v']", "%ski").await;
    choose(&b, "#add-criterion", "city").await;
    b.fill("#criteria input[name='c1.v']", "%lodz%").await;
    choose(&b, "#add-criterion", "phone").await;
    choose(&b, "#criteria select[name='c2.op']", "not_empty").await;
    until(
        &b,
        "return getComputedStyle(document.querySelector('#criteria .crit:nth-child(3) .crit-val')).display === 'none'",
    )
    .await;
    assert_eq!(b.value("#add-criterion").await, "");
    b.screenshot("filter-builder").await;
    b.click("#filter-form button[type=submit]").await;
    b.wait_text("#filter-panel .badge", "3").await;
    scripts_ready(&b).await;
    b.wait_url("f=%7B").await;
    assert_eq!(
        b.value("#criteria input[name='c1.v']").await,
        "%lodz%",
        "the builder comes back from the URL"
    );
    let found: Value = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": [
                {"field": "last_name", "op": "like", "value": "%ski"},
                {"field": "city", "op": "like", "value": "%lodz%"},
                {"field": "phone", "op": "not_empty"}]}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let n = found["total"].as_i64().unwrap();
    assert_eq!(
        b.text(".count").await,
        format!("{n} record{}", if n == 1 { "" } else { "s" })
    );
    assert_eq!(b.count("#record-grid tbody tr").await as i64, n);
    b.find(&format!("input.sel-row[value='{mine}']")).await;
    b.screenshot("filter-result").await;

    // The page's records go into a segment; the job's panel shows its progress and result.
    b.click("#sel-page").await;
    b.click("#bulk-form details.bulk-menu:nth-of-type(2) > summary")
        .await;
    choose(
        &b,
        "#bulk-form select[name=segment]",
        &segment["id"].to_string(),
    )
    .await;
    b.click("#bulk-form button[value=segment_add]").await;
    b.wait_text("#job", &format!("{n} changed")).await;
    b.find("#job.job-done").await;
    b.screenshot("bulk-job").await;
    let members: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{mine}/segments"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members[0]["name"], "Łódzcy -ski");

    // A list criterion: the segment ticked in its dropdown, in Polish.
    b.execute("const s = document.getElementById('locale'); s.value = 'pl'; s.form.submit();")
        .await;
    b.wait_text("header nav", "Nowa osoba").await;
    scripts_ready(&b).await;
    b.click("#criteria .crit:nth-child(3) .crit-remove").await;
    until(
        &b,
        "return document.querySelectorAll('#criteria .crit').length === 2",
    )
    .await;
    choose(&b, "#add-criterion", "segments").await;
    b.click("#criteria .crit:nth-child(3) .pick > summary")
        .await;
    b.click(&format!(
        "#criteria .crit:nth-child(3) .pick input[value='{}']",
        segment["id"]
    ))
    .await;
    b.wait_text(
        "#criteria .crit:nth-child(3) .pick > summary",
        "Łódzcy -ski",
    )
    .await;
    b.screenshot("filter-pick-pl").await;
    b.click("#filter-form button[type=submit]").await;
    // The list (and its URL) follow the submit; the count may read 1 already before it.
    b.wait_url("%22segments%22").await;
    b.wait_text(".count", "1 rekord").await;
    b.find(&format!("input.sel-row[value='{mine}']")).await;

    // A wrong value is shown beside its criterion and the list does not run.
    b.go("/records?f=%7B%22all%22%3A%5B%7B%22field%22%3A%22last_name%22%2C%22op%22%3A%22like%22%2C%22value%22%3A%22%25ski%22%7D%2C%7B%22field%22%3A%22case.attempts%22%2C%22op%22%3A%22between%22%2C%22value%22%3A%5B%223%22%2C%22%22%5D%7D%5D%7D").await;
    b.wait_text("#criteria .crit.has-error .error", "nieprawidłowa wartość")
        .await;
    assert_eq!(b.count("#record-grid").await, 0);
    b.screenshot("filter-error-pl").await;
    b.quit().await;
}
