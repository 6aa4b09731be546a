-- Delivery over SMTP. Each queued mail is claimed by one instance at a time (a lease until
-- `claimed_until`, under a token of the claim's own), tried with growing pauses
-- (`next_attempt_at`), and ends sent or failed with its last error kept for the console's
-- outbox page. Mail recorded before delivery existed is marked `recorded` and never sent: its
-- links were passed on by hand, or have expired.
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'queued'
    CHECK (state IN ('recorded', 'queued', 'sending', 'sent', 'failed'));
UPDATE outbox SET state = 'recorded';
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
ALTER TABLE outbox ADD COLUMN sent_at BIGINT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
