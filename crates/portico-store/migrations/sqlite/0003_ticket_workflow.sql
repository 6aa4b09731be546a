-- The ticket workflow: categories and the submission form, custom-field answers, assignment,
-- a status timeline, cc'd colleagues, satisfaction ratings and e-mail preferences.
-- Kept column-for-column equal to ../postgres/0003_ticket_workflow.sql.

-- How many days after resolution a client may still reopen a ticket.
ALTER TABLE workspaces ADD COLUMN reopen_days BIGINT NOT NULL DEFAULT 7;

-- SQLite cannot add a composite foreign key to an existing table; the store checks that the
-- assignee is a staff user of the workspace (PostgreSQL also has the constraint).
ALTER TABLE tickets ADD COLUMN assignee_id TEXT;
ALTER TABLE tickets ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN source TEXT NOT NULL DEFAULT 'staff' CHECK (source IN ('staff', 'portal'));
ALTER TABLE tickets ADD COLUMN first_response_at BIGINT;
ALTER TABLE tickets ADD COLUMN csat_rating BIGINT CHECK (csat_rating BETWEEN 1 AND 5);
ALTER TABLE tickets ADD COLUMN csat_comment TEXT;
ALTER TABLE tickets ADD COLUMN csat_at BIGINT;
CREATE INDEX tickets_assignee ON tickets (workspace_id, assignee_id, updated_at);

CREATE TABLE ticket_categories (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- The submission form. Fields with a company belong to that company's override form, which
-- replaces the workspace form for it.
CREATE TABLE ticket_form_fields (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    company_id TEXT,
    id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'long_text', 'number', 'select', 'multi_select', 'checkbox', 'date')),
    required BOOLEAN NOT NULL,
    help TEXT NOT NULL,
    options TEXT NOT NULL,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX ticket_form_fields_owner ON ticket_form_fields (workspace_id, company_id, position);

-- Answers keep the field's label as it was asked, so editing the form later loses nothing.
CREATE TABLE ticket_field_values (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    field_id TEXT NOT NULL,
    label TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (ticket_id, position),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);

CREATE TABLE ticket_events (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('status', 'priority', 'assignee', 'rating')),
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, created_at);

-- Colleagues copied on a ticket: the composite key keeps them inside the ticket's company.
CREATE TABLE ticket_cc (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    portal_user_id TEXT NOT NULL,
    PRIMARY KEY (ticket_id, portal_user_id),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id, portal_user_id) REFERENCES portal_users (workspace_id, company_id, id)
);

-- P16: which ticket mails a portal user receives. No row means every kind. Keyed by the user
-- alone: a client group's user keeps one set of preferences whichever company they act for.
CREATE TABLE notification_preferences (
    workspace_id TEXT NOT NULL,
    portal_user_id TEXT PRIMARY KEY,
    ticket_updates BOOLEAN NOT NULL,
    ticket_resolved BOOLEAN NOT NULL,
    satisfaction_survey BOOLEAN NOT NULL,
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);
