-- Billing visibility is decided per company a portal user acts for, not carried over from the
-- home company: a client group's user may see one company's rates and not another's.
ALTER TABLE portal_user_companies ADD COLUMN billing_access BOOLEAN NOT NULL DEFAULT FALSE;
