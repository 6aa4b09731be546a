-- E-mail preferences now have their page switched by their section, which was shown to everyone
-- before: on by default, so that nobody loses the page with this change.
UPDATE workspace_section_defaults SET enabled = TRUE WHERE section = 'email_preferences';

-- The e-mail domains a company's people use (`example.com`). Staff other than owners may invite
-- portal users only at one of them.
CREATE TABLE company_email_domains (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    PRIMARY KEY (workspace_id, company_id, domain),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

ALTER TABLE company_email_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE company_email_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY company_email_domains_scope ON company_email_domains
    USING (portico_in_scope(workspace_id, company_id));

-- The staff user who invited a portal user: the invitation is revoked if they are disabled or
-- lose the company before it is accepted.
ALTER TABLE portal_users ADD COLUMN invited_by TEXT;

-- Who gave a ticket its satisfaction rating, so that a colleague reads "Alice's rating", not
-- "Your rating". Ratings given before this change have none.
ALTER TABLE tickets ADD COLUMN csat_by TEXT;
