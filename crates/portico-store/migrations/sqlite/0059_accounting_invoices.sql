-- no-transaction: I2 accounting (Xero): invoices the MSP's accounting tool issued come into the
-- Invoices section beside the ones drafted in Portico. Such an invoice keeps the tool's own
-- number (`external_number`) and takes none of the workspace's, so the rule "numbered once
-- sent" applies to Portico's own only; SQLite cannot alter a CHECK constraint, so the table is
-- rebuilt (SQLite's procedure: foreign keys off, so that dropping the old table cascades to no
-- line; the new one renamed into its place, where the lines' references already point).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE invoices_rebuilt (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    number BIGINT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'paid', 'void')),
    issued_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_cents BIGINT NOT NULL,
    tax_cents BIGINT NOT NULL,
    total_cents BIGINT NOT NULL,
    notes TEXT NOT NULL,
    sent_at BIGINT,
    paid_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- '' for Portico's own; the accounting tool's kind ('xero') for one it issued.
    source TEXT NOT NULL DEFAULT '',
    connector_id TEXT,
    -- The tool's customer (a Xero contact) the company is mapped to.
    external_tenant TEXT,
    -- The tool's id of the invoice, its own number, and what is still owed on it.
    external_id TEXT,
    external_number TEXT NOT NULL DEFAULT '',
    amount_due_cents BIGINT,
    -- The tool's change stamp when last read: a PDF is fetched again only when it moves.
    external_updated TEXT NOT NULL DEFAULT '',
    synced_at BIGINT,
    UNIQUE (workspace_id, company_id, id),
    UNIQUE (workspace_id, number),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    CHECK (source <> '' OR (status = 'draft') = (number IS NULL)),
    CHECK (source = '' OR (number IS NULL AND external_id IS NOT NULL))
);
INSERT INTO invoices_rebuilt (workspace_id, company_id, id, number, status, issued_on, due_on,
    currency, subtotal_cents, tax_cents, total_cents, notes, sent_at, paid_at, created_at,
    updated_at)
SELECT workspace_id, company_id, id, number, status, issued_on, due_on, currency, subtotal_cents,
    tax_cents, total_cents, notes, sent_at, paid_at, created_at, updated_at
FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_rebuilt RENAME TO invoices;
CREATE INDEX invoices_company_issued ON invoices (workspace_id, company_id, issued_on, id);
CREATE UNIQUE INDEX invoices_external ON invoices (workspace_id, source, external_id)
    WHERE external_id IS NOT NULL;

-- The tool's own PDF of an invoice it issued (Portico renders its own invoices' PDFs).
CREATE TABLE invoice_documents (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL PRIMARY KEY,
    content BLOB NOT NULL,
    fetched_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, company_id, invoice_id) REFERENCES invoices (workspace_id, company_id, id)
);
COMMIT;
PRAGMA foreign_keys = ON;
