//! The UI's record list (paged by number, searched by phone, e-mail, ID or last-name
//! prefix) and what a card's tabs list.

use kartoteka_domain::filter::Cond;
use kartoteka_domain::ids::PublicId;
use kartoteka_domain::phone::normalize_phone_query;
use kartoteka_store::cards::{self, Card};
use kartoteka_store::list;
use kartoteka_store::records as store;

use crate::records::parse_sort;
use crate::views::RecordView;
use crate::{Actor, App, AppResult};

/// Most records a phone or e-mail search takes into an export or bulk action (the list
/// shows 200).
const CONTACT_LIMIT: i64 = 10_000;

/// One page of the UI's record list.
pub struct Browse {
    pub items: Vec<RecordView>,
    pub total: i64,
}

impl App {
    /// The record list as the UI pages it: by page number, optionally searched by a phone
    /// (any format), an e-mail, a record ID or the beginning of a last name.
    pub async fn browse(
        &self,
        actor: &Actor,
        q: &str,
        conds: &[Cond],
        sort: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> AppResult<Browse> {
        let (sort, descending) = parse_sort(sort)?;
        let w = self.scope(actor, conds)?;
        let agent = w.agent;
        let q = q.trim();
        let (cards, total) = match self.contact_query(q) {
            Some((phone, email)) => {
                let found = self
                    .db
                    .cards_by_contact(phone.as_deref(), email.as_deref(), 200)
                    .await?;
                let found = self.reachable(agent, found).await?;
                let n = found.len() as i64;
                (found, n)
            }
            None => {
                let mut cards = Vec::new();
                if page <= 1 {
                    cards = self.card_with_id(agent, q).await?;
                }
                let key = (!q.is_empty()).then(|| kartoteka_domain::text::sort_key(q));
                let offset = (page.max(1) - 1) * per_page;
                let planned =
                    list::plan(&self.db.pool, w, sort, descending, key.as_deref(), true).await?;
                let ids = match &planned.small {
                    Some(all) => all
                        .iter()
                        .skip(offset as usize)
                        .take(per_page as usize)
                        .map(|(id, _)| *id)
                        .collect(),
                    None => {
                        let browse = list::Browse {
                            prefix_key: key.as_deref(),
                            sort,
                            descending,
                            offset,
                            limit: per_page,
                        };
                        list::browse(&self.db.pool, &browse, &planned.w).await?
                    }
                };
                let total = planned.total.unwrap_or(0) + cards.len() as i64;
                for c in cards::by_ids(&self.db.pool, self.db.backend, &ids).await? {
                    if !cards.iter().any(|x: &Card| x.id == c.id) {
                        cards.push(c);
                    }
                }
                (cards, total)
            }
        };
        Ok(Browse {
            items: cards.iter().map(|c| RecordView::new(c, actor)).collect(),
            total,
        })
    }
}

impl App {
    /// The phone (E.164) or e-mail a search-box text looks for, when it is one.
    fn contact_query(&self, q: &str) -> Option<(Option<String>, Option<String>)> {
        let digits = q.chars().filter(char::is_ascii_digit).count();
        if q.contains('@') {
            Some((None, Some(q.to_lowercase())))
        } else if digits >= 6 && !q.chars().any(char::is_alphabetic) {
            normalize_phone_query(q, &self.settings.default_region).map(|p| (Some(p), None))
        } else {
            None
        }
    }

    /// Every record the list finds for the search-box text `q` within `conds`, as
    /// [`App::browse`] pages them (public and internal IDs): an export or a bulk action
    /// started from a searched list takes what the list shows.
    pub async fn search_ids(
        &self,
        actor: &Actor,
        q: &str,
        conds: &[Cond],
    ) -> AppResult<Vec<(String, i64)>> {
        let q = q.trim();
        let w = self.scope(actor, conds)?;
        let named = |cards: Vec<Card>| cards.into_iter().map(|c| (c.public_id, c.id));
        if let Some((phone, email)) = self.contact_query(q) {
            let found = self
                .db
                .cards_by_contact(phone.as_deref(), email.as_deref(), CONTACT_LIMIT)
                .await?;
            return Ok(named(self.reachable(w.agent, found).await?).collect());
        }
        let mut out: Vec<(String, i64)> = named(self.card_with_id(w.agent, q).await?).collect();
        let key = (!q.is_empty()).then(|| kartoteka_domain::text::sort_key(q));
        let planned = list::plan(
            &self.db.pool,
            w,
            list::SortKey::Id,
            false,
            key.as_deref(),
            false,
        )
        .await?;
        let w = kartoteka_store::filter::Where {
            walk: false,
            ..planned.w
        };
        for found in list::all_ids(&self.db.pool, &w, key.as_deref()).await? {
            if !out.iter().any(|(_, id)| *id == found.1) {
                out.push(found);
            }
        }
        Ok(out)
    }

    /// The record whose public ID the search text is, when the agent (if any) reaches it.
    async fn card_with_id(&self, agent: Option<i64>, q: &str) -> AppResult<Vec<Card>> {
        if q.len() == 8
            && let Ok(id) = PublicId::parse(q)
            && let Ok(card) = self.db.card(id.as_str()).await
        {
            return self.reachable(agent, vec![card]).await;
        }
        Ok(Vec::new())
    }

    /// The cards among `cards` that the agent (if any) reaches.
    async fn reachable(&self, agent: Option<i64>, cards: Vec<Card>) -> AppResult<Vec<Card>> {
        let Some(user) = agent else { return Ok(cards) };
        let mut conn = self.db.pool.acquire().await?;
        let mut out = Vec::new();
        for c in cards {
            if store::agent_reaches(&mut conn, c.id, user).await? {
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// What the card's tabs list.
pub struct Links {
    pub cases: Vec<kartoteka_store::cards::CaseLine>,
    pub related: Vec<kartoteka_store::cards::RelatedLine>,
}

impl App {
    /// The record's cases and related records (organization, people, relations).
    pub async fn record_links(&self, actor: &Actor, public_id: &str) -> AppResult<Links> {
        let card = self.load_card(actor, public_id).await?;
        Ok(Links {
            cases: cards::cases_of(&self.db.pool, card.id).await?,
            related: cards::related_of(&self.db.pool, card.id, 200).await?,
        })
    }
}
