//! The connection pool, the backend it talks to, and forward-only migrations.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};
use std::path::Path;
use std::time::Duration;

use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One database, SQLite or PostgreSQL, reached through sqlx's Any driver so that queries
/// are written once (with `$1`-style placeholders, which both engines read).
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The database file, on SQLite (bulk loads open it directly).
    pub sqlite_path: Option<std::path::PathBuf>,
    /// SQLite's fast path for hot point reads.
    pub reader: Option<std::sync::Arc<crate::fast::SqliteReader>>,
    /// The PostgreSQL URL, for connections of their own (imports' COPY).
    postgres_url: Option<Redacted>,
}

/// A URL that may hold a password: never printed.
#[derive(Clone)]
struct Redacted(String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// What only SQLite runs after `sql` (e.g. FTS5 tables and triggers).
    sqlite: &'static str,
    /// What only PostgreSQL runs after `sql` (e.g. extensions and GIN indexes).
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 2,
        name: "deferred_indexes",
        sql: include_str!("../migrations/0002_deferred_indexes.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 3,
        name: "presence",
        sql: include_str!("../migrations/0003_presence.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 4,
        name: "user_settings",
        sql: include_str!("../migrations/0004_user_settings.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 5,
        name: "campaigns_segments",
        sql: include_str!("../migrations/0005_campaigns_segments.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 6,
        name: "jobs",
        sql: include_str!("../migrations/0006_jobs.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 7,
        name: "search_keys",
        sql: include_str!("../migrations/0007_search_keys.sql"),
        sqlite: include_str!("../migrations/0007_search_keys.sqlite.sql"),
        postgres: include_str!("../migrations/0007_search_keys.postgres.sql"),
    },
    Migration {
        version: 8,
        name: "imports",
        sql: include_str!("../migrations/0008_imports.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 9,
        name: "duplicates",
        sql: include_str!("../migrations/0009_duplicates.sql"),
        sqlite: "",
        postgres: "",
    },
];

impl Db {
    /// Opens `url` (`sqlite:PATH` or `postgres://…`). SQLite files are created when missing
    /// and run in WAL mode with foreign keys on and a busy timeout.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(
                "the database URL must start with sqlite: or postgres:".into(),
            ));
        };
        let (url, sqlite_path) = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => (url.to_string(), None),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            // A ping before every use doubles the cost of short statements; broken
            // connections surface as errors and are replaced anyway.
            .test_before_acquire(false);
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                         PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
                         PRAGMA journal_size_limit = 67108864;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        if backend == Backend::Postgres {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // Filters vary widely in selectivity with their values (`%a%` against
                    // `%rzyb%`): a generic plan of a prepared statement fits none of them.
                    conn.execute("SET plan_cache_mode = force_custom_plan")
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        let reader = sqlite_path
            .as_deref()
            .map(|p| std::sync::Arc::new(crate::fast::SqliteReader::new(p)));
        Ok(Db {
            pool,
            backend,
            sqlite_path,
            reader,
            postgres_url: (backend == Backend::Postgres).then_some(Redacted(url)),
        })
    }

    /// On PostgreSQL, an import writer on a connection of its own (see `bulk::PgWriter`).
    pub async fn postgres_writer(&self) -> Result<Option<crate::bulk::PgWriter>, StoreError> {
        match &self.postgres_url {
            Some(Redacted(url)) => Ok(Some(crate::bulk::PgWriter::open(url).await?)),
            None => Ok(None),
        }
    }

    /// A connection of its own for a long job writing many chunks. On SQLite its WAL is
    /// checkpointed every ~1 GB instead of every 4 MB: a bulk job rewrites the same pages
    /// chunk after chunk, and each is copied back to the database fewer times (the bulk
    /// merge at 1M records: 119 s to 103 s at 200 MB, its commits 36 s to 27 s at 1 GB).
    /// The WAL file is not shrunk between checkpoints (`journal_size_limit` above the
    /// checkpoint size): frames then overwrite blocks the file already has, where a WAL
    /// truncated to 256 MB after each checkpoint grew again block by block, each new block
    /// allocated and zeroed by the file system (session 10: the bulk merge at 1M 134 s to
    /// 118 s, its commits 45 s to 31 s). The pool's connections shrink it to 64 MB at the
    /// next checkpoint after the job. Its page cache is 256 MB (a
    /// bulk merge rereads fewer pages). The connection is closed, not pooled, when dropped,
    /// so neither setting reaches the short requests, whose commits should stay short.
    pub async fn long_job_connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        self.own_connection(&[
            "PRAGMA wal_autocheckpoint = 250000",
            "PRAGMA journal_size_limit = 1610612736",
            "PRAGMA cache_size = -262144",
        ])
        .await
    }

    /// A pool connection that runs `pragmas` on SQLite and is closed, not pooled, when
    /// dropped, so that its settings never reach other requests.
    async fn own_connection(
        &self,
        pragmas: &[&'static str],
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Sqlite {
            conn.close_on_drop();
            for &pragma in pragmas {
                sqlx::query(pragma).execute(&mut *conn).await?;
            }
        }
        Ok(conn)
    }

    /// A connection of its own for an import. On SQLite, statement journals (the pages a
    /// multi-row statement changes, kept until the statement ends) go to a temporary file
    /// instead of memory: a chunk of 10,000 rows into a base of 1M records journals
    /// ~100 MB of index pages (session 10: with the pool's `temp_store = MEMORY` an import
    /// into a 1M base peaked at 550 MB). Closed, not pooled, when dropped.
    pub async fn import_connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        self.own_connection(&["PRAGMA temp_store = FILE"]).await
    }

    /// Ends a long job on its connection: on SQLite, copies what the job left in the WAL
    /// (up to ~1 GB) back to the database now, so that the next short request does not pay
    /// for it in its commit (an undo right after a bulk merge took 300 ms instead of 6 ms).
    pub async fn finish_long_job(
        &self,
        conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut **conn)
                .await?;
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read-modify-write inside it cannot be overtaken.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A write transaction on a connection the caller holds (a long job keeps one
    /// connection, so only its page cache grows).
    pub async fn begin_write_on<'c>(
        &self,
        conn: &'c mut sqlx::pool::PoolConnection<sqlx::Any>,
    ) -> Result<sqlx::Transaction<'c, sqlx::Any>, StoreError> {
        use sqlx::Connection;
        Ok(match self.backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => conn.begin().await?,
        })
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// `FOR UPDATE` where the backend has it (SQLite's write lock already serializes).
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Applies the migrations not applied yet, each in its own transaction.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
             name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            let pk = match self.backend {
                Backend::Sqlite => "INTEGER PRIMARY KEY",
                Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            };
            let collate_c = match self.backend {
                Backend::Sqlite => "",
                Backend::Postgres => " COLLATE \"C\"",
            };
            let extra = match self.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            let sql = format!("{}\n{extra}", m.sql)
                .replace("{{PK}}", pk)
                .replace("{{C}}", collate_c);
            let mut tx = self.begin_write().await?;
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(kartoteka_domain::time::now_ms())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "migration applied");
        }
        self.restore_deferred_indexes().await?;
        crate::search_keys::backfill(self).await
    }

    /// Builds the indexes a bulk load dropped and did not rebuild (it was interrupted).
    pub async fn restore_deferred_indexes(&self) -> Result<(), StoreError> {
        let rows = sqlx::query("SELECT name, sql FROM deferred_indexes ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        for row in rows {
            let (name, sql): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            tracing::warn!(index = %name, "rebuilding an index an interrupted bulk load dropped");
            sqlx::raw_sql(AssertSqlSafe(idempotent(&sql)))
                .execute(&self.pool)
                .await?;
            sqlx::query("DELETE FROM deferred_indexes WHERE name = $1")
                .bind(&name)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The size of the database in bytes (file size on SQLite).
    pub async fn size_bytes(&self) -> Result<i64, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database())::BIGINT",
        };
        Ok(sqlx::query(sql).fetch_one(&self.pool).await?.try_get(0)?)
    }
}

/// A deferred index's or trigger's statement made safe to run again.
pub(crate) fn idempotent(sql: &str) -> String {
    sql.replacen("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
        .replacen("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1)
}

/// Makes a `sqlite:` URL create its file (and the file's folder) when missing.
fn sqlite_url(url: &str) -> Result<(String, Option<std::path::PathBuf>), StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && !path.is_empty()
        && let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    let file = (path != ":memory:" && !path.is_empty()).then(|| std::path::PathBuf::from(path));
    Ok((format!("sqlite://{path}?{query}"), file))
}
