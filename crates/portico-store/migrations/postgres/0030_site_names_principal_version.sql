-- Sites' names join the names the desk keeps (desk_names.rs): every change to a site also draws
-- a new principal version for its workspace, in the same transaction, like a change to a
-- company or a person. The console queue then reads no site name twice while none changes.
CREATE TRIGGER sites_principal_version AFTER INSERT OR UPDATE OR DELETE ON sites
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
