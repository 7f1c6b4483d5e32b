-- Duplicates and merge (issue 6). A duplicate search is a job of kind `duplicates_find`
-- (its criteria are the job's params, its counts the job's result); its groups are rows here.
CREATE TABLE duplicate_groups (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    size BIGINT NOT NULL,
    -- JSON array of the members' public IDs, oldest first (the survivor of a bulk action).
    records TEXT NOT NULL,
    -- JSON object: criterion key -> the values that tie the group.
    ties TEXT NOT NULL,
    -- A sortable text of the ties (first values), for the list's sort by value.
    tie_text TEXT NOT NULL,
    -- Why bulk actions leave the group out: '' (none), 'too_large', 'excluded', 'mixed_kinds'.
    held TEXT NOT NULL DEFAULT '',
    -- Set when a merge or delete resolved the group (the operation's ID).
    resolved_by BIGINT,
    PRIMARY KEY (job_id, position)
);
CREATE INDEX duplicate_groups_size ON duplicate_groups(job_id, size, position);
CREATE INDEX duplicate_groups_resolved ON duplicate_groups(resolved_by);

-- Every merge and every duplicate delete, with what undo needs: a snapshot of the main
-- record before, of each removed record (every row that hung off it), and of the links
-- the operation moved. `snapshot` is emptied when the undo window ends.
CREATE TABLE merge_operations (
    id {{PK}},
    job_id BIGINT REFERENCES jobs(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    username TEXT NOT NULL,
    main_record_id BIGINT,
    main_public_id TEXT NOT NULL,
    main_version BIGINT,
    removed TEXT NOT NULL,
    summary TEXT NOT NULL,
    snapshot TEXT,
    undone_at BIGINT,
    undone_by TEXT,
    purged_at BIGINT
);
CREATE INDEX merge_operations_at ON merge_operations(at);
CREATE INDEX merge_operations_job ON merge_operations(job_id);
CREATE INDEX merge_operations_main ON merge_operations(main_public_id);

-- Cases and classifier entries moved by a merge keep the record they happened on.
ALTER TABLE cases ADD COLUMN origin_record TEXT;
ALTER TABLE case_classifiers ADD COLUMN origin_record TEXT;
