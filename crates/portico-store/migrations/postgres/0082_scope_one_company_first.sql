-- The policies' company test, run for every row a statement reads, split the setting into an
-- array for each row: about 0.8 µs a row, which nearly doubled the cost of counting a company's
-- 100 tickets (0.13 against 0.05 ms for the index scan without policies). A client's scope, and
-- most technicians', is one company: then the setting is that company's id alone, and a row of
-- that company is let through by one comparison (0.08 ms). The test lets through no row it did
-- not before: a company id equals the whole setting only when the setting names that company
-- alone (ids hold no comma; an empty setting, a scope of no companies, is compared as NULL,
-- which nothing equals). Every policy calls this function, inlined into the statement.
CREATE OR REPLACE FUNCTION portico_in_scope(ws TEXT, company TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT ws = current_setting('app.workspace_id', true)
        AND (company IS NULL
             OR company = NULLIF(current_setting('app.company_ids', true), '')
             OR current_setting('app.company_ids', true) = '*'
             OR company = ANY (string_to_array(current_setting('app.company_ids', true), ',')))
$$;
