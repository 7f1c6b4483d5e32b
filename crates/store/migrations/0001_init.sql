-- Kartoteka schema, version 1. Shared by SQLite and PostgreSQL: only BIGINT, TEXT and
-- DOUBLE PRECISION column types (sqlx's Any driver decodes nothing else on SQLite);
-- {{PK}} and {{C}} are replaced per backend. Instants are BIGINT milliseconds since the Unix epoch, UTC.
-- Flags are BIGINT 0/1.

CREATE TABLE users (
    id {{PK}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    role TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]',
    active BIGINT NOT NULL DEFAULT 1,
    locale TEXT NOT NULL DEFAULT 'en',
    time_zone TEXT NOT NULL DEFAULT 'Europe/Warsaw',
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id {{PK}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE login_failures (
    id {{PK}},
    username TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_user_at ON login_failures(username, at);

CREATE TABLE dictionary_entries (
    dictionary TEXT NOT NULL,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (dictionary, code)
);

CREATE TABLE custom_fields (
    id {{PK}},
    key TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '[]',
    mask TEXT,
    visible BIGINT NOT NULL DEFAULT 1,
    editable BIGINT NOT NULL DEFAULT 1,
    required BIGINT NOT NULL DEFAULT 0,
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);

CREATE TABLE records (
    id {{PK}},
    public_id TEXT{{C}} NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    organization_name TEXT,
    name TEXT,
    display_name TEXT NOT NULL,
    city TEXT,
    address_line1 TEXT,
    address_line2 TEXT,
    postal_code TEXT,
    province TEXT,
    country TEXT,
    nip TEXT,
    pesel TEXT,
    regon TEXT,
    language TEXT,
    external_id TEXT,
    position TEXT,
    stage TEXT,
    acquisition_source TEXT,
    organization_id BIGINT REFERENCES records(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    source TEXT NOT NULL,
    modified_at BIGINT NOT NULL,
    modified_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    last_contact_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    -- Polish collation keys for the default sort (last name, first name, ID), compared
    -- bytewise ({{C}} is PostgreSQL's COLLATE "C"; SQLite compares bytes already).
    sort_last TEXT{{C}} NOT NULL DEFAULT '',
    sort_first TEXT{{C}} NOT NULL DEFAULT ''
);
CREATE INDEX records_sort ON records(sort_last, sort_first, public_id);
CREATE INDEX records_created ON records(created_at, public_id);
CREATE INDEX records_modified ON records(modified_at, public_id);
CREATE INDEX records_nip ON records(nip);
CREATE INDEX records_pesel ON records(pesel);
CREATE INDEX records_regon ON records(regon);
CREATE INDEX records_external ON records(external_id);
CREATE INDEX records_organization ON records(organization_id);

-- When each field of a record last changed (record version and instant): serves If-Match
-- merges (which fields changed since version N) and merge's "most recently changed value wins".
CREATE TABLE record_field_changes (
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    version BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, field)
);

CREATE TABLE phones (
    id {{PK}},
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    number TEXT NOT NULL,
    raw TEXT NOT NULL,
    phone_type TEXT NOT NULL,
    extension TEXT,
    is_default BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX phones_number ON phones(number, record_id);
CREATE INDEX phones_record ON phones(record_id, position);

CREATE TABLE emails (
    id {{PK}},
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    address TEXT NOT NULL,
    address_norm TEXT NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX emails_norm ON emails(address_norm, record_id);
CREATE INDEX emails_record ON emails(record_id, position);

CREATE TABLE custom_values (
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    field_id BIGINT NOT NULL REFERENCES custom_fields(id) ON DELETE CASCADE,
    value TEXT NOT NULL,
    PRIMARY KEY (record_id, field_id)
);
CREATE INDEX custom_values_field ON custom_values(field_id, value);

CREATE TABLE record_tags (
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (record_id, tag)
);
CREATE INDEX record_tags_tag ON record_tags(tag, record_id);

CREATE TABLE record_managers (
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (record_id, user_id)
);
CREATE INDEX record_managers_user ON record_managers(user_id, record_id);

CREATE TABLE record_relations (
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    other_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    label TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (record_id, other_id)
);
CREATE INDEX record_relations_other ON record_relations(other_id);

-- Campaigns and cases: the minimum the access rules need (an agent sees the records of the
-- cases of the campaigns they work in). The campaigns issue builds the rest on these tables.
CREATE TABLE campaigns (
    id {{PK}},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE campaign_agents (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, user_id)
);
CREATE INDEX campaign_agents_user ON campaign_agents(user_id, campaign_id);

CREATE TABLE cases (
    id {{PK}},
    record_id BIGINT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    assigned_to BIGINT REFERENCES users(id) ON DELETE SET NULL,
    status TEXT,
    last_classifier TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_call_type TEXT,
    last_call_status TEXT,
    recontact_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (record_id, campaign_id)
);
CREATE INDEX cases_campaign ON cases(campaign_id, record_id);

CREATE TABLE audit_log (
    id {{PK}},
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit_log(at);
CREATE INDEX audit_user_at ON audit_log(user_id, at);
CREATE INDEX audit_entity ON audit_log(entity, entity_id, at);
