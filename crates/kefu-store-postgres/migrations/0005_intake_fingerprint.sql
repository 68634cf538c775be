-- The content fingerprint stored with an idempotency key (kefu_store::workorder_codec::
-- intake_fingerprint, SHA-256 hex): a retry with the same key and the same content replays the
-- first order, the same key with different content is refused. Append-only. Rows written before
-- this migration have none (NULL), and the store treats a missing fingerprint as the same content.
ALTER TABLE work_orders ADD COLUMN intake_fingerprint TEXT;
