-- Each staff user's own choice of the mail the desk sends them. No row: everything on.
CREATE TABLE staff_notification_preferences (
    workspace_id TEXT NOT NULL,
    staff_user_id TEXT NOT NULL,
    -- A client raises a ticket assigned to me, or, unassigned, for a company I look after.
    new_portal_tickets BOOLEAN NOT NULL,
    -- A client replies to, resolves or reopens a ticket assigned to me.
    client_activity BOOLEAN NOT NULL,
    PRIMARY KEY (workspace_id, staff_user_id),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id)
);

-- Staff-only, like staff users themselves: a client's transaction sees none.
ALTER TABLE staff_notification_preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_notification_preferences FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_notification_preferences_scope ON staff_notification_preferences
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
