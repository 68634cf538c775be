-- Assisting units of work orders (协办, issue 4), PostgreSQL. Append-only. An assisting unit (and
-- the units below it) may read the order; the rows mirror `Order::assisting`, rewritten in the
-- same transaction as the order whenever the list changes.
CREATE TABLE work_order_assists (
    order_id   BIGINT NOT NULL REFERENCES work_orders (id),
    unit_path  TEXT   COLLATE "C" NOT NULL,
    PRIMARY KEY (order_id, unit_path)
);
CREATE INDEX work_order_assists_unit ON work_order_assists (unit_path, order_id);

-- Orders written before this migration keep their assisting units in the snapshot.
INSERT INTO work_order_assists (order_id, unit_path)
SELECT w.id, a.unit FROM work_orders w, jsonb_array_elements_text(w.snapshot -> 'assisting') AS a(unit)
WHERE w.snapshot IS NOT NULL
ON CONFLICT DO NOTHING;
