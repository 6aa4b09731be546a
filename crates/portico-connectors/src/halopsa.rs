//! HaloPSA, two ways, through its REST API (issue 17, I2). The MSP's API application signs in
//! with the client-credentials grant at `<instance>/auth/token` (a hosted instance names its
//! tenant there); the API lives at `<instance>/api`. HaloPSA's clients are the tenants mapped to
//! companies. Each run:
//!
//! 1. creates in HaloPSA the company's open tickets raised in Portico and not yet there (the
//!    Portico ticket's id in `third_party_id_string`: a create whose answer never came is looked
//!    for by it before it is sent again, so a retry never makes a second ticket);
//! 2. sends the public replies written in Portico (by the client or the desk) as actions
//!    visible to the user (`hiddenfromuser: false`; a send whose answer never came is looked
//!    for by its text first);
//! 3. sends the files of what crossed (`POST /Attachment`, as base64): a new ticket's first
//!    message's on the ticket, a reply's on its action; never an internal note's. A file sent
//!    before without an answer is looked for among the ticket's attachments by name and size;
//! 4. reads the client's tickets HaloPSA changed since the last run (`lastupdatefromdate`): their
//!    status, and their actions without HaloPSA's private and system ones
//!    (`excludeprivate`, `excludesys`; an action still marked `hiddenfromuser` is dropped here
//!    too), so that a technician's public reply appears in the portal and an internal note never
//!    does; with each reply come its files HaloPSA shows the user (`showforusers`), fetched
//!    (`GET /Attachment/{id}`) and kept as a portal upload is (a file HaloPSA refuses is named
//!    in the reply instead; one it cannot give just now, a server error or no answer after every
//!    try, holds its reply and the ticket's later ones back to the next run, at most
//!    `FILE_TRIES` runs in a row); an action of files alone is a reply naming them. A file a
//!    technician adds later to a reply already brought in joins that reply: each reply keeps
//!    HaloPSA's count of its files (`attachment_count`), and a changed count has its files read
//!    again, bringing in those not yet here (by HaloPSA's id of each);
//! 5. settles each linked ticket's status: the side that changed it since they last agreed
//!    wins; when both did, HaloPSA's (where technicians work) is kept and the conflict recorded.
//!
//! HaloPSA statuses are the instance's own: they are read each run and kept for the connector
//! page, where an owner says what each means; until then each is understood by its name
//! (closed, resolved, cancelled → Resolved; with user, awaiting, waiting on client → Awaiting
//! your reply; hold, supplier, scheduled → On hold; new → New; else Open). Lists answer
//! `{record_count, <items>: [...]}` and are paged with `pageinate=true&page_size&page_no`.
//! One ticket's failure is kept on its link and tried again next run, reading its HaloPSA side
//! again even if HaloPSA no longer lists it as changed; a refused credential or a throttle ends
//! the run (the framework tries again later).

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use portico_core::TicketStatus;
use portico_files::{BlobKey, BlobStore};
use portico_store::Store;
use portico_store::connector_sync::{DiscoveredTenant, DueTenant, SyncCounts};
use portico_store::psa_sync::{
    FILE_TRIES, HeldBack, KnownAction, PsaAgreement, PsaAttachment, PsaFile, PsaLink, PsaReply,
    PsaTicket,
};
use portico_store::scoped::connectors::psa_status_by_name;
use portico_store::scoped::ticket_workflow::{NewAttachment, ToolAuthor};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::SyncError;
use crate::http::{Answer, VendorClient};

/// Pages read at most per list.
const MAX_PAGES: usize = 1_000;
/// Runs after a failed one in which a ticket's HaloPSA side is read again unasked.
const UNSETTLED_REREADS: i64 = 10;
/// Pages of the client's newest tickets searched for a create whose answer never came.
const LOOKUP_PAGES: usize = 5;
/// How far back each incremental read starts before the last run began: clocks differ.
const WATERMARK_OVERLAP_SECS: i64 = 300;
/// The largest file brought in from HaloPSA (10 MiB, a portal upload's default limit); a larger
/// one is named in its reply instead.
const FILE_LIMIT: usize = 10 * 1024 * 1024;

/// A HaloPSA API session: its token, fetched when first needed and again once if refused.
pub struct Halo<'a> {
    client: &'a VendorClient,
    auth_url: &'a str,
    api_url: &'a str,
    tenant: &'a str,
    client_id: &'a str,
    secret: &'a str,
    token: Option<String>,
    pub requests: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
}

#[derive(Deserialize)]
struct HaloClient {
    id: i64,
    name: String,
    #[serde(default)]
    inactive: Option<bool>,
    #[serde(default)]
    website: Option<String>,
}

#[derive(Deserialize)]
struct HaloStatus {
    id: i64,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Clone)]
struct HaloTicket {
    id: i64,
    #[serde(default)]
    client_id: Option<i64>,
    #[serde(default)]
    status_id: Option<i64>,
    #[serde(default)]
    third_party_id_string: Option<String>,
}

/// An attachment as HaloPSA lists or answers it (schema `Attachment`).
#[derive(Deserialize)]
struct HaloAttachment {
    id: i64,
    #[serde(default)]
    ticket_id: Option<i64>,
    #[serde(default)]
    action_id: Option<i64>,
    #[serde(default)]
    showforusers: Option<bool>,
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    filesize: Option<i64>,
}

#[derive(Deserialize)]
struct HaloAction {
    id: i64,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    hiddenfromuser: Option<bool>,
    #[serde(default)]
    who: Option<String>,
    #[serde(default)]
    actionby_agent_id: Option<i64>,
    #[serde(default)]
    actionby_user_id: Option<i64>,
    #[serde(default)]
    datetime: Option<String>,
    /// How many files the action carries: an action may be files alone, without a note.
    #[serde(default)]
    attachment_count: Option<i64>,
}

/// HaloPSA's times: RFC 3339, or its usual UTC without an offset (`2026-12-05T10:00:00`).
fn seconds(at: Option<&str>) -> Option<i64> {
    let at = at?;
    if let Ok(t) = at.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let civil: jiff::civil::DateTime = at.parse().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// A time as HaloPSA's filters take it (UTC, no offset).
fn halo_time(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Text as compared to find a reply sent before: HaloPSA may keep it with other whitespace.
fn same_text(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a reply may hold, in characters.
const MAX_NOTE: usize = 20_000;

/// A reply's text as Portico keeps it: no control characters but line breaks and tabs, at most
/// [`MAX_NOTE`] characters.
fn clean_note(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(MAX_NOTE)
        .collect()
}

/// Keeps a file brought from HaloPSA in the attachment store, as a portal upload is kept (its
/// name cleaned, its type sniffed from its bytes, at most a portal upload's size).
async fn keep_file(
    files: &BlobStore,
    name: &str,
    bytes: &[u8],
) -> Result<NewAttachment, portico_files::FileError> {
    let mut upload = files.upload(portico_files::Limits {
        max_file_bytes: FILE_LIMIT as u64,
        max_request_bytes: FILE_LIMIT as u64,
        max_files: 1,
    });
    let mut writer = upload.begin_file(name).await?;
    writer.write(bytes).await?;
    let stored = writer.finish().await?;
    upload.commit().await?;
    Ok(NewAttachment {
        blob_key: stored.key.as_str().to_owned(),
        file_name: stored.file_name,
        content_type: stored.content_type,
        size: stored.size as i64,
        inline: stored.inline,
    })
}

/// The instance's statuses, by id and by meaning: an owner's choice on the connector page,
/// else what the name suggests.
struct Statuses {
    names: HashMap<i64, String>,
    chosen: HashMap<i64, TicketStatus>,
}

impl Statuses {
    fn name(&self, id: i64) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("status {id}"))
    }

    fn meaning(&self, id: i64) -> TicketStatus {
        match self.chosen.get(&id) {
            Some(chosen) => *chosen,
            None => psa_status_by_name(&self.name(id)),
        }
    }

    /// The status to set in HaloPSA for `status`: the lowest-numbered one meaning it (a closed
    /// ticket is a resolved one there; a new one, open).
    fn for_status(&self, status: TicketStatus) -> Option<i64> {
        let wanted = match status {
            TicketStatus::Closed => TicketStatus::Resolved,
            other => other,
        };
        let mut ids: Vec<i64> = self.names.keys().copied().collect();
        ids.sort_unstable();
        let pick = |want: TicketStatus| ids.iter().copied().find(|id| self.meaning(*id) == want);
        pick(wanted).or_else(|| match wanted {
            TicketStatus::New => pick(TicketStatus::Open),
            _ => None,
        })
    }
}

/// How one run went, for the history.
#[derive(Debug, Default)]
pub struct PsaRun {
    pub counts: SyncCounts,
    pub summary: String,
    pub watermark: String,
}

#[derive(Default)]
struct Tally {
    linked: i64,
    created: i64,
    sent: i64,
    brought_in: i64,
    files: i64,
    /// Files technicians added to replies brought in before.
    files_added: i64,
    statuses: i64,
    conflicts: Vec<String>,
    failing: Vec<String>,
}

impl<'a> Halo<'a> {
    pub fn new(
        client: &'a VendorClient,
        auth_url: &'a str,
        api_url: &'a str,
        tenant: &'a str,
        client_id: &'a str,
        secret: &'a str,
    ) -> Halo<'a> {
        Halo {
            client,
            auth_url: auth_url.trim_end_matches('/'),
            api_url: api_url.trim_end_matches('/'),
            tenant,
            client_id,
            secret,
            token: None,
            requests: 0,
        }
    }

    async fn token(&mut self) -> Result<String, SyncError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let url = if self.tenant.is_empty() {
            format!("{}/token", self.auth_url)
        } else {
            format!("{}/token?tenant={}", self.auth_url, encode(self.tenant))
        };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id),
            ("client_secret", self.secret),
            ("scope", "all"),
        ];
        let answer: Answer<TokenAnswer> = self
            .client
            .send(&mut self.requests, "signing in", |c| {
                c.post(&url).form(&form)
            })
            .await?;
        match answer {
            Answer::Ok(t) => {
                self.token = Some(t.access_token.clone());
                Ok(t.access_token)
            }
            Answer::Unauthorized(e) | Answer::Forbidden(e) => Err(SyncError::Credentials(format!(
                "HaloPSA refused the API application's credentials: {e}"
            ))),
        }
    }

    /// One call, the token renewed once if refused.
    async fn call<T: DeserializeOwned>(
        &mut self,
        post: Option<&Value>,
        path: &str,
        what: &str,
    ) -> Result<T, SyncError> {
        let url = format!("{}{path}", self.api_url);
        for renewed in [false, true] {
            let token = self.token().await?;
            let build = |c: &reqwest::Client| {
                let request = match post {
                    Some(body) => c
                        .post(&url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.to_string()),
                    None => c.get(&url),
                };
                request
                    .bearer_auth(&token)
                    .header(reqwest::header::ACCEPT, "application/json")
            };
            // A POST creates: repeated blindly after a lost answer, it could create twice.
            let answer: Answer<T> = if post.is_some() {
                self.client
                    .send_once(&mut self.requests, what, build)
                    .await?
            } else {
                self.client.send(&mut self.requests, what, build).await?
            };
            match answer {
                Answer::Ok(value) => return Ok(value),
                Answer::Unauthorized(_) if !renewed => self.token = None,
                Answer::Unauthorized(e) | Answer::Forbidden(e) => {
                    return Err(SyncError::Credentials(format!(
                        "{what}: HaloPSA refused the API application ({e})"
                    )));
                }
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// A file's bytes (`GET /Attachment/{id}` answers the file itself), the token renewed
    /// once if refused; at most a portal upload's size.
    async fn download(&mut self, path: &str, what: &str) -> Result<Vec<u8>, SyncError> {
        let url = format!("{}{path}", self.api_url);
        for renewed in [false, true] {
            let token = self.token().await?;
            let build = |c: &reqwest::Client| c.get(&url).bearer_auth(&token);
            let answer = self
                .client
                .send_for_bytes(&mut self.requests, what, FILE_LIMIT, build)
                .await?;
            match answer {
                Answer::Ok(body) => return Ok(body),
                Answer::Unauthorized(_) if !renewed => self.token = None,
                // The list the file came from was read with the same token: one file kept
                // from the application is that file's matter, not the run's.
                Answer::Forbidden(e) => {
                    return Err(SyncError::Vendor(format!("{what}: refused ({e})")));
                }
                Answer::Unauthorized(e) => {
                    return Err(SyncError::Credentials(format!(
                        "{what}: HaloPSA refused the API application ({e})"
                    )));
                }
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// The files a technician put on public action `action` for the user to see
    /// (`showforusers`; a file not marked so stays in HaloPSA), kept in the attachment store,
    /// and the names of those HaloPSA would not give or that cannot be kept (too large): the
    /// reply comes in without them, saying so, rather than holding up the ticket's sync.
    ///
    /// A file HaloPSA could not give just now (no answer, a server error, after every try)
    /// fails the ticket's run instead, so that the next run reads the reply again with it;
    /// after `FILE_TRIES` runs held back in a row (`give_up`) it is named as not copied like
    /// the others.
    ///
    /// Files whose HaloPSA ids are in `here` (already brought in) are passed over.
    async fn action_files(
        &mut self,
        files: &BlobStore,
        external: &str,
        action: &HaloAction,
        give_up: bool,
        here: &HashSet<String>,
    ) -> Result<(Vec<PsaFile>, Vec<String>), SyncError> {
        let mut kept = Vec::new();
        let mut missing = Vec::new();
        if action.attachment_count == Some(0) {
            return Ok((kept, missing));
        }
        let listed: Vec<HaloAttachment> = match self
            .list(
                &format!(
                    "/Attachment?ticket_id={}&action_id={}",
                    encode(external),
                    action.id
                ),
                "attachments",
                "reading a reply's files",
                MAX_PAGES,
            )
            .await
        {
            Ok(listed) => listed,
            Err(SyncError::Unavailable(e)) if give_up => {
                tracing::warn!(target: "portico::connectors", action = action.id, error = %e, "a HaloPSA reply's files were not listed");
                missing.push("the files of this reply".to_owned());
                return Ok((kept, missing));
            }
            Err(e) => return Err(e),
        };
        let action = action.id;
        let ticket = external.parse::<i64>().ok();
        // Fail closed: only a file HaloPSA says the user may see, of this very action of this
        // very ticket.
        for file in listed.into_iter().filter(|f| {
            f.showforusers == Some(true)
                && f.action_id == Some(action)
                && f.ticket_id == ticket
                && !here.contains(&f.id.to_string())
        }) {
            // Named as it would be kept: no control characters, at most 100 characters.
            let name: String = file
                .filename
                .as_deref()
                .unwrap_or("file")
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect();
            if file.filesize.is_some_and(|size| size > FILE_LIMIT as i64) {
                missing.push(name);
                continue;
            }
            let bytes = match self
                .download(&format!("/Attachment/{}", file.id), "reading a file")
                .await
            {
                Ok(bytes) => bytes,
                Err(SyncError::Unavailable(e)) if !give_up => {
                    return Err(SyncError::Unavailable(format!(
                        "{e}; the reply with {name} is read again at the next run"
                    )));
                }
                Err(SyncError::Vendor(e) | SyncError::Unavailable(e)) => {
                    tracing::warn!(target: "portico::connectors", file = %name, error = %e, "a HaloPSA file was not brought in");
                    missing.push(name);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match keep_file(files, &name, &bytes).await {
                Ok(stored) => kept.push(PsaFile {
                    external_id: file.id.to_string(),
                    file: stored,
                }),
                Err(e) => {
                    tracing::warn!(target: "portico::connectors", file = %name, error = %e, "a HaloPSA file was not kept");
                    missing.push(name);
                }
            }
        }
        Ok((kept, missing))
    }

    /// Every item of a paged list (`key` names the list in each answer).
    async fn list<T: DeserializeOwned>(
        &mut self,
        path: &str,
        key: &str,
        what: &str,
        max_pages: usize,
    ) -> Result<Vec<T>, SyncError> {
        let join = if path.contains('?') { '&' } else { '?' };
        let size = self.client.page_size();
        let mut items = Vec::new();
        for page in 1..=max_pages {
            let mut answer: serde_json::Map<String, Value> = self
                .call(
                    None,
                    &format!("{path}{join}pageinate=true&page_size={size}&page_no={page}"),
                    what,
                )
                .await?;
            let list = answer.remove(key).ok_or_else(|| {
                SyncError::Vendor(format!("{what}: an answer without its `{key}` list"))
            })?;
            let found: Vec<T> = serde_json::from_value(list).map_err(|e| {
                SyncError::Vendor(format!("{what}: an answer we cannot read ({e})"))
            })?;
            let total = answer.get("record_count").and_then(Value::as_i64);
            let short = found.len() < size;
            items.extend(found);
            if short || total.is_some_and(|t| items.len() as i64 >= t) {
                return Ok(items);
            }
        }
        if max_pages == MAX_PAGES {
            return Err(SyncError::Vendor(format!(
                "{what}: more than {MAX_PAGES} pages"
            )));
        }
        Ok(items)
    }

    /// HaloPSA's active clients: the tenants to map.
    pub async fn discover(&mut self) -> Result<Vec<DiscoveredTenant>, SyncError> {
        let clients: Vec<HaloClient> = self
            .list("/Client", "clients", "listing clients", MAX_PAGES)
            .await?;
        Ok(clients
            .into_iter()
            .filter(|c| c.inactive != Some(true))
            .map(|c| DiscoveredTenant {
                external_id: c.id.to_string(),
                name: c.name,
                domains: c
                    .website
                    .as_deref()
                    .and_then(|w| {
                        let w = if w.contains("://") {
                            w.to_owned()
                        } else {
                            format!("https://{w}")
                        };
                        url::Url::parse(&w)
                            .ok()?
                            .host_str()
                            .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
                    })
                    .into_iter()
                    .collect(),
            })
            .collect())
    }

    async fn statuses(&mut self) -> Result<Statuses, SyncError> {
        let found: Vec<HaloStatus> = self.call(None, "/Status", "reading statuses").await?;
        Ok(Statuses {
            names: found.into_iter().map(|s| (s.id, s.name)).collect(),
            chosen: HashMap::new(),
        })
    }

    /// The ticket or action a POST answered with (an object, or a list of one).
    fn created<T: DeserializeOwned>(answer: Value, what: &str) -> Result<T, SyncError> {
        let one = match answer {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        serde_json::from_value(one)
            .map_err(|e| SyncError::Vendor(format!("{what}: an answer we cannot read ({e})")))
    }

    /// Finds the HaloPSA ticket an earlier, unanswered create made for Portico ticket `id`.
    async fn find_created(
        &mut self,
        client: &str,
        id: &str,
    ) -> Result<Option<HaloTicket>, SyncError> {
        let newest: Vec<HaloTicket> = self
            .list(
                &format!(
                    "/Tickets?client_id={}&order=id&orderdesc=true",
                    encode(client)
                ),
                "tickets",
                "looking for a ticket sent before",
                LOOKUP_PAGES,
            )
            .await?;
        Ok(newest
            .into_iter()
            .find(|t| t.third_party_id_string.as_deref() == Some(id)))
    }

    async fn create(
        &mut self,
        store: &Store,
        due: &DueTenant,
        ticket: &PsaTicket,
        statuses: &Statuses,
    ) -> Result<String, SyncError> {
        let id = ticket.id.as_text();
        let found = match ticket.link.as_ref().and_then(|l| l.create_sent_at) {
            Some(_) => self.find_created(&due.external_id, &id).await?,
            None => None,
        };
        let made = match found {
            Some(made) => made,
            None => {
                let mut tx = store.system_unscoped().await?;
                tx.psa_create_sending(due, ticket, portico_store::now())
                    .await?;
                tx.commit().await?;
                let details = if ticket.requester.is_empty() {
                    ticket.details.clone()
                } else {
                    format!(
                        "{}\n\n(Raised in the client portal by {}, ticket #{}.)",
                        ticket.details, ticket.requester, ticket.number
                    )
                };
                let body = json!([{
                    "summary": ticket.title,
                    "details": details,
                    "client_id": due.external_id.parse::<i64>().ok(),
                    "third_party_id_string": id,
                    "reportedby": ticket.requester,
                    "dateoccurred": halo_time(ticket.created_at),
                }]);
                let answer: Value = self
                    .call(Some(&body), "/Tickets", "creating a ticket")
                    .await?;
                Self::created(answer, "creating a ticket")?
            }
        };
        let status = made.status_id.unwrap_or_default();
        let mut tx = store.system_unscoped().await?;
        tx.psa_created(
            due,
            ticket,
            &made.id.to_string(),
            &status.to_string(),
            &statuses.name(status),
            portico_store::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(made.id.to_string())
    }

    /// HaloPSA's ticket `external`, if it still belongs to the client `due` maps: a ticket a
    /// technician moved to another client is no longer this company's to sync.
    async fn ticket(&mut self, due: &DueTenant, external: &str) -> Result<HaloTicket, SyncError> {
        let ticket: HaloTicket = self
            .call(
                None,
                &format!("/Tickets/{}", encode(external)),
                "reading a ticket",
            )
            .await?;
        let ours = due.external_id.parse::<i64>().ok();
        if ticket.client_id.is_some() && ticket.client_id != ours {
            return Err(SyncError::Vendor(format!(
                "HaloPSA ticket {external} was moved to another client: it is no longer synced"
            )));
        }
        Ok(ticket)
    }

    /// The ticket's actions the user may see.
    async fn public_actions(&mut self, external: &str) -> Result<Vec<HaloAction>, SyncError> {
        let actions: Vec<HaloAction> = self
            .list(
                &format!(
                    "/Actions?ticket_id={}&excludesys=true&excludeprivate=true",
                    encode(external)
                ),
                "actions",
                "reading a ticket's actions",
                MAX_PAGES,
            )
            .await?;
        Ok(actions
            .into_iter()
            // Fail closed: only an action HaloPSA says the user may see comes out.
            .filter(|a| a.hiddenfromuser == Some(false))
            // Files alone, without a note, are a reply too.
            .filter(|a| {
                a.note.as_deref().is_some_and(|n| !n.trim().is_empty())
                    || a.attachment_count.is_some_and(|n| n > 0)
            })
            .collect())
    }

    /// Sends the replies written in Portico, each once.
    async fn send_replies(
        &mut self,
        store: &Store,
        due: &DueTenant,
        ticket: &PsaTicket,
        external: &str,
        tally: &mut Tally,
    ) -> Result<(), SyncError> {
        let mut seen: Option<Vec<HaloAction>> = None;
        let mut taken: std::collections::HashSet<i64> = std::collections::HashSet::new();
        for reply in &ticket.outgoing {
            if reply.sent_at.is_some() {
                // Sent before without an answer: it may be there already. An action already
                // linked (or matched to an earlier reply of the same words) is not this one.
                if seen.is_none() {
                    let mut tx = store.system_unscoped().await?;
                    let known = tx.psa_known_actions(due, ticket.id).await?;
                    tx.commit().await?;
                    let actions = self.public_actions(external).await?;
                    seen = Some(
                        actions
                            .into_iter()
                            .filter(|a| !known.contains_key(&a.id.to_string()))
                            .collect(),
                    );
                }
                let body = same_text(&reply.body);
                if let Some(action) = seen.as_ref().into_iter().flatten().find(|a| {
                    !taken.contains(&a.id)
                        && a.note.as_deref().map(same_text).as_deref() == Some(body.as_str())
                }) {
                    taken.insert(action.id);
                    let mut tx = store.system_unscoped().await?;
                    tx.psa_message_sent(due, reply.message, &action.id.to_string())
                        .await?;
                    tx.commit().await?;
                    tally.sent += 1;
                    continue;
                }
            }
            let mut tx = store.system_unscoped().await?;
            tx.psa_message_sending(due, ticket.id, reply.message, portico_store::now())
                .await?;
            tx.commit().await?;
            let body = json!([{
                "ticket_id": external.parse::<i64>().ok(),
                "note": reply.body,
                "outcome": if reply.from_desk { "Update" } else { "User Update" },
                "who": reply.author,
                "hiddenfromuser": false,
                "sendemail": false,
            }]);
            let answer: Value = self
                .call(Some(&body), "/Actions", "sending a reply")
                .await?;
            let action: HaloAction = Self::created(answer, "sending a reply")?;
            let mut tx = store.system_unscoped().await?;
            tx.psa_message_sent(due, reply.message, &action.id.to_string())
                .await?;
            tx.commit().await?;
            tally.sent += 1;
        }
        Ok(())
    }

    /// Sends the files of the ticket's messages that crossed, each once: on the reply's action,
    /// or on the ticket for its first message. A file sent before without an answer is looked
    /// for first (by name and size among the ticket's attachments not linked yet).
    async fn send_files(
        &mut self,
        store: &Store,
        files: &BlobStore,
        due: &DueTenant,
        ticket: &PsaTicket,
        external: &str,
        tally: &mut Tally,
    ) -> Result<(), SyncError> {
        let mut tx = store.system_unscoped().await?;
        let pending = tx.psa_attachments_due(due, ticket.id).await?;
        tx.commit().await?;
        let mut listed: Option<Vec<HaloAttachment>> = None;
        let mut taken: std::collections::HashSet<i64> = std::collections::HashSet::new();
        for file in &pending {
            if file.sent_at.is_some() {
                if listed.is_none() {
                    let mut tx = store.system_unscoped().await?;
                    let known = tx.psa_known_attachments(due, ticket.id).await?;
                    tx.commit().await?;
                    let found: Vec<HaloAttachment> = self
                        .list(
                            &format!("/Attachment?ticket_id={}", encode(external)),
                            "attachments",
                            "reading a ticket's attachments",
                            MAX_PAGES,
                        )
                        .await?;
                    listed = Some(
                        found
                            .into_iter()
                            .filter(|a| !known.contains(&a.id.to_string()))
                            .collect(),
                    );
                }
                let action = file.action.as_deref().and_then(|a| a.parse::<i64>().ok());
                if let Some(there) = listed.as_ref().into_iter().flatten().find(|a| {
                    !taken.contains(&a.id)
                        && a.filename.as_deref() == Some(file.file_name.as_str())
                        && a.filesize.is_none_or(|size| size == file.size)
                        && (a.action_id.unwrap_or(0) == action.unwrap_or(0))
                }) {
                    taken.insert(there.id);
                    let mut tx = store.system_unscoped().await?;
                    tx.psa_attachment_sent(due, &file.id, &there.id.to_string())
                        .await?;
                    tx.commit().await?;
                    tally.files += 1;
                    continue;
                }
            }
            match self
                .send_file(store, files, due, ticket, external, file)
                .await
            {
                Ok(()) => tally.files += 1,
                // Refused, or its bytes unreadable: kept on the file, tried at most
                // `FILE_TRIES` times; the ticket's other files and its sync go on.
                Err(SyncError::Vendor(e) | SyncError::Unavailable(e)) => {
                    let mut tx = store.system_unscoped().await?;
                    let failures = tx
                        .psa_attachment_failed(due, ticket.id, &file.id, &e, portico_store::now())
                        .await?;
                    tx.commit().await?;
                    tracing::warn!(target: "portico::connectors", ticket = %ticket.id, file = %file.file_name, error = %e, "a file was not sent");
                    if failures >= FILE_TRIES {
                        tally.failing.push(format!(
                            "#{}: the file {} was not sent ({e}); it is not tried again",
                            ticket.number, file.file_name
                        ));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sends one file, marked before it goes.
    async fn send_file(
        &mut self,
        store: &Store,
        files: &BlobStore,
        due: &DueTenant,
        ticket: &PsaTicket,
        external: &str,
        file: &PsaAttachment,
    ) -> Result<(), SyncError> {
        let unreadable = |e: portico_files::FileError| {
            SyncError::Vendor(format!("its bytes cannot be read: {e}"))
        };
        let key = BlobKey::parse(&file.blob_key).map_err(unreadable)?;
        let bytes = files.get(&key).await.map_err(unreadable)?;
        let mut tx = store.system_unscoped().await?;
        tx.psa_attachment_sending(due, ticket.id, &file.id, portico_store::now())
            .await?;
        tx.commit().await?;
        let body = json!([{
            "ticket_id": external.parse::<i64>().ok(),
            "action_id": file.action.as_deref().and_then(|a| a.parse::<i64>().ok()),
            "filename": file.file_name,
            "data_base64": BASE64_STANDARD.encode(&bytes),
            "isimage": file.content_type.starts_with("image/"),
            "showforusers": true,
        }]);
        let answer: Value = self
            .call(Some(&body), "/Attachment", "sending a file")
            .await?;
        let made: HaloAttachment = Self::created(answer, "sending a file")?;
        let mut tx = store.system_unscoped().await?;
        tx.psa_attachment_sent(due, &file.id, &made.id.to_string())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings in what HaloPSA has that Portico does not, and settles the status.
    #[allow(clippy::too_many_arguments)]
    async fn settle(
        &mut self,
        store: &Store,
        files: &BlobStore,
        due: &DueTenant,
        ticket: &PsaTicket,
        external: &str,
        changed: Option<&HaloTicket>,
        statuses: &Statuses,
        tally: &mut Tally,
    ) -> Result<(), SyncError> {
        let Some(link) = &ticket.link else {
            return Ok(());
        };
        let portico_changed = link.portico_status != ticket.status.as_str();
        // A ticket whose last run failed may have left HaloPSA's changes unread, and HaloPSA
        // lists only what changed since that run: read it again, for a while (a ticket that
        // keeps failing is read when HaloPSA lists it as changed, as any other).
        let unsettled = link.failures > 0 && link.failures <= UNSETTLED_REREADS;
        let halo = match changed {
            Some(t) => t.clone(),
            None if portico_changed || unsettled => self.ticket(due, external).await?,
            None => return Ok(()),
        };
        // A reply's later files that could not be read just now.
        let mut later_failed = None;
        if changed.is_some() || unsettled {
            // HaloPSA's public replies first: a status HaloPSA refuses below loses none of them.
            let mut tx = store.system_unscoped().await?;
            let known = tx.psa_known_actions(due, ticket.id).await?;
            tx.commit().await?;
            let now = portico_store::now();
            let mut replies = Vec::new();
            // Replies brought in before whose files HaloPSA now counts differently.
            let mut recounted = Vec::new();
            for action in self.public_actions(external).await? {
                let id = action.id.to_string();
                if let Some(known) = known.get(&id) {
                    // A reply brought in before counts were kept (-1) is left as it came: its
                    // files' HaloPSA ids were not kept, so reading them again would bring them
                    // in twice.
                    if known.brought_in
                        && known.files_seen >= 0
                        && let Some(count) = action.attachment_count
                        && count != known.files_seen
                    {
                        recounted.push((action, known.clone()));
                    }
                    continue;
                }
                let kind = if action.actionby_agent_id.unwrap_or(0) <= 0
                    && action.actionby_user_id.unwrap_or(0) > 0
                {
                    ToolAuthor::User
                } else {
                    ToolAuthor::Agent
                };
                let found = self
                    .action_files(
                        files,
                        external,
                        &action,
                        link.held_back >= FILE_TRIES,
                        &HashSet::new(),
                    )
                    .await;
                let (attached, missing) = match found {
                    Ok(found) => found,
                    Err(e @ SyncError::Unavailable(_)) => {
                        // The replies before this one come in now; it and those after it
                        // wait for the next run, in their order.
                        let held = if replies.is_empty() {
                            HeldBack::Again
                        } else {
                            store.psa_bring_in(due, ticket.id, &replies, None).await?;
                            tally.brought_in += replies.len() as i64;
                            HeldBack::Anew
                        };
                        let mut tx = store.system_unscoped().await?;
                        tx.psa_replies_held_back(due, ticket.id, held).await?;
                        tx.commit().await?;
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                };
                let mut body = clean_note(action.note.as_deref().unwrap_or_default());
                if body.trim().is_empty() {
                    if attached.is_empty() && missing.is_empty() {
                        // Only files HaloPSA keeps from the user: nothing to bring in.
                        continue;
                    }
                    // Files alone: the reply says so, as a message must say something.
                    body = if attached.is_empty() {
                        "Shared files.".to_owned()
                    } else {
                        let names: Vec<&str> = attached
                            .iter()
                            .map(|f| f.file.file_name.as_str())
                            .take(20)
                            .collect();
                        let more = attached.len().saturating_sub(names.len());
                        let mut text = format!("Shared files: {}", names.join(", "));
                        if more > 0 {
                            text.push_str(&format!(" and {more} more"));
                        }
                        text.push('.');
                        text
                    };
                }
                if !missing.is_empty() {
                    // Room kept for the line below: a reply longer than a message may be is
                    // refused whole.
                    let mut names = missing
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ");
                    if missing.len() > 20 {
                        names.push_str(&format!(" and {} more", missing.len() - 20));
                    }
                    let said = format!("\n\n(Attached in HaloPSA, not copied here: {names}.)");
                    let room = MAX_NOTE.saturating_sub(said.chars().count());
                    if body.chars().count() > room {
                        body = body.chars().take(room).collect();
                    }
                    body.push_str(&said);
                }
                replies.push(PsaReply {
                    external_id: id,
                    author: action.who.unwrap_or_default(),
                    kind,
                    body,
                    // A clock ahead of ours never dates a reply in the future.
                    at: seconds(action.datetime.as_deref()).map_or(now, |at| at.min(now)),
                    files: attached,
                    files_seen: action.attachment_count.unwrap_or(0),
                });
            }
            if !replies.is_empty() {
                store.psa_bring_in(due, ticket.id, &replies, None).await?;
                tally.brought_in += replies.len() as i64;
            }
            if link.held_back > 0 {
                let mut tx = store.system_unscoped().await?;
                tx.psa_replies_held_back(due, ticket.id, HeldBack::Over)
                    .await?;
                tx.commit().await?;
            }
            match self
                .files_added_later(store, files, due, ticket, external, link, recounted, tally)
                .await
            {
                Ok(()) => {}
                // A file HaloPSA cannot give just now: the status is settled all the same, and
                // the ticket's run fails, so that the next run reads the reply's files again.
                Err(e @ SyncError::Unavailable(_)) => later_failed = Some(e),
                Err(e) => return Err(e),
            }
        }
        // A ticket read without its status says nothing of it.
        let Some(halo_status) = halo.status_id else {
            return later_failed.map_or(Ok(()), Err);
        };
        let halo_changed = link.psa_status != halo_status.to_string();
        let halo_means = statuses.meaning(halo_status);
        // Closed in Portico is resolved in HaloPSA: the two agree.
        let same = |portico: TicketStatus| {
            portico == halo_means
                || (portico == TicketStatus::Closed && halo_means == TicketStatus::Resolved)
        };
        let now = portico_store::now();
        // (status to set in Portico, the status both sides end with, a conflict's account)
        let (bring, agreed, agreed_halo, conflict) = match (portico_changed, halo_changed) {
            (false, false) => (None, ticket.status, halo_status, None),
            (false, true) | (true, true) => {
                let conflict = (portico_changed && !same(ticket.status)).then(|| {
                    format!(
                        "Status changed on both sides: Portico “{}”, HaloPSA “{}”; HaloPSA's kept",
                        ticket.status.desk_label(),
                        statuses.name(halo_status)
                    )
                });
                if same(ticket.status) {
                    (None, ticket.status, halo_status, conflict)
                } else {
                    (Some(halo_means), halo_means, halo_status, conflict)
                }
            }
            (true, false) => {
                if same(ticket.status) {
                    (None, ticket.status, halo_status, None)
                } else {
                    let Some(target) = statuses.for_status(ticket.status) else {
                        return Err(SyncError::Vendor(format!(
                            "HaloPSA has no status meaning “{}”",
                            ticket.status.desk_label()
                        )));
                    };
                    let body = json!([{ "id": halo.id, "status_id": target }]);
                    let _: Value = self
                        .call(Some(&body), "/Tickets", "changing a ticket's status")
                        .await?;
                    tally.statuses += 1;
                    (None, ticket.status, target, None)
                }
            }
        };
        if bring.is_some() {
            store.psa_bring_in(due, ticket.id, &[], bring).await?;
            tally.statuses += 1;
        }
        if let Some(c) = &conflict {
            tally.conflicts.push(format!("#{}: {c}", ticket.number));
        }
        let mut tx = store.system_unscoped().await?;
        tx.psa_statuses_agree(
            due,
            ticket.id,
            &PsaAgreement {
                portico: agreed,
                psa_status: &agreed_halo.to_string(),
                psa_status_name: &statuses.name(agreed_halo),
                conflict: conflict.as_deref(),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        later_failed.map_or(Ok(()), Err)
    }

    /// Brings in the files technicians added to replies brought in before (`recounted`: each
    /// reply's action, whose `attachment_count` differs from the count last read): those
    /// HaloPSA shows the user and that are not here yet (by HaloPSA's id) join their reply;
    /// those it shows but that cannot be copied are named in the audit log. A file removed in
    /// HaloPSA stays here. A file HaloPSA cannot give just now leaves its reply's count unread
    /// and fails the ticket's run, so that the next runs read them again; once the ticket has
    /// failed for as long as such runs re-read it (`UNSETTLED_REREADS`), it is named as not
    /// copied.
    #[allow(clippy::too_many_arguments)]
    async fn files_added_later(
        &mut self,
        store: &Store,
        files: &BlobStore,
        due: &DueTenant,
        ticket: &PsaTicket,
        external: &str,
        link: &PsaLink,
        recounted: Vec<(HaloAction, KnownAction)>,
        tally: &mut Tally,
    ) -> Result<(), SyncError> {
        if recounted.is_empty() {
            return Ok(());
        }
        let mut tx = store.system_unscoped().await?;
        let here = tx.psa_known_attachments(due, ticket.id).await?;
        tx.commit().await?;
        let mut failed = None;
        for (action, known) in recounted {
            let count = action.attachment_count.unwrap_or(0);
            let give_up = link.failures >= UNSETTLED_REREADS;
            let (added, missing) = match self
                .action_files(files, external, &action, give_up, &here)
                .await
            {
                Ok(found) => found,
                Err(e @ SyncError::Unavailable(_)) => {
                    failed = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            store
                .psa_bring_in_files(due, ticket.id, &known, &added, &missing, count)
                .await?;
            tally.files_added += added.len() as i64;
        }
        failed.map_or(Ok(()), Err)
    }

    /// One ticket's share of the run.
    #[allow(clippy::too_many_arguments)]
    async fn sync_ticket(
        &mut self,
        store: &Store,
        files: &BlobStore,
        due: &DueTenant,
        ticket: &PsaTicket,
        changed: &HashMap<String, HaloTicket>,
        statuses: &Statuses,
        tally: &mut Tally,
    ) -> Result<(), SyncError> {
        let external = ticket.link.as_ref().and_then(|l| l.external_id.clone());
        let external = match external {
            Some(e) => e,
            None => {
                let created = self.create(store, due, ticket, statuses).await?;
                tally.created += 1;
                // Its first message went with it as its text; the replies after it go now
                // (`outgoing` holds exactly those), then their files, and it has nothing of
                // HaloPSA's yet.
                self.send_replies(store, due, ticket, &created, tally)
                    .await?;
                self.send_files(store, files, due, ticket, &created, tally)
                    .await?;
                return Ok(());
            }
        };
        tally.linked += 1;
        let sends = !ticket.outgoing.is_empty() || ticket.files_due;
        if sends && !changed.contains_key(&external) {
            // Not among this client's changed tickets: make sure it is still this client's
            // before anything of this company's goes to it.
            self.ticket(due, &external).await?;
        }
        if !ticket.outgoing.is_empty() {
            self.send_replies(store, due, ticket, &external, tally)
                .await?;
        }
        self.settle(
            store,
            files,
            due,
            ticket,
            &external,
            changed.get(&external),
            statuses,
            tally,
        )
        .await?;
        // Files last: one HaloPSA refuses is kept on its own and holds up nothing above.
        if sends {
            self.send_files(store, files, due, ticket, &external, tally)
                .await?;
        }
        Ok(())
    }

    /// One run for the HaloPSA client `due` names.
    pub async fn sync(
        &mut self,
        store: &Store,
        files: &BlobStore,
        due: &DueTenant,
    ) -> Result<PsaRun, SyncError> {
        let started = portico_store::now();
        let mut statuses = self.statuses().await?;
        // Kept for the connector page, where an owner says what each means.
        let found: Vec<(String, String)> = statuses
            .names
            .iter()
            .map(|(id, name)| (id.to_string(), name.clone()))
            .collect();
        let mut tx = store.system_unscoped().await?;
        let chosen = tx.psa_statuses_seen(due, &found).await?;
        tx.commit().await?;
        statuses.chosen = chosen
            .into_iter()
            .filter_map(|(id, meaning)| Some((id.parse().ok()?, meaning)))
            .collect();
        let mut path = format!("/Tickets?client_id={}", encode(&due.external_id));
        if !due.alerts_watermark.is_empty() {
            path.push_str(&format!(
                "&lastupdatefromdate={}",
                encode(&due.alerts_watermark)
            ));
        }
        let changed: Vec<HaloTicket> = self
            .list(&path, "tickets", "reading changed tickets", MAX_PAGES)
            .await?;
        let changed: HashMap<String, HaloTicket> =
            changed.into_iter().map(|t| (t.id.to_string(), t)).collect();
        let mut tx = store.system_unscoped().await?;
        let work = tx.psa_work(due).await?;
        tx.commit().await?;
        let mut tally = Tally::default();
        for ticket in &work {
            match self
                .sync_ticket(store, files, due, ticket, &changed, &statuses, &mut tally)
                .await
            {
                Ok(()) => {
                    if ticket.link.as_ref().is_some_and(|l| l.failures > 0) {
                        let mut tx = store.system_unscoped().await?;
                        tx.psa_ticket_synced(due, ticket.id).await?;
                        tx.commit().await?;
                    }
                }
                // One ticket HaloPSA will not take: kept on its link, the others go on.
                Err(SyncError::Vendor(e))
                | Err(SyncError::Unavailable(e))
                | Err(SyncError::Store(portico_store::StoreError::Invalid(e))) => {
                    tracing::warn!(target: "portico::connectors", ticket = %ticket.id, error = %e, "a ticket did not sync");
                    let mut tx = store.system_unscoped().await?;
                    tx.psa_ticket_failed(due, ticket, &e, portico_store::now())
                        .await?;
                    tx.commit().await?;
                    tally.failing.push(format!("#{}: {e}", ticket.number));
                }
                Err(e) => return Err(e),
            }
        }
        let mut summary = format!(
            "{} linked tickets; {} created, {} replies sent, {} files sent, {} replies brought in, {} status changes",
            tally.linked, tally.created, tally.sent, tally.files, tally.brought_in, tally.statuses
        );
        if tally.files_added > 0 {
            summary.push_str(&format!(
                ", {} files added to replies brought in before",
                tally.files_added
            ));
        }
        if !tally.conflicts.is_empty() {
            summary.push_str(&format!("; conflicts: {}", tally.conflicts.join("; ")));
        }
        if !tally.failing.is_empty() {
            summary.push_str(&format!(
                "; {} failing: {}",
                tally.failing.len(),
                tally.failing.join("; ")
            ));
        }
        let summary: String = summary.chars().take(2000).collect();
        Ok(PsaRun {
            counts: SyncCounts {
                seen: tally.linked + tally.created,
                added: tally.created + tally.brought_in,
                changed: tally.sent + tally.files + tally.files_added + tally.statuses,
                retired: 0,
            },
            summary,
            watermark: halo_time(started - WATERMARK_OVERLAP_SECS),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_portico_status_has_its_halo_status() {
        let statuses = Statuses {
            names: [
                (1, "New"),
                (2, "In Progress"),
                (3, "Action Required"),
                (4, "With User"),
                (5, "With Supplier"),
                (9, "Closed"),
            ]
            .into_iter()
            .map(|(id, n)| (id, n.to_owned()))
            .collect(),
            chosen: HashMap::new(),
        };
        assert_eq!(statuses.for_status(TicketStatus::New), Some(1));
        assert_eq!(statuses.for_status(TicketStatus::Open), Some(2));
        assert_eq!(statuses.for_status(TicketStatus::AwaitingClient), Some(4));
        assert_eq!(statuses.for_status(TicketStatus::OnHold), Some(5));
        assert_eq!(statuses.for_status(TicketStatus::Resolved), Some(9));
        assert_eq!(statuses.for_status(TicketStatus::Closed), Some(9));
        // An owner's choice outweighs the name, both ways.
        let chosen = Statuses {
            chosen: [(3, TicketStatus::AwaitingClient), (2, TicketStatus::OnHold)]
                .into_iter()
                .collect(),
            ..statuses
        };
        assert_eq!(chosen.meaning(3), TicketStatus::AwaitingClient);
        assert_eq!(chosen.for_status(TicketStatus::AwaitingClient), Some(3));
        assert_eq!(chosen.for_status(TicketStatus::OnHold), Some(2));
        assert_eq!(chosen.for_status(TicketStatus::Open), None);
    }

    #[test]
    fn halo_times_read_with_and_without_an_offset() {
        assert_eq!(seconds(Some("1970-01-01T00:01:00")), Some(60));
        assert_eq!(seconds(Some("1970-01-01T00:01:00Z")), Some(60));
        assert_eq!(seconds(Some("soon")), None);
        assert_eq!(halo_time(60), "1970-01-01T00:01:00");
    }
}
