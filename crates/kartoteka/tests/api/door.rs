//! Duplicates at the door: creating a record (API or card) whose phone, e-mail, PESEL, NIP
//! or external ID another record already holds still creates it, and names that record.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// Creates a record with `token`; returns the answer's JSON (asserting 201).
async fn create_as(t: &TestApp, token: &str, body: Value) -> Value {
    let r = t.post(token, "/api/v1/records", body).await;
    let status = r.status();
    let json: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{json}");
    json
}

fn warning(field: &str, value: &str, other: &Value) -> Value {
    json!({
        "code": "possible_duplicate",
        "field": field,
        "value": value,
        "record": {"id": other["id"], "display_name": other["display_name"]},
    })
}

#[tokio::test]
async fn a_unique_record_is_created_with_an_empty_list_of_warnings() {
    let t = spawn_app().await;
    let first = t
        .create(json!({
            "kind": "person", "first_name": "Anna", "last_name": "Kowalska",
            "phones": ["+48600100200"], "emails": ["anna@example.pl"], "pesel": "44051401359",
            "nip": "5260250274", "external_id": "CRM-17"
        }))
        .await;
    assert_eq!(
        first["warnings"],
        json!([]),
        "the record itself is no duplicate"
    );
    let other = t
        .create(json!({
            "kind": "person", "first_name": "Anna", "last_name": "Kowalska",
            "phones": ["+48600100201"], "emails": ["anna2@example.pl"], "external_id": "CRM-18"
        }))
        .await;
    assert_eq!(
        other["warnings"],
        json!([]),
        "the same name is no duplicate at the door"
    );
    assert_eq!(other["display_name"], "Anna Kowalska");
}

#[tokio::test]
async fn each_shared_value_warns_in_whatever_format_it_is_typed() {
    let t = spawn_app().await;
    let anna = t
        .create(json!({
            "kind": "person", "first_name": "Anna", "last_name": "Kowalska",
            "phones": ["+48600100200"], "emails": ["Anna@Example.PL"], "pesel": "44051401359",
            "nip": "5260250274", "external_id": "CRM-17"
        }))
        .await;
    for (body, field, value) in [
        (json!({"phones": ["600 100 200"]}), "phones", "+48600100200"),
        (
            json!({"emails": ["anna@EXAMPLE.pl"]}),
            "emails",
            "anna@example.pl",
        ),
        (json!({"pesel": "440514-01359"}), "pesel", "44051401359"),
        (json!({"nip": "PL 526-025-02-74"}), "nip", "5260250274"),
        (json!({"external_id": "CRM-17"}), "external_id", "CRM-17"),
    ] {
        let mut body = body.as_object().unwrap().clone();
        body.insert("kind".into(), json!("person"));
        body.insert("last_name".into(), json!(format!("New {field}")));
        let created = t.create(Value::Object(body)).await;
        assert_eq!(
            created["warnings"],
            json!([warning(field, value, &anna)]),
            "{field}"
        );
        let stored = t
            .get(
                &t.admin_token,
                &format!("/api/v1/records/{}", created["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(stored.status(), StatusCode::OK, "created all the same");
    }
}

#[tokio::test]
async fn one_warning_per_record_and_field_at_most_ten() {
    let t = spawn_app().await;
    let a = t
        .create(json!({
            "kind": "person", "last_name": "Alfa",
            "phones": ["600 100 200", "600 100 201"], "emails": ["alfa@example.pl"]
        }))
        .await;
    let b = t
        .create(
            json!({"kind": "organization", "organization_name": "Beta", "phones": ["600100200"]}),
        )
        .await;
    assert_eq!(
        b["warnings"],
        json!([warning("phones", "+48600100200", &a)])
    );
    let c = t
        .create(json!({
            "kind": "person", "last_name": "Gamma",
            "phones": ["+48 600 100 200", "+48 600 100 201"], "emails": ["ALFA@example.pl"]
        }))
        .await;
    assert_eq!(
        c["warnings"],
        json!([
            warning("phones", "+48600100200", &a),
            warning("phones", "+48600100200", &b),
            warning("emails", "alfa@example.pl", &a),
        ]),
        "A shares two phones, but it is named once for phones"
    );
    for i in 0..9 {
        t.create(json!({"kind": "person", "last_name": format!("Switchboard {i}"), "phones": ["221234567"]}))
            .await;
    }
    let last = t
        .create(json!({"kind": "person", "last_name": "Last", "phones": ["22 123 45 67"], "emails": ["alfa@example.pl"]}))
        .await;
    let warnings = last["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 10, "capped: {warnings:?}");
    assert!(warnings[..9].iter().all(|w| w["field"] == "phones"));
    assert_eq!(warnings[0]["record"]["display_name"], "Switchboard 0");
    assert_eq!(
        warnings[9],
        warning("emails", "alfa@example.pl", &a),
        "Gamma's e-mail is past the cap"
    );
}

#[tokio::test]
async fn agents_see_the_pesel_of_a_warning_masked_unless_granted() {
    let t = spawn_app().await;
    let other = t
        .create(json!({"kind": "person", "last_name": "Nowak", "pesel": "44051401359"}))
        .await;
    let agent = t.user_token("agent1", "agent", &[]).await;
    let created = create_as(
        &t,
        &agent,
        json!({"kind": "person", "last_name": "Nowak", "pesel": "44051401359"}),
    )
    .await;
    assert_eq!(
        created["warnings"],
        json!([warning("pesel", "*******1359", &other)]),
        "only the other record's ID and name, and the PESEL masked"
    );
    assert!(!created.to_string().contains("44051401359"));
    let granted = t.user_token("agent2", "agent", &["see_national_ids"]).await;
    let created = create_as(
        &t,
        &granted,
        json!({"kind": "person", "last_name": "Nowak", "pesel": "44051401359"}),
    )
    .await;
    let warnings = created["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().all(|w| w["value"] == "44051401359"));
    assert_eq!(warnings[0], warning("pesel", "44051401359", &other));
}

#[tokio::test]
async fn the_openapi_document_describes_the_warnings_of_a_create() {
    let t = spawn_app().await;
    let doc: Value = t
        .client
        .get(t.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = &doc["paths"]["/api/v1/records"]["post"]["responses"]["201"];
    assert!(created.to_string().contains("CreatedRecord"), "{created}");
    let schemas = &doc["components"]["schemas"];
    let created_schema = schemas["CreatedRecord"].to_string();
    assert!(
        created_schema.contains("\"warnings\"") && created_schema.contains("DuplicateWarning"),
        "{created_schema}"
    );
    for key in ["code", "field", "value", "record"] {
        assert!(
            schemas["DuplicateWarning"]["properties"][key].is_object(),
            "{key}"
        );
    }
}

#[tokio::test]
async fn the_card_names_the_possible_duplicate_after_creating_a_record() {
    let t = spawn_app().await;
    let anna = t
        .create(json!({"kind": "person", "first_name": "Anna", "last_name": "Kowalska", "phones": ["+48600100200"]}))
        .await;
    let anna_id = anna["id"].as_str().unwrap();
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let create = |last: &'static str, phone: &'static str| {
        let c = c.clone();
        let csrf = csrf.clone();
        let url = t.url("/records/new");
        async move {
            c.post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("kind", "person"),
                    ("last_name", last),
                    ("phone.number", phone),
                    ("phone.type", "mobile"),
                    ("phone.ext", ""),
                    ("phone.default", "1"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let r = create("Unique", "600 999 888").await;
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
    assert!(card.contains("Saved.") && !card.contains("Possible duplicate"));

    let r = create("Kowalska", "600 100 200").await;
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
        card.contains("Possible duplicate: this record shares phone +48600100200 with"),
        "{card}"
    );
    assert!(card.contains(&format!(
        "<a href=\"/records/{anna_id}\">Anna Kowalska ({anna_id})</a>"
    )));

    c.post(t.url("/me/locale"))
        .form(&[("csrf", csrf.as_str()), ("locale", "pl")])
        .send()
        .await
        .unwrap();
    let card = c
        .get(t.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("Możliwy duplikat: ten rekord ma wspólny telefon +48600100200 z rekordem"),
        "{card}"
    );
}
