-- Records a tool pushes over the REST API (I1) for a source Portico has no connector for, such
-- as Microsoft 365 licences and users read by the MSP's own scripts: kept under one connector
-- per workspace that is pushed to, never scheduled (it stays switched off, so no worker claims
-- it and no portal offers Refresh), its tenants mapped to the company each push names.
ALTER TABLE connectors ADD COLUMN pushed BOOLEAN NOT NULL DEFAULT false;
CREATE UNIQUE INDEX connectors_pushed ON connectors (workspace_id) WHERE pushed;
-- One tenant per company and vendor (two would double a company's licences): the mapping page
-- and pushes check it, and this holds it when two of them race.
CREATE UNIQUE INDEX connector_tenants_one_feed ON connector_tenants (workspace_id, kind, company_id)
    WHERE company_id IS NOT NULL;
