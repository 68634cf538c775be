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

-- The knowledge base: articles (company-wide, not scoped by unit) with their search terms,
-- every version of each, and the work orders that cite them.
CREATE TABLE kb_articles (
    id              BIGSERIAL   PRIMARY KEY,
    title           TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    category        TEXT        NOT NULL,
    tags            JSONB       NOT NULL,
    effective_from  DATE,
    effective_to    DATE,
    state           TEXT        NOT NULL,
    version         BIGINT      NOT NULL,
    author_id       BIGINT      NOT NULL,
    submitted_by    BIGINT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    terms           TSVECTOR    NOT NULL
);
CREATE INDEX kb_articles_state ON kb_articles (state, updated_at);
CREATE INDEX kb_articles_terms ON kb_articles USING GIN (terms);

CREATE TABLE kb_article_versions (
    article_id      BIGINT      NOT NULL REFERENCES kb_articles (id),
    version         BIGINT      NOT NULL,
    title           TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    category        TEXT        NOT NULL,
    tags            JSONB       NOT NULL,
    effective_from  DATE,
    effective_to    DATE,
    state           TEXT        NOT NULL,
    change          TEXT        NOT NULL,
    staff_id        BIGINT,
    at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE kb_order_links (
    article_id  BIGINT      NOT NULL REFERENCES kb_articles (id),
    order_id    BIGINT      NOT NULL REFERENCES work_orders (id),
    staff_id    BIGINT,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, order_id)
);
CREATE INDEX kb_order_links_order ON kb_order_links (order_id, article_id);
