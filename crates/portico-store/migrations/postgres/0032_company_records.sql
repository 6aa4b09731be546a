-- Companies, sites and contacts are archived, never deleted: tickets (and later assets, time and
-- invoices) keep pointing at them, and an archived record can be restored with its history.
-- A plan's included work is kept in minutes, so that "7.5 hours a month" is exact.
ALTER TABLE companies ADD COLUMN archived_at BIGINT;
ALTER TABLE companies ADD COLUMN included_minutes BIGINT;
ALTER TABLE sites ADD COLUMN archived_at BIGINT;
ALTER TABLE contacts ADD COLUMN archived_at BIGINT;
