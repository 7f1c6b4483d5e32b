use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn campaigns_and_segments_are_created_renamed_deactivated_and_deleted_with_confirmation() {
    let t = spawn_app().await;
    let manager = t.user_token("m1", "manager", &["record_base"]).await;
    let r = t
        .post(
            &manager,
            "/api/v1/campaigns",
            json!({"name": "Wiosna 2027", "description": "Odnowienia"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_i64().unwrap();
    assert_eq!(
        (c["records"].as_i64(), c["active"].as_bool()),
        (Some(0), Some(true))
    );
    let p = problem(
        t.post(
            &manager,
            "/api/v1/campaigns",
            json!({"name": "Wiosna 2027"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("name".to_string(), "taken".to_string())]
    );
    let p = problem(
        t.post(&manager, "/api/v1/segments", json!({"name": "  "}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p)[0].0, "name");
    let seg: Value = t
        .post(&manager, "/api/v1/segments", json!({"name": "VIP"}))
        .await
        .json()
        .await
        .unwrap();
    let renamed: Value = t
        .patch(
            &manager,
            &format!("/api/v1/campaigns/{id}"),
            json!({"name": "Wiosna 2027 (PL)", "active": false}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (renamed["name"].as_str(), renamed["active"].as_bool()),
        (Some("Wiosna 2027 (PL)"), Some(false))
    );

    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    let p = problem(
        t.call(
            &manager,
            Method::PUT,
            &format!("/api/v1/records/{rid}/campaigns/{id}"),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "inactive");
    t.patch(
        &manager,
        &format!("/api/v1/campaigns/{id}"),
        json!({"active": true}),
    )
    .await;
    let added: Value = t
        .call(
            &manager,
            Method::PUT,
            &format!("/api/v1/records/{rid}/campaigns/{id}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(added["changed"], true);
    let again: Value = t
        .call(
            &manager,
            Method::PUT,
            &format!("/api/v1/records/{rid}/campaigns/{id}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["changed"], false, "one case per record and campaign");
    let s = seg["id"].as_i64().unwrap();
    t.call(
        &manager,
        Method::PUT,
        &format!("/api/v1/records/{rid}/segments/{s}"),
        None,
    )
    .await;
    let in_campaigns: Value = t
        .get(&manager, &format!("/api/v1/records/{rid}/campaigns"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        in_campaigns,
        json!([{"id": id, "name": "Wiosna 2027 (PL)"}])
    );
    let in_segments: Value = t
        .get(&manager, &format!("/api/v1/records/{rid}/segments"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(in_segments[0]["name"], "VIP");
    let card: Value = t
        .get(&manager, &format!("/api/v1/records/{rid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        card["campaigns"],
        json!([{"id": id, "name": "Wiosna 2027 (PL)"}])
    );
    assert_eq!(card["segments"], json!([{"id": s, "name": "VIP"}]));
    assert_eq!(
        card["version"], 1,
        "memberships are not part of the record's version"
    );
    let found: Value = t
        .get(&manager, "/api/v1/identify?phone=600700800")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["matches"][0]["record"]["campaigns"][0]["id"], id);

    let p = problem(
        t.delete(&manager, &format!("/api/v1/campaigns/{id}")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["records"], 1);
    assert_eq!(
        t.delete(&manager, &format!("/api/v1/campaigns/{id}?confirm=1"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let in_campaigns: Value = t
        .get(&manager, &format!("/api/v1/records/{rid}/campaigns"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        in_campaigns,
        json!([]),
        "deleting a campaign ends its cases"
    );
    let audit: Value = t
        .get(&t.admin_token, &format!("/api/v1/audit?record={rid}"))
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
    assert!(
        actions.contains(&"add_to_campaign") && actions.contains(&"add_to_segment"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn agents_of_a_campaign_reach_its_records_and_may_not_change_memberships() {
    let t = spawn_app().await;
    let agent = t.user_token("a1", "agent", &[]).await;
    let c: Value = t
        .post(
            &t.admin_token,
            "/api/v1/campaigns",
            json!({"name": "Windykacja", "agents": ["a1"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["agents"], json!(["a1"]));
    let id = c["id"].as_i64().unwrap();
    let rec = t.create(person()).await;
    let rid = rec["id"].as_str().unwrap();
    problem(
        t.get(&agent, &format!("/api/v1/records/{rid}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        t.call(
            &agent,
            Method::PUT,
            &format!("/api/v1/records/{rid}/campaigns/{id}"),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    t.call(
        &t.admin_token,
        Method::PUT,
        &format!("/api/v1/records/{rid}/campaigns/{id}"),
        None,
    )
    .await;
    let card: Value = t
        .get(&agent, &format!("/api/v1/records/{rid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        card["id"], rec["id"],
        "the case opens the record to the campaign's agent"
    );
    let list: Value = t.get(&agent, "/api/v1/records").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    problem(
        t.post(&agent, "/api/v1/campaigns", json!({"name": "x"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let p = problem(
        t.patch(
            &t.admin_token,
            &format!("/api/v1/campaigns/{id}"),
            json!({"agents": ["ghost"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p)[0].0, "agents");
    // Removing the record from the campaign ends the agent's access.
    t.call(
        &t.admin_token,
        Method::DELETE,
        &format!("/api/v1/records/{rid}/campaigns/{id}"),
        None,
    )
    .await;
    problem(
        t.get(&agent, &format!("/api/v1/records/{rid}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
