//! A small WebDriver client (the W3C protocol is JSON over HTTP) driving Debian's Chromium
//! through chromedriver, for the browser tests.

use reqwest::Client;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Driver {
    child: Child,
    url: String,
    http: Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

pub fn chromium() -> Option<String> {
    find_program(&[
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ])
}

impl Driver {
    /// Starts chromedriver on a free port; None (with a note) when Chromium or chromedriver
    /// is not installed.
    pub async fn start() -> Option<Driver> {
        let (Some(driver), Some(_)) = (find_program(&["/usr/bin/chromedriver"]), chromium()) else {
            eprintln!(
                "browser tests skipped: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let d = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(r) = d.http.get(format!("{}/status", d.url)).send().await
                && r.status().is_success()
            {
                return Some(d);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    pub async fn browser(&self, base: &str) -> Browser {
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium().unwrap(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,768",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--disable-default-apps", "--lang=en-US"]}}}});
        let v: Value = self
            .http
            .post(format!("{}/session", self.url))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sid = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Browser {
            http: self.http.clone(),
            session: format!("{}/session/{sid}", self.url),
            base: base.to_string(),
        }
    }
}

pub struct Browser {
    http: Client,
    session: String,
    base: String,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn go(&self, path: &str) {
        self.post("/url", json!({"url": format!("{}{path}", self.base)}))
            .await;
    }

    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await;
    }

    pub async fn url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The element matching `css`, waiting up to 5 s for it to appear.
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let v = self
                .post("/element", json!({"using": "css selector", "value": css}))
                .await;
            // A missing element answers `{"error": …}`: only the W3C element key is an ID.
            if let Some(id) = v
                .get("element-6066-11e4-a52e-4f735466cecf")
                .and_then(Value::as_str)
            {
                return id.to_string();
            }
            assert!(Instant::now() < deadline, "no element {css}: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn count(&self, css: &str) -> usize {
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .await
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/click"), json!({})).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/value"), json!({"text": text}))
            .await;
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.post(&format!("/element/{e}/clear"), json!({})).await;
        self.post(&format!("/element/{e}/value"), json!({"text": text}))
            .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.get(&format!("/element/{e}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn value(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.get(&format!("/element/{e}/property/value"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn attr(&self, css: &str, name: &str) -> String {
        let e = self.find(css).await;
        self.get(&format!("/element/{e}/attribute/{name}"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (up to 10 s) until the page's URL contains `wanted`; answers the URL.
    pub async fn wait_url(&self, wanted: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let u = self.url().await;
            if u.contains(wanted) {
                return u;
            }
            assert!(
                Instant::now() < deadline,
                "the URL never held {wanted:?}, last {u:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of `css` contains `wanted`.
    pub async fn wait_text(&self, css: &str, wanted: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let t = if self.count(css).await > 0 {
                self.text(css).await
            } else {
                String::new()
            };
            if t.contains(wanted) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {wanted:?}, last {t:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// The text of an open dialog (confirm), or None.
    pub async fn dialog(&self) -> Option<String> {
        self.get("/alert/text").await.as_str().map(str::to_string)
    }

    pub async fn dismiss_dialog(&self) {
        self.post("/alert/dismiss", json!({})).await;
    }

    pub async fn screenshot(&self, name: &str) {
        use std::io::Write;
        let b64 = self
            .get("/screenshot")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = decode_base64(&b64);
        std::fs::File::create(dir.join(format!("{name}.png")))
            .unwrap()
            .write_all(&bytes)
            .unwrap();
    }

    pub async fn log_in(&self, username: &str, password: &str) {
        self.go("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("button[type=submit]").await;
        self.find("header.top").await;
    }

    pub async fn quit(self) {
        self.call(reqwest::Method::DELETE, "", None).await;
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let Some(v) = T.iter().position(|t| *t == c) else {
            continue;
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// Waits (up to 20 s) until `script` returns true in the page.
pub async fn until(b: &Browser, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while b.execute(script).await != json!(true) {
        assert!(Instant::now() < deadline, "never true: {script}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page has loaded and htmx is there.
pub async fn scripts_ready(b: &Browser) {
    until(
        b,
        "return document.readyState === 'complete' && !!window.htmx",
    )
    .await;
}
