//! Strings of case editing on the card, English and Polish (same keys, same order).

pub const EN: &[(&str, &str)] = &[("case.title", "Case")];

pub const PL: &[(&str, &str)] = &[("case.title", "Sprawa")];
