//! Render and save tests of the administration screens over HTTP: custom fields,
//! dictionaries, users, API tokens and the audit log, with who may open which.
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

pub async fn page(c: &Client, t: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(t.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Posts a form; the status, the page and where a redirect points.
pub async fn send(
    c: &Client,
    t: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let r = c.post(t.url(path)).form(form).send().await.unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, r.text().await.unwrap(), location)
}

/// The text of the element with this id (its first text run).
pub fn by_id(html: &str, id: &str) -> String {
    let rest = html
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    rest.split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

/// The value of the input with this id.
pub fn input_value(html: &str, id: &str) -> String {
    html.split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no #{id} in the page"))
        .split("value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_manager_configures_custom_fields_and_every_rule_is_enforced_in_the_form() {
    let t = spawn_app().await;
    t.user_token("kierownik", "manager", &[]).await;
    let (c, csrf) = browser(&t, "kierownik", "a-long-password").await;
    let (status, list) = page(&c, &t, "/admin/fields").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("href=\"/admin/fields/new\""));
    assert!(
        list.contains("href=\"/admin/dictionaries\"") && !list.contains("href=\"/admin/users\""),
        "a manager sees fields and dictionaries, not the administrators' sections"
    );
    let (_, blank) = page(&c, &t, "/admin/fields/new").await;
    assert!(blank.contains("<label for=\"f-key\">Key</label>"));
    assert!(blank.contains("<option value=\"dictionary\""));

    // A dictionary field.
    let (status, _, location) = send(
        &c,
        &t,
        "/admin/fields",
        &[
            ("csrf", &csrf),
            ("key", "tier"),
            ("label", "Tier"),
            ("type", "dictionary"),
            ("options", "Gold\r\nSilver\r\n\r\nBronze"),
            ("mask", ""),
            ("visible", "on"),
            ("editable", "on"),
            ("position", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/fields?saved=created");
    // A masked one.
    let (status, _, _) = send(
        &c,
        &t,
        "/admin/fields",
        &[
            ("csrf", &csrf),
            ("key", "zip"),
            ("label", "Postal code (PL)"),
            ("type", "masked"),
            ("options", "ignored"),
            ("mask", "##-###"),
            ("visible", "on"),
            ("editable", "on"),
            ("required", "on"),
            ("position", "2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let fields: Value = t
        .get(&t.admin_token, "/api/v1/fields")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fields[0]["key"], "tier");
    assert_eq!(fields[0]["options"], json!(["Gold", "Silver", "Bronze"]));
    assert_eq!(
        (
            &fields[1]["mask"],
            &fields[1]["required"],
            &fields[1]["options"]
        ),
        (&json!("##-###"), &json!(true), &json!([]))
    );
    let (_, list) = page(&c, &t, "/admin/fields?saved=created").await;
    assert!(list.contains("Created.") && list.contains("Gold, Silver, Bronze"));
    assert!(list.contains("##-###"));

    // Editable without visible: the error stands beside "editable", and what was typed stays.
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/fields",
        &[
            ("csrf", &csrf),
            ("key", "hidden_note"),
            ("label", "Hidden note"),
            ("type", "text"),
            ("editable", "on"),
            ("position", "3"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        by_id(&html, "e-editable").contains("editable only when it is visible"),
        "{}",
        by_id(&html, "e-editable")
    );
    assert!(!html.contains("id=\"e-required\""));
    assert_eq!(input_value(&html, "f-key"), "hidden_note");
    // A key outside the pattern, and a mask that is no mask.
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/fields",
        &[
            ("csrf", &csrf),
            ("key", "zły klucz"),
            ("label", "Bad"),
            ("type", "text"),
            ("visible", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"e-key\""),
        "the key's error beside the key"
    );
    let (_, html, _) = send(
        &c,
        &t,
        "/admin/fields",
        &[
            ("csrf", &csrf),
            ("key", "tier"),
            ("label", "Again"),
            ("type", "text"),
            ("visible", "on"),
        ],
    )
    .await;
    assert!(by_id(&html, "e-key").contains("exists"), "a taken key");

    // Editing: key and type are read-only; the label changes.
    let (status, edit) = page(&c, &t, "/admin/fields/zip/edit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(edit.contains("<input id=\"f-key\" value=\"zip\" readonly"));
    assert!(edit.contains("<input id=\"f-type\" value=\"Masked text\" readonly"));
    assert!(!edit.contains("name=\"key\"") && !edit.contains("name=\"type\""));
    let (status, _, location) = send(
        &c,
        &t,
        "/admin/fields/zip/edit",
        &[
            ("csrf", &csrf),
            ("label", "Kod pocztowy"),
            ("mask", "##-###"),
            ("visible", "on"),
            ("editable", "on"),
            ("position", "2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/fields/zip/edit?saved=1");
    let (_, edit) = page(&c, &t, &location).await;
    assert!(edit.contains("value=\"Kod pocztowy\"") && edit.contains("Saved."));
    // Required without editable is refused beside "required".
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/fields/zip/edit",
        &[
            ("csrf", &csrf),
            ("label", "Kod pocztowy"),
            ("mask", "##-###"),
            ("visible", "on"),
            ("required", "on"),
            ("position", "2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "e-required").contains("visible and editable"));

    // Deleting names the values lost and needs that number (or the key) typed.
    for zip in ["00-950", "40-950", "80-001"] {
        t.create(json!({"kind": "person", "last_name": "Z", "custom": {"zip": zip}}))
            .await;
    }
    let (_, edit) = page(&c, &t, "/admin/fields/zip/edit").await;
    assert!(
        edit.contains("<strong>3 values</strong>"),
        "the number lost"
    );
    assert!(edit.contains("data-confirm=\"3\""));
    for wrong in ["", "2", "yes"] {
        let (status, html, _) = send(
            &c,
            &t,
            "/admin/fields/zip/delete",
            &[("csrf", &csrf), ("values", "3"), ("confirm", wrong)],
        )
        .await;
        assert!(
            status == StatusCode::CONFLICT || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{wrong}: {status}"
        );
        assert!(html.contains("id=\"e-confirm\""), "{wrong}");
    }
    assert_eq!(
        t.get(&t.admin_token, "/api/v1/fields/zip").await.status(),
        StatusCode::OK,
        "still there"
    );
    let (status, _, location) = send(
        &c,
        &t,
        "/admin/fields/zip/delete",
        &[("csrf", &csrf), ("values", "3"), ("confirm", "3")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/fields?saved=deleted");
    assert_eq!(
        t.get(&t.admin_token, "/api/v1/fields/zip").await.status(),
        StatusCode::NOT_FOUND
    );
    // Typing the key works as well.
    let (status, _, _) = send(
        &c,
        &t,
        "/admin/fields/tier/delete",
        &[("csrf", &csrf), ("values", "0"), ("confirm", "tier")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A form without the CSRF token is refused.
    let (status, _, _) = send(
        &c,
        &t,
        "/admin/fields",
        &[("key", "x"), ("label", "X"), ("type", "text")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_manager_edits_dictionaries_and_an_entry_in_use_is_deactivated_not_deleted() {
    let t = spawn_app().await;
    t.user_token("kierownik", "manager", &[]).await;
    let (c, csrf) = browser(&t, "kierownik", "a-long-password").await;
    let (status, html) = page(&c, &t, "/admin/dictionaries").await;
    assert_eq!(status, StatusCode::OK);
    for title in [
        "Languages",
        "Positions",
        "Stages",
        "Acquisition sources",
        "Classifiers",
        "Ticket statuses",
    ] {
        assert!(html.contains(&format!(">{title}</h2>")), "{title}");
    }
    assert!(html.contains("value=\"Former customer\""), "the entries");

    let (status, _, location) = send(
        &c,
        &t,
        "/admin/dictionaries/positions/entries",
        &[
            ("csrf", &csrf),
            ("code", "ceo"),
            ("label", "Chief executive"),
            ("position", "1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/dictionaries?saved=created#d-positions");
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/dictionaries/positions/entries",
        &[
            ("csrf", &csrf),
            ("code", "ceo"),
            ("label", "Other"),
            ("position", "x"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"e-code-positions\"") && html.contains("id=\"e-position-positions\"")
    );
    // Rename and move.
    let (status, _, _) = send(
        &c,
        &t,
        "/admin/dictionaries/positions/entries/ceo",
        &[
            ("csrf", &csrf),
            ("label", "Prezes zarządu"),
            ("position", "5"),
            ("active", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = page(&c, &t, "/admin/dictionaries").await;
    assert!(html.contains("value=\"Prezes zarządu\""));

    // A stage in use: deleting says how many records use it, deactivating works.
    t.create(json!({"kind": "person", "last_name": "A", "stage": "lead"}))
        .await;
    t.create(json!({"kind": "person", "last_name": "B", "stage": "lead"}))
        .await;
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/dictionaries/stages/entries/lead/delete",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("2 records use it; deactivate it instead."));
    let (status, _, _) = send(
        &c,
        &t,
        "/admin/dictionaries/stages/entries/lead",
        &[("csrf", &csrf), ("label", "Lead"), ("position", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let dicts: Value = t
        .get(&t.admin_token, "/api/v1/dictionaries")
        .await
        .json()
        .await
        .unwrap();
    let stages = dicts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "stages")
        .unwrap();
    assert_eq!(stages["entries"][0]["code"], "lead");
    assert_eq!(stages["entries"][0]["active"], false, "deactivated");
    // An unused entry goes.
    let (status, _, location) = send(
        &c,
        &t,
        "/admin/dictionaries/positions/entries/ceo/delete",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("saved=deleted"));
    let (_, html) = page(&c, &t, "/admin/dictionaries").await;
    assert!(!html.contains("Prezes zarządu"));
}

#[tokio::test]
async fn agents_get_403_on_the_administration_and_managers_on_the_administrators_part() {
    let t = spawn_app().await;
    t.user_token("agent1", "agent", &[]).await;
    t.user_token("kierownik", "manager", &[]).await;
    let (agent, agent_csrf) = browser(&t, "agent1", "a-long-password").await;
    for path in [
        "/admin",
        "/admin/fields",
        "/admin/fields/new",
        "/admin/dictionaries",
        "/admin/users",
        "/admin/users/new",
        "/admin/tokens",
        "/admin/audit",
    ] {
        let (status, html) = page(&agent, &t, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("Your role does not allow this."), "{path}");
    }
    let (status, _, _) = send(
        &agent,
        &t,
        "/admin/fields",
        &[
            ("csrf", &agent_csrf),
            ("key", "x"),
            ("label", "X"),
            ("type", "text"),
            ("visible", "on"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(
        &agent,
        &t,
        "/admin/dictionaries/stages/entries/lead/delete",
        &[("csrf", &agent_csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (manager, manager_csrf) = browser(&t, "kierownik", "a-long-password").await;
    let (status, index) = page(&manager, &t, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(index.contains("href=\"/admin/fields\"") && !index.contains("href=\"/admin/audit\""));
    for path in ["/admin/users", "/admin/tokens", "/admin/audit"] {
        let (status, _) = page(&manager, &t, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _, _) = send(
        &manager,
        &t,
        "/admin/users",
        &[
            ("csrf", &manager_csrf),
            ("username", "sneaky"),
            ("role", "administrator"),
            ("locale", "en"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.get(&t.admin_token, "/api/v1/users/sneaky").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_polish_administration_speaks_polish() {
    let t = spawn_app().await;
    t.post(
        &t.admin_token,
        "/api/v1/fields",
        json!({"key": "zip", "label": "Kod", "type": "masked", "mask": "##-###"}),
    )
    .await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let (status, _, _) = send(&c, &t, "/me/locale", &[("csrf", &csrf), ("locale", "pl")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, index) = page(&c, &t, "/admin").await;
    for s in [
        ">Administracja<",
        "Pola dodatkowe",
        "Słowniki",
        "Użytkownicy",
        "Tokeny API",
        "Dziennik audytu",
    ] {
        assert!(index.contains(s), "{s}");
    }
    let (_, form) = page(&c, &t, "/admin/fields/new").await;
    assert!(form.contains("<label for=\"f-key\">Klucz</label>"));
    assert!(form.contains(">Słownik (lista opcji)</option>"));
    assert!(form.contains("Widoczne") && form.contains("Edytowalne") && form.contains("Wymagane"));
    let (_, html, _) = send(
        &c,
        &t,
        "/admin/fields",
        &[
            ("csrf", &csrf),
            ("key", "x"),
            ("label", "X"),
            ("type", "text"),
            ("editable", "on"),
        ],
    )
    .await;
    assert_eq!(by_id(&html, "e-editable"), "niedozwolone przy tych flagach");
    let (_, edit) = page(&c, &t, "/admin/fields/zip/edit").await;
    assert!(
        edit.contains("<strong>0 wartości</strong>") && edit.contains("Usuń pole i jego wartości")
    );
    let (_, dicts) = page(&c, &t, "/admin/dictionaries").await;
    assert!(dicts.contains(">Źródła pozyskania</h2>") && dicts.contains(">Statusy zgłoszeń</h2>"));
    let (_, users) = page(&c, &t, "/admin/users/new").await;
    assert!(
        users.contains("Dostęp do bazy rekordów") && users.contains(">Konsultant zdalny</option>")
    );
    let (_, tokens) = page(&c, &t, "/admin/tokens").await;
    assert!(tokens.contains("Ostatnio użyty") && tokens.contains("Utwórz token"));
    let (_, audit) = page(&c, &t, "/admin/audit").await;
    assert!(audit.contains("ID rekordu") && audit.contains(">logowanie<"));
}

#[tokio::test]
async fn in_the_browser_the_flags_follow_each_other_and_deleting_waits_for_the_typed_number() {
    let Some(driver) = crate::webdriver::Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.go("/admin/fields/new").await;
    b.fill("#f-key", "zip").await;
    b.fill("#f-label", "Postal code").await;
    assert_eq!(
        b.execute("return document.getElementById('f-mask').closest('.field').hidden")
            .await,
        json!(true),
        "the mask input shows only for masked fields"
    );
    b.execute("const s = document.getElementById('f-type'); s.value = 'masked'; s.dispatchEvent(new Event('change'));")
        .await;
    b.fill("#f-mask", "##-###").await;
    // Visible off: editable and required go off and cannot be ticked.
    b.click("#f-required").await;
    b.click("#f-visible").await;
    let state = b
        .execute("return ['f-editable', 'f-required'].map(id => { const e = document.getElementById(id); return [e.disabled, e.checked]; })")
        .await;
    assert_eq!(state, json!([[true, false], [true, false]]));
    b.click("#f-visible").await;
    let state = b
        .execute(
            "return ['f-editable', 'f-required'].map(id => document.getElementById(id).disabled)",
        )
        .await;
    assert_eq!(state, json!([false, true]), "required waits for editable");
    b.click("#f-editable").await;
    b.click("#f-required").await;
    b.screenshot("admin_field_new").await;
    b.click("#field-form button.primary").await;
    b.wait_text(".notice", "Created.").await;
    b.screenshot("admin_fields").await;

    // The card's input takes only what the mask allows.
    b.go("/records/new?kind=person").await;
    b.type_into("#c-zip", "40950x").await;
    assert_eq!(b.value("#c-zip").await, "40-950");
    b.fill("#f-last_name", "Maskowa").await;
    b.click("button.primary").await;
    b.wait_text(".notice", "Saved.").await;

    b.go("/admin/fields/zip/edit").await;
    let delete = "form.confirm-form button[type=submit]";
    assert_eq!(
        b.execute(&format!(
            "return document.querySelector('{delete}').disabled"
        ))
        .await,
        json!(true)
    );
    b.fill("#f-confirm", "2").await;
    assert_eq!(
        b.execute(&format!(
            "return document.querySelector('{delete}').disabled"
        ))
        .await,
        json!(true)
    );
    b.fill("#f-confirm", "1").await;
    assert_eq!(
        b.execute(&format!(
            "return document.querySelector('{delete}').disabled"
        ))
        .await,
        json!(false)
    );
    b.screenshot("admin_field_delete").await;
    b.click(delete).await;
    b.wait_text(".notice", "Deleted.").await;
    assert!(b.url().await.ends_with("/admin/fields?saved=deleted"));
    b.quit().await;
}
