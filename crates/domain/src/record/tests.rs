#![allow(clippy::unwrap_used)]
use super::*;
use crate::field::FieldType;

fn dicts() -> BTreeMap<String, Vec<(String, String)>> {
    BTreeMap::from([(
        "languages".to_string(),
        vec![
            ("pl".to_string(), "Polish".to_string()),
            ("en".to_string(), "English".to_string()),
        ],
    )])
}

fn vip() -> FieldDefinition {
    FieldDefinition {
        key: "vip".into(),
        label: "VIP".into(),
        field_type: FieldType::Dictionary,
        options: vec!["Gold".into()],
        mask: None,
        visible: true,
        editable: false,
        required: false,
        position: 0,
    }
}

fn patch(
    current: &RecordData,
    p: Value,
    defs: &[FieldDefinition],
    agent: bool,
) -> Result<(RecordData, BTreeSet<String>), Vec<FieldError>> {
    let d = dicts();
    let ctx = WriteContext {
        kind: RecordKind::Person,
        default_region: "PL",
        zone: chrono_tz::Europe::Warsaw,
        custom_fields: defs,
        dictionaries: &d,
        bound_by_flags: agent,
        creating: false,
    };
    apply_patch(current, p.as_object().unwrap(), &ctx)
}

#[test]
fn a_patch_sets_normalizes_and_clears_fields() {
    let (r, touched) = patch(
        &RecordData::default(),
        json!({"first_name": " Anna ", "last_name": "Kowalska", "nip": "PL 526-025-02-74",
               "language": "PL", "phones": ["600 700 800", {"number": "+48 22 123 45 67", "type": "work", "default": true}],
               "emails": ["Anna@Example.PL"], "tags": ["b", "a", "b"]}),
        &[],
        false,
    )
    .unwrap();
    assert_eq!(r.field("first_name"), Some("Anna"));
    assert_eq!(r.field("nip"), Some("5260250274"));
    assert_eq!(r.field("language"), Some("pl"));
    assert_eq!(r.phones[0].number, "+48600700800");
    assert!(!r.phones[0].default && r.phones[1].default);
    assert!(r.emails[0].default);
    assert_eq!(r.tags, vec!["a", "b"]);
    assert!(touched.contains("phones"));
    assert_eq!(r.display_name(RecordKind::Person), "Anna Kowalska");

    let (r2, _) = patch(&r, json!({"first_name": null, "nip": ""}), &[], false).unwrap();
    assert_eq!(r2.field("first_name"), None);
    assert_eq!(r2.field("nip"), None);
    let changes = diff(&r, &r2);
    assert_eq!(
        changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        ["first_name", "nip"]
    );
    assert_eq!(changes[0].before, json!("Anna"));
    assert_eq!(changes[0].after, Value::Null);
}

#[test]
fn every_bad_field_is_named_with_its_reason() {
    let errors = patch(
        &RecordData::default(),
        json!({"nip": "1234567890", "phones": ["123", "600700800", "600-700-800"],
               "emails": [{"address": "x@y.pl", "default": true}, {"address": "z@y.pl", "default": true}],
               "language": "tlh", "kind": "organization", "created_at": "2020-01-01", "shoe_size": 4,
               "organization_name": "ACME"}),
        &[],
        false,
    )
    .unwrap_err();
    let fields: Vec<_> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    for expected in [
        ("nip", "invalid_checksum"),
        ("phones[0].number", "invalid_phone"),
        ("phones[2].number", "duplicate"),
        ("emails", "multiple_defaults"),
        ("language", "not_in_dictionary"),
        ("kind", "immutable"),
        ("created_at", "read_only"),
        ("shoe_size", "unknown_field"),
        ("organization_name", "not_allowed"),
    ] {
        assert!(
            fields.contains(&expected),
            "{expected:?} missing in {fields:?}"
        );
    }
}

#[test]
fn agents_cannot_write_non_editable_custom_fields_but_others_can() {
    let defs = [vip()];
    let err = patch(
        &RecordData::default(),
        json!({"custom": {"vip": "gold"}}),
        &defs,
        true,
    )
    .unwrap_err();
    assert_eq!(err[0].field, "custom.vip");
    assert_eq!(err[0].code, "not_editable");
    let (r, _) = patch(
        &RecordData::default(),
        json!({"custom.vip": "gold"}),
        &defs,
        false,
    )
    .unwrap();
    assert_eq!(r.custom.get("vip").map(String::as_str), Some("Gold"));
    // Sending back the stored value is no change, so it is allowed.
    assert!(patch(&r, json!({"custom": {"vip": "Gold"}}), &defs, true).is_ok());
}

#[test]
fn a_required_field_binds_creation_and_its_own_edits_only() {
    let mut def = vip();
    def.editable = true;
    def.required = true;
    let defs = [def];
    let d = dicts();
    let mut ctx = WriteContext {
        kind: RecordKind::Person,
        default_region: "PL",
        zone: chrono_tz::Europe::Warsaw,
        custom_fields: &defs,
        dictionaries: &d,
        bound_by_flags: false,
        creating: true,
    };
    let p = json!({"last_name": "Nowak"});
    let err = apply_patch(&RecordData::default(), p.as_object().unwrap(), &ctx).unwrap_err();
    assert_eq!(err[0].code, "required");
    ctx.creating = false;
    assert!(apply_patch(&RecordData::default(), p.as_object().unwrap(), &ctx).is_ok());
    let clear = json!({"custom": {"vip": null}});
    assert!(apply_patch(&RecordData::default(), clear.as_object().unwrap(), &ctx).is_err());
}

#[test]
fn languages_match_codes_labels_and_names_in_polish_and_english() {
    let d = dicts();
    let langs = &d["languages"];
    for typed in ["pl", "PL", "Polish", "polski", " Polski "] {
        assert_eq!(
            dictionary_code("languages", langs, typed).as_deref(),
            Some("pl"),
            "{typed}"
        );
    }
    assert_eq!(
        dictionary_code("languages", langs, "angielski").as_deref(),
        Some("en")
    );
    assert_eq!(
        dictionary_code("languages", langs, "niemiecki"),
        None,
        "not in the dictionary"
    );
    assert_eq!(dictionary_code("stages", langs, "polski"), None);
}

#[test]
fn display_name_falls_back_to_contact_data() {
    let (r, _) = patch(
        &RecordData::default(),
        json!({"phones": ["600700800"]}),
        &[],
        false,
    )
    .unwrap();
    assert_eq!(r.display_name(RecordKind::Person), "+48600700800");
    let (r, _) = patch(&r, json!({"name": "Pan Prezes"}), &[], false).unwrap();
    assert_eq!(r.display_name(RecordKind::Person), "Pan Prezes");
}
