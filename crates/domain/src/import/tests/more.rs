//! Row conversion (identifiers, dictionaries, odd cells, kinds, custom values, tags,
//! required fields, access), match keys and updates; the helpers are in `tests.rs`.

use super::*;

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
