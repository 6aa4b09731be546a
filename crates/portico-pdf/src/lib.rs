//! Portico's documents as PDF, laid out in-process by the typst engine (tables that break
//! across pages with their header repeated, the workspace's logo and colour) with fonts built
//! into the binary, so that a PDF looks the same on every machine and needs nothing installed.
//!
//! The layout is a fixed typst file; everything shown arrives as data (`sys.inputs`), never as
//! typst source, so nothing a user typed can change the document's structure.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic, Warned};
use typst::foundations::{Array, Bytes, Datetime, Dict, Duration, IntoValue, Str, Value};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

/// A logo's image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoFormat {
    Png,
    Svg,
}

/// The workspace's brand as an invoice shows it.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    /// `#rrggbb`.
    pub primary_color: String,
    pub logo: Option<(Vec<u8>, LogoFormat)>,
}

/// One line of an invoice, every figure already written for people.
#[derive(Debug, Clone)]
pub struct LineText {
    pub description: String,
    pub quantity: String,
    pub unit: String,
    pub tax: String,
    pub amount: String,
}

/// An invoice as its PDF shows it.
#[derive(Debug, Clone)]
pub struct InvoiceText {
    /// `Invoice`, or `Void invoice`.
    pub heading: String,
    pub number: String,
    pub status: String,
    pub issued_on: String,
    pub due_on: String,
    /// The company's name, then its address lines.
    pub bill_to: Vec<String>,
    pub currency: String,
    pub lines: Vec<LineText>,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    pub notes: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the document could not be laid out: {0}")]
    Layout(String),
    #[error("the PDF could not be written: {0}")]
    Export(String),
}

const INVOICE: &str = include_str!("invoice.typ");

/// The fonts built into the binary, read once.
static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
});

/// The one file a document is compiled from. File ids are interned for the process's life, so
/// the same path is used for every document.
static MAIN: LazyLock<FileId> = LazyLock::new(|| {
    RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new("main.typ").expect("a valid path"),
    )
    .intern()
});

/// A world of one source file and its inputs: no file system, no packages, no clock.
struct DocumentWorld {
    library: LazyHash<Library>,
    main: Source,
}

impl World for DocumentWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_owned()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    // Documents carry their dates as inputs; the layout never asks for today.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn text(value: &str) -> Value {
    Str::from(value).into_value()
}

fn dict<const N: usize>(pairs: [(&str, Value); N]) -> Dict {
    let mut dict = Dict::new();
    for (key, value) in pairs {
        dict.insert(Str::from(key), value);
    }
    dict
}

/// An invoice as a PDF.
pub fn invoice_pdf(brand: &Brand, invoice: &InvoiceText) -> Result<Vec<u8>, PdfError> {
    let lines: Array = invoice
        .lines
        .iter()
        .map(|l| {
            dict([
                ("description", text(&l.description)),
                ("quantity", text(&l.quantity)),
                ("unit", text(&l.unit)),
                ("tax", text(&l.tax)),
                ("amount", text(&l.amount)),
            ])
            .into_value()
        })
        .collect();
    let bill_to: Array = invoice.bill_to.iter().map(|l| text(l)).collect();
    let (logo, logo_format) = match &brand.logo {
        Some((data, format)) => (
            Bytes::new(data.clone()).into_value(),
            text(match format {
                LogoFormat::Png => "png",
                LogoFormat::Svg => "svg",
            }),
        ),
        None => (Value::None, text("png")),
    };
    let inputs = dict([
        ("brand_name", text(&brand.name)),
        ("primary", text(&brand.primary_color)),
        ("logo", logo),
        ("logo_format", logo_format),
        (
            "title",
            text(&format!("{} {}", invoice.heading, invoice.number)),
        ),
        ("heading", text(&invoice.heading)),
        ("number", text(&invoice.number)),
        ("status", text(&invoice.status)),
        ("issued_on", text(&invoice.issued_on)),
        ("due_on", text(&invoice.due_on)),
        ("bill_to", bill_to.into_value()),
        ("currency", text(&invoice.currency)),
        ("lines", lines.into_value()),
        ("subtotal", text(&invoice.subtotal)),
        ("tax", text(&invoice.tax)),
        ("total", text(&invoice.total)),
        ("notes", text(&invoice.notes)),
    ]);
    render(INVOICE, inputs)
}

fn render(layout: &str, inputs: Dict) -> Result<Vec<u8>, PdfError> {
    let world = DocumentWorld {
        library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
        main: Source::new(*MAIN, layout.to_owned()),
    };
    let Warned { output, .. } = typst::compile::<PagedDocument>(&world);
    let document = output.map_err(|errors| PdfError::Layout(messages(&errors)))?;
    let pdf = typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|errors| PdfError::Export(messages(&errors)));
    // Each document is new: keep the engine's memoised work from growing without bound.
    typst::comemo::evict(2);
    pdf
}

fn messages(errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(lines: usize) -> InvoiceText {
        InvoiceText {
            heading: "Invoice".into(),
            number: "INV-0042".into(),
            status: "Sent".into(),
            issued_on: "3 Dec 2026".into(),
            due_on: "17 Dec 2026".into(),
            bill_to: vec!["Acme #Dental *bold* $x$ <b>".into(), "1 Harbour St".into()],
            currency: "AUD".into(),
            lines: (0..lines)
                .map(|i| LineText {
                    description: format!("Line {i} #set page(width: 1cm)"),
                    quantity: "1".into(),
                    unit: "$10.00".into(),
                    tax: "10%".into(),
                    amount: "$10.00".into(),
                })
                .collect(),
            subtotal: "$10.00".into(),
            tax: "$1.00".into(),
            total: "$11.00".into(),
            notes: String::new(),
        }
    }

    #[test]
    fn an_invoice_is_a_pdf_whatever_its_text_holds() {
        let brand = Brand {
            name: "Northwind IT".into(),
            primary_color: "#1d4ed8".into(),
            logo: None,
        };
        let pdf = invoice_pdf(&brand, &invoice(3)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
