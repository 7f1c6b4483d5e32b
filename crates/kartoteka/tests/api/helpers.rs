use kartoteka::config::{Config, Secret};
use kartoteka::startup::Application;
use kartoteka_app::App;
use kartoteka_app::auth::system_actor;
use kartoteka_app::users::NewUser;
use reqwest::redirect::Policy;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-password-123";

pub struct TestApp {
    pub base: String,
    pub app: App,
    pub client: Client,
    pub admin_token: String,
    _dir: tempfile::TempDir,
}

/// A fresh database URL: a new SQLite file, or a new PostgreSQL database.
async fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("KARTOTEKA_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => {
            sqlx::any::install_default_drivers();
            let name = format!(
                "kt_test_{}",
                kartoteka_app::auth::random_secret()[..16].to_lowercase()
            );
            let pool = sqlx::AnyPool::connect(&server)
                .await
                .expect("PostgreSQL answers");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
            let (base, _) = server.rsplit_once('/').expect("a URL with a database name");
            format!("{base}/{name}")
        }
        _ => format!("sqlite:{}", dir.join("test.db").display()),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with the configuration changed first (e.g. a tiny upload limit).
pub async fn spawn_app_with(change: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(Secret(database_url(dir.path()).await)),
        admin_password: Some(Secret(ADMIN_PASSWORD.into())),
        ..Config::default()
    };
    change(&mut config);
    let server = Application::build(&config).await.unwrap();
    let base = format!("http://{}", server.addr);
    let app = server.app.clone();
    tokio::spawn(server.run());
    let admin_token = app
        .create_token(&system_actor(), "admin", "tests")
        .await
        .unwrap()
        .secret;
    TestApp {
        base,
        app,
        client: Client::new(),
        admin_token,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// Posts raw bytes with a content type (file uploads).
    pub async fn post_bytes(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.call(token, Method::GET, path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.call(token, Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Response {
        self.call(token, Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.call(token, Method::DELETE, path, None).await
    }

    /// Creates a record as admin and returns its JSON.
    pub async fn create(&self, body: Value) -> Value {
        let r = self.post(&self.admin_token, "/api/v1/records", body).await;
        let status = r.status();
        let json: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{json}");
        json
    }

    /// Creates a user with a role and permissions; returns an API token acting as them.
    pub async fn user_token(&self, username: &str, role: &str, permissions: &[&str]) -> String {
        self.app
            .create_user(
                &system_actor(),
                NewUser {
                    username: username.into(),
                    display_name: None,
                    email: None,
                    role: role.into(),
                    permissions: permissions.iter().map(|p| p.to_string()).collect(),
                    password: Some("a-long-password".into()),
                    locale: None,
                    time_zone: None,
                },
            )
            .await
            .unwrap();
        self.app
            .create_token(&system_actor(), username, "tests")
            .await
            .unwrap()
            .secret
    }

    /// Puts a record into a campaign the agent works in (the campaigns issue adds the API).
    pub async fn give_agent_the_record(&self, agent: &str, record_id: &str) {
        let db = &self.app.db.pool;
        let now = kartoteka_domain::time::now_ms();
        sqlx::query("INSERT INTO campaigns (name, created_at) VALUES ($1, $2)")
            .bind(format!("Campaign of {agent} {record_id}"))
            .bind(now)
            .execute(db)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO campaign_agents (campaign_id, user_id) SELECT c.id, u.id FROM campaigns c, users u \
             WHERE c.name = $1 AND u.username = $2",
        )
        .bind(format!("Campaign of {agent} {record_id}"))
        .bind(agent)
        .execute(db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO cases (record_id, campaign_id, created_at) SELECT r.id, c.id, $1 FROM records r, campaigns c \
             WHERE r.public_id = $2 AND c.name = $3",
        )
        .bind(now)
        .bind(record_id)
        .bind(format!("Campaign of {agent} {record_id}"))
        .execute(db)
        .await
        .unwrap();
    }
}

pub async fn problem(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    r.json().await.unwrap()
}

/// The `(field, code)` pairs of a validation problem.
pub fn field_errors(p: &Value) -> Vec<(String, String)> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn person() -> Value {
    json!({"kind": "person", "first_name": "Anna", "last_name": "Kowalska",
           "phones": ["600 700 800"], "emails": ["anna@example.pl"]})
}

/// A browser-like client logged in as `username`, with the page's CSRF token.
pub async fn browser(t: &TestApp, username: &str, password: &str) -> (Client, String) {
    let c = cookie_client();
    let r = c
        .post(t.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("next", "/records"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "log-in redirects");
    assert_eq!(r.headers()["location"], "/records");
    let page = c
        .get(t.url("/records"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    (c, csrf)
}

pub fn hidden(html: &str, name: &str) -> String {
    let raw = html
        .split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    raw.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// A client that keeps cookies and does not follow redirects, as the UI tests need.
pub fn cookie_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// Polls a job until it ends (done, failed or cancelled); returns its JSON.
    pub async fn wait_for_job(&self, token: &str, job: i64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let j: Value = self
                .get(token, &format!("/api/v1/jobs/{job}"))
                .await
                .json()
                .await
                .unwrap();
            if ["done", "failed", "cancelled"].contains(&j["state"].as_str().unwrap()) {
                return j;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "job {job} did not finish: {j}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
