-- Work orders (issue 4), SQLite. Append-only. Timestamps are INTEGER ms (UTC); enums are codes.
-- The timeline (work_order_events) is the source of truth; work_orders holds the columns lists
-- filter, sort and scope on, rewritten in the same transaction as each appended event.

-- The last order number handed out per centre day (Asia/Shanghai date 'yyyy-mm-dd').
CREATE TABLE work_order_counters (
    day       TEXT    PRIMARY KEY,
    last_seq  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE work_orders (
    id                 INTEGER PRIMARY KEY,
    number             TEXT    NOT NULL UNIQUE,
    state              TEXT    NOT NULL,
    appeal_type        TEXT    NOT NULL,
    sub_category       TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    priority           TEXT    NOT NULL,
    major              INTEGER NOT NULL,
    -- The unit of the territory (customer's supply unit or the address's unit).
    jurisdiction_path  TEXT    NOT NULL,
    host_unit_id       INTEGER,
    host_unit_path     TEXT,
    -- Host unit once dispatched, else the territory: the scope column.
    home_unit_path     TEXT    NOT NULL,
    department         TEXT    NOT NULL,
    host_department    TEXT,
    owner_id           INTEGER NOT NULL,
    customer_id        INTEGER,
    caller_phone       TEXT,
    idempotency_key    TEXT    UNIQUE,
    is_repeat          INTEGER NOT NULL,
    supervised         INTEGER NOT NULL,
    chase_count        INTEGER NOT NULL,
    version            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX work_orders_home_unit ON work_orders (home_unit_path, id);
CREATE INDEX work_orders_state ON work_orders (state, id);
CREATE INDEX work_orders_appeal_type ON work_orders (appeal_type, id);
CREATE INDEX work_orders_channel ON work_orders (channel, id);
CREATE INDEX work_orders_created ON work_orders (created_at, id);
CREATE INDEX work_orders_major ON work_orders (id) WHERE major = 1;
CREATE INDEX work_orders_repeat ON work_orders (id) WHERE is_repeat = 1;
CREATE INDEX work_orders_supervised ON work_orders (id) WHERE supervised = 1;
-- Repeat detection: the earlier orders of a customer or a phone on a sub-category.
CREATE INDEX work_orders_customer ON work_orders (customer_id, sub_category, created_at)
    WHERE customer_id IS NOT NULL;
CREATE INDEX work_orders_phone ON work_orders (caller_phone, sub_category, created_at)
    WHERE caller_phone IS NOT NULL;

-- Repeat links: this order repeats those earlier ones.
CREATE TABLE work_order_repeats (
    order_id     INTEGER NOT NULL REFERENCES work_orders (id),
    earlier_id   INTEGER NOT NULL REFERENCES work_orders (id),
    PRIMARY KEY (order_id, earlier_id)
) WITHOUT ROWID;
CREATE INDEX work_order_repeats_earlier ON work_order_repeats (earlier_id);

-- The timeline: one row per event, version 1 = the intake.
CREATE TABLE work_order_events (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES work_orders (id),
    version     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    -- No foreign key: the timeline outlives staff records.
    staff_id    INTEGER NOT NULL,
    from_state  TEXT,
    to_state    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    -- The kind's data as JSON (kefu_store::workorder_codec).
    payload     TEXT    NOT NULL,
    UNIQUE (order_id, version)
);
