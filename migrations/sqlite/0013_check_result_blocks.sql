-- Check results packed per check, family and hour (issue 14, storage and cost; SQLite
-- dialect, keep in step with migrations/postgres/0013_check_result_blocks.sql). `data` holds
-- the hour's results in round order, a few varints each (netpulse-adapters
-- storage/check_blocks.rs); `block_at` is the hour's start in Unix ms. The primary key keeps
-- a check's blocks together in time order; a rowid table (not WITHOUT ROWID) so that a block
-- of ~1 KiB stays on its page instead of spilling to an overflow page.
--
-- The rows of `check_results` (one per result) are converted into blocks, and that table
-- dropped, by the storage's `open` right after this migration (shared/check_blocks.rs,
-- `convert_legacy`): the encoding is Rust, not SQL.
CREATE TABLE check_result_blocks (
    check_num   INTEGER  NOT NULL REFERENCES checks (num) ON DELETE CASCADE,
    family      SMALLINT NOT NULL,
    block_at    BIGINT   NOT NULL,
    data        BLOB     NOT NULL,
    PRIMARY KEY (check_num, family, block_at)
);
