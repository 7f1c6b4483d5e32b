//! Configuration in layers: defaults, a TOML file (`--config`), `KARTOTEKA_*` environment
//! variables, then command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, Default, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

/// Environment values that look like numbers reach us as numbers: a secret takes them as text.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
        }
        d.deserialize_any(Text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    /// Address to serve on.
    pub listen: String,
    /// Folder of the SQLite database (and, later, uploads and exports).
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://…`; default `sqlite:<data_dir>/kartoteka.db`.
    pub database_url: Option<Secret>,
    /// Password for the first administrator `admin` (else one is generated and printed once).
    pub admin_password: Option<Secret>,
    /// Region for phone numbers without a country code.
    pub default_region: String,
    /// Zone for dates typed without a time.
    pub time_zone: String,
    pub session_ttl_secs: i64,
    pub max_connections: u32,
    /// The largest file an import upload takes, in megabytes.
    pub upload_limit_mb: u64,
    /// How long exports stay in the downloads area, in hours.
    pub download_ttl_hours: i64,
    /// How long merges and duplicate deletes can be undone, in days.
    pub undo_window_days: i64,
    /// How long a duplicate search's groups are kept after it ran, in days.
    pub duplicate_search_days: i64,
    /// Duplicate groups larger than this are left for manual resolution.
    pub duplicate_max_group: usize,
    /// Phones and e-mails that alone never make a group bulk-mergeable.
    pub duplicate_exclusions: Vec<String>,
    /// Imports of at least this many rows build their indexes at the end instead of
    /// keeping them live.
    pub import_defer_rows: i64,
    /// Bulk merges and deletes removing at least this many records (and 1/20 of the base)
    /// build the list's filter indexes at the end instead of keeping them live.
    pub duplicate_defer_removes: i64,
    /// Groups in a bulk merge's or delete's first transaction; later ones take as many as
    /// fill about 1.5 s.
    pub duplicate_first_chunk: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            admin_password: None,
            default_region: "PL".into(),
            time_zone: "Europe/Warsaw".into(),
            session_ttl_secs: 8 * 3600,
            max_connections: 8,
            upload_limit_mb: 1024,
            download_ttl_hours: 168,
            undo_window_days: 30,
            duplicate_search_days: 30,
            duplicate_max_group: 10,
            duplicate_exclusions: Vec::new(),
            import_defer_rows: kartoteka_app::DEFAULT_IMPORT_DEFER_ROWS,
            duplicate_defer_removes: kartoteka_app::DEFAULT_DUPLICATE_DEFER_REMOVES,
            duplicate_first_chunk: kartoteka_app::DEFAULT_DUPLICATE_FIRST_CHUNK,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|u| redact_url(&u.0)),
            )
            .field("admin_password", &self.admin_password)
            .field("default_region", &self.default_region)
            .field("time_zone", &self.time_zone)
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("max_connections", &self.max_connections)
            .field("upload_limit_mb", &self.upload_limit_mb)
            .field("download_ttl_hours", &self.download_ttl_hours)
            .field("undo_window_days", &self.undo_window_days)
            .field("duplicate_search_days", &self.duplicate_search_days)
            .field("duplicate_max_group", &self.duplicate_max_group)
            .field("duplicate_exclusions", &self.duplicate_exclusions)
            .field("import_defer_rows", &self.import_defer_rows)
            .field("duplicate_defer_removes", &self.duplicate_defer_removes)
            .field("duplicate_first_chunk", &self.duplicate_first_chunk)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Flags that override every other layer.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                anyhow::bail!("the configuration file {} does not exist", f.display());
            }
            fig = fig.merge(Toml::file(f));
        }
        fig = fig
            .merge(Env::prefixed("KARTOTEKA_").ignore(&["test_postgres_url"]))
            .merge(Serialized::defaults(overrides));
        let config: Config = fig.extract()?;
        config
            .time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| anyhow::anyhow!("time_zone: unknown zone {}", config.time_zone))?;
        kartoteka_domain::phone::parse_region(&config.default_region)
            .map_err(|e| anyhow::anyhow!("default_region: {}", e.message))?;
        Ok(config)
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.0.clone(),
            None => format!("sqlite:{}", self.data_dir.join("kartoteka.db").display()),
        }
    }

    pub fn settings(&self) -> kartoteka_app::Settings {
        kartoteka_app::Settings {
            default_region: self.default_region.to_uppercase(),
            zone: self
                .time_zone
                .parse::<chrono_tz::Tz>()
                .unwrap_or(chrono_tz::Europe::Warsaw),
            session_ttl_secs: self.session_ttl_secs,
            files_dir: self.data_dir.clone(),
            upload_limit: self.upload_limit_mb.saturating_mul(1 << 20),
            download_ttl_ms: self.download_ttl_hours.saturating_mul(3_600_000),
            undo_window_ms: self.undo_window_days.saturating_mul(86_400_000),
            search_keep_ms: self.duplicate_search_days.saturating_mul(86_400_000),
            duplicate_max_group: self.duplicate_max_group,
            duplicate_exclusions: self.duplicate_exclusions.clone(),
            import_defer_rows: self.import_defer_rows,
            duplicate_defer_removes: self.duplicate_defer_removes,
            duplicate_first_chunk: self.duplicate_first_chunk.max(1),
            ..kartoteka_app::Settings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]
    use super::*;

    #[test]
    fn layers_apply_in_order_defaults_file_environment_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "listen = \"0.0.0.0:9000\"\ndata_dir = \"from-file\"\ndefault_region = \"DE\"\nadmin_password = \"12345678901\"",
            )?;
            jail.set_env("KARTOTEKA_DATA_DIR", "from-env");
            jail.set_env("KARTOTEKA_DATABASE_URL", "postgres://k:pw@db/k");
            let flags = Overrides {
                listen: Some("127.0.0.1:1".into()),
                ..Overrides::default()
            };
            let c = Config::load(Some(Path::new("k.toml")), &flags).expect("loads");
            assert_eq!(c.listen, "127.0.0.1:1", "flags win");
            assert_eq!(
                c.data_dir,
                PathBuf::from("from-env"),
                "environment beats the file"
            );
            assert_eq!(c.default_region, "DE", "the file beats defaults");
            assert_eq!(c.time_zone, "Europe/Warsaw", "defaults fill the rest");
            assert_eq!(
                c.admin_password,
                Some(Secret("12345678901".into())),
                "digits stay text"
            );
            assert_eq!(c.database_url(), "postgres://k:pw@db/k");
            jail.set_env("KARTOTEKA_ADMIN_PASSWORD", "98765432101");
            let c = Config::load(None, &Overrides::default()).expect("loads");
            assert_eq!(
                c.admin_password,
                Some(Secret("98765432101".into())),
                "a numeric password stays text"
            );
            jail.set_env("KARTOTEKA_DEFAULT_REGION", "XX");
            assert!(
                Config::load(None, &Overrides::default()).is_err(),
                "an unknown region is refused"
            );
            Ok(())
        });
    }

    #[test]
    fn the_default_database_is_a_sqlite_file_in_the_data_folder() {
        let c = Config {
            data_dir: PathBuf::from("d"),
            ..Config::default()
        };
        assert_eq!(c.database_url(), "sqlite:d/kartoteka.db");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = Config {
            database_url: Some(Secret("postgres://k:hunter2@localhost/k".into())),
            admin_password: Some(Secret("hunter3".into())),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("hunter3"),
            "{shown}"
        );
        assert!(shown.contains("postgres://k:***@localhost/k"));
    }
}
