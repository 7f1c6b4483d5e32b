-- Search keys of the filter engine (SPEC C4): text criteria match regardless of case and
-- Polish diacritics, so each searchable text is stored folded (`text::fold`: lower case,
-- diacritics stripped) in k_*, and reversed in x_* so that a suffix (`%ski`) is a prefix
-- search on an index. Infix patterns use trigram indexes (per backend, see db.rs).
-- Filled by the application on every write; rows from before this migration are filled
-- at start-up (`search_keys::backfill`), found by k_display = ''.
ALTER TABLE records ADD COLUMN k_last TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN k_first TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN k_display TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN k_city TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN k_address TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN x_last TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN x_first TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN x_display TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN x_city TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN x_address TEXT{{C}} NOT NULL DEFAULT '';
-- Folded, without indexes (scanned when filtered on).
ALTER TABLE records ADD COLUMN k_postal TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN k_province TEXT{{C}} NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN k_country TEXT{{C}} NOT NULL DEFAULT '';
-- Covering the default sort, so a last-name prefix's page sorts its matches from the index.
CREATE INDEX records_k_last ON records(k_last, sort_last, sort_first, public_id);
CREATE INDEX records_k_first ON records(k_first);
CREATE INDEX records_k_display ON records(k_display);
-- City: its sort (public ID the tie-break), and its filters with a created-at range.
CREATE INDEX records_k_city ON records(k_city, public_id);
CREATE INDEX records_city_created ON records(k_city, created_at);
CREATE INDEX records_k_address ON records(k_address);
CREATE INDEX records_x_last ON records(x_last);
CREATE INDEX records_x_first ON records(x_first);
CREATE INDEX records_x_display ON records(x_display);
CREATE INDEX records_x_city ON records(x_city);
CREATE INDEX records_x_address ON records(x_address);
CREATE INDEX records_last_contact ON records(last_contact_at);
CREATE INDEX records_modified_by ON records(modified_by);
CREATE INDEX records_language ON records(language);
CREATE INDEX records_stage ON records(stage);
CREATE INDEX records_position ON records(position);
CREATE INDEX records_acquisition ON records(acquisition_source);
-- Custom values folded, for text criteria on custom fields.
ALTER TABLE custom_values ADD COLUMN folded TEXT{{C}};
CREATE INDEX custom_values_folded ON custom_values(field_id, folded);
CREATE INDEX cases_assigned ON cases(assigned_to);
-- The unique (record_id, campaign_id) index serves lookups by record already.
DROP INDEX cases_record;
CREATE INDEX case_classifiers_classifier ON case_classifiers(classifier, case_id);

-- Saved views of the record list: a named filter, private to its owner or shared.
CREATE TABLE saved_views (
    id {{PK}},
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    filter TEXT NOT NULL,
    sort TEXT,
    shared BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);
