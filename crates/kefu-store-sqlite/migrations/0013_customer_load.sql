-- Issue 6, SQLite: the indexes an initial customer load has set aside and not yet rebuilt.
-- The load drops the secondary indexes of the customer tables in the transaction that writes
-- these rows, commits its batches one by one, and deletes the rows in the transaction that
-- re-creates the indexes. Rows left here by a crash are rebuilt when the store is next opened
-- (migrate), so a store is never used without its indexes for longer than that.
CREATE TABLE customer_load_pending (
    name  TEXT PRIMARY KEY,
    sql   TEXT NOT NULL
) WITHOUT ROWID;
