use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn custom_fields_of_every_type_validate_and_store_their_values() {
    let t = spawn_app().await;
    for def in [
        json!({"key": "budget", "label": "Budżet", "type": "number"}),
        json!({"key": "call_at", "label": "Call at", "type": "date_time"}),
        json!({"key": "tier", "label": "Tier", "type": "dictionary", "options": ["Gold", "Silver"]}),
        json!({"key": "zip", "label": "Kod", "type": "masked", "mask": "##-###"}),
        json!({"key": "id_card", "label": "Dowód", "type": "masked", "mask": "aaa ######"}),
        json!({"key": "note", "label": "Note", "type": "text"}),
        json!({"key": "partner_nip", "label": "NIP partnera", "type": "nip"}),
        json!({"key": "child_pesel", "label": "PESEL", "type": "pesel"}),
        json!({"key": "branch_regon", "label": "REGON", "type": "regon"}),
    ] {
        let r = t.post(&t.admin_token, "/api/v1/fields", def.clone()).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{def}");
    }
    let rec = t.create(json!({"kind": "person", "last_name": "X", "custom": {
        "budget": "1 200,50", "call_at": "01.07.2026", "tier": "gold", "zip": "00-950", "id_card": "ABC 123456",
        "note": "Zażółć", "partner_nip": "526-025-02-74", "child_pesel": "02270803624", "branch_regon": "123456785"}})).await;
    assert_eq!(
        rec["custom"],
        json!({"budget": 1200.5, "call_at": "2026-06-30T22:00:00Z", "tier": "Gold", "zip": "00-950",
        "id_card": "ABC 123456", "note": "Zażółć", "partner_nip": "5260250274", "child_pesel": "02270803624", "branch_regon": "123456785"})
    );
    let p = problem(t.post(&t.admin_token, "/api/v1/records", json!({"kind": "person", "custom": {
        "budget": "lots", "call_at": "someday", "tier": "Bronze", "zip": "00950", "child_pesel": "02270803625", "nope": 1}})).await,
        StatusCode::UNPROCESSABLE_ENTITY).await;
    let errors = field_errors(&p);
    for e in [
        ("custom.budget", "invalid_number"),
        ("custom.call_at", "invalid_date"),
        ("custom.tier", "not_in_dictionary"),
        ("custom.zip", "mask_mismatch"),
        ("custom.child_pesel", "invalid_checksum"),
        ("custom.nope", "unknown_field"),
    ] {
        assert!(
            errors.contains(&(e.0.into(), e.1.into())),
            "{e:?} not in {errors:?}"
        );
    }
    // Flat `custom.<key>` keys work in a patch too.
    let path = format!("/api/v1/records/{}", rec["id"].as_str().unwrap());
    let saved: Value = t
        .patch(
            &t.admin_token,
            &path,
            json!({"custom.budget": 7, "custom": {"note": null}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(saved["custom"]["budget"], 7);
    assert!(saved["custom"].get("note").is_none());
}

#[tokio::test]
async fn field_definitions_enforce_key_pattern_flag_order_and_immutability() {
    let t = spawn_app().await;
    let t = &t;
    let bad = |body: Value| async move {
        let p = problem(
            t.post(&t.admin_token, "/api/v1/fields", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        field_errors(&p)[0].clone()
    };
    assert_eq!(
        bad(json!({"key": "zła nazwa", "type": "text"})).await,
        ("key".into(), "invalid_character".into())
    );
    assert_eq!(
        bad(json!({"key": "k", "type": "colour"})).await,
        ("type".into(), "invalid_field_type".into())
    );
    assert_eq!(
        bad(json!({"key": "k", "type": "text", "visible": false, "editable": true})).await,
        ("editable".into(), "flag_dependency".into())
    );
    assert_eq!(
        bad(json!({"key": "k", "type": "text", "editable": false, "required": true})).await,
        ("required".into(), "flag_dependency".into())
    );
    assert_eq!(
        bad(json!({"key": "k", "type": "dictionary"})).await,
        ("options".into(), "required".into())
    );
    assert_eq!(
        bad(json!({"key": "k", "type": "masked", "mask": ""})).await,
        ("mask".into(), "invalid_mask".into())
    );
    assert_eq!(
        t.post(
            &t.admin_token,
            "/api/v1/fields",
            json!({"key": "k", "type": "text"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        bad(json!({"key": "k", "type": "text"})).await,
        ("key".into(), "taken".into())
    );
    let p = problem(
        t.patch(
            &t.admin_token,
            "/api/v1/fields/k",
            json!({"type": "number"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("type".to_string(), "immutable".to_string())]
    );
    let p = problem(
        t.patch(&t.admin_token, "/api/v1/fields/k", json!({"key": "k2"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("key".to_string(), "immutable".to_string())]
    );
    let f: Value = t
        .patch(
            &t.admin_token,
            "/api/v1/fields/k",
            json!({"label": "Nowa etykieta", "required": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (f["label"].as_str(), f["required"].as_bool()),
        (Some("Nowa etykieta"), Some(true))
    );
}

#[tokio::test]
async fn a_required_field_binds_creation_and_a_non_editable_one_binds_agents() {
    let t = spawn_app().await;
    t.post(
        &t.admin_token,
        "/api/v1/fields",
        json!({"key": "consent", "type": "text", "required": true}),
    )
    .await;
    t.post(
        &t.admin_token,
        "/api/v1/fields",
        json!({"key": "score", "type": "number", "editable": false}),
    )
    .await;
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/records",
            json!({"kind": "person", "last_name": "A"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("custom.consent".to_string(), "required".to_string())]
    );
    let rec = t
        .create(
            json!({"kind": "person", "last_name": "A", "custom": {"consent": "yes", "score": 5}}),
        )
        .await;
    let id = rec["id"].as_str().unwrap();
    let agent = t.user_token("agent1", "agent", &[]).await;
    t.give_agent_the_record("agent1", id).await;
    let path = format!("/api/v1/records/{id}");
    let p = problem(
        t.patch(&agent, &path, json!({"custom": {"score": 9}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("custom.score".to_string(), "not_editable".to_string())]
    );
    let p = problem(
        t.patch(&agent, &path, json!({"custom": {"consent": null}}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("custom.consent".to_string(), "required".to_string())]
    );
    assert_eq!(
        t.patch(&agent, &path, json!({"city": "Płock"}))
            .await
            .status(),
        StatusCode::OK,
        "other fields stay editable"
    );
}

#[tokio::test]
async fn deleting_a_field_names_the_values_lost_and_needs_that_number_to_confirm() {
    let t = spawn_app().await;
    t.post(
        &t.admin_token,
        "/api/v1/fields",
        json!({"key": "hobby", "type": "text"}),
    )
    .await;
    for i in 0..3 {
        t.create(
            json!({"kind": "person", "last_name": format!("P{i}"), "custom": {"hobby": "szachy"}}),
        )
        .await;
    }
    let usage: Value = t
        .get(&t.admin_token, "/api/v1/fields/hobby")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["values"], 3);
    let p = problem(
        t.delete(&t.admin_token, "/api/v1/fields/hobby").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["values"], 3);
    problem(
        t.delete(&t.admin_token, "/api/v1/fields/hobby?confirm=2")
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    let done: Value = t
        .delete(&t.admin_token, "/api/v1/fields/hobby?confirm=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["deleted_values"], 3);
    let list: Value = t
        .get(&t.admin_token, "/api/v1/records")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["custom"] == json!({}))
    );
    problem(
        t.get(&t.admin_token, "/api/v1/fields/hobby").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn dictionaries_feed_the_system_fields_and_refuse_deleting_codes_in_use() {
    let t = spawn_app().await;
    let all: Value = t
        .get(&t.admin_token, "/api/v1/dictionaries")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "languages",
            "positions",
            "stages",
            "acquisition_sources",
            "classifiers",
            "ticket_statuses"
        ]
    );
    problem(
        t.post(
            &t.admin_token,
            "/api/v1/records",
            json!({"kind": "person", "position": "cto"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let r = t
        .call(
            &t.admin_token,
            reqwest::Method::PUT,
            "/api/v1/dictionaries/positions/entries/cto",
            Some(json!({"label": "CTO"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    t.create(json!({"kind": "person", "position": "CTO"})).await;
    let p = problem(
        t.delete(&t.admin_token, "/api/v1/dictionaries/positions/entries/cto")
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["records"], 1);
    let r = t
        .call(
            &t.admin_token,
            reqwest::Method::PUT,
            "/api/v1/dictionaries/positions/entries/cto",
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    problem(
        t.post(
            &t.admin_token,
            "/api/v1/records",
            json!({"kind": "person", "position": "cto"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        t.get(&t.admin_token, "/api/v1/nothing").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let r = t
        .call(
            &t.admin_token,
            reqwest::Method::PUT,
            "/api/v1/dictionaries/colours/entries/red",
            Some(json!({})),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
}
