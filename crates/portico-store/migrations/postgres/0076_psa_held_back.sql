-- Runs in a row in which a ticket's new replies from the PSA were held back because one of their
-- files could not be read just then (as SQLite's 0067): counted apart from the ticket's other
-- failures.
ALTER TABLE psa_ticket_links ADD COLUMN held_back BIGINT NOT NULL DEFAULT 0;
