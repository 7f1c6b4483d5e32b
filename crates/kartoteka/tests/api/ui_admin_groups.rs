//! Render and save tests of the campaign and segment administration screens.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ui_admin::{by_id, input_value, page, send};

/// The ID in the first edit link of a campaigns or segments list.
fn group_id(html: &str, base: &str) -> i64 {
    html.split(&format!("href=\"{base}/"))
        .nth(1)
        .unwrap_or_else(|| panic!("no link into {base}"))
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// The text of the table cell holding the record count.
fn records_cell(html: &str) -> String {
    by_id_class(html, "num records")
}

fn by_id_class(html: &str, class: &str) -> String {
    html.split(&format!("class=\"{class}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no .{class} in the page"))
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_manager_runs_a_campaign_and_deletes_it_only_after_typing_its_record_count() {
    let t = spawn_app().await;
    t.user_token("kierownik", "manager", &[]).await;
    t.user_token("agent1", "agent", &[]).await;
    t.user_token("agent2", "home_agent", &[]).await;
    let (c, csrf) = browser(&t, "kierownik", "a-long-password").await;
    let (status, list) = page(&c, &t, "/admin/campaigns").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("No campaigns yet.") && list.contains(">New campaign</h2>"));
    assert!(
        list.contains("id=\"g-agents\"") && !list.contains("type=\"checkbox\" name=\"agents\""),
        "a manager, who may not list users, types the agents' usernames"
    );
    let (_, index) = page(&c, &t, "/admin").await;
    assert!(
        index.contains("href=\"/admin/campaigns\"") && index.contains("href=\"/admin/segments\"")
    );

    // Errors show beside their inputs, and what was typed stays.
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/campaigns",
        &[("csrf", &csrf), ("name", "  "), ("agents", "agent1")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(by_id(&html, "e-name"), "a name of 1 to 200 characters");
    assert_eq!(input_value(&html, "g-agents"), "agent1");
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/campaigns",
        &[
            ("csrf", &csrf),
            ("name", "Wiosna"),
            ("active", "on"),
            ("agents", "agent1, nobody"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(by_id(&html, "e-agents"), "no user nobody");
    assert_eq!(input_value(&html, "g-name"), "Wiosna");
    // Without the form's CSRF token nothing is created.
    let (status, _, _) = send(
        &c,
        &t,
        "/admin/campaigns",
        &[("csrf", "forged"), ("name", "Wiosna"), ("active", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _, location) = send(
        &c,
        &t,
        "/admin/campaigns",
        &[
            ("csrf", &csrf),
            ("name", "Wiosna"),
            ("description", "Odnowienia umów"),
            ("active", "on"),
            ("agents", "agent1 agent2,agent1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/campaigns?saved=created");
    let (_, list) = page(&c, &t, &location).await;
    assert!(list.contains("Created.") && list.contains(">Wiosna</a>"));
    assert!(list.contains("Odnowienia umów") && list.contains(">agent1, agent2<"));
    assert_eq!(records_cell(&list), "0");
    let id = group_id(&list, "/admin/campaigns");
    let (status, _, _) = send(
        &c,
        &t,
        "/admin/campaigns",
        &[("csrf", &csrf), ("name", "Wiosna"), ("active", "on")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the name is taken"
    );

    // A record joins it through the API; the list and the edit page count it.
    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    let r = t
        .call(
            &t.admin_token,
            reqwest::Method::PUT,
            &format!("/api/v1/records/{rid}/campaigns/{id}"),
            None,
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let (_, list) = page(&c, &t, "/admin/campaigns").await;
    assert_eq!(records_cell(&list), "1");
    let edit_path = format!("/admin/campaigns/{id}/edit");
    let (status, edit) = page(&c, &t, &edit_path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(input_value(&edit, "g-name"), "Wiosna");
    assert_eq!(input_value(&edit, "g-agents"), "agent1, agent2");
    assert_eq!(by_id(&edit, "g-records"), "1 record");
    assert!(edit.contains("data-confirm=\"1\"") && edit.contains("<strong>1 record</strong>"));

    // Renamed, deactivated, one agent fewer.
    let (status, _, location) = send(
        &c,
        &t,
        &edit_path,
        &[
            ("csrf", &csrf),
            ("name", "Wiosna 2027"),
            ("description", "Odnowienia umów"),
            ("agents", "agent2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("{edit_path}?saved=1"));
    let (_, edit) = page(&c, &t, &location).await;
    assert!(edit.contains("Saved."));
    assert_eq!(input_value(&edit, "g-name"), "Wiosna 2027");
    assert_eq!(input_value(&edit, "g-agents"), "agent2");
    assert!(!edit.contains("id=\"g-active\" name=\"active\" checked"));
    let (_, list) = page(&c, &t, "/admin/campaigns").await;
    assert!(list.contains("<tr class=\"inactive\">") && list.contains(">inactive<"));
    let (status, html, _) = send(&c, &t, &edit_path, &[("csrf", &csrf), ("name", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(by_id(&html, "e-name"), "a name of 1 to 200 characters");

    // Deleting: nothing typed, a wrong number, then the right one.
    let delete_path = format!("/admin/campaigns/{id}/delete");
    let (status, html, _) = send(&c, &t, &delete_path, &[("csrf", &csrf), ("confirm", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        by_id(&html, "e-confirm"),
        "Type the number of records in it to confirm."
    );
    let (status, html, _) = send(&c, &t, &delete_path, &[("csrf", &csrf), ("confirm", "0")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        by_id(&html, "e-confirm"),
        "The number does not match. It now holds 1 record."
    );
    assert_eq!(input_value(&html, "g-confirm"), "0");
    let (status, _, _) = send(
        &c,
        &t,
        &delete_path,
        &[("csrf", "forged"), ("confirm", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, location) =
        send(&c, &t, &delete_path, &[("csrf", &csrf), ("confirm", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/campaigns?saved=deleted");
    let (_, list) = page(&c, &t, &location).await;
    assert!(list.contains("Deleted.") && list.contains("No campaigns yet."));
    let (status, _) = page(&c, &t, &edit_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.get(&t.admin_token, &format!("/api/v1/records/{rid}"))
            .await
            .status(),
        StatusCode::OK,
        "the record itself stays"
    );
}

#[tokio::test]
async fn segments_are_kept_like_campaigns_and_an_administrator_ticks_a_campaigns_agents() {
    let t = spawn_app().await;
    t.user_token("kierownik", "manager", &[]).await;
    t.user_token("agent1", "agent", &[]).await;
    let (c, csrf) = browser(&t, "kierownik", "a-long-password").await;
    let (_, list) = page(&c, &t, "/admin/segments").await;
    assert!(list.contains("No segments yet.") && !list.contains("g-agents"));
    let (status, _, location) = send(
        &c,
        &t,
        "/admin/segments",
        &[("csrf", &csrf), ("name", "VIP"), ("active", "on")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/admin/segments?saved=created")
    );
    let (_, list) = page(&c, &t, "/admin/segments").await;
    let id = group_id(&list, "/admin/segments");
    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    for _ in 0..2 {
        let r = t
            .call(
                &t.admin_token,
                reqwest::Method::PUT,
                &format!("/api/v1/records/{rid}/segments/{id}"),
                None,
            )
            .await;
        assert!(r.status().is_success());
    }
    let other = t.create(person()).await;
    t.call(
        &t.admin_token,
        reqwest::Method::PUT,
        &format!(
            "/api/v1/records/{}/segments/{id}",
            other["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let (_, list) = page(&c, &t, "/admin/segments").await;
    assert_eq!(records_cell(&list), "2");
    let edit_path = format!("/admin/segments/{id}/edit");
    let (status, _, _) = send(
        &c,
        &t,
        &edit_path,
        &[
            ("csrf", &csrf),
            ("name", "Kluczowi"),
            ("description", "Top 100"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, edit) = page(&c, &t, &edit_path).await;
    assert_eq!(input_value(&edit, "g-name"), "Kluczowi");
    assert!(edit.contains(">Top 100</textarea>") && !edit.contains("g-agents"));
    assert!(edit.contains("<strong>2 records</strong>"));
    let delete_path = format!("/admin/segments/{id}/delete");
    let (status, _, _) = send(&c, &t, &delete_path, &[("csrf", &csrf), ("confirm", "1")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, location) =
        send(&c, &t, &delete_path, &[("csrf", &csrf), ("confirm", "2")]).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/admin/segments?saved=deleted")
    );

    // An administrator picks a campaign's agents from the agents there are.
    let (admin, admin_csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let (_, list) = page(&admin, &t, "/admin/campaigns").await;
    assert!(
        list.contains("<input type=\"checkbox\" name=\"agents\" value=\"agent1\">")
            && !list.contains("value=\"kierownik\""),
        "agents only, to tick"
    );
    let (status, _, _) = send(
        &admin,
        &t,
        "/admin/campaigns",
        &[
            ("csrf", &admin_csrf),
            ("name", "Jesień"),
            ("active", "on"),
            ("agents", "agent1"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, list) = page(&admin, &t, "/admin/campaigns").await;
    let id = group_id(&list, "/admin/campaigns");
    let (_, edit) = page(&admin, &t, &format!("/admin/campaigns/{id}/edit")).await;
    assert!(edit.contains("<input type=\"checkbox\" name=\"agents\" value=\"agent1\" checked>"));
    // Unticking every agent empties the list.
    let (status, _, _) = send(
        &admin,
        &t,
        &format!("/admin/campaigns/{id}/edit"),
        &[("csrf", &admin_csrf), ("name", "Jesień"), ("active", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, list) = page(&admin, &t, "/admin/campaigns").await;
    assert!(!list.contains(">agent1<"));
    // An empty campaign goes after typing 0.
    let (status, _, _) = send(
        &admin,
        &t,
        &format!("/admin/campaigns/{id}/delete"),
        &[("csrf", &admin_csrf), ("confirm", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn agents_get_403_on_campaigns_and_segments_and_the_polish_screens_speak_polish() {
    let t = spawn_app().await;
    t.user_token("agent1", "agent", &[]).await;
    let (agent, agent_csrf) = browser(&t, "agent1", "a-long-password").await;
    let (admin, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    for kind in ["campaigns", "segments"] {
        let (status, _, _) = send(
            &admin,
            &t,
            &format!("/admin/{kind}"),
            &[("csrf", &csrf), ("name", "Lato"), ("active", "on")],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, list) = page(&admin, &t, &format!("/admin/{kind}")).await;
        let id = group_id(&list, &format!("/admin/{kind}"));
        for path in [format!("/admin/{kind}"), format!("/admin/{kind}/{id}/edit")] {
            let (status, html) = page(&agent, &t, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
            assert!(html.contains("Your role does not allow this."), "{path}");
        }
        for (path, form) in [
            (format!("/admin/{kind}"), vec![("name", "X")]),
            (format!("/admin/{kind}/{id}/edit"), vec![("name", "X")]),
            (format!("/admin/{kind}/{id}/delete"), vec![("confirm", "0")]),
        ] {
            let mut form = form;
            form.push(("csrf", agent_csrf.as_str()));
            let (status, _, _) = send(&agent, &t, &path, &form).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
        let (status, _) = page(&admin, &t, &format!("/admin/{kind}/{id}/edit")).await;
        assert_eq!(status, StatusCode::OK, "still there");
    }

    let (status, _, _) = send(
        &admin,
        &t,
        "/me/locale",
        &[("csrf", &csrf), ("locale", "pl")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, index) = page(&admin, &t, "/admin").await;
    assert!(index.contains(">Kampanie<") && index.contains(">Segmenty<"));
    let (_, list) = page(&admin, &t, "/admin/campaigns").await;
    for s in [
        ">Nowa kampania</h2>",
        ">Nazwa<",
        ">Opis<",
        ">Aktywna<",
        ">Rekordy<",
        ">Konsultanci<",
    ] {
        assert!(list.contains(s), "{s}");
    }
    let id = group_id(&list, "/admin/campaigns");
    let (_, edit) = page(&admin, &t, &format!("/admin/campaigns/{id}/edit")).await;
    assert!(edit.contains("Edycja kampanii: Lato") && edit.contains("<strong>0 rekordów</strong>"));
    assert!(
        edit.contains("Usuń kampanię") && edit.contains("Aby potwierdzić, wpisz liczbę rekordów")
    );
    let (_, html, _) = send(
        &admin,
        &t,
        &format!("/admin/campaigns/{id}/edit"),
        &[("csrf", &csrf), ("name", "Lato"), ("agents", "nikt")],
    )
    .await;
    assert_eq!(by_id(&html, "e-agents"), "nie ma użytkownika nikt");
    let (_, html, _) = send(
        &admin,
        &t,
        &format!("/admin/campaigns/{id}/delete"),
        &[("csrf", &csrf), ("confirm", "3")],
    )
    .await;
    assert_eq!(
        by_id(&html, "e-confirm"),
        "Liczba się nie zgadza. Obecnie: 0 rekordów."
    );
    let (_, list) = page(&admin, &t, "/admin/segments").await;
    assert!(list.contains(">Nowy segment</h2>") && list.contains(">Aktywny<"));
}

#[tokio::test]
async fn in_the_browser_a_campaign_is_deleted_once_its_record_count_is_typed() {
    let Some(driver) = crate::webdriver::Driver::start().await else {
        return;
    };
    let t = spawn_app().await;
    t.user_token("anna.nowak", "agent", &[]).await;
    t.user_token("piotr.zdalny", "home_agent", &[]).await;
    let seg = t
        .post(
            &t.admin_token,
            "/api/v1/segments",
            json!({"name": "VIP", "description": "Kluczowi klienci"}),
        )
        .await;
    assert_eq!(seg.status(), StatusCode::CREATED);
    let b = driver.browser(&t.base).await;
    b.log_in("admin", ADMIN_PASSWORD).await;
    b.go("/admin/campaigns").await;
    b.fill("#g-name", "Wiosna 2027").await;
    b.fill("#g-description", "Odnowienia umów").await;
    b.click("input[name=agents][value='anna.nowak']").await;
    b.click("#new-group button.primary").await;
    b.wait_text(".notice", "Created.").await;
    let c: Value = t
        .post(
            &t.admin_token,
            "/api/v1/campaigns",
            json!({"name": "Jesień", "active": false}),
        )
        .await
        .json()
        .await
        .unwrap();
    let list: Value = t
        .get(&t.admin_token, "/api/v1/campaigns")
        .await
        .json()
        .await
        .unwrap();
    let id = list
        .as_array()
        .or_else(|| list["items"].as_array())
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Wiosna 2027")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_ne!(c["id"].as_i64(), Some(id));
    for _ in 0..2 {
        let rec = t.create(person()).await;
        t.call(
            &t.admin_token,
            reqwest::Method::PUT,
            &format!(
                "/api/v1/records/{}/campaigns/{id}",
                rec["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    }
    b.go("/admin/campaigns").await;
    b.screenshot("admin_campaigns").await;
    b.go(&format!("/admin/campaigns/{id}/edit")).await;
    let delete = "form.confirm-form button[type=submit]";
    let disabled = format!("return document.querySelector('{delete}').disabled");
    assert_eq!(b.execute(&disabled).await, json!(true));
    b.fill("#g-confirm", "1").await;
    assert_eq!(b.execute(&disabled).await, json!(true));
    b.fill("#g-confirm", "2").await;
    assert_eq!(b.execute(&disabled).await, json!(false));
    assert_eq!(
        b.execute(&format!(
            "return getComputedStyle(document.querySelector('{delete}')).color"
        ))
        .await,
        json!("rgb(255, 255, 255)"),
        "white on red"
    );
    b.screenshot("admin_campaign_edit").await;
    b.click(delete).await;
    b.wait_text(".notice", "Deleted.").await;
    assert!(b.url().await.ends_with("/admin/campaigns?saved=deleted"));
    b.go("/admin/segments").await;
    b.screenshot("admin_segments").await;
    b.quit().await;
}
