-- A portal user reads their own row in every company their grants reach. The purchase
-- approver is found by the reader's own e-mail address; a user of another company of the group,
-- acting for a company they were granted, could not read their own row there (it belongs to
-- their home company), so PostgreSQL's fence refused them as approver where SQLite's took them.
CREATE POLICY portal_users_self ON portal_users FOR SELECT
    USING (portico_on_portal()
           AND workspace_id = current_setting('app.workspace_id', true)
           AND id = portico_principal());
