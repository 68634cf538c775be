-- Work orders: the whole order as a JSON snapshot (kefu_store::workorder_codec::encode_order),
-- rewritten with every event in the same transaction, so reads need no replay of the timeline.
-- NULL only for rows written before this migration: those are rebuilt from their timeline.
ALTER TABLE work_orders ADD COLUMN snapshot TEXT;
