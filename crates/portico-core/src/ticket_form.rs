//! The ticket submission form: custom fields as the MSP designs them, and the one function that
//! turns what a client typed into the value stored with the ticket.

use crate::roles::text_enum;

text_enum!(
    /// The kinds of custom field a form may ask.
    FieldKind {
        Text => "text", "Short text";
        LongText => "long_text", "Long text";
        Number => "number", "Number";
        Select => "select", "Choose one";
        MultiSelect => "multi_select", "Choose several";
        Checkbox => "checkbox", "Checkbox";
        Date => "date", "Date";
    }
);

/// The options of a choice field as the designer takes them: one per line, trimmed, blank lines
/// left out.
pub fn option_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

impl FieldKind {
    /// Whether the field offers a list of options.
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::MultiSelect)
    }
}

/// One custom field of a submission form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub help: String,
    pub options: Vec<String>,
}

const MAX_TEXT: usize = 200;
const MAX_LONG_TEXT: usize = 5000;

impl FormField {
    /// Checks the submitted values of this field (several only for multi-select) and returns
    /// the text to store; `""` means unanswered. The error is a sentence for the person filling
    /// the form in.
    pub fn accept(&self, submitted: &[&str]) -> Result<String, String> {
        let first = submitted.first().map(|v| v.trim()).unwrap_or("");
        let value = match self.kind {
            FieldKind::Text | FieldKind::LongText => {
                let max = if self.kind == FieldKind::Text {
                    MAX_TEXT
                } else {
                    MAX_LONG_TEXT
                };
                if first.chars().count() > max {
                    return Err(format!("{} is longer than {max} characters.", self.label));
                }
                let allowed = |c: char| {
                    !c.is_control()
                        || (self.kind == FieldKind::LongText
                            && (c == '\n' || c == '\r' || c == '\t'))
                };
                if !first.chars().all(allowed) {
                    return Err(format!(
                        "{} contains characters that cannot be stored.",
                        self.label
                    ));
                }
                first.to_owned()
            }
            FieldKind::Number => {
                if first.is_empty() {
                    String::new()
                } else {
                    match first.parse::<f64>() {
                        Ok(n) if n.is_finite() && first.len() <= 32 => first.to_owned(),
                        _ => return Err(format!("{} must be a number.", self.label)),
                    }
                }
            }
            FieldKind::Select => {
                if first.is_empty() {
                    String::new()
                } else if self.options.iter().any(|o| o == first) {
                    first.to_owned()
                } else {
                    return Err(format!(
                        "Choose one of the listed options for {}.",
                        self.label
                    ));
                }
            }
            FieldKind::MultiSelect => {
                let mut chosen: Vec<&str> = Vec::new();
                for v in submitted.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
                    if !self.options.iter().any(|o| o == v) {
                        return Err(format!("Choose only listed options for {}.", self.label));
                    }
                    if !chosen.contains(&v) {
                        chosen.push(v);
                    }
                }
                // Stored in the form's order, one per line, whatever order the browser sent.
                self.options
                    .iter()
                    .filter(|o| chosen.contains(&o.as_str()))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            FieldKind::Checkbox => {
                if first.is_empty() {
                    String::new()
                } else {
                    "Yes".to_owned()
                }
            }
            FieldKind::Date => {
                if first.is_empty() {
                    String::new()
                } else if valid_date(first) {
                    first.to_owned()
                } else {
                    return Err(format!("{} must be a date (YYYY-MM-DD).", self.label));
                }
            }
        };
        if self.required && value.is_empty() {
            return Err(if self.kind == FieldKind::Checkbox {
                format!("Tick {} to continue.", self.label)
            } else {
                format!("{} is required.", self.label)
            });
        }
        Ok(value)
    }
}

/// `YYYY-MM-DD`, a real calendar day between 1900 and 2999.
fn valid_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        text.get(range)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u32>().ok())
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2999).contains(&year) && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind, required: bool) -> FormField {
        FormField {
            id: "f".into(),
            label: "Device".into(),
            kind,
            required,
            help: String::new(),
            options: vec!["Laptop".into(), "Phone".into(), "Printer".into()],
        }
    }

    #[test]
    fn required_fields_refuse_blank_answers() {
        for kind in FieldKind::ALL {
            let f = field(*kind, true);
            assert!(f.accept(&[]).is_err(), "{kind:?}");
            assert!(f.accept(&["  "]).is_err(), "{kind:?}");
            assert_eq!(field(*kind, false).accept(&[]), Ok(String::new()));
        }
    }

    #[test]
    fn choices_must_come_from_the_options() {
        assert_eq!(
            field(FieldKind::Select, true).accept(&["Phone"]),
            Ok("Phone".into())
        );
        assert!(field(FieldKind::Select, true).accept(&["Tablet"]).is_err());
        assert_eq!(
            field(FieldKind::MultiSelect, false).accept(&["Printer", "Laptop", "Printer"]),
            Ok("Laptop\nPrinter".into())
        );
        assert!(
            field(FieldKind::MultiSelect, false)
                .accept(&["Laptop", "Fax"])
                .is_err()
        );
    }

    #[test]
    fn numbers_dates_and_checkboxes_are_checked() {
        assert_eq!(
            field(FieldKind::Number, true).accept(&["12.5"]),
            Ok("12.5".into())
        );
        assert!(field(FieldKind::Number, true).accept(&["twelve"]).is_err());
        assert!(field(FieldKind::Number, true).accept(&["inf"]).is_err());
        assert_eq!(
            field(FieldKind::Date, true).accept(&["2024-02-29"]),
            Ok("2024-02-29".into())
        );
        assert!(
            field(FieldKind::Date, true)
                .accept(&["2023-02-29"])
                .is_err()
        );
        assert!(
            field(FieldKind::Date, true)
                .accept(&["29/02/2024"])
                .is_err()
        );
        assert_eq!(
            field(FieldKind::Checkbox, true).accept(&["1"]),
            Ok("Yes".into())
        );
    }

    #[test]
    fn text_is_limited_and_single_line_unless_long() {
        let long = "x".repeat(MAX_TEXT + 1);
        assert!(field(FieldKind::Text, true).accept(&[&long]).is_err());
        assert!(field(FieldKind::Text, true).accept(&["a\nb"]).is_err());
        assert_eq!(
            field(FieldKind::LongText, true).accept(&["a\nb"]),
            Ok("a\nb".into())
        );
    }
}
