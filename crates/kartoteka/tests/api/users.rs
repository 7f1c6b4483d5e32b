use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn an_administrator_manages_users_with_roles_and_permissions() {
    let t = spawn_app().await;
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/users",
            json!({"username": "ewa", "role": "manager", "permissions": ["record_base"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let password = created["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 16, "a generated password is shown once");
    let r = t
        .client
        .post(t.url("/api/v1/session"))
        .json(&json!({"username": "ewa", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let users: Value = t
        .get(&t.admin_token, "/api/v1/users")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert!(users.to_string().find("password_hash").is_none());

    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/users",
            json!({"username": "x", "role": "boss"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("role".to_string(), "invalid_role".to_string())]
    );
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/users",
            json!({"username": "y", "role": "agent", "permissions": ["fly"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p)[0].0, "permissions");
    let p = problem(
        t.post(
            &t.admin_token,
            "/api/v1/users",
            json!({"username": "z", "role": "agent", "password": "short"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("password".to_string(), "too_short".to_string())]
    );

    let u: Value = t
        .patch(
            &t.admin_token,
            "/api/v1/users/ewa",
            json!({"role": "agent", "permissions": [], "locale": "pl"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (u["role"].as_str(), u["locale"].as_str()),
        (Some("agent"), Some("pl"))
    );
    let p = problem(
        t.patch(
            &t.admin_token,
            "/api/v1/users/admin",
            json!({"role": "agent"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p)[0].1, "last_administrator");
    assert_eq!(
        t.delete(&t.admin_token, "/api/v1/users/ewa").await.status(),
        StatusCode::NO_CONTENT
    );
    let roles: Value = t
        .get(&t.admin_token, "/api/v1/roles")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        roles["roles"],
        json!([
            "administrator",
            "manager",
            "agent",
            "home_agent",
            "integration"
        ])
    );
}

#[tokio::test]
async fn a_user_changes_their_own_password_only_with_the_current_one() {
    let t = spawn_app().await;
    let token = t.user_token("ola", "agent", &[]).await;
    let p = problem(
        t.patch(
            &token,
            "/api/v1/users/ola",
            json!({"password": "new-long-password"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        vec![("current_password".to_string(), "wrong_password".to_string())]
    );
    let r = t.patch(&token, "/api/v1/users/ola", json!({"password": "new-long-password", "current_password": "a-long-password", "locale": "pl"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let login = t
        .client
        .post(t.url("/api/v1/session"))
        .json(&json!({"username": "ola", "password": "new-long-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    problem(
        t.patch(
            &token,
            "/api/v1/users/ola",
            json!({"role": "administrator"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        t.patch(&token, "/api/v1/users/admin", json!({"display_name": "x"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_stop_working_when_revoked() {
    let t = spawn_app().await;
    t.user_token("pbx", "integration", &[]).await;
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/tokens",
            json!({"username": "pbx", "name": "Asterisk"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("kt_") && secret.len() > 60);
    let list: Value = t
        .get(&t.admin_token, "/api/v1/tokens")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !list.to_string().contains(&secret),
        "the list never shows a secret"
    );
    assert_eq!(
        t.get(&secret, "/api/v1/identify?phone=600700800")
            .await
            .status(),
        StatusCode::OK
    );
    let id = created["token"]["id"].as_i64().unwrap();
    assert_eq!(
        t.delete(&t.admin_token, &format!("/api/v1/tokens/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        t.get(&secret, "/api/v1/identify?phone=600700800").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let audit: Value = t
        .get(&t.admin_token, "/api/v1/audit?action=revoke")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["items"][0]["entity"], "api_token");
}
