-- Campaigns, segments and cases (SPEC C3): segments and their members, the history of a
-- case's classifiers, and when a case last changed.
CREATE TABLE segments (
    id {{PK}},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE record_segments (
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, segment_id)
);
CREATE INDEX record_segments_segment ON record_segments(segment_id, record_id);

CREATE TABLE case_classifiers (
    id {{PK}},
    case_id BIGINT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    classifier TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    at BIGINT NOT NULL
);
CREATE INDEX case_classifiers_case ON case_classifiers(case_id, at);

ALTER TABLE cases ADD COLUMN modified_at BIGINT;
CREATE INDEX cases_record ON cases(record_id);
