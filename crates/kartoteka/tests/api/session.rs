use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_session_cookie_works_and_changes_need_the_csrf_token() {
    let t = spawn_app().await;
    let r = t
        .client
        .post(t.url("/api/v1/session"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Max-Age="),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(body["user"]["role"], "administrator");

    let me: Value = t
        .client
        .get(t.url("/api/v1/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "admin");
    assert_eq!(me["csrf_token"], csrf);

    let create = || {
        t.client
            .post(t.url("/api/v1/records"))
            .header("cookie", &session)
            .json(&person())
    };
    problem(create().send().await.unwrap(), StatusCode::FORBIDDEN).await;
    problem(
        create()
            .header("x-csrf-token", "wrong")
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = create().header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let rec: Value = r.json().await.unwrap();
    assert_eq!(rec["source"], "manual");

    let r = t
        .client
        .delete(t.url("/api/v1/session"))
        .header("cookie", &session)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = t
        .client
        .get(t.url("/api/v1/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_password_says_so_and_repeated_failures_are_throttled() {
    let t = spawn_app().await;
    let login = |password: &'static str| {
        t.client
            .post(t.url("/api/v1/session"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
    };
    for _ in 0..5 {
        let p = problem(login("wrong").await.unwrap(), StatusCode::UNAUTHORIZED).await;
        assert_eq!(p["title"], "Wrong username or password");
    }
    let r = login(ADMIN_PASSWORD).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 0
    );
    // Another name is not affected.
    let r = t
        .client
        .post(t.url("/api/v1/session"))
        .json(&json!({"username": "ghost", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
