//! The filter engine through `POST /api/v1/records/search` and bulk actions by filter.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, field_errors, problem, spawn_app};

async fn search(t: &TestApp, token: &str, all: Value) -> Value {
    let r = t
        .post(
            token,
            "/api/v1/records/search",
            json!({"filter": {"all": all}, "limit": 100}),
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The last names found, sorted as the list sorts them.
async fn names(t: &TestApp, all: Value) -> Vec<String> {
    let page = search(t, &t.admin_token, all).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(page["total"].as_u64().unwrap() as usize, items.len());
    items
        .iter()
        .map(|i| {
            i["last_name"]
                .as_str()
                .or(i["organization_name"].as_str())
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

async fn seed(t: &TestApp) -> Vec<Value> {
    let people = [
        (
            "Jan",
            "KOWALSKI",
            "Łódź",
            "ul. Piotrkowska 1",
            "600100200",
            "2025-03-01",
        ),
        (
            "Anna",
            "Kowalska",
            "Warszawa",
            "ul. Grzybowska 5",
            "600100201",
            "2025-06-15",
        ),
        (
            "Piotr",
            "Nowak",
            "Kraków",
            "Rynek Główny 3",
            "600100202",
            "2025-06-30",
        ),
        (
            "Zofia",
            "Grzybowska",
            "Łódź",
            "ul. Zielona 7",
            "600100203",
            "2026-01-10",
        ),
        (
            "Ewa",
            "Wiśniewska",
            "Gdańsk",
            "ul. Długa 2",
            "600100204",
            "2026-02-01",
        ),
    ];
    let mut out = Vec::new();
    for (first, last, city, addr, phone, _) in people {
        out.push(
            t.create(
                json!({"kind": "person", "first_name": first, "last_name": last,
                "city": city, "address_line1": addr, "phones": [phone],
                "emails": [format!("{}@example.pl", first.to_lowercase())],
                "tags": if last.to_lowercase().starts_with("kow") { json!(["vip"]) } else { json!([]) }}),
            )
            .await,
        );
    }
    out.push(
        t.create(
            json!({"kind": "organization", "organization_name": "Łódzka Spółdzielnia",
            "nip": "526-000-12-46", "city": "Łódź"}),
        )
        .await,
    );
    out
}

#[tokio::test]
async fn text_criteria_take_wildcards_ignoring_case_and_polish_diacritics() {
    let t = spawn_app().await;
    seed(&t).await;
    let like = |f: &str, v: &str| json!([{"field": f, "op": "like", "value": v}]);
    assert_eq!(names(&t, like("last_name", "%ski")).await, ["KOWALSKI"]);
    assert_eq!(
        names(&t, like("last_name", "%SKA")).await,
        ["Grzybowska", "Kowalska", "Wiśniewska"]
    );
    assert_eq!(
        names(&t, like("last_name", "kowal%")).await,
        ["Kowalska", "KOWALSKI"]
    );
    assert_eq!(
        names(&t, like("last_name", "%wiSNIew%")).await,
        ["Wiśniewska"]
    );
    assert_eq!(names(&t, like("last_name", "%ow%")).await.len(), 4);
    assert_eq!(names(&t, like("last_name", "nowak")).await, ["Nowak"]);
    assert_eq!(names(&t, like("last_name", "k%ska")).await, ["Kowalska"]);
    assert_eq!(
        names(&t, like("city", "%lodz%")).await,
        ["Grzybowska", "KOWALSKI", "Łódzka Spółdzielnia"]
    );
    // A trigram-sized infix, and the address (either line).
    assert_eq!(names(&t, like("address", "%rzyb%")).await, ["Kowalska"]);
    assert_eq!(
        names(&t, like("display_name", "%spółdz%")).await,
        ["Łódzka Spółdzielnia"]
    );
    let empty = names(&t, json!([{"field": "last_name", "op": "empty"}])).await;
    assert_eq!(empty, ["Łódzka Spółdzielnia"]);
}

/// The trigram tables forget a record's old keys: renamed, cleared and deleted records are
/// found by their new values only (SQLite removes old keys with FTS5's 'delete' command,
/// which needs the very value indexed).
#[tokio::test]
async fn infix_search_follows_renames_cleared_fields_and_deletions() {
    let t = spawn_app().await;
    let recs = seed(&t).await;
    let like = |f: &str, v: &str| json!([{"field": f, "op": "like", "value": v}]);
    let by_last = |last: &str| {
        recs.iter()
            .find(|r| r["last_name"] == last)
            .map(|r| r["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    let path = |id: &str| format!("/api/v1/records/{id}");
    let r = t
        .patch(
            &t.admin_token,
            &path(&by_last("Wiśniewska")),
            json!({"last_name": "Zielińska", "city": null}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = t.delete(&t.admin_token, &path(&by_last("Kowalska"))).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert!(names(&t, like("last_name", "%wiSNIew%")).await.is_empty());
    assert_eq!(
        names(&t, like("last_name", "%elinsk%")).await,
        ["Zielińska"]
    );
    assert!(names(&t, like("city", "%dans%")).await.is_empty());
    assert!(names(&t, like("address", "%rzyb%")).await.is_empty());
    // Renamed back and forth, a key is found once.
    for last in ["Wiśniewska", "Zielińska"] {
        let r = t
            .patch(
                &t.admin_token,
                &path(&by_last("Wiśniewska")),
                json!({"last_name": last}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(
        names(&t, like("last_name", "%elinsk%")).await,
        ["Zielińska"]
    );
    assert_eq!(names(&t, like("last_name", "%ow%")).await.len(), 3);
}

#[tokio::test]
async fn contact_identifier_date_and_membership_criteria() {
    let t = spawn_app().await;
    let recs = seed(&t).await;
    let one = |f: &str, op: &str, v: Value| json!([{"field": f, "op": op, "value": v}]);
    assert_eq!(
        names(&t, one("phone", "eq", json!("+48 600-100-202"))).await,
        ["Nowak"]
    );
    assert_eq!(
        names(&t, one("email", "eq", json!("ANNA@example.pl"))).await,
        ["Kowalska"]
    );
    assert_eq!(
        names(&t, one("nip", "eq", json!("PL5260001246"))).await,
        ["Łódzka Spółdzielnia"]
    );
    assert_eq!(
        names(&t, one("id", "in", json!([recs[2]["id"], recs[4]["id"]]))).await,
        ["Nowak", "Wiśniewska"]
    );
    assert_eq!(names(&t, one("tags", "in", json!(["vip"]))).await.len(), 2);
    assert_eq!(
        names(&t, one("kind", "eq", json!("organization")))
            .await
            .len(),
        1
    );
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        names(&t, one("created_at", "eq", json!(today))).await.len(),
        6
    );
    assert_eq!(
        names(&t, one("created_at", "lt", json!("2020-01-01")))
            .await
            .len(),
        0
    );
    // Campaigns: the same case answers the case criteria together.
    let c: Value = t
        .post(
            &t.admin_token,
            "/api/v1/campaigns",
            json!({"name": "Jesień"}),
        )
        .await
        .json()
        .await
        .unwrap();
    for r in &recs[..2] {
        let r = t
            .call(
                &t.admin_token,
                reqwest::Method::PUT,
                &format!(
                    "/api/v1/records/{}/campaigns/{}",
                    r["id"].as_str().unwrap(),
                    c["id"]
                ),
                None,
            )
            .await;
        assert!(r.status().is_success());
    }
    let all = json!([
        {"field": "campaigns", "op": "in", "value": [c["id"]]},
        {"field": "city", "op": "like", "value": "łódź"}
    ]);
    assert_eq!(names(&t, all).await, ["KOWALSKI"]);
    assert_eq!(
        names(&t, one("campaigns", "empty", Value::Null))
            .await
            .len(),
        4
    );
    assert_eq!(
        names(&t, json!([{"field": "case.attempts", "op": "lt", "value": 1}, {"field": "campaigns", "op": "in", "value": [c["id"]]}]))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn an_invalid_filter_names_the_criterion_and_agents_search_only_their_records() {
    let t = spawn_app().await;
    let recs = seed(&t).await;
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records/search",
            json!({"filter": {"all": [
                {"field": "last_name", "op": "like", "value": "%a"},
                {"field": "created_at", "op": "gt", "value": "soon"},
                {"field": "shoe", "op": "eq", "value": 1}]}}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [
            (
                "filter.all[1].value".to_string(),
                "invalid_date".to_string()
            ),
            (
                "filter.all[2].field".to_string(),
                "unknown_field".to_string()
            )
        ]
    );
    let agent = t.user_token("agata", "agent", &[]).await;
    t.give_agent_the_record("agata", recs[0]["id"].as_str().unwrap())
        .await;
    let page = search(
        &t,
        &agent,
        json!([{"field": "last_name", "op": "like", "value": "kowal%"}]),
    )
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], recs[0]["id"]);
    let r = t
        .post(
            &agent,
            "/api/v1/records/bulk/tags",
            json!({"action": "add", "tags": ["x"], "filter": {"all": []}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn wait_for(t: &TestApp, job: &Value) -> Value {
    t.wait_for_job(&t.admin_token, job["id"].as_i64().unwrap())
        .await
}

#[tokio::test]
async fn bulk_actions_by_filter_tag_and_delete_what_the_filter_finds() {
    let t = spawn_app().await;
    seed(&t).await;
    let filter = json!({"all": [{"field": "city", "op": "like", "value": "%łódź%"}]});
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records/bulk/tags",
            json!({"action": "add", "tags": ["łódź", "north"], "filter": filter}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job = wait_for(&t, &r.json().await.unwrap()).await;
    assert_eq!(
        (job["state"].as_str(), job["result"]["changed"].as_i64()),
        (Some("done"), Some(3))
    );
    assert_eq!(
        names(
            &t,
            json!([{"field": "tags", "op": "in", "value": ["north"]}])
        )
        .await
        .len(),
        3
    );
    // The tags are part of the record: its version moved.
    let page = search(
        &t,
        &t.admin_token,
        json!([{"field": "tags", "op": "in", "value": ["north"]}]),
    )
    .await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["version"] == 2)
    );
    // Delete needs the count confirmed.
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records/bulk/delete",
            json!({"filter": filter}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("confirm".to_string(), "confirmation_required".to_string())]
    );
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 records")
    );
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records/bulk/delete",
            json!({"filter": filter, "confirm": 3}),
        )
        .await;
    let job = wait_for(&t, &r.json().await.unwrap()).await;
    assert_eq!(job["result"]["changed"], 3);
    assert_eq!(names(&t, json!([])).await.len(), 3);
    // Removed from trigram search too.
    assert!(
        names(
            &t,
            json!([{"field": "city", "op": "like", "value": "%odz%"}])
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn saved_views_are_private_unless_shared() {
    let t = spawn_app().await;
    let manager = t.user_token("marta", "manager", &["record_base"]).await;
    let f = json!({"all": [{"field": "last_name", "op": "like", "value": "%ska"}]});
    for (name, shared) in [("Mine", false), ("Ours", true)] {
        let r = t
            .post(
                &t.admin_token,
                "/api/v1/views",
                json!({"name": name, "filter": f, "shared": shared}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let seen: Value = t.get(&manager, "/api/v1/views").await.json().await.unwrap();
    let names: Vec<_> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ours"]);
    assert_eq!(seen[0]["filter"], f);
    assert_eq!(seen[0]["mine"], false);
    let r = t
        .delete(&manager, &format!("/api/v1/views/{}", seen[0]["id"]))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .post(
            &manager,
            "/api/v1/views",
            json!({"name": "Bad", "filter": {"all": [{"field": "x", "op": "eq", "value": 1}]}}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&p)[0].0, "filter.all[0].field");
}

/// Every way the planner may run a filter (each unit driving, walking the sort order, or
/// left to the engine) finds the same records.
#[tokio::test]
async fn every_plan_of_a_filter_finds_the_same_records() {
    use kartoteka_domain::filter::Filter;
    use kartoteka_store::filter::Where;
    use kartoteka_store::list::{self, ListQuery, SortKey};
    let t = spawn_app().await;
    // Loaded in bulk (indexes and trigram tables built after the load).
    kartoteka::demo::fill(&t.app, 600, 3, true).await.unwrap();
    let seg: Value = t
        .post(&t.admin_token, "/api/v1/segments", json!({"name": "Plan"}))
        .await
        .json()
        .await
        .unwrap();
    let filter = json!({"all": [{"field": "last_name", "op": "like", "value": "%ska"}]});
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records/bulk/membership",
            json!({"group_kind": "segment", "group": seg["id"], "action": "add", "filter": filter}),
        )
        .await;
    wait_for(&t, &r.json().await.unwrap()).await;
    let campaigns: Value = t
        .get(&t.admin_token, "/api/v1/campaigns")
        .await
        .json()
        .await
        .unwrap();
    let c = campaigns.as_array().unwrap()[0]["id"].clone();
    let filters = [
        json!([{"field": "campaigns", "op": "in", "value": [c]}, {"field": "city", "op": "like", "value": "%a%"},
               {"field": "segments", "op": "in", "value": [seg["id"]]}]),
        json!([{"field": "last_name", "op": "like", "value": "%ow%"}, {"field": "phone", "op": "not_empty"},
               {"field": "tags", "op": "empty"}, {"field": "case.attempts", "op": "gt", "value": 0}]),
        json!([{"field": "first_name", "op": "like", "value": "%nna"}, {"field": "created_at", "op": "gt", "value": "2020-01-01"},
               {"field": "email", "op": "like", "value": "%.pl"}, {"field": "address", "op": "like", "value": "%ul.%"}]),
    ];
    for all in filters {
        let f: Filter = serde_json::from_value(json!({ "all": all })).unwrap();
        let conds = t.app.check_filter(&f).await.unwrap();
        let w = Where::new(&conds, None, Some(1), t.app.db.backend);
        let q = ListQuery {
            sort: SortKey::Name,
            descending: false,
            after: None,
            limit: 1000,
        };
        let mut plans = vec![w, Where { walk: true, ..w }];
        for i in 0..w.units().len() {
            plans.push(Where {
                driver: Some(i),
                ..w
            });
        }
        let mut answers = Vec::new();
        for p in &plans {
            let (ids, _) = list::page(&t.app.db.pool, &q, p).await.unwrap();
            let n = list::count(&t.app.db.pool, p).await.unwrap();
            assert_eq!(n as usize, ids.len(), "{all} {p:?}");
            answers.push(ids);
        }
        assert!(!answers[0].is_empty(), "{all} finds something");
        assert!(answers.iter().all(|a| a == &answers[0]), "{all}");
    }
}

#[tokio::test]
async fn a_small_result_pages_with_its_cursor_in_either_direction() {
    let t = spawn_app().await;
    seed(&t).await;
    let all = json!({"all": [{"field": "city", "op": "not_empty"}]});
    for sort in ["last_name", "-last_name", "created_at", "-id"] {
        let full: Value = t
            .post(
                &t.admin_token,
                "/api/v1/records/search",
                json!({"filter": all, "sort": sort, "limit": 100}),
            )
            .await
            .json()
            .await
            .unwrap();
        let want: Vec<Value> = full["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].clone())
            .collect();
        assert_eq!(want.len(), 6);
        let (mut got, mut cursor) = (Vec::new(), Value::Null);
        loop {
            let page: Value = t
                .post(
                    &t.admin_token,
                    "/api/v1/records/search",
                    json!({"filter": all, "sort": sort, "limit": 4, "cursor": cursor}),
                )
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(page["total"], 6);
            got.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].clone()),
            );
            cursor = page["next_cursor"].clone();
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!(got, want, "{sort}");
    }
}

#[tokio::test]
async fn the_list_sorts_by_other_columns_and_pages_through_them() {
    let t = spawn_app().await;
    seed(&t).await;
    let cities = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["city"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let page: Value = t
        .get(&t.admin_token, "/api/v1/records?sort=-city&limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cities(&page),
        ["Warszawa", "Łódź", "Łódź", "Łódź", "Kraków", "Gdańsk"],
        "folded: Łódź sorts as lodz"
    );
    // Page by page with the cursor, a filter on top.
    let (mut got, mut cursor) = (Vec::new(), Value::Null);
    loop {
        let p: Value = t
            .post(
                &t.admin_token,
                "/api/v1/records/search",
                json!({"filter": {"all": []}, "sort": "nip", "limit": 2, "cursor": cursor}),
            )
            .await
            .json()
            .await
            .unwrap();
        got.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].clone()),
        );
        cursor = p["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(got.len(), 6, "empty NIPs are not lost when paging");
    let r = t
        .get(&t.admin_token, "/api/v1/records?sort=shoe_size")
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&p)[0].0, "sort");
}

#[tokio::test]
async fn a_bulk_action_by_filter_and_search_text_takes_what_the_searched_list_shows() {
    let t = spawn_app().await;
    seed(&t).await;
    let lodz = json!({"all": [{"field": "city", "op": "like", "value": "%łódź%"}]});
    for (tag, filter, changed) in [("all", json!({"all": []}), 2), ("lodz", lodz, 1)] {
        let r = t
            .post(
                &t.admin_token,
                "/api/v1/records/bulk/tags",
                json!({"action": "add", "tags": [tag], "filter": filter, "q": "Kowal"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let job = wait_for(&t, &r.json().await.unwrap()).await;
        assert_eq!(job["result"]["changed"], changed, "{job}");
        assert_eq!(
            names(&t, json!([{"field": "tags", "op": "in", "value": [tag]}]))
                .await
                .len(),
            changed as usize
        );
    }
    // A search text needs a filter to narrow.
    let r = t
        .post(
            &t.admin_token,
            "/api/v1/records/bulk/tags",
            json!({"action": "add", "tags": ["x"], "q": "Kowal"}),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("ids".to_string(), "required".to_string())]
    );
}
