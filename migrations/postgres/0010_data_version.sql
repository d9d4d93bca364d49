-- The version of everything a read can return: every write transaction adds
-- one to a stripe as its last statement before COMMIT, so a reader that sums
-- the stripes sees a new total exactly when the change becomes visible. Read
-- answers carry an ETag made from it (conditional GET /graphql). Sixteen
-- stripes so concurrent writers do not queue on one row.
CREATE TABLE data_versions (
    stripe INTEGER PRIMARY KEY,
    version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO data_versions (stripe, version) SELECT i, 0 FROM generate_series(0, 15) AS i;
