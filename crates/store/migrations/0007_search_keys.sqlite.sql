-- SQLite: trigram full-text indexes over the folded keys (infix search, `%rzyb%`), one
-- per key so that a trigram's list holds only that field's rows; contentless (the values
-- live in records), kept by triggers. Empty keys are not indexed.
CREATE VIRTUAL TABLE trgm_last USING fts5(k, content = '', contentless_delete = 1, tokenize = 'trigram');
CREATE VIRTUAL TABLE trgm_first USING fts5(k, content = '', contentless_delete = 1, tokenize = 'trigram');
CREATE VIRTUAL TABLE trgm_display USING fts5(k, content = '', contentless_delete = 1, tokenize = 'trigram');
CREATE VIRTUAL TABLE trgm_city USING fts5(k, content = '', contentless_delete = 1, tokenize = 'trigram');
CREATE VIRTUAL TABLE trgm_address USING fts5(k, content = '', contentless_delete = 1, tokenize = 'trigram');
CREATE TRIGGER records_trgm_insert AFTER INSERT ON records BEGIN
    INSERT INTO trgm_last (rowid, k) SELECT new.id, new.k_last WHERE new.k_last <> '';
    INSERT INTO trgm_first (rowid, k) SELECT new.id, new.k_first WHERE new.k_first <> '';
    INSERT INTO trgm_display (rowid, k) SELECT new.id, new.k_display WHERE new.k_display <> '';
    INSERT INTO trgm_city (rowid, k) SELECT new.id, new.k_city WHERE new.k_city <> '';
    INSERT INTO trgm_address (rowid, k) SELECT new.id, new.k_address WHERE new.k_address <> '';
END;
CREATE TRIGGER records_trgm_update_last AFTER UPDATE OF k_last ON records
    WHEN old.k_last IS NOT new.k_last BEGIN
    DELETE FROM trgm_last WHERE rowid = old.id;
    INSERT INTO trgm_last (rowid, k) SELECT new.id, new.k_last WHERE new.k_last <> '';
END;
CREATE TRIGGER records_trgm_update_first AFTER UPDATE OF k_first ON records
    WHEN old.k_first IS NOT new.k_first BEGIN
    DELETE FROM trgm_first WHERE rowid = old.id;
    INSERT INTO trgm_first (rowid, k) SELECT new.id, new.k_first WHERE new.k_first <> '';
END;
CREATE TRIGGER records_trgm_update_display AFTER UPDATE OF k_display ON records
    WHEN old.k_display IS NOT new.k_display BEGIN
    DELETE FROM trgm_display WHERE rowid = old.id;
    INSERT INTO trgm_display (rowid, k) SELECT new.id, new.k_display WHERE new.k_display <> '';
END;
CREATE TRIGGER records_trgm_update_city AFTER UPDATE OF k_city ON records
    WHEN old.k_city IS NOT new.k_city BEGIN
    DELETE FROM trgm_city WHERE rowid = old.id;
    INSERT INTO trgm_city (rowid, k) SELECT new.id, new.k_city WHERE new.k_city <> '';
END;
CREATE TRIGGER records_trgm_update_address AFTER UPDATE OF k_address ON records
    WHEN old.k_address IS NOT new.k_address BEGIN
    DELETE FROM trgm_address WHERE rowid = old.id;
    INSERT INTO trgm_address (rowid, k) SELECT new.id, new.k_address WHERE new.k_address <> '';
END;
CREATE TRIGGER records_trgm_delete AFTER DELETE ON records BEGIN
    DELETE FROM trgm_last WHERE rowid = old.id;
    DELETE FROM trgm_first WHERE rowid = old.id;
    DELETE FROM trgm_display WHERE rowid = old.id;
    DELETE FROM trgm_city WHERE rowid = old.id;
    DELETE FROM trgm_address WHERE rowid = old.id;
END;
