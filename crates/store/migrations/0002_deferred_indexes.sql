-- Indexes a bulk load dropped to build them afterwards; whatever is left here (a load that
-- was killed) is rebuilt at the next start.
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql TEXT NOT NULL
);
