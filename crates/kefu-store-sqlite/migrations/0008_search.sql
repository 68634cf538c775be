-- Full-text search and the knowledge base (issue 7), SQLite. Append-only.
--
-- The index holds each work order's terms as the kefu-text segmenter cut them, separated by
-- spaces (rowid = work_orders.id); `unicode61` then only splits at those spaces, so a query
-- term matches a whole word. Contentless: the terms are never read back, only matched and
-- ranked (bm25); `contentless_delete` lets an order's row be replaced when its text changes.
-- Orders stored before this migration are indexed by `kefu search reindex`.
CREATE VIRTUAL TABLE work_order_fts USING fts5(
    terms,
    tokenize = 'unicode61 remove_diacritics 0',
    content = '',
    contentless_delete = 1
);
