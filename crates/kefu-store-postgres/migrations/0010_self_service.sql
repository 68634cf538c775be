-- Customer self-service (issue 8 item 8), PostgreSQL. Append-only. One row per one-time code sent
-- to a phone: only the SHA-256 of the code is kept; the last row of a phone is the live code.
CREATE TABLE self_service_codes (
    id          BIGSERIAL   PRIMARY KEY,
    phone       TEXT        NOT NULL,
    code_hash   BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    attempts    INTEGER     NOT NULL DEFAULT 0,
    used_at     TIMESTAMPTZ
);
CREATE INDEX self_service_codes_phone ON self_service_codes (phone, id);
