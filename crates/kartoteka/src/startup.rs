//! Opening the database and serving HTTP.

use anyhow::Context;
use kartoteka_app::App;
use kartoteka_store::Db;
use std::net::SocketAddr;
use tokio::net::TcpListener;

use crate::config::{Config, redact_url};

/// Connects to the configured database and brings its schema up to date.
pub async fn open(config: &Config) -> anyhow::Result<App> {
    let url = config.database_url();
    let db = Db::connect(&url, config.max_connections)
        .await
        .with_context(|| format!("connecting to {}", redact_url(&url)))?;
    let app = App::new(db, config.settings());
    app.prepare().await.context("migrating the database")?;
    Ok(app)
}

/// A server bound to its port, ready to run (port 0 picks a free one, as tests do).
pub struct Application {
    pub app: App,
    pub listener: TcpListener,
    pub addr: SocketAddr,
    /// The password generated for `admin` on this start, to print once.
    pub admin_password: Option<String>,
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Application> {
        let app = open(config).await?;
        let admin_password = app
            .ensure_admin(config.admin_password.as_ref().map(|s| s.0.as_str()))
            .await
            .map_err(|e| anyhow::anyhow!("creating the administrator: {e}"))?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        Ok(Application {
            app,
            listener,
            addr,
            admin_password,
        })
    }

    pub async fn run(self) -> anyhow::Result<()> {
        let worker = self.app.spawn_worker();
        let router = kartoteka_web::router(self.app);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        worker.abort();
        Ok(())
    }
}
