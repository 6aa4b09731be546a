//! Compliance scorecards (P6) as both surfaces show them: the framework's headline (a maturity
//! level, or safeguards met), each control with its requirements' standing and why, and the
//! history of recorded assessments.

use std::sync::Arc;

use portico_core::compliance::{Scoring, Source, Status};
use portico_store::scoped::compliance::{Assessment, Scorecard};

/// A framework's scorecard on a page.
pub(crate) struct ScorecardView {
    pub(crate) framework: &'static str,
    pub(crate) name: &'static str,
    pub(crate) source: &'static str,
    /// "Maturity level 1", "34 of 55 applicable safeguards met".
    pub(crate) headline: String,
    pub(crate) percent: u8,
    pub(crate) met: usize,
    pub(crate) not_met: usize,
    pub(crate) not_assessed: usize,
    pub(crate) not_applicable: usize,
    /// The assessment shown: when, by whom (none: judged now).
    pub(crate) assessment: Option<Assessment>,
    pub(crate) controls: Vec<ControlView>,
    pub(crate) history: Vec<Assessment>,
    pub(crate) maturity: bool,
}

/// A strategy or control.
pub(crate) struct ControlView {
    pub(crate) name: &'static str,
    /// "Level 2", "3 of 4 met".
    pub(crate) standing: String,
    pub(crate) tone: &'static str,
    pub(crate) requirements: Vec<RequirementRow>,
}

/// A requirement's line.
pub(crate) struct RequirementRow {
    pub(crate) id: &'static str,
    pub(crate) level: u8,
    pub(crate) text: &'static str,
    pub(crate) status: &'static str,
    pub(crate) tone: &'static str,
    /// Who judged it, in words (shared by the card's lines: one allocation, not one per line).
    pub(crate) judged_by: Arc<str>,
    pub(crate) detail: String,
}

/// A standing's badge tone.
pub(crate) fn status_tone(status: Status) -> &'static str {
    match status {
        Status::Met => "ok",
        Status::NotMet => "bad",
        // Nothing to meet: neutral. Not yet judged: a gap to close.
        Status::NotApplicable => "",
        Status::NotAssessed => "warn",
    }
}

/// `card` as a page shows it; `brand` names who judged what the records could not.
pub(crate) fn view(mut card: Scorecard, brand: &str) -> ScorecardView {
    let framework = card.framework;
    let maturity = framework.scoring == Scoring::Maturity;
    let score = &card.score;
    let headline = match score.level {
        Some(level) => format!("Maturity level {level}"),
        None => format!(
            "{} of {} applicable safeguards met",
            score.met,
            score.met + score.not_met + score.not_assessed
        ),
    };
    // Each requirement's finding found in one pass; each detail moved to its line, not copied.
    let mut details: Vec<String> = card
        .findings
        .iter_mut()
        .map(|f| std::mem::take(&mut f.detail))
        .collect();
    let placed = framework.placed(&card.findings);
    let mut places = placed.iter();
    let (from_records, by_staff, by_nobody): (Arc<str>, Arc<str>, Arc<str>) = (
        "From the records".into(),
        format!("Judged by {brand}").into(),
        "".into(),
    );
    let controls = framework
        .controls
        .iter()
        .zip(&score.controls)
        .map(|(control, cs)| {
            let (standing, tone) = if maturity {
                (
                    format!("Level {}", cs.level),
                    match cs.level {
                        0 => "bad",
                        1 | 2 => "warn",
                        _ => "ok",
                    },
                )
            } else {
                (
                    if cs.applicable == 0 {
                        "Not applicable".to_owned()
                    } else {
                        format!("{} of {} met", cs.met, cs.applicable)
                    },
                    if cs.applicable == 0 {
                        ""
                    } else if cs.applicable == cs.met {
                        "ok"
                    } else if cs.not_met > 0 {
                        "bad"
                    } else {
                        "warn"
                    },
                )
            };
            let requirements = control
                .requirements
                .iter()
                .map(|r| {
                    let found = places.next().copied().flatten();
                    let finding = found.map(|i| &card.findings[i]);
                    let status = finding.map_or(Status::NotAssessed, |f| f.status);
                    RequirementRow {
                        id: &r.id,
                        level: r.level,
                        text: &r.text,
                        status: status.label(),
                        tone: status_tone(status),
                        judged_by: match finding.map(|f| f.source) {
                            Some(Source::Records) => from_records.clone(),
                            Some(Source::Staff) => by_staff.clone(),
                            _ => by_nobody.clone(),
                        },
                        detail: found
                            .map(|i| std::mem::take(&mut details[i]))
                            .unwrap_or_default(),
                    }
                })
                .collect();
            ControlView {
                name: &control.name,
                standing,
                tone,
                requirements,
            }
        })
        .collect();
    ScorecardView {
        framework: &framework.id,
        name: &framework.name,
        source: &framework.source,
        headline,
        percent: score.percent,
        met: score.met,
        not_met: score.not_met,
        not_assessed: score.not_assessed,
        not_applicable: score.not_applicable,
        assessment: card.assessment,
        controls,
        history: card.history,
        maturity,
    }
}
