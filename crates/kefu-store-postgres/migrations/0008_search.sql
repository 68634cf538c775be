-- Full-text search and the knowledge base (issue 7), PostgreSQL. Append-only.
--
-- One row per work order: its terms as the kefu-text segmenter cut them, as a `tsvector` of the
-- `simple` configuration (no stemming, no stop words: the segmenter already chose the words),
-- GIN-indexed for `@@`. Orders stored before this migration are indexed by
-- `kefu search reindex`.
CREATE TABLE work_order_search (
    order_id  BIGINT   PRIMARY KEY REFERENCES work_orders (id),
    terms     tsvector NOT NULL
);
CREATE INDEX work_order_search_terms ON work_order_search USING GIN (terms);
