-- 0042 filled the tallies from `assets` as the migration role, under the table's forced
-- row-level policy, with no scope set: it read no asset, and a database that had assets before
-- started with empty tallies (lists and the overview counted none). The tables' owner reads them
-- whole with the policy unforced, for this transaction only, and the tallies are made again.
ALTER TABLE assets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE asset_tallies NO FORCE ROW LEVEL SECURITY;
DELETE FROM asset_tallies;
INSERT INTO asset_tallies (workspace_id, company_id, site_id, kind, archived, assets)
    SELECT workspace_id, company_id, coalesce(site_id, ''), kind,
           (archived_at IS NOT NULL)::int, count(*)
    FROM assets GROUP BY 1, 2, 3, 4, 5;
ALTER TABLE assets FORCE ROW LEVEL SECURITY;
ALTER TABLE asset_tallies FORCE ROW LEVEL SECURITY;
