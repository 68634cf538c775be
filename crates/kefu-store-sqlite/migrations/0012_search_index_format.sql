-- The format of the work-order search index (issue 7, search at 30 million orders), SQLite.
-- Append-only.
--
-- Format 2 adds reserved terms to every order's row of `work_order_fts`: its holding unit's
-- path prefixes (`kfu1x4x17`) and its caller's phone (`kfp…`, `kft…`), see
-- kefu_store::search_terms. Rows written before lack them, so a store that already holds
-- orders starts at format 1: searches then check the scope on the order rows only and say the
-- index is outdated, until `kefu search reindex` rewrites every row and records format 2. An
-- empty store starts at format 2.
CREATE TABLE search_index_format (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    format  INTEGER NOT NULL
);
INSERT INTO search_index_format (id, format)
SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM work_orders) THEN 1 ELSE 2 END;
