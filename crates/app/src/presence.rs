//! Collaboration (SPEC C10): who has a card open, kept in the database so every node sees it.

use kartoteka_domain::time::now_ms;
use kartoteka_store::presence;

use crate::events::Event;
use crate::{Actor, App, AppResult};

/// A viewer counts while their page refreshed its presence within this time.
pub const FRESH_MS: i64 = 30_000;

impl App {
    /// Notes that `actor` has the card open in the page identified by `session_key`;
    /// `announce` tells the others (on opening, not on each heartbeat).
    pub async fn card_opened(
        &self,
        actor: &Actor,
        display_name: &str,
        record: &str,
        session_key: &str,
        announce: bool,
    ) -> AppResult<()> {
        presence::touch(
            &self.db.pool,
            record,
            session_key,
            actor.user_id,
            display_name,
            now_ms(),
        )
        .await?;
        if announce {
            self.events.publish(Event::Presence {
                id: record.to_string(),
            });
        }
        Ok(())
    }

    pub async fn card_closed(&self, record: &str, session_key: &str) -> AppResult<()> {
        presence::leave(&self.db.pool, record, session_key).await?;
        self.events.publish(Event::Presence {
            id: record.to_string(),
        });
        Ok(())
    }

    /// Others who have the card open (display names).
    pub async fn other_viewers(&self, actor: &Actor, record: &str) -> AppResult<Vec<String>> {
        Ok(
            presence::viewers(&self.db.pool, record, now_ms() - FRESH_MS)
                .await?
                .into_iter()
                .filter(|(user, _)| *user != actor.user_id)
                .map(|(_, name)| name)
                .collect(),
        )
    }
}
