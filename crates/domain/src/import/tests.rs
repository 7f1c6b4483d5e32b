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

#[test]
fn a_nip_with_a_pl_prefix_and_dashes_is_stored_compact() {
    let mapping = targets(&["last_name", "nip"], &[]);
    let row = convert(
        &[t("Wróbel"), t("PL 397-434-70-85")],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(row.data.field("nip"), Some("3974347085"));
    assert_eq!(row.repairs, []);
}

#[test]
fn languages_map_from_polish_and_english_names_and_unknown_ones_are_invalid() {
    let mapping = targets(&["last_name", "language"], &[]);
    for (given, code) in [
        ("polski", "pl"),
        ("Polski", "pl"),
        ("Polish", "pl"),
        ("PL", "pl"),
        ("niemiecki", "de"),
        ("rumunski", "ro"),
        ("Cestina", "cs"),
    ] {
        let row = convert(&[t("Nowak"), t(given)], &mapping, &[], None, false);
        assert_eq!(row.errors, [], "{given}");
        assert_eq!(row.data.field("language"), Some(code), "{given}");
    }
    let row = convert(&[t("Nowak"), t("ukraiński")], &mapping, &[], None, false);
    assert_eq!(row.errors.len(), 1);
    assert_eq!(row.errors[0].column, 1);
    assert_eq!(row.errors[0].code, "not_in_dictionary");
    assert!(
        row.errors[0].message.contains("pl, en, de, cs, ro"),
        "{}",
        row.errors[0].message
    );
}

#[test]
fn other_dictionary_fields_take_codes_or_labels() {
    let mapping = targets(&["last_name", "stage"], &[]);
    let row = convert(
        &[t("Nowak"), t("potencjalny KLIENT")],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.data.field("stage"), Some("lead"));
    let row = convert(&[t("Nowak"), t("Stały klient")], &mapping, &[], None, false);
    assert_eq!(row.errors[0].code, "not_in_dictionary");
}

#[test]
fn an_error_cell_is_read_as_empty_with_a_repair() {
    let mapping = targets(&["first_name", "last_name", "city"], &[]);
    let row = convert(
        &[t("Grażyna"), t("Michalak"), Cell::Error("#N/A".into())],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(row.data.field("city"), None);
    assert_eq!(row.repairs.len(), 1);
    assert_eq!(row.repairs[0].column, 2);
    assert_eq!(row.repairs[0].code, "error_cell_empty");
    assert!(row.repairs[0].message.contains("#N/A"));
}

#[test]
fn a_cell_over_32_kb_is_too_long() {
    let custom = [def("notatka", "Notatka", FieldType::Text)];
    let mapping = targets(&["last_name", "custom.notatka"], &custom);
    let row = convert(
        &[t("Nowak"), t(&"Długa notatka. ".repeat(2600))],
        &mapping,
        &custom,
        None,
        false,
    );
    assert_eq!(row.errors.len(), 1);
    assert_eq!(row.errors[0].column, 1);
    assert_eq!(row.errors[0].code, "too_long");
}

#[test]
fn a_row_of_blank_cells_is_blank() {
    let mapping = sample_mapping();
    let mut cells = sample_row(["", " ", "", "", "\t", "", "", "", "", "", "", ""]);
    cells[3] = Cell::Empty;
    let row = convert(&cells, &mapping, &[contract()], None, false);
    assert!(row.blank);
    assert_eq!(row.errors, []);
    // Values only in ignored columns or beyond the mapping do not count.
    let row = convert(
        &[t(""), t("22.06.2023")],
        &targets(&["first_name", ""], &[]),
        &[],
        None,
        false,
    );
    assert!(row.blank);
    let row = convert(
        &[Cell::Empty, t("x")],
        &targets(&["city"], &[]),
        &[],
        None,
        false,
    );
    assert!(row.blank);
}

#[test]
fn a_row_with_an_organization_name_and_no_person_names_is_an_organization() {
    let mapping = targets(
        &["first_name", "last_name", "organization_name", "phone.work"],
        &[],
    );
    let row = convert(
        &[
            Cell::Empty,
            t(" "),
            t("Piekarnia Kłos s.c."),
            t("22 123 45 67"),
        ],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(row.kind, RecordKind::Organization);
    assert_eq!(row.data.display_name(row.kind), "Piekarnia Kłos s.c.");

    // With a person's name as well it is a person, whose organization name is refused.
    let row = convert(
        &[t("Jan"), t("Kłos"), t("Piekarnia Kłos s.c."), Cell::Empty],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.kind, RecordKind::Person);
    assert_eq!(row.errors.len(), 1);
    assert_eq!(
        (row.errors[0].column, row.errors[0].code.as_str()),
        (2, "not_allowed")
    );

    // A kind for every row overrides the guess.
    let row = convert(
        &[
            Cell::Empty,
            Cell::Empty,
            t("Piekarnia Kłos s.c."),
            Cell::Empty,
        ],
        &mapping,
        &[],
        Some(RecordKind::Person),
        false,
    );
    assert_eq!(row.kind, RecordKind::Person);
    assert_eq!(row.errors[0].code, "not_allowed");
}

#[test]
fn a_kind_column_takes_polish_and_english_words() {
    let mapping = targets(&["kind", "organization_name", "last_name"], &[]);
    for (word, kind) in [
        ("Firma", RecordKind::Organization),
        ("organizacja", RecordKind::Organization),
        ("Company", RecordKind::Organization),
        ("organization", RecordKind::Organization),
    ] {
        let row = convert(
            &[t(word), t("Apteka Pod Lwem"), Cell::Empty],
            &mapping,
            &[],
            None,
            false,
        );
        assert_eq!(row.kind, kind, "{word}");
        assert_eq!(row.errors, [], "{word}");
    }
    for word in ["osoba", "OSOBA FIZYCZNA", "Person", "person"] {
        let row = convert(
            &[t(word), Cell::Empty, t("Nowak")],
            &mapping,
            &[],
            None,
            false,
        );
        assert_eq!(row.kind, RecordKind::Person, "{word}");
        assert_eq!(row.errors, [], "{word}");
    }
    let row = convert(
        &[t("klient"), Cell::Empty, t("Nowak")],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(
        (row.errors[0].column, row.errors[0].code.as_str()),
        (0, "invalid_kind")
    );
}

#[test]
fn custom_numbers_and_dates_come_from_number_date_and_text_cells() {
    let custom = [
        contract(),
        def("ostatnia_wizyta", "Ostatnia wizyta", FieldType::DateTime),
        def("status_vip", "Status VIP", FieldType::Dictionary),
    ];
    let mapping = targets(
        &[
            "last_name",
            "custom.wartosc_umowy",
            "custom.ostatnia_wizyta",
            "custom.status_vip",
        ],
        &custom,
    );
    let value = |row: &ConvertedRow, k: &str| row.data.custom.get(k).cloned();
    let row = convert(
        &[
            t("Nowak"),
            Cell::Number(66773.4),
            Cell::DateTime(45099.5),
            t("zloty"),
        ],
        &mapping,
        &custom,
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(value(&row, "wartosc_umowy").as_deref(), Some("66773.4"));
    // 2023-06-22 12:00 in Warsaw (summer time).
    assert_eq!(
        value(&row, "ostatnia_wizyta").as_deref(),
        Some("2023-06-22T10:00:00Z")
    );
    assert_eq!(value(&row, "status_vip").as_deref(), Some("Złoty"));

    let row = convert(
        &[t("Nowak"), t("66 773,40"), t("08.11.2023"), Cell::Empty],
        &mapping,
        &custom,
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(value(&row, "wartosc_umowy").as_deref(), Some("66773.4"));
    assert_eq!(
        value(&row, "ostatnia_wizyta").as_deref(),
        Some("2023-11-07T23:00:00Z")
    );

    let row = convert(
        &[t("Nowak"), t("dużo"), t("jutro"), t("Brązowy")],
        &mapping,
        &custom,
        None,
        false,
    );
    let found: Vec<(usize, &str)> = row
        .errors
        .iter()
        .map(|e| (e.column, e.code.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (1, "invalid_number"),
            (2, "invalid_date"),
            (3, "not_in_dictionary")
        ]
    );
}

#[test]
fn text_fields_read_numbers_and_dates_as_shown() {
    let mapping = targets(&["last_name", "external_id", "address_line2"], &[]);
    let row = convert(
        &[t("Nowak"), Cell::Number(100_234.0), Cell::DateTime(45099.0)],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.data.field("external_id"), Some("100234"));
    assert_eq!(row.data.field("address_line2"), Some("2023-06-22"));
}

#[test]
fn tags_split_on_commas_and_semicolons_and_a_long_tag_is_invalid() {
    let mapping = targets(&["last_name", "tags", "tags"], &[]);
    let row = convert(
        &[t("Nowak"), t("VIP, newsletter;; "), t("targi 2024; VIP")],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(
        row.data.tags,
        ["VIP", "newsletter", "targi 2024"]
            .map(String::from)
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    let row = convert(
        &[
            t("Nowak"),
            t(&format!("VIP, {}", "x".repeat(101))),
            Cell::Empty,
        ],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(
        (row.errors[0].column, row.errors[0].code.as_str()),
        (1, "invalid_tag")
    );
}

#[test]
fn required_custom_fields_are_reported_at_their_column_or_the_row() {
    let mut consent = def("zgoda", "Zgoda RODO", FieldType::Text);
    consent.required = true;
    let custom = [consent];
    let mapping = targets(&["last_name", "custom.zgoda"], &custom);
    let row = convert(&[t("Nowak"), Cell::Empty], &mapping, &custom, None, false);
    assert_eq!(
        (row.errors[0].column, row.errors[0].code.as_str()),
        (1, "required")
    );
    let row = convert(&[t("Nowak")], &mapping[..1], &custom, None, false);
    assert_eq!(
        (row.errors[0].column, row.errors[0].code.as_str()),
        (ROW, "required")
    );
}

#[test]
fn agents_cannot_import_into_fields_that_are_not_editable() {
    let mut score = def("scoring", "Scoring", FieldType::Number);
    score.editable = false;
    let custom = [score];
    let mapping = targets(&["last_name", "custom.scoring"], &custom);
    let cells = [t("Nowak"), Cell::Number(7.0)];
    let row = convert(&cells, &mapping, &custom, None, true);
    assert_eq!(
        (row.errors[0].column, row.errors[0].code.as_str()),
        (1, "not_editable")
    );
    let row = convert(&cells, &mapping, &custom, None, false);
    assert_eq!(row.errors, []);
    assert_eq!(
        row.data.custom.get("scoring").map(String::as_str),
        Some("7")
    );
}

// --- match keys -----------------------------------------------------------------------------

#[test]
fn match_keys_give_the_normalized_values_of_a_row() {
    let mapping = targets(
        &["last_name", "phone.mobile", "email", "pesel", "external_id"],
        &[],
    );
    let row = convert(
        &[
            t("Kowalczyk"),
            t("501 377 635, 604 579 644"),
            t("Renata.Kowalczyk39@Gmail.com"),
            t(" 57050774867"),
            t("CRM-00017"),
        ],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert_eq!(
        MatchKey::Phone.values(&row.data),
        ["+48501377635", "+48604579644"]
    );
    assert_eq!(
        MatchKey::Email.values(&row.data),
        ["renata.kowalczyk39@gmail.com"]
    );
    assert_eq!(MatchKey::Pesel.values(&row.data), ["57050774867"]);
    assert_eq!(MatchKey::ExternalId.values(&row.data), ["CRM-00017"]);
    assert!(MatchKey::Nip.values(&row.data).is_empty());
    for k in MatchKey::ALL {
        assert_eq!(MatchKey::parse(k.as_str()).unwrap(), k);
    }
    assert_eq!(
        MatchKey::parse("regon").unwrap_err().code,
        "invalid_match_key"
    );
}

// --- updates --------------------------------------------------------------------------------

fn stored() -> RecordData {
    let mut r = RecordData::default();
    r.fields.insert("first_name".into(), "Zofia".into());
    r.fields.insert("last_name".into(), "Kowalczyk".into());
    r.fields.insert("city".into(), "Kraków".into());
    r.fields.insert("nip".into(), "4550957283".into());
    r.phones = vec![
        Phone {
            number: "+48723064322".into(),
            raw: "723 064 322".into(),
            phone_type: PhoneType::Mobile,
            extension: None,
            default: false,
        },
        Phone {
            number: "+48221234567".into(),
            raw: "22 123 45 67 wew. 12".into(),
            phone_type: PhoneType::Work,
            extension: Some("12".into()),
            default: true,
        },
    ];
    r.emails = vec![EmailAddress {
        address: "Zofia.Kowalczyk@onet.pl".into(),
        default: true,
    }];
    r.tags = vec!["VIP".into()];
    r
}

fn update_ctx<'a>(
    d: &'a BTreeMap<String, Vec<(String, String)>>,
    custom: &'a [FieldDefinition],
) -> WriteContext<'a> {
    WriteContext {
        kind: RecordKind::Person,
        default_region: "PL",
        zone: chrono_tz::Europe::Warsaw,
        custom_fields: custom,
        dictionaries: d,
        bound_by_flags: false,
        creating: false,
    }
}

#[test]
fn an_update_keeps_existing_phones_adds_new_ones_and_keeps_fields_of_blank_cells() {
    let custom = [contract()];
    let mapping = targets(
        &[
            "first_name",
            "last_name",
            "city",
            "phone.mobile",
            "phone.mobile",
            "email",
            "tags",
            "custom.wartosc_umowy",
        ],
        &custom,
    );
    let row = convert(
        &[
            Cell::Empty,
            t("Kowalczyk"),
            t("Kraków"),
            t("+48 723-064-322"),
            t("604 579 644"),
            t("zofia.kowalczyk@ONET.pl; zofia@kowalczyk.eu"),
            t("VIP; newsletter"),
            Cell::Number(92188.05),
        ],
        &mapping,
        &custom,
        None,
        false,
    );
    assert_eq!(row.errors, []);
    let current = stored();
    let patch = update_patch(&current, &row);
    let mut keys: Vec<&str> = patch.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["custom.wartosc_umowy", "emails", "phones", "tags"]);

    let d = dicts();
    let (next, _) = apply_patch(&current, &patch, &update_ctx(&d, &custom)).unwrap();
    assert_eq!(next.field("first_name"), Some("Zofia"));
    assert_eq!(next.field("nip"), Some("4550957283"));
    assert_eq!(next.phones[..2], current.phones[..]);
    assert_eq!(next.phones.len(), 3);
    assert_eq!(next.phones[2].number, "+48604579644");
    assert_eq!(next.phones[2].raw, "604 579 644");
    assert!(!next.phones[2].default);
    assert_eq!(next.default_phone().unwrap().number, "+48221234567");
    let emails: Vec<(&str, bool)> = next
        .emails
        .iter()
        .map(|e| (e.address.as_str(), e.default))
        .collect();
    assert_eq!(
        emails,
        [
            ("Zofia.Kowalczyk@onet.pl", true),
            ("zofia@kowalczyk.eu", false)
        ]
    );
    assert_eq!(next.tags, ["VIP", "newsletter"]);
    assert_eq!(
        next.custom.get("wartosc_umowy").map(String::as_str),
        Some("92188.05")
    );
}

#[test]
fn an_update_gives_a_record_without_phones_the_rows_first_as_default() {
    let mapping = targets(&["last_name", "phone.mobile", "city"], &[]);
    let row = convert(
        &[
            t("Kowalczyk"),
            t("604 579 644, 501 377 635"),
            t("Wieliczka"),
        ],
        &mapping,
        &[],
        None,
        false,
    );
    let mut current = stored();
    current.phones.clear();
    let patch = update_patch(&current, &row);
    assert_eq!(patch.get("city"), Some(&json!("Wieliczka")));
    let d = dicts();
    let (next, _) = apply_patch(&current, &patch, &update_ctx(&d, &[])).unwrap();
    assert_eq!(next.default_phone().unwrap().number, "+48604579644");
    assert_eq!(next.phones.len(), 2);
}

#[test]
fn an_update_that_changes_nothing_is_an_empty_patch() {
    let mapping = targets(&["last_name", "phone.work", "email"], &[]);
    let row = convert(
        &[
            t("Kowalczyk"),
            t("+48 22 123 45 67"),
            t("ZOFIA.KOWALCZYK@ONET.PL"),
        ],
        &mapping,
        &[],
        None,
        false,
    );
    assert_eq!(row.errors, []);
    assert!(update_patch(&stored(), &row).is_empty());
}
