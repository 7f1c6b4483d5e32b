//! Strings of case editing on the card, English and Polish (same keys, same order).

pub const EN: &[(&str, &str)] = &[
    ("case.title", "Case"),
    ("case.open", "Open the case"),
    ("case.status", "Status"),
    ("case.assigned_to", "Assigned agent"),
    ("case.unassigned", "Unassigned"),
    (
        "case.reassign_hint",
        "Administrators and managers assign cases.",
    ),
    ("case.recontact_at", "Recontact date"),
    ("case.give_classifier", "Give a classifier"),
    ("case.choose", "— choose —"),
    ("case.save", "Save the case"),
    ("case.close", "Close"),
    (
        "case.read_only",
        "You may view this case but not change it.",
    ),
    ("case.last_call", "Last call"),
    ("case.opened", "Opened"),
    ("case.modified", "Modified"),
    ("case.history", "Classifier history"),
    ("case.no_history", "No classifier given yet."),
    ("case.system", "system"),
    ("case.saved", "Case saved."),
    ("case.forbidden", "You may not change this case."),
    ("err.inactive", "not active"),
    ("err.not_assignable", "cannot be assigned cases"),
];

pub const PL: &[(&str, &str)] = &[
    ("case.title", "Sprawa"),
    ("case.open", "Otwórz sprawę"),
    ("case.status", "Status"),
    ("case.assigned_to", "Przypisany konsultant"),
    ("case.unassigned", "Nieprzypisana"),
    (
        "case.reassign_hint",
        "Sprawy przypisują administratorzy i kierownicy.",
    ),
    ("case.recontact_at", "Termin ponownego kontaktu"),
    ("case.give_classifier", "Nadaj klasyfikator"),
    ("case.choose", "— wybierz —"),
    ("case.save", "Zapisz sprawę"),
    ("case.close", "Zamknij"),
    (
        "case.read_only",
        "Możesz przeglądać tę sprawę, ale nie możesz jej zmieniać.",
    ),
    ("case.last_call", "Ostatnie połączenie"),
    ("case.opened", "Otwarta"),
    ("case.modified", "Zmieniona"),
    ("case.history", "Historia klasyfikatorów"),
    (
        "case.no_history",
        "Nie nadano jeszcze żadnego klasyfikatora.",
    ),
    ("case.system", "system"),
    ("case.saved", "Zapisano sprawę."),
    ("case.forbidden", "Nie możesz zmieniać tej sprawy."),
    ("err.inactive", "użytkownik jest nieaktywny"),
    (
        "err.not_assignable",
        "temu użytkownikowi nie można przypisywać spraw",
    ),
];
