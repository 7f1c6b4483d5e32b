-- SQLite: a trigram full-text index over the folded keys (infix search, `%rzyb%`),
-- contentless (the values live in records), kept by triggers.
CREATE VIRTUAL TABLE record_trgm USING fts5(
    k_last, k_first, k_display, k_city, k_address,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);
CREATE TRIGGER records_trgm_insert AFTER INSERT ON records BEGIN
    INSERT INTO record_trgm (rowid, k_last, k_first, k_display, k_city, k_address)
    VALUES (new.id, new.k_last, new.k_first, new.k_display, new.k_city, new.k_address);
END;
CREATE TRIGGER records_trgm_update AFTER UPDATE OF k_last, k_first, k_display, k_city, k_address ON records BEGIN
    DELETE FROM record_trgm WHERE rowid = old.id;
    INSERT INTO record_trgm (rowid, k_last, k_first, k_display, k_city, k_address)
    VALUES (new.id, new.k_last, new.k_first, new.k_display, new.k_city, new.k_address);
END;
CREATE TRIGGER records_trgm_delete AFTER DELETE ON records BEGIN
    DELETE FROM record_trgm WHERE rowid = old.id;
END;
