//! Render and save tests of the administrators' screens: users, API tokens, the audit log.
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::ui_admin::{by_id, input_value, page, send};

#[tokio::test]
async fn an_administrator_creates_a_user_whose_generated_password_is_shown_once() {
    let t = spawn_app().await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let (status, list) = page(&c, &t, "/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(">admin</a>"));
    let (_, blank) = page(&c, &t, "/admin/users/new").await;
    assert!(blank.contains("name=\"permissions\" value=\"record_base\""));
    assert!(blank.contains("Record base access"));

    let (status, created, _) = send(
        &c,
        &t,
        "/admin/users",
        &[
            ("csrf", &csrf),
            ("username", "ewa.nowak"),
            ("display_name", "Ewa Nowak"),
            ("email", "ewa@example.pl"),
            ("role", "manager"),
            ("permissions", "record_base"),
            ("permissions", "delete_records"),
            ("locale", "pl"),
            ("time_zone", ""),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let password = input_value(&created, "secret");
    assert!(password.len() >= 10, "{password}");
    assert!(created.contains("shown only this once"));
    // The password works, and appears nowhere else.
    browser(&t, "ewa.nowak", &password).await;
    let (_, list) = page(&c, &t, "/admin/users").await;
    assert!(list.contains("ewa.nowak") && !list.contains(&password));
    let (status, edit) = page(&c, &t, "/admin/users/ewa.nowak/edit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!edit.contains(&password));
    assert!(
        edit.contains("value=\"record_base\" checked")
            && edit.contains("value=\"delete_records\" checked")
    );
    assert!(edit.contains("<option value=\"manager\" selected>"));

    // A username outside the rules is refused beside the input.
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/users",
        &[
            ("csrf", &csrf),
            ("username", "ewa nowak"),
            ("role", "agent"),
            ("locale", "en"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-username\""));

    // Editing: role, permissions, active, display name, language.
    let (status, _, location) = send(
        &c,
        &t,
        "/admin/users/ewa.nowak/edit",
        &[
            ("csrf", &csrf),
            ("display_name", "Ewa Nowak-Lis"),
            ("email", "ewa@example.pl"),
            ("role", "agent"),
            ("permissions", "see_national_ids"),
            ("locale", "en"),
            ("time_zone", "Europe/Warsaw"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/users/ewa.nowak/edit?saved=1");
    let user: Value = t
        .get(&t.admin_token, "/api/v1/users/ewa.nowak")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &user["display_name"],
            &user["role"],
            &user["permissions"],
            &user["active"],
            &user["locale"]
        ),
        (
            &json!("Ewa Nowak-Lis"),
            &json!("agent"),
            &json!(["see_national_ids"]),
            &json!(false),
            &json!("en")
        )
    );
    // The last administrator stays one.
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/users/admin/edit",
        &[
            ("csrf", &csrf),
            ("display_name", "Admin"),
            ("role", "manager"),
            ("active", "on"),
            ("locale", "en"),
            ("time_zone", "Europe/Warsaw"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(by_id(&html, "e-role").contains("last active administrator"));

    // Deleting needs the confirmation box.
    let (status, html, _) = send(&c, &t, "/admin/users/ewa.nowak/delete", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-confirm\""));
    let (status, _, location) = send(
        &c,
        &t,
        "/admin/users/ewa.nowak/delete",
        &[("csrf", &csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/users?saved=deleted");
    assert_eq!(
        t.get(&t.admin_token, "/api/v1/users/ewa.nowak")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_api_token_shows_its_secret_once_works_and_stops_working_when_revoked() {
    let t = spawn_app().await;
    t.create(json!({"kind": "person", "last_name": "Dzwoniący", "phones": ["600 700 800"]}))
        .await;
    t.user_token("pbx", "integration", &[]).await;
    let (c, csrf) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let (status, html) = page(&c, &t, "/admin/tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<option value=\"pbx\""));
    let (status, created, _) = send(
        &c,
        &t,
        "/admin/tokens",
        &[("csrf", &csrf), ("username", "pbx"), ("name", "Centrala")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let secret = input_value(&created, "secret");
    assert!(secret.starts_with("kt_"), "{secret}");
    assert!(created.contains("only time the secret is shown"));
    let r = t.get(&secret, "/api/v1/identify?phone=600700800").await;
    assert_eq!(r.status(), StatusCode::OK);
    let found: Value = r.json().await.unwrap();
    assert!(found.to_string().contains("Dzwoniący"));

    // The list shows the prefix and when it was last used, never the secret.
    let (_, list) = page(&c, &t, "/admin/tokens").await;
    assert!(!list.contains(&secret));
    let prefix: String = secret.chars().take(10).collect();
    assert!(list.contains(&format!("{prefix}…")));
    assert!(list.contains("Centrala"));
    let id: Value = t
        .get(&t.admin_token, "/api/v1/tokens")
        .await
        .json()
        .await
        .unwrap();
    let id = id
        .as_array()
        .unwrap()
        .iter()
        .find(|tk| tk["name"] == "Centrala")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(list.contains(&format!("action=\"/admin/tokens/{id}/revoke\"")));

    // Without a user: the error beside the select.
    let (status, html, _) = send(
        &c,
        &t,
        "/admin/tokens",
        &[("csrf", &csrf), ("username", ""), ("name", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-username\""));

    let (status, _, location) = send(
        &c,
        &t,
        &format!("/admin/tokens/{id}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/admin/tokens?saved=revoked");
    assert_eq!(
        t.get(&secret, "/api/v1/identify?phone=600700800")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, list) = page(&c, &t, "/admin/tokens").await;
    assert!(list.contains(">revoked<"));
}

#[tokio::test]
async fn the_audit_log_filters_by_user_record_action_and_date_and_pages_older_entries() {
    let t = spawn_app().await;
    let a = t
        .create(json!({"kind": "person", "last_name": "Nowak", "city": "Opole"}))
        .await;
    let id = a["id"].as_str().unwrap();
    t.create(json!({"kind": "person", "last_name": "Inny"}))
        .await;
    let editor = t.user_token("redaktor", "manager", &["record_base"]).await;
    t.patch(
        &editor,
        &format!("/api/v1/records/{id}"),
        json!({"city": "Gdańsk"}),
    )
    .await;
    let (c, _) = browser(&t, "admin", ADMIN_PASSWORD).await;
    let (status, all) = page(&c, &t, "/admin/audit").await;
    assert_eq!(status, StatusCode::OK);
    let newest = all
        .split("<tr data-id=")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        newest.contains("logged in") && newest.contains(">admin<"),
        "newest first: this page's user logging in: {newest}"
    );

    let (_, by_user) = page(&c, &t, "/admin/audit?user=redaktor").await;
    assert_eq!(
        by_user.matches("<tr data-id=").count(),
        1,
        "one edit by redaktor"
    );
    assert!(
        by_user.contains("Opole") && by_user.contains("Gdańsk"),
        "before → after"
    );
    assert!(by_user.contains(&format!("href=\"/records/{id}\"")));

    let (_, by_record) = page(
        &c,
        &t,
        &format!("/admin/audit?record={}", id.to_lowercase()),
    )
    .await;
    assert_eq!(
        by_record.matches("<tr data-id=").count(),
        2,
        "created and changed, nothing of the other record"
    );
    assert!(by_record.contains(&format!("value=\"{id}\"")));
    let (_, created) = page(&c, &t, &format!("/admin/audit?record={id}&action=create")).await;
    assert_eq!(created.matches("<tr data-id=").count(), 1);

    // Dates are days in the user's zone; "to" includes the whole day.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Warsaw)
        .format("%Y-%m-%d")
        .to_string();
    let (_, dated) = page(
        &c,
        &t,
        &format!("/admin/audit?record={id}&from={today}&to={today}"),
    )
    .await;
    assert_eq!(dated.matches("<tr data-id=").count(), 2);
    let (_, before) = page(&c, &t, &format!("/admin/audit?record={id}&to=2020-01-01")).await;
    assert!(before.contains("No entries match."));
    let (status, bad) = page(&c, &t, "/admin/audit?from=soon").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"e-from\""));

    // Paging: 50 a page, "older" by the last ID.
    for i in 0..55 {
        t.post(
            &t.admin_token,
            "/api/v1/records",
            json!({"kind": "person", "last_name": format!("P{i}")}),
        )
        .await;
    }
    let (_, first_page) = page(&c, &t, "/admin/audit?action=create&entity=record").await;
    assert_eq!(first_page.matches("<tr data-id=").count(), 50);
    let older = first_page
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        older.starts_with("/admin/audit?action=create&entity=record&before="),
        "{older}"
    );
    let (_, second) = page(&c, &t, &older).await;
    assert_eq!(
        second.matches("<tr data-id=").count(),
        7,
        "55 + 2 creations"
    );
    assert!(!second.contains("rel=\"next\""));
}
