-- Assisting units of work orders (协办, issue 4), SQLite. Append-only. An assisting unit (and the
-- units below it) may read the order; the rows mirror `Order::assisting`, rewritten in the same
-- transaction as the order whenever the list changes.
CREATE TABLE work_order_assists (
    order_id   INTEGER NOT NULL REFERENCES work_orders (id),
    unit_path  TEXT    NOT NULL,
    PRIMARY KEY (order_id, unit_path)
) WITHOUT ROWID;
CREATE INDEX work_order_assists_unit ON work_order_assists (unit_path, order_id);

-- Orders written before this migration keep their assisting units in the snapshot.
INSERT OR IGNORE INTO work_order_assists (order_id, unit_path)
SELECT w.id, j.value FROM work_orders w, json_each(w.snapshot, '$.assisting') j
WHERE w.snapshot IS NOT NULL;
