-- The editable settings of the work-order desk (issue 4 items 2 and 3), PostgreSQL. Append-only.
-- Every save appends a version (1, 2, …) with who and when; the newest row of a setting is the
-- current value, and none means the built-in defaults (version 0). `body` is JSON written by
-- kefu_store::catalogue_codec and read back through the domain's constructors.
CREATE TABLE setting_versions (
    -- 'catalogue' (sub-categories) or 'major_rules' (kefu_store::catalogue::Setting).
    setting   TEXT        NOT NULL,
    version   BIGINT      NOT NULL,
    body      JSONB       NOT NULL,
    -- No foreign key: the history outlives staff records.
    staff_id  BIGINT,
    actor     TEXT        NOT NULL,
    saved_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (setting, version)
);

-- A catalogue save refuses to drop a sub-category that an order is filed under: one probe per
-- removed code.
CREATE INDEX work_orders_sub_category ON work_orders (sub_category);
