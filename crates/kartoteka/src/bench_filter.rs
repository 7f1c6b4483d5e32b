//! `kartoteka bench filter`: the first page (50 rows, sorted) plus the total count of
//! filters over HTTP, beside the same statements run on the engine alone, and a bulk add
//! of a large filter's records to a campaign.

use std::time::{Duration, Instant};

use kartoteka_app::App;
use kartoteka_app::auth::system_actor;
use kartoteka_domain::filter::Filter;
use kartoteka_store::Backend;
use kartoteka_store::filter::Where;
use kartoteka_store::list::{self, ListQuery, SortKey};
use kartoteka_store::params::Sql;
use serde_json::{Value, json};
use sqlx::Row;

use crate::bench::{bench_database, percentile};
use crate::config::Config;
use crate::startup::Application;

async fn one<T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin>(
    app: &App,
    sql: &str,
) -> anyhow::Result<Option<T>> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_optional(&app.db.pool)
        .await?
        .map(|r| r.try_get::<T, _>(0))
        .transpose()?)
}

/// The criteria measured, with values taken from the base.
async fn queries(app: &App) -> anyhow::Result<Vec<(String, Value)>> {
    let text = |v: Option<String>| v.unwrap_or_default();
    let phone = text(one::<String>(app, "SELECT number FROM phones WHERE id = 777").await?);
    let email = text(one::<String>(app, "SELECT address FROM emails WHERE id = 777").await?);
    let id = text(one::<String>(app, "SELECT public_id FROM records WHERE id = 4242").await?);
    let mut out: Vec<(String, Value)> = Vec::new();
    let c = |f: &str, op: &str, v: Value| json!({"field": f, "op": op, "value": v});
    out.push((
        "phone = (indexed)".into(),
        json!([c("phone", "eq", json!(phone))]),
    ));
    out.push((
        "e-mail = (indexed)".into(),
        json!([c("email", "eq", json!(email))]),
    ));
    out.push(("record ID =".into(), json!([c("id", "eq", json!(id))])));
    for f in ["nip", "pesel", "regon", "external_id"] {
        let v = one::<String>(
            app,
            &format!(
                "SELECT {f} FROM records WHERE {f} IS NOT NULL AND id > 5000 ORDER BY id LIMIT 1"
            ),
        )
        .await?;
        if let Some(v) = v {
            out.push((format!("{f} ="), json!([c(f, "eq", json!(v))])));
        }
    }
    let groups = |sql: &'static str| async move {
        let rows = sqlx::query(sql).fetch_all(&app.db.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
            .collect::<anyhow::Result<Vec<(i64, i64)>>>()
    };
    // The demo's campaigns (not those a bulk run of this benchmark made).
    let campaigns = groups(
        "SELECT c.campaign_id, COUNT(*) FROM cases c JOIN campaigns g ON g.id = c.campaign_id \
         WHERE g.name NOT LIKE 'Bench bulk%' GROUP BY c.campaign_id ORDER BY 2 DESC",
    )
    .await?;
    let segments = groups(
        "SELECT segment_id, COUNT(*) FROM record_segments GROUP BY segment_id ORDER BY 2 DESC",
    )
    .await?;
    if let Some((cid, n)) = campaigns.first() {
        out.push((
            format!("campaign ({n} records)"),
            json!([c("campaigns", "in", json!([cid]))]),
        ));
    }
    if campaigns.len() >= 2 {
        let ids: Vec<i64> = campaigns[..2].iter().map(|g| g.0).collect();
        let n: i64 = campaigns[..2].iter().map(|g| g.1).sum();
        out.push((
            format!("campaigns, any of 2 (~{n})"),
            json!([c("campaigns", "in", json!(ids))]),
        ));
    }
    if let Some((sid, n)) = segments.first() {
        out.push((
            format!("segment ({n} records)"),
            json!([c("segments", "in", json!([sid]))]),
        ));
    }
    let tag =
        sqlx::query("SELECT tag, COUNT(*) FROM record_tags GROUP BY tag ORDER BY 2 DESC LIMIT 1")
            .fetch_optional(&app.db.pool)
            .await?;
    if let Some(t) = tag {
        let (tag, n): (String, i64) = (t.try_get(0)?, t.try_get(1)?);
        out.push((
            format!("tag ({n} records)"),
            json!([c("tags", "in", json!([tag]))]),
        ));
    }
    let like = |f: &str, v: &str| json!([{"field": f, "op": "like", "value": v}]);
    out.push((
        "last name `Kowal%` (prefix)".into(),
        like("last_name", "Kowal%"),
    ));
    out.push((
        "last name `%ski` (suffix)".into(),
        like("last_name", "%ski"),
    ));
    out.push((
        "last name `%rzyb%` (selective infix)".into(),
        like("last_name", "%rzyb%"),
    ));
    out.push((
        "last name `%a%` (unselective infix)".into(),
        like("last_name", "%a%"),
    ));
    out.push((PAGE_ONLY.into(), like("last_name", "%a%")));
    out.push((
        "city `%lodz%` (infix, diacritics)".into(),
        like("city", "%lodz%"),
    ));
    out.push(("city `Wars%` (prefix)".into(), like("city", "Wars%")));
    out.push((
        "address `%kwiat%` (infix)".into(),
        like("address", "%kwiat%"),
    ));
    out.push((
        "custom field `tier` = Gold (dictionary)".into(),
        json!([c("custom.tier", "in", json!(["Gold"]))]),
    ));
    out.push((
        "language any of de, en (dictionary)".into(),
        json!([c("language", "in", json!(["de", "en"]))]),
    ));
    out.push((
        "created at, one month".into(),
        json!([c(
            "created_at",
            "between",
            json!(["2025-03-01", "2025-03-31"])
        )]),
    ));
    if let Some((cid, _)) = campaigns.first() {
        out.push((
            "campaign + created range + `%ska` + city".into(),
            json!([
                c("campaigns", "in", json!([cid])),
                c("created_at", "between", json!(["2024-01-01", "2025-12-31"])),
                c("last_name", "like", json!("%ska")),
                c("city", "like", json!("Warszawa"))
            ]),
        ));
        out.push((
            "campaign + attempts > 2 (same case)".into(),
            json!([
                c("campaigns", "in", json!([cid])),
                c("case.attempts", "gt", json!(2))
            ]),
        ));
    }
    Ok(out)
}

/// The row measuring a page without its count (`"count": false`).
const PAGE_ONLY: &str = "  the same, page alone (count: false)";

/// The statements the server runs for a search (count, then the page), run on the engine
/// alone: rusqlite on the file for SQLite, the bare driver for PostgreSQL.
struct Raw {
    sqlite: Option<rusqlite::Connection>,
}

impl Raw {
    /// Runs a statement; returns how many rows it gave.
    async fn run(&self, app: &App, sql: &Sql) -> anyhow::Result<usize> {
        match &self.sqlite {
            Some(conn) => {
                let mut st = conn.prepare_cached(&sql.text)?;
                let vals = kartoteka_store::bulk::values(&sql.params);
                let mut rows = st.query(rusqlite::params_from_iter(vals.iter()))?;
                let mut n = 0;
                while rows.next()?.is_some() {
                    n += 1;
                }
                Ok(n)
            }
            None => Ok(sql.query().fetch_all(&app.db.pool).await?.len()),
        }
    }
}

pub async fn filter(config: &Config, records: u64, requests: usize) -> anyhow::Result<()> {
    let (config, app) = bench_database(config, records).await?;
    let count: i64 = one::<i64>(&app, "SELECT COUNT(*) FROM records")
        .await?
        .unwrap_or(0);
    // Planner statistics (a base loaded in bulk has none yet).
    let analyzed = match app.db.backend {
        Backend::Sqlite => {
            one::<i64>(
                &app,
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
            )
            .await?
            .unwrap_or(0)
                > 0
        }
        Backend::Postgres => false,
    };
    if !analyzed {
        let t = Instant::now();
        sqlx::query("ANALYZE").execute(&app.db.pool).await?;
        println!("ANALYZE took {:.1} s", t.elapsed().as_secs_f64());
    }
    let engine = match app.db.backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let queries = queries(&app).await?;
    let admin = system_actor();
    let user = "bench-filter";
    let _ = app
        .create_user(
            &admin,
            kartoteka_app::users::NewUser {
                username: user.into(),
                display_name: None,
                email: None,
                role: "administrator".into(),
                permissions: vec![],
                password: None,
                locale: None,
                time_zone: None,
            },
        )
        .await;
    let token = app
        .create_token(&admin, user, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .secret;
    let mut server_config = config.clone();
    server_config.listen = "127.0.0.1:0".into();
    let server = Application::build(&server_config).await?;
    let base = format!("http://{}", server.addr);
    tokio::spawn(server.run());
    let client = reqwest::Client::new();
    let raw = Raw {
        sqlite: match &app.db.sqlite_path {
            Some(p) => Some(rusqlite::Connection::open(p)?),
            None => None,
        },
    };
    println!(
        "bench filter: {count} records, {engine}; first page (50 rows, sorted by last name) + total count; \
         {requests} requests each, one client"
    );
    println!(
        "  {:<44} {:>8} {:>10} {:>10} {:>10} {:>10} {:>6}",
        "criterion", "found", "HTTP p50", "HTTP p95", "raw p50", "raw p95", "ratio"
    );
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    for (name, all) in &queries {
        let page_only = name == PAGE_ONLY;
        let body = json!({"filter": {"all": all}, "limit": 50, "count": !page_only});
        let mut http = Vec::new();
        let mut found = 0;
        for i in 0..requests + 2 {
            let t = Instant::now();
            let r = client
                .post(format!("{base}/api/v1/records/search"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "{name}: HTTP {}", r.status());
            let page: Value = r.json().await?;
            if i >= 2 {
                http.push(t.elapsed());
            }
            found = page["total"]
                .as_i64()
                .unwrap_or(page["items"].as_array().map_or(0, |a| a.len() as i64));
        }
        // The same statements on the engine alone.
        let filter: Filter = serde_json::from_value(json!({ "all": all }))?;
        let conds = app
            .check_filter(&filter)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The plan the server makes (its capped estimates are not timed here), then the
        // statements it runs: a small result read whole; else the count and the page.
        let w = Where::new(&conds, None, Some(1), app.db.backend);
        let planned = list::plan(&app.db.pool, w, SortKey::Name, false, None, !page_only).await?;
        let w = planned.w;
        let q = ListQuery {
            sort: SortKey::Name,
            descending: false,
            after: None,
            limit: 50,
        };
        let sqlite = app.db.backend == Backend::Sqlite && !conds.is_empty();
        let mut rawt = Vec::new();
        for i in 0..requests + 2 {
            let t = Instant::now();
            let small = sqlite
                && raw
                    .run(
                        &app,
                        &list::small_sql(&Where { walk: false, ..w }, SortKey::Name, None),
                    )
                    .await? as i64
                    <= list::SMALL;
            if !small {
                if !page_only {
                    raw.run(&app, &list::count_sql(&w)).await?;
                }
                let n = raw.run(&app, &list::page_sql(&q, &w)?).await?;
                if w.walk && n <= 50 {
                    let w = Where { walk: false, ..w };
                    raw.run(&app, &list::page_sql(&q, &w)?).await?;
                }
            }
            if i >= 2 {
                rawt.push(t.elapsed());
            }
        }
        let (h50, h95) = (percentile(&mut http, 0.5), percentile(&mut http, 0.95));
        let (r50, r95) = (percentile(&mut rawt, 0.5), percentile(&mut rawt, 0.95));
        println!(
            "  {name:<44} {found:>8} {:>10} {:>10} {:>10} {:>10} {:>5.1}×",
            ms(h50),
            ms(h95),
            ms(r50),
            ms(r95),
            h50.as_secs_f64() / r50.as_secs_f64().max(1e-9)
        );
    }
    // A bulk add of a large filter's records to a new campaign, through the job system.
    let bulk_filter = json!({"all": [{"field": "created_at", "op": "between",
        "value": [kartoteka_domain::time::to_rfc3339(kartoteka_domain::time::now_ms() - 219 * 86_400_000), kartoteka_domain::time::to_rfc3339(kartoteka_domain::time::now_ms())]}]});
    let name = format!("Bench bulk {}", kartoteka_domain::time::now_ms());
    let campaign: Value = client
        .post(format!("{base}/api/v1/campaigns"))
        .bearer_auth(&token)
        .json(&json!({ "name": name }))
        .send()
        .await?
        .json()
        .await?;
    let t = Instant::now();
    let job: Value = client
        .post(format!("{base}/api/v1/records/bulk/membership"))
        .bearer_auth(&token)
        .json(&json!({"group_kind": "campaign", "group": campaign["id"], "action": "add", "filter": bulk_filter}))
        .send()
        .await?
        .json()
        .await?;
    let submitted = t.elapsed();
    let done = loop {
        let j: Value = client
            .get(format!("{base}/api/v1/jobs/{}", job["id"]))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if ["done", "failed", "cancelled"].contains(&j["state"].as_str().unwrap_or("")) {
            break j;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "  bulk: add the {} records created in the last 219 days to a new campaign: {:.2} s \
         (filter resolved and job queued in {:.2} s; job {}: {} changed)",
        done["total"],
        t.elapsed().as_secs_f64(),
        submitted.as_secs_f64(),
        done["state"],
        done["result"]["changed"]
    );
    // The benchmark's base stays as the demo made it.
    client
        .delete(format!(
            "{base}/api/v1/campaigns/{}?confirm={}",
            campaign["id"], done["result"]["changed"]
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
