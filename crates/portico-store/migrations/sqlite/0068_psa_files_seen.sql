-- How many files the PSA counted on an action brought in when its files were last read
-- (HaloPSA's `attachment_count`, files kept from the user included): a changed count later
-- means a technician added a file to that reply, which then joins it. -1 on links made before
-- this column: the PSA ids of their files were not kept, so they are not read again (which
-- would bring their files in a second time).
ALTER TABLE psa_message_links ADD COLUMN files_seen BIGINT NOT NULL DEFAULT -1;
