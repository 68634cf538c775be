-- Issue 6 (bulk import): a `created` customer event holds the new customer's fields in one
-- JSON text (`[["field","value"],…]`, written and read by kefu-store's customer_snapshot)
-- instead of one customer_event_changes row per field, so creating a customer writes one
-- history row, not fifteen. Events written before this migration keep their change rows and a
-- NULL snapshot; readers take the snapshot when present, else the change rows.
ALTER TABLE customer_events ADD COLUMN snapshot TEXT;
