-- Time and work (P3): staff log time on tickets, either against the plan's included hours or
-- billable on top of them. The day the work was done is a calendar date (the worker's).
CREATE TABLE time_entries (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    staff_user_id TEXT NOT NULL,
    -- The worker's name as it was, as a reply keeps its author's.
    staff_name TEXT NOT NULL,
    worked_on TEXT NOT NULL,
    minutes BIGINT NOT NULL CHECK (minutes > 0),
    note TEXT NOT NULL,
    billable BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
-- A company's month (the Work page) and a staff member's month ("my time").
CREATE INDEX time_entries_company_day ON time_entries (workspace_id, company_id, worked_on);
CREATE INDEX time_entries_staff_day ON time_entries (workspace_id, staff_user_id, worked_on);
CREATE INDEX time_entries_ticket ON time_entries (ticket_id);

ALTER TABLE time_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE time_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY time_entries_scope ON time_entries USING (portico_in_scope(workspace_id, company_id));
