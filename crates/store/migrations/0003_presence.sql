-- Who has which card open (SPEC C10). Rows are refreshed by the open page's event stream
-- and count only while fresh, so a node that dies leaves nothing behind for long.
CREATE TABLE presence (
    record_public_id TEXT NOT NULL,
    session_key TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (record_public_id, session_key)
);
