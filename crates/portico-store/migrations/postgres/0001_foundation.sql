-- Portico foundation schema (PostgreSQL). Kept column-for-column equal to ../sqlite/0001_foundation.sql;
-- a test compares the two. Ids are random UUIDv7 text; times are Unix seconds.
-- Child tables reference (workspace_id, company_id, id) so a cross-tenant link cannot be stored.

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    primary_color TEXT NOT NULL,
    secondary_color TEXT NOT NULL,
    welcome_text TEXT NOT NULL,
    logo_mime TEXT,
    logo_data BYTEA,
    created_at BIGINT NOT NULL
);

CREATE TABLE workspace_hostnames (
    hostname TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    surface TEXT NOT NULL CHECK (surface IN ('console', 'portal'))
);

CREATE TABLE companies (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    plan_name TEXT NOT NULL,
    monthly_fee_cents BIGINT,
    hourly_rate_cents BIGINT,
    currency TEXT NOT NULL,
    portal_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, id)
);

CREATE TABLE sites (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

CREATE TABLE contacts (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    title TEXT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

CREATE TABLE contact_roles (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('primary', 'backup', 'purchase_approver', 'billing', 'technical')),
    PRIMARY KEY (contact_id, role),
    FOREIGN KEY (workspace_id, company_id, contact_id) REFERENCES contacts (workspace_id, company_id, id)
);

CREATE TABLE staff_users (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'technician', 'sales', 'billing')),
    password_hash TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, email),
    UNIQUE (workspace_id, id)
);

CREATE TABLE staff_assignments (
    workspace_id TEXT NOT NULL,
    staff_user_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    PRIMARY KEY (staff_user_id, company_id),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

CREATE TABLE portal_users (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('client_admin', 'member', 'viewer')),
    own_only BOOLEAN NOT NULL DEFAULT FALSE,
    billing_access BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, email),
    UNIQUE (workspace_id, id),
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

CREATE TABLE portal_user_sites (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    portal_user_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    PRIMARY KEY (portal_user_id, site_id),
    FOREIGN KEY (workspace_id, company_id, portal_user_id) REFERENCES portal_users (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id, site_id) REFERENCES sites (workspace_id, company_id, id)
);

-- Further companies of the same workspace a portal user may switch to (client groups).
CREATE TABLE portal_user_companies (
    workspace_id TEXT NOT NULL,
    portal_user_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('client_admin', 'member', 'viewer')),
    PRIMARY KEY (portal_user_id, company_id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

CREATE TABLE workspace_section_defaults (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    section TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (workspace_id, section)
);

-- A NULL column means "use the workspace default".
CREATE TABLE company_section_settings (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    section TEXT NOT NULL,
    enabled BOOLEAN,
    label TEXT,
    PRIMARY KEY (company_id, section),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

CREATE TABLE tickets (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    site_id TEXT,
    requester_id TEXT,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('new', 'open', 'awaiting_client', 'on_hold', 'resolved', 'closed')),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, company_id, site_id) REFERENCES sites (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, requester_id) REFERENCES portal_users (workspace_id, id)
);
CREATE INDEX tickets_company_updated ON tickets (workspace_id, company_id, updated_at);

CREATE TABLE ticket_messages (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    author_staff_id TEXT,
    author_portal_id TEXT,
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, author_staff_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, author_portal_id) REFERENCES portal_users (workspace_id, id)
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at);

-- Server-side sessions. The cookie carries a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    surface TEXT NOT NULL CHECK (surface IN ('console', 'portal')),
    staff_user_id TEXT,
    portal_user_id TEXT,
    company_id TEXT,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);
CREATE INDEX sessions_staff ON sessions (staff_user_id);
CREATE INDEX sessions_portal ON sessions (portal_user_id);

-- Invites and password resets: single-use, expiring, stored hashed.
CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    staff_user_id TEXT,
    portal_user_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);

-- Failed sign-ins per account and per address, in the database so every instance sees them.
-- Keys are hashed: the table holds no e-mail or IP address in clear.
CREATE TABLE login_throttle (
    key_hash TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL
);

-- Outgoing mail until SMTP delivery exists.
CREATE TABLE outbox (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT PRIMARY KEY,
    company_id TEXT,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_created ON outbox (workspace_id, created_at);

-- Second fence: row-level security on every tenant table, forced so that even the owning role is
-- fenced. The application sets app.workspace_id / app.company_ids with set_config(..., true)
-- inside each transaction; with nothing set, every policy is false and no row is visible.
-- app.company_ids is '*' for workspace-wide principals, else a comma-separated list.
-- app.system = 'on' is set only by the store's loudly named system handle (seeding, jobs).
CREATE FUNCTION portico_in_scope(ws TEXT, company TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.system', true), '') = 'on'
        OR (ws = current_setting('app.workspace_id', true)
            AND (company IS NULL
                 OR current_setting('app.company_ids', true) = '*'
                 OR company = ANY (string_to_array(current_setting('app.company_ids', true), ','))))
$$;

ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE companies FORCE ROW LEVEL SECURITY;
CREATE POLICY companies_scope ON companies USING (portico_in_scope(workspace_id, id));

ALTER TABLE sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE sites FORCE ROW LEVEL SECURITY;
CREATE POLICY sites_scope ON sites USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY contacts_scope ON contacts USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE contact_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY contact_roles_scope ON contact_roles USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE staff_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_users FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_users_scope ON staff_users USING (portico_in_scope(workspace_id, NULL));

ALTER TABLE staff_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_assignments_scope ON staff_assignments USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE portal_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal_users FORCE ROW LEVEL SECURITY;
CREATE POLICY portal_users_scope ON portal_users USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE portal_user_sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal_user_sites FORCE ROW LEVEL SECURITY;
CREATE POLICY portal_user_sites_scope ON portal_user_sites USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE portal_user_companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal_user_companies FORCE ROW LEVEL SECURITY;
CREATE POLICY portal_user_companies_scope ON portal_user_companies USING (portico_in_scope(workspace_id, NULL));

ALTER TABLE workspace_section_defaults ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_section_defaults FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_section_defaults_scope ON workspace_section_defaults USING (portico_in_scope(workspace_id, NULL));

ALTER TABLE company_section_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE company_section_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY company_section_settings_scope ON company_section_settings USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tickets_scope ON tickets USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE ticket_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY ticket_messages_scope ON ticket_messages USING (portico_in_scope(workspace_id, company_id));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_scope ON sessions USING (portico_in_scope(workspace_id, NULL));

ALTER TABLE one_time_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE one_time_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY one_time_tokens_scope ON one_time_tokens USING (portico_in_scope(workspace_id, NULL));

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY outbox_scope ON outbox USING (portico_in_scope(workspace_id, company_id));
