//! The interface in English and Polish: every string of the screens by key.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Lang {
    En,
    Pl,
}

impl Lang {
    pub fn parse(code: &str) -> Lang {
        if code.eq_ignore_ascii_case("pl") {
            Lang::Pl
        } else {
            Lang::En
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Pl => "pl",
        }
    }

    /// The text for `key`; the key itself when missing (a test keeps both languages complete).
    pub fn t(self, key: &str) -> &'static str {
        self.tables()
            .iter()
            .flat_map(|t| t.iter())
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or("?")
    }

    /// The tables of this language: the main one, then the administration screens'.
    fn tables(self) -> [&'static [(&'static str, &'static str)]; 5] {
        use super::{
            i18n_admin as admin, i18n_cases as cases, i18n_filter as filter,
            i18n_imports as imports,
        };
        match self {
            Lang::En => [EN, admin::EN, cases::EN, filter::EN, imports::EN],
            Lang::Pl => [PL, admin::PL, cases::PL, filter::PL, imports::PL],
        }
    }

    /// An error message in this language: by its code when known, else the message given.
    pub fn error(self, code: &str, fallback: &str) -> String {
        let key = format!("err.{code}");
        match self
            .tables()
            .iter()
            .flat_map(|t| t.iter())
            .find(|(k, _)| *k == key)
        {
            Some((_, v)) if self == Lang::Pl || fallback.is_empty() => (*v).to_string(),
            _ => fallback.to_string(),
        }
    }

    /// A dictionary entry's label in this language: entries still carrying the label they
    /// were seeded with read in the user's language; labels an administrator wrote stay.
    pub fn entry_label(self, dictionary: &str, code: &str, label: &str) -> String {
        let seeded = kartoteka_store::dictionaries::DICTIONARIES
            .iter()
            .find(|(d, _)| *d == dictionary)
            .and_then(|(_, entries)| entries.iter().find(|(c, _)| *c == code))
            .map(|(_, l)| *l);
        let key = format!("dict.{dictionary}.{code}");
        match self.t(&key) {
            t if seeded == Some(label) && t != "?" => t.to_string(),
            _ => label.to_string(),
        }
    }

    /// A count with its noun in the right form (Polish has three).
    pub fn count(self, n: i64, one: &str, few: &str, many: &str) -> String {
        let key = match self {
            Lang::En => {
                if n == 1 {
                    one
                } else {
                    many
                }
            }
            Lang::Pl => {
                let (d, dd) = (n % 10, n % 100);
                if n == 1 {
                    one
                } else if (2..=4).contains(&d) && !(12..=14).contains(&dd) {
                    few
                } else {
                    many
                }
            }
        };
        format!("{} {}", self.number(n), self.t(key))
    }

    /// Thousands grouped as each language writes them.
    pub fn number(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let sep = match self {
            Lang::En => ",",
            Lang::Pl => "\u{a0}",
        };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }
}

pub const EN: &[(&str, &str)] = &[
    ("app", "Kartoteka"),
    ("login.title", "Log in"),
    ("login.username", "Username"),
    ("login.password", "Password"),
    ("login.submit", "Log in"),
    ("login.wrong", "Wrong username or password."),
    (
        "login.throttled",
        "Too many failed attempts. Try again in a few minutes.",
    ),
    (
        "login.expired",
        "Your session has ended. Please log in again.",
    ),
    ("nav.records", "Records"),
    ("nav.new_person", "New person"),
    ("nav.new_organization", "New organization"),
    ("nav.logout", "Log out"),
    ("nav.language", "Language"),
    ("list.search", "Search"),
    ("list.search_hint", "Name, phone, e-mail or record ID"),
    ("list.clear", "Clear"),
    ("list.empty", "No records found."),
    ("list.page", "Page"),
    ("list.prev", "Previous"),
    ("list.next", "Next"),
    ("list.found_one", "record"),
    ("list.found_few", "records"),
    ("list.found_many", "records"),
    ("col.id", "ID"),
    ("col.name", "Name"),
    ("col.phone", "Phone"),
    ("col.email", "E-mail"),
    ("col.city", "City"),
    ("col.modified", "Modified"),
    ("kind.person", "Person"),
    ("kind.organization", "Organization"),
    ("f.first_name", "First name"),
    ("f.last_name", "Last name"),
    ("f.organization_name", "Organization name"),
    ("f.name", "Display name override"),
    ("f.city", "City"),
    ("f.address_line1", "Address"),
    ("f.address_line2", "Address, line 2"),
    ("f.postal_code", "Postal code"),
    ("f.province", "Province"),
    ("f.country", "Country"),
    ("f.nip", "NIP"),
    ("f.pesel", "PESEL"),
    ("f.regon", "REGON"),
    ("f.language", "Language"),
    ("f.external_id", "External ID"),
    ("f.position", "Position"),
    ("f.stage", "Stage"),
    ("f.acquisition_source", "Acquisition source"),
    ("f.organization", "Organization (record ID)"),
    ("f.tags", "Tags (comma-separated)"),
    ("f.phones", "Phones"),
    ("f.emails", "E-mails"),
    ("f.created", "Created"),
    ("f.modified", "Modified"),
    ("f.source", "Source"),
    ("card.details", "Details"),
    ("card.contact", "Contact data"),
    ("card.custom", "Custom fields"),
    ("card.save", "Save"),
    ("card.cancel", "Cancel"),
    ("card.delete", "Delete"),
    ("card.call", "Call"),
    ("card.sms", "SMS"),
    ("card.email", "E-mail"),
    ("card.more", "More"),
    ("card.default", "default"),
    ("card.add_phone", "Add phone"),
    ("card.add_email", "Add e-mail"),
    ("card.remove", "Remove"),
    ("card.saved", "Saved."),
    (
        "card.merged",
        "Saved. Someone else changed other fields meanwhile; both changes are kept.",
    ),
    ("card.errors", "Some fields need attention."),
    ("card.unsaved", "You have unsaved changes. Leave anyway?"),
    ("card.cases", "Related cases"),
    ("card.related", "Related records"),
    ("card.activities", "Activities"),
    ("card.none_yet", "Nothing here yet."),
    ("card.new_person", "New person"),
    ("card.new_organization", "New organization"),
    ("card.create", "Create"),
    (
        "card.duplicate",
        "Possible duplicate: this record shares {field} {value} with",
    ),
    ("card.duplicate.phones", "phone"),
    ("card.duplicate.emails", "e-mail"),
    ("card.duplicate.pesel", "PESEL"),
    ("card.duplicate.nip", "NIP"),
    ("card.duplicate.external_id", "external ID"),
    ("conflict.title", "Someone else saved this record meanwhile"),
    (
        "conflict.intro",
        "These fields were changed by both of you. Choose which value to keep for each.",
    ),
    ("conflict.field", "Field"),
    ("conflict.theirs", "Their value (saved)"),
    ("conflict.yours", "Your value"),
    ("conflict.apply", "Save my choices"),
    ("phone.mobile", "mobile"),
    ("phone.landline", "landline"),
    ("phone.work", "work"),
    ("phone.main", "main"),
    ("phone.home_fax", "home fax"),
    ("phone.office_fax", "office fax"),
    ("phone.other", "other"),
    (
        "error.not_found",
        "This record does not exist or you cannot open it.",
    ),
    ("error.forbidden", "Your role does not allow this."),
    (
        "error.unexpected",
        "Something went wrong. The log has the details.",
    ),
    ("err.invalid_checksum", "the check digit does not match"),
    ("err.invalid_length", "wrong number of digits"),
    (
        "err.invalid_character",
        "contains characters that are not allowed",
    ),
    ("err.invalid_date", "not a valid date"),
    ("err.invalid_phone", "not a valid phone number"),
    ("err.invalid_email", "not a valid e-mail address"),
    ("err.mask_mismatch", "does not match the required format"),
    ("err.not_in_dictionary", "not one of the allowed values"),
    ("err.required", "required"),
    ("err.not_editable", "cannot be changed"),
    ("err.duplicate", "already on the list"),
    ("err.multiple_defaults", "only one can be the default"),
    ("err.invalid_number", "not a number"),
    ("err.too_long", "too long"),
    (
        "err.not_an_organization",
        "this record is not an organization",
    ),
    ("err.not_found", "not found"),
    ("err.not_allowed", "not allowed for this kind of record"),
    ("live.also_open", "Also open by"),
    ("live.saved_by", "This record was just saved by"),
    ("live.deleted_by", "This record was deleted by"),
    ("live.refresh", "Refresh"),
    ("col.created_at", "Created"),
    ("col.modified_at", "Modified"),
    ("col.kind", "Kind"),
    ("col.phones", "All phones"),
    ("col.tags", "Tags"),
    ("col.source", "Source"),
    ("list.columns", "Columns"),
    ("list.density", "Density"),
    ("list.compact", "Compact"),
    ("list.comfortable", "Comfortable"),
    ("list.apply", "Apply"),
    (
        "list.drag_hint",
        "Drag headers to reorder, drag their right edge to resize.",
    ),
    ("card.rel_organization", "organization"),
    ("card.rel_person", "person of this organization"),
    ("card.campaign", "Campaign"),
    ("card.status", "Status"),
    ("card.classifier", "Last classifier"),
    ("card.attempts", "Attempts"),
    ("card.history", "Change history"),
    (
        "card.delete_confirm",
        "Delete this record? Its snapshot stays in the audit log.",
    ),
    ("card.show_all", "Show all"),
    ("card.show_less", "Show less"),
    ("dict.languages.pl", "Polish"),
    ("dict.languages.en", "English"),
    ("dict.languages.de", "German"),
    ("dict.languages.cs", "Czech"),
    ("dict.languages.ro", "Romanian"),
    ("dict.stages.lead", "Lead"),
    ("dict.stages.prospect", "Prospect"),
    ("dict.stages.customer", "Customer"),
    ("dict.stages.former", "Former customer"),
    ("dict.acquisition_sources.website", "Website"),
    ("dict.acquisition_sources.phone", "Phone"),
    ("dict.acquisition_sources.referral", "Referral"),
    ("dict.acquisition_sources.campaign", "Campaign"),
    ("dict.ticket_statuses.new", "New"),
    ("dict.ticket_statuses.open", "Open"),
    ("dict.ticket_statuses.closed", "Closed"),
    ("card.campaigns", "Campaigns"),
    ("card.segments", "Segments"),
    ("card.add", "Add"),
    ("card.groups_saved", "Memberships updated."),
    ("none", "—"),
];

pub const PL: &[(&str, &str)] = &[
    ("app", "Kartoteka"),
    ("login.title", "Logowanie"),
    ("login.username", "Nazwa użytkownika"),
    ("login.password", "Hasło"),
    ("login.submit", "Zaloguj"),
    ("login.wrong", "Błędna nazwa użytkownika lub hasło."),
    (
        "login.throttled",
        "Zbyt wiele nieudanych prób. Spróbuj ponownie za kilka minut.",
    ),
    ("login.expired", "Sesja wygasła. Zaloguj się ponownie."),
    ("nav.records", "Rekordy"),
    ("nav.new_person", "Nowa osoba"),
    ("nav.new_organization", "Nowa firma"),
    ("nav.logout", "Wyloguj"),
    ("nav.language", "Język"),
    ("list.search", "Szukaj"),
    (
        "list.search_hint",
        "Nazwisko, telefon, e-mail lub ID rekordu",
    ),
    ("list.clear", "Wyczyść"),
    ("list.empty", "Nie znaleziono rekordów."),
    ("list.page", "Strona"),
    ("list.prev", "Poprzednia"),
    ("list.next", "Następna"),
    ("list.found_one", "rekord"),
    ("list.found_few", "rekordy"),
    ("list.found_many", "rekordów"),
    ("col.id", "ID"),
    ("col.name", "Nazwa"),
    ("col.phone", "Telefon"),
    ("col.email", "E-mail"),
    ("col.city", "Miasto"),
    ("col.modified", "Zmieniono"),
    ("kind.person", "Osoba"),
    ("kind.organization", "Firma"),
    ("f.first_name", "Imię"),
    ("f.last_name", "Nazwisko"),
    ("f.organization_name", "Nazwa firmy"),
    ("f.name", "Nazwa wyświetlana (zamiast wyliczonej)"),
    ("f.city", "Miasto"),
    ("f.address_line1", "Adres"),
    ("f.address_line2", "Adres, linia 2"),
    ("f.postal_code", "Kod pocztowy"),
    ("f.province", "Województwo"),
    ("f.country", "Kraj"),
    ("f.nip", "NIP"),
    ("f.pesel", "PESEL"),
    ("f.regon", "REGON"),
    ("f.language", "Język"),
    ("f.external_id", "Identyfikator zewnętrzny"),
    ("f.position", "Stanowisko"),
    ("f.stage", "Etap"),
    ("f.acquisition_source", "Źródło pozyskania"),
    ("f.organization", "Firma (ID rekordu)"),
    ("f.tags", "Tagi (po przecinku)"),
    ("f.phones", "Telefony"),
    ("f.emails", "Adresy e-mail"),
    ("f.created", "Utworzono"),
    ("f.modified", "Zmieniono"),
    ("f.source", "Źródło"),
    ("card.details", "Dane"),
    ("card.contact", "Dane kontaktowe"),
    ("card.custom", "Pola dodatkowe"),
    ("card.save", "Zapisz"),
    ("card.cancel", "Anuluj"),
    ("card.delete", "Usuń"),
    ("card.call", "Zadzwoń"),
    ("card.sms", "SMS"),
    ("card.email", "E-mail"),
    ("card.more", "Więcej"),
    ("card.default", "domyślny"),
    ("card.add_phone", "Dodaj telefon"),
    ("card.add_email", "Dodaj e-mail"),
    ("card.remove", "Usuń"),
    ("card.saved", "Zapisano."),
    (
        "card.merged",
        "Zapisano. W międzyczasie ktoś zmienił inne pola; zachowano obie zmiany.",
    ),
    ("card.errors", "Niektóre pola wymagają poprawy."),
    (
        "card.unsaved",
        "Masz niezapisane zmiany. Czy na pewno wyjść?",
    ),
    ("card.cases", "Powiązane sprawy"),
    ("card.related", "Powiązane rekordy"),
    ("card.activities", "Aktywności"),
    ("card.none_yet", "Jeszcze nic tu nie ma."),
    ("card.new_person", "Nowa osoba"),
    ("card.new_organization", "Nowa firma"),
    ("card.create", "Utwórz"),
    (
        "card.duplicate",
        "Możliwy duplikat: ten rekord ma wspólny {field} {value} z rekordem",
    ),
    ("card.duplicate.phones", "telefon"),
    ("card.duplicate.emails", "e-mail"),
    ("card.duplicate.pesel", "PESEL"),
    ("card.duplicate.nip", "NIP"),
    ("card.duplicate.external_id", "identyfikator zewnętrzny"),
    (
        "conflict.title",
        "Ktoś inny zapisał ten rekord w międzyczasie",
    ),
    (
        "conflict.intro",
        "Te pola zmieniliście oboje. Wybierz, którą wartość zachować dla każdego z nich.",
    ),
    ("conflict.field", "Pole"),
    ("conflict.theirs", "Ich wartość (zapisana)"),
    ("conflict.yours", "Twoja wartość"),
    ("conflict.apply", "Zapisz moje wybory"),
    ("phone.mobile", "komórkowy"),
    ("phone.landline", "stacjonarny"),
    ("phone.work", "służbowy"),
    ("phone.main", "główny"),
    ("phone.home_fax", "faks domowy"),
    ("phone.office_fax", "faks biurowy"),
    ("phone.other", "inny"),
    (
        "error.not_found",
        "Ten rekord nie istnieje albo nie masz do niego dostępu.",
    ),
    ("error.forbidden", "Twoja rola na to nie pozwala."),
    (
        "error.unexpected",
        "Coś poszło nie tak. Szczegóły są w logu.",
    ),
    ("err.invalid_checksum", "cyfra kontrolna się nie zgadza"),
    ("err.invalid_length", "zła liczba cyfr"),
    ("err.invalid_character", "zawiera niedozwolone znaki"),
    ("err.invalid_date", "nieprawidłowa data"),
    ("err.invalid_phone", "nieprawidłowy numer telefonu"),
    ("err.invalid_email", "nieprawidłowy adres e-mail"),
    ("err.mask_mismatch", "nie pasuje do wymaganego formatu"),
    ("err.not_in_dictionary", "spoza listy dozwolonych wartości"),
    ("err.required", "pole wymagane"),
    ("err.not_editable", "tego pola nie można zmienić"),
    ("err.duplicate", "już jest na liście"),
    ("err.multiple_defaults", "tylko jeden może być domyślny"),
    ("err.invalid_number", "to nie jest liczba"),
    ("err.too_long", "za długie"),
    ("err.not_an_organization", "ten rekord nie jest firmą"),
    ("err.not_found", "nie znaleziono"),
    ("err.not_allowed", "niedozwolone dla tego rodzaju rekordu"),
    ("live.also_open", "Otwarte także przez"),
    ("live.saved_by", "Ten rekord właśnie zapisał(a)"),
    ("live.deleted_by", "Ten rekord usunął(-ęła)"),
    ("live.refresh", "Odśwież"),
    ("col.created_at", "Utworzono"),
    ("col.modified_at", "Zmieniono"),
    ("col.kind", "Rodzaj"),
    ("col.phones", "Wszystkie telefony"),
    ("col.tags", "Tagi"),
    ("col.source", "Źródło"),
    ("list.columns", "Kolumny"),
    ("list.density", "Gęstość"),
    ("list.compact", "Zwarta"),
    ("list.comfortable", "Luźna"),
    ("list.apply", "Zastosuj"),
    (
        "list.drag_hint",
        "Przeciągnij nagłówek, by zmienić kolejność, a jego prawą krawędź, by zmienić szerokość.",
    ),
    ("card.rel_organization", "firma"),
    ("card.rel_person", "osoba z tej firmy"),
    ("card.campaign", "Kampania"),
    ("card.status", "Status"),
    ("card.classifier", "Ostatni klasyfikator"),
    ("card.attempts", "Próby"),
    ("card.history", "Historia zmian"),
    (
        "card.delete_confirm",
        "Usunąć ten rekord? Jego kopia zostanie w dzienniku zdarzeń.",
    ),
    ("card.show_all", "Pokaż wszystkie"),
    ("card.show_less", "Zwiń"),
    ("dict.languages.pl", "polski"),
    ("dict.languages.en", "angielski"),
    ("dict.languages.de", "niemiecki"),
    ("dict.languages.cs", "czeski"),
    ("dict.languages.ro", "rumuński"),
    ("dict.stages.lead", "Lead"),
    ("dict.stages.prospect", "Potencjalny klient"),
    ("dict.stages.customer", "Klient"),
    ("dict.stages.former", "Były klient"),
    ("dict.acquisition_sources.website", "Strona WWW"),
    ("dict.acquisition_sources.phone", "Telefon"),
    ("dict.acquisition_sources.referral", "Polecenie"),
    ("dict.acquisition_sources.campaign", "Kampania"),
    ("dict.ticket_statuses.new", "Nowe"),
    ("dict.ticket_statuses.open", "Otwarte"),
    ("dict.ticket_statuses.closed", "Zamknięte"),
    ("card.campaigns", "Kampanie"),
    ("card.segments", "Segmenty"),
    ("card.add", "Dodaj"),
    ("card.groups_saved", "Zaktualizowano przypisania."),
    ("none", "—"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_key_once() {
        fn keys(t: &[(&'static str, &'static str)]) -> Vec<&'static str> {
            t.iter().map(|(k, _)| *k).collect()
        }
        for (en, pl) in [
            (EN, PL),
            (super::super::i18n_admin::EN, super::super::i18n_admin::PL),
            (super::super::i18n_cases::EN, super::super::i18n_cases::PL),
            (super::super::i18n_filter::EN, super::super::i18n_filter::PL),
            (
                super::super::i18n_imports::EN,
                super::super::i18n_imports::PL,
            ),
        ] {
            assert_eq!(keys(en), keys(pl), "the same keys in the same order");
            assert!(pl.iter().all(|(_, v)| !v.is_empty()));
        }
        let mut all: Vec<&str> = Lang::En.tables().iter().flat_map(|t| keys(t)).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "no key twice");
    }

    #[test]
    fn seeded_dictionary_entries_read_in_polish_but_written_labels_stay() {
        assert_eq!(
            Lang::Pl.entry_label("languages", "de", "German"),
            "niemiecki"
        );
        assert_eq!(
            Lang::Pl.entry_label("languages", "de", "Niemiecki (DE)"),
            "Niemiecki (DE)"
        );
        assert_eq!(Lang::En.entry_label("stages", "lead", "Lead"), "Lead");
        assert_eq!(Lang::Pl.entry_label("positions", "cto", "CTO"), "CTO");
    }

    #[test]
    fn polish_counts_take_the_right_form_and_numbers_are_grouped() {
        let n = |n| Lang::Pl.count(n, "list.found_one", "list.found_few", "list.found_many");
        assert_eq!(n(1), "1 rekord");
        assert_eq!(n(3), "3 rekordy");
        assert_eq!(n(5), "5 rekordów");
        assert_eq!(n(12), "12 rekordów");
        assert_eq!(n(22), "22 rekordy");
        assert_eq!(n(1_000_000), "1\u{a0}000\u{a0}000 rekordów");
        assert_eq!(Lang::En.number(1234567), "1,234,567");
    }
}
