-- Counters and versions kept by triggers, written once per statement rather than once per row.
--
-- PostgreSQL writes a new version of a row at each update, and none of the versions a running
-- transaction wrote can be pruned before it ends: each further update (or upsert) of that row
-- walks all of them first. A row trigger that counts into one row (a company's asset tally, a
-- workspace's principal version) thus cost a transaction that wrote n rows about n²/2 steps:
-- importing 100,000 assets into one company took 94–101 s, nearly all of it in the tally's
-- upserts (20,000 assets in 500-row statements: 9.5 s with the row trigger, 1.2 s without it).
-- Statement triggers read the rows a statement wrote from its transition tables and write each
-- counter once per statement. Transition tables take one trigger per event and no column list.

-- Asset tallies (0042): the net change of each (company, site, kind, archived) tally. An update
-- that moves no asset between tallies writes none (nearly every update the store makes sets a
-- tallied column, and the row trigger, listed for those columns, then took one from the tally
-- and added it back). Without a column list the update trigger also runs for updates that set
-- none of them (a connector's removal unlinks its matched assets so, in one statement), for
-- some 40–160 µs a statement.
CREATE FUNCTION portico_tally_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO asset_tallies AS t (workspace_id, company_id, site_id, kind, archived, assets)
            SELECT workspace_id, company_id, coalesce(site_id, ''), kind,
                   (archived_at IS NOT NULL)::int, count(*)
            FROM new_rows GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (workspace_id, company_id, site_id, kind, archived)
            DO UPDATE SET assets = t.assets + excluded.assets;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE asset_tallies t SET assets = t.assets - gone.assets
            FROM (SELECT workspace_id, company_id, coalesce(site_id, '') AS site_id, kind,
                         (archived_at IS NOT NULL)::int AS archived, count(*) AS assets
                  FROM old_rows GROUP BY 1, 2, 3, 4, 5) gone
            WHERE t.workspace_id = gone.workspace_id AND t.company_id = gone.company_id
              AND t.site_id = gone.site_id AND t.kind = gone.kind AND t.archived = gone.archived;
    ELSE
        -- Taken from the tallies that shrink, added to (or made for) those that grow.
        WITH moved AS (
            SELECT workspace_id, company_id, site_id, kind, archived, sum(change) AS change
            FROM (SELECT workspace_id, company_id, coalesce(site_id, '') AS site_id, kind,
                         (archived_at IS NOT NULL)::int AS archived, 1 AS change
                  FROM new_rows
                  UNION ALL
                  SELECT workspace_id, company_id, coalesce(site_id, ''), kind,
                         (archived_at IS NOT NULL)::int, -1
                  FROM old_rows) rows
            GROUP BY 1, 2, 3, 4, 5
            HAVING sum(change) <> 0
        ), taken AS (
            UPDATE asset_tallies t SET assets = t.assets + moved.change
            FROM moved
            WHERE moved.change < 0
              AND t.workspace_id = moved.workspace_id AND t.company_id = moved.company_id
              AND t.site_id = moved.site_id AND t.kind = moved.kind AND t.archived = moved.archived
        )
        INSERT INTO asset_tallies AS t (workspace_id, company_id, site_id, kind, archived, assets)
            SELECT workspace_id, company_id, site_id, kind, archived, change
            FROM moved WHERE change > 0
            ON CONFLICT (workspace_id, company_id, site_id, kind, archived)
            DO UPDATE SET assets = t.assets + excluded.assets;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER assets_insert_delete_tally ON assets;
DROP TRIGGER assets_update_tally ON assets;
DROP FUNCTION portico_tally_asset();
CREATE TRIGGER assets_insert_tally AFTER INSERT ON assets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION portico_tally_assets();
CREATE TRIGGER assets_update_tally AFTER UPDATE ON assets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION portico_tally_assets();
CREATE TRIGGER assets_delete_tally AFTER DELETE ON assets
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION portico_tally_assets();

-- Endpoint coverage (0063): computers and agents are added and removed many to a statement (an
-- import, a sync, a connector removed), and a statement now marks each of their companies'
-- coverage stale in one call rather than one PL/pgSQL call a row. (The row triggers wrote a
-- company's row once anyway: the first marks it stale, the others find it so.) Updates keep
-- their row triggers, whose column lists leave out the changes that do not matter. As in 0063,
-- keep edr_coverage's policy as wide as those of assets and agents: a writer who could not see
-- the row would leave it fresh.
CREATE FUNCTION portico_stale_edr_coverage_of_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE edr_coverage e SET stale = 1
            FROM (SELECT DISTINCT workspace_id, company_id FROM new_rows) changed
            WHERE e.workspace_id = changed.workspace_id AND e.company_id = changed.company_id
              AND e.stale = 0;
    ELSE
        UPDATE edr_coverage e SET stale = 1
            FROM (SELECT DISTINCT workspace_id, company_id FROM old_rows) changed
            WHERE e.workspace_id = changed.workspace_id AND e.company_id = changed.company_id
              AND e.stale = 0;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER assets_insert_delete_edr_coverage ON assets;
DROP TRIGGER edr_agents_insert_delete_edr_coverage ON edr_agents;
CREATE TRIGGER assets_insert_edr_coverage AFTER INSERT ON assets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION portico_stale_edr_coverage_of_rows();
CREATE TRIGGER assets_delete_edr_coverage AFTER DELETE ON assets
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION portico_stale_edr_coverage_of_rows();
CREATE TRIGGER edr_agents_insert_edr_coverage AFTER INSERT ON edr_agents
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION portico_stale_edr_coverage_of_rows();
CREATE TRIGGER edr_agents_delete_edr_coverage AFTER DELETE ON edr_agents
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION portico_stale_edr_coverage_of_rows();

-- Principal versions (0011, 0016, 0027, 0030): a new one for each workspace whose rows a
-- statement wrote, once.
CREATE FUNCTION portico_bump_principal_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO principal_versions (workspace_id, version)
            SELECT workspace_id, portico_random_version()
            FROM (SELECT DISTINCT workspace_id FROM new_rows) changed
            ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO principal_versions (workspace_id, version)
            SELECT workspace_id, portico_random_version()
            FROM (SELECT DISTINCT workspace_id FROM old_rows) changed
            ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    ELSE
        INSERT INTO principal_versions (workspace_id, version)
            SELECT workspace_id, portico_random_version()
            FROM (SELECT workspace_id FROM new_rows UNION SELECT workspace_id FROM old_rows) changed
            ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    END IF;
    RETURN NULL;
END
$$;
DO $$
DECLARE
    source TEXT;
BEGIN
    FOREACH source IN ARRAY ARRAY['companies', 'portal_users', 'portal_user_companies',
        'portal_user_sites', 'staff_users', 'staff_assignments', 'workspace_section_defaults',
        'company_section_settings', 'ticket_visibility', 'sites']
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', source || '_principal_version', source);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION portico_bump_principal_versions()',
            source || '_insert_principal_version', source);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I '
            'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION portico_bump_principal_versions()',
            source || '_update_principal_version', source);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
            'FOR EACH STATEMENT EXECUTE FUNCTION portico_bump_principal_versions()',
            source || '_delete_principal_version', source);
    END LOOP;
END
$$;
DROP FUNCTION portico_bump_principal_version();

-- Ticket list versions (0014): drawn by deferred row triggers (constraint triggers have no
-- statement form), so a transaction that wrote 10,000 of a company's tickets drew its version
-- 10,000 times at commit, 0.8 s, growing with the square of the count. One draw per company and
-- transaction is enough: no other transaction sees the version before this one commits, and
-- kept pages are read from read-only transactions only. The companies drawn for are listed in a
-- setting local to the transaction (`,id,id,`), and a company listed is left alone. A savepoint
-- rolled back takes both its draw and its setting with it, so the next write draws again. Never
-- give the setting a default (`ALTER ROLE … SET`, `ALTER DATABASE … SET`): a company listed there
-- would never be drawn for. Each call searches the list, so a transaction that writes tickets of
-- many companies pays for their number on every row (1,000 companies: about 40 µs a row, as much
-- as the upsert it saves).
CREATE OR REPLACE FUNCTION portico_bump_ticket_list_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    drawn TEXT := coalesce(nullif(current_setting('portico.ticket_lists_drawn', true), ''), ',');
BEGIN
    IF TG_OP <> 'DELETE' AND position(',' || NEW.company_id || ',' IN drawn) = 0 THEN
        INSERT INTO ticket_list_versions (company_id, workspace_id, version)
            VALUES (NEW.company_id, NEW.workspace_id, portico_random_version())
            ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
        drawn := drawn || NEW.company_id || ',';
        PERFORM set_config('portico.ticket_lists_drawn', drawn, true);
    END IF;
    IF (TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.company_id IS DISTINCT FROM NEW.company_id))
        AND position(',' || OLD.company_id || ',' IN drawn) = 0
    THEN
        INSERT INTO ticket_list_versions (company_id, workspace_id, version)
            VALUES (OLD.company_id, OLD.workspace_id, portico_random_version())
            ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
        PERFORM set_config('portico.ticket_lists_drawn', drawn || OLD.company_id || ',', true);
    END IF;
    RETURN NULL;
END
$$;
