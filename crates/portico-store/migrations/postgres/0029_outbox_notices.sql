-- Which ticket notice a queued mail words (`portico_core::Notice::kind`: `desk_replied`,
-- `ticket_resolved`, …). NULL for mail its sender worded (sign-in links, invitations) and for
-- mail queued before notices were typed.
ALTER TABLE outbox ADD COLUMN notice_kind TEXT;
