//! Cases: reading a record's cases, editing their fields, the classifier history, who may.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A campaign (with agents by username) holding the record; returns the campaign's ID.
async fn campaign_with(t: &TestApp, name: &str, agents: &[&str], record: &str) -> i64 {
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/campaigns",
            json!({"name": name, "agents": agents}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = t
        .call(
            &t.admin_token,
            Method::PUT,
            &format!("/api/v1/records/{record}/campaigns/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    id
}

async fn classifiers(t: &TestApp) {
    for (code, label) in [("sale", "Sale"), ("callback", "Call back")] {
        let r = t
            .call(
                &t.admin_token,
                Method::PUT,
                &format!("/api/v1/dictionaries/classifiers/entries/{code}"),
                Some(json!({"label": label})),
            )
            .await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
}

async fn user_id(t: &TestApp, username: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn patch_ok(t: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = t.patch(token, path, body).await;
    let status = r.status();
    let json: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{json}");
    json
}

#[tokio::test]
async fn every_field_of_a_case_is_edited_and_the_classifier_history_grows() {
    let t = spawn_app().await;
    classifiers(&t).await;
    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    let cid = campaign_with(&t, "Wiosna", &[], rid).await;
    t.user_token("jan", "agent", &[]).await;
    let jan = user_id(&t, "jan").await;
    let admin = &t.admin_token;

    let list: Value = t
        .get(admin, &format!("/api/v1/records/{rid}/cases"))
        .await
        .json()
        .await
        .unwrap();
    let case = &list[0];
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            case["campaign_id"].as_i64(),
            case["campaign"].as_str(),
            &case["status"],
            &case["assigned_to"],
            &case["recontact_at"],
            case["attempts"].as_i64(),
            case["may_edit"].as_bool(),
            case["may_reassign"].as_bool(),
        ),
        (
            Some(cid),
            Some("Wiosna"),
            &Value::Null,
            &Value::Null,
            &Value::Null,
            Some(0),
            Some(true),
            Some(true)
        )
    );
    assert!(
        case.get("classifiers").is_none(),
        "the list leaves out histories"
    );

    let path = format!("/api/v1/records/{rid}/cases/{cid}");
    let c = patch_ok(&t, admin, &path, json!({"status": "  interested "})).await;
    assert_eq!(c["status"], "interested");
    let c = patch_ok(&t, admin, &path, json!({"assigned_to": jan})).await;
    assert_eq!(
        (c["assigned_to"].as_i64(), c["assigned_username"].as_str()),
        (Some(jan), Some("jan"))
    );
    let c = patch_ok(&t, admin, &path, json!({"assigned_to": null})).await;
    assert_eq!(c["assigned_to"], Value::Null);
    let c = patch_ok(&t, admin, &path, json!({"assigned_to": "jan"})).await;
    assert_eq!(c["assigned_to"].as_i64(), Some(jan), "a username works too");
    // A local date-time is in the user's zone (Europe/Warsaw, summer time in May).
    let c = patch_ok(
        &t,
        admin,
        &path,
        json!({"recontact_at": "2026-05-04T10:30"}),
    )
    .await;
    assert_eq!(c["recontact_at"], "2026-05-04T08:30:00.000Z");
    let c = patch_ok(
        &t,
        admin,
        &path,
        json!({"recontact_at": "2026-12-01T09:00:00+01:00"}),
    )
    .await;
    assert_eq!(c["recontact_at"], "2026-12-01T08:00:00.000Z");
    let c = patch_ok(
        &t,
        admin,
        &path,
        json!({"recontact_at": null, "status": null}),
    )
    .await;
    assert_eq!(
        (&c["recontact_at"], &c["status"]),
        (&Value::Null, &Value::Null)
    );

    let c = patch_ok(&t, admin, &path, json!({"classifier": "sale"})).await;
    assert_eq!(c["last_classifier"], "sale");
    // By label, in any case; and the same classifier again is another entry.
    let c = patch_ok(&t, admin, &path, json!({"classifier": "call back"})).await;
    assert_eq!(c["last_classifier"], "callback");
    patch_ok(&t, admin, &path, json!({"classifier": "callback"})).await;
    let one: Value = t.get(admin, &path).await.json().await.unwrap();
    let history: Vec<(&str, &str)> = one["classifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["classifier"].as_str().unwrap(),
                h["username"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            ("callback", "admin"),
            ("callback", "admin"),
            ("sale", "admin")
        ],
        "newest first, with who gave it"
    );
    assert_eq!(one["last_classifier"], "callback");
    assert!(one["modified_at"].as_str().unwrap() >= one["created_at"].as_str().unwrap());

    // Each change wrote one entry on the record, naming the campaign and the fields.
    let audit: Value = t
        .get(
            admin,
            &format!("/api/v1/audit?record={rid}&action=update_case"),
        )
        .await
        .json()
        .await
        .unwrap();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    let first = items.last().unwrap();
    assert_eq!(
        (first["entity"].as_str(), first["entity_id"].as_str()),
        (Some("record"), Some(rid))
    );
    assert_eq!(
        first["details"],
        json!({"campaign": {"id": cid, "name": "Wiosna"},
               "changes": [{"field": "case.status", "before": null, "after": "interested"}]})
    );
    assert_eq!(
        items[0]["details"]["changes"],
        json!([{"field": "case.last_classifier", "before": "callback", "after": "callback"}])
    );
    // A patch that changes nothing writes nothing.
    patch_ok(&t, admin, &path, json!({"status": null})).await;
    let audit: Value = t
        .get(
            admin,
            &format!("/api/v1/audit?record={rid}&action=update_case"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn invalid_case_fields_are_named_and_nothing_is_saved() {
    let t = spawn_app().await;
    classifiers(&t).await;
    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    let cid = campaign_with(&t, "Lato", &[], rid).await;
    t.user_token("pbx", "integration", &[]).await;
    let pbx = user_id(&t, "pbx").await;
    let path = format!("/api/v1/records/{rid}/cases/{cid}");
    let p = problem(
        t.patch(
            &t.admin_token,
            &path,
            json!({"status": "x".repeat(101), "assigned_to": 999_999,
                   "recontact_at": "yesterday", "classifier": "nope"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let mut errors = field_errors(&p);
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("assigned_to".to_string(), "not_found".to_string()),
            ("classifier".to_string(), "not_in_dictionary".to_string()),
            ("recontact_at".to_string(), "invalid_date".to_string()),
            ("status".to_string(), "too_long".to_string()),
        ]
    );
    let p = problem(
        t.patch(&t.admin_token, &path, json!({"assigned_to": pbx}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("assigned_to".to_string(), "not_assignable".to_string())]
    );
    let p = problem(
        t.patch(&t.admin_token, &path, json!({"priority": 1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "invalid_json");
    let c: Value = t.get(&t.admin_token, &path).await.json().await.unwrap();
    assert_eq!(
        (
            &c["status"],
            &c["assigned_to"],
            &c["recontact_at"],
            &c["last_classifier"]
        ),
        (&Value::Null, &Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(c["classifiers"], json!([]));
    let audit: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/audit?record={rid}&action=update_case"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"], json!([]));

    // Unknown record, a campaign the record is not in, an unknown campaign.
    let other = t.create(person()).await;
    let oid = other["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/records/ZZZZZZZZ/cases/{cid}"),
        format!("/api/v1/records/{oid}/cases/{cid}"),
        format!("/api/v1/records/{rid}/cases/999999"),
    ] {
        problem(t.get(&t.admin_token, &path).await, StatusCode::NOT_FOUND).await;
        problem(
            t.patch(&t.admin_token, &path, json!({"status": "x"})).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    problem(
        t.get(&t.admin_token, "/api/v1/records/ZZZZZZZZ/cases")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn agents_edit_the_cases_of_their_campaigns_but_do_not_reassign_them() {
    let t = spawn_app().await;
    classifiers(&t).await;
    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    let agent = t.user_token("a1", "home_agent", &[]).await;
    let outsider = t.user_token("a2", "agent", &[]).await;
    let manager = t.user_token("m1", "manager", &["record_base"]).await;
    let plain_manager = t.user_token("m0", "manager", &[]).await;
    let pbx = t.user_token("pbx", "integration", &[]).await;
    let mine = campaign_with(&t, "Moja", &["a1"], rid).await;
    let theirs = campaign_with(&t, "Cudza", &[], rid).await;
    let a1 = user_id(&t, "a1").await;
    let m1 = user_id(&t, "m1").await;
    let path = format!("/api/v1/records/{rid}/cases/{mine}");

    let list: Value = t
        .get(&agent, &format!("/api/v1/records/{rid}/cases"))
        .await
        .json()
        .await
        .unwrap();
    let rights: Vec<(&str, bool, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["campaign"].as_str().unwrap(),
                c["may_edit"].as_bool().unwrap(),
                c["may_reassign"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(rights, vec![("Cudza", false, false), ("Moja", true, false)]);

    let c = patch_ok(
        &t,
        &agent,
        &path,
        json!({"status": "callback", "classifier": "sale", "recontact_at": "2026-05-04T10:30",
               "assigned_to": null}),
    )
    .await;
    assert_eq!(
        (c["status"].as_str(), c["last_classifier"].as_str()),
        (Some("callback"), Some("sale"))
    );
    assert_eq!(c["classifiers"][0]["username"], "a1");
    let p = problem(
        t.patch(&agent, &path, json!({"assigned_to": a1})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("assigned_to"));
    problem(
        t.patch(
            &agent,
            &format!("/api/v1/records/{rid}/cases/{theirs}"),
            json!({"status": "mine now"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Out of reach: the record does not exist for them.
    for token in [&outsider, &plain_manager] {
        problem(t.get(token, &path).await, StatusCode::NOT_FOUND).await;
        problem(
            t.patch(token, &path, json!({"status": "x"})).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    problem(
        t.patch(&pbx, &path, json!({"status": "x"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // A manager with the record base reassigns; the agent may then keep (resend) it.
    let c = patch_ok(&t, &manager, &path, json!({"assigned_to": m1})).await;
    assert_eq!(c["assigned_username"], "m1");
    let c = patch_ok(&t, &manager, &path, json!({"assigned_to": a1})).await;
    assert_eq!(c["assigned_username"], "a1");
    patch_ok(&t, &agent, &path, json!({"assigned_to": a1})).await;
    problem(
        t.patch(&agent, &path, json!({"assigned_to": null})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let c: Value = t.get(&agent, &path).await.json().await.unwrap();
    assert_eq!(c["assigned_to"].as_i64(), Some(a1));
}

#[tokio::test]
async fn the_card_opens_a_case_form_and_saves_it_with_errors_beside_the_fields() {
    let t = spawn_app().await;
    classifiers(&t).await;
    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    let cid = campaign_with(&t, "Jesień", &[], rid).await;
    let (b, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let card = b
        .get(t.url(&format!("/records/{rid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form_path = format!("/records/{rid}/cases/{cid}");
    assert!(card.contains(&format!("hx-get=\"{form_path}\"")));
    assert!(card.contains("id=\"case-edit\""));

    // htmx loads the form below the table.
    let form = b
        .get(t.url(&form_path))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!form.contains("<html"), "a partial");
    assert!(form.contains("Give a classifier") && form.contains(">Call back</option>"));
    assert!(
        form.contains("name=\"assigned_to\"") && form.contains(">Administrator (admin)</option>")
    );
    assert!(form.contains("No classifier given yet."));

    let r = b
        .post(t.url(&form_path))
        .header("HX-Request", "true")
        .form(&[
            ("csrf", csrf.as_str()),
            ("status", "Oddzwonić"),
            ("assigned_to", ""),
            ("recontact_at", "2026-06-01T09:00"),
            ("recontact_original", ""),
            ("classifier", "callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tab = r.text().await.unwrap();
    assert!(tab.contains("Case saved.") && tab.contains("<td>Oddzwonić</td>"));
    assert!(tab.contains("<td>Call back</td>") && tab.contains("2026-06-01 09:00"));
    let c: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/records/{rid}/cases/{cid}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            c["status"].as_str(),
            c["last_classifier"].as_str(),
            c["recontact_at"].as_str()
        ),
        (
            Some("Oddzwonić"),
            Some("callback"),
            Some("2026-06-01T07:00:00.000Z")
        )
    );

    // Without htmx: the form is a page; errors come back beside the field, nothing saved.
    let page = b
        .get(t.url(&form_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<html") && page.contains("Classifier history"));
    assert!(page.contains("value=\"2026-06-01T09:00\""));
    let long = "x".repeat(101);
    let r = b
        .post(t.url(&form_path))
        .form(&[
            ("csrf", csrf.as_str()),
            ("status", long.as_str()),
            ("recontact_at", "2026-06-01T09:00"),
            ("recontact_original", "2026-06-01T09:00"),
            ("classifier", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"case-status-error\""));
    assert!(page.contains("Call back"), "the history is still shown");
    let r = b
        .post(t.url(&form_path))
        .form(&[("csrf", csrf.as_str()), ("status", "Umówione")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/records/{rid}?saved=case").as_str()
    );
    let r = b
        .post(t.url(&form_path))
        .form(&[("status", "no token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let c: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/records/{rid}/cases/{cid}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "Umówione");
    assert_eq!(c["classifiers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn in_the_browser_a_row_opens_the_case_form_and_saving_updates_the_tab() {
    let Some(driver) = crate::webdriver::Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 40, 3, false).await.unwrap();
    let (rid, cid): (String, i64) = {
        use sqlx::Row;
        let row = sqlx::query(
            "SELECT r.public_id, k.campaign_id FROM cases k JOIN records r ON r.id = k.record_id \
             WHERE EXISTS (SELECT 1 FROM case_classifiers h WHERE h.case_id = k.id) ORDER BY k.id LIMIT 1",
        )
        .fetch_one(&t.app.db.pool)
        .await
        .unwrap();
        (row.try_get(0).unwrap(), row.try_get(1).unwrap())
    };
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.go(&format!("/records/{rid}")).await;
    // A click anywhere on the row opens the form below the table.
    b.click(&format!(
        "#tab-cases tr[hx-get$='/cases/{cid}'] td:nth-child(2)"
    ))
    .await;
    b.find("#case-edit form").await;
    assert!(
        b.url().await.ends_with(&format!("/records/{rid}")),
        "no navigation"
    );
    let before = b.count("#case-edit .case-history li").await;
    assert!(before > 0, "the demo gave it a classifier history");
    b.fill("#case-status", "Oddzwonić po 15").await;
    b.execute("const s = document.getElementById('case-classifier'); s.selectedIndex = 1;")
        .await;
    b.screenshot("case_form").await;
    b.click("#case-edit button.primary").await;
    b.wait_text("#tab-cases .notice", "Case saved.").await;
    assert!(b.text("#tab-cases table").await.contains("Oddzwonić po 15"));
    assert_eq!(b.count("#case-edit form").await, 0, "the form closes");
    // Opened again, the history has one more entry, on top.
    b.click(&format!("#tab-cases a[href$='/cases/{cid}']"))
        .await;
    b.find("#case-edit form").await;
    assert_eq!(b.count("#case-edit .case-history li").await, before + 1);
    assert!(
        b.text("#case-edit .case-history li")
            .await
            .contains("Administrator")
    );
    b.screenshot("case_form_saved").await;
    // In Polish.
    b.execute("const l = document.getElementById('locale'); l.value = 'pl'; l.form.submit();")
        .await;
    b.wait_text("header.top", "Rekordy").await;
    b.go(&format!("/records/{rid}")).await;
    b.click(&format!("#tab-cases a[href$='/cases/{cid}']"))
        .await;
    let form = b.wait_text("#case-edit", "Sprawa: ").await;
    for words in [
        "Sprawa: ",
        "Przypisany konsultant",
        "Termin ponownego kontaktu",
        "Nadaj klasyfikator",
        "Historia klasyfikatorów",
        "Zapisz sprawę",
    ] {
        assert!(form.contains(words), "{words} in {form}");
    }
    b.screenshot("case_form_pl").await;
    b.quit().await;
}
