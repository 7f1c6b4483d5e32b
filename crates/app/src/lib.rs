//! Kartoteka's use cases: authorization, transactions, audit and events. Knows nothing
//! about HTTP; the JSON API and the web UI both call it.

pub mod audit;
pub mod auth;
pub mod browse;
pub mod cases;
mod deferred;
pub mod dictionaries;
pub mod duplicates;
pub mod error;
pub mod events;
pub mod exports;
pub mod fields;
pub mod groups;
pub mod imports;
pub mod jobs;
pub mod presence;
pub mod records;
pub mod saved_views;
pub mod search;
pub mod settings;
pub mod users;
pub mod views;

pub use error::{AppError, AppResult};
pub use kartoteka_domain::access::Actor;

use kartoteka_store::Db;
use std::sync::Arc;

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Region for phone numbers typed without a country code.
    pub default_region: String,
    /// Zone for dates typed without a time or zone.
    pub zone: chrono_tz::Tz,
    pub session_ttl_secs: i64,
    /// Failed log-ins within `login_window_secs` before the name is throttled.
    pub login_max_failures: i64,
    pub login_window_secs: i64,
    /// Where uploaded imports and files to download are kept (`uploads/`, `downloads/`).
    pub files_dir: std::path::PathBuf,
    /// The largest file an upload takes, in bytes.
    pub upload_limit: u64,
    /// How long an export (or a failed-rows file) stays downloadable, in milliseconds.
    pub download_ttl_ms: i64,
    /// How long a merge or duplicate delete can be undone, in milliseconds; its snapshots
    /// are purged after.
    pub undo_window_ms: i64,
    /// How long a duplicate search's groups are kept after it finished, in milliseconds
    /// (a names search at 1M stores ~250k groups, ~60 MB).
    pub search_keep_ms: i64,
    /// Duplicate groups larger than this are left out of bulk actions.
    pub duplicate_max_group: usize,
    /// Phones and e-mails that never tie a group for bulk actions (a switchboard number,
    /// a shared office address), as typed.
    pub duplicate_exclusions: Vec<String>,
    /// Imports of at least this many rows (into an empty base, or one at most twice the
    /// file's size) build their indexes at the end instead of keeping them live.
    pub import_defer_rows: i64,
    /// A bulk merge or delete removing at least this many records (and at least 1/20 of
    /// the base) builds the list's filter indexes at its end instead of keeping them live
    /// (SQLite).
    pub duplicate_defer_removes: i64,
    /// Groups in a bulk merge's or delete's first transaction (later ones are sized by time).
    pub duplicate_first_chunk: i64,
}

/// Below ~50,000 rows, building the indexes at an import's end cost more than keeping them
/// live (20,000 rows: 1.3 s deferred, 1.0-1.1 s live; 50,000: about even).
pub const DEFAULT_IMPORT_DEFER_ROWS: i64 = 50_000;

/// At 1M records, removing 73,697 records kept the filter indexes live for ~45 s of a
/// 120 s bulk merge; building them again at the end takes ~22 s (0.7–1 s an index and
/// ANALYZE). Below ~20,000 removals the build costs more than it saves.
pub const DEFAULT_DUPLICATE_DEFER_REMOVES: i64 = 20_000;
/// Groups in a bulk merge's first transaction: ~0.3 s at 1M records (docs/decisions.md,
/// session 15).
pub const DEFAULT_DUPLICATE_FIRST_CHUNK: i64 = 200;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_region: "PL".into(),
            zone: chrono_tz::Europe::Warsaw,
            session_ttl_secs: 8 * 3600,
            login_max_failures: 5,
            login_window_secs: 300,
            files_dir: std::path::PathBuf::from("data"),
            upload_limit: 1 << 30,
            download_ttl_ms: 7 * 24 * 3600 * 1000,
            undo_window_ms: 30 * 24 * 3600 * 1000,
            search_keep_ms: 30 * 24 * 3600 * 1000,
            duplicate_max_group: kartoteka_domain::duplicates::DEFAULT_MAX_GROUP,
            duplicate_exclusions: Vec::new(),
            import_defer_rows: DEFAULT_IMPORT_DEFER_ROWS,
            duplicate_defer_removes: DEFAULT_DUPLICATE_DEFER_REMOVES,
            duplicate_first_chunk: DEFAULT_DUPLICATE_FIRST_CHUNK,
        }
    }
}

/// The application: the database, the settings and the event bus, cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub events: Arc<dyn events::EventBus>,
}

impl App {
    pub fn new(db: Db, settings: Settings) -> App {
        App {
            db,
            settings: Arc::new(settings),
            events: Arc::new(events::LocalBus::new()),
        }
    }

    /// Migrates the schema and seeds the dictionaries.
    pub async fn prepare(&self) -> AppResult<()> {
        self.db.migrate().await?;
        let mut tx = self.db.begin_write().await?;
        kartoteka_store::dictionaries::seed(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
