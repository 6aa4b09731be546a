//! The web layer holds no escape hatch: it never names the store's unfenced system handle, its
//! seeders or test hooks, and never builds a principal (only the store does, from a session).
//! The compiler enforces the first part too (`portico-web` does not enable the store's `system`
//! feature, and `.ci/run` builds it alone); this test names the rule and covers the second.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "system_unscoped",
    "SystemTx",
    "portico_store::system",
    "portico_store::scale",
    "portico_store::demo",
    "test_support",
    "StaffPrincipal::new",
    "PortalPrincipal::new",
    "PortalGrant",
];

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn the_web_layer_names_no_escape_hatch_and_builds_no_principal() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    sources(&root.join("templates"), &mut files);
    assert!(files.len() > 20, "the sources were found");
    let mut found = Vec::new();
    for (path, text) in &files {
        for (n, line) in text.lines().enumerate() {
            for name in FORBIDDEN {
                if line.contains(name) {
                    found.push(format!("{path}:{}: {name}", n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
