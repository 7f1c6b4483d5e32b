-- Imports and exports (issue 5). An import is a job of kind `import` (its options are the
-- job's params, its counts the job's result); these tables hold what a job row cannot.

-- Files uploaded for import, waiting to be previewed and started.
CREATE TABLE uploads (
    id {{PK}},
    file_name TEXT NOT NULL,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    format TEXT NOT NULL,
    csv_encoding TEXT,
    csv_delimiter TEXT,
    sheets TEXT NOT NULL,
    uploaded_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    uploaded_at BIGINT NOT NULL
);

-- What an import did to each record, for its revert: `created`, or `updated` with the
-- journal of what it changed (JSON: fields before/after, added phones, e-mails, tags,
-- campaigns, segments). A record keeps its first entry of one import.
CREATE TABLE import_items (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    record_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    undo TEXT,
    PRIMARY KEY (job_id, record_id)
);

-- Rows an import could not take: the row as read and every invalid cell.
CREATE TABLE import_failures (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    cells TEXT NOT NULL,
    errors TEXT NOT NULL,
    PRIMARY KEY (job_id, row_number)
);

-- Files made for a user to download (exports, failed rows), removed when they expire.
CREATE TABLE downloads (
    id {{PK}},
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    file_name TEXT NOT NULL,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    rows BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX downloads_user ON downloads(user_id, id);
CREATE INDEX downloads_expires ON downloads(expires_at);
CREATE INDEX jobs_kind ON jobs(kind, id);
