//! `kartoteka duplicates find|merge|undo` against the test server's database (SQLite, or
//! PostgreSQL when configured): the binary runs the jobs in-process as `system`.

use serde_json::{Value, json};

use crate::duplicates::state;
use crate::helpers::*;

/// The test server, and the URL of its database for the command line.
async fn app_and_url() -> (TestApp, String) {
    let mut url = String::new();
    let t = spawn_app_with(|c| {
        url = c.database_url.as_ref().map(|s| s.0.clone()).unwrap();
    })
    .await;
    (t, url)
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `kartoteka ARGS` on the database (standard input not a terminal).
async fn kartoteka(t: &TestApp, url: &str, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kartoteka"))
        .args(args)
        .env(
            "KARTOTEKA_DATA_DIR",
            t.app
                .db
                .sqlite_path
                .as_ref()
                .map_or_else(std::env::temp_dir, |p| p.parent().unwrap().to_path_buf()),
        )
        .env("KARTOTEKA_DATABASE_URL", url)
        .env("KARTOTEKA_LOG", "error")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Two persons sharing a number typed two ways, a third alone, two sharing an e-mail.
async fn records(t: &TestApp) -> (Value, Value, Value) {
    let a = t
        .create(
            json!({"kind": "person", "first_name": "Anna", "last_name": "Nowak",
                       "phones": ["600 100 200"], "emails": ["anna@nowak.pl"]}),
        )
        .await;
    let b = t
        .create(
            json!({"kind": "person", "first_name": "Anna", "last_name": "Nowak", "city": "Opole",
                       "phones": ["+48 600-100-200", "601 000 111"], "emails": ["a@lis.pl"]}),
        )
        .await;
    let c = t
        .create(
            json!({"kind": "person", "last_name": "Inny", "phones": ["602 000 000"],
                       "emails": ["A@Lis.pl"]}),
        )
        .await;
    (a, b, c)
}

#[tokio::test]
async fn find_prints_the_summary_and_groups_and_json_lists_each_groups_ids_and_ties() {
    let (t, url) = app_and_url().await;
    let (a, b, c) = records(&t).await;
    let r = kartoteka(&t, &url, &["duplicates", "find", "--by", "phone", "--json"]).await;
    assert!(r.ok, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["search"].as_i64().unwrap() > 0, "{v}");
    assert_eq!(v["criteria"], json!(["phone"]));
    assert_eq!(v["total"], 1);
    assert_eq!(v["records"], 2);
    assert_eq!(v["ready"], 1);
    assert_eq!(v["ready_removes"], 1);
    assert_eq!(v["held"], 0);
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    let g = &v["groups"][0];
    // oldest first: the record bulk actions keep
    assert_eq!(g["records"], json!([id(&a), id(&b)]));
    assert_eq!(g["ties"], json!({"phone": ["+48600100200"]}));
    assert_eq!(g["held"], Value::Null);

    // two criteria: e-mail and last name tie nobody; e-mail alone ties b and c
    let r = kartoteka(
        &t,
        &url,
        &["duplicates", "find", "--by", "email,last_name", "--json"],
    )
    .await;
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["total"], 0, "{v}");
    assert_eq!(v["groups"], json!([]));
    let r = kartoteka(&t, &url, &["duplicates", "find", "--by", "email"]).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("1 groups, 2 records"), "{}", r.stdout);
    assert!(r.stdout.contains("email a@lis.pl"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("{} (Anna Nowak), {} (Inny)", id(&b), id(&c))),
        "{}",
        r.stdout
    );

    // limited to a filter: only the records in Opole, so nothing ties
    let dir = tempfile::tempdir().unwrap();
    let filter = dir.path().join("f.json");
    std::fs::write(
        &filter,
        json!({"all": [{"field": "city", "op": "eq", "value": "Opole"}]}).to_string(),
    )
    .unwrap();
    let r = kartoteka(
        &t,
        &url,
        &[
            "duplicates",
            "find",
            "--by",
            "phone",
            "--filter",
            filter.to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["total"], 0, "{v}");
    assert!(v["filter"].is_object());

    // a wrong criterion fails, naming it
    let r = kartoteka(&t, &url, &["duplicates", "find", "--by", "shoe_size"]).await;
    assert!(!r.ok);
    assert!(r.stderr.contains("shoe_size"), "{}", r.stderr);
}

#[tokio::test]
async fn merge_dry_run_changes_nothing_merge_yes_merges_and_undo_restores() {
    let (t, url) = app_and_url().await;
    let (a, b, c) = records(&t).await;
    let before: Vec<Value> = vec![
        state(&t, &id(&a)).await,
        state(&t, &id(&b)).await,
        state(&t, &id(&c)).await,
    ];

    let r = kartoteka(
        &t,
        &url,
        &["duplicates", "merge", "--by", "phone", "--dry-run"],
    )
    .await;
    assert!(r.ok, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("ready for bulk actions: 1 groups"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Dry run"), "{}", r.stdout);
    assert!(r.stdout.contains("Nothing changed"), "{}", r.stdout);
    for (rec, was) in [&a, &b, &c].iter().zip(&before) {
        assert_eq!(&state(&t, &id(rec)).await, was);
    }

    // without a terminal nobody can confirm: --yes is needed
    let r = kartoteka(&t, &url, &["duplicates", "merge", "--by", "phone"]).await;
    assert!(!r.ok);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    for (rec, was) in [&a, &b, &c].iter().zip(&before) {
        assert_eq!(&state(&t, &id(rec)).await, was);
    }

    // a search found first, then merged by its ID
    let r = kartoteka(&t, &url, &["duplicates", "find", "--by", "phone", "--json"]).await;
    let search = serde_json::from_str::<Value>(&r.stdout).unwrap()["search"]
        .as_i64()
        .unwrap()
        .to_string();
    let r = kartoteka(
        &t,
        &url,
        &["duplicates", "merge", "--search", &search, "--yes"],
    )
    .await;
    assert!(r.ok, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Merged 1 groups, removed 1 records"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("failed 0"), "{}", r.stdout);
    let merged = state(&t, &id(&a)).await;
    assert_eq!(state(&t, &id(&b)).await, Value::Null);
    let numbers: Vec<&str> = merged["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, vec!["+48600100200", "+48601000111"]);
    assert_eq!(merged["emails"].as_array().unwrap().len(), 2);
    assert_eq!(merged["city"], "Opole");
    let op: i64 = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Operations "))
        .and_then(|l| l.split('–').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no operation in {}", r.stdout));

    // the search has nothing left to merge
    let r = kartoteka(
        &t,
        &url,
        &["duplicates", "merge", "--search", &search, "--yes"],
    )
    .await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("Nothing to merge"), "{}", r.stdout);

    let r = kartoteka(&t, &url, &["duplicates", "undo", &op.to_string()]).await;
    assert!(r.ok, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&id(&b)), "{}", r.stdout);
    for (rec, was) in [&a, &b, &c].iter().zip(&before) {
        assert_eq!(&state(&t, &id(rec)).await, was);
    }
    // not twice, and not an operation that does not exist: explained, non-zero exit
    let r = kartoteka(&t, &url, &["duplicates", "undo", &op.to_string()]).await;
    assert!(!r.ok);
    assert!(r.stderr.contains("undone already"), "{}", r.stderr);
    let r = kartoteka(&t, &url, &["duplicates", "undo", "999999"]).await;
    assert!(!r.ok);
    assert!(r.stderr.contains("no operation 999999"), "{}", r.stderr);

    // delete instead of merge: the oldest stays as it is, the other goes
    let r = kartoteka(
        &t,
        &url,
        &[
            "duplicates",
            "merge",
            "--by",
            "phone",
            "--action",
            "delete",
            "--yes",
        ],
    )
    .await;
    assert!(r.ok, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("removed 1 records"), "{}", r.stdout);
    assert_eq!(state(&t, &id(&a)).await, before[0]);
    assert_eq!(state(&t, &id(&b)).await, Value::Null);
}

#[tokio::test]
async fn undo_after_a_later_edit_explains_why_it_cannot_and_exits_non_zero() {
    let (t, url) = app_and_url().await;
    let (a, b, _) = records(&t).await;
    let r = kartoteka(&t, &url, &["duplicates", "merge", "--by", "phone", "--yes"]).await;
    assert!(r.ok, "{}{}", r.stdout, r.stderr);
    let op = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Operations "))
        .and_then(|l| l.split('–').next())
        .unwrap()
        .to_string();
    let p = t
        .patch(
            &t.admin_token,
            &format!("/api/v1/records/{}", id(&a)),
            json!({"city": "Nysa"}),
        )
        .await;
    assert!(p.status().is_success());
    let r = kartoteka(&t, &url, &["duplicates", "undo", &op]).await;
    assert!(!r.ok);
    assert!(
        r.stderr.contains("city") && r.stderr.contains("nothing was undone"),
        "{}",
        r.stderr
    );
    assert_eq!(state(&t, &id(&a)).await["city"], "Nysa");
    assert_eq!(state(&t, &id(&b)).await, Value::Null);
}
