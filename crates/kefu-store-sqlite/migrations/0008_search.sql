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

-- The knowledge base: articles (company-wide, not scoped by unit), every version of each, the
-- work orders that cite them, and their search terms (rowid = kb_articles.id).
CREATE TABLE kb_articles (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    tags            TEXT    NOT NULL,  -- JSON list
    effective_from  TEXT,              -- YYYY-MM-DD, inclusive
    effective_to    TEXT,
    state           TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    author_id       INTEGER NOT NULL,
    submitted_by    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX kb_articles_state ON kb_articles (state, updated_at);

CREATE TABLE kb_article_versions (
    article_id      INTEGER NOT NULL REFERENCES kb_articles (id),
    version         INTEGER NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    tags            TEXT    NOT NULL,
    effective_from  TEXT,
    effective_to    TEXT,
    state           TEXT    NOT NULL,
    change          TEXT    NOT NULL,
    staff_id        INTEGER,
    at              INTEGER NOT NULL,
    PRIMARY KEY (article_id, version)
) WITHOUT ROWID;

CREATE TABLE kb_order_links (
    article_id  INTEGER NOT NULL REFERENCES kb_articles (id),
    order_id    INTEGER NOT NULL REFERENCES work_orders (id),
    staff_id    INTEGER,
    at          INTEGER NOT NULL,
    PRIMARY KEY (article_id, order_id)
) WITHOUT ROWID;
CREATE INDEX kb_order_links_order ON kb_order_links (order_id, article_id);

CREATE VIRTUAL TABLE kb_article_fts USING fts5(
    terms,
    tokenize = 'unicode61 remove_diacritics 0',
    content = '',
    contentless_delete = 1
);
