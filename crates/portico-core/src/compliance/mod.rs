//! Compliance (P6): frameworks as data (the catalogues in `frameworks/`), each requirement judged
//! by a rule over the company's records where one applies and its facts are known, otherwise by
//! the judgement staff recorded with evidence; a scorecard from those judgements.

mod rules;

use std::sync::LazyLock;

use serde::Deserialize;

pub use rules::{BackupFact, ComputerFact, Facts, Judgement, Rule, UserFact};

/// How a framework is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Maturity levels 1–3 per control, each reached when every requirement up to it is met;
    /// the whole framework's level is its lowest control's (the Essential Eight).
    Maturity,
    /// Each requirement met or not; the score is the share of applicable ones met (CIS).
    Safeguards,
}

/// A compliance framework, as its catalogue file describes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub name: String,
    /// The publication it follows.
    pub source: String,
    pub scoring: Scoring,
    pub controls: Vec<Control>,
    /// Its requirements' ids in id order, each with its place in catalogue order (controls
    /// flattened), so that findings are matched to requirements in one pass ([`Framework::placed`]).
    #[serde(skip)]
    by_id: Vec<(String, usize)>,
}

impl Framework {
    fn parse(text: &str) -> Framework {
        let mut framework: Framework =
            toml::from_str(text).expect("a framework catalogue is valid (tested)");
        let mut by_id: Vec<(String, usize)> = framework
            .controls
            .iter()
            .flat_map(|c| &c.requirements)
            .enumerate()
            .map(|(place, r)| (r.id.clone(), place))
            .collect();
        by_id.sort_unstable();
        framework.by_id = by_id;
        framework
    }

    /// For each requirement, in catalogue order with the controls flattened, the index of its
    /// finding in `findings` (any order; stored ones come in id order). A merge of two sorted
    /// lists: a binary search per requirement, twice per scorecard, was a tenth of the
    /// Compliance page in string compares.
    pub fn placed(&self, findings: &[Finding]) -> Vec<Option<usize>> {
        let mut order: Vec<usize> = (0..findings.len()).collect();
        if !findings.is_sorted_by(|a, b| a.requirement <= b.requirement) {
            order.sort_unstable_by(|&a, &b| findings[a].requirement.cmp(&findings[b].requirement));
        }
        let mut placed = vec![None; self.by_id.len()];
        let (mut i, mut j) = (0, 0);
        while let (Some(&finding), Some((id, place))) = (order.get(i), self.by_id.get(j)) {
            match findings[finding].requirement.as_str().cmp(id.as_str()) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    placed[*place] = Some(finding);
                    i += 1;
                    j += 1;
                }
            }
        }
        placed
    }
}

/// A strategy (Essential Eight) or a control (CIS) and its requirements.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub id: String,
    pub name: String,
    pub requirements: Vec<Requirement>,
}

/// One thing to be true: a maturity level's requirement or a safeguard.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Unique across frameworks (`e8.mfa.1a`, `cis.6.3`): stored with judgements.
    pub id: String,
    /// The maturity level it belongs to (1 for safeguards).
    #[serde(default = "level_one")]
    pub level: u8,
    pub text: String,
    /// How the company's records judge it, where they can.
    pub rule: Option<Rule>,
}

fn level_one() -> u8 {
    1
}

static FRAMEWORKS: LazyLock<Vec<Framework>> = LazyLock::new(|| {
    [
        include_str!("../../frameworks/essential-eight.toml"),
        include_str!("../../frameworks/cis-ig1.toml"),
    ]
    .into_iter()
    .map(Framework::parse)
    .collect()
});

/// Every framework, in the order pages show them.
pub fn frameworks() -> &'static [Framework] {
    &FRAMEWORKS
}

/// The framework with `id`.
pub fn framework(id: &str) -> Option<&'static Framework> {
    frameworks().iter().find(|f| f.id == id)
}

/// The requirement with `id`, with its framework and control.
pub fn requirement(
    id: &str,
) -> Option<(&'static Framework, &'static Control, &'static Requirement)> {
    frameworks().iter().find_map(|f| {
        f.controls.iter().find_map(|c| {
            c.requirements
                .iter()
                .find(|r| r.id == id)
                .map(|r| (f, c, r))
        })
    })
}

/// Where a requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Met,
    NotMet,
    NotApplicable,
    /// Neither a rule nor a current judgement says.
    NotAssessed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::NotMet => "not_met",
            Status::NotApplicable => "not_applicable",
            Status::NotAssessed => "not_assessed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "met" => Status::Met,
            "not_met" => Status::NotMet,
            "not_applicable" => Status::NotApplicable,
            "not_assessed" => Status::NotAssessed,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Met => "Met",
            Status::NotMet => "Not met",
            Status::NotApplicable => "Not applicable",
            Status::NotAssessed => "Not assessed",
        }
    }

    /// Met, or nothing to meet.
    fn satisfied(self) -> bool {
        matches!(self, Status::Met | Status::NotApplicable)
    }
}

/// Who judged a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A rule over the company's records.
    Records,
    /// Staff, with evidence.
    Staff,
    /// Nobody yet.
    None,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Records => "records",
            Source::Staff => "staff",
            Source::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Source> {
        Some(match text {
            "records" => Source::Records,
            "staff" => Source::Staff,
            "none" => Source::None,
            _ => return None,
        })
    }
}

/// A requirement's standing and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub requirement: String,
    pub status: Status,
    pub source: Source,
    /// What the records showed ("46 of 48 users registered"), or staff's note.
    pub detail: String,
}

/// A staff judgement in force (not expired), as the evaluation needs it.
#[derive(Debug, Clone)]
pub struct Judged {
    pub status: Status,
    pub note: String,
}

/// Judges every requirement of `framework`: a rule where its facts are known, else staff's
/// current judgement (`judged` by requirement id), else not assessed.
pub fn evaluate(
    framework: &Framework,
    facts: &Facts,
    judged: &dyn Fn(&str) -> Option<Judged>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for control in &framework.controls {
        for r in &control.requirements {
            let by_rule = r.rule.as_ref().map(|rule| rule.judge(facts));
            let finding = match by_rule {
                Some(Judgement::Met(detail)) => (Status::Met, Source::Records, detail),
                Some(Judgement::NotMet(detail)) => (Status::NotMet, Source::Records, detail),
                Some(Judgement::Unknown) | None => match judged(&r.id) {
                    Some(j) => (j.status, Source::Staff, j.note),
                    None => (Status::NotAssessed, Source::None, String::new()),
                },
            };
            findings.push(Finding {
                requirement: r.id.clone(),
                status: finding.0,
                source: finding.1,
                detail: finding.2,
            });
        }
    }
    findings
}

/// A control's standing on a scorecard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlScore {
    /// The maturity level reached (maturity scoring), 0–3.
    pub level: u8,
    pub met: usize,
    /// Requirements that apply (all but the not applicable).
    pub applicable: usize,
    pub not_met: usize,
    pub not_assessed: usize,
}

/// A framework's scorecard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// Per control, in the framework's order.
    pub controls: Vec<ControlScore>,
    /// Maturity: the lowest control's level.
    pub level: Option<u8>,
    /// 0–100: maturity levels reached out of three per control, or safeguards met out of the
    /// applicable ones.
    pub percent: u8,
    pub met: usize,
    pub not_met: usize,
    pub not_assessed: usize,
    pub not_applicable: usize,
}

/// Scores `findings` (any order) against `framework`.
pub fn score(framework: &Framework, findings: &[Finding]) -> Score {
    let placed = framework.placed(findings);
    let mut places = placed.iter();
    let mut controls = Vec::new();
    for control in &framework.controls {
        let statuses: Vec<(u8, Status)> = control
            .requirements
            .iter()
            .map(|r| {
                let found = places.next().copied().flatten();
                (
                    r.level,
                    found.map_or(Status::NotAssessed, |i| findings[i].status),
                )
            })
            .collect();
        let level = (1..=3u8)
            .take_while(|l| {
                statuses
                    .iter()
                    .filter(|(level, _)| level <= l)
                    .all(|(_, s)| s.satisfied())
            })
            .last()
            .unwrap_or(0);
        let count = |want: Status| statuses.iter().filter(|(_, s)| *s == want).count();
        controls.push(ControlScore {
            level,
            met: count(Status::Met),
            applicable: statuses.len() - count(Status::NotApplicable),
            not_met: count(Status::NotMet),
            not_assessed: count(Status::NotAssessed),
        });
    }
    let sum = |f: fn(&ControlScore) -> usize| controls.iter().map(f).sum::<usize>();
    let (met, applicable) = (sum(|c| c.met), sum(|c| c.applicable));
    let all: usize = framework
        .controls
        .iter()
        .map(|c| c.requirements.len())
        .sum();
    let (level, percent) = match framework.scoring {
        Scoring::Maturity => {
            let levels: usize = controls.iter().map(|c| usize::from(c.level)).sum();
            (
                Some(controls.iter().map(|c| c.level).min().unwrap_or(0)),
                percent_of(levels, 3 * controls.len()),
            )
        }
        Scoring::Safeguards => (None, percent_of(met, applicable)),
    };
    Score {
        level,
        percent,
        met,
        not_met: sum(|c| c.not_met),
        not_assessed: sum(|c| c.not_assessed),
        not_applicable: all - applicable,
        controls,
    }
}

fn percent_of(part: usize, whole: usize) -> u8 {
    // Rounded down: 99.6% of safeguards met is not 100%. Nothing to meet scores 0.
    (part * 100).checked_div(whole).unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_catalogues_parse_with_unique_ids_and_valid_levels() {
        let mut ids = HashSet::new();
        assert_eq!(frameworks().len(), 2);
        for f in frameworks() {
            assert!(framework(&f.id).is_some());
            for c in &f.controls {
                assert!(!c.requirements.is_empty(), "{} has requirements", c.id);
                for r in &c.requirements {
                    assert!(ids.insert(r.id.clone()), "{} is unique", r.id);
                    assert!(r.id.starts_with(&format!("{}.", f.id)), "{}", r.id);
                    let max = if f.scoring == Scoring::Maturity { 3 } else { 1 };
                    assert!((1..=max).contains(&r.level), "{}", r.id);
                    assert!(requirement(&r.id).is_some());
                }
            }
        }
        let e8 = framework("e8").unwrap();
        assert_eq!(e8.controls.len(), 8);
        let cis = framework("cis").unwrap();
        let safeguards: usize = cis.controls.iter().map(|c| c.requirements.len()).sum();
        assert_eq!(safeguards, 56, "IG1 has 56 safeguards");
        assert!(requirement("cis.99").is_none());
    }

    fn finding(id: &str, status: Status) -> Finding {
        Finding {
            requirement: id.into(),
            status,
            source: Source::Staff,
            detail: String::new(),
        }
    }

    #[test]
    fn a_maturity_level_needs_every_requirement_up_to_it_and_the_lowest_control_sets_the_level() {
        let e8 = framework("e8").unwrap();
        // Every level-1 and level-2 requirement met, level 3 not: level 2 everywhere...
        let mut findings: Vec<Finding> = e8
            .controls
            .iter()
            .flat_map(|c| &c.requirements)
            .map(|r| {
                finding(
                    &r.id,
                    if r.level <= 2 {
                        Status::Met
                    } else {
                        Status::NotMet
                    },
                )
            })
            .collect();
        let s = score(e8, &findings);
        assert_eq!(s.level, Some(2));
        assert_eq!(s.percent, 66);
        // ...but a level-2 requirement met while a level-1 one is not reaches level 0, and
        // the framework's level is that control's.
        findings
            .iter_mut()
            .find(|f| f.requirement == "e8.mfa.1a")
            .unwrap()
            .status = Status::NotMet;
        let s = score(e8, &findings);
        assert_eq!(s.controls[2].level, 0);
        assert_eq!(s.level, Some(0));
        // Not applicable counts as satisfied.
        findings
            .iter_mut()
            .find(|f| f.requirement == "e8.mfa.1a")
            .unwrap()
            .status = Status::NotApplicable;
        assert_eq!(score(e8, &findings).controls[2].level, 2);
    }

    #[test]
    fn safeguards_score_the_share_of_applicable_ones_met() {
        let cis = framework("cis").unwrap();
        let mut findings = vec![
            finding("cis.1.1", Status::Met),
            finding("cis.1.2", Status::NotApplicable),
            finding("cis.2.1", Status::NotMet),
        ];
        let s = score(cis, &findings);
        assert_eq!((s.met, s.not_met, s.not_applicable), (1, 1, 1));
        assert_eq!(s.not_assessed, 53);
        assert_eq!(s.percent, 1, "1 of 55 applicable");
        assert_eq!(s.level, None);
        findings = cis
            .controls
            .iter()
            .flat_map(|c| &c.requirements)
            .map(|r| finding(&r.id, Status::Met))
            .collect();
        assert_eq!(score(cis, &findings).percent, 100);
    }

    #[test]
    fn a_rule_with_facts_decides_and_staff_judge_the_rest() {
        let e8 = framework("e8").unwrap();
        let facts = Facts {
            now: 1_000_000_000,
            users: Some(vec![
                UserFact {
                    mfa: Some(true),
                    admin: Some(true),
                    last_sign_in_at: Some(1_000_000_000),
                },
                UserFact {
                    mfa: Some(false),
                    admin: Some(false),
                    last_sign_in_at: Some(1_000_000_000),
                },
            ]),
            ..Facts::default()
        };
        let judged = |id: &str| {
            (id == "e8.mfa.1a" || id == "e8.macros.1a").then(|| Judged {
                status: Status::Met,
                note: "Conditional access policy".into(),
            })
        };
        let findings = evaluate(e8, &facts, &judged);
        let get = |id: &str| findings.iter().find(|f| f.requirement == id).unwrap();
        // The records know: staff's judgement does not override them.
        assert_eq!(get("e8.mfa.1a").status, Status::NotMet);
        assert_eq!(get("e8.mfa.1a").source, Source::Records);
        assert_eq!(get("e8.mfa.1a").detail, "1 of 2 users registered for MFA");
        assert_eq!(get("e8.mfa.2a").status, Status::Met);
        // No rule: staff's judgement.
        assert_eq!(get("e8.macros.1a").source, Source::Staff);
        assert_eq!(get("e8.macros.1a").detail, "Conditional access policy");
        // A rule without facts (no backup jobs recorded), nobody's judgement.
        assert_eq!(get("e8.backup.1a").status, Status::NotAssessed);
        assert_eq!(get("e8.backup.1a").source, Source::None);
    }
}
