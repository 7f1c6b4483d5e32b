//! Strings of the administration screens, English and Polish (same keys, same order).

pub const EN: &[(&str, &str)] = &[("admin.title", "Administration")];

pub const PL: &[(&str, &str)] = &[("admin.title", "Administracja")];
