//! Render tests of the web UI over HTTP: every screen, its errors and the save paths.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn pages_ask_for_a_log_in_and_a_wrong_password_says_so() {
    let t = spawn_app().await;
    let c = cookie_client();
    let r = c.get(t.url("/records?q=x")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=/records%3Fq%3Dx");
    let login = c
        .get(t.url("/login?lang=pl"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        login.contains("Nazwa użytkownika")
            && login.contains("<label for=\"password\">Hasło</label>")
    );
    let r = c
        .post(t.url("/login"))
        .form(&[("username", "admin"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Wrong username or password.")
    );
    let r = c
        .post(t.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "//evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/records",
        "only local paths follow a log-in"
    );
}

#[tokio::test]
async fn the_list_counts_pages_and_searches_by_name_phone_email_and_id() {
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 120, 9, false).await.unwrap();
    let a = t.create(json!({"kind": "person", "first_name": "Zenon", "last_name": "Łęcki", "phones": ["600 111 222"], "emails": ["zenon@lecki.pl"]})).await;
    let (c, _) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let page = c
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("121 records"), "the count");
    assert_eq!(page.matches("<tr>").count(), 51, "a header row and 50 rows");
    assert!(
        page.contains("page=2&#38;sort=last_name"),
        "a link to the next page"
    );
    let id = a["id"].as_str().unwrap();
    for q in ["%C5%81%C4%99c", "600-111-222", "zenon%40lecki.pl", id] {
        let found = c
            .get(t.url(&format!("/records?q={q}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(found.contains(&format!("/records/{id}")), "{q}");
        assert!(found.contains("Zenon Łęcki"));
    }
    // An htmx request gets the rows alone.
    let part = c
        .get(t.url("/records?q=600111222"))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!part.contains("<html") && part.contains("1 record"));
}

#[tokio::test]
async fn the_card_saves_changed_fields_and_shows_errors_beside_them() {
    let t = spawn_app().await;
    let rec = t.create(json!({"kind": "person", "first_name": "Anna", "last_name": "Nowak", "phones": ["600 700 800", "22 123 45 67"]})).await;
    let id = rec["id"].as_str().unwrap();
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let card = c
        .get(t.url(&format!("/records/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("href=\"tel:+48600700800\""),
        "the call action uses the default number"
    );
    assert!(
        card.contains("href=\"tel:+48221234567\""),
        "the others are in its menu"
    );
    let original = hidden(&card, "original");
    let form = |pesel: &str, city: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("version", "1".into()),
            ("kind", "person".into()),
            ("original", original.clone()),
            ("first_name", "Anna".into()),
            ("last_name", "Nowak".into()),
            ("city", city.into()),
            ("pesel", pesel.into()),
            ("phone.number", "600 700 800".into()),
            ("phone.type", "mobile".into()),
            ("phone.ext", "".into()),
            ("phone.number", "22 123 45 67".into()),
            ("phone.type", "mobile".into()),
            ("phone.ext", "".into()),
            ("phone.number", "".into()),
            ("phone.type", "mobile".into()),
            ("phone.ext", "".into()),
            ("phone.default", "0".into()),
            ("email.address", "".into()),
            ("email.default", "0".into()),
            ("tags", "".into()),
        ]
    };
    let r = c
        .post(t.url(&format!("/records/{id}")))
        .form(&form("44051401358", "Gdańsk"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("class=\"error\" id=\"e-pesel\""),
        "the error stands beside PESEL"
    );
    assert!(
        html.contains("value=\"Gdańsk\""),
        "what the user typed stays"
    );
    let stored: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["version"], 1, "nothing saved");

    let r = c
        .post(t.url(&format!("/records/{id}")))
        .form(&form("44051401359", "Gdańsk"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/records/{id}?saved=1"));
    let stored: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (stored["city"].as_str(), stored["pesel"].as_str()),
        (Some("Gdańsk"), Some("44051401359"))
    );
    let audit: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/audit?record={id}&action=update"),
        )
        .await
        .json()
        .await
        .unwrap();
    let changed: Vec<_> = audit["items"][0]["details"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["city", "pesel"], "only what the user changed");
    assert_eq!(stored["source"], "api");

    let r = c
        .post(t.url(&format!("/records/{id}")))
        .form(&[("version", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a form without the CSRF token is refused"
    );
}

#[tokio::test]
async fn a_conflicting_save_shows_both_values_and_keeps_the_chosen_ones() {
    let t = spawn_app().await;
    let rec = t
        .create(json!({"kind": "person", "first_name": "Jan", "last_name": "Lis", "city": "Opole"}))
        .await;
    let id = rec["id"].as_str().unwrap();
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let card = c
        .get(t.url(&format!("/records/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let original = hidden(&card, "original");
    // Meanwhile someone else changes the city and the first name.
    t.patch(
        &t.admin_token,
        &format!("/api/v1/records/{id}"),
        json!({"city": "Kalisz", "first_name": "Janusz"}),
    )
    .await;
    let mine = vec![
        ("csrf", csrf.clone()),
        ("version", "1".into()),
        ("kind", "person".into()),
        ("original", original),
        ("first_name", "Jan".into()),
        ("last_name", "Lisowski".into()),
        ("city", "Radom".into()),
        ("phone.number", "".into()),
        ("phone.type", "mobile".into()),
        ("phone.ext", "".into()),
        ("tags", "".into()),
    ];
    let r = c
        .post(t.url(&format!("/records/{id}")))
        .form(&mine)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("name=\"choose.city\""),
        "the city is offered field by field"
    );
    assert!(html.contains("Kalisz") && html.contains("Radom"));
    assert!(
        !html.contains("name=\"choose.first_name\""),
        "the user left the first name alone"
    );
    let pending = hidden(&html, "pending");
    let version = hidden(&html, "version");
    let r = c
        .post(t.url(&format!("/records/{id}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("pending", pending.as_str()),
            ("choose.city", "theirs"),
            ("choose.last_name", "yours"),
            ("resolve", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stored: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["city"], "Kalisz", "their city, as chosen");
    assert_eq!(stored["last_name"], "Lisowski", "my last name");
    assert_eq!(
        stored["first_name"], "Janusz",
        "their untouched change stays"
    );
}

#[tokio::test]
async fn a_new_record_is_created_from_the_card_and_the_interface_speaks_polish() {
    let t = spawn_app().await;
    t.post(
        &t.admin_token,
        "/api/v1/fields",
        json!({"key": "zip", "label": "Kod", "type": "masked", "mask": "##-###"}),
    )
    .await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let r = c
        .post(t.url("/me/locale"))
        .form(&[("csrf", csrf.as_str()), ("locale", "pl")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let blank = c
        .get(t.url("/records/new?kind=organization"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        blank.contains("Nowa firma")
            && blank.contains("Nazwa firmy")
            && blank.contains("data-mask=\"##-###\"")
    );
    assert!(!blank.contains(">First name<"));
    let r = c
        .post(t.url("/records/new"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "organization"),
            ("organization_name", "Zakład Śląski"),
            ("custom.zip", "40950"),
            ("phone.number", "32 111 22 33"),
            ("phone.type", "work"),
            ("phone.ext", ""),
            ("phone.default", "0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("nie pasuje do wymaganego formatu"),
        "the mask error in Polish"
    );
    let r = c
        .post(t.url("/records/new"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "organization"),
            ("organization_name", "Zakład Śląski"),
            ("custom.zip", "40-950"),
            ("phone.number", "32 111 22 33"),
            ("phone.type", "work"),
            ("phone.ext", ""),
            ("phone.default", "0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let card = c
        .get(t.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("Zakład Śląski") && card.contains("Zapisano.") && card.contains("Zadzwoń")
    );
    let list = c
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("1 rekord"), "Polish count forms");
}

#[tokio::test]
async fn an_agent_sees_pesel_masked_and_read_only_on_the_card() {
    let t = spawn_app().await;
    let rec = t
        .create(json!({"kind": "person", "last_name": "Nowak", "pesel": "44051401359"}))
        .await;
    let id = rec["id"].as_str().unwrap();
    t.user_token("agent1", "agent", &[]).await;
    t.give_agent_the_record("agent1", id).await;
    let (c, _) = browser(&t, "agent1", "a-long-password").await;
    let card = c
        .get(t.url(&format!("/records/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("value=\"*******1359\" readonly"));
    assert!(!card.contains("44051401359"));
    assert!(
        !card.contains("href=\"/admin\""),
        "no administration link for agents"
    );
    let other = t
        .create(json!({"kind": "person", "last_name": "Obcy"}))
        .await;
    let r = c
        .get(t.url(&format!("/records/{}", other["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_list_shows_the_columns_a_user_chose_in_their_order_width_and_density() {
    let t = spawn_app().await;
    t.post(
        &t.admin_token,
        "/api/v1/fields",
        json!({"key": "tier", "label": "Poziom", "type": "text"}),
    )
    .await;
    t.create(json!({"kind": "person", "first_name": "Ala", "last_name": "Zet", "city": "Łódź", "nip": "5260250274", "custom": {"tier": "Gold"}})).await;
    t.create(json!({"kind": "person", "first_name": "Ola", "last_name": "Abc", "city": "Opole"}))
        .await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let r = c
        .post(t.url("/records/columns"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("column", "nip"),
            ("column", "name"),
            ("column", "custom.tier"),
            ("density", "comfortable"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = c
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let heads: Vec<&str> = page
        .match_indices("data-col=\"")
        .map(|(i, _)| page[i + 10..].split('"').next().unwrap())
        .collect();
    assert_eq!(
        heads,
        ["nip", "name", "custom.tier"],
        "chosen columns in order"
    );
    assert!(page.contains("Poziom") && page.contains("Gold") && page.contains("5260250274"));
    assert!(page.contains("grid comfortable"));
    // Dragged order and widths come from the page's script as JSON.
    let r = c.put(t.url("/records/columns")).header("x-csrf-token", &csrf)
        .json(&json!({"columns": [{"key": "name", "width": 240}, {"key": "city", "width": null}], "density": ""})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let page = c
        .get(t.url("/records?sort=-last_name"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("style=\"width:240px\""));
    assert!(
        page.find("Ala Zet").unwrap() < page.find("Ola Abc").unwrap(),
        "sorted by last name, descending"
    );
    assert!(page.contains("grid comfortable"), "the density stays");
    // Another user keeps the defaults.
    t.user_token("ewa", "manager", &["record_base"]).await;
    let (c2, _) = browser(&t, "ewa", "a-long-password").await;
    let page = c2
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-col=\"phone\"") && !page.contains("data-col=\"nip\""));
}

#[tokio::test]
async fn the_card_tabs_list_the_cases_and_related_records_with_counts() {
    let t = spawn_app().await;
    let org = t
        .create(json!({"kind": "organization", "organization_name": "Budex"}))
        .await;
    let person = t
        .create(json!({"kind": "person", "last_name": "Nowak", "organization": org["id"]}))
        .await;
    t.user_token("agent1", "agent", &[]).await;
    t.give_agent_the_record("agent1", person["id"].as_str().unwrap())
        .await;
    let (c, _) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let card = c
        .get(t.url(&format!("/records/{}", person["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("Related cases <span class=\"badge\">1</span>"));
    assert!(card.contains("Campaign of agent1"));
    assert!(card.contains("Related records <span class=\"badge\">1</span>"));
    assert!(card.contains(">Budex</a>"));
    let org_card = c
        .get(t.url(&format!("/records/{}", org["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(org_card.contains(">Nowak</a>") && org_card.contains("person of this organization"));
}

#[tokio::test]
async fn the_card_menu_deletes_a_record_for_those_who_may() {
    let t = spawn_app().await;
    let rec = t
        .create(json!({"kind": "person", "last_name": "Doomed"}))
        .await;
    let id = rec["id"].as_str().unwrap();
    t.user_token("m1", "manager", &["record_base"]).await;
    let (m, mcsrf) = browser(&t, "m1", "a-long-password").await;
    let card = m
        .get(t.url(&format!("/records/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!card.contains("delete-form"), "no delete without the grant");
    let r = m
        .post(t.url(&format!("/records/{id}/delete")))
        .form(&[("csrf", mcsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let card = c
        .get(t.url(&format!("/records/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("form=\"delete-form\"")
            && card.contains(&format!("/admin/audit?record={id}"))
    );
    let r = c
        .post(t.url(&format!("/records/{id}/delete")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    problem(
        t.get(&t.admin_token, &format!("/api/v1/records/{id}"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_card_adds_a_record_to_campaigns_and_segments_and_removes_it() {
    let t = spawn_app().await;
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
        .post(
            &t.admin_token,
            "/api/v1/segments",
            json!({"name": "Stali klienci"}),
        )
        .await
        .json()
        .await
        .unwrap();
    t.post(
        &t.admin_token,
        "/api/v1/campaigns",
        json!({"name": "Stara", "active": false}),
    )
    .await;
    let rec = t.create(person()).await;
    let id = rec["id"].as_str().unwrap();
    let (b, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let card = b
        .get(t.url(&format!("/records/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains(">Jesień</option>") && !card.contains(">Stara</option>"),
        "only active campaigns are offered"
    );
    let (cid, sid) = (c["id"].to_string(), s["id"].to_string());
    for form in [
        vec![
            ("csrf", csrf.as_str()),
            ("op", "add_campaign"),
            ("campaign", cid.as_str()),
        ],
        vec![
            ("csrf", csrf.as_str()),
            ("op", "add_segment"),
            ("segment", sid.as_str()),
        ],
    ] {
        let r = b
            .post(t.url(&format!("/records/{id}/memberships")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let card = b
        .get(t.url(&format!("/records/{id}?saved=groups")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains(&format!("value=\"remove_campaign:{cid}\""))
            && card.contains(&format!("value=\"remove_segment:{sid}\""))
    );
    assert!(card.contains("Related cases <span class=\"badge\">1</span>"));
    let remove = format!("remove_campaign:{cid}");
    let r = b
        .post(t.url(&format!("/records/{id}/memberships")))
        .form(&[("csrf", csrf.as_str()), ("op", remove.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let in_campaigns: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}/campaigns"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(in_campaigns, json!([]));
    // Without the record-base grant there is nothing to change.
    t.user_token("m0", "manager", &[]).await;
    t.user_token("a1", "agent", &[]).await;
    t.give_agent_the_record("a1", id).await;
    let (a, _) = browser(&t, "a1", "a-long-password").await;
    let card = a
        .get(t.url(&format!("/records/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!card.contains("groups-form"));
}
