-- A ticket's row is updated with every reply and change of status, and the desk's queue and the
-- API's ticket lists read the most recently updated tickets first, through indexes that hold
-- `updated_at`: each such update leaves a dead entry at the head of those indexes until the table
-- is vacuumed. PostgreSQL's default waits for a fifth of the table's rows to be dead, and page
-- pruning keeps that count low, so a busy desk's table went unvacuumed: on the benchmark's
-- database (100,000 tickets, some 13,000 replies to one ticket per run) the queue's first page
-- fell from about 4,900 to 1,100 a second, and one VACUUM brought it back. Vacuumed after a
-- hundredth instead (and analysed after a fiftieth), the dead entries stay few.
ALTER TABLE tickets SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 500,
    autovacuum_analyze_scale_factor = 0.02
);
