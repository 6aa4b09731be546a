-- Tickets get short numbers per workspace (#1042), for lists, pages, mail subjects and search.
-- Existing tickets are numbered in the order they were opened, from 1001.
ALTER TABLE tickets ADD COLUMN number BIGINT;
UPDATE tickets SET number = s.n FROM (
    SELECT id, 1000 + ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY created_at, id) AS n
    FROM tickets
) s WHERE tickets.id = s.id;
CREATE UNIQUE INDEX tickets_number ON tickets (workspace_id, number);

-- The last number given in each workspace. A new ticket takes the next one by updating this
-- row, which serialises concurrent submissions without gaps from failed ones surviving.
CREATE TABLE ticket_counters (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
    last_number BIGINT NOT NULL
);
INSERT INTO ticket_counters (workspace_id, last_number)
SELECT w.id, COALESCE((SELECT MAX(t.number) FROM tickets t WHERE t.workspace_id = w.id), 1000)
FROM workspaces w;
