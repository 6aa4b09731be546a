//! Schemathesis against the API over loopback, from its own OpenAPI description, with two
//! read-write tokens of two companies: every check it has (no server error, every answer as
//! the description says in status, headers, type and body, bad input refused, good input
//! accepted) and its object-level authorization check, which replays what one token made or
//! listed with the other's token.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::{CONSOLE, TestApp};
use portico_web::WebConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_fault_and_no_company_reaching_another() {
    let Some(schemathesis) = tokio::task::spawn_blocking(common::schemathesis)
        .await
        .unwrap()
    else {
        return;
    };
    // The budget is not what is under test here (`tests/api.rs` spends one).
    let app = TestApp::spawn_with(WebConfig {
        api_requests_per_minute: 1_000_000,
        ..WebConfig::default()
    })
    .await;
    let a = app.api_token(Some(app.fx.company_a), "read_write").await;
    let b = app.api_token(Some(app.fx.company_b), "read_write").await;
    let description = app.get(CONSOLE, "/api/v1/openapi.json").send().await;
    assert_eq!(description.status, 200);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });

    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("openapi.json");
    std::fs::write(&schema, &description.body).unwrap();
    let users = serde_json::json!({
        "auth": [
            { "name": "company_a", "fixedHeaders": [{ "name": "Authorization", "value": format!("Bearer {a}") }] },
            { "name": "company_b", "fixedHeaders": [{ "name": "Authorization", "value": format!("Bearer {b}") }] },
        ]
    });
    let wfc = dir.path().join("users.json");
    std::fs::write(&wfc, users.to_string()).unwrap();
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemathesis/schemathesis.toml");

    let work = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .env("PORTICO_FUZZ_USERS", &wfc)
            .arg("--config-file")
            .arg(&config)
            .arg("run")
            .arg(&schema)
            .args(["--url", &format!("http://127.0.0.1:{port}")])
            // The console is chosen by its host name, as in production.
            .args(["--header", &format!("Host: {CONSOLE}:8080")])
            .args(["--checks", "all"])
            .args(["--phases", "examples,coverage,fuzzing,stateful"])
            .args([
                "--max-examples",
                "25",
                "--seed",
                "20261204",
                "--workers",
                "1",
            ])
            .args(["--generation-database", "none", "--no-color"])
            .args(["--request-timeout", "10"])
            .current_dir(&work)
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found faults:\n{text}"
    );
    // Its summary, for the log.
    if let Some(at) = text.find("SUMMARY") {
        eprintln!("{}", &text[at..]);
    }
    // It ran the operations, not nothing.
    assert!(text.contains("passed"), "{text}");
}
