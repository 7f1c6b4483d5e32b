use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn every_api_endpoint_but_the_openapi_document_and_log_in_answers_401_without_credentials() {
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
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "the document lists the API");
    let mut checked = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            if path == "/api/v1/session" && method == "post" {
                continue;
            }
            let concrete = path
                .replace("{id}", "1")
                .replace("{key}", "k")
                .replace("{username}", "admin")
                .replace("{name}", "stages")
                .replace("{code}", "lead")
                .replace("{campaign}", "1")
                .replace("{segment}", "1");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = t
                .client
                .request(m.clone(), t.url(&concrete))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{m} {concrete}");
            let r = t
                .client
                .request(m.clone(), t.url(&concrete))
                .bearer_auth("kt_wrong")
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{m} {concrete} with a wrong token"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} endpoints checked");
}

#[tokio::test]
async fn an_agent_gets_403_from_the_record_base_and_sees_only_records_of_its_campaigns() {
    let t = spawn_app().await;
    let rec = t.create(json!({"kind": "person", "last_name": "Nowak", "pesel": "44051401359", "phones": ["600700800"]})).await;
    let id = rec["id"].as_str().unwrap();
    let agent = t.user_token("agent1", "agent", &[]).await;
    let list: Value = t.get(&agent, "/api/v1/records").await.json().await.unwrap();
    assert_eq!(
        (list["total"].clone(), list["items"].clone()),
        (json!(0), json!([])),
        "no campaigns: no records"
    );
    problem(
        t.get(&agent, &format!("/api/v1/records/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        t.patch(
            &agent,
            &format!("/api/v1/records/{id}"),
            json!({"city": "X"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        t.delete(&agent, &format!("/api/v1/records/{id}")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        t.post(
            &agent,
            "/api/v1/fields",
            json!({"key": "x", "type": "text"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(t.get(&agent, "/api/v1/users").await, StatusCode::FORBIDDEN).await;
    problem(t.get(&agent, "/api/v1/audit").await, StatusCode::FORBIDDEN).await;
    problem(t.get(&agent, "/api/v1/tokens").await, StatusCode::FORBIDDEN).await;

    // Through a case of a campaign the agent works in, the record opens, PESEL masked.
    t.give_agent_the_record("agent1", id).await;
    let list: Value = t.get(&agent, "/api/v1/records").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    let card: Value = t
        .get(&agent, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["pesel"], "*******1359");
    // Sending the masked value back changes nothing; editing the rest works.
    let r = t
        .patch(
            &agent,
            &format!("/api/v1/records/{id}"),
            json!({"pesel": "*******1359", "city": "Lublin"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let admin_view: Value = t
        .get(&t.admin_token, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (admin_view["pesel"].as_str(), admin_view["city"].as_str()),
        (Some("44051401359"), Some("Lublin"))
    );
    let granted = t.user_token("agent2", "agent", &["see_national_ids"]).await;
    t.give_agent_the_record("agent2", id).await;
    let card: Value = t
        .get(&granted, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["pesel"], "44051401359");
}

#[tokio::test]
async fn a_home_agent_has_the_rights_of_an_agent() {
    let t = spawn_app().await;
    let rec = t
        .create(json!({"kind": "person", "last_name": "Zdalna", "pesel": "44051401359"}))
        .await;
    let id = rec["id"].as_str().unwrap();
    let home = t.user_token("home1", "home_agent", &[]).await;
    let list: Value = t.get(&home, "/api/v1/records").await.json().await.unwrap();
    assert_eq!(list["total"], 0);
    problem(
        t.delete(&home, &format!("/api/v1/records/{id}")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    t.give_agent_the_record("home1", id).await;
    let card: Value = t
        .get(&home, &format!("/api/v1/records/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(card["pesel"], "*******1359");
}

#[tokio::test]
async fn a_manager_reaches_the_record_base_and_deletes_only_when_granted() {
    let t = spawn_app().await;
    let rec = t.create(person()).await;
    let path = format!("/api/v1/records/{}", rec["id"].as_str().unwrap());
    let plain = t.user_token("m1", "manager", &[]).await;
    problem(
        t.get(&plain, "/api/v1/records").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(t.get(&plain, &path).await, StatusCode::NOT_FOUND).await;
    // Managers configure fields and dictionaries without grants.
    assert_eq!(
        t.post(
            &plain,
            "/api/v1/fields",
            json!({"key": "k1", "type": "text"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let granted = t.user_token("m2", "manager", &["record_base"]).await;
    assert_eq!(
        t.get(&granted, "/api/v1/records").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        t.patch(&granted, &path, json!({"city": "Radom"}))
            .await
            .status(),
        StatusCode::OK
    );
    problem(t.delete(&granted, &path).await, StatusCode::FORBIDDEN).await;
    problem(
        t.get(&granted, "/api/v1/users").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let deleter = t
        .user_token("m3", "manager", &["record_base", "delete_records"])
        .await;
    assert_eq!(
        t.delete(&deleter, &path).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn an_integration_identifies_creates_and_updates_but_lists_nothing() {
    let t = spawn_app().await;
    let pbx = t.user_token("pbx", "integration", &[]).await;
    let r = t
        .post(
            &pbx,
            "/api/v1/records",
            json!({"kind": "person", "phones": ["600 100 200"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rec: Value = r.json().await.unwrap();
    assert_eq!(rec["display_name"], "+48600100200");
    let path = format!("/api/v1/records/{}", rec["id"].as_str().unwrap());
    assert_eq!(
        t.patch(&pbx, &path, json!({"last_name": "Dzwoniący"}))
            .await
            .status(),
        StatusCode::OK
    );
    let found: Value = t
        .get(&pbx, "/api/v1/identify?phone=600100200")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["matches"][0]["display_name"], "Dzwoniący");
    problem(t.get(&pbx, "/api/v1/records").await, StatusCode::FORBIDDEN).await;
    problem(t.delete(&pbx, &path).await, StatusCode::FORBIDDEN).await;
    problem(t.get(&pbx, "/api/v1/users").await, StatusCode::FORBIDDEN).await;
    // An integration has no password: it cannot log in.
    let r = t
        .client
        .post(t.url("/api/v1/session"))
        .json(&json!({"username": "pbx", "password": "a-long-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_and_the_openapi_document_answer_without_credentials() {
    let t = spawn_app().await;
    assert_eq!(
        t.client
            .get(t.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let doc: Value = t
        .client
        .get(t.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/records",
        "/api/v1/records/{id}",
        "/api/v1/identify",
        "/api/v1/fields/{key}",
        "/api/v1/audit",
        "/api/v1/tokens",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["RecordView"].is_object());
    problem(
        t.client.get(t.url("/api/v1/nothing")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}
