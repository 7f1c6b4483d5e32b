//! Suggested targets of import columns from their header names, in Polish and English.

use super::Target;
use crate::field::FieldDefinition;
use crate::text::fold;

/// A header reduced for comparison: folded (case and diacritics) and without anything but
/// letters and digits (`"Adres e-mail"` → `"adresemail"`).
fn squash(s: &str) -> String {
    fold(s).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// `s` without parenthesized or bracketed parts (`"Wartość umowy (zł)"` → `"Wartość umowy "`),
/// which usually carry a unit or a note.
fn without_parens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Synonyms of each target, squashed. Entries ending in a digit are tried on the header as
/// it is; the others also after its trailing number is dropped (`"Telefon 2"`).
const SYNONYMS: &[(&str, &[&str])] = &[
    ("first_name", &["imie", "firstname", "givenname", "imiona"]),
    (
        "last_name",
        &["nazwisko", "lastname", "surname", "familyname"],
    ),
    (
        "organization_name",
        &[
            "nazwa",
            "firma",
            "nazwafirmy",
            "company",
            "companyname",
            "organization",
            "organisation",
            "organizationname",
            "organisationname",
            "organizacja",
            "nazwaorganizacji",
        ],
    ),
    ("name", &["imieinazwisko", "fullname", "name"]),
    (
        "phone.mobile",
        &[
            "telefon",
            "tel",
            "nrtel",
            "nrtelefonu",
            "numertelefonu",
            "phone",
            "phones",
            "phonenumber",
            "telefony",
            "komorka",
            "telkom",
            "telefonkom",
            "telefonkomorkowy",
            "mobile",
            "mobilephone",
            "cellphone",
            "gsm",
        ],
    ),
    (
        "phone.landline",
        &[
            "telefonstacjonarny",
            "telstacjonarny",
            "stacjonarny",
            "landline",
            "telefondomowy",
            "homephone",
        ],
    ),
    (
        "phone.work",
        &[
            "telefonsluzbowy",
            "telsluzbowy",
            "workphone",
            "businessphone",
            "officephone",
        ],
    ),
    ("phone.main", &["telefonglowny", "mainphone"]),
    (
        "phone.office_fax",
        &[
            "fax",
            "faks",
            "nrfaksu",
            "numerfaksu",
            "faxnumber",
            "officefax",
        ],
    ),
    ("phone.home_fax", &["homefax", "faksdomowy"]),
    ("phone.other", &["innytelefon", "otherphone"]),
    (
        "email",
        &[
            "email",
            "emaile",
            "emails",
            "mail",
            "adresemail",
            "adresmail",
            "emailaddress",
        ],
    ),
    ("city", &["miasto", "miejscowosc", "city", "town"]),
    ("address_line2", &["adres2", "address2", "addressline2"]),
    (
        "address_line1",
        &[
            "adres",
            "ulica",
            "address",
            "street",
            "addressline",
            "address1",
            "adres1",
            "addressline1",
        ],
    ),
    (
        "postal_code",
        &[
            "kodpocztowy",
            "kod",
            "postalcode",
            "zip",
            "zipcode",
            "postcode",
        ],
    ),
    (
        "province",
        &["wojewodztwo", "woj", "province", "state", "region"],
    ),
    ("country", &["kraj", "country", "panstwo"]),
    (
        "nip",
        &[
            "nip",
            "nrnip",
            "numernip",
            "vat",
            "vatid",
            "vatnumber",
            "taxid",
        ],
    ),
    ("pesel", &["pesel", "nrpesel", "numerpesel"]),
    ("regon", &["regon", "nrregon", "numerregon"]),
    ("language", &["jezyk", "language"]),
    (
        "external_id",
        &["idzewnetrzne", "identyfikatorzewnetrzny", "externalid"],
    ),
    ("position", &["stanowisko", "position", "jobtitle"]),
    ("stage", &["etap", "stage"]),
    (
        "acquisition_source",
        &["zrodlopozyskania", "acquisitionsource"],
    ),
    ("tags", &["tagi", "tags", "tag", "etykiety", "etykieta"]),
    ("kind", &["typ", "rodzaj", "kind", "type", "typrekordu"]),
];

/// The system target a squashed header names, if any.
fn system_target(squashed: &str) -> Option<Target> {
    let bare = squashed.trim_end_matches(|c: char| c.is_ascii_digit());
    let lookup = |h: &str| {
        SYNONYMS
            .iter()
            .find(|(_, names)| names.contains(&h))
            .map(|(key, _)| *key)
    };
    let key = lookup(squashed).or_else(|| {
        (bare != squashed && !bare.is_empty())
            .then_some(())
            .and_then(|()| lookup(bare))
    })?;
    Target::parse(key, &[]).ok()
}

/// The custom field whose key or label equals the squashed header.
fn custom_target(squashed: &str, custom: &[FieldDefinition]) -> Option<Target> {
    if squashed.is_empty() {
        return None;
    }
    custom
        .iter()
        .find(|d| squash(&d.key) == squashed || squash(&d.label) == squashed)
        .map(|d| Target::Custom(d.key.clone()))
}

/// The suggested target of a column from its header, in Polish or English, ignoring case,
/// diacritics, spaces, punctuation and a trailing number (`"Telefon 2"`).
///
/// In order: a header that is a target key itself (`city`, `custom.vip`, `phone.work`, as
/// an export writes them); a custom field whose key or label equals the header; the
/// Polish and English names of system targets (see the module's synonym table: `Imię` →
/// `first_name`, `Telefon` → `phone.mobile`, `Fax` → `phone.office_fax`, ...); then both
/// again with parenthesized parts dropped (`"Wartość umowy (zł)"` finds the custom field
/// keyed `wartosc_umowy`). Anything else, read-only fields included (`"Data ostatniego
/// kontaktu"`), is [`Target::Ignore`].
pub fn suggest(header: &str, custom: &[FieldDefinition]) -> Target {
    let header = header.trim();
    if header.is_empty() {
        return Target::Ignore;
    }
    if let Ok(t) = Target::parse(header, custom) {
        return t;
    }
    let full = squash(header);
    let bare = squash(&without_parens(header));
    custom_target(&full, custom)
        .or_else(|| system_target(&full))
        .or_else(|| custom_target(&bare, custom))
        .or_else(|| system_target(&bare))
        .unwrap_or(Target::Ignore)
}

/// Suggestions for every column; a single-value target already taken by an earlier
/// column becomes [`Target::Ignore`] for later ones (phones, e-mails and tags repeat).
pub fn suggest_all(headers: &[String], custom: &[FieldDefinition]) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::with_capacity(headers.len());
    for h in headers {
        let t = suggest(h, custom);
        let taken = !t.repeatable() && t != Target::Ignore && out.contains(&t);
        out.push(if taken { Target::Ignore } else { t });
    }
    out
}
