//! Property tests of merge and undo over random sets of records (fixed seeds), and a merge
//! racing an edit of one of its records.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

use crate::duplicates::{groups, search, state};
use crate::helpers::*;

const CLASSIFIERS: [&str; 3] = ["sale", "callback", "refused"];

/// A phone as people type it: the same number in one of several formats.
fn typed_phone(rng: &mut StdRng, n: u32) -> String {
    let d = format!("{:09}", 600_000_000 + n * 1_111);
    match rng.random_range(0..4) {
        0 => format!("{} {} {}", &d[0..3], &d[3..6], &d[6..9]),
        1 => format!("+48 {}-{}-{}", &d[0..3], &d[3..6], &d[6..9]),
        2 => format!("0048{d}"),
        _ => d,
    }
}

fn typed_email(rng: &mut StdRng, n: u32) -> String {
    let e = format!("osoba{n}@example.pl");
    if rng.random_bool(0.3) {
        e.to_uppercase()
    } else {
        e
    }
}

fn strings(v: &Value, key: &str) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_lowercase())
        .collect()
}

/// What is reachable from a record: normalized phones and e-mails, campaigns, segments,
/// tags, and the IDs of the classifier entries of its cases.
#[derive(Debug, Default, Clone, PartialEq)]
struct Reach {
    phones: BTreeSet<String>,
    emails: BTreeSet<String>,
    campaigns: BTreeSet<i64>,
    segments: BTreeSet<i64>,
    tags: BTreeSet<String>,
    classifier_rows: BTreeSet<i64>,
}

impl Reach {
    fn union(&mut self, o: &Reach) {
        self.phones.extend(o.phones.iter().cloned());
        self.emails.extend(o.emails.iter().cloned());
        self.campaigns.extend(o.campaigns.iter().copied());
        self.segments.extend(o.segments.iter().copied());
        self.tags.extend(o.tags.iter().cloned());
        self.classifier_rows
            .extend(o.classifier_rows.iter().copied());
    }
}

async fn classifier_rows(t: &TestApp, public_id: &str) -> BTreeSet<i64> {
    sqlx::query(
        "SELECT c.id FROM case_classifiers c JOIN cases k ON k.id = c.case_id \
         JOIN records r ON r.id = k.record_id WHERE r.public_id = $1",
    )
    .bind(public_id)
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<i64, _>(0).unwrap())
    .collect()
}

/// Classifier entries with their case's campaign, by entry ID.
async fn classifier_detail(t: &TestApp, public_id: &str) -> BTreeMap<i64, Value> {
    sqlx::query(
        "SELECT c.id, k.campaign_id, c.classifier, c.at FROM case_classifiers c \
         JOIN cases k ON k.id = c.case_id JOIN records r ON r.id = k.record_id \
         WHERE r.public_id = $1",
    )
    .bind(public_id)
    .fetch_all(&t.app.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get::<i64, _>(0).unwrap(),
            json!([
                r.try_get::<i64, _>(1).unwrap(),
                r.try_get::<Option<String>, _>(2).unwrap(),
                r.try_get::<Option<i64>, _>(3).unwrap(),
            ]),
        )
    })
    .collect()
}

async fn reach(t: &TestApp, public_id: &str) -> Reach {
    let r = t
        .get(&t.admin_token, &format!("/api/v1/records/{public_id}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    Reach {
        phones: strings(&v["phones"], "number"),
        emails: strings(&v["emails"], "address"),
        campaigns: v["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect(),
        segments: v["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect(),
        tags: v["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect(),
        classifier_rows: classifier_rows(t, public_id).await,
    }
}

async fn ok(r: reqwest::Response, what: &str) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The dictionary, campaigns and segments of a random base; answers their IDs.
async fn setup(t: &TestApp) -> (Vec<i64>, Vec<i64>) {
    for code in CLASSIFIERS {
        ok(
            t.call(
                &t.admin_token,
                Method::PUT,
                &format!("/api/v1/dictionaries/classifiers/entries/{code}"),
                Some(json!({"label": code})),
            )
            .await,
            "classifier",
        )
        .await;
    }
    let mut campaigns = Vec::new();
    let mut segments = Vec::new();
    for i in 0..3 {
        let c = ok(
            t.post(
                &t.admin_token,
                "/api/v1/campaigns",
                json!({"name": format!("Kampania {i}")}),
            )
            .await,
            "campaign",
        )
        .await;
        campaigns.push(c["id"].as_i64().unwrap());
    }
    for i in 0..2 {
        let s = ok(
            t.post(
                &t.admin_token,
                "/api/v1/segments",
                json!({"name": format!("Segment {i}")}),
            )
            .await,
            "segment",
        )
        .await;
        segments.push(s["id"].as_i64().unwrap());
    }
    (campaigns, segments)
}

/// `n` random records: phones from a small pool (so they collide), e-mails, some
/// organizations, tags, campaigns with cases and classifier entries, segments.
async fn random_records(
    t: &TestApp,
    rng: &mut StdRng,
    n: usize,
    campaigns: &[i64],
    segments: &[i64],
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let org = rng.random_bool(0.1);
        let phones: BTreeSet<u32> = (0..rng.random_range(0..3))
            .map(|_| rng.random_range(0..40))
            .collect();
        let emails: BTreeSet<u32> = (0..rng.random_range(0..3))
            .map(|_| rng.random_range(0..40))
            .collect();
        let tags: BTreeSet<&str> = (0..rng.random_range(0..3))
            .map(|_| ["vip", "nowy", "stały", "b2b"][rng.random_range(0..4)])
            .collect();
        let mut body = json!({
            "kind": if org { "organization" } else { "person" },
            "phones": phones.iter().map(|p| typed_phone(rng, *p)).collect::<Vec<_>>(),
            "emails": emails.iter().map(|e| typed_email(rng, *e)).collect::<Vec<_>>(),
            "tags": tags,
        });
        if org {
            body["organization_name"] = json!(format!("Firma {i}"));
        } else {
            body["first_name"] = json!(["Anna", "Jan", "Ewa"][rng.random_range(0..3)]);
            body["last_name"] = json!(format!("Nazwisko{}", rng.random_range(0..5)));
        }
        if rng.random_bool(0.5) {
            body["city"] = json!(["Kraków", "Łódź", "Opole"][rng.random_range(0..3)]);
        }
        let rec = t.create(body).await;
        let pid = rec["id"].as_str().unwrap().to_string();
        for c in campaigns {
            if rng.random_bool(0.35) {
                ok(
                    t.call(
                        &t.admin_token,
                        Method::PUT,
                        &format!("/api/v1/records/{pid}/campaigns/{c}"),
                        None,
                    )
                    .await,
                    "campaign membership",
                )
                .await;
                for _ in 0..rng.random_range(0..3) {
                    let code = CLASSIFIERS[rng.random_range(0..CLASSIFIERS.len())];
                    ok(
                        t.patch(
                            &t.admin_token,
                            &format!("/api/v1/records/{pid}/cases/{c}"),
                            json!({"classifier": code}),
                        )
                        .await,
                        "classifier",
                    )
                    .await;
                }
            }
        }
        for s in segments {
            if rng.random_bool(0.3) {
                ok(
                    t.call(
                        &t.admin_token,
                        Method::PUT,
                        &format!("/api/v1/records/{pid}/segments/{s}"),
                        None,
                    )
                    .await,
                    "segment membership",
                )
                .await;
            }
        }
        // Some fields changed after creation, so that the merge's "changed most recently"
        // rule has something to choose between.
        if rng.random_bool(0.3) {
            ok(
                t.patch(
                    &t.admin_token,
                    &format!("/api/v1/records/{pid}"),
                    json!({"city": format!("Miasto {i}")}),
                )
                .await,
                "edit",
            )
            .await;
        }
        ids.push(pid);
    }
    ids
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn ids_of(group: &Value) -> Vec<String> {
    group["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_bulk_merge_keeps_everything_reachable_from_the_survivor_and_undo_restores_every_record()
{
    let mut merged_groups = 0;
    for seed in 0..5u64 {
        // One group in the first transaction: the job runs several, of growing size.
        let t = spawn_app_with(|c| c.duplicate_first_chunk = 1).await;
        let mut rng = StdRng::seed_from_u64(seed);
        let (campaigns, segments) = setup(&t).await;
        let ids = random_records(&t, &mut rng, 30, &campaigns, &segments).await;
        let mut before: BTreeMap<String, (Value, BTreeMap<i64, Value>, Reach)> = BTreeMap::new();
        for id in &ids {
            before.insert(
                id.clone(),
                (
                    state(&t, id).await,
                    classifier_detail(&t, id).await,
                    reach(&t, id).await,
                ),
            );
        }
        let (sid, view) = search(&t, &t.admin_token, json!({"criteria": ["phone"]})).await;
        let page = groups(&t, sid, "?limit=500").await;
        let all: Vec<Value> = page["items"].as_array().unwrap().clone();
        assert_eq!(all.len() as i64, view["groups"].as_i64().unwrap());
        let ready: Vec<&Value> = all.iter().filter(|g| g["held"].is_null()).collect();
        eprintln!(
            "seed {seed}: {} groups, {} ready, held {}",
            all.len(),
            ready.len(),
            view["held_by_reason"]
        );
        if ready.is_empty() {
            continue;
        }
        let r = t
            .post(
                &t.admin_token,
                &format!("/api/v1/duplicates/searches/{sid}/bulk"),
                json!({"action": "merge", "confirm": view["ready_removes"]}),
            )
            .await;
        let job = ok(r, "bulk").await;
        let job_id = job["id"].as_i64().unwrap();
        let done = t.wait_for_job(&t.admin_token, job_id).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(
            done["result"]["groups"].as_i64().unwrap(),
            ready.len() as i64
        );
        assert_eq!(done["result"]["failed"], json!([]), "{done}");

        // Everything of each merged group is reachable from its survivor.
        let mut in_merged: BTreeSet<String> = BTreeSet::new();
        for g in &ready {
            let members = ids_of(g);
            let mut union = Reach::default();
            for m in &members {
                union.union(&before[m].2);
                in_merged.insert(m.clone());
            }
            let survivor = reach(&t, &members[0]).await;
            assert_eq!(
                survivor, union,
                "seed {seed}: group {members:?} survivor vs union before"
            );
            for m in &members[1..] {
                assert_eq!(state(&t, m).await, Value::Null, "{m} was merged away");
            }
            merged_groups += 1;
        }
        // The records of no merged group are untouched.
        for id in &ids {
            if !in_merged.contains(id) {
                assert_eq!(state(&t, id).await, before[id].0, "seed {seed}: {id}");
            }
        }

        // Undo every operation, newest first: every record as it was.
        let ops = ok(
            t.get(
                &t.admin_token,
                &format!("/api/v1/duplicates/operations?job={job_id}"),
            )
            .await,
            "operations",
        )
        .await;
        let ops = ops.as_array().unwrap();
        assert_eq!(ops.len(), ready.len());
        for op in ops {
            let r = t
                .post(
                    &t.admin_token,
                    &format!("/api/v1/duplicates/operations/{}/undo", op["id"]),
                    json!({}),
                )
                .await;
            ok(r, "undo").await;
        }
        for id in &ids {
            let (was, classifiers, _) = &before[id];
            assert_eq!(&state(&t, id).await, was, "seed {seed}: {id} after undo");
            assert_eq!(
                &classifier_detail(&t, id).await,
                classifiers,
                "seed {seed}: classifier entries of {id} after undo"
            );
        }
    }
    eprintln!("{merged_groups} groups merged and undone");
    assert!(merged_groups >= 10, "only {merged_groups} groups merged");
}

/// One race of a merge of (a, b) against an edit of `edited` (a or b), each starting after
/// its delay. Answers (merge status, edit status).
async fn race(
    t: &TestApp,
    (a, b): (&str, &str),
    (edited, if_match): (&str, Option<i64>),
    i: usize,
    (merge_delay_us, edit_delay_us): (u64, u64),
) -> (u16, u16) {
    let merge = {
        let (client, url, token) = (
            t.client.clone(),
            t.url("/api/v1/duplicates/merge"),
            t.admin_token.clone(),
        );
        let body = json!({"records": [a, b]});
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_micros(merge_delay_us)).await;
            client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let edit = {
        let (client, url, token) = (
            t.client.clone(),
            t.url(&format!("/api/v1/records/{edited}")),
            t.admin_token.clone(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_micros(edit_delay_us)).await;
            let mut req = client.patch(url).bearer_auth(token);
            if let Some(v) = if_match {
                req = req.header("If-Match", format!("\"{v}\""));
            }
            req.json(&json!({"city": format!("Edit {i}"), "tags": [format!("edit-{i}")]}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    (merge.await.unwrap(), edit.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_merge_racing_an_edit_of_one_of_its_records_never_loses_the_edit() {
    let t = spawn_app().await;
    let mut rng = StdRng::seed_from_u64(99);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..60 {
        let phone = format!("600 300 {:03}", i);
        let a = t
            .create(
                json!({"kind": "person", "first_name": "A", "city": "A-city", "tags": ["a"],
                           "phones": [phone]}),
            )
            .await;
        let b = t
            .create(
                json!({"kind": "person", "first_name": "B", "city": "B-city", "tags": ["b"],
                           "phones": [phone]}),
            )
            .await;
        // a is older: it survives; the edit goes to the survivor or to the removed record,
        // half of the time with the version the editor saw (as the card sends it)
        let edit_removed = i % 2 == 1;
        let (edited, version) = if edit_removed {
            (id_of(&b), b["version"].as_i64())
        } else {
            (id_of(&a), a["version"].as_i64())
        };
        let (a, b) = (id_of(&a), id_of(&b));
        let if_match = version.filter(|_| rng.random_bool(0.5));
        let delays = (rng.random_range(0..3_000), rng.random_range(0..3_000));
        let (merge, edit) = race(&t, (&a, &b), (&edited, if_match), i, delays).await;
        assert!(
            merge == 201 || merge == 409,
            "the merge answered {merge} (race {i})"
        );
        assert!(
            [200, 404, 409, 412].contains(&edit),
            "the edit answered {edit} (race {i})"
        );
        let sa = state(&t, &a).await;
        let sb = state(&t, &b).await;
        let city = format!("Edit {i}");
        let tag = json!(format!("edit-{i}"));
        if merge == 201 {
            assert!(sb.is_null(), "race {i}: b merged away");
        }
        let now_edited = state(&t, &edited).await;
        match edit {
            200 => {
                // Accepted: its values must be visible, on the edited record when it still
                // exists, else on the record it was merged into.
                let holder = if now_edited.is_null() {
                    &sa
                } else {
                    &now_edited
                };
                assert_eq!(
                    holder["city"],
                    city,
                    "race {i} (edit of the {} record, merge {merge}): the accepted edit is lost: {holder}",
                    if edit_removed { "removed" } else { "surviving" }
                );
                assert!(
                    holder["tags"].as_array().unwrap().contains(&tag),
                    "race {i}: the accepted edit's tag is lost: {holder}"
                );
            }
            // Refused as gone: the record really is gone.
            404 => assert!(now_edited.is_null(), "race {i}: 404 for an existing record"),
            // Refused visibly (a conflict): the caller knows the edit did not happen.
            _ => {}
        }
        *outcomes
            .entry(format!(
                "{} edit{} {edit}, merge {merge}",
                if edit_removed { "removed" } else { "survivor" },
                if if_match.is_some() {
                    " with If-Match"
                } else {
                    ""
                }
            ))
            .or_default() += 1;
    }
    eprintln!("race outcomes: {outcomes:?}");
}
