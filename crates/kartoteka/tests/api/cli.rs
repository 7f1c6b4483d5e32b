use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

fn kartoteka(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kartoteka"));
    c.env("KARTOTEKA_DATA_DIR", dir)
        .env_remove("KARTOTEKA_DATABASE_URL")
        .env("KARTOTEKA_LOG", "error");
    c
}

#[test]
fn validate_prints_one_json_object_and_exits_by_validity() {
    let dir = tempfile::tempdir().unwrap();
    let out = kartoteka(dir.path())
        .args(["validate", "nip", "PL 526-025-02-74"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"valid": true, "normalized": "5260250274", "error": null})
    );
    let out = kartoteka(dir.path())
        .args(["validate", "pesel", "44051401358"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["error"].as_str().unwrap().contains("check digit"));
    let out = kartoteka(dir.path())
        .args(["validate", "phone", "0048 600 700 800"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["normalized"], "+48600700800");
    let out = kartoteka(dir.path())
        .args(["validate", "phone", "030 1234567", "--region", "DE"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["normalized"], "+49301234567");
    let out = kartoteka(dir.path())
        .args(["validate", "regon", "12345678512347"])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn user_add_token_create_and_demo_share_the_configured_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = kartoteka(dir.path())
        .args([
            "user",
            "add",
            "ola",
            "--role",
            "manager",
            "--permissions",
            "record_base",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ola-secret-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Generated password"));

    let out = kartoteka(dir.path())
        .args(["user", "add", "jan", "--role", "agent"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Generated password"), "{text}");

    let out = kartoteka(dir.path())
        .args(["token", "create", "--user", "ola"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let token = text.lines().last().unwrap();
    assert!(token.starts_with("kt_") && !token.contains(' '), "{text}");

    let out = kartoteka(dir.path())
        .args(["demo", "--records", "300", "--seed", "7"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Added 300 demo records"));

    let out = kartoteka(dir.path())
        .args(["user", "add", "ola", "--role", "agent"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "a taken username fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("username"));

    // The server on the same folder sees the demo records through the token.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = kartoteka::config::Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            ..kartoteka::config::Config::default()
        };
        let server = kartoteka::startup::Application::build(&config)
            .await
            .unwrap();
        assert!(
            server.admin_password.is_some(),
            "demo never creates users, so serve creates admin"
        );
        let base = format!("http://{}", server.addr);
        tokio::spawn(server.run());
        let page: Value = reqwest::Client::new()
            .get(format!("{base}/api/v1/records?limit=5"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["total"], 300);
        let first = &page["items"][0];
        assert!(
            first["phones"][0]["number"]
                .as_str()
                .unwrap()
                .starts_with('+')
        );
    });
}
