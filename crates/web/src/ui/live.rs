//! Live collaboration on a card (SPEC C10) through server-sent events: who else has the
//! card open, and a notice with a refresh when someone else saves it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use kartoteka_app::events::Event;
use kartoteka_app::{Actor, App};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::i18n::Lang;
use super::{UiSession, error_page};

/// How often an open card refreshes its presence.
const HEARTBEAT: Duration = Duration::from_secs(10);

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Removes the page's presence when its stream ends (the page closed or navigated away).
struct Presence {
    app: App,
    record: String,
    key: String,
}

impl Drop for Presence {
    fn drop(&mut self) {
        let (app, record, key) = (self.app.clone(), self.record.clone(), self.key.clone());
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = app.card_closed(&record, &key).await {
                    tracing::warn!(error = %e, "presence not removed");
                }
            });
        }
    }
}

struct Live {
    app: App,
    actor: Actor,
    display_name: String,
    lang: Lang,
    rx: tokio::sync::broadcast::Receiver<Event>,
    presence: Presence,
    next_beat: Instant,
    started: bool,
}

async fn presence_html(live: &Live) -> String {
    match live
        .app
        .other_viewers(&live.actor, &live.presence.record)
        .await
    {
        Ok(names) if !names.is_empty() => format!(
            "<span class=\"presence\" role=\"status\">{} <b>{}</b></span>",
            live.lang.t("live.also_open"),
            names
                .iter()
                .map(|n| escape(n))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    }
}

fn one_line(html: String) -> String {
    html.replace('\n', " ")
}

async fn next(mut live: Live) -> Option<(Result<SseEvent, Infallible>, Live)> {
    if !live.started {
        live.started = true;
        let html = presence_html(&live).await;
        return Some((
            Ok(SseEvent::default().event("presence").data(one_line(html))),
            live,
        ));
    }
    loop {
        tokio::select! {
            ev = live.rx.recv() => match ev {
                Ok(Event::RecordUpdated { id, by, .. }) if id == live.presence.record && by != live.actor.username => {
                    let html = format!(
                        "<p class=\"notice live-notice\" role=\"status\">{} <b>{}</b>. <a class=\"button\" href=\"/records/{}\">{}</a></p>",
                        live.lang.t("live.saved_by"), escape(&by), escape(&id), live.lang.t("live.refresh")
                    );
                    return Some((Ok(SseEvent::default().event("saved").data(html)), live));
                }
                Ok(Event::RecordDeleted { id, by }) if id == live.presence.record && by != live.actor.username => {
                    let html = format!("<p class=\"alert\" role=\"alert\">{} <b>{}</b>.</p>", live.lang.t("live.deleted_by"), escape(&by));
                    return Some((Ok(SseEvent::default().event("saved").data(html)), live));
                }
                Ok(Event::Presence { id }) if id == live.presence.record => {
                    let html = presence_html(&live).await;
                    return Some((Ok(SseEvent::default().event("presence").data(one_line(html))), live));
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            },
            _ = tokio::time::sleep_until(live.next_beat) => {
                live.next_beat += HEARTBEAT;
                let (rec, key) = (live.presence.record.clone(), live.presence.key.clone());
                let _ = live.app.card_opened(&live.actor, &live.display_name, &rec, &key, false).await;
                let html = presence_html(&live).await;
                return Some((Ok(SseEvent::default().event("presence").data(one_line(html))), live));
            }
        }
    }
}

pub async fn card_events(State(app): State<App>, s: UiSession, Path(id): Path<String>) -> Response {
    let record = match app.get_record(&s.actor, &id).await {
        Ok(r) => r.id,
        Err(e) => return error_page(&s, &e),
    };
    let key = kartoteka_app::auth::random_secret()[..24].to_string();
    let rx = app.events.subscribe();
    if let Err(e) = app
        .card_opened(&s.actor, &s.display_name, &record, &key, true)
        .await
    {
        return error_page(&s, &e);
    }
    let live = Live {
        presence: Presence {
            app: app.clone(),
            record,
            key,
        },
        app,
        actor: s.actor.clone(),
        display_name: s.display_name.clone(),
        lang: s.lang,
        rx,
        next_beat: Instant::now() + HEARTBEAT,
        started: false,
    };
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<SseEvent, Infallible>> + Send>> =
        Box::pin(stream::unfold(live, next));
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
