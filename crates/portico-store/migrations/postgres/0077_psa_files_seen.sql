-- How many files the PSA counted on an action brought in when its files were last read (as
-- SQLite's 0068): a changed count later means a technician added a file to that reply. -1 on
-- links made before this column, whose files' PSA ids were not kept: they are not read again.
ALTER TABLE psa_message_links ADD COLUMN files_seen BIGINT NOT NULL DEFAULT -1;
