//! The `portico` binary: one process serving the console and every workspace's portal.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use portico_core::StaffRole;
use portico_store::{Backend, SqliteLocking, Store, SurfaceKind, demo};
use portico_web::WebConfig;
use serde::{Deserialize, Serialize};

// A page allocates and frees many small strings (rows, names, rendered HTML); mimalloc's
// per-thread free lists do this at a fraction of glibc malloc's cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Portico: the white-label client portal and console for managed service providers.
///
/// Every setting can be given as a flag, as an environment variable (PORTICO_…), or in the TOML
/// file named by --config; flags win over the environment, which wins over the file.
#[derive(Parser, Debug)]
#[command(name = "portico", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Migrate, seed demo data into an empty database (unless disabled), and serve (default).
    Serve,
    /// Apply pending database migrations (and on SQLite refresh stale planner statistics) and exit.
    Migrate,
    /// Seed the demo workspace into an empty database and exit.
    Demo,
    /// Manage staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// Append synthetic entries to the audit log of a benchmark database (see bench/), to time
    /// `portico audit verify` on.
    BenchSeedAudit {
        /// Entries to append.
        #[arg(long, default_value_t = 1_000_000)]
        entries: i64,
    },
    /// Check, sign and prune the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Seed a large synthetic database for the benchmark (an empty database only; see bench/).
    BenchSeed {
        /// Number of companies.
        #[arg(long, default_value_t = 10_000)]
        companies: i64,
        /// Number of tickets in all.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: i64,
        /// Replies (and internal notes) per ticket.
        #[arg(long, default_value_t = 3)]
        replies_per_ticket: i64,
        /// Tickets of the measured company.
        #[arg(long, default_value_t = 1_000)]
        focus_tickets: i64,
        /// Portal users with a password, one in each of that many other companies
        /// (member<n>@client<n>.test), for the benchmark's mix of many users.
        #[arg(long, default_value_t = 400)]
        mix_users: i64,
        /// Number of assets in all.
        #[arg(long, default_value_t = 500_000)]
        assets: i64,
        /// Assets of the measured company.
        #[arg(long, default_value_t = 2_000)]
        focus_assets: i64,
        /// Time entries per ticket of the other companies (the measured company has one on
        /// each of 300 tickets: a month's work of about a hundred entries).
        #[arg(long, default_value_t = 2)]
        time_entries_per_ticket: i64,
        /// Invoices per company, one a month back from this one (of every status).
        #[arg(long, default_value_t = 30)]
        invoices_per_company: i64,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check every hash chain of the audit log against its signed checkpoints and the
    /// workspace's key; names the first bad entry of each broken chain and exits non-zero.
    Verify {
        /// Only this workspace's chains (its id).
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Check a proof bundle downloaded from a portal's Audit log, without the database. Give
    /// the workspace's public key as the portal shows it; without it, the key the bundle
    /// names is used (which proves the entries are intact, not who signed them).
    VerifyBundle {
        /// The bundle file (JSON).
        file: PathBuf,
        /// The workspace's Ed25519 public key, in hex.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Print each workspace's audit public key (hex), for clients to check bundles against.
    PublicKeys,
    /// Sign every chain's head now, and remove entries past --audit-retention-days (also done
    /// by the running server).
    Maintain,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a staff owner in the workspace served on a console hostname, and print a one-time
    /// link to choose the password.
    Add {
        /// Console hostname of the workspace, e.g. `localhost` or `console.example.com`.
        #[arg(long, default_value = "localhost")]
        host: String,
        /// E-mail address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
    },
}

/// Settings given on the command line; unset ones fall through to the environment and file.
#[derive(Args, Debug, Serialize, Default)]
struct SettingsArgs {
    /// TOML configuration file.
    #[arg(long, env = "PORTICO_CONFIG", global = true)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Database URL: `sqlite://path` or `postgres://user:password@host/db` [default: sqlite://data/portico.db]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    /// PostgreSQL URL of the role owning the schema; migrations run as it and grant row access
    /// to the role of --database-url.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    migration_database_url: Option<String>,
    /// PostgreSQL URL of the role that does system work (seeding, the CLI, mail delivery), the
    /// one role that bypasses row-level security (BYPASSRLS); its pool is small
    /// [default: --migration-database-url, else --database-url]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    system_database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    /// Scheme written into links in e-mails [default: http]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    public_scheme: Option<String>,
    /// Port written into links in e-mails and the start-up banner; 0 to leave it out
    /// [default: the port of --listen]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    public_port: Option<u16>,
    /// Served over HTTPS: Secure and __Host- cookies, HSTS [default: false]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    secure_cookies: Option<bool>,
    /// Sessions end after this many minutes without activity [default: 120]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    session_idle_minutes: Option<i64>,
    /// Sessions end this many hours after sign-in at the latest [default: 12]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    session_max_hours: Option<i64>,
    /// Database connections per instance [default: 16]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    max_connections: Option<u32>,
    /// Seed demo data when the database is empty [default: true]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    demo: Option<bool>,
    /// Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed for the
    /// client address (sign-in throttling, session list) [default: none]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    trusted_proxies: Option<String>,
    /// Where ticket attachments are stored: a directory, or `s3://bucket/prefix` when built
    /// with the `s3` feature (shared by several instances) [default: data/attachments]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    attachments: Option<String>,
    /// Largest attached file, in MiB [default: 10]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment_max_file_mib: Option<u64>,
    /// Seconds a hostname's workspace and branding are kept in memory; other instances see a
    /// branding change within this time, 0 reads them on every request [default: 5]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    host_cache_secs: Option<u64>,
    /// Requests a minute each API token may make on each instance; beyond it the API answers
    /// 429 with Retry-After [default: 600]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    api_requests_per_minute: Option<u32>,
    /// While serving an SQLite file, hold it exclusively: pages take no file locks, but no other
    /// process (`portico user add`, a backup tool) can open the file until the server stops
    /// [default: true]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    sqlite_exclusive: Option<bool>,
    /// Keep pages of clients' ticket lists this instance has read and show them again while
    /// nothing they show has changed (checked against the database on every request, so
    /// instances never disagree); false reads every page from the database [default: true]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_page_cache: Option<bool>,
    /// Memory for the kept ticket list pages, with their rendered rows, in MiB by their own
    /// estimate: past it the pages used least recently are dropped (a client's list page of 26
    /// rows counts about 9 KiB) [default: 24]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_page_cache_mib: Option<u32>,
    /// SMTP server that delivers the outbox: `smtp://user:password@host:587` (STARTTLS),
    /// `smtps://user:password@host:465` (TLS), or `smtp://host:25?tls=none` for a local relay.
    /// Unset, mail is only recorded in the outbox [default: none]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    smtp_url: Option<String>,
    /// Sender address of all mail; each workspace's name is its display name. Needed with
    /// --smtp-url [default: none]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    mail_from: Option<String>,
    /// PEM file of a certificate authority to trust for the SMTP server, besides the usual
    /// public ones [default: none]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    smtp_ca_file: Option<PathBuf>,
    /// File holding the server secret (64 hex characters) the workspaces' audit signing keys
    /// and the keys sealing stored secrets (two-step verification) derive from. Created on
    /// first start if missing; every instance must use the same one, and it must not live in
    /// the database's backups alone: whoever holds it can re-sign a rewritten audit log
    /// [default: data/audit.key]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_key_file: Option<PathBuf>,
    /// Audit entries older than this many days are removed (a signed checkpoint keeps what is
    /// left verifiable); 0 keeps every entry [default: 0]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_retention_days: Option<u32>,
    /// Every chain's head is signed at most this many minutes after it grew, besides every
    /// 1,000 entries [default: 10]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_checkpoint_minutes: Option<u64>,
    /// Log lines as `text` (coloured only on a terminal) or `json`, one object a line, for a
    /// log collector [default: text]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
    /// Let webhooks reach private, loopback and link-local addresses (receivers inside the
    /// server's own network). Off, an endpoint whose name resolves only to such addresses is
    /// refused at delivery [default: false]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    webhooks_allow_private_addresses: Option<bool>,
    /// Let connectors reach vendor addresses that are private, loopback or link-local (a
    /// proxy inside the server's own network). Off, a connector pointed at such an address
    /// fails with that reason [default: false]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    connectors_allow_private_addresses: Option<bool>,
    /// DNS servers the e-mail domain checks ask, as `address:port` separated by commas; empty
    /// asks the system's (/etc/resolv.conf) [default: ""]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    dns_servers: Option<String>,
    /// The RDAP service domain expiry is read from (`<url>/domain/<name>`); empty does not
    /// check expiry [default: https://rdap.org]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    rdap_url: Option<String>,
}

/// The effective configuration.
#[derive(Debug, Serialize, Deserialize)]
struct Settings {
    database_url: String,
    migration_database_url: Option<String>,
    system_database_url: Option<String>,
    listen: SocketAddr,
    public_scheme: String,
    /// `None` follows the listening port.
    public_port: Option<u16>,
    secure_cookies: bool,
    session_idle_minutes: i64,
    session_max_hours: i64,
    max_connections: u32,
    demo: bool,
    trusted_proxies: String,
    attachments: String,
    attachment_max_file_mib: u64,
    host_cache_secs: u64,
    api_requests_per_minute: u32,
    sqlite_exclusive: bool,
    ticket_page_cache: bool,
    ticket_page_cache_mib: u32,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    smtp_ca_file: Option<PathBuf>,
    audit_key_file: PathBuf,
    audit_retention_days: u32,
    audit_checkpoint_minutes: u64,
    log_format: String,
    webhooks_allow_private_addresses: bool,
    connectors_allow_private_addresses: bool,
    dns_servers: String,
    rdap_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://data/portico.db".into(),
            migration_database_url: None,
            system_database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_scheme: "http".into(),
            public_port: None,
            secure_cookies: false,
            session_idle_minutes: 120,
            session_max_hours: 12,
            max_connections: 16,
            demo: true,
            trusted_proxies: String::new(),
            attachments: "data/attachments".into(),
            attachment_max_file_mib: 10,
            host_cache_secs: 5,
            api_requests_per_minute: 600,
            sqlite_exclusive: true,
            ticket_page_cache: true,
            ticket_page_cache_mib: 24,
            smtp_url: None,
            mail_from: None,
            smtp_ca_file: None,
            audit_key_file: "data/audit.key".into(),
            audit_retention_days: 0,
            audit_checkpoint_minutes: 10,
            log_format: "text".into(),
            webhooks_allow_private_addresses: false,
            connectors_allow_private_addresses: false,
            dns_servers: String::new(),
            rdap_url: "https://rdap.org".into(),
        }
    }
}

fn settings(args: &SettingsArgs) -> Result<Settings> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = &args.config {
        if !path.exists() {
            bail!("configuration file {} does not exist", path.display());
        }
        figment = figment.merge(Toml::file(path));
    }
    let settings: Settings = figment
        .merge(Env::prefixed("PORTICO_").ignore(&["config"]))
        .merge(Serialized::defaults(args))
        .extract()
        .context("invalid configuration")?;
    if Backend::of_url(&settings.database_url).is_none() {
        bail!(
            "database_url must start with sqlite:// or postgres://, got {:?}",
            settings.database_url
        );
    }
    if settings.session_idle_minutes < 1 || settings.session_max_hours < 1 {
        bail!("session timeouts must be at least one minute / one hour");
    }
    trusted_proxies(&settings.trusted_proxies)?;
    mail_config(&settings)?;
    if settings.audit_checkpoint_minutes < 1 {
        bail!("audit_checkpoint_minutes must be at least 1");
    }
    if !matches!(settings.log_format.as_str(), "text" | "json") {
        bail!(
            "log_format must be text or json, got {:?}",
            settings.log_format
        );
    }
    Ok(settings)
}

/// Creates the folder of an SQLite database file so that a fresh clone starts without setup.
fn ensure_sqlite_folder(url: &str) -> Result<()> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    Ok(())
}

/// The user name in a PostgreSQL URL: the role the application connects as.
fn url_user(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let credentials = rest.split_once('@')?.0;
    Some(credentials.split(':').next()?.to_owned()).filter(|u| !u.is_empty())
}

/// The URL system work connects with on PostgreSQL.
fn system_database_url(settings: &Settings) -> &str {
    settings
        .system_database_url
        .as_deref()
        .or(settings.migration_database_url.as_deref())
        .unwrap_or(&settings.database_url)
}

/// Opens the database; `serving` holds an SQLite file exclusively when configured to. On
/// PostgreSQL also the system role's small pool, checked to bypass row-level security when
/// `system_work` says the command needs it.
async fn open(settings: &Settings, serving: bool, system_work: bool) -> Result<Store> {
    ensure_sqlite_folder(&settings.database_url)?;
    let locking = if serving && settings.sqlite_exclusive {
        SqliteLocking::Exclusive
    } else {
        SqliteLocking::Shared
    };
    let system_url = system_database_url(settings);
    let store = Store::connect_with(&settings.database_url, settings.max_connections, locking)
        .await
        .with_context(|| format!("opening the database at {}", redact(&settings.database_url)))?
        .with_ticket_page_cache(
            settings.ticket_page_cache,
            settings.ticket_page_cache_mib as usize * 1024 * 1024,
        )
        .with_system_database(system_url, 4)
        .await
        .with_context(|| format!("opening the system database URL {}", redact(system_url)))?;
    if system_work {
        store.check_system_role().await?;
    }
    Ok(store)
}

/// Explains SQLite's "database is locked" when a server holds the file.
fn explain_locked(error: anyhow::Error, sqlite: bool) -> anyhow::Error {
    let locked = error
        .chain()
        .any(|e| e.to_string().contains("database is locked"));
    if locked && sqlite {
        error.context(
            "the SQLite database is in use, most likely by a running Portico server, which holds \
             it exclusively: stop the server first, or serve with --sqlite-exclusive false",
        )
    } else {
        error
    }
}

fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://…{}", &url[at..]),
        _ => url.to_owned(),
    }
}

async fn migrate(settings: &Settings, store: &Store) -> Result<()> {
    match &settings.migration_database_url {
        Some(owner_url) => {
            let owner = Store::connect(owner_url, 2)
                .await
                .context("opening the migration database URL")?;
            // Row access for the application and system roles, where they are not the owner.
            let owner_role = url_user(owner_url);
            let mut roles: Vec<String> = Vec::new();
            for url in [
                settings.database_url.as_str(),
                system_database_url(settings),
            ] {
                if let Some(role) = url_user(url)
                    && Some(&role) != owner_role.as_ref()
                    && !roles.contains(&role)
                {
                    roles.push(role);
                }
            }
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            owner
                .migrate(&roles)
                .await
                .context("migrating the database")?;
        }
        None => store.migrate(&[]).await.context("migrating the database")?,
    }
    Ok(())
}

fn main() -> Result<()> {
    let started = Instant::now();
    keep_small_pages();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(start(started))
}

/// Turns transparent huge pages off for this process, before the runtime's threads start.
/// Where the system has them always on (a common distribution default), every 2 MiB of the
/// allocator's memory that a page touches becomes resident whole: with the many small, short-
/// lived strings a page makes, that held some 10 MiB more than the server uses (`bench/run`'s
/// RSS, for no gain in speed). `MIMALLOC_ALLOW_THP=1` keeps them.
fn keep_small_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none()
        && let Err(error) = nix::sys::prctl::set_thp_disable(true)
    {
        eprintln!("warning: transparent huge pages stay on ({error})");
    }
}

async fn start(started: Instant) -> Result<()> {
    let cli = Cli::parse();
    let settings = settings(&cli.settings)?;
    // In demo mode queued mail (with its one-time links) is printed, standing in for SMTP.
    let default_filter = if settings.demo {
        "info,sqlx=warn,portico::outbox=debug"
    } else {
        "info,sqlx=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    if settings.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        // Colour codes only for a person at a terminal, never into a file or a collector.
        tracing_subscriber::fmt()
            .with_ansi(std::io::stdout().is_terminal())
            .with_env_filter(filter)
            .init();
    }
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Audit(AuditCommand::VerifyBundle { file, public_key }) = &command {
        return verify_bundle(file, public_key.as_deref());
    }
    let serving = matches!(command, Command::Serve);
    let sqlite = Backend::of_url(&settings.database_url) == Some(Backend::Sqlite);
    let result = run(command, settings, started, serving).await;
    result.map_err(|e| explain_locked(e, sqlite))
}

async fn run(command: Command, settings: Settings, started: Instant, serving: bool) -> Result<()> {
    let system_work = !matches!(command, Command::Migrate);
    // Checking the log needs the key that signed it; everything else may make the first one.
    let create_key = !matches!(command, Command::Audit(_));
    let key = audit_key(&settings.audit_key_file, create_key)?;
    let store = open(&settings, serving, system_work)
        .await?
        .with_audit_key(key, portico_store::audit::DEFAULT_CHECKPOINT_EVERY);
    match command {
        Command::Migrate => {
            migrate(&settings, &store).await?;
            store
                .refresh_planner_statistics()
                .await
                .context("gathering planner statistics")?;
            println!("migrations applied");
        }
        Command::Demo => {
            migrate(&settings, &store).await?;
            if demo::seed(&store).await? {
                println!("demo data seeded");
            } else {
                bail!(
                    "the database already holds a workspace; demo data goes into an empty database only"
                );
            }
        }
        Command::User(UserCommand::Add { host, email, name }) => {
            migrate(&settings, &store).await?;
            add_owner(&settings, &store, &host, &email, &name).await?;
        }
        Command::BenchSeed {
            companies,
            tickets,
            replies_per_ticket,
            focus_tickets,
            mix_users,
            assets,
            focus_assets,
            time_entries_per_ticket,
            invoices_per_company,
        } => {
            migrate(&settings, &store).await?;
            let spec = portico_store::scale::ScaleSpec {
                companies,
                tickets,
                replies_per_ticket,
                focus_tickets,
                mix_users,
                assets,
                focus_assets,
                time_entries_per_ticket,
                invoices_per_company,
            };
            let logins = portico_store::scale::seed(&store, spec).await?;
            let owner = match &settings.migration_database_url {
                Some(url) => Store::connect(url, 2)
                    .await
                    .context("opening the migration database URL")?,
                None => store.clone(),
            };
            portico_store::scale::settle(&owner)
                .await
                .context("analysing the seeded database")?;
            println!(
                "seeded {companies} companies, {tickets} tickets, {} replies in {:.1} s",
                tickets * replies_per_ticket,
                started.elapsed().as_secs_f64()
            );
            println!(
                "portal {} / console {} (password {})",
                logins.portal_email, logins.staff_email, logins.password
            );
        }
        Command::BenchSeedAudit { entries } => {
            migrate(&settings, &store).await?;
            let written = portico_store::scale::seed_audit(&store, entries).await?;
            println!(
                "appended {written} audit entries in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Command::Audit(command) => audit(&settings, &store, command).await?,
        Command::Serve => serve(settings, store, started).await?,
    }
    Ok(())
}

/// Reads the audit key file, or (when `create`) makes one, readable by its owner only.
fn audit_key(path: &std::path::Path, create: bool) -> Result<portico_store::audit::AuditKey> {
    use portico_store::audit::AuditKey;
    match std::fs::read_to_string(path) {
        Ok(text) => AuditKey::from_hex(&text).with_context(|| {
            format!(
                "the audit key file {} does not hold 64 hex characters",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let key = AuditKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            use std::io::Write;
            options
                .open(path)
                .and_then(|mut f| f.write_all(format!("{}\n", key.to_hex()).as_bytes()))
                .with_context(|| format!("writing the audit key file {}", path.display()))?;
            tracing::info!(file = %path.display(), "created the audit key file");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading the audit key file {}", path.display())),
    }
}

async fn audit(settings: &Settings, store: &Store, command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Verify { workspace } => {
            let workspace = match workspace {
                Some(text) => Some(
                    portico_core::WorkspaceId::parse(&text)
                        .with_context(|| format!("{text:?} is not a workspace id"))?,
                ),
                None => None,
            };
            let started = Instant::now();
            let mut tx = store.system_unscoped().await?;
            let report = tx.verify_audit(store.audit_log(), workspace).await?;
            tx.commit().await?;
            println!(
                "checked {} chains, {} entries, {} checkpoints in {:.2} s",
                report.chains,
                report.entries,
                report.checkpoints,
                started.elapsed().as_secs_f64()
            );
            if report.problems.is_empty() {
                println!("the audit log is intact");
                Ok(())
            } else {
                for problem in &report.problems {
                    println!("BROKEN: {problem}");
                }
                bail!(
                    "{} chain(s) of the audit log are broken",
                    report.problems.len()
                )
            }
        }
        AuditCommand::VerifyBundle { .. } => unreachable!("handled before the database opens"),
        AuditCommand::PublicKeys => {
            let mut tx = store.system_unscoped().await?;
            let workspaces = tx.workspaces().await?;
            tx.commit().await?;
            for (id, name) in workspaces {
                let key = store.audit_log().key().verifying_key(&id.as_text());
                println!("{id}  {}  {name}", hex::encode(key.as_bytes()));
            }
            Ok(())
        }
        AuditCommand::Maintain => {
            let (signed, removed) = maintain_audit(store, settings.audit_retention_days).await?;
            println!("signed {signed} chain heads, removed {removed} entries past retention");
            Ok(())
        }
    }
}

/// Signs the audit chains' heads that grew and prunes past the retention period (0 days:
/// never), in one transaction; returns how many heads were signed and entries removed.
async fn maintain_audit(
    store: &Store,
    retention_days: u32,
) -> Result<(u64, u64), portico_store::StoreError> {
    let mut tx = store.system_unscoped().await?;
    let signed = tx.checkpoint_audit_heads(store.audit_log()).await?;
    let removed = if retention_days > 0 {
        let before_ms = (portico_store::now() - i64::from(retention_days) * 86_400) * 1000;
        tx.prune_audit(store.audit_log(), before_ms).await?
    } else {
        0
    };
    tx.commit().await?;
    Ok((signed, removed))
}

/// `portico audit verify-bundle`: a client's offline check of their proof bundle.
fn verify_bundle(file: &std::path::Path, public_key: Option<&str>) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let bundle: portico_store::scoped::audit_log::ProofBundle =
        serde_json::from_str(&text).context("the file is not a Portico audit proof bundle")?;
    match bundle.verify(public_key) {
        Ok(entries) => {
            println!(
                "intact: {entries} entries of chain {} up to entry {}, {} signed checkpoints{}",
                bundle.chain,
                bundle.head_seq,
                bundle.checkpoints.len(),
                if public_key.is_some() {
                    ", signed by the key given"
                } else {
                    " (signed by the key the bundle names; pass --public-key to check whose)"
                }
            );
            Ok(())
        }
        Err(problem) => bail!("the bundle does not verify: {problem}"),
    }
}

async fn add_owner(
    settings: &Settings,
    store: &Store,
    host: &str,
    email: &str,
    name: &str,
) -> Result<()> {
    let mut tx = store.system_unscoped().await?;
    let Some(workspace) = tx.workspace_by_host(&host.to_ascii_lowercase()).await? else {
        bail!("no workspace is served on the host {host:?}");
    };
    if !portico_store::scoped::portal_users::valid_email(email) {
        bail!("{email:?} is not a valid e-mail address");
    }
    let id = tx
        .add_staff_user(workspace, email, name, StaffRole::Owner, None, &[])
        .await?;
    tx.commit().await?;
    let mut auth = store.auth(workspace).await?;
    let token = auth.invite_staff(id).await?;
    auth.commit().await?;
    let config = web_config(settings);
    println!("Staff owner {email} created. Choose the password within 7 days at:");
    println!("  {}/setup?token={token}", config.base_url(host));
    Ok(())
}

fn trusted_proxies(list: &str) -> Result<Vec<std::net::IpAddr>> {
    list.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse()
                .with_context(|| format!("trusted_proxies: {a:?} is not an IP address"))
        })
        .collect()
}

fn web_config(settings: &Settings) -> WebConfig {
    WebConfig {
        public_scheme: settings.public_scheme.clone(),
        public_port: public_port(settings),
        secure_cookies: settings.secure_cookies,
        session_idle_secs: settings.session_idle_minutes * 60,
        session_max_secs: settings.session_max_hours * 3600,
        trusted_proxies: trusted_proxies(&settings.trusted_proxies).unwrap_or_default(),
        attachment_limits: attachment_limits(settings),
        host_cache_ttl: std::time::Duration::from_secs(settings.host_cache_secs),
        api_requests_per_minute: settings.api_requests_per_minute,
        ..WebConfig::default()
    }
}

/// How mail is delivered: `None` records it in the outbox only.
/// Where the e-mail domain checks look: the configured DNS servers (or the system's) and RDAP.
fn domain_checks(settings: &Settings) -> Result<portico_domains::CheckerConfig> {
    let name_servers = settings
        .dns_servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<SocketAddr>()
                .or_else(|_| {
                    s.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .with_context(|| format!("dns_servers: {s:?} is not an address (or address:port)"))
        })
        .collect::<Result<Vec<_>>>()?;
    let rdap = settings.rdap_url.trim();
    Ok(portico_domains::CheckerConfig {
        name_servers,
        rdap_base: (!rdap.is_empty()).then(|| rdap.to_owned()),
        // The HIBP address is an owner's setting, as a connector's vendor address is.
        allow_private_addresses: settings.connectors_allow_private_addresses,
        ..portico_domains::CheckerConfig::default()
    })
}

fn mail_config(settings: &Settings) -> Result<Option<portico_mail::MailConfig>> {
    match (&settings.smtp_url, &settings.mail_from) {
        (None, _) => Ok(None),
        (Some(_), None) => bail!("smtp_url needs mail_from, the address mail is sent from"),
        (Some(url), Some(from)) => Ok(Some(portico_mail::MailConfig::from_url(
            url,
            from,
            settings.smtp_ca_file.clone(),
        )?)),
    }
}

/// The port links carry: as configured (0 for none), else the port the server listens on, so
/// that `--listen 127.0.0.1:18090` alone gives working links.
fn public_port(settings: &Settings) -> Option<u16> {
    match settings.public_port {
        Some(0) => None,
        Some(port) => Some(port),
        None => Some(settings.listen.port()),
    }
}

/// Per-file limit from the settings; a request may carry a few such files.
fn attachment_limits(settings: &Settings) -> portico_files::Limits {
    let file = settings.attachment_max_file_mib.max(1) * 1024 * 1024;
    let defaults = portico_files::Limits::default();
    portico_files::Limits {
        max_file_bytes: file,
        max_request_bytes: defaults.max_request_bytes.max(file),
        max_files: defaults.max_files,
    }
}

async fn serve(settings: Settings, store: Store, started: Instant) -> Result<()> {
    migrate(&settings, &store).await?;
    // Demo accounts share a published password: never create them where others can reach.
    if settings.demo && !settings.listen.ip().is_loopback() && demo_would_seed(&store).await? {
        bail!(
            "refusing to seed demo accounts (published password) on the non-loopback address {}; \
             pass --demo false, or listen on 127.0.0.1",
            settings.listen
        );
    }
    let seeded = settings.demo && demo::seed(&store).await?;
    store
        .refresh_planner_statistics()
        .await
        .context("gathering planner statistics")?;
    let config = web_config(&settings);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let console = config.base_url(
        &first_host(&store, SurfaceKind::Console)
            .await?
            .unwrap_or_else(|| "localhost".into()),
    );
    let portal = config.base_url(
        &first_host(&store, SurfaceKind::Portal)
            .await?
            .unwrap_or_else(|| "portal.localhost".into()),
    );
    let blobs = portico_files::BlobStore::from_url(&settings.attachments)
        .with_context(|| format!("opening the attachment store {:?}", settings.attachments))?;
    // Mail is delivered by every instance; each mail is claimed by one of them.
    let (stop_mail, mail_stopped) = tokio::sync::watch::channel(false);
    let delivery = match mail_config(&settings)? {
        Some(mail) => {
            let mailer = portico_mail::Mailer::new(mail)?;
            let described = mailer.config().describe();
            let worker = tokio::spawn(portico_mail::run(store.clone(), mailer, mail_stopped));
            Some((worker, described))
        }
        None => None,
    };
    // Webhooks are delivered by every instance too; each delivery is claimed by one of them.
    let sender = portico_hooks::Sender::new(settings.webhooks_allow_private_addresses)?;
    let webhooks = tokio::spawn(portico_hooks::run(
        store.clone(),
        sender,
        stop_mail.subscribe(),
    ));
    // Connectors sync on every instance too; each tenant is claimed by one of them at a time.
    let connectors = tokio::spawn(portico_connectors::run(
        store.clone(),
        portico_connectors::VendorClient::new(settings.connectors_allow_private_addresses)?,
        blobs.clone(),
        stop_mail.subscribe(),
    ));
    // Domain health is checked on every instance too; each domain is claimed by one of them.
    let domains = tokio::spawn(portico_domains::worker::run(
        store.clone(),
        portico_domains::DomainChecker::new(domain_checks(&settings)?)?,
        stop_mail.subscribe(),
    ));
    // Housekeeping on every instance (each sweep is one idempotent statement).
    // Set once the server stops: the search index's merge, on a thread of its own, ends at its
    // next step (aborting the task would not stop that thread).
    let stopping = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let housekeeping = tokio::spawn(housekeeping(store.clone(), stopping.clone()));
    let audit_signer = tokio::spawn(audit_upkeep(
        store.clone(),
        settings.audit_checkpoint_minutes,
        settings.audit_retention_days,
    ));
    let app = portico_web::app(store.clone(), blobs, config);
    println!("Portico is listening on http://{}", settings.listen);
    #[cfg(feature = "audit-cost-diagnostic")]
    println!(
        "  audit:   a measuring build: PORTICO_DIAGNOSTIC_SKIP_AUDIT=1 records nothing{}",
        if std::env::var("PORTICO_DIAGNOSTIC_SKIP_AUDIT").is_ok_and(|v| v == "1") {
            " (set: nothing is recorded)"
        } else {
            ""
        }
    );
    println!("  console: {console}");
    println!("  portal:  {portal}");
    match &delivery {
        Some((_, server)) => println!("  mail:    delivered through {server}"),
        None => println!("  mail:    kept in the outbox only (set --smtp-url to deliver it)"),
    }
    if settings.demo {
        if seeded {
            println!("  demo data seeded into {}", redact(&settings.database_url));
        }
        println!("  demo sign-ins (password {}):", demo::DEMO_PASSWORD);
        for (surface, role, company, email) in demo::SIGN_INS {
            println!(
                "    {surface:<7} {email:<24} {role}{}",
                if *company == "—" {
                    String::new()
                } else {
                    format!(", {company}")
                }
            );
        }
    }
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "ready");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;
    stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    // A mail being sent finishes; anything left waits in the outbox for the next start.
    housekeeping.abort();
    audit_signer.abort();
    // Views still queued for the audit log are appended before the process ends.
    if let Err(e) = store.flush_audit().await {
        tracing::error!(error = %e, "appending the last viewed records to the audit log failed");
    }
    let _ = stop_mail.send(true);
    if let Some((worker, _)) = delivery {
        let _ = worker.await;
    }
    let _ = webhooks.await;
    let _ = connectors.await;
    let _ = domains.await;
    tracing::info!("shut down");
    Ok(())
}

/// Pages merged at least in one step of the search index's housekeeping, and the pause between
/// steps.
const SEARCH_MERGE_PAGES: u32 = 64;
const SEARCH_MERGE_PAUSE: std::time::Duration = std::time::Duration::from_millis(25);

/// Every ten minutes, drops what has outlived its use (uploaded import files a day old) and
/// merges SQLite's full-text index once it has fragmented.
async fn housekeeping(store: Store, stopping: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    // A long merge is followed by a full interval, not by the rounds it overran.
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        merge_search_index(&store, &stopping).await;
        let swept = async {
            let mut tx = store.system_unscoped().await?;
            let dropped = tx
                .sweep_pending_imports(
                    portico_store::now() - portico_store::scoped::imports::KEPT_FOR_SECS,
                )
                .await?;
            tx.commit().await?;
            Ok::<_, portico_store::StoreError>(dropped)
        };
        match swept.await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "old import files dropped"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; it runs again later"),
        }
    }
}

/// Merges SQLite's full-text index once it has fragmented ([`Store::compact_search_index`]),
/// on a thread of its own: SQLite runs on the calling thread, and a step that writes a long
/// doclist takes tens of milliseconds, which on a request worker would hold up every request
/// queued behind it. It stops between steps once the server is stopping.
async fn merge_search_index(
    store: &Store,
    stopping: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    let runtime = tokio::runtime::Handle::current();
    let merging = store.clone();
    let stopping = stopping.clone();
    let merged = tokio::task::spawn_blocking(move || {
        runtime.block_on(merging.compact_search_index(SEARCH_MERGE_PAGES, || {
            std::thread::sleep(SEARCH_MERGE_PAUSE);
            !stopping.load(std::sync::atomic::Ordering::Relaxed)
        }))
    })
    .await;
    match merged {
        Ok(Ok(c)) if c.steps > 0 => tracing::info!(
            before = c.segments_before,
            after = c.segments_after,
            steps = c.steps,
            "search index merged"
        ),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "merging the search index failed; it runs again later")
        }
        Err(e) => {
            tracing::warn!(error = %e, "merging the search index stopped; it runs again later")
        }
    }
}

/// Signs every audit chain's head that grew, every `minutes`, and prunes past the retention
/// period (on every instance: signing a head twice is harmless, and each run is one
/// transaction).
async fn audit_upkeep(store: Store, minutes: u64, retention_days: u32) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(minutes.max(1) * 60));
    every.tick().await;
    loop {
        every.tick().await;
        match maintain_audit(&store, retention_days).await {
            Ok((0, 0)) => {}
            Ok((signed, removed)) => tracing::info!(signed, removed, "audit log signed and pruned"),
            Err(e) => {
                tracing::warn!(error = %e, "signing the audit log failed; it runs again later")
            }
        }
    }
}

async fn demo_would_seed(store: &Store) -> Result<bool> {
    let mut tx = store.system_unscoped().await?;
    let empty = tx.is_empty().await?;
    tx.commit().await?;
    Ok(empty)
}

async fn first_host(store: &Store, surface: SurfaceKind) -> Result<Option<String>> {
    let mut tx = store.system_unscoped().await?;
    let workspaces = tx.workspaces().await?;
    tx.commit().await?;
    match workspaces.first() {
        Some((id, _)) => Ok(store.public().await?.hostname(*id, surface).await?),
        None => Ok(None),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_key_file_is_made_once_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("portico-audit-key-{}", std::process::id()));
        let path = dir.join("nested").join("audit.key");
        assert!(
            audit_key(&path, false).is_err(),
            "checking needs the key that signed"
        );
        let made = audit_key(&path, true).unwrap();
        let again = audit_key(&path, true).unwrap();
        assert_eq!(made.verifying_key("ws"), again.verifying_key("ws"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        let error = audit_key(&path, true).unwrap_err().to_string();
        assert!(error.contains("64 hex characters"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let defaults = settings(&SettingsArgs::default()).unwrap();
        assert_eq!(defaults.database_url, "sqlite://data/portico.db");
        assert_eq!(defaults.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));

        let path = std::env::temp_dir().join(format!("portico-config-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\npublic_port = 0\nsession_idle_minutes = 30\n",
        )
        .unwrap();
        let from_file = settings(&SettingsArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(web_config(&from_file).public_port, None);
        assert_eq!(web_config(&from_file).session_idle_secs, 30 * 60);

        let flag = SettingsArgs {
            config: Some(path.clone()),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            settings(&flag).unwrap().listen.port(),
            9100,
            "a flag wins over the file"
        );
        std::fs::remove_file(path).ok();

        // Without a public port, links and the banner follow the listening port.
        let moved = settings(&SettingsArgs {
            listen: Some("127.0.0.1:18090".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(web_config(&moved).public_port, Some(18090));
        assert_eq!(
            web_config(&moved).base_url("localhost"),
            "http://localhost:18090"
        );
        let pinned = settings(&SettingsArgs {
            listen: Some("127.0.0.1:18090".parse().unwrap()),
            public_port: Some(443),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(web_config(&pinned).public_port, Some(443));
        assert!(
            settings(&SettingsArgs {
                log_format: Some("xml".into()),
                ..Default::default()
            })
            .is_err()
        );
        // SMTP needs a sender, and a URL that says how to reach the server.
        let smtp = |url: &str, from: Option<&str>| {
            settings(&SettingsArgs {
                smtp_url: Some(url.into()),
                mail_from: from.map(str::to_owned),
                ..Default::default()
            })
        };
        assert!(smtp("smtp://smtp.msp.test", None).is_err());
        assert!(smtp("http://smtp.msp.test", Some("desk@msp.test")).is_err());
        let ok = smtp("smtp://u:p@smtp.msp.test", Some("desk@msp.test")).unwrap();
        assert_eq!(mail_config(&ok).unwrap().unwrap().port, 587);
        assert!(
            mail_config(&defaults).unwrap().is_none(),
            "outbox only by default"
        );
    }

    #[test]
    fn bad_settings_are_refused_with_a_clear_message() {
        let bad = SettingsArgs {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        assert!(
            settings(&bad)
                .unwrap_err()
                .to_string()
                .contains("sqlite:// or postgres://")
        );
        let missing = SettingsArgs {
            config: Some("/nonexistent/portico.toml".into()),
            ..Default::default()
        };
        assert!(
            settings(&missing)
                .unwrap_err()
                .to_string()
                .contains("does not exist")
        );
    }

    #[test]
    fn the_application_role_is_read_from_the_database_url() {
        assert_eq!(
            url_user("postgres://portico_app:secret@db:5432/portico").as_deref(),
            Some("portico_app")
        );
        assert_eq!(url_user("postgres://db/portico"), None);
        assert_eq!(
            redact("postgres://portico_app:secret@db/portico"),
            "postgres://…@db/portico"
        );
    }
}
