-- A ticket's row is updated with every reply and change of status, and the desk's queue and the
-- API's ticket lists read the most recently updated tickets first: the dead row versions and
-- index entries those updates leave sit just where such a page starts reading, until the table
-- is vacuumed. PostgreSQL's default waits for a fifth of the rows to be dead, a count that page
-- pruning keeps low on a busy desk: the benchmark's database (100,000 tickets, some 11,000
-- replies in each run) was never vacuumed, and the queue's first page had fallen from about
-- 4,900 to 1,100 a second; one VACUUM brought it back. Vacuumed once a hundredth of the rows are
-- dead (and analysed after a fiftieth changed), such a table is vacuumed every few thousand
-- updates rather than never.
ALTER TABLE tickets SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 500,
    autovacuum_analyze_scale_factor = 0.02
);
