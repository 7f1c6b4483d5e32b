//! What the API answers and the UI shows: JSON views of stored things.

use kartoteka_domain::field::{FieldType, value_json};
use kartoteka_domain::national::Pesel;
use kartoteka_domain::record::{EmailAddress, Phone};
use kartoteka_domain::time::to_rfc3339;
use kartoteka_store::cards::Card;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::Actor;

/// A record with everything its card shows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    /// Public ID: 8 characters of Crockford base32.
    #[schema(example = "7K3M9QXA")]
    pub id: String,
    /// `person` or `organization`.
    pub kind: String,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organization_name: Option<String>,
    /// Overrides the derived display name.
    pub name: Option<String>,
    pub city: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub postal_code: Option<String>,
    pub province: Option<String>,
    pub country: Option<String>,
    pub nip: Option<String>,
    /// Masked (`*******1234`) for agents without "see national IDs".
    pub pesel: Option<String>,
    pub regon: Option<String>,
    pub language: Option<String>,
    pub external_id: Option<String>,
    pub position: Option<String>,
    pub stage: Option<String>,
    pub acquisition_source: Option<String>,
    /// Public ID of the person's organization.
    pub organization: Option<String>,
    pub phones: Vec<PhoneView>,
    pub emails: Vec<EmailView>,
    /// Custom field values keyed by field key.
    #[schema(value_type = Object)]
    pub custom: Map<String, Value>,
    pub tags: Vec<String>,
    /// Usernames of the users responsible for the record.
    pub managers: Vec<String>,
    /// Campaigns the record has a case in (not part of its version).
    pub campaigns: Vec<GroupRef>,
    /// Segments the record is in (not part of its version).
    pub segments: Vec<GroupRef>,
    pub created_at: String,
    pub created_by: Option<String>,
    pub source: String,
    pub modified_at: String,
    pub modified_by: Option<String>,
    pub last_contact_at: Option<String>,
    /// Changes with the record's own data; sent back as `If-Match`.
    pub version: i64,
}

/// A campaign or segment a record belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhoneView {
    /// E.164.
    #[schema(example = "+48600700800")]
    pub number: String,
    /// As typed.
    pub raw: String,
    /// mobile, landline, work, main, home_fax, office_fax or other.
    #[serde(rename = "type")]
    pub phone_type: String,
    pub extension: Option<String>,
    pub default: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmailView {
    pub address: String,
    pub default: bool,
}

impl From<&Phone> for PhoneView {
    fn from(p: &Phone) -> Self {
        PhoneView {
            number: p.number.clone(),
            raw: p.raw.clone(),
            phone_type: p.phone_type.as_str().into(),
            extension: p.extension.clone(),
            default: p.default,
        }
    }
}

impl From<&EmailAddress> for EmailView {
    fn from(e: &EmailAddress) -> Self {
        EmailView {
            address: e.address.clone(),
            default: e.default,
        }
    }
}

pub(crate) fn mask_pesel(value: &str) -> String {
    Pesel::parse(value)
        .map(|p| p.masked())
        .unwrap_or_else(|_| "***********".into())
}

impl RecordView {
    pub fn new(card: &Card, actor: &Actor) -> RecordView {
        let unmasked = actor.sees_national_ids();
        let f = |k: &str| card.data.fields.get(k).cloned();
        let custom = card
            .data
            .custom
            .iter()
            .map(|(k, v)| {
                let value = match card.custom_types.get(k) {
                    Some(FieldType::Pesel) if !unmasked => Value::String(mask_pesel(v)),
                    Some(t) => value_json(*t, v),
                    None => Value::String(v.clone()),
                };
                (k.clone(), value)
            })
            .collect();
        RecordView {
            id: card.public_id.clone(),
            kind: card.kind.as_str().into(),
            display_name: card.display_name.clone(),
            first_name: f("first_name"),
            last_name: f("last_name"),
            organization_name: f("organization_name"),
            name: f("name"),
            city: f("city"),
            address_line1: f("address_line1"),
            address_line2: f("address_line2"),
            postal_code: f("postal_code"),
            province: f("province"),
            country: f("country"),
            nip: f("nip"),
            pesel: f("pesel").map(|p| if unmasked { p } else { mask_pesel(&p) }),
            regon: f("regon"),
            language: f("language"),
            external_id: f("external_id"),
            position: f("position"),
            stage: f("stage"),
            acquisition_source: f("acquisition_source"),
            organization: card.data.organization.clone(),
            phones: card.data.phones.iter().map(PhoneView::from).collect(),
            emails: card.data.emails.iter().map(EmailView::from).collect(),
            custom,
            tags: card.data.tags.clone(),
            managers: card.data.managers.clone(),
            campaigns: card
                .campaigns
                .iter()
                .map(|(id, name)| GroupRef {
                    id: *id,
                    name: name.clone(),
                })
                .collect(),
            segments: card
                .segments
                .iter()
                .map(|(id, name)| GroupRef {
                    id: *id,
                    name: name.clone(),
                })
                .collect(),
            created_at: to_rfc3339(card.created_at),
            created_by: card.created_by.clone(),
            source: card.source.clone(),
            modified_at: to_rfc3339(card.modified_at),
            modified_by: card.modified_by.clone(),
            last_contact_at: card.last_contact_at.map(to_rfc3339),
            version: card.version,
        }
    }
}

/// One page of records.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordPage {
    pub items: Vec<RecordView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many records the list holds in all (absent when asked with `count: false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// A record found by identification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentifyMatch {
    pub id: String,
    pub display_name: String,
    /// The whole card, for those who may open it (not agents).
    pub record: Option<RecordView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentifyResult {
    /// The number in E.164 or the lower-cased e-mail that was looked up.
    pub normalized: String,
    pub matches: Vec<IdentifyMatch>,
}
