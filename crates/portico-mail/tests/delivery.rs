//! Mail delivery against a real SMTP server (Debian's python3-aiosmtpd, started here on
//! 127.0.0.1): STARTTLS and implicit TLS with authentication and a private CA, the branded HTML
//! and plain-text parts as a mail reader parses them, retries with growing pauses, permanent
//! failure, mail too old to send, and two deliverers never sending one mail twice. On SQLite,
//! and on PostgreSQL when PORTICO_TEST_POSTGRES_URL is set.
//!
//! Without python3-aiosmtpd or openssl the tests say so and pass, unless
//! PORTICO_MAIL_TESTS=required (as `.ci/run` sets it), when they fail.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portico_core::WorkspaceId;
use portico_mail::{MAX_AGE_SECS, MAX_ATTEMPTS, MailConfig, Mailer, deliver_due, retry_delay_secs};
use portico_store::test_support::TestDatabase;
use portico_store::{Store, now};
use serde_json::Value;

/// The Python with aiosmtpd: Debian's, which has python3-aiosmtpd, before any other on PATH.
fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Whether the peer can run here; `false` means skip (and is a failure where it is required).
fn peer_available() -> bool {
    let ok = python().is_some()
        && Command::new("openssl")
            .arg("version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        let required = std::env::var("PORTICO_MAIL_TESTS").is_ok_and(|v| v == "required");
        assert!(
            !required,
            "PORTICO_MAIL_TESTS=required but python3-aiosmtpd or openssl is missing"
        );
        eprintln!("skipped: install python3-aiosmtpd and openssl to run the mail tests");
    }
    ok
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private certificate authority and a server certificate it signed for localhost and
/// 127.0.0.1: (the authority's certificate, the server's certificate, its key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let file = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?} failed");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        file("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "server.ext",
        "-out",
        "cert.pem",
    ]);
    (file("ca.pem"), file("cert.pem"), file("key.pem"))
}

/// The SMTP server, for as long as this lives.
struct Peer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    /// The authority that signed the server's certificate, for the client to trust.
    ca: PathBuf,
}

impl Peer {
    fn start(mode: &str) -> Peer {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = certificates(dir.path());
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_peer.py");
        // A port free when asked may be taken (by another test's connection) before the peer
        // listens on it: a peer that does not come up is started again on another port.
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(python().unwrap())
                .arg(&script)
                .arg(&inbox)
                .arg(port.to_string())
                .arg(mode)
                .arg(&cert)
                .arg(&key)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if line.trim() == "ready" {
                return Peer {
                    child,
                    dir,
                    port,
                    ca,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the SMTP peer did not start in five attempts");
    }

    /// The messages received so far, as the peer parsed them, in order.
    fn received(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("inbox"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    fn config(&self, url: &str) -> MailConfig {
        MailConfig::from_url(url, "desk@northwind.test", Some(self.ca.clone())).unwrap()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mailer for a relay on 127.0.0.1 without TLS (the plain peer, or a closed port).
fn relay(port: u16) -> Mailer {
    Mailer::new(
        MailConfig::from_url(
            &format!("smtp://127.0.0.1:{port}?tls=none"),
            "desk@northwind.test",
            None,
        )
        .unwrap(),
    )
    .unwrap()
}

async fn workspace(store: &Store) -> WorkspaceId {
    let mut tx = store.system_unscoped().await.unwrap();
    let ws = tx
        .create_workspace("Northwind IT", "#0a7c42", "#333333", "")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ws
}

async fn queue(store: &Store, ws: WorkspaceId, to: &str, subject: &str, body: &str) {
    let mut tx = store.auth(ws).await.unwrap();
    tx.queue_mail(to, subject, body).await.unwrap();
    tx.commit().await.unwrap();
}

async fn states(store: &Store, to: &str) -> Vec<portico_store::delivery::DeliveryState> {
    let mut tx = store.system_unscoped().await.unwrap();
    let states = tx.delivery_states(to).await.unwrap();
    tx.commit().await.unwrap();
    states
}

#[tokio::test]
async fn a_queued_mail_arrives_branded_in_html_and_plain_text_over_starttls() {
    if !peer_available() {
        return;
    }
    let peer = Peer::start("starttls");
    let db = TestDatabase::create().await;
    let ws = workspace(&db.store).await;
    queue(
        &db.store,
        ws,
        "alice@acme.test",
        "Re: Printer <offline> #1042",
        "Tom replied to your ticket:\n\nIt is fixed & tested.\nOpen it: https://portal.acme.test/tickets/1042.\n\nNorthwind IT",
    )
    .await;
    let mailer =
        Mailer::new(peer.config(&format!("smtp://portico:secret@localhost:{}", peer.port)))
            .unwrap();
    let round = deliver_due(&db.store, &mailer, now()).await.unwrap();
    assert_eq!(round.sent, 1, "{round:?}");
    let received = peer.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail["rcpt_tos"][0], "alice@acme.test");
    assert_eq!(mail["from"], "Northwind IT <desk@northwind.test>");
    assert_eq!(mail["subject"], "Re: Printer <offline> #1042");
    assert!(mail["message_id"].as_str().unwrap().contains('@'));
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("It is fixed & tested.")
            && text.contains("https://portal.acme.test/tickets/1042")
    );
    let html = mail["html"].as_str().unwrap();
    assert!(html.contains("#0a7c42"), "the brand colour");
    assert!(html.contains(">Northwind IT<"), "the brand name");
    // Escaped (askama writes numeric references), never markup.
    assert!(
        html.contains("It is fixed &#38; tested."),
        "text is escaped: {html}"
    );
    assert!(
        html.contains("Printer &#60;offline&#62;"),
        "the subject is escaped"
    );
    assert!(!html.contains("<offline>"));
    assert!(
        html.contains(r#"<a href="https://portal.acme.test/tickets/1042""#),
        "links are clickable, the full stop left out"
    );
    let types: Vec<&str> = mail["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html"
        ]
    );
    let state = &states(&db.store, "alice@acme.test").await[0];
    assert_eq!((state.state.as_str(), state.attempts), ("sent", 1));
    // Sent is sent: another round sends nothing more.
    assert_eq!(
        deliver_due(&db.store, &mailer, now())
            .await
            .unwrap()
            .claimed(),
        0
    );
    assert_eq!(peer.received().len(), 1);
}

#[tokio::test]
async fn implicit_tls_delivers_too_and_a_wrong_password_fails_for_good_at_once() {
    if !peer_available() {
        return;
    }
    let peer = Peer::start("tls");
    let db = TestDatabase::create().await;
    let ws = workspace(&db.store).await;
    queue(&db.store, ws, "ben@birch.test", "Hello", "Hello Ben").await;
    let good = Mailer::new(peer.config(&format!("smtps://portico:secret@localhost:{}", peer.port)))
        .unwrap();
    assert_eq!(deliver_due(&db.store, &good, now()).await.unwrap().sent, 1);
    assert_eq!(peer.received().len(), 1);

    queue(&db.store, ws, "carla@cobalt.test", "Hello", "Hello Carla").await;
    let wrong = Mailer::new(peer.config(&format!("smtps://portico:wrong@localhost:{}", peer.port)))
        .unwrap();
    let round = deliver_due(&db.store, &wrong, now()).await.unwrap();
    assert_eq!(
        round.failed, 1,
        "authentication refused (5xx) is permanent: {round:?}"
    );
    let state = &states(&db.store, "carla@cobalt.test").await[0];
    assert_eq!((state.state.as_str(), state.attempts), ("failed", 1));
    assert!(
        state.last_error.as_deref().unwrap_or("").contains("535"),
        "{state:?}"
    );
    assert_eq!(peer.received().len(), 1);
}

#[tokio::test]
async fn an_unreachable_server_gets_retries_at_growing_pauses_then_the_mail_fails() {
    if !peer_available() {
        return;
    }
    let db = TestDatabase::create().await;
    let ws = workspace(&db.store).await;
    queue(&db.store, ws, "dan@dunmore.test", "Hello", "Hello Dan").await;
    let mailer = relay(free_port());
    let mut at = now();
    for attempt in 1..=MAX_ATTEMPTS {
        let round = deliver_due(&db.store, &mailer, at).await.unwrap();
        let state = states(&db.store, "dan@dunmore.test").await.remove(0);
        assert_eq!(state.attempts, attempt);
        assert!(state.last_error.is_some());
        if attempt < MAX_ATTEMPTS {
            assert_eq!(round.retried, 1, "attempt {attempt}");
            assert_eq!(state.state, "queued");
            assert_eq!(state.next_attempt_at, at + retry_delay_secs(attempt));
            // Not before its time.
            let early = deliver_due(&db.store, &mailer, state.next_attempt_at - 1)
                .await
                .unwrap();
            assert_eq!(early.claimed(), 0);
            at = state.next_attempt_at;
        } else {
            assert_eq!(round.failed, 1);
            assert_eq!(state.state, "failed");
        }
    }
    assert_eq!(
        deliver_due(&db.store, &mailer, at + 100_000)
            .await
            .unwrap()
            .claimed(),
        0,
        "a failed mail is not tried again"
    );
}

#[tokio::test]
async fn mail_older_than_three_days_is_given_up_unsent() {
    if !peer_available() {
        return;
    }
    let peer = Peer::start("plain");
    let db = TestDatabase::create().await;
    let ws = workspace(&db.store).await;
    queue(
        &db.store,
        ws,
        "old@acme.test",
        "Reset your password",
        "A stale link",
    )
    .await;
    let mailer = relay(peer.port);
    let round = deliver_due(&db.store, &mailer, now() + MAX_AGE_SECS + 60)
        .await
        .unwrap();
    assert_eq!(round.failed, 1);
    assert!(peer.received().is_empty());
    let state = &states(&db.store, "old@acme.test").await[0];
    assert!(
        state
            .last_error
            .as_deref()
            .unwrap()
            .contains("within 3 days")
    );
}

#[tokio::test]
async fn two_deliverers_at_once_send_every_mail_exactly_once() {
    if !peer_available() {
        return;
    }
    let peer = Peer::start("plain");
    let db = TestDatabase::create().await;
    let ws = workspace(&db.store).await;
    for i in 0..45 {
        queue(
            &db.store,
            ws,
            &format!("user{i:02}@acme.test"),
            &format!("Mail {i:02}"),
            "Hello",
        )
        .await;
    }
    let mailer = relay(peer.port);
    // Two instances: two handles on the same database, delivering at the same time.
    let other = db.store.clone();
    let mut sent = 0;
    for _ in 0..10 {
        let (a, b) = tokio::join!(
            deliver_due(&db.store, &mailer, now()),
            deliver_due(&other, &mailer, now())
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        sent += a.sent + b.sent;
        if a.claimed() + b.claimed() == 0 {
            break;
        }
    }
    assert_eq!(sent, 45);
    // Give the server a moment to finish writing what it accepted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut subjects: Vec<String> = peer
        .received()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 45, "each mail once");
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 45, "no mail twice");
}

#[tokio::test]
async fn a_claim_that_outlived_its_lease_cannot_overwrite_the_next_ones_outcome() {
    if !peer_available() {
        return;
    }
    let peer = Peer::start("plain");
    let db = TestDatabase::create().await;
    let ws = workspace(&db.store).await;
    queue(&db.store, ws, "slow@acme.test", "Hello", "Hello").await;
    // An instance claims the mail, then stalls past its lease.
    let mut tx = db.store.system_unscoped().await.unwrap();
    let stalled = tx
        .claim_due_mail(now(), now() + 600, 5, "stalled-claim")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stalled.len(), 1);
    let mailer = relay(peer.port);
    // Not before the lease runs out…
    assert_eq!(
        deliver_due(&db.store, &mailer, now() + 60)
            .await
            .unwrap()
            .claimed(),
        0
    );
    // …then another instance takes it up and sends it.
    let round = deliver_due(&db.store, &mailer, now() + 601).await.unwrap();
    assert_eq!(round.sent, 1);
    // The stalled instance's late outcome changes nothing.
    let mut tx = db.store.system_unscoped().await.unwrap();
    assert!(
        !tx.mail_attempt_failed(&stalled[0].id, "stalled-claim", "timed out", Some(now()))
            .await
            .unwrap()
    );
    assert!(
        !tx.mail_sent(&stalled[0].id, "stalled-claim", now())
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let state = &states(&db.store, "slow@acme.test").await[0];
    assert_eq!(state.state, "sent");
    assert_eq!(peer.received().len(), 1);
}

#[tokio::test]
async fn a_stopping_deliverer_gives_its_unsent_mail_back() {
    if !peer_available() {
        return;
    }
    let db = TestDatabase::create().await;
    let ws = workspace(&db.store).await;
    queue(&db.store, ws, "later@acme.test", "Hello", "Hello").await;
    let mailer = relay(free_port());
    let round = portico_mail::deliver_due_until(&db.store, &mailer, now(), &|| true)
        .await
        .unwrap();
    assert_eq!(round.claimed(), 0);
    let state = &states(&db.store, "later@acme.test").await[0];
    assert_eq!((state.state.as_str(), state.attempts), ("queued", 0));
    assert!(state.last_error.is_none());
}
