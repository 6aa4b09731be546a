-- Full-text search over tickets: one document per ticket, searched with FTS5 (words, prefixes,
-- English stemming). The document holds the ticket's workspace and company as tokens, so that a
-- search matches inside the caller's companies from the index alone and its cost follows the
-- size of those companies, never of the database; its title; its public messages; and its
-- internal notes, a separate column that only staff searches name.
--
-- Prefixes of two to six characters are indexed: a prefix query is then one lookup, read lazily
-- newest first like a word's, where without the index it would gather every matching word's
-- documents in the whole database first (a hundred milliseconds for a short prefix at a million
-- tickets).
--
-- Contentless (the text is in ticket_messages already); each document's rowid is the stable
-- integer key of `ticket_search_rows`, since a table's implicit rowid may change on VACUUM.
CREATE TABLE ticket_search_rows (
    row INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE ticket_search USING fts5(
    workspace, company, title, public, internal,
    content = '', contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6'
);

-- A ticket's document, written again whole whenever its title or messages change (SQLite
-- triggers cannot call a shared routine, hence the repetition below).
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search_rows (ticket_id) VALUES (NEW.id);
    INSERT INTO ticket_search (rowid, workspace, company, title, public, internal)
    SELECT r.row, replace(NEW.workspace_id, '-', ''), replace(NEW.company_id, '-', ''), NEW.title, '', ''
    FROM ticket_search_rows r WHERE r.ticket_id = NEW.id;
END;

CREATE TRIGGER tickets_search_update AFTER UPDATE OF title, company_id ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = (SELECT row FROM ticket_search_rows WHERE ticket_id = NEW.id);
    INSERT INTO ticket_search (rowid, workspace, company, title, public, internal)
    SELECT r.row, replace(t.workspace_id, '-', ''), replace(t.company_id, '-', ''), t.title,
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), ''),
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND m.internal), '')
    FROM tickets t JOIN ticket_search_rows r ON r.ticket_id = t.id WHERE t.id = NEW.id;
END;

CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = (SELECT row FROM ticket_search_rows WHERE ticket_id = OLD.id);
    DELETE FROM ticket_search_rows WHERE ticket_id = OLD.id;
END;

CREATE TRIGGER ticket_messages_search_insert AFTER INSERT ON ticket_messages BEGIN
    DELETE FROM ticket_search WHERE rowid = (SELECT row FROM ticket_search_rows WHERE ticket_id = NEW.ticket_id);
    INSERT INTO ticket_search (rowid, workspace, company, title, public, internal)
    SELECT r.row, replace(t.workspace_id, '-', ''), replace(t.company_id, '-', ''), t.title,
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), ''),
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND m.internal), '')
    FROM tickets t JOIN ticket_search_rows r ON r.ticket_id = t.id WHERE t.id = NEW.ticket_id;
END;

-- Messages move between tickets when tickets are merged: both documents are written again.
CREATE TRIGGER ticket_messages_search_update AFTER UPDATE OF ticket_id, body, internal ON ticket_messages BEGIN
    DELETE FROM ticket_search WHERE rowid IN (SELECT row FROM ticket_search_rows WHERE ticket_id IN (OLD.ticket_id, NEW.ticket_id));
    INSERT INTO ticket_search (rowid, workspace, company, title, public, internal)
    SELECT r.row, replace(t.workspace_id, '-', ''), replace(t.company_id, '-', ''), t.title,
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), ''),
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND m.internal), '')
    FROM tickets t JOIN ticket_search_rows r ON r.ticket_id = t.id WHERE t.id IN (OLD.ticket_id, NEW.ticket_id);
END;

CREATE TRIGGER ticket_messages_search_delete AFTER DELETE ON ticket_messages BEGIN
    DELETE FROM ticket_search WHERE rowid = (SELECT row FROM ticket_search_rows WHERE ticket_id = OLD.ticket_id);
    INSERT INTO ticket_search (rowid, workspace, company, title, public, internal)
    SELECT r.row, replace(t.workspace_id, '-', ''), replace(t.company_id, '-', ''), t.title,
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), ''),
        COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND m.internal), '')
    FROM tickets t JOIN ticket_search_rows r ON r.ticket_id = t.id WHERE t.id = OLD.ticket_id;
END;

-- The tickets already there.
INSERT INTO ticket_search_rows (ticket_id) SELECT id FROM tickets ORDER BY rowid;
INSERT INTO ticket_search (rowid, workspace, company, title, public, internal)
SELECT r.row, replace(t.workspace_id, '-', ''), replace(t.company_id, '-', ''), t.title,
    COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND NOT m.internal), ''),
    COALESCE((SELECT group_concat(m.body, ' ') FROM ticket_messages m WHERE m.ticket_id = t.id AND m.internal), '')
FROM tickets t JOIN ticket_search_rows r ON r.ticket_id = t.id;
