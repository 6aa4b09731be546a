//! For tests: a real authoritative DNS server (NSD, Debian's package `nsd`) serving the zones a
//! test gives it, on a loopback port of its own, stopped when dropped. Without NSD the tests
//! that need it are skipped, unless `PORTICO_DNS_TESTS=required` (as in CI), which fails them.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NSD: &str = "/usr/sbin/nsd";

/// A running NSD.
pub struct NsdServer {
    child: Child,
    dir: PathBuf,
    pub address: SocketAddr,
}

impl NsdServer {
    /// Serves `zones` (each a zone's name and its zone file's text, `$ORIGIN` and all), or
    /// `None` when NSD is not installed and not required.
    pub fn start(zones: &[(&str, String)]) -> Option<NsdServer> {
        if !std::path::Path::new(NSD).exists() {
            assert!(
                std::env::var("PORTICO_DNS_TESTS").as_deref() != Ok("required"),
                "NSD is required (PORTICO_DNS_TESTS=required) but {NSD} is not installed"
            );
            eprintln!("skipping a DNS test: NSD ({NSD}, Debian package nsd) is not installed");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "portico-nsd-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("a directory for NSD");
        for (name, text) in zones {
            std::fs::write(dir.join(format!("{name}.zone")), text).expect("a zone file");
        }
        // A port free now may be taken (by another test's TCP connection) before NSD binds
        // it, so a start that fails is tried again on another port.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let d = dir.display();
            let mut config = format!(
                "server:\n  ip-address: 127.0.0.1@{port}\n  username: \"\"\n  chroot: \"\"\n  \
                 zonesdir: \"{d}\"\n  database: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  \
                 xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
                 logfile: \"{d}/nsd.log\"\n  server-count: 1\n  do-ip6: no\n  verbosity: 1\n\
                 remote-control:\n  control-enable: no\n"
            );
            for (name, _) in zones {
                config.push_str(&format!("zone:\n  name: {name}\n  zonefile: {name}.zone\n"));
            }
            std::fs::write(dir.join("nsd.conf"), config).expect("NSD's configuration");
            let _ = std::fs::remove_file(dir.join("nsd.log"));
            let mut child = Command::new(NSD)
                .args(["-d", "-c"])
                .arg(dir.join("nsd.conf"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("NSD starts");
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            let zone = zones.first().map(|(n, _)| *n).unwrap_or(".");
            if wait_ready(&mut child, address, zone) {
                return Some(NsdServer {
                    child,
                    dir,
                    address,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(dir.join("nsd.log")).unwrap_or_default();
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("NSD did not start in five attempts; its last log: {last_log}");
    }
}

/// Waits until NSD answers a query for `zone`'s SOA; false when it exits or stays silent for
/// 10 s.
fn wait_ready(child: &mut Child, address: SocketAddr, zone: &str) -> bool {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut query = vec![0x50, 0x54, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in zone.split('.').filter(|l| !l.is_empty()) {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 6, 0, 1]);
    let started = Instant::now();
    let mut answer = [0u8; 512];
    while started.elapsed() < Duration::from_secs(10) {
        if socket.send_to(&query, address).is_ok() && socket.recv(&mut answer).is_ok_and(|n| n > 12)
        {
            return true;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Drop for NsdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port that neither UDP nor TCP holds now (NSD binds both).
fn free_port() -> u16 {
    loop {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free port")
            .port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

/// A zone file for `name` with its SOA and NS, followed by `records` (relative names).
pub fn zone(name: &str, records: &str) -> String {
    format!(
        "$ORIGIN {name}.\n$TTL 60\n@ IN SOA ns.{name}. hostmaster.{name}. 1 3600 600 86400 60\n\
         @ IN NS ns.{name}.\nns IN A 127.0.0.1\n{records}\n"
    )
}
