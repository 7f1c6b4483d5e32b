//! Text folding for search and a Polish collation key for sorting.
//!
//! [`fold`] gives a case- and diacritic-insensitive form (`Łódź` -> `lodz`):
//! store it beside the text, fold the query the same way, compare.
//!
//! [`sort_key`] gives a string whose plain binary order (Rust `Ord`, SQLite
//! `BINARY`, PostgreSQL `COLLATE "C"`) is the Polish alphabetical order:
//! `a ą b c ć d e ę f g h i j k l ł m n ń o ó p q r s ś t u v w x y z ź ż`,
//! ignoring case.
//!
//! Key encoding (all ASCII except non-Latin letters):
//! * whitespace runs -> one `' '` (0x20), trimmed: sorts before everything;
//! * ASCII punctuation `!` .. `/` -> itself; every other non-alphanumeric
//!   character (`:;<=>?@[\]^_{|}~`, non-ASCII symbols and punctuation) -> `/`;
//! * digits -> themselves (0x30..0x39): after punctuation, before letters;
//! * a Latin letter -> its lower-case base letter `a`..`z`; other accented
//!   letters (`é`, `ü`, `č`, ...) are their base letter, `ß` is `ss`, `æ` `ae`,
//!   `œ` `oe`;
//! * a Polish diacritic letter -> its base letter followed by `}` (0x7D), or `~`
//!   (0x7E) for `ż` (so `ź` < `ż`). Every other key character is below `}`, so
//!   `ą` sorts after `a` followed by anything and before `b`;
//! * any other letter or digit (Cyrillic, Greek, ...) -> `|` (0x7C) followed by
//!   the lower-case character itself: after all Latin letters.

/// Base letter(s) of a lower-case Latin letter with a diacritic, or of a
/// ligature. `None` for anything else (including plain ASCII).
fn latin_base(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ȁ' | 'ȃ' | 'ạ' | 'ả' | 'ấ'
        | 'ầ' | 'ẩ' | 'ẫ' | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' | 'ȅ' | 'ȇ' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế'
        | 'ề' | 'ể' | 'ễ' | 'ệ' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' | 'ỉ' | 'ị' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' | 'ọ' | 'ỏ' | 'ố' | 'ồ'
        | 'ổ' | 'ỗ' | 'ộ' | 'ớ' | 'ờ' | 'ở' | 'ỡ' | 'ợ' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' | 'ǔ' | 'ǖ' | 'ǘ' | 'ǚ'
        | 'ǜ' | 'ụ' | 'ủ' | 'ứ' | 'ừ' | 'ử' | 'ữ' | 'ự' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' | 'ỳ' | 'ỹ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// A lower-case Polish diacritic letter: its base letter and the marker that
/// follows it in a sort key.
fn polish(c: char) -> Option<(char, char)> {
    Some(match c {
        'ą' => ('a', '}'),
        'ć' => ('c', '}'),
        'ę' => ('e', '}'),
        'ł' => ('l', '}'),
        'ń' => ('n', '}'),
        'ó' => ('o', '}'),
        'ś' => ('s', '}'),
        'ź' => ('z', '}'),
        'ż' => ('z', '~'),
        _ => return None,
    })
}

/// Combining diacritical marks (decomposed input, e.g. `a` + U+0328).
fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// The Polish letter formed by a base letter and a combining mark, as its
/// sort-key marker.
fn polish_combining(base: char, mark: char) -> Option<char> {
    match (base, mark) {
        ('a' | 'e', '\u{0328}') => Some('}'), // ogonek
        ('c' | 'n' | 'o' | 's' | 'z', '\u{0301}') => Some('}'), // acute
        ('z', '\u{0307}') => Some('~'),       // dot above
        _ => None,
    }
}

/// Lower-cased, diacritics stripped (Polish and the common Latin ones, `ß` ->
/// `ss`), combining marks dropped, whitespace runs collapsed to one space and
/// trimmed. For case- and diacritic-insensitive search: `fold("  Łódź ")` is
/// `"lodz"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        for l in c.to_lowercase() {
            if is_combining(l) {
                continue;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            match latin_base(l) {
                Some(base) => out.push_str(base),
                None => out.push(l),
            }
        }
    }
    out
}

/// A key whose binary order is the Polish alphabetical order of `s`, ignoring
/// case; other accents are ignored (`Müller` sorts as `Muller`). See the module
/// documentation for the encoding. Equal keys do not imply equal strings; break
/// ties with another column.
pub fn sort_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut pending_space = false;
    // The last base letter pushed and whether it already carries a marker, for
    // combining marks in decomposed input.
    let mut last: Option<(char, bool)> = None;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            last = None;
            continue;
        }
        for l in c.to_lowercase() {
            if is_combining(l) {
                if let Some((base, false)) = last
                    && let Some(marker) = polish_combining(base, l)
                {
                    out.push(marker);
                    last = Some((base, true));
                }
                continue;
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            if let Some((base, marker)) = polish(l) {
                out.push(base);
                out.push(marker);
                last = Some((base, true));
            } else if l.is_ascii_lowercase() || l.is_ascii_digit() {
                out.push(l);
                last = Some((l, false));
            } else if let Some(base) = latin_base(l) {
                out.push_str(base);
                last = None;
            } else if l.is_alphanumeric() {
                out.push('|');
                out.push(l);
                last = None;
            } else if matches!(l, '!'..='/') {
                out.push(l);
                last = None;
            } else {
                out.push('/');
                last = None;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    // --- fold -------------------------------------------------------------------

    #[test]
    fn fold_strips_polish_diacritics_in_both_cases() {
        assert_eq!(fold("zażółć gęślą jaźń"), "zazolc gesla jazn");
        assert_eq!(fold("ZAŻÓŁĆ GĘŚLĄ JAŹŃ"), "zazolc gesla jazn");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("ĄĆĘŁŃÓŚŹŻ"), "acelnoszz");
    }

    #[test]
    fn fold_strips_german_czech_romanian_and_french_diacritics() {
        assert_eq!(
            fold("Müller Straße Köln Äpfel"),
            "muller strasse koln apfel"
        );
        assert_eq!(
            fold("Dvořák Šťastný Žďár Čapek Ůvaly Ňadra"),
            "dvorak stastny zdar capek uvaly nadra"
        );
        assert_eq!(
            fold("Ştefan Țară Șoim Ţeapă Âncă Înalt"),
            "stefan tara soim teapa anca inalt"
        );
        assert_eq!(
            fold("Élodie Hélène Garçon Noël Œuvre"),
            "elodie helene garcon noel oeuvre"
        );
        assert_eq!(fold("ě é è"), "e e e");
    }

    #[test]
    fn fold_collapses_and_trims_whitespace() {
        assert_eq!(fold("  Jan \t\n  Kowalski  "), "jan kowalski");
        assert_eq!(fold("a\u{a0}\u{a0}b"), "a b");
        assert_eq!(fold("   "), "");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn fold_drops_combining_marks_of_decomposed_input() {
        assert_eq!(fold("Lo\u{0301}dz\u{0301}"), "lodz");
        assert_eq!(fold("a\u{0328}"), "a");
    }

    #[test]
    fn fold_keeps_digits_punctuation_and_non_latin_letters() {
        assert_eq!(fold("ul. Świętokrzyska 12/3"), "ul. swietokrzyska 12/3");
        assert_eq!(fold("Жуков"), "жуков");
    }

    #[test]
    fn fold_makes_a_diacritic_free_query_match() {
        assert!(fold("ŁÓDŹ, Piotrkowska").contains(&fold("lodz")));
        assert_eq!(fold("Łódź"), fold("LODZ"));
    }

    // --- sort_key ---------------------------------------------------------------

    fn assert_sorted(words: &[&str]) {
        for pair in words.windows(2) {
            let (a, b) = (sort_key(pair[0]), sort_key(pair[1]));
            assert!(
                a < b,
                "{:?} ({a:?}) should sort before {:?} ({b:?})",
                pair[0],
                pair[1]
            );
        }
        let mut shuffled: Vec<&str> = words.iter().rev().copied().collect();
        shuffled.sort_by_key(|w| sort_key(w));
        assert_eq!(shuffled, words);
    }

    #[test]
    fn sort_key_puts_l_with_stroke_between_l_and_m() {
        assert_sorted(&["Lis", "Lzy", "Łabędź", "Łukasz", "Mazur"]);
    }

    #[test]
    fn sort_key_orders_z_acute_and_z_dot_after_z() {
        assert_sorted(&["Zając", "Zzz", "Źrebiec", "Źzz", "Żak", "Żzz"]);
    }

    #[test]
    fn sort_key_puts_a_ogonek_after_every_a_word_and_before_b() {
        assert_sorted(&["a", "az", "azzz", "ą", "ąb", "b"]);
    }

    #[test]
    fn sort_key_follows_the_whole_polish_alphabet() {
        let alphabet = [
            "a", "ą", "b", "c", "ć", "d", "e", "ę", "f", "g", "h", "i", "j", "k", "l", "ł", "m",
            "n", "ń", "o", "ó", "p", "q", "r", "s", "ś", "t", "u", "v", "w", "x", "y", "z", "ź",
            "ż",
        ];
        assert_sorted(&alphabet);
        let upper: Vec<String> = alphabet.iter().map(|l| l.to_uppercase()).collect();
        let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
        assert_sorted(&upper);
    }

    #[test]
    fn sort_key_orders_real_surnames() {
        assert_sorted(&[
            "Kowal",
            "Kowalczyk",
            "Kowalska",
            "Kowalski",
            "Kozłowski",
            "Krawczyk",
        ]);
        assert_sorted(&["Czajka", "Ćwik", "Dudek"]);
        assert_sorted(&["Szymański", "Śliwa", "Tomczak"]);
        assert_sorted(&["Ozga", "Ósmy", "Pawlak"]);
        assert_sorted(&["Nowak", "Nowakowski", "Nowicki", "Ńaba"]);
        assert_sorted(&["Lewandowski", "Łęcki", "Łuczak", "Mazur"]);
        assert_sorted(&["Wozniak", "Woźniak", "Wójcik", "Wróbel"]);
        assert_sorted(&["Zieliński", "Źródło", "Żak", "Żurek"]);
    }

    #[test]
    fn sort_key_ignores_case() {
        assert_eq!(sort_key("Kowalski"), sort_key("KOWALSKI"));
        assert_eq!(sort_key("łódź"), sort_key("ŁÓDŹ"));
        assert_sorted(&["adam", "Bartek", "celina", "Dorota"]);
    }

    #[test]
    fn sort_key_treats_other_accents_as_their_base_letter() {
        assert_eq!(sort_key("Müller"), sort_key("Muller"));
        assert_eq!(sort_key("Dvořák"), sort_key("Dvorak"));
        assert_eq!(sort_key("Straße"), sort_key("strasse"));
        assert_sorted(&["Mueller", "Müller", "Mullet"]);
        assert_sorted(&["Čapek", "Ćwik"]);
    }

    #[test]
    fn sort_key_puts_space_first_then_punctuation_then_digits_then_letters() {
        assert_sorted(&["Anna", "Anna Maria", "Anna-Maria", "Anna1", "Annabel"]);
        assert_sorted(&["10 Pułk", "2 Pułk", "Adam"]);
    }

    #[test]
    fn sort_key_collapses_and_trims_whitespace() {
        assert_eq!(sort_key("  Jan   Kowalski "), sort_key("Jan Kowalski"));
    }

    #[test]
    fn sort_key_handles_decomposed_polish_letters() {
        assert_eq!(sort_key("La\u{0328}cki"), sort_key("Lącki"));
        assert_eq!(sort_key("Z\u{0307}ak"), sort_key("Żak"));
        assert_eq!(sort_key("Z\u{0301}ro\u{0301}dło"), sort_key("Źródło"));
    }

    #[test]
    fn sort_key_puts_non_latin_letters_after_latin_ones() {
        assert_sorted(&["Żak", "Żzz", "Абрамов", "Жуков"]);
        assert_sorted(&["a", "aЖ", "ą"]);
    }

    #[test]
    fn sort_key_of_empty_or_blank_text_is_empty() {
        assert_eq!(sort_key(""), "");
        assert_eq!(sort_key("   "), "");
        assert!(sort_key("") < sort_key("a"));
    }
}
