//! Duplicate searches: criteria, normalization, filters, held groups, bad requests.

use reqwest::StatusCode;
use serde_json::json;

use crate::duplicates::{groups, id, ids_of, search, search_view};
use crate::helpers::*;
use crate::ui_duplicates::{html, record};

#[tokio::test]
async fn records_sharing_a_phone_in_any_format_form_one_group_with_the_values_that_tie_it() {
    let t = spawn_app().await;
    let a = t
        .create(json!({"kind": "person", "last_name": "Nowak", "phones": ["600 100 200"]}))
        .await;
    let b = t
        .create(json!({"kind": "person", "last_name": "Nowak", "phones": ["+48600100200", "601 000 000"]}))
        .await;
    let c = t
        .create(json!({"kind": "person", "last_name": "Inny", "phones": ["0048 601-000-000"]}))
        .await;
    let _alone = t
        .create(json!({"kind": "person", "phones": ["602 000 000"]}))
        .await;
    let org1 = t
        .create(json!({"kind": "organization", "organization_name": "Firma", "phones": ["22 111 22 33"]}))
        .await;
    let p1 = t
        .create(json!({"kind": "person", "first_name": "Ola", "phones": ["22 111 22 33"]}))
        .await;
    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
    assert_eq!(view["groups"], 2, "{view}");
    assert_eq!(view["records"], 5);
    assert_eq!(view["ready"], 1);
    assert_eq!(view["ready_removes"], 2);
    assert_eq!(view["held"], 1);
    assert_eq!(view["held_by_reason"]["mixed_kinds"], 1);
    let page = groups(&t, sid, "").await;
    assert_eq!(page["total"], 2);
    let first = &page["items"][0];
    assert_eq!(first["size"], 3);
    // oldest first: the survivor of bulk actions
    assert_eq!(ids_of(first), vec![id(&a), id(&b), id(&c)]);
    assert_eq!(
        first["ties"]["phone"],
        json!(["+48600100200", "+48601000000"])
    );
    assert!(first["held"].is_null());
    let second = &page["items"][1];
    assert_eq!(second["held"], "mixed_kinds");
    assert_eq!(ids_of(second), vec![id(&org1), id(&p1)]);
    // a person and an organization cannot be merged, not even in a preview
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/duplicates/merge/preview",
            json!({"records": ids_of(second)}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p)[0],
        ("records".to_string(), "mixed_kinds".to_string())
    );
    // sorted and paged
    let held = groups(&t, sid, "?show=held").await;
    assert_eq!(held["total"], 1);
    let small_first = groups(&t, sid, "?sort=-size&limit=1&offset=0").await;
    assert_eq!(small_first["items"][0]["size"], 2);
    assert_eq!(small_first["total"], 2);
    let r = t
        .get(
            &t.admin_token,
            &format!("/api/v1/duplicates/searches/{sid}/groups?sort=colour"),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&p)[0].0, "sort");
}

#[tokio::test]
async fn names_and_city_match_ignoring_case_and_diacritics_and_a_filter_limits_the_search() {
    let t = spawn_app().await;
    let a = t
        .create(
            json!({"kind": "person", "first_name": "Łucja", "last_name": "Żółć", "city": "Łódź"}),
        )
        .await;
    let b = t
        .create(json!({"kind": "person", "first_name": "lucja", "last_name": "ZOLC ", "city": "lodz", "tags": ["vip"]}))
        .await;
    let _other_city = t
        .create(
            json!({"kind": "person", "first_name": "Łucja", "last_name": "Żółć", "city": "Kraków"}),
        )
        .await;
    // empty values never tie
    t.create(json!({"kind": "person", "first_name": "Jan"}))
        .await;
    t.create(json!({"kind": "person", "first_name": "Jan"}))
        .await;
    let (sid, view) = search(
        &t,
        &t.admin_token,
        json!({"criteria": ["first_name", "last_name", "city"]}),
    )
    .await;
    assert_eq!(view["groups"], 1, "{view}");
    let g = &groups(&t, sid, "").await["items"][0];
    assert_eq!(ids_of(g), vec![id(&a), id(&b)]);
    assert_eq!(g["ties"]["city"], json!(["lodz"]));
    // limited to a filter that leaves one of the pair out
    let (_, view) = search(
        &t,
        &t.admin_token,
        json!({"criteria": ["first_name", "last_name", "city"],
               "filter": {"all": [{"field": "tags", "op": "in", "value": ["vip"]}]}}),
    )
    .await;
    assert_eq!(view["groups"], 0);
    // seven criteria: phone, e-mail, names, city, PESEL, NIP
    let seven =
        json!({"criteria": ["phone", "email", "first_name", "last_name", "city", "pesel", "nip"]});
    let (_, view) = search(&t, &t.admin_token, seven.clone()).await;
    assert_eq!(view["groups"], 0);
    for _ in 0..2 {
        t.create(
            json!({"kind": "person", "first_name": "Ewa", "last_name": "Lis", "city": "Gdańsk",
                        "phones": ["603 000 000"], "emails": ["Ewa@Lis.pl"],
                        "pesel": "44051401359", "nip": "PL 526-000-12-46"}),
        )
        .await;
    }
    let (sid, view) = search(&t, &t.admin_token, seven).await;
    assert_eq!(view["groups"], 1, "{view}");
    let g = &groups(&t, sid, "").await["items"][0];
    assert_eq!(g["ties"]["email"], json!(["ewa@lis.pl"]));
    assert_eq!(g["ties"]["nip"], json!(["5260001246"]));
}

#[tokio::test]
async fn custom_fields_e_mails_and_phones_in_a_filter_tie_by_their_normalized_values() {
    let t = spawn_app().await;
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/fields",
            json!({"key": "card_no", "label": "Card", "type": "text"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let a = t
        .create(
            json!({"kind": "person", "last_name": "A", "custom": {"card_no": "Ząb 7"},
                       "emails": ["Jan@Firma.PL"], "phones": ["604 000 000"], "tags": ["vip"]}),
        )
        .await;
    let b = t
        .create(
            json!({"kind": "person", "last_name": "B", "custom": {"card_no": "zab 7"},
                       "emails": ["jan@firma.pl", "inny@firma.pl"], "phones": ["+48 604 000 000"]}),
        )
        .await;
    let c = t
        .create(
            json!({"kind": "person", "last_name": "C", "custom": {"card_no": "other"},
                       "emails": ["INNY@firma.pl"], "phones": ["604000000"], "tags": ["vip"]}),
        )
        .await;
    // empty custom values never tie
    t.create(json!({"kind": "person", "last_name": "D", "custom": {"card_no": ""}}))
        .await;
    t.create(json!({"kind": "person", "last_name": "E"})).await;

    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["custom.card_no"]})).await;
    assert_eq!(view["groups"], 1, "{view}");
    let g = &groups(&t, sid, "").await["items"][0];
    assert_eq!(ids_of(g), vec![id(&a), id(&b)]);

    // a links b, b links c: one group of three, tied by both addresses
    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["email"]})).await;
    assert_eq!(view["groups"], 1, "{view}");
    let g = &groups(&t, sid, "").await["items"][0];
    assert_eq!(ids_of(g), vec![id(&a), id(&b), id(&c)]);
    assert_eq!(g["ties"]["email"], json!(["inny@firma.pl", "jan@firma.pl"]));

    // the filter leaves b out: a and c still share the number
    let (sid, view) = search(
        &t,
        &t.admin_token,
        json!({"criteria": ["phone"],
               "filter": {"all": [{"field": "tags", "op": "in", "value": ["vip"]}]}}),
    )
    .await;
    assert_eq!(view["groups"], 1, "{view}");
    let g = &groups(&t, sid, "").await["items"][0];
    assert_eq!(ids_of(g), vec![id(&a), id(&c)]);
    assert_eq!(g["ties"]["phone"], json!(["+48604000000"]));
}

#[tokio::test]
async fn a_large_base_read_in_two_halves_groups_records_across_them_in_found_order() {
    let t = spawn_app().await;
    let person = |first: &str, last: &str, city: &str| json!({"kind": "person", "first_name": first, "last_name": last, "city": city});
    let a = t.create(person("Jan", "Nowak", "Łódź")).await;
    let c = t.create(person("Ewa", "Lis", "Gdańsk")).await;
    // A record moved far up the IDs: on SQLite the names search reads the records in two
    // halves by ID range at once (above 100,000 IDs), and the records after it land in the
    // upper half.
    let filler = t
        .create(json!({"kind": "person", "first_name": "Zofia"}))
        .await;
    sqlx::query("UPDATE records SET id = 400000 WHERE public_id = $1")
        .bind(id(&filler))
        .execute(&t.app.db.pool)
        .await
        .unwrap();
    let b = t.create(person("JAN", "nowak", "Lodz")).await;
    let d = t.create(person("Ewa", "Lis", "Gdańsk")).await;
    let e = t.create(person("Ola", "Lis", "Gdańsk")).await;
    let f = t.create(person("Ola", "Lis", "Gdańsk")).await;
    let (sid, view) = search(
        &t,
        &t.admin_token,
        json!({"criteria": ["first_name", "last_name", "city"]}),
    )
    .await;
    assert_eq!(view["groups"], 3, "{view}");
    let page = groups(&t, sid, "?sort=found").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(ids_of(&items[0]), vec![id(&a), id(&b)]);
    assert_eq!(
        items[0]["ties"],
        json!({"city": ["lodz"], "first_name": ["jan"], "last_name": ["nowak"]})
    );
    assert_eq!(ids_of(&items[1]), vec![id(&c), id(&d)]);
    assert_eq!(ids_of(&items[2]), vec![id(&e), id(&f)]);
}

#[tokio::test]
async fn name_groups_are_ordered_as_found_and_held_when_excluded_too_large_or_mixed() {
    let t = spawn_app_with(|c| {
        c.duplicate_exclusions = vec!["Kowalski".into()];
        c.duplicate_max_group = 3;
    })
    .await;
    let person = |last: &str| json!({"kind": "person", "first_name": "Jan", "last_name": last, "city": "Łódź"});
    let mut made = Vec::new();
    for last in [
        "Nowak", "Kowalski", "Nowak", "Kowalski", "Lis", "Lis", "Lis", "Lis", "Wójcik",
    ] {
        made.push(t.create(person(last)).await);
    }
    // a person and an organization of the same display name
    t.create(json!({"kind": "organization", "name": "Jan Zięba", "city": "Łódź"}))
        .await;
    t.create(json!({"kind": "person", "first_name": "Jan", "last_name": "Zięba", "city": "Łódź"}))
        .await;
    let (sid, view) = search(
        &t,
        &t.admin_token,
        json!({"criteria": ["last_name", "city"]}),
    )
    .await;
    assert_eq!(view["groups"], 3, "{view}");
    assert_eq!(view["ready"], 1, "{view}");
    assert_eq!(view["held_by_reason"]["excluded"], 1, "{view}");
    assert_eq!(view["held_by_reason"]["too_large"], 1, "{view}");
    let page = groups(&t, sid, "?sort=found").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(ids_of(&items[0]), vec![id(&made[0]), id(&made[2])]);
    assert_eq!(
        items[0]["ties"],
        json!({"city": ["lodz"], "last_name": ["nowak"]})
    );
    assert_eq!(ids_of(&items[1]), vec![id(&made[1]), id(&made[3])]);
    assert_eq!(items[1]["held"], "excluded");
    assert_eq!(items[2]["size"], 4);
    assert_eq!(items[2]["held"], "too_large");
    let (_, view) = search(
        &t,
        &t.admin_token,
        json!({"criteria": ["display_name", "city"]}),
    )
    .await;
    assert_eq!(view["held_by_reason"]["mixed_kinds"], 1, "{view}");
}

#[tokio::test]
async fn a_bad_search_names_the_criteria_and_only_the_record_base_may_search() {
    let t = spawn_app().await;
    for body in [
        json!({"criteria": []}),
        json!({"criteria": ["shoe_size"]}),
        json!({"criteria": ["phone", "email", "first_name", "last_name", "city", "pesel", "nip", "regon"]}),
    ] {
        let r = t
            .post(&t.admin_token, "/api/v1/duplicates/searches", body)
            .await;
        let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(field_errors(&p)[0].0, "criteria", "{p}");
    }
    let agent = t.user_token("agent1", "agent", &[]).await;
    let r = t
        .post(
            &agent,
            "/api/v1/duplicates/searches",
            json!({"criteria": ["phone"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // a manager with the record base may search but not merge without "delete records"
    let manager = t.user_token("m1", "manager", &["record_base"]).await;
    let a = t
        .create(json!({"kind": "person", "phones": ["600 000 001"]}))
        .await;
    let b = t
        .create(json!({"kind": "person", "phones": ["600 000 001"]}))
        .await;
    let (sid, _) = search(&t, &manager, json!({"criteria": ["phone"]})).await;
    let r = t
        .post(
            &manager,
            "/api/v1/duplicates/merge",
            json!({"records": [id(&a), id(&b)]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .post(
            &manager,
            &format!("/api/v1/duplicates/searches/{sid}/bulk"),
            json!({"action": "merge", "confirm": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_search_s_groups_are_removed_after_the_keep_time_and_it_can_be_run_again() {
    let t = spawn_app_with(|c| c.duplicate_search_days = 0).await;
    let a = t
        .create(json!({"kind": "person", "last_name": "A", "phones": ["605 000 000"]}))
        .await;
    let b = t
        .create(json!({"kind": "person", "last_name": "B", "phones": ["+48605000000"]}))
        .await;
    let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
    assert_eq!(view["groups"], 1, "{view}");
    assert!(view["purged_at"].is_null());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(t.app.purge_duplicate_searches().await.unwrap(), 1);
    // once only
    assert_eq!(t.app.purge_duplicate_searches().await.unwrap(), 0);

    let view = search_view(&t, &t.admin_token, sid).await;
    assert!(view["purged_at"].is_string(), "{view}");
    assert_eq!(view["groups"], 0);
    // what it found stays in the job's result
    assert_eq!(view["job"]["result"]["groups"], 1);
    let p = problem(
        t.get(
            &t.admin_token,
            &format!("/api/v1/duplicates/searches/{sid}/groups"),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["code"], "search_purged");
    let p = problem(
        t.post(
            &t.admin_token,
            &format!("/api/v1/duplicates/searches/{sid}/bulk"),
            json!({"action": "merge", "confirm": 0}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["code"], "search_purged");
    // the records are untouched
    assert!(record(&t, &id(&a)).await.is_some());
    assert!(record(&t, &id(&b)).await.is_some());

    // the screen says so and offers the same search again; the history marks it
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let (_, page) = html(&c, &t, &format!("/duplicates/{sid}")).await;
    assert!(page.contains("were removed on"), "{page}");
    assert!(page.contains("id=\"dup-rerun\""));
    assert_eq!(hidden(&page, "criteria"), "phone");
    let (_, history) = html(&c, &t, "/duplicates").await;
    assert!(history.contains("groups removed"));
    let r = c
        .post(t.url("/duplicates"))
        .form(&[("csrf", csrf.as_str()), ("criteria", "phone"), ("f", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/duplicates/")
        .parse()
        .unwrap();
    assert_eq!(t.wait_for_job(&t.admin_token, again).await["state"], "done");
    assert_eq!(groups(&t, again, "").await["total"], 1);
}
