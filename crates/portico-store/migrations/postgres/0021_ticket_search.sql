-- Full-text search over tickets: English stemming, prefixes, ranked with ts_rank. Two documents
-- per ticket, by audience: `client` holds the title (weight A) and the public messages, `staff`
-- the internal notes. Row-level security hides `staff` documents from a client's transaction as
-- it hides the notes themselves; staff searches match either.
--
-- Documents grow by concatenation as messages arrive (a client's transaction can extend its own
-- ticket's `client` document without seeing anything it may not), and are written again whole
-- only by changes only staff make: a new title, a message edited, moved by a merge or removed.
-- The insert triggers are per statement, so a bulk load indexes in one pass.
CREATE TABLE ticket_search (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    audience TEXT NOT NULL CHECK (audience IN ('client', 'staff')),
    doc TSVECTOR NOT NULL,
    PRIMARY KEY (ticket_id, audience)
);
CREATE INDEX ticket_search_doc ON ticket_search USING gin (doc);
CREATE INDEX ticket_search_company ON ticket_search (company_id);

ALTER TABLE ticket_search ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_search FORCE ROW LEVEL SECURITY;
CREATE POLICY ticket_search_scope ON ticket_search
    USING (portico_in_scope(workspace_id, company_id) AND NOT (audience = 'staff' AND portico_on_portal()));

-- The text a message adds to a document; bounded, since a tsvector holds at most 1 MB.
CREATE FUNCTION portico_search_text(body TEXT) RETURNS TSVECTOR
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_tsvector('english', left(body, 100000))
$$;

CREATE FUNCTION portico_search_tickets_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ticket_search (workspace_id, company_id, ticket_id, audience, doc)
    SELECT n.workspace_id, n.company_id, n.id, 'client', setweight(to_tsvector('english', n.title), 'A')
    FROM new_tickets n;
    RETURN NULL;
END
$$;
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS new_tickets
    FOR EACH STATEMENT EXECUTE FUNCTION portico_search_tickets_inserted();

CREATE FUNCTION portico_search_messages_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ticket_search AS s (workspace_id, company_id, ticket_id, audience, doc)
    SELECT m.workspace_id, m.company_id, m.ticket_id,
           CASE WHEN m.internal THEN 'staff' ELSE 'client' END,
           portico_search_text(string_agg(m.body, ' ' ORDER BY m.created_at, m.id))
    FROM new_messages m
    GROUP BY m.workspace_id, m.company_id, m.ticket_id, m.internal
    ON CONFLICT (ticket_id, audience) DO UPDATE SET doc = s.doc || excluded.doc;
    RETURN NULL;
END
$$;
CREATE TRIGGER ticket_messages_search_insert AFTER INSERT ON ticket_messages
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION portico_search_messages_inserted();

-- One ticket's documents written again from its title and messages.
CREATE FUNCTION portico_search_rewrite(ticket TEXT) RETURNS VOID
LANGUAGE sql AS $$
    DELETE FROM ticket_search WHERE ticket_id = ticket;
    INSERT INTO ticket_search (workspace_id, company_id, ticket_id, audience, doc)
    SELECT t.workspace_id, t.company_id, t.id, 'client',
           setweight(to_tsvector('english', t.title), 'A')
           || COALESCE((SELECT portico_search_text(string_agg(m.body, ' ' ORDER BY m.created_at, m.id))
                        FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), '')
    FROM tickets t WHERE t.id = ticket;
    INSERT INTO ticket_search (workspace_id, company_id, ticket_id, audience, doc)
    SELECT m.workspace_id, m.company_id, m.ticket_id, 'staff',
           portico_search_text(string_agg(m.body, ' ' ORDER BY m.created_at, m.id))
    FROM ticket_messages m WHERE m.ticket_id = ticket AND m.internal AND NOT portico_on_portal()
    GROUP BY m.workspace_id, m.company_id, m.ticket_id;
$$;

CREATE FUNCTION portico_search_ticket_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM portico_search_rewrite(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER tickets_search_update AFTER UPDATE OF title, company_id ON tickets
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.company_id IS DISTINCT FROM NEW.company_id)
    EXECUTE FUNCTION portico_search_ticket_changed();

CREATE FUNCTION portico_search_message_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM portico_search_rewrite(OLD.ticket_id);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.ticket_id IS DISTINCT FROM OLD.ticket_id THEN
        PERFORM portico_search_rewrite(NEW.ticket_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ticket_messages_search_update AFTER UPDATE OF ticket_id, body, internal ON ticket_messages
    FOR EACH ROW EXECUTE FUNCTION portico_search_message_changed();
CREATE TRIGGER ticket_messages_search_delete AFTER DELETE ON ticket_messages
    FOR EACH ROW EXECUTE FUNCTION portico_search_message_changed();

-- The tickets already there.
INSERT INTO ticket_search (workspace_id, company_id, ticket_id, audience, doc)
SELECT t.workspace_id, t.company_id, t.id, 'client',
       setweight(to_tsvector('english', t.title), 'A')
       || COALESCE((SELECT portico_search_text(string_agg(m.body, ' ' ORDER BY m.created_at, m.id))
                    FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), '')
FROM tickets t;
INSERT INTO ticket_search (workspace_id, company_id, ticket_id, audience, doc)
SELECT m.workspace_id, m.company_id, m.ticket_id, 'staff',
       portico_search_text(string_agg(m.body, ' ' ORDER BY m.created_at, m.id))
FROM ticket_messages m WHERE m.internal
GROUP BY m.workspace_id, m.company_id, m.ticket_id;
