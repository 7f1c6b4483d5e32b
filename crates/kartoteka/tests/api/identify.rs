use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn identification_finds_a_number_typed_in_any_format_among_all_phones() {
    let t = spawn_app().await;
    let a = t.create(json!({"kind": "person", "last_name": "Adamska", "phones": ["22 123 45 67", "600 700 800"]})).await;
    let b = t.create(json!({"kind": "organization", "organization_name": "Radom Sp", "phones": ["485623244"]})).await;
    for typed in [
        "600 700 800",
        "+48 600-700-800",
        "0048600700800",
        "600700800",
        "+48600700800",
    ] {
        let r: Value = t
            .get(
                &t.admin_token,
                &format!("/api/v1/identify?phone={}", urlencode(typed)),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["normalized"], "+48600700800");
        assert_eq!(r["matches"].as_array().unwrap().len(), 1, "{typed}");
        assert_eq!(r["matches"][0]["id"], a["id"]);
        assert_eq!(
            r["matches"][0]["record"]["phones"][0]["number"],
            "+48221234567"
        );
    }
    let r: Value = t
        .get(&t.admin_token, "/api/v1/identify?phone=48%20562%2032%2044")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["matches"][0]["id"], b["id"],
        "a Radom number is not read as a country code"
    );
    let r: Value = t
        .get(&t.admin_token, "/api/v1/identify?phone=601000000")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["matches"], json!([]));
    let p = problem(
        t.get(&t.admin_token, "/api/v1/identify?phone=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "phone");
}

#[tokio::test]
async fn identification_by_e_mail_ignores_case_and_finds_every_record_sharing_it() {
    let t = spawn_app().await;
    let a = t
        .create(json!({"kind": "person", "last_name": "A", "emails": ["Biuro@Firma.pl"]}))
        .await;
    let b = t
        .create(json!({"kind": "person", "last_name": "B", "emails": ["x@y.pl", "biuro@firma.PL"]}))
        .await;
    let r: Value = t
        .get(&t.admin_token, "/api/v1/identify?email=BIURO@firma.pl")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = r["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(ids, vec![a["id"].clone(), b["id"].clone()]);
}

#[tokio::test]
async fn agents_identify_callers_but_get_only_id_and_display_name() {
    let t = spawn_app().await;
    let a = t.create(person()).await;
    let agent = t.user_token("agent1", "agent", &[]).await;
    let r: Value = t
        .get(&agent, "/api/v1/identify?phone=600-700-800")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["matches"],
        json!([{"id": a["id"], "display_name": "Anna Kowalska", "record": null}])
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(' ', "%20")
}
