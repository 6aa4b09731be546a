-- Runs in a row in which a ticket's new replies from the PSA were held back because one of their
-- files could not be read just then (a server error, no answer): counted apart from the ticket's
-- other failures, so that a ticket failing for another reason (a status the PSA has no match
-- for) does not give up on a file at its first passing error.
ALTER TABLE psa_ticket_links ADD COLUMN held_back BIGINT NOT NULL DEFAULT 0;
