//! Invoices through HTTP: billing staff draft one (a refused draft keeps every line typed),
//! send it, and the billing-entitled client admin finds it on the portal with its PDF; drafts
//! never reach the portal; those without billing access are refused. The PDF is rendered to
//! images with Debian's pdftoppm and looked at: every page drawn, the brand's colour on the
//! first, the table carried over the page break. Without poppler-utils the PDF checks are
//! skipped unless `PORTICO_PDF_TESTS=required`.

mod common;

use std::process::Command;

use common::{CONSOLE, PORTAL, TestApp, Who};

fn poppler() -> bool {
    let found = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var("PORTICO_PDF_TESTS").as_deref() != Ok("required"),
            "pdftoppm is required (PORTICO_PDF_TESTS=required) but not installed"
        );
        eprintln!("skipping the PDF checks: pdftoppm (poppler-utils) is not installed");
    }
    found
}

/// A binary PPM (P6) page: width, height and RGB bytes.
fn read_ppm(bytes: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..at]).unwrap().to_owned());
    }
    assert_eq!(fields[0], "P6");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, &bytes[at + 1..])
}

#[tokio::test]
async fn billing_staff_send_an_invoice_the_client_admin_downloads_as_a_branded_pdf() {
    let app = TestApp::spawn().await;
    let billing = app.session_for(Who::Billing).await.unwrap();
    let csrf = app.csrf(Who::Billing, Some(&billing)).await;
    let company = app.fx.company_a;

    // Sixty lines: more than a page holds. The third is refused; everything comes back.
    let descriptions: Vec<String> = (1..=60)
        .map(|n| format!("Managed workstation {n:02} — December"))
        .collect();
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", csrf.as_str()),
        ("issued_on", "2026-12-01"),
        ("due_on", "2026-12-15"),
        (
            "notes",
            "Pay by bank transfer to BSB 062-000, account 1234 5678.",
        ),
    ];
    for (n, description) in descriptions.iter().enumerate() {
        form.push(("line_description", description));
        form.push(("line_quantity", if n == 2 { "lots" } else { "1" }));
        form.push(("line_unit_price", "45.50"));
        form.push(("line_tax_rate", "10"));
    }
    let refused = app
        .post(CONSOLE, &format!("/companies/{company}/invoices"))
        .session(Some(&billing))
        .form(&form)
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Line 3:"));
    assert!(refused.body.contains("value=\"lots\""));
    assert!(refused.body.contains("Managed workstation 60 — December"));
    // The third line's quantity: after the four fields above, four a line.
    form[4 + 2 * 4 + 1] = ("line_quantity", "1");
    let quantity_of_third = form
        .iter()
        .filter(|(k, _)| *k == "line_quantity")
        .nth(2)
        .unwrap()
        .1;
    assert_eq!(quantity_of_third, "1");
    let created = app
        .post(CONSOLE, &format!("/companies/{company}/invoices"))
        .session(Some(&billing))
        .form(&form)
        .send()
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let invoice = created
        .location()
        .split('/')
        .nth(4)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    // A draft is the MSP's own.
    let admin = app.session_for(Who::ClientAdmin).await.unwrap();
    let draft = app
        .get(PORTAL, &format!("/invoices/{invoice}"))
        .session(Some(&admin))
        .send()
        .await;
    assert_eq!(draft.status, 404);

    let sent = app
        .post(
            CONSOLE,
            &format!("/companies/{company}/invoices/{invoice}/status"),
        )
        .session(Some(&billing))
        .form(&[("csrf", csrf.as_str()), ("action", "send")])
        .send()
        .await;
    assert_eq!(sent.status, 303);
    // 60 × 45.50 = 2,730.00 plus 10% tax.
    let list = app
        .get(PORTAL, "/invoices")
        .session(Some(&admin))
        .send()
        .await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("AUD 3,003.00"), "{}", list.body);
    assert!(
        list.body
            .contains(&format!("href=\"/invoices/{invoice}\">INV-"))
    );
    let page = app
        .get(PORTAL, &format!("/invoices/{invoice}"))
        .session(Some(&admin))
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("AUD 273.00"));
    // Once sent, it is not changed.
    let change = app
        .post(CONSOLE, &format!("/companies/{company}/invoices/{invoice}"))
        .session(Some(&billing))
        .form(&form)
        .send()
        .await;
    assert_eq!(change.status, 400);

    // Those without billing access: refused on the console, not found on the portal.
    let tech = app.session_for(Who::TechnicianAssigned).await.unwrap();
    let refused = app
        .get(
            CONSOLE,
            &format!("/companies/{company}/invoices/{invoice}/pdf"),
        )
        .session(Some(&tech))
        .send()
        .await;
    assert_eq!(refused.status, 403);
    let member = app.session_for(Who::Member).await.unwrap();
    let hidden = app
        .get(PORTAL, &format!("/invoices/{invoice}/pdf"))
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(hidden.status, 404);

    // The PDF, as the client admin downloads it.
    let (status, body) = app
        .get(PORTAL, &format!("/invoices/{invoice}/pdf"))
        .session(Some(&admin))
        .stream()
        .await;
    assert_eq!(status, 200);
    let pdf = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    if !poppler() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("INV-"), "{text}");
    assert!(text.contains("CANARY-NAME-A"), "{text}");
    assert!(text.contains("Managed workstation 60"), "{text}");
    assert!(text.contains("3,003.00"), "{text}");
    assert!(text.contains("BSB 062-000"), "{text}");
    let rendered = Command::new("pdftoppm")
        .args(["-r", "40"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .status()
        .unwrap();
    assert!(rendered.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ppm"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 2, "sixty lines fit on one page?");
    for (n, page) in pages.iter().enumerate() {
        let bytes = std::fs::read(page).unwrap();
        let (w, h, rgb) = read_ppm(&bytes);
        assert!(w > 300 && h > 400, "page {n} is {w}×{h}");
        let inked = rgb.chunks(3).filter(|p| p.iter().any(|c| *c < 200)).count();
        assert!(inked > 500, "page {n} is blank");
        // The workspace's primary colour (#1d4ed8) in the heading and the table's rules.
        let brand = rgb
            .chunks(3)
            .filter(|p| p[2] > 150 && p[0] < 90 && p[1] < 120)
            .count();
        if n == 0 {
            assert!(brand > 50, "no brand colour on the first page");
        }
    }
    // The header row repeats on the page the table continues on.
    let second = Command::new("pdftotext")
        .args(["-f", "2", "-l", "2"])
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&second.stdout).contains("Unit price"));
}
