-- The shared job system (SPEC "Jobs"): durable rows a worker claims, with progress, a
-- cursor that the job's own writes advance in the same transaction (so a resumed job
-- never does a row twice), and a result.
CREATE TABLE jobs (
    id {{PK}},
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    cursor BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    result TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    heartbeat_at BIGINT
);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE INDEX jobs_creator ON jobs(created_by, id);

-- What a job changed, written with each chunk: the audit entry of the job names these.
CREATE TABLE job_items (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    record_public_id TEXT NOT NULL,
    PRIMARY KEY (job_id, record_public_id)
);
