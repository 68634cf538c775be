-- kefu foundation schema (SQLite). Append-only: never edit after it has landed; add 0002_… instead.
-- Timestamps are INTEGER milliseconds since the Unix epoch, UTC. Enums are their domain code().

CREATE TABLE org_units (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER REFERENCES org_units (id),
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    level       TEXT    NOT NULL,
    -- '/1/4/17/'; written right after the insert (it needs the new id), in the same transaction.
    path        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX org_units_path ON org_units (path);
CREATE INDEX org_units_parent ON org_units (parent_id);

CREATE TABLE departments (
    id       INTEGER PRIMARY KEY,
    unit_id  INTEGER NOT NULL REFERENCES org_units (id),
    kind     TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    UNIQUE (unit_id, kind)
);

CREATE TABLE staff (
    id             INTEGER PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    org_unit_id    INTEGER NOT NULL REFERENCES org_units (id),
    department_id  INTEGER REFERENCES departments (id),
    password_hash  TEXT    NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL
);
CREATE INDEX staff_org_unit ON staff (org_unit_id);

CREATE TABLE staff_roles (
    staff_id  INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    role      TEXT    NOT NULL,
    PRIMARY KEY (staff_id, role)
) WITHOUT ROWID;

CREATE TABLE sessions (
    token_hash  BLOB    PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_staff ON sessions (staff_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    staff_id      INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    token_hash    BLOB    NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_staff ON api_tokens (staff_id);

CREATE TABLE customers (
    id                     INTEGER PRIMARY KEY,
    account_number         TEXT    NOT NULL UNIQUE,
    name                   TEXT    NOT NULL,
    id_kind                TEXT,
    id_number              TEXT,
    address                TEXT    NOT NULL,
    supply_unit_id         INTEGER NOT NULL REFERENCES org_units (id),
    -- Copy of org_units.path of the supply unit: scope is a prefix range on this column.
    supply_unit_path       TEXT    NOT NULL,
    grid                   TEXT    NOT NULL,
    usage_category         TEXT    NOT NULL,
    voltage                TEXT    NOT NULL,
    contract_capacity_kva  INTEGER,
    industry               TEXT,
    business_format        TEXT,
    scale                  TEXT,
    value_tier             TEXT,
    service_grade          TEXT,
    status                 TEXT    NOT NULL,
    retired_reason         TEXT,
    version                INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE INDEX customers_id_number ON customers (id_number) WHERE id_number IS NOT NULL;
CREATE INDEX customers_name ON customers (name);
CREATE INDEX customers_supply_unit_path ON customers (supply_unit_path, id);

CREATE TABLE customer_phones (
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    phone        TEXT    NOT NULL,
    PRIMARY KEY (customer_id, position)
) WITHOUT ROWID;
-- The screen-pop: a phone number to its customers is one index probe.
CREATE INDEX customer_phones_phone ON customer_phones (phone, customer_id);

CREATE TABLE customer_tags (
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    tag          TEXT    NOT NULL,
    PRIMARY KEY (customer_id, tag)
) WITHOUT ROWID;
CREATE INDEX customer_tags_tag ON customer_tags (tag);

CREATE TABLE customer_special_dates (
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    month        INTEGER NOT NULL,
    day          INTEGER NOT NULL,
    year         INTEGER,
    label        TEXT,
    PRIMARY KEY (customer_id, position)
) WITHOUT ROWID;
CREATE INDEX customer_special_dates_month_day ON customer_special_dates (month, day);

CREATE TABLE customer_events (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    at           INTEGER NOT NULL,
    -- No foreign key: history outlives staff records and system actors have none.
    staff_id     INTEGER,
    actor        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    reason       TEXT
);
CREATE INDEX customer_events_customer ON customer_events (customer_id, id);

CREATE TABLE customer_event_changes (
    event_id   INTEGER NOT NULL REFERENCES customer_events (id),
    position   INTEGER NOT NULL,
    field      TEXT    NOT NULL,
    old_value  TEXT    NOT NULL,
    new_value  TEXT    NOT NULL,
    PRIMARY KEY (event_id, position)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    staff_id  INTEGER,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    detail    TEXT    NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target, id);
