-- The audit log's company reference moves from each entry to its chain's head.
--
-- PostgreSQL checks a foreign key once per inserted row, each check a statement of its own that
-- also locks the company's row (`FOR KEY SHARE`, a write to that row's page). The recorder
-- appends a page view's entry for nearly every page served: in its batches of 64 rows the checks
-- were a third of the INSERT's time (1.8 of 5.4 ms on the benchmark's host, 2 million entries).
-- A chain's entries are only ever appended together with an update of its head, which the
-- recorder reads and locks first and fails the append without (`audit::append_all`), and a
-- head's company is its chain's: a key on the head, checked once when a chain begins, keeps
-- what the entries' key kept (no chain of a company that does not exist, and no company deleted
-- while its log remains).
--
-- SQLite keeps the key on its entries: its check is one lookup in the companies' index inside
-- the insert, with no lock and no statement of its own.
--
-- `NOT VALID`: the key holds for every head made from now on and forbids deleting any company
-- a head names, but existing heads are not checked. A chain pruned to nothing keeps its head
-- while the entries' key no longer held its company, so a company deleted by hand since then
-- would fail a validation here and stop the upgrade.
ALTER TABLE audit_heads
    ADD CONSTRAINT audit_heads_company_fkey FOREIGN KEY (workspace_id, company_id)
    REFERENCES companies (workspace_id, id) NOT VALID;
ALTER TABLE audit_entries DROP CONSTRAINT audit_entries_workspace_id_company_id_fkey;
