-- Invoices (P9): a company's invoices with their lines. Drafts are the MSP's own until sent
-- (they never reach the portal); a sent invoice takes the workspace's next number. "Overdue" is
-- not stored: it is a sent invoice past its due date. Amounts are whole cents; totals are kept
-- with the invoice so that lists need not add up lines.
CREATE TABLE invoice_counters (
    workspace_id TEXT PRIMARY KEY,
    last_number BIGINT NOT NULL
);
CREATE TABLE invoices (
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
    UNIQUE (workspace_id, company_id, id),
    UNIQUE (workspace_id, number),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    CHECK ((status = 'draft') = (number IS NULL))
);
-- A company's invoices, latest first.
CREATE INDEX invoices_company_issued ON invoices (workspace_id, company_id, issued_on, id);

CREATE TABLE invoice_lines (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    description TEXT NOT NULL,
    -- Thousandths: 1.5 hours is 1500.
    quantity_milli BIGINT NOT NULL,
    unit_cents BIGINT NOT NULL,
    -- Hundredths of a percent: 10% is 1000.
    tax_basis_points BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    tax_cents BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, position),
    FOREIGN KEY (workspace_id, company_id, invoice_id) REFERENCES invoices (workspace_id, company_id, id)
);
