-- Issue 7 (search at 30 M orders): bulk loads of work orders set their table's secondary
-- indexes aside too, recorded in the same table as the initial customer load's; the name now
-- says what it holds. Same rows, same repair at store open.
ALTER TABLE customer_load_pending RENAME TO load_pending_indexes;
