//! `kartoteka demo`: realistic Polish records for trying the product and for benchmarks.

use anyhow::Context;
use kartoteka_app::App;
use kartoteka_domain::field::{FieldDefinition, FieldType};
use kartoteka_domain::ids::PublicId;
use kartoteka_domain::phone::{PhoneType, parse_phone};
use kartoteka_domain::record::{EmailAddress, Phone, RecordData, RecordKind};
use kartoteka_domain::text::fold;
use kartoteka_domain::time::now_ms;
use kartoteka_store::bulk::{self, NewCase, NewRecord};
use kartoteka_store::fields;
use kartoteka_store::groups::{self, GroupKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

pub(crate) mod names;
use names::*;

/// Records per transaction.
const BATCH: usize = 5_000;

/// Custom fields the demo fills (created when missing).
fn demo_fields() -> Vec<FieldDefinition> {
    let f = |key: &str, label: &str, t: FieldType, options: &[&str], pos: i64| FieldDefinition {
        key: key.into(),
        label: label.into(),
        field_type: t,
        options: options.iter().map(|o| o.to_string()).collect(),
        mask: None,
        visible: true,
        editable: true,
        required: false,
        position: pos,
    };
    vec![
        f(
            "customer_value",
            "Customer value (PLN)",
            FieldType::Number,
            &[],
            1,
        ),
        f(
            "contract_date",
            "Contract date",
            FieldType::DateTime,
            &[],
            2,
        ),
        f(
            "tier",
            "Tier",
            FieldType::Dictionary,
            &["Gold", "Silver", "Bronze"],
            3,
        ),
        f("note", "Note", FieldType::Text, &[], 4),
    ]
}

pub(crate) fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

pub(crate) fn digits(rng: &mut StdRng, n: usize) -> Vec<u32> {
    (0..n).map(|_| rng.random_range(0..10)).collect()
}

fn to_string(d: &[u32]) -> String {
    d.iter()
        .map(|x| char::from_digit(*x, 10).unwrap_or('0'))
        .collect()
}

pub(crate) fn nip(rng: &mut StdRng) -> String {
    loop {
        let mut d = digits(rng, 9);
        d[0] = rng.random_range(1..10);
        let sum: u32 = d
            .iter()
            .zip([6, 5, 7, 2, 3, 4, 5, 6, 7])
            .map(|(a, w)| a * w)
            .sum();
        if sum % 11 != 10 {
            d.push(sum % 11);
            return to_string(&d);
        }
    }
}

pub(crate) fn regon(rng: &mut StdRng) -> String {
    let mut d = digits(rng, 8);
    d[0] = rng.random_range(1..10);
    let sum: u32 = d
        .iter()
        .zip([8, 9, 2, 3, 4, 5, 6, 7])
        .map(|(a, w)| a * w)
        .sum();
    d.push(sum % 11 % 10);
    to_string(&d)
}

pub(crate) fn pesel(rng: &mut StdRng, female: bool) -> String {
    let year = rng.random_range(1940..2006);
    let month = rng.random_range(1..13u32);
    let day = rng.random_range(1..29u32);
    let m = if year >= 2000 { month + 20 } else { month };
    let mut d = vec![
        (year % 100 / 10) as u32,
        (year % 10) as u32,
        m / 10,
        m % 10,
        day / 10,
        day % 10,
    ];
    d.extend(digits(rng, 3));
    let sex = rng.random_range(0..5) * 2 + u32::from(!female);
    d.push(sex);
    let sum: u32 = d
        .iter()
        .zip([1, 3, 7, 9, 1, 3, 7, 9, 1, 3])
        .map(|(a, w)| a * w)
        .sum();
    d.push((10 - sum % 10) % 10);
    to_string(&d)
}

/// A Polish number typed the way people type them.
pub(crate) fn phone_raw(rng: &mut StdRng) -> (String, PhoneType) {
    let mobile = rng.random_bool(0.7);
    let (a, typ) = if mobile {
        (
            format!("{}{}", pick(rng, MOBILE_PREFIXES), rng.random_range(0..10)),
            PhoneType::Mobile,
        )
    } else {
        (
            format!("{}{}", pick(rng, AREA_CODES), rng.random_range(2..9)),
            PhoneType::Landline,
        )
    };
    let rest = to_string(&digits(rng, 6));
    let n = format!("{a}{rest}");
    let raw = match rng.random_range(0..6) {
        0 => format!("{} {} {}", &n[0..3], &n[3..6], &n[6..9]),
        1 => format!("+48 {}-{}-{}", &n[0..3], &n[3..6], &n[6..9]),
        2 => format!("0048{n}"),
        3 => format!("+48{n}"),
        4 if !mobile => format!("({}) {} {} {}", &n[0..2], &n[2..5], &n[5..7], &n[7..9]),
        _ => n,
    };
    let typ = if !mobile && rng.random_bool(0.3) {
        PhoneType::Work
    } else {
        typ
    };
    (raw, typ)
}

struct Generator {
    rng: StdRng,
    now: i64,
    /// Recent phones and e-mails, to make deliberate duplicates from.
    recent_phones: Vec<(String, PhoneType)>,
    recent_emails: Vec<String>,
    /// Demo campaigns and segments (IDs).
    campaigns: Vec<i64>,
    segments: Vec<i64>,
}

impl Generator {
    /// Cases in one or two campaigns for some records, with their classifier history.
    fn cases(&mut self, created_at: i64) -> Vec<NewCase> {
        if self.campaigns.is_empty() || !self.rng.random_bool(0.4) {
            return Vec::new();
        }
        let n = if self.rng.random_bool(0.2) { 2 } else { 1 };
        let mut chosen: Vec<i64> = Vec::new();
        while chosen.len() < n.min(self.campaigns.len()) {
            let c = self.campaigns[self.rng.random_range(0..self.campaigns.len())];
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
        chosen
            .into_iter()
            .map(|campaign_id| {
                let given = self.rng.random_range(0..4);
                let mut at = created_at;
                let classifiers: Vec<(String, i64)> = (0..given)
                    .map(|_| {
                        at += self.rng.random_range(3_600_000..30 * 86_400_000i64);
                        (
                            pick(&mut self.rng, CLASSIFIERS.map(|(c, _)| c).as_slice()).to_string(),
                            at.min(self.now),
                        )
                    })
                    .collect();
                NewCase {
                    campaign_id,
                    assigned_to: None,
                    status: Some(
                        pick(&mut self.rng, &["new", "in_progress", "closed"]).to_string(),
                    ),
                    attempts: given as i64 + self.rng.random_range(0..3),
                    last_call_type: (given > 0)
                        .then(|| pick(&mut self.rng, &["outbound", "inbound"]).to_string()),
                    last_call_status: (given > 0).then(|| {
                        pick(&mut self.rng, &["answered", "no_answer", "busy"]).to_string()
                    }),
                    recontact_at: self
                        .rng
                        .random_bool(0.2)
                        .then(|| self.now + self.rng.random_range(0..30 * 86_400_000i64)),
                    classifiers,
                }
            })
            .collect()
    }

    fn phones(&mut self, count: usize) -> Vec<Phone> {
        let mut out: Vec<Phone> = Vec::new();
        while out.len() < count {
            let (raw, typ) = if !self.recent_phones.is_empty() && self.rng.random_bool(0.03) {
                let i = self.rng.random_range(0..self.recent_phones.len());
                self.recent_phones[i].clone()
            } else {
                phone_raw(&mut self.rng)
            };
            let Ok(p) = parse_phone(&raw, "PL") else {
                continue;
            };
            if out.iter().any(|q| q.number == p.e164) {
                continue;
            }
            if self.recent_phones.len() < 2000 {
                self.recent_phones.push((raw.clone(), typ));
            } else {
                let i = self.rng.random_range(0..2000);
                self.recent_phones[i] = (raw.clone(), typ);
            }
            out.push(Phone {
                number: p.e164,
                raw,
                phone_type: typ,
                extension: p.extension,
                default: out.is_empty(),
            });
        }
        out
    }

    fn emails(&mut self, count: usize, first: &str, last: &str) -> Vec<EmailAddress> {
        let mut out: Vec<EmailAddress> = Vec::new();
        for n in 0..count {
            let address = if !self.recent_emails.is_empty() && self.rng.random_bool(0.03) {
                let i = self.rng.random_range(0..self.recent_emails.len());
                self.recent_emails[i].clone()
            } else {
                let local = fold(&format!("{first}.{last}")).replace([' ', '\''], "");
                let num = self.rng.random_range(1..10_000);
                format!("{local}{num}@{}", pick(&mut self.rng, EMAIL_DOMAINS))
            };
            if out.iter().any(|e| e.address == address) {
                continue;
            }
            if self.recent_emails.len() < 2000 {
                self.recent_emails.push(address.clone());
            }
            out.push(EmailAddress {
                address,
                default: n == 0,
            });
        }
        out
    }

    fn common(&mut self, data: &mut RecordData) {
        let (city, postal, province) = CITIES[self.rng.random_range(0..CITIES.len())];
        let rng = &mut self.rng;
        data.fields.insert("city".into(), city.into());
        data.fields.insert(
            "postal_code".into(),
            format!("{postal}-{:03}", rng.random_range(0..1000)),
        );
        data.fields.insert("province".into(), province.into());
        data.fields.insert("country".into(), "Polska".into());
        let street = pick(rng, STREETS);
        let address = if rng.random_bool(0.6) {
            format!(
                "ul. {street} {}/{}",
                rng.random_range(1..200),
                rng.random_range(1..80)
            )
        } else {
            format!("ul. {street} {}", rng.random_range(1..200))
        };
        data.fields.insert("address_line1".into(), address);
        data.fields.insert(
            "language".into(),
            if rng.random_bool(0.92) {
                "pl"
            } else {
                pick(rng, &["en", "de", "cs", "ro"])
            }
            .into(),
        );
        if rng.random_bool(0.6) {
            data.fields.insert(
                "stage".into(),
                pick(rng, &["lead", "prospect", "customer", "former"]).into(),
            );
        }
        if rng.random_bool(0.5) {
            data.fields.insert(
                "acquisition_source".into(),
                pick(rng, &["website", "phone", "referral", "campaign"]).into(),
            );
        }
        if rng.random_bool(0.3) {
            data.fields.insert(
                "external_id".into(),
                format!("CRM-{}", rng.random_range(100_000..10_000_000)),
            );
        }
        if rng.random_bool(0.5) {
            data.custom.insert(
                "customer_value".into(),
                rng.random_range(0..50_000).to_string(),
            );
        }
        if rng.random_bool(0.3) {
            let days = rng.random_range(0..3650);
            let at = self.now - days * 86_400_000;
            data.custom.insert(
                "contract_date".into(),
                kartoteka_domain::time::to_rfc3339(at - at % 60_000).replace(".000Z", "Z"),
            );
        }
        if rng.random_bool(0.4) {
            data.custom.insert(
                "tier".into(),
                pick(rng, &["Gold", "Silver", "Bronze"]).into(),
            );
        }
        if rng.random_bool(0.1) {
            data.custom.insert("note".into(), pick(rng, NOTES).into());
        }
        if rng.random_bool(0.3) {
            let tags: BTreeSet<String> = (0..rng.random_range(1..3))
                .map(|_| pick(rng, TAGS).to_string())
                .collect();
            data.tags = tags.into_iter().collect();
        }
    }

    fn organization(&mut self) -> RecordData {
        let mut data = RecordData::default();
        let name = format!(
            "{} {}",
            pick(&mut self.rng, ORG_STEMS),
            pick(&mut self.rng, ORG_FORMS)
        );
        let name = if self.rng.random_bool(0.5) {
            format!("{} {name}", pick(&mut self.rng, SURNAMES_PLAIN))
        } else {
            name
        };
        data.fields.insert("organization_name".into(), name.clone());
        if self.rng.random_bool(0.9) {
            data.fields.insert("nip".into(), nip(&mut self.rng));
        }
        if self.rng.random_bool(0.8) {
            data.fields.insert("regon".into(), regon(&mut self.rng));
        }
        self.common(&mut data);
        let n = self.rng.random_range(1..4);
        data.phones = self.phones(n);
        let n = self.rng.random_range(0..3);
        data.emails = self.emails(
            n,
            "biuro",
            &name.split(' ').next().unwrap_or("firma").to_lowercase(),
        );
        data
    }

    fn person(&mut self) -> RecordData {
        let mut data = RecordData::default();
        let female = self.rng.random_bool(0.5);
        let first = if female {
            pick(&mut self.rng, FEMALE)
        } else {
            pick(&mut self.rng, MALE)
        };
        let last = if self.rng.random_bool(0.45) {
            let stem = pick(&mut self.rng, SKI_STEMS);
            format!("{stem}{}", if female { "ska" } else { "ski" })
        } else {
            pick(&mut self.rng, SURNAMES_PLAIN).to_string()
        };
        data.fields.insert("first_name".into(), first.into());
        data.fields.insert("last_name".into(), last.clone());
        if self.rng.random_bool(0.8) {
            data.fields
                .insert("pesel".into(), pesel(&mut self.rng, female));
        }
        if self.rng.random_bool(0.1) {
            data.fields.insert(
                "position".into(),
                pick(&mut self.rng, &["ceo", "manager", "specialist"]).into(),
            );
        }
        self.common(&mut data);
        let n = self.rng.random_range(1..4);
        data.phones = self.phones(n);
        let n = self.rng.random_range(0..3);
        data.emails = self.emails(n, first, &last);
        data
    }

    fn batch(&mut self, size: usize) -> Vec<NewRecord> {
        let mut out: Vec<NewRecord> = Vec::with_capacity(size);
        let mut orgs: Vec<usize> = Vec::new();
        for _ in 0..size {
            let org = self.rng.random_bool(0.1);
            let (kind, data) = if org {
                (RecordKind::Organization, self.organization())
            } else {
                (RecordKind::Person, self.person())
            };
            let organization_in_batch = (!org && !orgs.is_empty() && self.rng.random_bool(0.2))
                .then(|| orgs[self.rng.random_range(0..orgs.len())]);
            if org {
                orgs.push(out.len());
            }
            let created_at = self.now - self.rng.random_range(0..3 * 365 * 86_400_000i64);
            out.push(NewRecord {
                public_id: PublicId::generate().as_str().to_string(),
                kind,
                data,
                organization_in_batch,
                organization_id: None,
                created_at,
                created_by: None,
                source: "import".into(),
                cases: self.cases(created_at),
                segments: if !self.segments.is_empty() && self.rng.random_bool(0.25) {
                    vec![self.segments[self.rng.random_range(0..self.segments.len())]]
                } else {
                    Vec::new()
                },
            });
        }
        out
    }
}

/// Adds `records` demo records; returns a one-line report.
pub async fn fill(app: &App, records: u64, seed: u64, progress: bool) -> anyhow::Result<String> {
    let started = Instant::now();
    let field_ids = ensure_fields(app).await?;
    let (campaigns, segments) = ensure_groups(app).await?;
    // Generation runs on its own thread, one batch ahead of the inserts.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<NewRecord>>(2);
    let total = records as usize;
    let producer = tokio::task::spawn_blocking(move || {
        let mut g = Generator {
            rng: StdRng::seed_from_u64(seed),
            now: now_ms(),
            recent_phones: Vec::new(),
            recent_emails: Vec::new(),
            campaigns,
            segments,
        };
        let mut left = total;
        while left > 0 {
            let n = left.min(BATCH);
            if tx.blocking_send(g.batch(n)).is_err() {
                break;
            }
            left -= n;
        }
    });
    let (mut done, mut phones, mut emails, mut orgs) = (0usize, 0usize, 0usize, 0usize);
    let mut loader = match &app.db.sqlite_path {
        Some(path) => Some(bulk::SqliteLoader::open(path)?),
        None => None,
    };
    // Into an empty base, indexes are built once at the end: several times faster.
    let empty: i64 = sqlx::query("SELECT COUNT(*) FROM records")
        .fetch_one(&app.db.pool)
        .await?
        .try_get(0)?;
    let deferred = match &mut loader {
        _ if empty > 0 || records < 50_000 => false,
        Some(l) => l.defer_indexes(bulk::Defer::All { keep: &[] })? > 0,
        None => bulk::defer_indexes_postgres(&app.db, bulk::Defer::All { keep: &[] }).await? > 0,
    };
    while let Some(mut batch) = rx.recv().await {
        loader = match loader {
            // SQLite: the blocking loader on a thread of its own, overlapping generation.
            Some(mut l) => {
                let ids = field_ids.clone();
                let (l, inserted) = tokio::task::spawn_blocking(move || {
                    let r = l.insert(&mut batch, &ids);
                    (l, r.map(|_| batch))
                })
                .await?;
                let batch = inserted.context("inserting demo records")?;
                count(&batch, &mut done, &mut phones, &mut emails, &mut orgs);
                Some(l)
            }
            None => {
                let mut t = app.db.begin_write().await?;
                let first = bulk::next_record_id(&mut t).await?;
                bulk::insert_records(&mut t, first, &mut batch, &field_ids)
                    .await
                    .context("inserting demo records")?;
                t.commit().await?;
                count(&batch, &mut done, &mut phones, &mut emails, &mut orgs);
                None
            }
        };
        if progress && (done % 50_000 < BATCH || done == total) {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "  {done}/{total} records, {:.0} records/s",
                done as f64 / secs.max(0.001)
            );
        }
    }
    producer.await?;
    if deferred && progress {
        eprintln!("  building indexes…");
    }
    match (loader, deferred) {
        (Some(mut l), true) => tokio::task::spawn_blocking(move || l.build_deferred_indexes())
            .await?
            .context("building indexes")?,
        (None, true) => bulk::build_deferred_postgres(&app.db)
            .await
            .context("building indexes")?,
        _ => {}
    }
    let mut t = app.db.begin_write().await?;
    bulk::sync_sequences(&mut t, app.db.backend).await?;
    t.commit().await?;
    if app.db.backend == kartoteka_store::Backend::Sqlite {
        sqlx::query("PRAGMA optimize").execute(&app.db.pool).await?;
    } else {
        // VACUUM too: a fresh load has no visibility map, so index-only scans (counts)
        // would still read the table.
        sqlx::query("VACUUM (ANALYZE)")
            .execute(&app.db.pool)
            .await?;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(format!(
        "Added {done} demo records ({} persons, {orgs} organizations) with {phones} phones and {emails} e-mails in {secs:.1} s ({:.0} records/s).",
        done - orgs,
        done as f64 / secs.max(0.001)
    ))
}

fn count(
    batch: &[NewRecord],
    done: &mut usize,
    phones: &mut usize,
    emails: &mut usize,
    orgs: &mut usize,
) {
    *done += batch.len();
    *phones += batch.iter().map(|r| r.data.phones.len()).sum::<usize>();
    *emails += batch.iter().map(|r| r.data.emails.len()).sum::<usize>();
    *orgs += batch
        .iter()
        .filter(|r| r.kind == RecordKind::Organization)
        .count();
}

/// Demo campaigns and segments, and the classifiers dictionary (created when missing).
async fn ensure_groups(app: &App) -> anyhow::Result<(Vec<i64>, Vec<i64>)> {
    let mut ids = (Vec::new(), Vec::new());
    for (kind, names) in [
        (GroupKind::Campaign, DEMO_CAMPAIGNS),
        (GroupKind::Segment, DEMO_SEGMENTS),
    ] {
        let existing = groups::list(&app.db.pool, kind).await?;
        for name in names {
            let id = match existing.iter().find(|g| g.name == *name) {
                Some(g) => g.id,
                None => groups::insert(&app.db.pool, kind, name, "", true, now_ms()).await?,
            };
            match kind {
                GroupKind::Campaign => ids.0.push(id),
                GroupKind::Segment => ids.1.push(id),
            }
        }
    }
    for (i, (code, label)) in CLASSIFIERS.iter().enumerate() {
        let entry = kartoteka_store::dictionaries::Entry {
            dictionary: "classifiers".into(),
            code: code.to_string(),
            label: label.to_string(),
            position: i as i64,
            active: true,
        };
        kartoteka_store::dictionaries::upsert(&app.db.pool, &entry).await?;
    }
    Ok(ids)
}

async fn ensure_fields(app: &App) -> anyhow::Result<HashMap<String, i64>> {
    let existing: BTreeMap<String, i64> = fields::list(&app.db.pool)
        .await?
        .into_iter()
        .map(|f| (f.def.key, f.id))
        .collect();
    let mut ids: HashMap<String, i64> = existing.clone().into_iter().collect();
    for def in demo_fields() {
        if !existing.contains_key(&def.key) {
            let id = fields::insert(&app.db.pool, &def, now_ms()).await?;
            ids.insert(def.key, id);
        }
    }
    Ok(ids)
}
