-- Check results packed per check, family and hour (issue 14, storage and cost; PostgreSQL
-- dialect, keep in step with migrations/sqlite/0013_check_result_blocks.sql). `data` holds
-- the hour's results in round order, a few varints each (netpulse-adapters
-- storage/check_blocks.rs); `block_at` is the hour's start in Unix ms. One tuple header and
-- one primary-key entry per ~60 results instead of per result. A block is rewritten while
-- its hour fills: fillfactor 90 leaves room for the new version on the same page (a HOT
-- update, pruned without waiting for VACUUM).
--
-- The rows of `check_results` (one per result) are converted into blocks, and that table
-- dropped, by the storage's `open` right after this migration (shared/check_blocks.rs,
-- `convert_legacy`): the encoding is Rust, not SQL.
CREATE TABLE check_result_blocks (
    block_at    BIGINT   NOT NULL,
    check_num   INTEGER  NOT NULL REFERENCES checks (num) ON DELETE CASCADE,
    family      SMALLINT NOT NULL,
    data        BYTEA    NOT NULL,
    PRIMARY KEY (check_num, family, block_at)
) WITH (fillfactor = 90);
