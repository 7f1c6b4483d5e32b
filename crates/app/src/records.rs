//! Records: create, read, update (JSON Merge Patch with If-Match), delete, list, identify.

use kartoteka_domain::Invalid;
use kartoteka_domain::access::RecordScope;
use kartoteka_domain::field::FieldDefinition;
use kartoteka_domain::ids::PublicId;
use kartoteka_domain::national::Pesel;
use kartoteka_domain::phone::normalize_phone_query;
use kartoteka_domain::record::{
    FieldError, RecordData, RecordKind, Source, WriteContext, apply_patch, diff,
};
use kartoteka_domain::time::now_ms;
use kartoteka_store::cards::{self, Card};
use kartoteka_store::list::{self, ListQuery, SortKey};
use kartoteka_store::params::Param;
use kartoteka_store::records::{self as store, RowMeta};
use kartoteka_store::{StoreError, dictionaries, fields, users};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::AnyConnection;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::ToSchema;

use crate::events::Event;
use crate::views::{IdentifyMatch, IdentifyResult, RecordPage, RecordView};
use crate::{Actor, App, AppError, AppResult};

/// The outcome of an update.
pub struct Saved {
    pub record: RecordView,
    /// The patch was applied on top of changes made since the client's version.
    pub merged: bool,
    pub changed: Vec<String>,
}

/// The outcome of a create: the record, and the other records it may duplicate.
pub struct Created {
    pub record: RecordView,
    pub warnings: Vec<DuplicateWarning>,
}

/// Most possible duplicates one create names.
pub const MAX_DUPLICATE_WARNINGS: usize = 10;

/// Another record holding a phone, e-mail, PESEL, NIP or external ID the new record has
/// (an identification lookup at creation: only the other record's ID and name).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DuplicateWarning {
    /// Always `possible_duplicate`.
    #[schema(example = "possible_duplicate")]
    pub code: String,
    /// The field holding the shared value: `phones`, `emails`, `pesel`, `nip` or
    /// `external_id`.
    #[schema(example = "phones")]
    pub field: String,
    /// The shared value, normalized (E.164, lower-cased e-mail, digits of a PESEL or NIP);
    /// a PESEL masked (`*******1234`) for agents without "see national IDs".
    #[schema(example = "+48600100200")]
    pub value: String,
    /// The record already holding it.
    pub record: RecordName,
}

/// A record named by its public ID and display name.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RecordName {
    #[schema(example = "7K3M9QXA")]
    pub id: String,
    pub display_name: String,
}

/// Sorting and paging of a list request.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    /// `last_name` (default), `created_at`, `modified_at` or `id`; `-` in front for descending.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
    /// Leave the total out (an unselective filter's count may cost a scan).
    pub no_total: bool,
}

pub(crate) struct Definitions {
    pub(crate) custom: Vec<FieldDefinition>,
    pub(crate) custom_ids: HashMap<String, i64>,
    pub(crate) dictionaries: BTreeMap<String, Vec<(String, String)>>,
}

impl App {
    pub(crate) async fn definitions(&self) -> AppResult<Definitions> {
        let stored = fields::list(&self.db.pool).await?;
        Ok(Definitions {
            custom_ids: stored.iter().map(|f| (f.def.key.clone(), f.id)).collect(),
            custom: stored.into_iter().map(|f| f.def).collect(),
            dictionaries: dictionaries::active_codes(&self.db.pool).await?,
        })
    }

    pub async fn custom_definitions(&self) -> AppResult<Vec<FieldDefinition>> {
        Ok(fields::list(&self.db.pool)
            .await?
            .into_iter()
            .map(|f| f.def)
            .collect())
    }

    fn context<'a>(
        &'a self,
        actor: &Actor,
        kind: RecordKind,
        defs: &'a Definitions,
        creating: bool,
    ) -> WriteContext<'a> {
        WriteContext {
            kind,
            default_region: &self.settings.default_region,
            zone: self.settings.zone,
            custom_fields: &defs.custom,
            dictionaries: &defs.dictionaries,
            bound_by_flags: actor.bound_by_field_flags(),
            creating,
        }
    }

    /// May `actor` open this record?
    async fn check_reach(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        record_id: i64,
    ) -> AppResult<()> {
        match actor.record_scope() {
            RecordScope::All => Ok(()),
            RecordScope::AgentCampaigns
                if store::agent_reaches(conn, record_id, actor.user_id).await? =>
            {
                Ok(())
            }
            // Not revealing whether the record exists.
            _ => Err(AppError::NotFound("the record".into())),
        }
    }

    pub async fn create_record(
        &self,
        actor: &Actor,
        body: &Map<String, Value>,
        source: Source,
    ) -> AppResult<Created> {
        if !actor.may_create_records() {
            return Err(AppError::forbidden());
        }
        let kind = match body.get("kind").and_then(Value::as_str) {
            Some(k) => RecordKind::parse(k).map_err(|e| AppError::field("kind", e))?,
            None => {
                return Err(AppError::invalid(
                    "kind",
                    "required",
                    "kind is `person` or `organization`",
                ));
            }
        };
        let defs = self.definitions().await?;
        let mut patch = body.clone();
        patch.remove("kind");
        let (data, touched) = apply_patch(
            &RecordData::default(),
            &patch,
            &self.context(actor, kind, &defs, true),
        )
        .map_err(AppError::Validation)?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let (organization_id, user_ids) = resolve_links(&mut tx, kind, &data, &touched).await?;
        let display_name = data.display_name(kind);
        let meta = RowMeta {
            display_name: &display_name,
            organization_id,
            at: now,
            by: Some(actor.user_id),
        };
        let mut attempt = 0;
        let (id, public_id) = loop {
            let public_id = PublicId::generate();
            match store::insert(
                &mut tx,
                public_id.as_str(),
                kind,
                &data,
                &meta,
                source.as_str(),
            )
            .await
            {
                Ok(id) => break (id, public_id),
                // A random ID collided: draw again (the failed statement changed nothing).
                Err(StoreError::Unique(_)) if attempt < 5 => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        };
        let changes = diff(&RecordData::default(), &data);
        let keys: BTreeSet<String> = changes.iter().map(|c| c.field.clone()).collect();
        // No change rows for version 1: a field without one changed at creation.
        store::replace_children(&mut tx, id, &data, &keys, &defs.custom_ids, &user_ids).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "create",
            "record",
            Some(public_id.as_str()),
            json!({"kind": kind.as_str(), "source": source.as_str(), "changes": changes}),
        )
        .await?;
        let card = cards::by_ids(&mut *tx, self.db.backend, &[id]).await?;
        // Duplicates at the door: read in the same transaction, so a failing lookup
        // leaves nothing behind for a retry to duplicate.
        let warnings = possible_duplicates(&mut tx, actor, public_id.as_str(), &data).await?;
        tx.commit().await?;
        self.events.publish(Event::RecordCreated {
            id: public_id.to_string(),
            by: actor.username.clone(),
        });
        let card = card
            .first()
            .ok_or_else(|| AppError::Unexpected("created record vanished".into()))?;
        Ok(Created {
            record: RecordView::new(card, actor),
            warnings,
        })
    }

    /// The other records holding one of this record's phones, e-mails, PESEL, NIP or
    /// external ID (what a create warns about), for whoever may open the record.
    pub async fn possible_duplicates_of(
        &self,
        actor: &Actor,
        public_id: &str,
    ) -> AppResult<Vec<DuplicateWarning>> {
        let card = self.load_card(actor, public_id).await?;
        let mut conn = self.db.pool.acquire().await?;
        possible_duplicates(&mut conn, actor, &card.public_id, &card.data).await
    }

    pub async fn get_record(&self, actor: &Actor, public_id: &str) -> AppResult<RecordView> {
        let card = self.load_card(actor, public_id).await?;
        Ok(RecordView::new(&card, actor))
    }

    pub(crate) async fn load_card(&self, actor: &Actor, public_id: &str) -> AppResult<Card> {
        let pid = parse_id(public_id)?;
        let card = self
            .db
            .card(pid.as_str())
            .await
            .map_err(|e| not_found(e, "the record"))?;
        if actor.record_scope() != RecordScope::All {
            let mut conn = self.db.pool.acquire().await?;
            self.check_reach(&mut conn, actor, card.id).await?;
        }
        Ok(card)
    }

    /// Applies a JSON Merge Patch. With `if_match`, changes made since that version are kept
    /// when the patch touches none of them; otherwise 412 with their current values.
    pub async fn update_record(
        &self,
        actor: &Actor,
        public_id: &str,
        patch: &Map<String, Value>,
        if_match: Option<i64>,
    ) -> AppResult<Saved> {
        let pid = parse_id(public_id)?;
        let defs = self.definitions().await?;
        let mut tx = self.db.begin_write().await?;
        let (id, kind, version) = store::lock(&mut tx, self.db.backend, pid.as_str())
            .await
            .map_err(|e| not_found(e, "the record"))?;
        self.check_reach(&mut tx, actor, id).await?;
        let current = cards::by_ids(&mut *tx, self.db.backend, &[id])
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound("the record".into()))?;
        let mut patch = patch.clone();
        if !actor.sees_national_ids() {
            keep_masked(&mut patch, &current, &defs.custom);
        }
        let (next, touched) = apply_patch(
            &current.data,
            &patch,
            &self.context(actor, kind, &defs, false),
        )
        .map_err(AppError::Validation)?;
        let stale = if_match.is_some_and(|v| v != version);
        if let Some(since) = if_match.filter(|_| stale) {
            if since > version || since < 1 {
                return Err(AppError::invalid(
                    "If-Match",
                    "unknown_version",
                    format!("the record is at version {version}"),
                ));
            }
            let changed = store::changed_since(&mut tx, id, since).await?;
            let overlap: Map<String, Value> = touched
                .iter()
                .filter(|k| changed.contains(*k) && next.value_of(k) != current.data.value_of(k))
                .map(|k| (k.clone(), current.data.value_of(k)))
                .collect();
            if !overlap.is_empty() {
                return Err(AppError::PreconditionFailed {
                    since,
                    current_version: version,
                    current: overlap,
                });
            }
        }
        let changes = diff(&current.data, &next);
        if changes.is_empty() {
            tx.rollback().await?;
            return Ok(Saved {
                record: RecordView::new(&current, actor),
                merged: stale,
                changed: Vec::new(),
            });
        }
        let keys: BTreeSet<String> = changes.iter().map(|c| c.field.clone()).collect();
        let (organization_id, user_ids) = resolve_links(&mut tx, kind, &next, &keys).await?;
        let organization_id = match (keys.contains("organization"), &current.data.organization) {
            (true, _) => organization_id,
            (false, Some(org)) => store::find(&mut tx, org).await?.map(|(i, _)| i),
            (false, None) => None,
        };
        let now = now_ms();
        let display_name = next.display_name(kind);
        let new_version = version + 1;
        let meta = RowMeta {
            display_name: &display_name,
            organization_id,
            at: now,
            by: Some(actor.user_id),
        };
        store::update(&mut tx, id, kind, &next, &meta, new_version).await?;
        store::replace_children(&mut tx, id, &next, &keys, &defs.custom_ids, &user_ids).await?;
        let key_list: Vec<String> = keys.iter().cloned().collect();
        store::note_changes(&mut tx, id, &key_list, new_version, now).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "update",
            "record",
            Some(pid.as_str()),
            json!({"version": new_version, "merged": stale, "changes": changes}),
        )
        .await?;
        let card = cards::by_ids(&mut *tx, self.db.backend, &[id]).await?;
        tx.commit().await?;
        self.events.publish(Event::RecordUpdated {
            id: pid.to_string(),
            version: new_version,
            by: actor.username.clone(),
            fields: key_list.clone(),
        });
        let card = card
            .first()
            .ok_or_else(|| AppError::Unexpected("updated record vanished".into()))?;
        Ok(Saved {
            record: RecordView::new(card, actor),
            merged: stale,
            changed: key_list,
        })
    }

    pub async fn delete_record(&self, actor: &Actor, public_id: &str) -> AppResult<()> {
        if !actor.may_delete_records() {
            return Err(AppError::forbidden());
        }
        let pid = parse_id(public_id)?;
        let mut tx = self.db.begin_write().await?;
        let card = cards::by_public_id(&mut *tx, self.db.backend, pid.as_str())
            .await
            .map_err(|e| not_found(e, "the record"))?;
        // The audit entry keeps the whole record (administrators read it).
        let snapshot = serde_json::to_value(RecordView::new(&card, actor))
            .map_err(|e| AppError::Unexpected(e.to_string()))?;
        store::delete(&mut tx, card.id).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "delete",
            "record",
            Some(pid.as_str()),
            json!({"snapshot": snapshot}),
        )
        .await?;
        tx.commit().await?;
        self.events.publish(Event::RecordDeleted {
            id: pid.to_string(),
            by: actor.username.clone(),
        });
        Ok(())
    }

    pub async fn list_records(&self, actor: &Actor, params: &ListParams) -> AppResult<RecordPage> {
        self.search_records(actor, &[], params).await
    }

    /// A page of the records matching checked criteria (`check_filter`), with the total.
    pub async fn search_records(
        &self,
        actor: &Actor,
        conds: &[kartoteka_domain::filter::Cond],
        params: &ListParams,
    ) -> AppResult<RecordPage> {
        let w = self.scope(actor, conds)?;
        let (sort, descending) = parse_sort(params.sort.as_deref())?;
        let limit = params.limit.unwrap_or(50);
        if !(1..=1000).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                "out_of_range",
                "limit is between 1 and 1000",
            ));
        }
        let after = params
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, sort, descending))
            .transpose()?;
        let query = ListQuery {
            sort,
            descending,
            after,
            limit,
        };
        let planned =
            list::plan(&self.db.pool, w, sort, descending, None, !params.no_total).await?;
        let total = planned.total;
        let (ids, next) = match planned.small {
            // A small result came whole and sorted: the page is a slice of it.
            Some(all) => {
                let start = match &query.after {
                    Some(after) => all
                        .iter()
                        .position(|(_, p)| {
                            let o = list::cmp_position(p, after);
                            if descending { o.is_lt() } else { o.is_gt() }
                        })
                        .unwrap_or(all.len()),
                    None => 0,
                };
                let end = (start + limit as usize).min(all.len());
                let next = (end < all.len()).then(|| all[end - 1].1.clone());
                (all[start..end].iter().map(|(id, _)| *id).collect(), next)
            }
            None => list::page(&self.db.pool, &query, &planned.w).await?,
        };
        let cards = cards::by_ids(&self.db.pool, self.db.backend, &ids).await?;
        Ok(RecordPage {
            items: cards.iter().map(|c| RecordView::new(c, actor)).collect(),
            next_cursor: next.map(|p| encode_cursor(sort, descending, &p)),
            total,
        })
    }

    /// Records having this phone (any format) or e-mail among their contact data.
    pub async fn identify(
        &self,
        actor: &Actor,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> AppResult<IdentifyResult> {
        let (normalized, phone_key, email_key) = match (phone, email) {
            (Some(p), _) => {
                let n =
                    normalize_phone_query(p, &self.settings.default_region).ok_or_else(|| {
                        AppError::invalid("phone", "invalid_phone", "not a valid phone number")
                    })?;
                (n.clone(), Some(n), None)
            }
            (None, Some(e)) => {
                let e = e.trim().to_lowercase();
                if e.is_empty() {
                    return Err(AppError::invalid(
                        "email",
                        "required",
                        "give an e-mail address",
                    ));
                }
                (e.clone(), None, Some(e))
            }
            (None, None) => {
                return Err(AppError::invalid(
                    "phone",
                    "required",
                    "give phone or email",
                ));
            }
        };
        let (phone, email) = (phone_key.as_deref(), email_key.as_deref());
        let matches = if actor.identify_sees_cards() {
            self.db
                .cards_by_contact(phone, email, 50)
                .await?
                .iter()
                .map(|c| IdentifyMatch {
                    id: c.public_id.clone(),
                    display_name: c.display_name.clone(),
                    record: Some(RecordView::new(c, actor)),
                })
                .collect()
        } else {
            self.db
                .names_by_contact(phone, email, 50)
                .await?
                .into_iter()
                .map(|(id, display_name)| IdentifyMatch {
                    id,
                    display_name,
                    record: None,
                })
                .collect()
        };
        Ok(IdentifyResult {
            normalized,
            matches,
        })
    }
}

/// The records other than `public_id` holding any of `data`'s phones, e-mails (normalized),
/// PESEL, NIP or external ID: one warning per record and field, at most
/// [`MAX_DUPLICATE_WARNINGS`], in that order of fields, oldest record first. The lookups
/// are identification's (indexed, by the stored normalized value).
async fn possible_duplicates(
    conn: &mut AnyConnection,
    actor: &Actor,
    public_id: &str,
    data: &RecordData,
) -> AppResult<Vec<DuplicateWarning>> {
    let mut probes: Vec<(&str, String)> = Vec::new();
    probes.extend(data.phones.iter().map(|p| ("phones", p.number.clone())));
    probes.extend(data.emails.iter().map(|e| ("emails", e.normalized())));
    for field in ["pesel", "nip", "external_id"] {
        if let Some(v) = data.field(field) {
            probes.push((field, v.to_string()));
        }
    }
    // One more than the cap: the record itself may be among them.
    let limit = MAX_DUPLICATE_WARNINGS as i64 + 1;
    let mut warnings: Vec<DuplicateWarning> = Vec::new();
    for (field, value) in probes {
        let names = match field {
            "phones" => cards::names_by_contact(&mut *conn, Some(&value), None, limit).await?,
            "emails" => cards::names_by_contact(&mut *conn, None, Some(&value), limit).await?,
            _ => cards::names_by_identifier(&mut *conn, field, &value, limit).await?,
        };
        for (id, display_name) in names {
            if id == public_id
                || warnings
                    .iter()
                    .any(|w| w.field == field && w.record.id == id)
            {
                continue;
            }
            if warnings.len() >= MAX_DUPLICATE_WARNINGS {
                return Ok(warnings);
            }
            let value = match field {
                "pesel" if !actor.sees_national_ids() => Pesel::parse(&value)
                    .map(|p| p.masked())
                    .unwrap_or_else(|_| "***********".into()),
                _ => value.clone(),
            };
            warnings.push(DuplicateWarning {
                code: "possible_duplicate".into(),
                field: field.into(),
                value,
                record: RecordName { id, display_name },
            });
        }
    }
    Ok(warnings)
}

fn parse_id(public_id: &str) -> AppResult<PublicId> {
    PublicId::parse(public_id).map_err(|_| AppError::NotFound("the record".into()))
}

fn not_found(e: StoreError, what: &str) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound(what.into()),
        e => e.into(),
    }
}

/// An agent who cannot see PESEL sends back the masked value: that is no change.
fn keep_masked(patch: &mut Map<String, Value>, current: &Card, defs: &[FieldDefinition]) {
    let masked = |v: Option<&String>| {
        v.and_then(|p| kartoteka_domain::national::Pesel::parse(p).ok())
            .map(|p| p.masked())
    };
    if patch
        .get("pesel")
        .and_then(Value::as_str)
        .is_some_and(|s| Some(s.to_string()) == masked(current.data.fields.get("pesel")))
    {
        patch.remove("pesel");
    }
    for d in defs
        .iter()
        .filter(|d| d.field_type == kartoteka_domain::field::FieldType::Pesel)
    {
        let flat = format!("custom.{}", d.key);
        let m = masked(current.data.custom.get(&d.key));
        if patch
            .get(&flat)
            .and_then(Value::as_str)
            .is_some_and(|s| Some(s.to_string()) == m)
        {
            patch.remove(&flat);
        }
        if let Some(Value::Object(nested)) = patch.get_mut("custom")
            && nested
                .get(&d.key)
                .and_then(Value::as_str)
                .is_some_and(|s| Some(s.to_string()) == m)
        {
            nested.remove(&d.key);
        }
    }
}

/// Checks the organization and managers a write names; returns the organization's internal
/// ID and the managers' user IDs.
async fn resolve_links(
    conn: &mut AnyConnection,
    kind: RecordKind,
    data: &RecordData,
    keys: &BTreeSet<String>,
) -> AppResult<(Option<i64>, HashMap<String, i64>)> {
    let mut errors = Vec::new();
    let mut organization_id = None;
    if let Some(org) = &data.organization {
        match store::find(conn, org).await? {
            Some((id, RecordKind::Organization)) if kind == RecordKind::Person => {
                organization_id = Some(id)
            }
            Some(_) => errors.push(FieldError::new(
                "organization",
                Invalid::new(
                    "not_an_organization",
                    format!("{org} is not an organization"),
                ),
            )),
            None => errors.push(FieldError::new(
                "organization",
                Invalid::new("not_found", format!("no record {org}")),
            )),
        }
    }
    let user_ids = if keys.contains("managers") {
        let ids = users::ids_by_usernames(conn, &data.managers).await?;
        for m in data.managers.iter().filter(|m| !ids.contains_key(*m)) {
            errors.push(FieldError::new(
                "managers",
                Invalid::new("not_found", format!("no user {m}")),
            ));
        }
        ids
    } else {
        HashMap::new()
    };
    if errors.is_empty() {
        Ok((organization_id, user_ids))
    } else {
        Err(AppError::Validation(errors))
    }
}

pub(crate) fn parse_sort(sort: Option<&str>) -> AppResult<(SortKey, bool)> {
    let s = sort.unwrap_or("last_name");
    let (desc, name) = match s.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, s),
    };
    let key = SortKey::parse(name).ok_or_else(|| {
        AppError::invalid(
            "sort",
            "invalid_sort",
            "sort by last_name, first_name, display_name, city, created_at, modified_at, id or \
             another record column (prefix - for descending)",
        )
    })?;
    Ok((key, desc))
}

fn encode_cursor(sort: SortKey, desc: bool, position: &[Param]) -> String {
    let values: Vec<Value> = position
        .iter()
        .map(|p| match p {
            Param::Text(t) => json!(t),
            Param::Int(i) => json!(i),
            Param::Real(r) => json!(r),
        })
        .collect();
    hex::encode(json!({"s": sort.name(), "d": desc, "p": values}).to_string())
}

fn decode_cursor(cursor: &str, sort: SortKey, desc: bool) -> AppResult<Vec<Param>> {
    let bad = || {
        AppError::invalid(
            "cursor",
            "invalid_cursor",
            "the cursor is damaged or belongs to another sort",
        )
    };
    let bytes = hex::decode(cursor).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if v["s"] != json!(sort.name()) || v["d"] != json!(desc) {
        return Err(bad());
    }
    v["p"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|x| match x {
            Value::String(s) => Ok(Param::from(s.clone())),
            Value::Number(n) => n.as_i64().map(Param::from).ok_or_else(bad),
            _ => Err(bad()),
        })
        .collect()
}
