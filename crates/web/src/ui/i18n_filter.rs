//! Strings of the filter builder, saved views and bulk actions, English and Polish (same
//! keys, same order).

pub const EN: &[(&str, &str)] = &[("filter.title", "Filter")];

pub const PL: &[(&str, &str)] = &[("filter.title", "Filtr")];
