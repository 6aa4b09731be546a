//! A queued mail made into a message: the plain text as written, and an HTML part in the
//! workspace's brand (its logo or name, its colour), with links made clickable. The text is
//! escaped by the template; nothing in it becomes markup.

use askama::Template;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use portico_store::delivery::{DueMail, MailBrand};

use crate::MailConfig;

/// A run of text, or a link.
enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

#[derive(Template)]
#[template(path = "mail.html")]
struct HtmlMail<'a> {
    brand: &'a MailBrand,
    colour: &'a str,
    subject: &'a str,
    has_logo: bool,
    /// Paragraphs, of lines, of segments.
    paragraphs: Vec<Vec<Vec<Segment<'a>>>>,
}

/// Splits a line into text and `http(s)://` links (up to the next space; a trailing full stop,
/// comma or closing bracket stays text).
fn segments(line: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = ["https://", "http://"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        if at > 0 {
            out.push(Segment::Text(&rest[..at]));
        }
        let tail = &rest[at..];
        let mut end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        while end > 0 && tail[..end].ends_with(['.', ',', ')', ';', ':', '"']) {
            end -= 1;
        }
        out.push(Segment::Link(&tail[..end]));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push(Segment::Text(rest));
    }
    out
}

/// A colour the branding page accepted (`#rrggbb`), else a neutral one.
fn safe_colour(colour: &str) -> &str {
    let ok = colour.len() == 7
        && colour.starts_with('#')
        && colour[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok { colour } else { "#1a73e8" }
}

/// The message for `mail`, from the workspace's name at the configured address.
pub fn compose(
    brand: &MailBrand,
    config: &MailConfig,
    mail: &DueMail,
) -> Result<Message, Box<dyn std::error::Error + Send + Sync>> {
    let paragraphs = mail
        .body
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.lines().map(segments).collect())
        .collect();
    let html = HtmlMail {
        brand,
        colour: safe_colour(&brand.primary_color),
        subject: &mail.subject,
        has_logo: brand.logo_png.is_some(),
        paragraphs,
    }
    .render()?;
    let from = Mailbox::new(Some(brand.name.clone()), config.from.parse()?);
    let to: Mailbox = mail.to_address.parse()?;
    let html_part = SinglePart::html(html);
    let rich = match &brand.logo_png {
        Some(png) => MultiPart::related().singlepart(html_part).singlepart(
            Attachment::new_inline("logo".to_owned())
                .body(png.clone(), ContentType::parse("image/png")?),
        ),
        None => MultiPart::related().singlepart(html_part),
    };
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(mail.body.clone()))
        .multipart(rich);
    // The Message-ID names the sender's domain, not this machine's host name.
    let domain = config.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let message_id = format!("<{}@{domain}>", portico_core::MessageId::new().as_text());
    Ok(Message::builder()
        .message_id(Some(message_id))
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .multipart(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_and_their_trailing_punctuation_left_as_text() {
        let parts = segments("Open it: https://p.test/tickets/1. Or http://x.test/a?b=c");
        let shown: Vec<String> = parts
            .iter()
            .map(|s| match s {
                Segment::Text(t) => format!("T[{t}]"),
                Segment::Link(l) => format!("L[{l}]"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "T[Open it: ]",
                "L[https://p.test/tickets/1]",
                "T[. Or ]",
                "L[http://x.test/a?b=c]"
            ]
        );
    }

    #[test]
    fn only_plain_colours_reach_the_style() {
        assert_eq!(safe_colour("#12ab34"), "#12ab34");
        assert_eq!(safe_colour("red;background:url(x)"), "#1a73e8");
    }
}
