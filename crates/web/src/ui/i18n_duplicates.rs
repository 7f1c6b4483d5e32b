//! Strings of the duplicates screens (search, results, resolution, operations), English
//! and Polish (same keys, same order). `{n}`, `{groups}`, `{removed}`, `{record}` … are
//! filled in by the code. Looked up with [`Lang::dup`], which falls back to the main tables
//! (so the screens also use the shared keys such as `card.cancel`).

use super::i18n::Lang;

impl Lang {
    /// The text for `key` from this table, else from the main ones.
    pub fn dup(self, key: &str) -> &'static str {
        self.dup_opt(key).unwrap_or_else(|| self.t(key))
    }

    /// The text for `key` from this table only.
    pub fn dup_opt(self, key: &str) -> Option<&'static str> {
        let table = match self {
            Lang::En => EN,
            Lang::Pl => PL,
        };
        table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

pub const EN: &[(&str, &str)] = &[
    ("nav.duplicates", "Duplicates"),
    ("dup.title", "Duplicates"),
    ("dup.find", "Find duplicates"),
    ("dup.merge_selected", "Merge…"),
    (
        "dup.not_found",
        "This search, group or operation does not exist or you cannot open it.",
    ),
    ("dup.criteria", "Criteria"),
    (
        "dup.criteria_hint",
        "up to {n}; records are duplicates when equal in every one (phones and e-mails: sharing one)",
    ),
    ("dup.custom_fields", "Custom fields:"),
    ("dup.scope", "Scope"),
    ("dup.scope_all", "Searches the whole record base."),
    ("dup.scope_filter", "Limited to the list's filter"),
    ("dup.scope_open_list", "Open the list"),
    ("dup.scope_drop", "Search everything instead"),
    ("dup.scope_everything", "all records"),
    ("dup.search", "Search"),
    (
        "dup.search_hint",
        "Values are compared normalized: phones in E.164, e-mails in lower case, text ignoring case and diacritics.",
    ),
    ("dup.history", "Previous searches"),
    ("dup.history_none", "No searches yet."),
    ("dup.open", "Open"),
    ("dup.results_title", "Duplicates by"),
    ("dup.new_search", "New search"),
    ("dup.searching", "Searching for duplicates…"),
    ("dup.search_failed", "The search did not finish ({state})"),
    ("dup.seconds", "found in {n} s"),
    (
        "dup.purged",
        "The groups of this search were removed on {date}, after the keep time (groups found: {groups}; records in them: {records}). Run it again to see the duplicates as they are now.",
    ),
    ("dup.rerun", "Run again"),
    ("dup.purged_state", "groups removed"),
    (
        "dup.err.search_purged",
        "The groups of this search were removed after the keep time; run the search again.",
    ),
    ("dup.c.groups", "Groups"),
    ("dup.c.records", "Records in groups"),
    ("dup.c.ready", "Ready groups"),
    ("dup.c.ready_removes", "Bulk would remove"),
    ("dup.c.held", "Held for manual resolution"),
    ("dup.c.held_for", "Held"),
    ("dup.c.resolved", "Resolved"),
    ("dup.held.too_large", "too large"),
    ("dup.held.excluded", "excluded values"),
    ("dup.held.mixed_kinds", "persons and organizations"),
    ("dup.show", "Show"),
    ("dup.tab.all", "All"),
    ("dup.tab.ready", "Ready"),
    ("dup.tab.held", "Held for manual resolution"),
    ("dup.tab.resolved", "Resolved"),
    ("dup.empty.all", "No duplicates found."),
    ("dup.empty.ready", "No group is ready for bulk actions."),
    ("dup.empty.held", "No group is held for manual resolution."),
    ("dup.empty.resolved", "No group is resolved yet."),
    ("dup.range", "{from}–{to} of {total}"),
    ("dup.size", "Size"),
    ("dup.ties", "Tying values"),
    ("dup.members", "Records (oldest first)"),
    ("dup.status", "Status"),
    ("dup.group", "Group"),
    ("dup.kept", "kept"),
    ("dup.gone", "merged or deleted since the search"),
    (
        "dup.kept_hint",
        "The oldest record: bulk merge and delete keep it",
    ),
    ("dup.ready", "ready"),
    ("dup.resolved", "resolved"),
    ("dup.resolve", "Resolve…"),
    (
        "dup.resolved_notice",
        "The group is resolved (operation #{op}); it can be undone from the operations.",
    ),
    ("dup.bulk.merge", "Merge all ready groups"),
    ("dup.bulk.delete", "Delete duplicates in all ready groups"),
    (
        "dup.bulk.merge_ask",
        "Merge {groups} groups: {removed} records will be merged into the oldest record of their group and removed.",
    ),
    (
        "dup.bulk.delete_ask",
        "Delete duplicates in {groups} groups: {removed} records will be deleted; each group keeps its oldest record.",
    ),
    (
        "dup.bulk.held_hint",
        "{held} groups are left for manual resolution.",
    ),
    (
        "dup.bulk.merge_hint",
        "Phones, e-mails, campaigns, segments and tags are united; each field takes the value changed most recently. Every merge can be undone.",
    ),
    (
        "dup.bulk.delete_hint",
        "The deleted records' data is not kept on the survivor. Every delete can be undone.",
    ),
    ("dup.bulk.merge_title", "Bulk merge"),
    ("dup.bulk.delete_title", "Bulk delete of duplicates"),
    ("dup.bulk.progress", "{done} of {total} groups"),
    ("dup.bulk.c.groups", "Groups done"),
    ("dup.bulk.c.removed", "Records removed"),
    ("dup.bulk.c.skipped", "Skipped"),
    ("dup.bulk.c.failed", "Failed"),
    ("dup.bulk.reload", "Show the updated results"),
    ("dup.bulk.operations", "Its operations"),
    (
        "dup.bulk.stale",
        "The groups changed since this page was shown (someone resolved some). Reload the results and confirm again.",
    ),
    ("dup.bulk.not_done", "The search has not finished yet."),
    ("dup.m.title", "Merge records"),
    ("dup.m.title_group", "Resolve group {n}"),
    (
        "dup.m.intro",
        "Choose the record that stays and what happens to each of the others; the summary shows the result before you apply it.",
    ),
    ("dup.m.back_search", "Back to the results"),
    ("dup.m.created", "created"),
    ("dup.m.oldest", "oldest"),
    ("dup.m.role", "Role"),
    ("dup.m.role.main", "main"),
    ("dup.m.role.merge", "merge"),
    ("dup.m.role.delete", "delete"),
    ("dup.m.role.leave", "leave"),
    (
        "dup.m.fields",
        "Fields whose values differ: choose the value to keep",
    ),
    (
        "dup.m.no_fields",
        "No field differs between the merged records.",
    ),
    (
        "dup.m.not_taken",
        "This record is not merged, so its value is not offered",
    ),
    ("dup.m.default_phone", "Default phone"),
    ("dup.m.default_email", "Default e-mail"),
    ("dup.m.default", "default"),
    ("dup.m.summary", "Summary"),
    ("dup.m.stays", "{record} stays."),
    ("dup.m.merged_into", "Merged into it: {records}."),
    (
        "dup.m.deleted",
        "Deleted (their data is not kept): {records}.",
    ),
    ("dup.m.left", "Left as they are: {records}."),
    ("dup.m.taken", "Values taken from the other records:"),
    ("dup.m.taken_one", "{field}: “{value}” from {from}"),
    (
        "dup.m.taken_none",
        "Every differing field keeps the main record's value.",
    ),
    (
        "dup.m.mixed_kinds",
        "A person and an organization cannot be merged: delete or leave one of them.",
    ),
    (
        "dup.m.undo_hint",
        "The merge is recorded with a snapshot of the removed records and can be undone from the operations.",
    ),
    ("dup.m.preview", "Preview"),
    ("dup.m.apply", "Apply"),
    (
        "dup.m.missing",
        "No longer exist (merged or deleted meanwhile)",
    ),
    (
        "dup.m.changed_meanwhile",
        "{record} changed meanwhile: the screen shows its current data.",
    ),
    (
        "dup.m.already_resolved",
        "This group was resolved already (operation #{op}).",
    ),
    (
        "dup.m.err.no_main",
        "Choose the main record (the one that stays).",
    ),
    (
        "dup.m.err.two_mains",
        "Only one record can be the main record.",
    ),
    (
        "dup.m.err.nothing",
        "Choose at least one record to merge or delete.",
    ),
    (
        "dup.m.err.too_many",
        "Choose at most {n} records to merge at once.",
    ),
    (
        "dup.m.err.changed",
        "Record {record} changed since you opened this screen, so nothing was merged. The screen now shows its current data: check the choices and apply again.",
    ),
    (
        "dup.m.err.gone",
        "A record of this merge no longer exists, so nothing was merged.",
    ),
    (
        "dup.err.criteria.required",
        "Choose at least one criterion.",
    ),
    ("dup.err.criteria.too_many", "Choose at most 7 criteria."),
    (
        "dup.err.criteria.invalid_criterion",
        "This criterion is not available (was the field deleted?).",
    ),
    ("dup.err.records.too_few", "Choose at least two records."),
    (
        "dup.err.records.not_found",
        "One of the records no longer exists.",
    ),
    (
        "dup.err.records.mixed_kinds",
        "A person and an organization cannot be merged.",
    ),
    ("dup.err.main.invalid", "The main record cannot be deleted."),
    ("dup.err.main.required", "No record is left to keep."),
    ("dup.ops.title", "Merge operations"),
    ("dup.ops.open", "Operations"),
    (
        "dup.ops.hint",
        "Every merge and duplicate delete, newest first; each can be undone within the undo window.",
    ),
    ("dup.ops.all", "all operations"),
    ("dup.ops.of_job", "Operations of bulk job #{job}"),
    ("dup.ops.of_record", "Operations naming record {record}"),
    ("dup.ops.none", "No merges or duplicate deletes yet."),
    ("dup.ops.action", "Action"),
    ("dup.ops.action.merge", "merge"),
    ("dup.ops.action.delete", "delete"),
    ("dup.ops.job_hint", "The bulk job it was part of"),
    ("dup.ops.main", "Kept record"),
    ("dup.ops.removed", "Removed"),
    ("dup.ops.summary", "What changed"),
    ("dup.ops.until", "Undo until"),
    ("dup.ops.from", "From {record}: {fields}"),
    ("dup.ops.united", "United"),
    ("dup.ops.added_phones", "+{n} phones"),
    ("dup.ops.added_emails", "+{n} e-mails"),
    ("dup.ops.undone", "undone {when} by {who}"),
    (
        "dup.ops.done",
        "Merged (operation #{op}). It can be undone here.",
    ),
    (
        "dup.ops.undone_notice",
        "Operation #{op} was undone: the removed records are back.",
    ),
    ("dup.undo", "Undo"),
    (
        "dup.undo.ask_merge",
        "Undo this merge? {n} records ({records}) come back with their data, what was moved goes back to them, and {main} returns to its state before the merge.",
    ),
    (
        "dup.undo.ask_delete",
        "Undo this delete? {n} records ({records}) come back with their data.",
    ),
    (
        "dup.undo.hint",
        "Refused, with the reason, when a later change would be lost.",
    ),
    (
        "dup.undo.err.undone",
        "Nothing was undone: this operation was undone already.",
    ),
    (
        "dup.undo.err.window",
        "Nothing was undone: the operation is older than the undo window and its snapshots were removed.",
    ),
    (
        "dup.undo.err.exists",
        "Nothing was undone: record {record} exists again.",
    ),
    (
        "dup.undo.err.deleted",
        "Nothing was undone: record {record} was deleted after the merge.",
    ),
    (
        "dup.undo.err.changed",
        "Nothing was undone: record {record} was changed after the merge ({fields}); undoing would lose those changes.",
    ),
    (
        "dup.undo.err.related",
        "Nothing was undone: the {what} of record {record} changed after the merge; undoing would lose those changes.",
    ),
    ("dup.undo.err.other", "Nothing was undone:"),
];

pub const PL: &[(&str, &str)] = &[
    ("nav.duplicates", "Duplikaty"),
    ("dup.title", "Duplikaty"),
    ("dup.find", "Znajdź duplikaty"),
    ("dup.merge_selected", "Scal…"),
    (
        "dup.not_found",
        "To wyszukiwanie, grupa lub operacja nie istnieje albo nie masz do niej dostępu.",
    ),
    ("dup.criteria", "Kryteria"),
    (
        "dup.criteria_hint",
        "do {n}; rekordy są duplikatami, gdy są równe w każdym (telefony i e-maile: gdy mają wspólny)",
    ),
    ("dup.custom_fields", "Pola własne:"),
    ("dup.scope", "Zakres"),
    ("dup.scope_all", "Przeszukuje całą kartotekę."),
    ("dup.scope_filter", "Ograniczone do filtra listy"),
    ("dup.scope_open_list", "Otwórz listę"),
    ("dup.scope_drop", "Szukaj zamiast tego we wszystkich"),
    ("dup.scope_everything", "wszystkie rekordy"),
    ("dup.search", "Szukaj"),
    (
        "dup.search_hint",
        "Wartości są porównywane po normalizacji: telefony w E.164, e-maile małymi literami, tekst bez względu na wielkość liter i polskie znaki.",
    ),
    ("dup.history", "Poprzednie wyszukiwania"),
    ("dup.history_none", "Jeszcze nic nie wyszukiwano."),
    ("dup.open", "Otwórz"),
    ("dup.results_title", "Duplikaty według"),
    ("dup.new_search", "Nowe wyszukiwanie"),
    ("dup.searching", "Szukam duplikatów…"),
    (
        "dup.search_failed",
        "Wyszukiwanie nie zakończyło się ({state})",
    ),
    ("dup.seconds", "znaleziono w {n} s"),
    (
        "dup.purged",
        "Grupy tego wyszukiwania usunięto {date}, po upływie czasu przechowywania (znalezione grupy: {groups}; rekordy w nich: {records}). Uruchom je ponownie, aby zobaczyć aktualne duplikaty.",
    ),
    ("dup.rerun", "Uruchom ponownie"),
    ("dup.purged_state", "grupy usunięte"),
    (
        "dup.err.search_purged",
        "Grupy tego wyszukiwania usunięto po upływie czasu przechowywania; uruchom wyszukiwanie ponownie.",
    ),
    ("dup.c.groups", "Grupy"),
    ("dup.c.records", "Rekordy w grupach"),
    ("dup.c.ready", "Grupy gotowe"),
    ("dup.c.ready_removes", "Akcja zbiorcza usunie"),
    ("dup.c.held", "Do ręcznego rozstrzygnięcia"),
    ("dup.c.held_for", "Wstrzymane"),
    ("dup.c.resolved", "Rozstrzygnięte"),
    ("dup.held.too_large", "za duże"),
    ("dup.held.excluded", "wartości wykluczone"),
    ("dup.held.mixed_kinds", "osoby i firmy"),
    ("dup.show", "Pokaż"),
    ("dup.tab.all", "Wszystkie"),
    ("dup.tab.ready", "Gotowe"),
    ("dup.tab.held", "Do ręcznego rozstrzygnięcia"),
    ("dup.tab.resolved", "Rozstrzygnięte"),
    ("dup.empty.all", "Nie znaleziono duplikatów."),
    (
        "dup.empty.ready",
        "Żadna grupa nie jest gotowa do akcji zbiorczej.",
    ),
    (
        "dup.empty.held",
        "Żadna grupa nie czeka na ręczne rozstrzygnięcie.",
    ),
    (
        "dup.empty.resolved",
        "Żadna grupa nie jest jeszcze rozstrzygnięta.",
    ),
    ("dup.range", "{from}–{to} z {total}"),
    ("dup.size", "Liczność"),
    ("dup.ties", "Wspólne wartości"),
    ("dup.members", "Rekordy (od najstarszego)"),
    ("dup.status", "Stan"),
    ("dup.group", "Grupa"),
    ("dup.kept", "zostaje"),
    ("dup.gone", "scalony lub usunięty po wyszukiwaniu"),
    (
        "dup.kept_hint",
        "Najstarszy rekord: zbiorcze scalanie i usuwanie go zachowują",
    ),
    ("dup.ready", "gotowa"),
    ("dup.resolved", "rozstrzygnięta"),
    ("dup.resolve", "Rozstrzygnij…"),
    (
        "dup.resolved_notice",
        "Grupa rozstrzygnięta (operacja nr {op}); można ją cofnąć w operacjach.",
    ),
    ("dup.bulk.merge", "Scal wszystkie gotowe grupy"),
    (
        "dup.bulk.delete",
        "Usuń duplikaty we wszystkich gotowych grupach",
    ),
    (
        "dup.bulk.merge_ask",
        "Scalić {groups} grup? {removed} rekordów zostanie scalonych z najstarszym rekordem swojej grupy i usuniętych.",
    ),
    (
        "dup.bulk.delete_ask",
        "Usunąć duplikaty w {groups} grupach? {removed} rekordów zostanie usuniętych; każda grupa zachowa najstarszy rekord.",
    ),
    (
        "dup.bulk.held_hint",
        "Grupy pozostawione do ręcznego rozstrzygnięcia: {held}.",
    ),
    (
        "dup.bulk.merge_hint",
        "Telefony, e-maile, kampanie, segmenty i tagi zostaną połączone; każde pole przyjmie wartość zmienioną najpóźniej. Każde scalenie można cofnąć.",
    ),
    (
        "dup.bulk.delete_hint",
        "Dane usuniętych rekordów nie są przenoszone na rekord, który zostaje. Każde usunięcie można cofnąć.",
    ),
    ("dup.bulk.merge_title", "Scalanie zbiorcze"),
    ("dup.bulk.delete_title", "Zbiorcze usuwanie duplikatów"),
    ("dup.bulk.progress", "{done} z {total} grup"),
    ("dup.bulk.c.groups", "Grupy wykonane"),
    ("dup.bulk.c.removed", "Usunięte rekordy"),
    ("dup.bulk.c.skipped", "Pominięte"),
    ("dup.bulk.c.failed", "Nieudane"),
    ("dup.bulk.reload", "Pokaż aktualne wyniki"),
    ("dup.bulk.operations", "Jego operacje"),
    (
        "dup.bulk.stale",
        "Grupy zmieniły się od wyświetlenia strony (ktoś część rozstrzygnął). Odśwież wyniki i potwierdź ponownie.",
    ),
    (
        "dup.bulk.not_done",
        "Wyszukiwanie jeszcze się nie zakończyło.",
    ),
    ("dup.m.title", "Scal rekordy"),
    ("dup.m.title_group", "Rozstrzygnij grupę {n}"),
    (
        "dup.m.intro",
        "Wybierz rekord, który zostaje, i co stanie się z każdym z pozostałych; podsumowanie pokazuje wynik, zanim go zastosujesz.",
    ),
    ("dup.m.back_search", "Wróć do wyników"),
    ("dup.m.created", "utworzono"),
    ("dup.m.oldest", "najstarszy"),
    ("dup.m.role", "Rola"),
    ("dup.m.role.main", "główny"),
    ("dup.m.role.merge", "scal"),
    ("dup.m.role.delete", "usuń"),
    ("dup.m.role.leave", "pomiń"),
    (
        "dup.m.fields",
        "Pola o różnych wartościach: wybierz wartość, która zostanie",
    ),
    (
        "dup.m.no_fields",
        "Scalane rekordy nie różnią się w żadnym polu.",
    ),
    (
        "dup.m.not_taken",
        "Ten rekord nie jest scalany, więc jego wartość nie jest do wyboru",
    ),
    ("dup.m.default_phone", "Domyślny telefon"),
    ("dup.m.default_email", "Domyślny e-mail"),
    ("dup.m.default", "domyślny"),
    ("dup.m.summary", "Podsumowanie"),
    ("dup.m.stays", "{record} zostaje."),
    ("dup.m.merged_into", "Scalone z nim: {records}."),
    (
        "dup.m.deleted",
        "Usunięte (ich dane nie są zachowywane): {records}.",
    ),
    ("dup.m.left", "Pozostawione bez zmian: {records}."),
    ("dup.m.taken", "Wartości wzięte z pozostałych rekordów:"),
    ("dup.m.taken_one", "{field}: „{value}” z {from}"),
    (
        "dup.m.taken_none",
        "Każde różniące się pole zachowuje wartość rekordu głównego.",
    ),
    (
        "dup.m.mixed_kinds",
        "Osoby i firmy nie można scalić: usuń lub pomiń jedną z nich.",
    ),
    (
        "dup.m.undo_hint",
        "Scalenie jest zapisywane z migawką usuniętych rekordów i można je cofnąć w operacjach.",
    ),
    ("dup.m.preview", "Podgląd"),
    ("dup.m.apply", "Zastosuj"),
    (
        "dup.m.missing",
        "Już nie istnieją (scalone lub usunięte w międzyczasie)",
    ),
    (
        "dup.m.changed_meanwhile",
        "{record} zmienił się w międzyczasie: ekran pokazuje jego aktualne dane.",
    ),
    (
        "dup.m.already_resolved",
        "Ta grupa została już rozstrzygnięta (operacja nr {op}).",
    ),
    (
        "dup.m.err.no_main",
        "Wybierz rekord główny (ten, który zostaje).",
    ),
    (
        "dup.m.err.two_mains",
        "Tylko jeden rekord może być rekordem głównym.",
    ),
    (
        "dup.m.err.nothing",
        "Wybierz co najmniej jeden rekord do scalenia lub usunięcia.",
    ),
    (
        "dup.m.err.too_many",
        "Naraz można scalić najwyżej {n} rekordów.",
    ),
    (
        "dup.m.err.changed",
        "Rekord {record} zmienił się od otwarcia tego ekranu, więc niczego nie scalono. Ekran pokazuje teraz jego aktualne dane: sprawdź wybory i zastosuj ponownie.",
    ),
    (
        "dup.m.err.gone",
        "Jeden z rekordów tego scalenia już nie istnieje, więc niczego nie scalono.",
    ),
    (
        "dup.err.criteria.required",
        "Wybierz co najmniej jedno kryterium.",
    ),
    ("dup.err.criteria.too_many", "Wybierz najwyżej 7 kryteriów."),
    (
        "dup.err.criteria.invalid_criterion",
        "To kryterium jest niedostępne (czy pole usunięto?).",
    ),
    (
        "dup.err.records.too_few",
        "Wybierz co najmniej dwa rekordy.",
    ),
    (
        "dup.err.records.not_found",
        "Jeden z rekordów już nie istnieje.",
    ),
    (
        "dup.err.records.mixed_kinds",
        "Osoby i firmy nie można scalić.",
    ),
    ("dup.err.main.invalid", "Rekordu głównego nie można usunąć."),
    (
        "dup.err.main.required",
        "Nie został żaden rekord do zachowania.",
    ),
    ("dup.ops.title", "Operacje scalania"),
    ("dup.ops.open", "Operacje"),
    (
        "dup.ops.hint",
        "Każde scalenie i usunięcie duplikatów, od najnowszych; każde można cofnąć w oknie cofania.",
    ),
    ("dup.ops.all", "wszystkie operacje"),
    ("dup.ops.of_job", "Operacje zadania zbiorczego nr {job}"),
    ("dup.ops.of_record", "Operacje dotyczące rekordu {record}"),
    ("dup.ops.none", "Jeszcze nic nie scalono ani nie usunięto."),
    ("dup.ops.action", "Akcja"),
    ("dup.ops.action.merge", "scalenie"),
    ("dup.ops.action.delete", "usunięcie"),
    ("dup.ops.job_hint", "Zadanie zbiorcze, którego była częścią"),
    ("dup.ops.main", "Zachowany rekord"),
    ("dup.ops.removed", "Usunięte"),
    ("dup.ops.summary", "Co się zmieniło"),
    ("dup.ops.until", "Cofnięcie do"),
    ("dup.ops.from", "Z {record}: {fields}"),
    ("dup.ops.united", "Połączone"),
    ("dup.ops.added_phones", "+{n} tel."),
    ("dup.ops.added_emails", "+{n} e-mail"),
    ("dup.ops.undone", "cofnięte {when} przez {who}"),
    (
        "dup.ops.done",
        "Scalono (operacja nr {op}). Można ją tu cofnąć.",
    ),
    (
        "dup.ops.undone_notice",
        "Operacja nr {op} została cofnięta: usunięte rekordy wróciły.",
    ),
    ("dup.undo", "Cofnij"),
    (
        "dup.undo.ask_merge",
        "Cofnąć to scalenie? Rekordy ({n}: {records}) wrócą ze swoimi danymi, to, co przeniesiono, wróci do nich, a {main} wróci do stanu sprzed scalenia.",
    ),
    (
        "dup.undo.ask_delete",
        "Cofnąć to usunięcie? Rekordy ({n}: {records}) wrócą ze swoimi danymi.",
    ),
    (
        "dup.undo.hint",
        "Odmowa (z wyjaśnieniem), gdy późniejsza zmiana zostałaby utracona.",
    ),
    (
        "dup.undo.err.undone",
        "Niczego nie cofnięto: ta operacja została już cofnięta.",
    ),
    (
        "dup.undo.err.window",
        "Niczego nie cofnięto: operacja jest starsza niż okno cofania, a jej migawki usunięto.",
    ),
    (
        "dup.undo.err.exists",
        "Niczego nie cofnięto: rekord {record} znów istnieje.",
    ),
    (
        "dup.undo.err.deleted",
        "Niczego nie cofnięto: rekord {record} usunięto po scaleniu.",
    ),
    (
        "dup.undo.err.changed",
        "Niczego nie cofnięto: rekord {record} zmieniono po scaleniu ({fields}); cofnięcie straciłoby te zmiany.",
    ),
    (
        "dup.undo.err.related",
        "Niczego nie cofnięto: {what} rekordu {record} zmieniły się po scaleniu; cofnięcie straciłoby te zmiany.",
    ),
    ("dup.undo.err.other", "Niczego nie cofnięto:"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(t: &[(&'static str, &'static str)]) -> Vec<&'static str> {
        t.iter().map(|(k, _)| *k).collect()
    }

    /// `{name}` placeholders of a text, sorted.
    fn placeholders(text: &str) -> Vec<String> {
        let mut out: Vec<String> = text
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn both_languages_have_every_key_once_with_the_same_placeholders() {
        assert_eq!(keys(EN), keys(PL), "the same keys in the same order");
        assert!(PL.iter().all(|(_, v)| !v.is_empty()));
        let mut all = keys(EN);
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "no key twice");
        for ((k, en), (_, pl)) in EN.iter().zip(PL) {
            assert_eq!(placeholders(en), placeholders(pl), "{k}");
        }
        // No key hides one of the main tables (they are looked up after this one).
        for other in [
            super::super::i18n::EN,
            super::super::i18n_admin::EN,
            super::super::i18n_cases::EN,
            super::super::i18n_filter::EN,
            super::super::i18n_imports::EN,
        ] {
            for (k, _) in other {
                assert!(Lang::En.dup_opt(k).is_none(), "{k} is in another table");
            }
        }
    }

    /// Every key the screens ask for is there, in both languages.
    #[test]
    fn every_key_the_screens_use_exists() {
        let sources = [
            include_str!("duplicates.rs"),
            include_str!("duplicates_results.rs"),
            include_str!("duplicates_bulk.rs"),
            include_str!("duplicates_merge.rs"),
            include_str!("duplicates_ops.rs"),
            include_str!("../../templates/dup_page.html"),
            include_str!("../../templates/dup_search.html"),
            include_str!("../../templates/dup_results.html"),
            include_str!("../../templates/dup_bulk.html"),
            include_str!("../../templates/dup_bulk_part.html"),
            include_str!("../../templates/dup_merge.html"),
            include_str!("../../templates/dup_merge_form.html"),
            include_str!("../../templates/dup_operations.html"),
            include_str!("../../templates/records_rows.html"),
            include_str!("../../templates/export_menu.html"),
            include_str!("../../templates/base.html"),
        ];
        let mut used: Vec<String> = Vec::new();
        for src in sources {
            for call in [".dup(\"", ".t(\""] {
                for part in src.split(call).skip(1) {
                    let key = part.split('"').next().unwrap_or_default();
                    if !key.is_empty() && !key.contains('{') {
                        used.push(key.to_string());
                    }
                }
            }
            // Keys in the code that reach the lookup through a variable.
            for part in src.split("\"dup.").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                if !key.ends_with('.') && !key.contains('{') {
                    used.push(format!("dup.{key}"));
                }
            }
        }
        for prefix in ["dup.tab.", "dup.empty."] {
            for show in ["all", "ready", "held", "resolved"] {
                used.push(format!("{prefix}{show}"));
            }
        }
        for held in ["too_large", "excluded", "mixed_kinds"] {
            used.push(format!("dup.held.{held}"));
        }
        for lang in [Lang::En, Lang::Pl] {
            for k in &used {
                assert_ne!(lang.dup(k), "?", "{k} missing in {lang:?}");
            }
        }
    }
}
