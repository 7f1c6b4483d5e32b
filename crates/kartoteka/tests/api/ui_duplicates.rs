//! The duplicates screens over HTTP: who may open them, a search started from the form and
//! its groups, a group resolved by hand (a field's value and the default phone chosen),
//! the merge undone from the operations journal, a stale screen refused, the bulk merge
//! with its confirmation, the list's links. In Chromium: `ui_duplicates_browser.rs`.
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) async fn html(c: &Client, t: &TestApp, path: &str) -> (StatusCode, String) {
    let r = c.get(t.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

pub(crate) async fn record(t: &TestApp, public_id: &str) -> Option<Value> {
    let r = t
        .get(&t.admin_token, &format!("/api/v1/records/{public_id}"))
        .await;
    (r.status() == StatusCode::OK).then_some(r.json().await.unwrap())
}

pub(crate) fn default_phone(v: &Value) -> String {
    v["phones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["default"] == true)
        .map(|p| p["number"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Starts a search from the form; returns its ID once it is done.
pub(crate) async fn search_from_form(
    t: &TestApp,
    c: &Client,
    csrf: &str,
    form: &[(&str, &str)],
) -> i64 {
    let mut body: Vec<(&str, &str)> = vec![("csrf", csrf)];
    body.extend_from_slice(form);
    let r = c
        .post(t.url("/duplicates"))
        .form(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the search starts");
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let sid: i64 = to.strip_prefix("/duplicates/").unwrap().parse().unwrap();
    let done = t.wait_for_job(&t.admin_token, sid).await;
    assert_eq!(done["state"], "done", "{done}");
    sid
}

#[tokio::test]
async fn agents_get_403_and_users_without_the_delete_grant_see_no_merge_actions() {
    let t = spawn_app().await;
    let a = t.create(person()).await;
    let b = t.create(person()).await;
    t.user_token("agent1", "agent", &[]).await;
    t.user_token("ewa", "manager", &["record_base"]).await;
    let (agent, agent_csrf) = browser(&t, "agent1", "a-long-password").await;
    let merge = format!("/duplicates/merge?ids={},{}", id(&a), id(&b));
    for path in [
        "/duplicates",
        "/duplicates/1",
        "/duplicates/1/groups/1",
        "/duplicates/operations",
        merge.as_str(),
    ] {
        let (status, page) = html(&agent, &t, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("Your role does not allow this."), "{path}");
    }
    for path in [
        "/duplicates",
        "/duplicates/1/bulk",
        "/duplicates/merge",
        "/duplicates/merge/preview",
        "/duplicates/operations/1/undo",
    ] {
        let r = agent
            .post(t.url(path))
            .form(&[("csrf", agent_csrf.as_str()), ("criteria", "phone")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let (_, list) = html(&agent, &t, "/records").await;
    assert!(!list.contains("href=\"/duplicates\""), "no link for agents");

    // A manager with the record base searches, but merges nothing.
    let (ewa, ewa_csrf) = browser(&t, "ewa", "a-long-password").await;
    let (_, list) = html(&ewa, &t, "/records").await;
    assert!(
        list.contains("<a href=\"/duplicates\" >Duplicates</a>"),
        "the menu link"
    );
    assert!(list.contains("Find duplicates"));
    assert!(
        !list.contains("id=\"sel-merge\""),
        "no merge without the grant"
    );
    let sid = search_from_form(&t, &ewa, &ewa_csrf, &[("criteria", "phone")]).await;
    let (status, page) = html(&ewa, &t, &format!("/duplicates/{sid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&id(&a)) && page.contains(&id(&b)),
        "the group"
    );
    assert!(!page.contains("Merge all ready groups"), "no bulk bar");
    assert!(!page.contains("Resolve…"), "no resolution link");
    let (status, _) = html(&ewa, &t, &merge).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, ops) = html(&ewa, &t, "/duplicates/operations").await;
    assert_eq!(status, StatusCode::OK, "the journal is readable");
    assert!(ops.contains("No merges or duplicate deletes yet."));
    // Someone else's search is not there for her; nor an unknown one for anyone.
    let (admin, _) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let (status, page) = html(&admin, &t, "/duplicates/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("alert"));
}

#[tokio::test]
async fn a_group_found_from_the_form_is_resolved_by_hand_and_the_merge_undone() {
    let t = spawn_app().await;
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/fields",
            json!({"key": "loyalty_no", "label": "Loyalty card", "type": "text"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let a = t
        .create(
            json!({"kind": "person", "first_name": "Anna", "last_name": "Nowak",
                       "city": "Kraków", "phones": ["600 100 200"], "emails": ["anna@nowak.pl"]}),
        )
        .await;
    let b = t
        .create(
            json!({"kind": "person", "first_name": "Anna", "last_name": "NOWAK",
                       "city": "Warszawa", "phones": ["+48 600-100-200", "601 222 333"],
                       "custom": {"loyalty_no": "L-77"}}),
        )
        .await;
    let _other = t
        .create(json!({"kind": "person", "last_name": "Nowak", "phones": ["602 000 000"]}))
        .await;
    let (a_id, b_id) = (id(&a), id(&b));
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;

    // The form offers the system criteria and the custom field, phone ticked.
    let (status, form) = html(&c, &t, "/duplicates").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains(r#"name="criteria" value="phone" checked"#),
        "{form}"
    );
    assert!(form.contains(r#"value="custom.loyalty_no""#) && form.contains("Loyalty card"));
    assert!(form.contains("No searches yet."));
    // No criterion, or too many, is said beside the form.
    let r = c
        .post(t.url("/duplicates"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose at least one criterion.")
    );
    let many: Vec<(&str, &str)> = [
        "phone",
        "email",
        "first_name",
        "last_name",
        "city",
        "nip",
        "pesel",
        "regon",
    ]
    .iter()
    .map(|k| ("criteria", *k))
    .chain([("csrf", csrf.as_str())])
    .collect();
    let r = c
        .post(t.url("/duplicates"))
        .form(&many)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Choose at most 7 criteria."));
    assert!(
        page.contains(r#"value="regon" checked"#),
        "the choice stays"
    );

    // Phone + last name (case ignored) ties A and B, not the third Nowak.
    let sid = search_from_form(
        &t,
        &c,
        &csrf,
        &[("criteria", "phone"), ("criteria", "last_name")],
    )
    .await;
    let (status, results) = html(&c, &t, &format!("/duplicates/{sid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        results.contains("Duplicates by: Phone + Last name"),
        "{results}"
    );
    assert!(results.contains("<dt>Groups</dt><dd>1</dd>"), "{results}");
    assert!(results.contains("<dt>Bulk would remove</dt><dd>1</dd>"));
    assert!(results.contains("+48600100200"), "the tying phone");
    assert!(results.contains(&format!("href=\"/records/{a_id}\"")));
    assert!(results.contains(&format!("href=\"/records/{b_id}\"")));
    assert_eq!(
        results.matches("keep-badge").count(),
        1,
        "the oldest is kept"
    );
    let kept = results.split("member kept").nth(1).unwrap();
    assert!(kept[..200].contains(&a_id), "A is the oldest");
    assert!(results.contains(&format!("href=\"/duplicates/{sid}/groups/1\"")));
    // The history lists it.
    let (_, form) = html(&c, &t, "/duplicates").await;
    assert!(form.contains(&format!("href=\"/duplicates/{sid}\"")));
    assert!(form.contains("Phone + Last name"));

    // The resolution screen: A main (oldest), B merged; city differs; phones united.
    let (status, screen) = html(&c, &t, &format!("/duplicates/{sid}/groups/1")).await;
    assert_eq!(status, StatusCode::OK, "{screen}");
    assert!(screen.contains("Resolve group 1"));
    assert!(screen.contains(&format!(r#"name="role.{a_id}" value="main" checked"#)));
    assert!(screen.contains(&format!(r#"name="role.{b_id}" value="merge" checked"#)));
    assert!(screen.contains(&format!(r#"name="field.city" value="{a_id}""#)));
    assert!(screen.contains(&format!(r#"name="field.city" value="{b_id}""#)));
    assert!(screen.contains(r#"name="default_phone" value="+48601222333""#));
    let va = hidden(&screen, &format!("v.{a_id}"));
    let vb = hidden(&screen, &format!("v.{b_id}"));
    let sid_s = sid.to_string();
    let ids = format!("{a_id},{b_id}");
    let role_a = format!("role.{a_id}");
    let role_b = format!("role.{b_id}");
    let v_a = format!("v.{a_id}");
    let v_b = format!("v.{b_id}");
    let form: Vec<(&str, &str)> = vec![
        ("csrf", csrf.as_str()),
        ("ids", ids.as_str()),
        ("search", sid_s.as_str()),
        ("group", "1"),
        (role_a.as_str(), "main"),
        (role_b.as_str(), "merge"),
        (v_a.as_str(), va.as_str()),
        (v_b.as_str(), vb.as_str()),
        ("field.city", b_id.as_str()),
        ("default_phone", "+48601222333"),
    ];
    // The preview (htmx) answers the form's content with the summary of these choices.
    let r = c
        .post(t.url("/duplicates/merge/preview"))
        .header("hx-request", "true")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let part = r.text().await.unwrap();
    assert!(!part.contains("<html"), "only the form's content");
    assert!(
        part.contains(&format!("Anna Nowak ({a_id}) stays.")),
        "{part}"
    );
    assert!(
        part.contains(&format!("Merged into it: Anna NOWAK ({b_id}).")),
        "{part}"
    );
    assert!(
        part.contains(&format!("City: “Warszawa” from Anna NOWAK ({b_id})")),
        "{part}"
    );
    assert!(part.contains("+48601222333 (default)"), "{part}");
    assert!(part.contains(r#"name="default_phone" value="+48601222333" checked"#));
    // Without a main record there is nothing to apply, and the summary says why.
    let no_main: Vec<(&str, &str)> = form
        .iter()
        .map(|(k, v)| {
            if *k == role_a {
                (*k, "leave")
            } else {
                (*k, *v)
            }
        })
        .collect();
    let part = c
        .post(t.url("/duplicates/merge/preview"))
        .header("hx-request", "true")
        .form(&no_main)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(part.contains("Choose the main record (the one that stays)."));
    assert!(part.contains(r#"id="merge-apply" disabled"#));

    // Apply: back to the results, the group resolved.
    let r = c
        .post(t.url("/duplicates/merge"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("/duplicates/{sid}?merged=")),
        "{to}"
    );
    let op: i64 = to
        .split("merged=")
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let merged = record(&t, &a_id).await.unwrap();
    assert_eq!(merged["city"], "Warszawa", "the chosen value");
    assert_eq!(default_phone(&merged), "+48601222333", "the chosen default");
    assert_eq!(merged["phones"].as_array().unwrap().len(), 2);
    assert_eq!(merged["custom"]["loyalty_no"], "L-77");
    assert!(record(&t, &b_id).await.is_none(), "B is merged away");
    let (_, results) = html(&c, &t, &to).await;
    assert!(results.contains(&format!("The group is resolved (operation #{op})")));
    assert!(results.contains("state-badge resolved"));
    assert!(results.contains("<dt>Resolved</dt><dd>1</dd>"));

    // The journal lists it; undo asks first and brings B back, A as it was.
    let (status, ops) = html(&c, &t, "/duplicates/operations").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ops.contains(&format!("id=\"op-{op}\"")));
    assert!(ops.contains(&format!("href=\"/records/{a_id}\"")));
    assert!(ops.contains(&b_id));
    assert!(ops.contains(&format!("From {b_id}: City")), "{ops}");
    assert!(ops.contains(&format!("Undo this merge? 1 records ({b_id}) come back")));
    let r = c
        .post(t.url(&format!("/duplicates/operations/{op}/undo")))
        .form(&[("csrf", csrf.as_str()), ("back", "/duplicates/operations")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("/duplicates/operations?undone={op}#op-{op}"));
    let restored = record(&t, &a_id).await.unwrap();
    assert_eq!(restored["city"], "Kraków");
    assert_eq!(default_phone(&restored), "+48600100200");
    assert_eq!(record(&t, &b_id).await.unwrap()["city"], "Warszawa");
    let (_, ops) = html(&c, &t, &to).await;
    assert!(ops.contains(&format!("Operation #{op} was undone")));
    assert!(ops.contains("undone "), "the row says when and who");
    // The group is open again.
    let (_, results) = html(&c, &t, &format!("/duplicates/{sid}")).await;
    assert!(results.contains("<dt>Resolved</dt><dd>0</dd>"));
    // A second undo is refused with the reason, beside the row.
    let r = c
        .post(t.url(&format!("/duplicates/operations/{op}/undo")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("Nothing was undone: this operation was undone already."));
    // Without the form's token nothing happens.
    let r = c
        .post(t.url("/duplicates/merge"))
        .form(&[("csrf", "wrong"), ("ids", ids.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_record_changed_meanwhile_is_refused_and_so_is_undoing_a_later_edit() {
    let t = spawn_app().await;
    let a = t
        .create(json!({"kind": "person", "last_name": "Lis", "city": "Gdańsk", "phones": ["600 300 400"]}))
        .await;
    let b = t
        .create(json!({"kind": "person", "last_name": "Lis", "city": "Sopot", "phones": ["600 300 401"]}))
        .await;
    let (a_id, b_id) = (id(&a), id(&b));
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    // The list's selection opens the same screen (lower case and spaces accepted).
    let path = format!("/duplicates/merge?ids={}%20{}", a_id.to_lowercase(), b_id);
    let (status, screen) = html(&c, &t, &path).await;
    assert_eq!(status, StatusCode::OK, "{screen}");
    assert!(screen.contains("<h1>Merge records</h1>"));
    assert!(
        screen.contains("href=\"/records\""),
        "the way back to the list"
    );
    let va = hidden(&screen, &format!("v.{a_id}"));
    let vb = hidden(&screen, &format!("v.{b_id}"));
    // Someone edits B meanwhile.
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{b_id}"),
            json!({"city": "Gdynia"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let ids = format!("{a_id},{b_id}");
    let (role_a, role_b) = (format!("role.{a_id}"), format!("role.{b_id}"));
    let (v_a, v_b) = (format!("v.{a_id}"), format!("v.{b_id}"));
    let form = [
        ("csrf", csrf.as_str()),
        ("ids", ids.as_str()),
        (role_a.as_str(), "main"),
        (role_b.as_str(), "merge"),
        (v_a.as_str(), va.as_str()),
        (v_b.as_str(), vb.as_str()),
        ("field.city", b_id.as_str()),
    ];
    let r = c
        .post(t.url("/duplicates/merge"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "Record {b_id} changed since you opened this screen"
        )),
        "{page}"
    );
    assert!(page.contains("Gdynia"), "the current data");
    let fresh = hidden(&page, &format!("v.{b_id}"));
    assert_ne!(fresh, vb, "the current version");
    assert!(record(&t, &b_id).await.is_some(), "nothing merged");
    // With the versions shown now it applies; the list's merge lands on the journal.
    let form2 = [
        ("csrf", csrf.as_str()),
        ("ids", ids.as_str()),
        (role_a.as_str(), "main"),
        (role_b.as_str(), "merge"),
        (v_a.as_str(), va.as_str()),
        (v_b.as_str(), fresh.as_str()),
        ("field.city", b_id.as_str()),
    ];
    let r = c
        .post(t.url("/duplicates/merge"))
        .form(&form2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/duplicates/operations?done="), "{to}");
    let op: i64 = to
        .split("done=")
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(record(&t, &a_id).await.unwrap()["city"], "Gdynia");
    let (_, ops) = html(&c, &t, &to).await;
    assert!(ops.contains(&format!("Merged (operation #{op})")));
    // A later edit of A makes the undo refuse, saying what changed.
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{a_id}"),
            json!({"first_name": "Jan"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(t.url(&format!("/duplicates/operations/{op}/undo")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "Nothing was undone: record {a_id} was changed after the merge (First name)"
        )),
        "{page}"
    );
    assert!(record(&t, &b_id).await.is_none());
    // In Polish too.
    let r = c
        .post(t.url("/me/locale"))
        .form(&[("csrf", csrf.as_str()), ("locale", "pl")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let r = c
        .post(t.url(&format!("/duplicates/operations/{op}/undo")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!(
        "Niczego nie cofnięto: rekord {a_id} zmieniono po scaleniu"
    )));
    assert!(page.contains("Operacje scalania"));
}

#[tokio::test]
async fn the_bulk_merge_asks_for_the_count_runs_as_a_job_and_reports() {
    let t = spawn_app().await;
    for n in 0..3 {
        for _ in 0..2 {
            t.create(json!({"kind": "person", "last_name": format!("Kot{n}"),
                            "phones": [format!("600 500 00{n}")]}))
                .await;
        }
    }
    // A person and an organization sharing a number: held for manual resolution.
    t.create(json!({"kind": "organization", "organization_name": "Kot sp. z o.o.", "phones": ["22 555 00 00"]}))
        .await;
    t.create(json!({"kind": "person", "last_name": "Kot", "phones": ["22 555 00 00"]}))
        .await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let sid = search_from_form(&t, &c, &csrf, &[("criteria", "phone")]).await;
    let (_, page) = html(&c, &t, &format!("/duplicates/{sid}")).await;
    assert!(page.contains("<dt>Ready groups</dt><dd>3</dd>"), "{page}");
    assert!(page.contains("<dt>Held: persons and organizations</dt><dd>1</dd>"));
    assert!(
        page.contains("Merge 3 groups: 3 records will be merged"),
        "{page}"
    );
    assert!(page.contains("1 groups are left for manual resolution."));
    assert!(page.contains(r#"name="confirm" value="3""#));
    // Tabs and sort links.
    let (_, held) = html(&c, &t, &format!("/duplicates/{sid}?show=held")).await;
    assert!(held.contains("Kot sp. z o.o.") && !held.contains("Kot0"));
    assert!(held.contains("held-mixed_kinds"));
    let (_, by_value) = html(&c, &t, &format!("/duplicates/{sid}?sort=-value")).await;
    let first = by_value.find("+48600500002").unwrap();
    let last = by_value.find("+48600500000").unwrap();
    assert!(first < last, "reverse order of the tying value");
    assert!(by_value.contains("sort=value\">Tying values</a> ▼"));

    // A stale count is refused beside the bar (htmx keeps the answer in place).
    let r = c
        .post(t.url(&format!("/duplicates/{sid}/bulk")))
        .header("hx-request", "true")
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "merge"),
            ("confirm", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let part = r.text().await.unwrap();
    assert!(
        part.contains("job-alert") && part.contains("The groups changed"),
        "{part}"
    );
    // The right count starts the job; its panel follows it to the result.
    let r = c
        .post(t.url(&format!("/duplicates/{sid}/bulk")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "merge"),
            ("confirm", "3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let job: i64 = to.split("bulk=").nth(1).unwrap().parse().unwrap();
    let done = t.wait_for_job(&t.admin_token, job).await;
    assert_eq!(done["state"], "done", "{done}");
    let (_, panel) = html(&c, &t, &format!("/duplicates/{sid}/bulk/{job}")).await;
    assert!(panel.contains("Bulk merge"), "{panel}");
    assert!(panel.contains("<dt>Groups done</dt><dd>3</dd>"), "{panel}");
    assert!(panel.contains("<dt>Records removed</dt><dd>3</dd>"));
    assert!(panel.contains(&format!("/duplicates/operations?job={job}")));
    assert!(
        !panel.contains("hx-trigger"),
        "a finished job stops polling"
    );
    let (_, page) = html(&c, &t, &to).await;
    assert!(page.contains("<dt>Resolved</dt><dd>3</dd>"), "{page}");
    assert!(
        !page.contains("Merge all ready groups"),
        "nothing left for bulk"
    );
    let (_, ops) = html(&c, &t, &format!("/duplicates/operations?job={job}")).await;
    assert!(ops.contains(&format!("Operations of bulk job #{job}")));
    assert_eq!(ops.matches("<tr id=\"op-").count(), 3);
    let (_, all) = html(&c, &t, "/records").await;
    assert!(all.contains("5 records"), "three merged away of eight");
}

#[tokio::test]
async fn the_list_links_to_a_search_limited_to_its_filter() {
    let t = spawn_app().await;
    for city in ["Łódź", "Łódź", "Opole", "Opole"] {
        t.create(json!({"kind": "person", "last_name": "Wrona", "city": city, "phones": ["600 900 900"]}))
            .await;
    }
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let f = r#"{"all":[{"field":"city","op":"like","value":"lodz"}]}"#;
    let enc: String = f
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let (_, list) = html(&c, &t, &format!("/records?f={enc}")).await;
    assert!(list.contains("2 records"), "{list}");
    let link = list
        .split("class=\"button find-duplicates\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    assert!(link.starts_with("/duplicates?f=%7B"), "{link}");
    assert!(list.contains("id=\"sel-merge\""), "merge for those who may");
    let (status, form) = html(&c, &t, &link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Limited to the list"), "{form}");
    assert!(form.contains("City"), "the filter in words");
    let f_sent = hidden(&form, "f");
    assert_eq!(f_sent, f);
    let sid = search_from_form(
        &t,
        &c,
        &csrf,
        &[("criteria", "phone"), ("f", f_sent.as_str())],
    )
    .await;
    let (_, page) = html(&c, &t, &format!("/duplicates/{sid}")).await;
    assert!(
        page.contains("<dt>Records in groups</dt><dd>2</dd>"),
        "{page}"
    );
    let (_, history) = html(&c, &t, "/duplicates").await;
    assert!(!history.contains("Limited to the list"), "a bare form");
    assert!(history.contains("City"), "the history names the filter");
    // An unreadable filter is said, not fatal.
    let (status, page) = html(&c, &t, "/duplicates?f=%7Bnope").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("class=\"error\""));
}
