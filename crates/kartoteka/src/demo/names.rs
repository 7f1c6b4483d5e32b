//! Word lists for demo data: Polish names, surnames, cities, streets.

pub const MALE: &[&str] = &[
    "Adam", "Adrian", "Andrzej", "Antoni", "Artur", "Bartłomiej", "Błażej", "Bogdan", "Czesław", "Damian",
    "Daniel", "Dariusz", "Dawid", "Dominik", "Edward", "Emil", "Filip", "Franciszek", "Grzegorz", "Henryk",
    "Hubert", "Igor", "Jacek", "Jakub", "Jan", "Janusz", "Jarosław", "Jerzy", "Józef", "Julian", "Kacper",
    "Kamil", "Karol", "Kazimierz", "Konrad", "Krystian", "Krzysztof", "Leszek", "Łukasz", "Maciej", "Marcin",
    "Marek", "Mariusz", "Mateusz", "Michał", "Mikołaj", "Mirosław", "Norbert", "Oskar", "Patryk", "Paweł",
    "Piotr", "Przemysław", "Radosław", "Rafał", "Robert", "Roman", "Ryszard", "Sebastian", "Sławomir",
    "Stanisław", "Stefan", "Szymon", "Tadeusz", "Tomasz", "Wiesław", "Wiktor", "Witold", "Władysław",
    "Wojciech", "Zbigniew", "Zdzisław", "Zenon", "Zygmunt",
];

pub const FEMALE: &[&str] = &[
    "Agata", "Agnieszka", "Aleksandra", "Alicja", "Amelia", "Anna", "Barbara", "Beata", "Bożena", "Danuta",
    "Dominika", "Dorota", "Edyta", "Elżbieta", "Emilia", "Ewa", "Ewelina", "Gabriela", "Grażyna", "Halina",
    "Hanna", "Irena", "Iwona", "Izabela", "Jadwiga", "Janina", "Joanna", "Jolanta", "Julia", "Justyna",
    "Karolina", "Katarzyna", "Kinga", "Klaudia", "Krystyna", "Lena", "Lucyna", "Magdalena", "Maja",
    "Małgorzata", "Maria", "Marianna", "Marta", "Monika", "Natalia", "Oliwia", "Patrycja", "Paulina",
    "Renata", "Róża", "Sylwia", "Stanisława", "Teresa", "Urszula", "Wanda", "Weronika", "Wiesława",
    "Zofia", "Zuzanna", "Żaneta",
];

/// Stems taking -ski / -ska.
pub const SKI_STEMS: &[&str] = &[
    "Kowal", "Wiśniew", "Lewandow", "Kamiń", "Zieliń", "Szymań", "Woźniak", "Dąbrow", "Kozłow", "Jankow",
    "Mazur", "Wojciechow", "Kwiatkow", "Krawczyk", "Piotrow", "Grabow", "Nowakow", "Pawłow", "Michal",
    "Adam", "Zaleś", "Wróblew", "Jasiń", "Sadow", "Bąkow", "Chmielew", "Włodarczyk", "Borkow", "Czarnec",
    "Sawic", "Sokołow", "Urbań", "Kubiak", "Maciejew", "Szczepań", "Kucharski", "Wilczyń", "Kalinow",
    "Lis", "Mazurkiewicz", "Wysoc", "Adamczew", "Olszew", "Jaworski", "Malinow", "Majew", "Ostrow",
    "Rutkow", "Gór", "Żuraw", "Przybyl", "Skrzyp", "Łapiń", "Śliwiń", "Świątkow", "Źreb", "Żmijew",
];

pub const SURNAMES_PLAIN: &[&str] = &[
    "Nowak", "Wójcik", "Kowalczyk", "Woźniak", "Mazur", "Krawczyk", "Kaczmarek", "Zając", "Król", "Wieczorek",
    "Jabłoński", "Wróbel", "Dudek", "Adamczyk", "Pawlak", "Walczak", "Stępień", "Sikora", "Baran", "Duda",
    "Szewczyk", "Tomaszewski", "Pietrzak", "Marciniak", "Zalewski", "Jakubowski", "Zawadzki", "Sadowski",
    "Bąk", "Chmielewski", "Włodarczyk", "Borkowski", "Czarnecki", "Sawicki", "Kubiak", "Michalak", "Lis",
    "Kołodziej", "Gołębiowski", "Cieślak", "Kamiński", "Głowacki", "Żak", "Łuczak", "Śliwa", "Ziółkowski",
    "Gajewski", "Szulc", "Makowski", "Nowicki", "Kurek", "Fijałkowski", "Gąsior", "Żurek", "Bielecki",
];

/// City, postal code prefix, province.
pub const CITIES: &[(&str, &str, &str)] = &[
    ("Warszawa", "00", "mazowieckie"), ("Kraków", "30", "małopolskie"), ("Łódź", "90", "łódzkie"),
    ("Wrocław", "50", "dolnośląskie"), ("Poznań", "60", "wielkopolskie"), ("Gdańsk", "80", "pomorskie"),
    ("Szczecin", "70", "zachodniopomorskie"), ("Bydgoszcz", "85", "kujawsko-pomorskie"),
    ("Lublin", "20", "lubelskie"), ("Białystok", "15", "podlaskie"), ("Katowice", "40", "śląskie"),
    ("Gdynia", "81", "pomorskie"), ("Częstochowa", "42", "śląskie"), ("Radom", "26", "mazowieckie"),
    ("Rzeszów", "35", "podkarpackie"), ("Toruń", "87", "kujawsko-pomorskie"), ("Sosnowiec", "41", "śląskie"),
    ("Kielce", "25", "świętokrzyskie"), ("Gliwice", "44", "śląskie"), ("Olsztyn", "10", "warmińsko-mazurskie"),
    ("Zabrze", "41", "śląskie"), ("Bielsko-Biała", "43", "śląskie"), ("Bytom", "41", "śląskie"),
    ("Zielona Góra", "65", "lubuskie"), ("Rybnik", "44", "śląskie"), ("Ruda Śląska", "41", "śląskie"),
    ("Opole", "45", "opolskie"), ("Tychy", "43", "śląskie"), ("Gorzów Wielkopolski", "66", "lubuskie"),
    ("Elbląg", "82", "warmińsko-mazurskie"), ("Płock", "09", "mazowieckie"), ("Wałbrzych", "58", "dolnośląskie"),
    ("Włocławek", "87", "kujawsko-pomorskie"), ("Tarnów", "33", "małopolskie"), ("Chorzów", "41", "śląskie"),
    ("Koszalin", "75", "zachodniopomorskie"), ("Kalisz", "62", "wielkopolskie"), ("Legnica", "59", "dolnośląskie"),
    ("Grudziądz", "86", "kujawsko-pomorskie"), ("Jaworzno", "43", "śląskie"), ("Słupsk", "76", "pomorskie"),
    ("Nowy Sącz", "33", "małopolskie"), ("Jelenia Góra", "58", "dolnośląskie"), ("Siedlce", "08", "mazowieckie"),
    ("Mysłowice", "41", "śląskie"), ("Piła", "64", "wielkopolskie"), ("Ostrów Wielkopolski", "63", "wielkopolskie"),
    ("Suwałki", "16", "podlaskie"), ("Łomża", "18", "podlaskie"), ("Żory", "44", "śląskie"), ("Świdnica", "58", "dolnośląskie"),
];

pub const STREETS: &[&str] = &[
    "Marszałkowska", "Piękna", "Długa", "Krótka", "Polna", "Leśna", "Słoneczna", "Ogrodowa", "Lipowa", "Brzozowa",
    "Kościuszki", "Mickiewicza", "Słowackiego", "Sienkiewicza", "Piłsudskiego", "Kopernika", "Chopina",
    "Żeromskiego", "Reymonta", "Konopnickiej", "Prusa", "Orzeszkowej", "3 Maja", "Wolności", "Kwiatowa",
    "Szkolna", "Kolejowa", "Łąkowa", "Źródlana", "Świętokrzyska", "Grunwaldzka", "Jagiellońska", "Żwirki i Wigury",
];

pub const MOBILE_PREFIXES: &[&str] = &["50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"];

pub const AREA_CODES: &[&str] = &["12", "22", "32", "42", "48", "52", "58", "61", "71", "81", "85", "91"];

pub const EMAIL_DOMAINS: &[&str] = &["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl", "poczta.fm", "example.pl"];

pub const ORG_STEMS: &[&str] = &[
    "Budex", "Transpol", "Agromax", "Elektrobud", "Meblex", "Polmed", "Infotech", "Drukarnia Wisła",
    "Hurtownia Pod Lipami", "Zakład Stolarski", "Piekarnia Złoty Kłos", "Biuro Rachunkowe", "Auto Serwis",
    "Kancelaria Prawna", "Przychodnia Zdrowie", "Hotel Pod Różą", "Cukiernia Słodka", "Ogrody Łąka",
];

pub const ORG_FORMS: &[&str] = &["sp. z o.o.", "S.A.", "s.c.", "sp.j.", "sp.k."];

pub const TAGS: &[&str] = &["vip", "newsletter", "b2b", "hot-lead", "do-not-call", "reklamacja"];

pub const NOTES: &[&str] = &[
    "Prosi o kontakt po 16:00.", "Zainteresowany ofertą światłowodu.", "Nie dzwonić w weekendy.",
    "Klient z polecenia.", "Preferuje kontakt mailowy.", "Wymaga faktury VAT.",
];
