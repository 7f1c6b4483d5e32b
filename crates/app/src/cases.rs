//! Cases (SPEC C3): a record's link to a campaign, with its status, assigned user, recontact
//! date and classifier history. Reading follows the record; editing needs the record base
//! (administrators, managers with the grant) or work in the case's campaign (agents, who
//! may not reassign it).

use kartoteka_domain::Invalid;
use kartoteka_domain::access::Actor;
use kartoteka_domain::record::FieldError;
use kartoteka_domain::time::{now_ms, parse_instant, to_rfc3339};
use kartoteka_store::StoreError;
use kartoteka_store::cases::{self, ASSIGNABLE_ROLES, Case};
use kartoteka_store::dictionaries;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use crate::{App, AppError, AppResult};

/// The longest status.
pub const STATUS_MAX: usize = 100;

/// A case as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseView {
    pub campaign_id: i64,
    /// The campaign's name.
    pub campaign: String,
    pub status: Option<String>,
    /// The assigned user's ID.
    pub assigned_to: Option<i64>,
    pub assigned_username: Option<String>,
    pub assigned_name: Option<String>,
    /// Code of the last classifier given (`classifiers` dictionary).
    pub last_classifier: Option<String>,
    pub attempts: i64,
    pub last_call_type: Option<String>,
    pub last_call_status: Option<String>,
    /// When to contact again (RFC 3339, UTC).
    pub recontact_at: Option<String>,
    pub created_at: String,
    pub modified_at: String,
    /// The caller may change the status, the recontact date and give classifiers.
    pub may_edit: bool,
    /// The caller may assign the case to someone else.
    pub may_reassign: bool,
    /// The classifier history, newest first (one case only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifiers: Option<Vec<ClassifierView>>,
}

/// A classifier given to a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassifierView {
    pub classifier: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub user_name: Option<String>,
    pub at: String,
}

/// Changes to a case; absent keys keep their value, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// Free text up to 100 characters; `null` or empty clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub status: Option<Option<String>>,
    /// An active agent, home agent, manager or administrator, by user ID or username;
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<UserRef>, nullable)]
    pub assigned_to: Option<Option<UserRef>>,
    /// RFC 3339, or a local `YYYY-MM-DDTHH:MM` in the user's time zone; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub recontact_at: Option<Option<String>>,
    /// Gives a classifier (code or label of the `classifiers` dictionary): appended to the
    /// history and made the last classifier.
    pub classifier: Option<String>,
}

/// A user named by ID or by username.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum UserRef {
    Id(i64),
    Username(String),
}

/// A key that is present, even as `null` (`Some(None)`), as opposed to absent (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// What an actor may do with the cases of one campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaseRights {
    pub edit: bool,
    pub reassign: bool,
}

impl CaseRights {
    /// `works_in`: the actor is one of the campaign's agents.
    pub fn of(actor: &Actor, works_in: bool) -> CaseRights {
        if actor.may_use_record_base() {
            CaseRights {
                edit: true,
                reassign: true,
            }
        } else if actor.role.is_agent() && works_in {
            CaseRights {
                edit: true,
                reassign: false,
            }
        } else {
            CaseRights::default()
        }
    }
}

fn view(c: &Case, rights: CaseRights, history: Option<Vec<ClassifierView>>) -> CaseView {
    CaseView {
        campaign_id: c.campaign_id,
        campaign: c.campaign.clone(),
        status: c.status.clone(),
        assigned_to: c.assigned_to,
        assigned_username: c.assigned_username.clone(),
        assigned_name: c.assigned_name.clone(),
        last_classifier: c.last_classifier.clone(),
        attempts: c.attempts,
        last_call_type: c.last_call_type.clone(),
        last_call_status: c.last_call_status.clone(),
        recontact_at: c.recontact_at.map(to_rfc3339),
        created_at: to_rfc3339(c.created_at),
        modified_at: to_rfc3339(c.modified_at),
        may_edit: rights.edit,
        may_reassign: rights.reassign,
        classifiers: history,
    }
}

fn case_not_found(campaign: i64) -> impl FnOnce(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::NotFound(format!("the case in campaign {campaign}")),
        e => e.into(),
    }
}

fn invalid(field: &str, code: &'static str, message: String) -> FieldError {
    FieldError::new(field, Invalid::new(code, message))
}

/// A user shown in the audit log: their username, or null.
fn user_value(username: Option<&str>) -> Value {
    username.map_or(Value::Null, |u| Value::String(u.to_string()))
}

impl App {
    /// Campaigns the actor works in, when that decides anything (agents).
    async fn agent_campaigns(&self, actor: &Actor) -> AppResult<Vec<i64>> {
        if actor.role.is_agent() {
            Ok(cases::campaigns_of_agent(&self.db.pool, actor.user_id).await?)
        } else {
            Ok(Vec::new())
        }
    }

    /// The cases of a record, by campaign name.
    pub async fn record_cases(&self, actor: &Actor, public_id: &str) -> AppResult<Vec<CaseView>> {
        let card = self.load_card(actor, public_id).await?;
        let mine = self.agent_campaigns(actor).await?;
        Ok(cases::of_record(&self.db.pool, card.id)
            .await?
            .iter()
            .map(|c| {
                view(
                    c,
                    CaseRights::of(actor, mine.contains(&c.campaign_id)),
                    None,
                )
            })
            .collect())
    }

    /// One case of a record, with its classifier history.
    pub async fn record_case(
        &self,
        actor: &Actor,
        public_id: &str,
        campaign: i64,
    ) -> AppResult<CaseView> {
        let card = self.load_card(actor, public_id).await?;
        let c = cases::get(&self.db.pool, card.id, campaign)
            .await
            .map_err(case_not_found(campaign))?;
        let history = cases::classifiers(&self.db.pool, c.id)
            .await?
            .into_iter()
            .map(|h| ClassifierView {
                classifier: h.classifier,
                user_id: h.user_id,
                username: h.username,
                user_name: h.user_name,
                at: to_rfc3339(h.at),
            })
            .collect();
        let mine = self.agent_campaigns(actor).await?;
        Ok(view(
            &c,
            CaseRights::of(actor, mine.contains(&campaign)),
            Some(history),
        ))
    }

    /// The users a case may be assigned to: (ID, username, display name).
    pub async fn case_assignees(&self, _actor: &Actor) -> AppResult<Vec<(i64, String, String)>> {
        Ok(cases::assignees(&self.db.pool)
            .await?
            .into_iter()
            .map(|u| (u.id, u.username, u.display_name))
            .collect())
    }

    /// The zone of dates typed without one: the user's, else the configured one.
    async fn zone_of(&self, conn: &mut AnyConnection, actor: &Actor) -> AppResult<chrono_tz::Tz> {
        let name = cases::time_zone_of(&mut *conn, actor.user_id).await?;
        Ok(name
            .and_then(|n| n.parse().ok())
            .unwrap_or(self.settings.zone))
    }

    /// Changes a case's status, assigned user or recontact date, or gives it a classifier.
    /// One audit entry on the record lists the changed fields.
    pub async fn update_case(
        &self,
        actor: &Actor,
        public_id: &str,
        campaign: i64,
        input: CaseInput,
    ) -> AppResult<CaseView> {
        let card = self.load_card(actor, public_id).await?;
        let mut tx = self.db.begin_write().await?;
        cases::lock(&mut tx, card.id, campaign, self.db.for_update())
            .await
            .map_err(case_not_found(campaign))?;
        let before = cases::get(&mut *tx, card.id, campaign)
            .await
            .map_err(case_not_found(campaign))?;
        let works_in = actor.role.is_agent()
            && cases::campaigns_of_agent(&mut *tx, actor.user_id)
                .await?
                .contains(&campaign);
        let rights = CaseRights::of(actor, works_in);
        if !rights.edit {
            return Err(AppError::Forbidden(
                "only the record base and the agents of its campaign edit this case".into(),
            ));
        }
        let mut after = before.clone();
        let mut errors: Vec<FieldError> = Vec::new();

        if let Some(status) = &input.status {
            let s = status.as_deref().map(str::trim).unwrap_or_default();
            if s.chars().count() > STATUS_MAX {
                errors.push(invalid(
                    "status",
                    "too_long",
                    format!("at most {STATUS_MAX} characters"),
                ));
            }
            after.status = (!s.is_empty()).then(|| s.to_string());
        }

        if let Some(assigned) = &input.assigned_to {
            // None: cleared; Some(None): names nobody.
            let found = match assigned {
                None => None,
                Some(UserRef::Id(i)) => Some(cases::assignee(&mut *tx, *i).await?),
                Some(UserRef::Username(n)) => {
                    Some(cases::assignee_by_username(&mut *tx, n.trim()).await?)
                }
            };
            let unchanged = match &found {
                None => before.assigned_to.is_none(),
                Some(Some(u)) => Some(u.id) == before.assigned_to,
                Some(None) => false,
            };
            if !unchanged && !rights.reassign {
                return Err(AppError::Forbidden(
                    "agents cannot reassign cases (assigned_to)".into(),
                ));
            }
            match found {
                None => {
                    after.assigned_to = None;
                    after.assigned_username = None;
                    after.assigned_name = None;
                }
                // The current assignee stays even when no longer assignable.
                Some(Some(_)) if unchanged => {}
                Some(Some(u)) if !u.active => errors.push(invalid(
                    "assigned_to",
                    "inactive",
                    format!("{} is not active", u.username),
                )),
                Some(Some(u)) if !ASSIGNABLE_ROLES.contains(&u.role.as_str()) => {
                    errors.push(invalid(
                        "assigned_to",
                        "not_assignable",
                        format!("cases are not assigned to the role of {}", u.username),
                    ))
                }
                Some(Some(u)) => {
                    after.assigned_to = Some(u.id);
                    after.assigned_username = Some(u.username);
                    after.assigned_name = Some(u.display_name);
                }
                Some(None) => errors.push(invalid(
                    "assigned_to",
                    "not_found",
                    match assigned {
                        Some(UserRef::Id(i)) => format!("no user with ID {i}"),
                        Some(UserRef::Username(n)) => format!("no user {n}"),
                        None => "no such user".into(),
                    },
                )),
            }
        }

        if let Some(recontact) = &input.recontact_at {
            match recontact.as_deref().map(str::trim).unwrap_or_default() {
                "" => after.recontact_at = None,
                s => {
                    let zone = self.zone_of(&mut tx, actor).await?;
                    match parse_instant(s, zone) {
                        Ok(d) => after.recontact_at = Some(d.timestamp_millis()),
                        Err(e) => errors.push(FieldError::new("recontact_at", e)),
                    }
                }
            }
        }

        let mut given: Option<String> = None;
        if let Some(classifier) = &input.classifier {
            let wanted = classifier.trim();
            let entries = dictionaries::entries(&mut *tx, Some("classifiers")).await?;
            let found = entries.iter().filter(|e| e.active).find(|e| {
                e.code == wanted
                    || e.code.eq_ignore_ascii_case(wanted)
                    || e.label.to_lowercase() == wanted.to_lowercase()
            });
            match found {
                _ if wanted.is_empty() => errors.push(invalid(
                    "classifier",
                    "required",
                    "choose a classifier".into(),
                )),
                Some(e) => {
                    given = Some(e.code.clone());
                    after.last_classifier = Some(e.code.clone());
                }
                None => errors.push(invalid(
                    "classifier",
                    "not_in_dictionary",
                    format!("`{wanted}` is not in the classifiers dictionary"),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }

        let mut changes = Vec::new();
        let mut change = |field: &str, b: Value, a: Value| {
            if b != a {
                changes.push(json!({"field": field, "before": b, "after": a}));
            }
        };
        change("case.status", json!(before.status), json!(after.status));
        change(
            "case.assigned_to",
            user_value(before.assigned_username.as_deref()),
            user_value(after.assigned_username.as_deref()),
        );
        change(
            "case.recontact_at",
            json!(before.recontact_at.map(to_rfc3339)),
            json!(after.recontact_at.map(to_rfc3339)),
        );
        if let Some(code) = &given {
            // Giving the same classifier again is an event of its own.
            changes.push(json!({"field": "case.last_classifier", "before": before.last_classifier, "after": code}));
        }
        if changes.is_empty() {
            tx.rollback().await?;
            return self.record_case(actor, public_id, campaign).await;
        }
        let now = now_ms();
        if let Some(code) = &given {
            let by = (actor.user_id > 0).then_some(actor.user_id);
            cases::add_classifier(&mut tx, before.id, code, by, now).await?;
        }
        cases::update(&mut tx, &after, now).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "update_case",
            "record",
            Some(&card.public_id),
            json!({
                "campaign": {"id": before.campaign_id, "name": before.campaign},
                "changes": changes,
            }),
        )
        .await?;
        tx.commit().await?;
        self.record_case(actor, public_id, campaign).await
    }
}
