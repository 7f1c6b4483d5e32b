//! The record list's filter builder, saved views and bulk actions, over HTTP with a
//! browser-like cookie client.
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// The list page for a filter (and other query parts).
async fn list(t: &TestApp, c: &Client, filter: Value, extra: &[(&str, &str)]) -> String {
    let f = filter.to_string();
    let mut q = vec![("f", f.as_str())];
    q.extend_from_slice(extra);
    let r = c.get(t.url("/records")).query(&q).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// The count line of a list page.
fn count(html: &str) -> String {
    html.split("<p class=\"count\">")
        .nth(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .unwrap_or_default()
}

/// The IDs of the list's rows (their selection checkboxes).
fn row_ids(html: &str) -> Vec<String> {
    html.split("name=\"ids\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

async fn new_group(t: &TestApp, kind: &str, name: &str) -> i64 {
    let g: Value = t
        .post(
            &t.admin_token,
            &format!("/api/v1/{kind}"),
            json!({"name": name}),
        )
        .await
        .json()
        .await
        .unwrap();
    g["id"].as_i64().unwrap()
}

/// Three persons whose last names end in -ski or not, two of them in Łódź.
async fn people(t: &TestApp) -> (String, String, String) {
    let mut ids = Vec::new();
    for (first, last, city) in [
        ("Jan", "Kowalski", "Łódź"),
        ("Piotr", "Nowakowski", "Warszawa"),
        ("Ewa", "Nowak", "ŁÓDŹ"),
    ] {
        let r = t
            .create(json!({"kind": "person", "first_name": first, "last_name": last, "city": city}))
            .await;
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    (ids[0].clone(), ids[1].clone(), ids[2].clone())
}

/// Polls the job's panel as the page does (its `hx-get`) until the job ends.
async fn finished_panel(c: &Client, t: &TestApp, panel: &str) -> String {
    assert!(panel.contains("data-job=\""), "a job panel: {panel}");
    let mut panel = panel.to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(poll) = panel.split(" hx-get=\"").nth(1) {
        let poll = poll
            .split('"')
            .next()
            .unwrap()
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        assert!(poll.starts_with("/jobs/") && panel.contains("hx-trigger=\"every 1s\""));
        assert!(Instant::now() < deadline, "the job did not finish: {panel}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        panel = c
            .get(t.url(&poll))
            .header("hx-request", "true")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    panel
}

async fn bulk(c: &Client, t: &TestApp, form: &[(&str, &str)]) -> String {
    let r = c
        .post(t.url("/records/bulk"))
        .header("hx-request", "true")
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

async fn segment_members(t: &TestApp, id: &str) -> Vec<i64> {
    let v: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}/segments"))
        .await
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_list_runs_the_filter_in_its_url_and_the_builder_form_leads_there() {
    let t = spawn_app().await;
    let (kowalski, nowakowski, nowak) = people(&t).await;
    t.create(
        json!({"kind": "organization", "organization_name": "Łódzka Spółka", "city": "Kraków"}),
    )
    .await;
    let campaign = new_group(&t, "campaigns", "Jesień").await;
    let r = t
        .call(
            &t.admin_token,
            Method::PUT,
            &format!("/api/v1/records/{nowakowski}/campaigns/{campaign}"),
            None,
        )
        .await;
    assert!(r.status().is_success());
    let (c, _) = browser(&t, "admin", ADMIN_PASSWORD).await;

    let page = list(
        &t,
        &c,
        json!({"all": [{"field": "last_name", "op": "like", "value": "%ski"}]}),
        &[],
    )
    .await;
    assert_eq!(count(&page), "2 records");
    let mut ids = row_ids(&page);
    ids.sort();
    let mut want = vec![kowalski.clone(), nowakowski.clone()];
    want.sort();
    assert_eq!(ids, want);
    assert!(
        page.contains("<details class=\"filter-panel\" id=\"filter-panel\" open>")
            && page.contains("name=\"c0.field\" value=\"last_name\"")
            && page.contains("name=\"c0.v\" value=\"%ski\""),
        "the builder shows the URL's filter"
    );

    let page = list(
        &t,
        &c,
        json!({"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}),
        &[],
    )
    .await;
    assert_eq!(count(&page), "2 records", "%lodz% finds Łódź and ŁÓDŹ");
    let ids = row_ids(&page);
    assert!(ids.contains(&kowalski) && ids.contains(&nowak));

    let page = list(
        &t,
        &c,
        json!({"all": [{"field": "campaigns", "op": "in", "value": [campaign]}]}),
        &[],
    )
    .await;
    assert_eq!(row_ids(&page), vec![nowakowski.clone()]);
    assert!(
        page.contains(&format!(
            "name=\"c0.v\" value=\"{campaign}\" checked> Jesień"
        )),
        "the campaign is ticked in the builder"
    );

    // The builder's form: one row of inputs per criterion, turned into the URL's filter.
    let r = c
        .get(t.url("/records"))
        .query(&[
            ("fb", "1"),
            ("q", ""),
            ("sort", "last_name"),
            ("add", ""),
            ("c0.field", "last_name"),
            ("c0.op", "like"),
            ("c0.v", "%ski"),
            ("c4.field", "city"),
            ("c4.op", "like"),
            ("c4.v", "%lodz%"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("&f=%7B%22all%22"), "{location}");
    let page = c
        .get(t.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(row_ids(&page), vec![kowalski.clone()]);
    assert!(page.contains("name=\"c1.v\" value=\"%lodz%\""));
    assert!(
        page.contains("Last name contains/like %ski · City contains/like %lodz%"),
        "the closed panel sums the criteria up"
    );
    // Pages and sort links keep the filter.
    assert!(page.contains("/records?page=1&#38;sort=-last_name&#38;f=%7B"));

    // A new row comes from the server with the inputs its kind needs.
    let row = c
        .get(t.url("/records/criterion"))
        .query(&[
            ("add", "created_at"),
            ("c0.field", "last_name"),
            ("c3.field", "city"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("name=\"c4.field\" value=\"created_at\"")
            && row.contains("type=\"date\" name=\"c4.v\"")
            && row.contains("<option value=\"between\" selected>between</option>")
            && row.contains(">before</option>"),
        "{row}"
    );
    let row = c
        .get(t.url("/records/criterion?add=campaigns"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("name=\"c0.v\" value=\"") && row.contains("> Jesień</label>"));
}

#[tokio::test]
async fn an_invalid_criterion_shows_its_error_beside_it_and_the_list_does_not_run() {
    let t = spawn_app().await;
    people(&t).await;
    let (c, _) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let page = list(
        &t,
        &c,
        json!({"all": [
            {"field": "last_name", "op": "like", "value": "%ski"},
            {"field": "created_at", "op": "gt", "value": "yesterday"},
        ]}),
        &[],
    )
    .await;
    let rows: Vec<&str> = page.split("<div class=\"crit").skip(1).collect();
    assert_eq!(rows.len(), 2);
    assert!(!rows[0].contains("class=\"error\""));
    assert!(
        rows[1].starts_with(" has-error") && rows[1].contains("expected a date"),
        "{}",
        rows[1]
    );
    assert!(page.contains("Some criteria need attention"));
    assert!(
        !page.contains("id=\"record-grid\""),
        "the list does not run"
    );

    // Polish: the error in Polish too.
    let r = c
        .post(t.url("/me/locale"))
        .form(&[("csrf", hidden(&page, "csrf").as_str()), ("locale", "pl")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let page = list(
        &t,
        &c,
        json!({"all": [{"field": "kind", "op": "eq", "value": "cat"}]}),
        &[],
    )
    .await;
    assert!(page.contains("nieprawidłowa wartość") && page.contains("Rodzaj"));

    let r = c
        .get(t.url("/records?f=%7Bnot-json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(r.contains("Nie da się odczytać filtra"));
}

#[tokio::test]
async fn views_are_saved_private_or_shared_and_only_their_owner_deletes_them() {
    let t = spawn_app().await;
    people(&t).await;
    t.user_token("ewa", "manager", &["record_base"]).await;
    t.user_token("olek", "manager", &["record_base"]).await;
    let (ewa, csrf) = browser(&t, "ewa", "a-long-password").await;
    let f = json!({"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}).to_string();
    let mut view_ids = Vec::new();
    for (name, shared) in [("Tylko moje", false), ("Łódź dla wszystkich", true)] {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("name", name),
            ("f", f.as_str()),
            ("sort", "-created_at"),
        ];
        if shared {
            form.push(("shared", "1"));
        }
        let r = ewa
            .post(t.url("/records/views"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            to.starts_with("/records?view=")
                && to.contains("&f=%7B")
                && to.contains("sort=-created_at"),
            "{to}"
        );
        let id = to["/records?view=".len()..]
            .split('&')
            .next()
            .unwrap()
            .to_string();
        let page = ewa
            .get(t.url(&to))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(count(&page), "2 records");
        assert!(page.contains(&format!("<option value=\"{id}\" selected>")));
        assert!(page.contains("Delete view"), "the owner may delete it");
        view_ids.push(id);
    }
    // Opening a view by its ID alone loads its filter and sort into the URL.
    let r = ewa
        .get(t.url(&format!("/records?view={}", view_ids[1])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().contains("&f=%7B"));

    // (A bare /records would bring back her last filter: ask for the list plainly.)
    let page = ewa
        .get(t.url("/records?page=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(">Tylko moje</option>"));
    assert!(page.contains(">Łódź dla wszystkich · shared</option>"));

    let (olek, olek_csrf) = browser(&t, "olek", "a-long-password").await;
    let page = olek
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Tylko moje"), "a private view stays private");
    assert!(page.contains(">Łódź dla wszystkich · ewa</option>"));
    let r = olek
        .get(t.url(&format!("/records?view={}", view_ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/records",
        "not someone else's private view"
    );
    let shared = olek
        .get(t.url(&format!("/records?view={}", view_ids[1])))
        .send()
        .await
        .unwrap();
    let to = shared.headers()["location"].to_str().unwrap().to_string();
    let page = olek
        .get(t.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(count(&page), "2 records");
    assert!(
        !page.contains("Delete view"),
        "only its owner deletes a view"
    );
    let r = olek
        .post(t.url(&format!("/records/views/{}/delete", view_ids[1])))
        .form(&[("csrf", olek_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = ewa
        .post(t.url(&format!("/records/views/{}/delete", view_ids[1])))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = olek
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Łódź dla wszystkich"));

    // A view without a name is refused, and the page says why.
    let r = ewa
        .post(t.url("/records/views"))
        .form(&[("csrf", csrf.as_str()), ("name", " "), ("f", f.as_str())])
        .send()
        .await
        .unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("view_error=name"));
    let page = ewa
        .get(t.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("A view needs a name"));
}

#[tokio::test]
async fn a_bulk_add_to_a_segment_runs_on_the_selection_and_on_all_found() {
    let t = spawn_app().await;
    let (kowalski, nowakowski, nowak) = people(&t).await;
    let segment = new_group(&t, "segments", "Stali klienci").await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let sid = segment.to_string();

    let page = list(&t, &c, json!({"all": []}), &[]).await;
    assert!(
        page.contains("id=\"bulk-form\"")
            && page.contains(">Stali klienci</option>")
            && page.contains("data-bulk-delete"),
        "administrators get the bulk bar"
    );
    // Three records fit on one page: "select all found" has nothing more to offer.
    assert!(!page.contains("id=\"sel-all\""));

    let panel = bulk(
        &c,
        &t,
        &[
            ("csrf", csrf.as_str()),
            ("scope", "ids"),
            ("ids", kowalski.as_str()),
            ("ids", "ZZZZZZZZ"),
            ("action", "segment_add"),
            ("segment", sid.as_str()),
            ("back", "/records?page=1"),
        ],
    )
    .await;
    let done = finished_panel(&c, &t, &panel).await;
    assert!(
        done.contains("job-done")
            && done.contains("1 changed")
            && done.contains("0 unchanged")
            && done.contains("1 failed")
            && done.contains("ZZZZZZZZ</span> — no such record")
            && done.contains("href=\"/records?page=1\">Refresh the list"),
        "{done}"
    );
    assert_eq!(segment_members(&t, &kowalski).await, vec![segment]);

    // All found: the filter, not the IDs.
    let f = json!({"all": [{"field": "city", "op": "like", "value": "%lodz%"}]}).to_string();
    let panel = bulk(
        &c,
        &t,
        &[
            ("csrf", csrf.as_str()),
            ("scope", "filter"),
            ("f", f.as_str()),
            ("ids", kowalski.as_str()),
            ("action", "segment_add"),
            ("segment", sid.as_str()),
        ],
    )
    .await;
    let done = finished_panel(&c, &t, &panel).await;
    assert!(
        done.contains("1 changed") && done.contains("1 unchanged") && done.contains("0 failed"),
        "{done}"
    );
    assert_eq!(segment_members(&t, &nowak).await, vec![segment]);
    assert!(segment_members(&t, &nowakowski).await.is_empty());
    let page = list(
        &t,
        &c,
        json!({"all": [{"field": "segments", "op": "in", "value": [segment]}]}),
        &[],
    )
    .await;
    assert_eq!(count(&page), "2 records");

    // Without htmx the form leads back to the list with the job's panel.
    let r = c
        .post(t.url("/records/bulk"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("ids", nowakowski.as_str()),
            ("action", "tags_add"),
            ("tags", "vip, nowy"),
            ("back", "/records?page=1&sort=last_name"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with("/records?page=1&sort=last_name&job="),
        "{to}"
    );
    let page = c
        .get(t.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("class=\"job-panel job-"));

    // What is missing is said in the panel, and the CSRF token is required.
    let panel = bulk(
        &c,
        &t,
        &[
            ("csrf", csrf.as_str()),
            ("ids", nowak.as_str()),
            ("action", "segment_add"),
        ],
    )
    .await;
    assert!(panel.contains("Choose a segment first."));
    let r = c
        .post(t.url("/records/bulk"))
        .form(&[
            ("ids", nowak.as_str()),
            ("action", "tags_add"),
            ("tags", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bulk_delete_needs_the_count_and_only_those_who_may_see_the_actions() {
    let t = spawn_app().await;
    kartoteka::demo::fill(&t.app, 60, 3, false).await.unwrap();
    let (kowalski, nowakowski, nowak) = people(&t).await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;

    // More records than a page: the page selection offers all found.
    let page = list(&t, &c, json!({"all": []}), &[]).await;
    assert!(page.contains("id=\"sel-all\" hidden>Select all 63 found</button>"));
    let page = list(&t, &c, json!({"all": []}), &[("q", "Kow")]).await;
    assert!(
        !page.contains("id=\"sel-all\""),
        "the quick search is no filter, so it offers no \"all found\""
    );

    let panel = bulk(
        &c,
        &t,
        &[
            ("csrf", csrf.as_str()),
            ("scope", "ids"),
            ("ids", kowalski.as_str()),
            ("ids", nowak.as_str()),
            ("action", "delete"),
            ("confirm", "3"),
        ],
    )
    .await;
    assert!(
        panel.contains("job-alert") && panel.contains("The number of records changed"),
        "{panel}"
    );
    let panel = bulk(
        &c,
        &t,
        &[
            ("csrf", csrf.as_str()),
            ("scope", "ids"),
            ("ids", kowalski.as_str()),
            ("ids", nowak.as_str()),
            ("action", "delete"),
            ("confirm", "2"),
        ],
    )
    .await;
    let done = finished_panel(&c, &t, &panel).await;
    assert!(
        done.contains("Deleting records") && done.contains("2 changed"),
        "{done}"
    );
    for id in [&kowalski, &nowak] {
        let r = t
            .get(&t.admin_token, &format!("/api/v1/records/{id}"))
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    // A manager with the record base but without deleting: actions, no delete.
    t.user_token("ewa", "manager", &["record_base"]).await;
    let (ewa, ewa_csrf) = browser(&t, "ewa", "a-long-password").await;
    let page = list(&t, &ewa, json!({"all": []}), &[]).await;
    assert!(page.contains("id=\"bulk-form\"") && !page.contains("data-bulk-delete"));
    let panel = bulk(
        &ewa,
        &t,
        &[
            ("csrf", ewa_csrf.as_str()),
            ("ids", nowakowski.as_str()),
            ("action", "delete"),
            ("confirm", "1"),
        ],
    )
    .await;
    assert!(panel.contains("Your role does not allow this."));

    // An agent lists the records of their campaigns, with no selection or bulk bar.
    t.user_token("a1", "agent", &[]).await;
    t.give_agent_the_record("a1", &nowakowski).await;
    let (agent, _) = browser(&t, "a1", "a-long-password").await;
    let page = agent
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&nowakowski) && !page.contains("bulk-form") && !page.contains("sel-row"));
}

#[tokio::test]
async fn the_list_opened_bare_brings_back_the_last_filter_until_it_is_cleared() {
    let t = spawn_app().await;
    t.create(person()).await;
    let (ewa, _) = browser(&t, "admin", ADMIN_PASSWORD).await;
    // {"all":[{"field":"last_name","op":"like","value":"%ska"}]}
    let url = "/records?page=1&sort=-created_at&f=%7B%22all%22%3A%5B%7B%22field%22%3A%22last_name%22%2C%22op%22%3A%22like%22%2C%22value%22%3A%22%25ska%22%7D%5D%7D";
    let r = ewa.get(t.url(url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = ewa.get(t.url("/records")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.contains("sort=-created_at") && to.contains("&f=%7B"),
        "{to}"
    );
    // Clearing the filter (the builder's Clear keeps the sort, drops f) forgets it.
    let r = ewa
        .get(t.url("/records?page=1&sort=last_name"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = ewa.get(t.url("/records")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn all_found_in_a_searched_list_takes_what_the_search_finds() {
    let t = spawn_app().await;
    let (kowalski, nowakowski, nowak) = people(&t).await;
    let segment = new_group(&t, "segments", "Nowakowie").await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;

    // The list searched for "nowak" carries the text in its bulk form.
    let page = list(&t, &c, json!({"all": []}), &[("q", "nowak")]).await;
    assert_eq!(count(&page), "2 records");
    assert!(
        page.contains("<input type=\"hidden\" name=\"q\" value=\"nowak\">"),
        "{page}"
    );

    let sid = segment.to_string();
    let panel = bulk(
        &c,
        &t,
        &[
            ("csrf", csrf.as_str()),
            ("scope", "filter"),
            ("f", ""),
            ("q", "nowak"),
            ("action", "segment_add"),
            ("segment", sid.as_str()),
        ],
    )
    .await;
    let done = finished_panel(&c, &t, &panel).await;
    assert!(done.contains("2 changed"), "{done}");
    assert_eq!(segment_members(&t, &nowak).await, vec![segment]);
    assert_eq!(segment_members(&t, &nowakowski).await, vec![segment]);
    assert!(segment_members(&t, &kowalski).await.is_empty());
}
