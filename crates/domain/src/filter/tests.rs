//! Checks of the filter model.
#![allow(clippy::unwrap_used)]
use super::*;
use serde_json::json;

fn ctx() -> Context<'static> {
    Context {
        custom: &[],
        zone: chrono_tz::Europe::Warsaw,
        default_region: "PL",
    }
}

fn one(c: Value) -> Result<Cond, Vec<FieldError>> {
    let f: Filter = serde_json::from_value(json!({ "all": [c] })).unwrap();
    check(&f, &ctx()).map(|mut v| v.remove(0))
}

#[test]
fn patterns_split_at_percent_and_fold() {
    let p = Pattern::parse("%SKI", true);
    assert_eq!(
        (p.pieces.clone(), p.anchored_start, p.anchored_end),
        (vec!["ski".into()], false, true)
    );
    assert_eq!(Pattern::parse("Kowal%", true).to_like(), "kowal%");
    assert_eq!(Pattern::parse("%Łódź%", true).to_like(), "%lodz%");
    assert_eq!(Pattern::parse("a%b", true).to_like(), "a%b");
    assert_eq!(Pattern::parse("100\\%_x%", true).to_like(), "100\\%\\_x%");
    assert!(Pattern::parse("Nowak", true).is_exact());
}

#[test]
fn text_criteria_fold_and_pick_exact_or_like() {
    let c = one(json!({"field": "last_name", "op": "like", "value": "NOWAK"})).unwrap();
    assert_eq!(c.test, Test::Eq(Val::Text("nowak".into())));
    let c = one(json!({"field": "city", "op": "like", "value": "%łódź%"})).unwrap();
    assert!(matches!(c.test, Test::Like(p) if p.pieces == ["lodz"]));
}

#[test]
fn errors_name_the_criterion_and_the_part() {
    let e = one(json!({"field": "shoe_size", "op": "eq", "value": 1})).unwrap_err();
    assert_eq!(e[0].field, "all[0].field");
    let e = one(json!({"field": "created_at", "op": "like", "value": "x"})).unwrap_err();
    assert_eq!(e[0].field, "all[0].op");
    let e = one(json!({"field": "created_at", "op": "gt", "value": "yesterday"})).unwrap_err();
    assert_eq!(
        (e[0].field.as_str(), e[0].code.as_str()),
        ("all[0].value", "invalid_date")
    );
    let e = one(json!({"field": "phone", "op": "eq", "value": "12"})).unwrap_err();
    assert_eq!(e[0].code, "invalid_phone");
}

#[test]
fn dates_alone_span_their_day_and_phones_normalize() {
    let c =
        one(json!({"field": "created_at", "op": "between", "value": ["2026-01-01", "2026-01-31"]}))
            .unwrap();
    let Test::Between(Val::Int(a), Val::Int(b)) = c.test else {
        panic!()
    };
    assert_eq!(b - a, 31 * 86_400_000 - 1);
    let c = one(json!({"field": "phone", "op": "eq", "value": "0048 600-700-800"})).unwrap();
    assert_eq!(c.test, Test::Eq(Val::Text("+48600700800".into())));
    let c = one(json!({"field": "nip", "op": "eq", "value": "PL 526-000-12-46"})).unwrap();
    assert_eq!(c.test, Test::Eq(Val::Text("5260001246".into())));
}
