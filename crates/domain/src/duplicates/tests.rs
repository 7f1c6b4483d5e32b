#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::phone::PhoneType;
use crate::record::{EmailAddress, Phone};

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn parses_criteria() {
    let c = Criterion::parse_list(&keys(&["phone,last_name", "city"]), &[]).unwrap();
    assert_eq!(
        c,
        vec![
            Criterion::Phone,
            Criterion::Field("last_name"),
            Criterion::Field("city")
        ]
    );
    assert_eq!(
        Criterion::parse_list(&keys(&["phone", "phones"]), &[])
            .unwrap()
            .len(),
        1
    );
    let e = Criterion::parse_list(&keys(&["shoe_size"]), &[]).unwrap_err();
    assert_eq!(e.code, "invalid_criterion");
    assert!(e.message.contains("shoe_size"));
    let e = Criterion::parse_list(&[], &[]).unwrap_err();
    assert_eq!(e.code, "required");
    let eight = keys(&[
        "phone",
        "email",
        "first_name",
        "last_name",
        "city",
        "pesel",
        "nip",
        "regon",
    ]);
    assert_eq!(
        Criterion::parse_list(&eight, &[]).unwrap_err().code,
        "too_many"
    );
    assert_eq!(Criterion::parse_list(&eight[..7], &[]).unwrap().len(), 7);
    assert!(Criterion::parse("custom.x", &[]).is_err());
}

#[test]
fn groups_are_connected_components() {
    let mut g = Grouper::default();
    g.add(&[1, 2], vec![(0, "+48600".into())]);
    g.add(&[3, 2], vec![(0, "+48601".into())]);
    g.add(&[7, 9], vec![(0, "+48700".into())]);
    g.add(&[5], vec![(0, "+48999".into())]);
    let groups = g.finish(&keys(&["phone"]));
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].members, vec![1, 2, 3]);
    assert_eq!(
        groups[0].ties.get("phone").unwrap_or_default().to_vec(),
        vec!["+48600".to_string(), "+48601".to_string()]
    );
    assert_eq!(groups[1].members, vec![7, 9]);
}

#[test]
fn groups_join_through_long_chains() {
    let mut g = Grouper::default();
    for i in (0..1000).rev() {
        g.add(&[i, i + 1], vec![(0, format!("v{i}"))]);
    }
    let groups = g.finish(&keys(&["phone"]));
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].members.len(), 1001);
}

#[test]
fn held_groups() {
    assert_eq!(held(2, 10, false, true), Some(Held::Excluded));
    assert_eq!(held(2, 10, false, false), None);
    assert_eq!(held(11, 10, false, false), Some(Held::TooLarge));
    assert_eq!(held(2, 10, true, false), Some(Held::MixedKinds));
}

#[test]
fn an_excluded_value_alone_never_makes_a_group_ready() {
    let switchboard = "+48221234567".to_string();
    let mut g = Grouper::with_exclusions([switchboard.clone()].into());
    // 1-2 share a real number; 2-3 only the switchboard; 7-8 only the switchboard;
    // 4-5 share a real number and the switchboard too
    g.add(&[1, 2], vec![(0, "+48600".into())]);
    g.add(&[2, 3], vec![(0, switchboard.clone())]);
    g.add(&[7, 8], vec![(0, switchboard.clone())]);
    g.add(&[4, 5], vec![(0, "+48700".into())]);
    g.add(&[4, 5], vec![(0, switchboard)]);
    let groups = g.finish(&keys(&["phone"]));
    let flags: Vec<(Vec<i64>, bool)> = groups
        .iter()
        .map(|g| (g.members.clone(), g.excluded_link))
        .collect();
    assert_eq!(
        flags,
        vec![
            (vec![1, 2, 3], true),
            (vec![4, 5], false),
            (vec![7, 8], true)
        ]
    );
}

fn phone(n: &str, default: bool) -> Phone {
    Phone {
        number: n.into(),
        raw: n.into(),
        phone_type: PhoneType::Mobile,
        extension: None,
        default,
    }
}

fn member(id: &str, created: i64, fields: &[(&str, &str, i64)]) -> Member {
    let mut data = RecordData::default();
    let mut changed = BTreeMap::new();
    for (k, v, at) in fields {
        match k.strip_prefix("custom.") {
            Some(c) => data.custom.insert(c.to_string(), v.to_string()),
            None => data.fields.insert(k.to_string(), v.to_string()),
        };
        if *at > 0 {
            changed.insert(k.to_string(), *at);
        }
    }
    Member {
        public_id: id.into(),
        data,
        created_at: created,
        changed,
    }
}

#[test]
fn merge_takes_the_most_recently_changed_value() {
    let mut a = member(
        "AAAAAAAA",
        100,
        &[("city", "Kraków", 0), ("last_name", "Nowak", 500)],
    );
    let mut b = member(
        "BBBBBBBB",
        200,
        &[
            ("city", "Warszawa", 300),
            ("last_name", "Nowakowska", 0),
            ("custom.x", "1", 0),
        ],
    );
    a.data.phones = vec![phone("+48600100200", true)];
    b.data.phones = vec![phone("+48600100200", true), phone("+48600100201", false)];
    a.data.emails = vec![EmailAddress {
        address: "a@x.pl".into(),
        default: true,
    }];
    b.data.emails = vec![
        EmailAddress {
            address: "A@X.pl".into(),
            default: true,
        },
        EmailAddress {
            address: "b@x.pl".into(),
            default: false,
        },
    ];
    a.data.tags = vec!["vip".into()];
    b.data.tags = vec!["lead".into(), "vip".into()];
    let members = vec![a, b];
    let (data, sources) = merge_data(&members, &Choices::default());
    // b's city changed at 300, a's at creation (100)
    assert_eq!(data.field("city"), Some("Warszawa"));
    // a's last name changed at 500, b's at creation (200)
    assert_eq!(data.field("last_name"), Some("Nowak"));
    assert_eq!(data.custom.get("x").map(String::as_str), Some("1"));
    assert_eq!(sources["city"], "BBBBBBBB");
    assert_eq!(data.phones.len(), 2);
    assert!(data.phones[0].default && !data.phones[1].default);
    assert_eq!(data.emails.len(), 2);
    assert_eq!(data.emails[0].address, "a@x.pl");
    assert_eq!(data.tags, vec!["lead".to_string(), "vip".to_string()]);

    let choices = Choices {
        fields: [("city".to_string(), "AAAAAAAA".to_string())].into(),
        default_phone: Some("+48600100201".into()),
        default_email: Some("B@x.pl".into()),
    };
    let (data, _) = merge_data(&members, &choices);
    assert_eq!(data.field("city"), Some("Kraków"));
    assert!(data.phones[1].default && !data.phones[0].default);
    assert!(data.emails[1].default && !data.emails[0].default);

    let diff = differing(&members);
    let keys: Vec<&str> = diff.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["city", "last_name"]);
}

#[test]
fn ties_keep_keys_and_values_in_order_without_repeats_and_read_back_as_stored() {
    let mut t = Ties::with_capacity(2);
    t.insert("phone", "+48601".into());
    t.insert("city", "krakow".into());
    t.insert("phone", "+48600".into());
    t.insert("phone", "+48601".into());
    assert_eq!(t.first_value(), Some("krakow"));
    assert_eq!(
        t.get("phone"),
        Some(&["+48600".to_string(), "+48601".to_string()][..])
    );
    assert_eq!(t.get("email"), None);
    let text = serde_json::to_string(&t).unwrap_or_default();
    // The JSON object of arrays that the searches stored as a map of sets before.
    assert_eq!(text, r#"{"city":["krakow"],"phone":["+48600","+48601"]}"#);
    let back: Ties = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(back, t);
    let unordered: Ties =
        serde_json::from_str(r#"{"phone":["+48601","+48600"],"city":["krakow"]}"#)
            .unwrap_or_default();
    assert_eq!(unordered, t);
    t.map_values("phone", |v| v.replace("+48", "0"));
    assert_eq!(
        t.get("phone"),
        Some(&["0600".to_string(), "0601".to_string()][..])
    );
    assert!(Ties::new().is_empty());
}
