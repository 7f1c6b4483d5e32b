use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn creating_a_person_answers_201_with_id_etag_and_normalized_contact_data() {
    let t = spawn_app().await;
    let r = t
        .post(&t.admin_token, "/api/v1/records", json!({
            "kind": "person", "first_name": "Józef", "last_name": "Wiśniewski", "nip": "PL 526-025-02-74",
            "pesel": "44051401359", "regon": "123456785", "city": "Łódź", "language": "Polski",
            "phones": ["+48 600-700-800", {"number": "22 123 45 67", "type": "work", "extension": "12", "default": true}],
            "emails": ["Jozef@Example.PL"], "tags": ["vip", "b2b", "vip"]
        }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let mut rec: Value = r.json().await.unwrap();
    assert_eq!(
        rec["warnings"],
        json!([]),
        "a create lists possible duplicates"
    );
    rec.as_object_mut().unwrap().remove("warnings");
    let id = rec["id"].as_str().unwrap();
    assert_eq!(id.len(), 8);
    assert!(
        id.chars()
            .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c))
    );
    assert_eq!(location, format!("/api/v1/records/{id}"));
    assert_eq!(rec["display_name"], "Józef Wiśniewski");
    assert_eq!(rec["nip"], "5260250274");
    assert_eq!(rec["pesel"], "44051401359");
    assert_eq!(rec["language"], "pl", "languages map from names too");
    assert_eq!(rec["phones"][0]["number"], "+48600700800");
    assert_eq!(rec["phones"][0]["raw"], "+48 600-700-800");
    assert_eq!(rec["phones"][0]["default"], false);
    assert_eq!(rec["phones"][1]["number"], "+48221234567");
    assert_eq!(rec["phones"][1]["type"], "work");
    assert_eq!(rec["phones"][1]["extension"], "12");
    assert_eq!(rec["phones"][1]["default"], true);
    assert_eq!(
        rec["emails"][0],
        json!({"address": "Jozef@Example.PL", "default": true})
    );
    assert_eq!(rec["tags"], json!(["b2b", "vip"]));
    assert_eq!(rec["source"], "api");
    assert_eq!(rec["created_by"], "admin");
    assert_eq!(rec["version"], 1);

    let again: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, rec);
}

#[tokio::test]
async fn invalid_fields_are_named_with_their_reasons_and_nothing_is_stored() {
    let t = spawn_app().await;
    let r = t
        .post(&t.admin_token, "/api/v1/records", json!({
            "kind": "person", "last_name": "Nowak", "pesel": "44051401358", "nip": "123",
            "phones": ["12"], "emails": ["not-an-email"], "language": "tlh", "created_at": "2020-01-01"
        }))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let errors = field_errors(&p);
    for expected in [
        ("pesel", "invalid_checksum"),
        ("nip", "invalid_length"),
        ("phones[0].number", "invalid_phone"),
        ("emails[0].address", "invalid_email"),
        ("language", "not_in_dictionary"),
        ("created_at", "read_only"),
    ] {
        assert!(
            errors.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} not in {errors:?}"
        );
    }
    let list: Value = t
        .get(&t.admin_token, "/api/v1/records")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);

    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/records",
            json!({"first_name": "X"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("kind".to_string(), "required".to_string())]
    );
    let r = t
        .client
        .post(t.url("/api/v1/records"))
        .bearer_auth(&t.admin_token)
        .header("content-type", "application/json")
        .body("{\"kind\": ")
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "invalid_json");
}

#[tokio::test]
async fn patch_sets_clears_and_replaces_lists_as_json_merge_patch() {
    let t = spawn_app().await;
    let rec = t
        .create(
            json!({"kind": "person", "first_name": "Anna", "last_name": "Nowak", "city": "Kraków",
        "phones": ["600700800", "601700800"], "tags": ["a"]}),
        )
        .await;
    let id = rec["id"].as_str().unwrap();
    let r = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{id}"),
            json!({"city": null, "last_name": "Nowak-Kowalska",
        "phones": [{"number": "0048 602 700 800", "default": true}], "custom": {}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["city"], Value::Null);
    assert_eq!(saved["display_name"], "Anna Nowak-Kowalska");
    assert_eq!(saved["phones"].as_array().unwrap().len(), 1);
    assert_eq!(saved["phones"][0]["number"], "+48602700800");
    assert_eq!(saved["tags"], json!(["a"]), "absent keys stay");
    assert_eq!(saved["merged"], false);
    assert_eq!(saved["changed"], json!(["city", "last_name", "phones"]));
    // A patch that changes nothing keeps the version.
    let same: Value = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{id}"),
            json!({"first_name": "Anna"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same["version"], 2);
    let p = problem(
        t.patch(
            &t.admin_token,
            &format!("/api/v1/records/{id}"),
            json!({"kind": "organization"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("kind".to_string(), "immutable".to_string())]
    );
}

#[tokio::test]
async fn a_stale_if_match_keeps_both_changes_when_fields_differ_and_answers_412_when_they_overlap()
{
    let t = spawn_app().await;
    let rec = t
        .create(json!({"kind": "person", "first_name": "Jan", "last_name": "Lis", "city": "Opole"}))
        .await;
    let path = format!("/api/v1/records/{}", rec["id"].as_str().unwrap());
    let send = |body: Value, version: &str| {
        t.client
            .patch(t.url(&path))
            .bearer_auth(&t.admin_token)
            .header("if-match", version)
            .json(&body)
            .send()
    };
    // Someone saves the city at version 1 → 2.
    assert_eq!(
        send(json!({"city": "Kalisz"}), "\"1\"")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Another client, still on version 1, changes the first name only: merged.
    let r = send(json!({"first_name": "Janusz"}), "\"1\"")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["merged"], true);
    assert_eq!(
        (saved["city"].as_str(), saved["first_name"].as_str()),
        (Some("Kalisz"), Some("Janusz"))
    );
    assert_eq!(saved["version"], 3);
    // A third client on version 1 changes the city too: 412 with the current value.
    let p = problem(
        send(json!({"city": "Opole", "last_name": "Lisowski"}), "\"1\"")
            .await
            .unwrap(),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(p["current"], json!({"city": "Kalisz"}));
    assert_eq!(p["current_version"], 3);
    let now: Value = t.get(&t.admin_token, &path).await.json().await.unwrap();
    assert_eq!(now["last_name"], "Lis", "a refused patch changes nothing");
    // Setting the value it already has is no conflict.
    assert_eq!(
        send(json!({"city": "Kalisz"}), "\"1\"")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let p = problem(
        send(json!({"city": "X"}), "\"abc\"").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "If-Match");
}

#[tokio::test]
async fn concurrent_saves_of_one_record_never_lose_an_update() {
    let t = spawn_app().await;
    for i in 0..8 {
        let r = t
            .post(
                &t.admin_token,
                "/api/v1/fields",
                json!({"key": format!("f{i}"), "type": "text"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let rec = t
        .create(json!({"kind": "organization", "organization_name": "ACME"}))
        .await;
    let path = format!("/api/v1/records/{}", rec["id"].as_str().unwrap());
    let saves: Vec<_> = (0..8)
        .map(|i| {
            let req = t
                .client
                .patch(t.url(&path))
                .bearer_auth(&t.admin_token)
                .header("if-match", "\"1\"")
                .json(&json!({"custom": {format!("f{i}"): format!("value {i}")}}));
            tokio::spawn(req.send())
        })
        .collect();
    for s in saves {
        assert_eq!(s.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    let now: Value = t.get(&t.admin_token, &path).await.json().await.unwrap();
    assert_eq!(now["version"], 9);
    for i in 0..8 {
        assert_eq!(now["custom"][format!("f{i}")], format!("value {i}"));
    }
}

#[tokio::test]
async fn records_list_in_pages_sorted_by_polish_last_name_with_a_total() {
    let t = spawn_app().await;
    for last in [
        "Żak",
        "Lis",
        "Łabędź",
        "Mazur",
        "Zając",
        "Ćwik",
        "Cebula",
        "Źrebiec",
    ] {
        t.create(json!({"kind": "person", "first_name": "Jan", "last_name": last}))
            .await;
    }
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/records?limit=3&cursor={c}"),
            None => "/api/v1/records?limit=3".to_string(),
        };
        let page: Value = t.get(&t.admin_token, &path).await.json().await.unwrap();
        assert_eq!(page["total"], 8);
        for item in page["items"].as_array().unwrap() {
            names.push(item["last_name"].as_str().unwrap().to_string());
            assert!(item["phones"].is_array());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        names,
        [
            "Cebula",
            "Ćwik",
            "Lis",
            "Łabędź",
            "Mazur",
            "Zając",
            "Źrebiec",
            "Żak"
        ]
    );
    let desc: Value = t
        .get(&t.admin_token, "/api/v1/records?sort=-created_at&limit=8")
        .await
        .json()
        .await
        .unwrap();
    let created: Vec<&str> = desc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 8);
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );
    let p = problem(
        t.get(&t.admin_token, "/api/v1/records?sort=shoe").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "sort");
    let p = problem(
        t.get(&t.admin_token, "/api/v1/records?cursor=zz").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn a_person_belongs_to_an_organization_record_only() {
    let t = spawn_app().await;
    let org = t.create(json!({"kind": "organization", "organization_name": "Budex sp. z o.o.", "regon": "12345678512347"})).await;
    let person = t
        .create(json!({"kind": "person", "last_name": "Nowak", "organization": org["id"]}))
        .await;
    assert_eq!(person["organization"], org["id"]);
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/records",
            json!({"kind": "person", "organization": person["id"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![(
            "organization".to_string(),
            "not_an_organization".to_string()
        )]
    );
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/records",
            json!({"kind": "organization", "first_name": "Jan"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("first_name".to_string(), "not_allowed".to_string())]
    );
}

#[tokio::test]
async fn deleting_a_record_removes_it_and_keeps_a_snapshot_in_the_audit_log() {
    let t = spawn_app().await;
    let rec = t.create(person()).await;
    let id = rec["id"].as_str().unwrap();
    assert_eq!(
        t.delete(&t.admin_token, &format!("/api/v1/records/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        t.get(&t.admin_token, &format!("/api/v1/records/{id}"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let identify: Value = t
        .get(&t.admin_token, "/api/v1/identify?phone=600700800")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(identify["matches"], json!([]));
    let audit: Value = t
        .get(&t.admin_token, &format!("/api/v1/audit?record={id}"))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["delete", "create"]);
    assert_eq!(
        audit["items"][0]["details"]["snapshot"]["last_name"],
        "Kowalska"
    );
    let r = t
        .call(
            &t.admin_token,
            Method::DELETE,
            &format!("/api/v1/records/{id}"),
            None,
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_edit_is_audited_with_before_and_after_of_each_changed_field() {
    let t = spawn_app().await;
    let rec = t.create(person()).await;
    let id = rec["id"].as_str().unwrap();
    t.patch(
        &t.admin_token,
        &format!("/api/v1/records/{id}"),
        json!({"city": "Gdańsk", "emails": []}),
    )
    .await;
    let audit: Value = t
        .get(
            &t.admin_token,
            &format!("/api/v1/audit?record={id}&action=update&user=admin"),
        )
        .await
        .json()
        .await
        .unwrap();
    let entry = &audit["items"][0];
    assert_eq!(entry["user"], "admin");
    assert_eq!(
        entry["details"]["changes"],
        json!([
            {"field": "city", "before": null, "after": "Gdańsk"},
            {"field": "emails", "before": [{"address": "anna@example.pl", "default": true}], "after": []},
        ])
    );
    let none: Value = t
        .get(&t.admin_token, "/api/v1/audit?from=2999-01-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]));
}
