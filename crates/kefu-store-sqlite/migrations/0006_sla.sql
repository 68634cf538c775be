-- Deadlines and alerts of work orders (issue 5), SQLite. Append-only. Timestamps INTEGER ms UTC.
-- kefu_store::sla computes the columns at every intake and transition, in the same transaction
-- as the order row; rows written before this migration have none until their next transition.

-- The running deadlines as JSON (kefu_store::sla::encode_tracked).
ALTER TABLE work_orders ADD COLUMN sla TEXT;
-- The earliest running deadline and warning: the `overdue` filter and the lists' colours.
ALTER TABLE work_orders ADD COLUMN due_at INTEGER;
ALTER TABLE work_orders ADD COLUMN warn_at INTEGER;
-- When the sweep next has something to raise; NULL when nothing will.
ALTER TABLE work_orders ADD COLUMN sla_check_at INTEGER;
CREATE INDEX work_orders_sla_check ON work_orders (sla_check_at) WHERE sla_check_at IS NOT NULL;
CREATE INDEX work_orders_due ON work_orders (due_at, id) WHERE due_at IS NOT NULL;

-- Alerts raised by the sweep: each deadline (order, limit kind, round start) reaches each level
-- once. They do not change the order's version.
CREATE TABLE work_order_alerts (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES work_orders (id),
    limit_kind    TEXT    NOT NULL,
    round_start   INTEGER NOT NULL,
    level         TEXT    NOT NULL,
    due_at        INTEGER,
    reached_at    INTEGER NOT NULL,
    raised_at     INTEGER NOT NULL,
    -- The unit alerted and the supervisors addressed (JSON list of staff ids).
    unit_path     TEXT    NOT NULL,
    supervisors   TEXT    NOT NULL,
    UNIQUE (order_id, limit_kind, round_start, level)
);
CREATE INDEX work_order_alerts_unit ON work_order_alerts (unit_path, id);
