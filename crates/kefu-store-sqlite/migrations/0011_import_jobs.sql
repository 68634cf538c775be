-- Customer-file upload jobs (issue 6), SQLite. Append-only. One row per uploaded file; its bad
-- rows in order (seq from 1) for the downloadable report. A job is read in its uploader's scope.
CREATE TABLE import_jobs (
    id           INTEGER PRIMARY KEY,
    file_name    TEXT    NOT NULL,
    file_bytes   INTEGER NOT NULL,
    staff_id     INTEGER NOT NULL REFERENCES staff (id),
    org_path     TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    rows_stored  INTEGER NOT NULL DEFAULT 0,
    rows_bad     INTEGER NOT NULL DEFAULT 0,
    headers      TEXT    NOT NULL DEFAULT '[]',
    error        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX import_jobs_unfinished ON import_jobs (state) WHERE state IN ('queued', 'running');

CREATE TABLE import_job_problems (
    job_id    INTEGER NOT NULL REFERENCES import_jobs (id),
    seq       INTEGER NOT NULL,
    line      INTEGER NOT NULL,
    field     TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    original  TEXT    NOT NULL,
    PRIMARY KEY (job_id, seq)
);
