#![allow(clippy::unwrap_used)]
use std::collections::BTreeMap;

use super::*;
use crate::record::{EmailAddress, Phone};

fn def(key: &str, label: &str, t: FieldType) -> FieldDefinition {
    FieldDefinition {
        key: key.into(),
        label: label.into(),
        field_type: t,
        options: vec!["Złoty".into(), "Srebrny".into()],
        mask: None,
        visible: true,
        editable: true,
        required: false,
        position: 0,
    }
}

fn contract() -> FieldDefinition {
    def("wartosc_umowy", "Wartość umowy (zł)", FieldType::Number)
}

fn dicts() -> BTreeMap<String, Vec<(String, String)>> {
    let entries = |e: &[(&str, &str)]| {
        e.iter()
            .map(|(c, l)| (c.to_string(), l.to_string()))
            .collect::<Vec<_>>()
    };
    BTreeMap::from([
        (
            "languages".to_string(),
            entries(&[
                ("pl", "Polski"),
                ("en", "English"),
                ("de", "Deutsch"),
                ("cs", "Čeština"),
                ("ro", "Română"),
            ]),
        ),
        (
            "stages".to_string(),
            entries(&[("lead", "Potencjalny klient"), ("client", "Klient")]),
        ),
    ])
}

/// Converts one row against the sample file's columns, or others given.
fn convert(
    cells: &[Cell],
    mapping: &[Target],
    custom: &[FieldDefinition],
    kind: Option<RecordKind>,
    agent: bool,
) -> ConvertedRow {
    let d = dicts();
    let ctx = RowContext {
        write: WriteContext {
            kind: RecordKind::Person,
            default_region: "PL",
            zone: chrono_tz::Europe::Warsaw,
            custom_fields: custom,
            dictionaries: &d,
            bound_by_flags: agent,
            creating: true,
        },
        kind,
    };
    convert_row(cells, mapping, &ctx)
}

fn t(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn target(key: &str, custom: &[FieldDefinition]) -> Target {
    Target::parse(key, custom).unwrap()
}

fn targets(keys: &[&str], custom: &[FieldDefinition]) -> Vec<Target> {
    keys.iter().map(|k| target(k, custom)).collect()
}

const SAMPLE_HEADERS: [&str; 12] = [
    "Imię",
    "Nazwisko",
    "Telefon",
    "Telefon 2",
    "E-mail",
    "Miasto",
    "Adres",
    "NIP",
    "PESEL",
    "Język",
    "Data ostatniego kontaktu",
    "Wartość umowy (zł)",
];

fn sample_mapping() -> Vec<Target> {
    suggest_all(&SAMPLE_HEADERS.map(String::from), &[contract()])
}

// --- targets --------------------------------------------------------------------------------

#[test]
fn target_keys_round_trip() {
    let custom = [contract()];
    for key in [
        "",
        "kind",
        "first_name",
        "acquisition_source",
        "custom.wartosc_umowy",
        "phone.mobile",
        "phone.office_fax",
        "email",
        "tags",
    ] {
        assert_eq!(target(key, &custom).key(), key);
    }
}

#[test]
fn read_only_and_unknown_targets_are_refused() {
    for key in ["created_at", "source", "last_contact_at", "display_name"] {
        let e = Target::parse(key, &[]).unwrap_err();
        assert_eq!(e.code, "read_only", "{key}");
        assert!(e.message.contains("cannot be imported"), "{}", e.message);
    }
    for key in ["custom.nope", "phone.pager", "nickname", "managers"] {
        assert_eq!(
            Target::parse(key, &[contract()]).unwrap_err().code,
            "unknown_target",
            "{key}"
        );
    }
}

#[test]
fn phones_emails_and_tags_are_repeatable_and_other_targets_are_not() {
    assert!(Target::Phone(PhoneType::Work).repeatable());
    assert!(Target::Email.repeatable());
    assert!(Target::Tags.repeatable());
    assert!(!Target::Kind.repeatable());
    assert!(!Target::Field("city".into()).repeatable());
    assert!(!Target::Custom("wartosc_umowy".into()).repeatable());
}

#[test]
fn a_mapping_with_one_single_value_target_twice_is_refused_at_the_later_column() {
    let m = targets(
        &["city", "phone.mobile", "phone.mobile", "", "", "city"],
        &[],
    );
    let problems = check_mapping(&m);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].0, 5);
    assert_eq!(problems[0].1.code, "duplicate_target");
}

// --- header suggestions ---------------------------------------------------------------------

#[test]
fn every_header_of_the_sample_file_gets_its_suggestion() {
    let expected = [
        "first_name",
        "last_name",
        "phone.mobile",
        "phone.mobile",
        "email",
        "city",
        "address_line1",
        "nip",
        "pesel",
        "language",
        "",
        "custom.wartosc_umowy",
    ];
    let keys: Vec<String> = sample_mapping().iter().map(Target::key).collect();
    assert_eq!(keys, expected);
}

#[test]
fn the_contract_value_column_finds_a_custom_field_by_label_or_by_key_and_is_ignored_without_one() {
    let header = "Wartość umowy (zł)";
    let by_label = def("umowa", "Wartość umowy (zł)", FieldType::Number);
    assert_eq!(suggest(header, &[by_label]), Target::Custom("umowa".into()));
    let by_key = def("wartosc_umowy", "Kwota", FieldType::Number);
    assert_eq!(
        suggest(header, &[by_key]),
        Target::Custom("wartosc_umowy".into())
    );
    assert_eq!(suggest(header, &[]), Target::Ignore);
}

#[test]
fn the_last_contact_date_is_read_only_and_never_suggested() {
    assert_eq!(suggest("Data ostatniego kontaktu", &[]), Target::Ignore);
    assert_eq!(suggest("last_contact_at", &[]), Target::Ignore);
    assert_eq!(suggest("Źródło", &[]), Target::Ignore);
}

#[test]
fn polish_headers_ignore_case_diacritics_punctuation_and_numbers() {
    let cases = [
        ("IMIE", "first_name"),
        ("  imię ", "first_name"),
        ("Nazwa firmy", "organization_name"),
        ("Firma", "organization_name"),
        ("Imię i nazwisko", "name"),
        ("Nr telefonu", "phone.mobile"),
        ("Numer telefonu 3", "phone.mobile"),
        ("Tel.", "phone.mobile"),
        ("Telefon komórkowy", "phone.mobile"),
        ("Komórka", "phone.mobile"),
        ("GSM", "phone.mobile"),
        ("Telefon stacjonarny", "phone.landline"),
        ("Telefon służbowy", "phone.work"),
        ("Fax", "phone.office_fax"),
        ("Adres e-mail", "email"),
        ("E-mail 2", "email"),
        ("Miejscowość", "city"),
        ("Ulica", "address_line1"),
        ("Adres 2", "address_line2"),
        ("Kod pocztowy", "postal_code"),
        ("Kod", "postal_code"),
        ("Województwo", "province"),
        ("Kraj", "country"),
        ("REGON", "regon"),
        ("ID zewnętrzne", "external_id"),
        ("Identyfikator zewnętrzny", "external_id"),
        ("Stanowisko", "position"),
        ("Etap", "stage"),
        ("Źródło pozyskania", "acquisition_source"),
        ("Tagi", "tags"),
        ("Etykiety", "tags"),
        ("Typ", "kind"),
        ("Rodzaj", "kind"),
        ("Telefon (komórka)", "phone.mobile"),
    ];
    for (header, key) in cases {
        assert_eq!(suggest(header, &[]).key(), key, "{header}");
    }
}

#[test]
fn english_headers_get_their_suggestions() {
    let cases = [
        ("First name", "first_name"),
        ("Firstname", "first_name"),
        ("Given name", "first_name"),
        ("Last Name", "last_name"),
        ("Surname", "last_name"),
        ("Family name", "last_name"),
        ("Company", "organization_name"),
        ("Organisation", "organization_name"),
        ("Company name", "organization_name"),
        ("Full name", "name"),
        ("Name", "name"),
        ("Phone", "phone.mobile"),
        ("Phone number", "phone.mobile"),
        ("Mobile", "phone.mobile"),
        ("Landline", "phone.landline"),
        ("Work phone", "phone.work"),
        ("Email", "email"),
        ("Mail", "email"),
        ("City", "city"),
        ("Town", "city"),
        ("Address", "address_line1"),
        ("Street", "address_line1"),
        ("Address 1", "address_line1"),
        ("Address 2", "address_line2"),
        ("Postal code", "postal_code"),
        ("ZIP", "postal_code"),
        ("Zip code", "postal_code"),
        ("Postcode", "postal_code"),
        ("Province", "province"),
        ("State", "province"),
        ("Region", "province"),
        ("Country", "country"),
        ("VAT", "nip"),
        ("Tax ID", "nip"),
        ("Language", "language"),
        ("External ID", "external_id"),
        ("External id", "external_id"),
        ("Position", "position"),
        ("Job title", "position"),
        ("Stage", "stage"),
        ("Acquisition source", "acquisition_source"),
        ("Tags", "tags"),
        ("Kind", "kind"),
        ("Type", "kind"),
        ("Notes", ""),
        ("Created at", ""),
    ];
    for (header, key) in cases {
        assert_eq!(suggest(header, &[]).key(), key, "{header}");
    }
}

#[test]
fn headers_written_as_target_keys_map_to_themselves() {
    let custom = [def("vip", "Klient VIP", FieldType::Dictionary)];
    assert_eq!(suggest("address_line2", &custom).key(), "address_line2");
    assert_eq!(suggest("custom.vip", &custom).key(), "custom.vip");
    assert_eq!(suggest("phone.home_fax", &custom).key(), "phone.home_fax");
    assert_eq!(suggest("Klient VIP", &custom).key(), "custom.vip");
    assert_eq!(suggest("vip", &custom).key(), "custom.vip");
}

#[test]
fn a_repeated_single_value_header_is_suggested_once_and_phones_repeat() {
    let headers = [
        "Imię", "Telefon", "Miasto", "Telefon", "Miasto", "E-mail", "Email", "Imie",
    ]
    .map(String::from);
    let keys: Vec<String> = suggest_all(&headers, &[]).iter().map(Target::key).collect();
    assert_eq!(
        keys,
        [
            "first_name",
            "phone.mobile",
            "city",
            "phone.mobile",
            "",
            "email",
            "email",
            ""
        ]
    );
}

// --- rows -----------------------------------------------------------------------------------

fn sample_row(values: [&str; 12]) -> Vec<Cell> {
    values.iter().map(|v| t(v)).collect()
}

#[test]
fn a_valid_row_of_the_sample_file_becomes_a_person() {
    let cells = sample_row([
        "Bartłomiej",
        "Kamiński",
        "508 685 431",
        "",
        "bartlomiej.kaminski1950@firma.com.pl",
        "Elbląg",
        "ul. Kopernika 165, 76-667 Elbląg",
        "PL 397-434-70-85",
        "50122058995",
        "polski",
        "18.08.2024",
        "43797",
    ]);
    let row = convert(&cells, &sample_mapping(), &[contract()], None, false);
    assert_eq!(row.errors, []);
    assert!(!row.blank);
    assert_eq!(row.kind, RecordKind::Person);
    let d = &row.data;
    assert_eq!(d.field("first_name"), Some("Bartłomiej"));
    assert_eq!(d.field("last_name"), Some("Kamiński"));
    assert_eq!(d.field("city"), Some("Elbląg"));
    assert_eq!(d.field("nip"), Some("3974347085"));
    assert_eq!(d.field("pesel"), Some("50122058995"));
    assert_eq!(d.field("language"), Some("pl"));
    assert_eq!(d.phones.len(), 1);
    assert_eq!(d.phones[0].number, "+48508685431");
    assert_eq!(d.phones[0].raw, "508 685 431");
    assert!(d.phones[0].default);
    assert_eq!(d.emails[0].address, "bartlomiej.kaminski1950@firma.com.pl");
    assert!(d.emails[0].default);
    assert_eq!(
        d.custom.get("wartosc_umowy").map(String::as_str),
        Some("43797")
    );
    assert_eq!(row.repairs, []);
}

#[test]
fn a_row_with_three_invalid_cells_reports_all_three_with_their_columns() {
    let cells = sample_row([
        "Dawid",
        "Ślusarczyk",
        "123",
        "",
        "dawid.slusarczyk@gazeta",
        "Zabrze",
        "al. Długa 18",
        "531-690-07-76",
        "45083081491",
        "polski",
        "",
        "",
    ]);
    let row = convert(&cells, &sample_mapping(), &[contract()], None, false);
    let found: Vec<(usize, &str)> = row
        .errors
        .iter()
        .map(|e| (e.column, e.code.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (2, "invalid_phone"),
            (4, "invalid_email"),
            (8, "invalid_checksum")
        ]
    );
    assert!(
        row.errors[0].message.contains("too short"),
        "{:?}",
        row.errors[0]
    );
    assert_eq!(row.data, RecordData::default());
}

#[test]
fn a_pesel_stored_as_a_number_gets_its_leading_zero_back() {
    let mapping = targets(&["last_name", "pesel"], &[]);
    let row = convert(
        &[t("Szymańska"), Cell::Number(2_070_803_628.0)],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(row.data.field("pesel"), Some("02070803628"));
    assert_eq!(row.repairs.len(), 1);
    assert_eq!(row.repairs[0].column, 1);
    assert_eq!(row.repairs[0].code, "leading_zeros_restored");
    assert!(!row.repairs[0].message.contains("2070803628"));

    // Digits-only text is repaired alike; a short value that padding does not make
    // valid stays invalid with the reason for what was given.
    let row = convert(&[t("Nowak"), t("2070803628")], &mapping, &[], None, false);
    assert_eq!(row.data.field("pesel"), Some("02070803628"));
    let row = convert(&[t("Nowak"), t("2070803627")], &mapping, &[], None, false);
    assert_eq!(row.errors[0].code, "invalid_length");
    assert_eq!(row.repairs, []);
}

#[test]
fn nip_and_regon_numbers_and_custom_pesel_fields_are_padded_too() {
    let custom = [def("pesel_malzonka", "PESEL małżonka", FieldType::Pesel)];
    let mapping = targets(
        &["organization_name", "nip", "regon", "custom.pesel_malzonka"],
        &custom,
    );
    // NIP 0123456789 is valid; REGON 012345675 is valid (9 digits).
    let row = convert(
        &[
            t("Hurtownia Mazowsze sp. z o.o."),
            Cell::Number(123_456_789.0),
            Cell::Number(12_345_675.0),
            Cell::Number(2_070_803_628.0),
        ],
        &mapping,
        &custom,
        Some(RecordKind::Organization),
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(row.data.field("nip"), Some("0123456789"));
    assert_eq!(row.data.field("regon"), Some("012345675"));
    assert_eq!(
        row.data.custom.get("pesel_malzonka").map(String::as_str),
        Some("02070803628")
    );
    let columns: Vec<usize> = row.repairs.iter().map(|r| r.column).collect();
    assert_eq!(columns, [1, 2, 3]);
}

#[test]
fn phones_of_the_sample_file_parse_with_tel_prefixes_and_country_codes() {
    let mapping = targets(&["last_name", "phone.mobile", "phone.landline"], &[]);
    let row = convert(
        &[t("Król"), t("tel. 457 986 941"), t("0048327898430")],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    let numbers: Vec<(&str, &str, PhoneType, bool)> = row
        .data
        .phones
        .iter()
        .map(|p| (p.number.as_str(), p.raw.as_str(), p.phone_type, p.default))
        .collect();
    assert_eq!(
        numbers,
        [
            ("+48457986941", "tel. 457 986 941", PhoneType::Mobile, true),
            ("+48327898430", "0048327898430", PhoneType::Landline, false),
        ]
    );
    let row = convert(
        &[t("Wieczorek"), t(" +48 532-003-827 "), Cell::Empty],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.data.phones[0].number, "+48532003827");
    assert_eq!(row.data.phones[0].raw, "+48 532-003-827");
}

#[test]
fn a_phone_stored_as_a_number_is_read_without_a_fraction() {
    let mapping = targets(&["last_name", "phone.mobile"], &[]);
    let row = convert(
        &[t("Dudek"), Cell::Number(48_601_234_567.0)],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(row.data.phones[0].number, "+48601234567");
    assert_eq!(row.data.phones[0].raw, "48601234567");
}

#[test]
fn a_cell_may_hold_several_phones_and_duplicates_in_the_row_are_kept_once() {
    let mapping = targets(&["last_name", "phone.mobile", "phone.work"], &[]);
    let row = convert(
        &[
            t("Kowalczyk"),
            t("501 377 635; 604 579 644"),
            t("+48 501-377-635, 22 123 45 67 wew. 12"),
        ],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    let numbers: Vec<(&str, PhoneType, Option<&str>)> = row
        .data
        .phones
        .iter()
        .map(|p| (p.number.as_str(), p.phone_type, p.extension.as_deref()))
        .collect();
    assert_eq!(
        numbers,
        [
            ("+48501377635", PhoneType::Mobile, None),
            ("+48604579644", PhoneType::Mobile, None),
            ("+48221234567", PhoneType::Work, Some("12")),
        ]
    );
    assert_eq!(row.data.default_phone().unwrap().number, "+48501377635");

    let row = convert(
        &[t("Kowalczyk"), t("tel:+48221234567;ext=12"), Cell::Empty],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(row.data.phones.len(), 1);
    assert_eq!(row.data.phones[0].extension.as_deref(), Some("12"));

    let row = convert(
        &[t("Kowalczyk"), t("501 377 635; 12"), Cell::Empty],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors.len(), 1);
    assert!(
        row.errors[0].message.starts_with("12: "),
        "{:?}",
        row.errors
    );
}

#[test]
fn emails_split_on_separators_and_repeat_once_ignoring_case() {
    let mapping = targets(&["last_name", "email", "email"], &[]);
    let row = convert(
        &[
            t("Żak"),
            t("jozef.zak@poczta.fm; Biuro@Zak-Transport.pl"),
            t("JOZEF.ZAK@POCZTA.FM biuro2@zak-transport.pl"),
        ],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    let emails: Vec<(&str, bool)> = row
        .data
        .emails
        .iter()
        .map(|e| (e.address.as_str(), e.default))
        .collect();
    assert_eq!(
        emails,
        [
            ("jozef.zak@poczta.fm", true),
            ("Biuro@Zak-Transport.pl", false),
            ("biuro2@zak-transport.pl", false),
        ]
    );
}

mod more;
