//! One code path for two databases. Every query is written once, with `$n` placeholders (both
//! SQLite and PostgreSQL accept them), and its arguments collected as [`Arg`]s; [`Tx`] runs it on
//! whichever backend the store was opened with.

// Query text is composed only from literals in this crate (table and column names from fixed
// sets); every value travels as a bound argument. That is the audit `AssertSqlSafe` asks for.
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Postgres, Transaction};

use crate::StoreError;
use crate::lite::{self, LitePool, LiteTx};

/// A bound value. Ids travel as text: both schemas store them as `TEXT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    OptBool(Option<bool>),
    OptBlob(Option<Vec<u8>>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Self {
        Arg::OptBool(v)
    }
}
impl From<Option<Vec<u8>>> for Arg {
    fn from(v: Option<Vec<u8>>) -> Self {
        Arg::OptBlob(v)
    }
}

macro_rules! id_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self { Arg::Text(v.as_text()) }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self { Arg::OptText(v.map(|v| v.as_text())) }
        }
    )*};
}
id_args!(
    portico_core::WorkspaceId,
    portico_core::CompanyId,
    portico_core::SiteId,
    portico_core::ContactId,
    portico_core::StaffUserId,
    portico_core::PortalUserId,
    portico_core::TicketId,
    portico_core::MessageId,
    portico_core::CannedResponseId,
    portico_core::AssetId,
    portico_core::AssetFieldId,
    portico_core::MaintenanceId,
    portico_core::InvoiceId,
    portico_core::ChangeRequestId,
    portico_core::RecordEditId,
    portico_core::ImportId,
    portico_core::ApiTokenId,
    portico_core::WebhookEndpointId,
    portico_core::ConnectorId,
    portico_core::PentestId,
    portico_core::AttestationId,
    portico_core::AssessmentId
);

/// A query under construction: SQL text plus its arguments, numbered as they are pushed.
#[derive(Debug, Default)]
pub(crate) struct Q {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

impl Q {
    pub(crate) fn new(sql: &str) -> Self {
        Q {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn sql(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn arg(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.sql.push('$');
        self.sql.push_str(&self.args.len().to_string());
        self
    }

    /// Appends ` OFFSET $n` for a page past the first; nothing for the first.
    ///
    /// On PostgreSQL a statement with an `OFFSET` parameter was planned anew on every execution:
    /// not knowing the offset, the generic plan is costed at about twice what a custom plan for
    /// offset 0 is, so the plan cache keeps making custom plans. For a page of a fenced list
    /// that planning (about 300 µs) cost several times the statement's run. A first page
    /// (nearly every page read) now has a statement of its own with no offset, whose generic
    /// plan the cache keeps.
    pub(crate) fn offset(&mut self, rows: i64) -> &mut Self {
        if rows > 0 {
            self.sql(" OFFSET ").arg(rows);
        }
        self
    }

    /// Adds `value` as an argument without writing it, and returns its placeholder, for a value
    /// the SQL uses several times.
    pub(crate) fn placeholder(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// Appends `col IN ($a, $b, …)`, or a false condition for an empty list.
    pub(crate) fn in_list<T: Into<Arg> + Clone>(&mut self, col: &str, values: &[T]) -> &mut Self {
        if values.is_empty() {
            self.sql.push_str("1 = 0");
            return self;
        }
        self.sql.push_str(col);
        self.sql.push_str(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.arg(v.clone());
        }
        self.sql.push(')');
        self
    }

    /// Builds a query whose arguments are given in order, for fixed SQL.
    pub(crate) fn with(sql: &str, args: Vec<Arg>) -> Self {
        Q {
            sql: sql.to_owned(),
            args,
        }
    }
}

/// Builds a fixed query: `q!("SELECT … WHERE a = $1", a)`.
macro_rules! q {
    ($sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::sql::Q::with($sql, vec![$($crate::sql::Arg::from($arg)),*])
    };
}
pub(crate) use q;

/// An open transaction on either backend.
///
/// Its PostgreSQL calls box sqlx's futures: they are kilobytes each, and inline they sized every
/// store future, and so every handler's, even on SQLite, where they never run. A list handler's
/// future was 10.7 KB, copied in full each time the router boxed it.
pub(crate) enum Tx {
    Sqlite(LiteTx),
    Postgres(Transaction<'static, Postgres>),
    /// A PostgreSQL transaction begun `READ ONLY`, on a connection of the read lane (or of the
    /// pool while the lane's are all in use). It ends by being dropped: its ROLLBACK travels
    /// with the connection's next `BEGIN` ([`crate::pg_reads`]), where a COMMIT would cost the
    /// request a round trip of its own. For a transaction that cannot write, the two end it
    /// alike.
    PostgresReadOnly(crate::pg_reads::ReadTx),
    /// Each statement on its own (autocommit), for single lookups in tables without row-level
    /// security: it saves a BEGIN and a COMMIT.
    SqliteAuto(LitePool),
    PostgresAuto(sqlx::PgPool),
    /// A read-only transaction not yet begun: it begins (and takes its row-level-security
    /// context) with its first statement, and costs nothing when it runs none, as when a
    /// client's list page is served from memory ([`crate::ticket_pages`]). A read transaction
    /// takes its one snapshot at its first statement on both backends (on PostgreSQL it is
    /// begun REPEATABLE READ: [`begin_read`]), so deferring the BEGIN changes nothing it
    /// reads. (The sign-in check reads its session row before, on its own:
    /// `AuthTx::session_row`; a principal built after it is built from data no older.)
    PendingSqlite(LitePool),
    PendingPostgres(Box<PendingPostgres>),
}

/// What a deferred PostgreSQL read transaction begins with.
pub(crate) struct PendingPostgres {
    pub(crate) reads: crate::pg_reads::ReadLane,
    pub(crate) fence: Fence,
    /// Where the session's or API token's lookup runs without beginning the transaction, under
    /// the sign-in fence its connections keep (`pg_lane`).
    pub(crate) lookups: crate::pg_lane::PgLane,
}

/// The row-level-security context of a PostgreSQL transaction, read by the policies of
/// `migrations/postgres` through `current_setting('app.…')`.
#[derive(Debug, Clone)]
pub(crate) struct Fence {
    pub(crate) workspace: String,
    /// The scope's companies, comma-separated, or `*` for every company of the workspace.
    pub(crate) companies: String,
    /// Who is acting: `console` (staff), `portal` (a client), `portal_admin` (a client admin
    /// who manages the company's users) or `auth` (sign-in flows, before anyone is known). On
    /// the portal the policies hide staff users, other people's sessions and one-time tokens
    /// (but those of the company's users from its admins), and internal notes.
    pub(crate) surface: &'static str,
    /// The acting staff or portal user's id; empty for `auth`.
    pub(crate) principal: String,
}

impl Fence {
    /// Sign-in flows within one workspace: who the caller is is not known yet.
    pub(crate) fn auth(workspace: String) -> Fence {
        Fence {
            workspace,
            companies: "*".to_owned(),
            surface: "auth",
            principal: String::new(),
        }
    }
}

/// A result row of either backend.
pub(crate) enum RowRef<'a, 'r> {
    /// A row and, for named rows, where each field's column is (see [`DbRow::COLUMNS`]).
    Lite(&'a rusqlite::Row<'r>, &'a [usize]),
    Pg(&'a PgRow),
}

/// Text the store wrote itself in a canonical form (an id, an enum's name), read straight from
/// the row's bytes rather than copied into a `String` first: a page of tickets holds a few
/// hundred.
pub(crate) struct Parsed<T>(pub(crate) T);

/// A type stored as canonical text, read from the row's bytes without the UTF-8 check a `&str`
/// needs first (ids and names are ASCII; anything else is refused or, for [`IdBytes`], kept
/// until it is parsed).
pub(crate) trait StoredText: Sized {
    fn from_stored_text(text: &[u8]) -> Option<Self>;
}

macro_rules! stored_ids {
    ($($t:ty),*) => {$(
        impl StoredText for $t {
            fn from_stored_text(text: &[u8]) -> Option<Self> {
                <$t>::parse_ascii(text)
            }
        }
    )*};
}
stored_ids!(
    portico_core::CompanyId,
    portico_core::SiteId,
    portico_core::PortalUserId,
    portico_core::StaffUserId,
    portico_core::TicketId
);

macro_rules! stored_names {
    ($($t:ty),*) => {$(
        impl StoredText for $t {
            fn from_stored_text(text: &[u8]) -> Option<Self> {
                // Compared as bytes: a handful of short names, no UTF-8 check needed first.
                <$t>::ALL.iter().copied().find(|v| v.as_str().as_bytes() == text)
            }
        }
    )*};
}
stored_names!(portico_core::TicketStatus, portico_core::TicketPriority);

/// An id's stored text, kept as bytes. A page's rows refer to a few sites and people between
/// them: each distinct one is parsed once ([`IdBytes::parse`]) rather than once per row.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdBytes([u8; portico_core::ID_TEXT_LEN]);

impl IdBytes {
    pub(crate) fn parse<T>(&self, parse: impl FnOnce(&[u8]) -> Option<T>) -> Result<T, StoreError> {
        parse(&self.0).ok_or_else(|| StoreError::Corrupt(malformed(&self.0)))
    }
}

impl StoredText for IdBytes {
    fn from_stored_text(text: &[u8]) -> Option<Self> {
        text.try_into().ok().map(IdBytes)
    }
}

fn malformed(text: &[u8]) -> String {
    format!("malformed stored value {:?}", String::from_utf8_lossy(text))
}

impl<T: StoredText> rusqlite::types::FromSql for Parsed<T> {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let rusqlite::types::ValueRef::Text(text) = value else {
            return Err(rusqlite::types::FromSqlError::InvalidType);
        };
        T::from_stored_text(text)
            .map(Parsed)
            .ok_or_else(|| rusqlite::types::FromSqlError::Other(malformed(text).into()))
    }
}

impl<'r, T: StoredText> sqlx::Decode<'r, Postgres> for Parsed<T> {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'r, Postgres>>::decode(value)?.as_bytes();
        T::from_stored_text(text)
            .map(Parsed)
            .ok_or_else(|| malformed(text).into())
    }
}

impl<T> sqlx::Type<Postgres> for Parsed<T> {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<Postgres>>::type_info()
    }
    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <String as sqlx::Type<Postgres>>::compatible(ty)
    }
}

/// A column type both backends decode.
pub(crate) trait Value:
    rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>
{
}
impl<T> Value for T where
    T: rusqlite::types::FromSql + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>
{
}

impl RowRef<'_, '_> {
    /// The column called `name`, the `hint`-th of the row type's [`DbRow::COLUMNS`].
    pub(crate) fn get<T: Value>(&self, hint: usize, name: &str) -> Result<T, StoreError> {
        Ok(match self {
            RowRef::Lite(row, map) => match map.get(hint) {
                Some(&index) => row.get(index)?,
                None => row.get(name)?,
            },
            RowRef::Pg(row) => sqlx::Row::try_get(*row, name)?,
        })
    }

    /// The text column called `name` (the `hint`-th of [`DbRow::COLUMNS`]) handed to `read`
    /// where it lies, for a field made from the text (a code parsed into an enum) without
    /// copying it into a `String` first.
    pub(crate) fn text_with<T>(
        &self,
        hint: usize,
        name: &str,
        read: impl FnOnce(&str) -> T,
    ) -> Result<T, StoreError> {
        Ok(match self {
            RowRef::Lite(row, map) => {
                let index = match map.get(hint) {
                    Some(&index) => index,
                    None => row.as_ref().column_index(name)?,
                };
                let text = row.get_ref(index)?.as_str().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        index,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?;
                read(text)
            }
            RowRef::Pg(row) => read(sqlx::Row::try_get::<&str, _>(*row, name)?),
        })
    }

    /// The column at `index` (from 0).
    pub(crate) fn at<T: Value>(&self, index: usize) -> Result<T, StoreError> {
        Ok(match self {
            RowRef::Lite(row, _) => row.get(index)?,
            RowRef::Pg(row) => sqlx::Row::try_get(*row, index)?,
        })
    }
}

/// A row type decodable from both backends; structs get it from [`db_row!`], small tuples
/// decode by position.
pub(crate) trait DbRow: Sized + Send + 'static {
    /// The column names a named row reads, in field order (empty: read by position).
    const COLUMNS: &'static [&'static str] = &[];
    /// The names the query's columns are looked up by, in the order `decode` reads them.
    fn column_names() -> std::borrow::Cow<'static, [&'static str]> {
        std::borrow::Cow::Borrowed(Self::COLUMNS)
    }
    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError>;
}

/// Two named rows read from one row of a query: `A`'s columns and `B`'s side by side, so that
/// a statement that reads more than one record of a page at once decodes each into its own
/// type.
pub(crate) struct Both<A, B>(pub(crate) A, pub(crate) B);

impl<A: DbRow, B: DbRow> DbRow for Both<A, B> {
    fn column_names() -> std::borrow::Cow<'static, [&'static str]> {
        debug_assert!(
            !A::COLUMNS.is_empty() && !B::COLUMNS.is_empty(),
            "named rows only"
        );
        std::borrow::Cow::Owned([A::COLUMNS, B::COLUMNS].concat())
    }

    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(match row {
            RowRef::Lite(lite, map) => {
                let (a, b) = map.split_at(A::COLUMNS.len());
                Both(
                    A::decode(&RowRef::Lite(lite, a))?,
                    B::decode(&RowRef::Lite(lite, b))?,
                )
            }
            RowRef::Pg(_) => Both(A::decode(row)?, B::decode(row)?),
        })
    }
}

/// Implements [`DbRow`] for a struct whose fields are named like the query's columns.
macro_rules! db_row {
    ($ty:ident { $($field:ident),* $(,)? }) => {
                impl $crate::sql::DbRow for $ty {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn decode(row: &$crate::sql::RowRef<'_, '_>) -> Result<Self, $crate::StoreError> {
                let mut _position = 0usize;
                Ok($ty { $($field: {
                    let value = row.get(_position, stringify!($field))?;
                    _position += 1;
                    value
                }),* })
            }
        }
    };
}
pub(crate) use db_row;

macro_rules! tuple_rows {
    ($(($($t:ident : $i:tt),+)),*) => {$(
        impl<$($t: Value + Send + 'static),+> DbRow for ($($t,)+) {
            fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError> {
                Ok(($(row.at::<$t>($i)?,)+))
            }
        }
    )*};
}
tuple_rows!(
    (A: 0),
    (A: 0, B: 1),
    (A: 0, B: 1, C: 2),
    (A: 0, B: 1, C: 2, D: 3),
    (A: 0, B: 1, C: 2, D: 3, E: 4),
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5)
);

/// The statement that sets a PostgreSQL row-level-security context: for the transaction, or
/// (`for_session`) for the rest of the connection's session, as the lookup connections keep the
/// sign-in fence (`pg_lane`).
pub(crate) fn fence_query(fence: &Fence, for_session: bool) -> Q {
    let sql = if for_session {
        "SELECT set_config('app.workspace_id', $1, false), set_config('app.company_ids', $2, false), \
         set_config('app.surface', $3, false), set_config('app.principal', $4, false)"
    } else {
        "SELECT set_config('app.workspace_id', $1, true), set_config('app.company_ids', $2, true), \
         set_config('app.surface', $3, true), set_config('app.principal', $4, true)"
    };
    Q::with(
        sql,
        vec![
            fence.workspace.as_str().into(),
            fence.companies.as_str().into(),
            fence.surface.into(),
            fence.principal.as_str().into(),
        ],
    )
}

/// The fence's settings as literals, for a statement sent without parameters; `None` unless
/// every value is made of the characters ids and company lists are made of (hex digits, dashes,
/// commas, `*`, letters of a surface's name), so that nothing in them can end the literal.
fn fence_literals(fence: &Fence) -> Option<String> {
    let plain = |v: &str| {
        v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b',' | b'*' | b'_'))
    };
    [
        fence.workspace.as_str(),
        &fence.companies,
        fence.surface,
        &fence.principal,
    ]
    .iter()
    .all(|v| plain(v))
    .then(|| {
        format!(
            "SELECT set_config('app.workspace_id', '{}', true), set_config('app.company_ids', '{}', true), \
             set_config('app.surface', '{}', true), set_config('app.principal', '{}', true)",
            fence.workspace, fence.companies, fence.surface, fence.principal
        )
    })
}

/// Begins a PostgreSQL write transaction with its row-level-security context, in one round
/// trip: the BEGIN and the settings travel as one simple query. (Values that are not plain ids,
/// which never occur, take a second round trip with bound parameters instead.)
pub(crate) async fn begin_fenced(
    pool: &sqlx::PgPool,
    fence: &Fence,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    match fence_literals(fence) {
        Some(settings) => begin_with(pool, &format!("BEGIN; {settings}")).await,
        None => {
            let mut tx = begin_with(pool, "BEGIN").await?;
            let q = fence_query(fence, false);
            Box::pin(pg_query(&q).execute(&mut *tx)).await?;
            Ok(tx)
        }
    }
}

/// Begins a PostgreSQL read-only transaction with its row-level-security context on a
/// connection of the read lane, in one round trip as [`begin_fenced`] does.
pub(crate) async fn begin_read(
    lane: &crate::pg_reads::ReadLane,
    fence: &Fence,
) -> Result<crate::pg_reads::ReadTx, StoreError> {
    // A page of several statements reads one snapshot on both backends: PostgreSQL's default
    // (READ COMMITTED) takes a new one at every statement, as SQLite never does. A read-only
    // transaction at REPEATABLE READ cannot fail to serialize, and costs the same.
    const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    match fence_literals(fence) {
        Some(settings) => Box::pin(lane.begin(&format!("{BEGIN}; {settings}"))).await,
        None => {
            let mut tx = Box::pin(lane.begin(BEGIN)).await?;
            tx.execute(&fence_query(fence, false)).await?;
            Ok(tx)
        }
    }
}

/// Begins a transaction with `statement` on a connection of `pool`, on another when that one
/// turns out closed. The pool lends a connection used in the last few seconds without testing
/// it first (`postgres_pool_options`), so after the server restarts each of its connections
/// fails once, at its first statement. `statement` may have run on the ended backend (a BEGIN,
/// transaction-local settings), but nothing of it outlasts that backend.
pub(crate) async fn begin_with(
    pool: &sqlx::PgPool,
    statement: &str,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    again_if_lost(pool, || {
        Box::pin(pool.begin_with(AssertSqlSafe(statement.to_owned())))
    })
    .await
}

/// Runs `attempt` (a BEGIN, or a read in autocommit) on a connection of `pool`, again on another
/// while the one lent turns out closed. Only for statements whose effects end with their
/// backend: one that failed this way may have run.
pub(crate) async fn again_if_lost<'a, T>(
    pool: &sqlx::PgPool,
    attempt: impl Fn() -> BoxFuture<'a, Result<T, sqlx::Error>>,
) -> Result<T, StoreError> {
    // Each failed attempt closes its connection; at most the pool's size can be stale.
    let mut attempts = pool.options().get_max_connections() + 1;
    loop {
        match attempt().await {
            Err(e) if attempts > 1 && connection_lost(&e) => attempts -= 1,
            other => return Ok(other?),
        }
    }
}

/// `q` bound for sqlx, borrowing its text and arguments (a statement that may be sent again).
pub(crate) fn pg_query(q: &Q) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(q.sql.as_str()));
    for arg in &q.args {
        query = match arg {
            Arg::Text(v) => query.bind(v.as_str()),
            Arg::OptText(v) => query.bind(v.as_deref()),
            Arg::Int(v) => query.bind(*v),
            Arg::OptInt(v) => query.bind(*v),
            Arg::Bool(v) => query.bind(*v),
            Arg::OptBool(v) => query.bind(*v),
            Arg::OptBlob(v) => query.bind(v.as_deref()),
        };
    }
    query
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Whether `e` says that the connection was gone before the statement ran, rather than that
/// the statement was refused: the socket closed or reset, or the server's last word before it
/// closed (`57P01` when an administrator ended the backend, `57P02` when the server went down,
/// `57P05` after `idle_session_timeout`). A refused sign-in or a missing database is not such
/// an error: trying again would fail the same way.
pub(crate) fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
        ),
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P05"))
        }
        _ => false,
    }
}

impl Tx {
    /// The lookup connections of a PostgreSQL read transaction not yet begun: a session's or
    /// an API token's lookup runs there, under the sign-in fence they hold, without beginning
    /// one.
    pub(crate) fn unstarted_postgres(&self) -> Option<&crate::pg_lane::PgLane> {
        match self {
            Tx::PendingPostgres(pending) => Some(&pending.lookups),
            _ => None,
        }
    }

    pub(crate) fn unstarted_sqlite(&self) -> Option<&LitePool> {
        match self {
            Tx::PendingSqlite(pool) => Some(pool),
            _ => None,
        }
    }

    /// Begins a deferred transaction (see [`Tx::PendingSqlite`]); a no-op on the others.
    async fn start(&mut self) -> Result<(), StoreError> {
        match self {
            Tx::PendingSqlite(pool) => *self = Tx::Sqlite(pool.begin(false).await?),
            Tx::PendingPostgres(pending) => {
                *self = Tx::PostgresReadOnly(begin_read(&pending.reads, &pending.fence).await?);
            }
            _ => {}
        }
        Ok(())
    }

    pub(crate) async fn all<T: DbRow>(&mut self, q: Q) -> Result<Vec<T>, StoreError> {
        self.start().await?;
        let rows = match self {
            Tx::Sqlite(tx) => return lite::all(tx.connection(), &q),
            Tx::PendingSqlite(_) | Tx::PendingPostgres(_) => unreachable!("begun above"),
            Tx::SqliteAuto(pool) => return pool.with_connection(|c| lite::all(c, &q)).await,
            // sqlx's futures are boxed (see `Tx`).
            Tx::Postgres(tx) => Box::pin(pg_query(&q).fetch_all(&mut **tx)).await?,
            Tx::PostgresReadOnly(tx) => tx.all(&q).await?,
            Tx::PostgresAuto(pool) => {
                again_if_lost(pool, || Box::pin(pg_query(&q).fetch_all(&*pool))).await?
            }
        };
        rows.iter().map(|r| T::decode(&RowRef::Pg(r))).collect()
    }

    pub(crate) async fn optional<T: DbRow>(&mut self, q: Q) -> Result<Option<T>, StoreError> {
        self.start().await?;
        let row = match self {
            Tx::Sqlite(tx) => return lite::optional(tx.connection(), &q),
            Tx::PendingSqlite(_) | Tx::PendingPostgres(_) => unreachable!("begun above"),
            Tx::SqliteAuto(pool) => return pool.with_connection(|c| lite::optional(c, &q)).await,
            Tx::Postgres(tx) => Box::pin(pg_query(&q).fetch_optional(&mut **tx)).await?,
            Tx::PostgresReadOnly(tx) => tx.optional(&q).await?,
            Tx::PostgresAuto(pool) => {
                again_if_lost(pool, || Box::pin(pg_query(&q).fetch_optional(&*pool))).await?
            }
        };
        row.as_ref().map(|r| T::decode(&RowRef::Pg(r))).transpose()
    }

    /// One row, or [`StoreError::NotFound`].
    pub(crate) async fn one<T: DbRow>(&mut self, q: Q) -> Result<T, StoreError> {
        self.optional(q).await?.ok_or(StoreError::NotFound)
    }

    /// A single integer (a count, a sum).
    pub(crate) async fn count(&mut self, q: Q) -> Result<i64, StoreError> {
        let (n,): (i64,) = self.one(q).await?;
        Ok(n)
    }

    /// Runs a statement; returns the number of rows it touched.
    pub(crate) async fn exec(&mut self, q: Q) -> Result<u64, StoreError> {
        self.start().await?;
        Ok(match self {
            Tx::Sqlite(tx) => lite::exec(tx.connection(), &q)?,
            Tx::PendingSqlite(_) | Tx::PendingPostgres(_) => unreachable!("begun above"),
            Tx::SqliteAuto(pool) => pool.with_connection(|c| lite::exec(c, &q)).await?,
            Tx::Postgres(tx) => Box::pin(pg_query(&q).execute(&mut **tx))
                .await?
                .rows_affected(),
            Tx::PostgresReadOnly(tx) => tx.execute(&q).await?,
            Tx::PostgresAuto(pool) => Box::pin(pg_query(&q).execute(&*pool))
                .await?
                .rows_affected(),
        })
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(
            self,
            Tx::Postgres(_)
                | Tx::PostgresReadOnly(_)
                | Tx::PostgresAuto(_)
                | Tx::PendingPostgres(_)
        )
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit()?,
            Tx::Postgres(tx) => Box::pin(tx.commit()).await?,
            // Read only: rolled back at the connection's next use (see the variant).
            Tx::PostgresReadOnly(tx) => drop(tx),
            // Never begun: there is nothing to end.
            Tx::SqliteAuto(_)
            | Tx::PostgresAuto(_)
            | Tx::PendingSqlite(_)
            | Tx::PendingPostgres(_) => {}
        }
        Ok(())
    }
}
