-- I2 accounting (Xero): invoices the MSP's accounting tool issued come into the Invoices section
-- beside the ones drafted in Portico. Such an invoice keeps the tool's own number
-- (`external_number`) and takes none of the workspace's, so the rule "numbered once sent"
-- applies to Portico's own only.
ALTER TABLE invoices ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN connector_id TEXT;
ALTER TABLE invoices ADD COLUMN external_tenant TEXT;
ALTER TABLE invoices ADD COLUMN external_id TEXT;
ALTER TABLE invoices ADD COLUMN external_number TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN amount_due_cents BIGINT;
ALTER TABLE invoices ADD COLUMN external_updated TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN synced_at BIGINT;
ALTER TABLE invoices DROP CONSTRAINT invoices_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_numbered
    CHECK (source <> '' OR (status = 'draft') = (number IS NULL));
ALTER TABLE invoices ADD CONSTRAINT invoices_from_a_tool
    CHECK (source = '' OR (number IS NULL AND external_id IS NOT NULL));
CREATE UNIQUE INDEX invoices_external ON invoices (workspace_id, source, external_id)
    WHERE external_id IS NOT NULL;

-- The tool's own PDF of an invoice it issued (Portico renders its own invoices' PDFs).
CREATE TABLE invoice_documents (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL PRIMARY KEY,
    content BYTEA NOT NULL,
    fetched_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, company_id, invoice_id) REFERENCES invoices (workspace_id, company_id, id)
);
ALTER TABLE invoice_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY invoice_documents_scope ON invoice_documents
    USING (portico_in_scope(workspace_id, company_id));
