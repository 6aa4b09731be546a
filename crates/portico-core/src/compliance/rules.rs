//! The rules a catalogue may name, each judging a requirement from facts the company's records
//! hold (what its connectors read). A rule whose facts are not recorded says `Unknown`, and staff
//! judge the requirement instead.
//!
//! | kind                 | parameters                       | facts                              |
//! |----------------------|----------------------------------|------------------------------------|
//! | `mfa_registered`     | `min_percent`, `admins_only`     | directory users (Microsoft 365)    |
//! | `admin_share`        | `max_percent`                    | directory users                    |
//! | `dormant_accounts`   | `days`, `admins_only`            | directory users' last sign-in      |
//! | `patched_within`     | `days`                           | patching recorded (RMM)            |
//! | `supported_os`       | `unsupported` (names)            | computers' operating systems       |
//! | `inventory_current`  | `days`, `min_percent`            | computers' last check-in (RMM)     |
//! | `edr_coverage`       | `min_percent`                    | EDR agents on computers            |
//! | `backups_succeeding` |                                  | backup jobs                        |

use serde::Deserialize;

const DAY: i64 = 86_400;

/// A rule and its parameters, as a catalogue names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// At least `min_percent` of the enabled users (administrators only, if so) registered a
    /// second factor.
    MfaRegistered {
        min_percent: u8,
        #[serde(default)]
        admins_only: bool,
    },
    /// At most `max_percent` of the enabled accounts are administrators.
    AdminShare { max_percent: u8 },
    /// No enabled account (administrator, if so) has gone `days` without signing in.
    DormantAccounts {
        days: i64,
        #[serde(default)]
        admins_only: bool,
    },
    /// Patching succeeded within the last `days`.
    PatchedWithin { days: i64 },
    /// No computer runs an operating system named in `unsupported`.
    SupportedOs { unsupported: Vec<String> },
    /// At least `min_percent` of the computers checked in within `days`.
    InventoryCurrent { days: i64, min_percent: u8 },
    /// At least `min_percent` of the computers have an endpoint protection agent that reports.
    EdrCoverage { min_percent: u8 },
    /// Every backup job succeeded within its expected interval.
    BackupsSucceeding,
}

/// What a rule made of the facts, with what it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    Met(String),
    NotMet(String),
    /// The records do not hold what the rule needs.
    Unknown,
}

/// An enabled account of the company's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserFact {
    /// `None`: the directory did not say.
    pub mfa: Option<bool>,
    /// `None`: the directory did not report roles.
    pub admin: Option<bool>,
    pub last_sign_in_at: Option<i64>,
}

/// A computer (workstation, laptop or server) in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputerFact {
    pub os: String,
    pub last_seen_at: Option<i64>,
}

/// A backup job in service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupFact {
    pub last_success_at: Option<i64>,
    pub expected_every_hours: i64,
}

/// What the company's records say, gathered once for every rule.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub now: i64,
    /// Enabled directory users; `None` when no directory is connected.
    pub users: Option<Vec<UserFact>>,
    pub computers: Vec<ComputerFact>,
    /// Computers and those an agent covers; `None` when no EDR reports.
    pub endpoint: Option<(i64, i64)>,
    /// When any patching was last recorded, and when one last succeeded.
    pub last_patch_run_at: Option<i64>,
    pub last_patched_at: Option<i64>,
    pub backups: Vec<BackupFact>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The accounts a directory rule watches: every enabled one, or the administrators — `None`
/// when it asks for administrators and the directory reported no one's roles.
fn watched(users: &[UserFact], admins_only: bool) -> Option<Vec<&UserFact>> {
    if !admins_only {
        return Some(users.iter().collect());
    }
    if users.iter().all(|u| u.admin.is_none()) {
        return None;
    }
    Some(users.iter().filter(|u| u.admin == Some(true)).collect())
}

/// A rule over accounts with none to judge: met for administrators (there are none), unknown
/// for everyone (an empty directory says nothing).
fn no_accounts(admins_only: bool) -> Judgement {
    if admins_only {
        Judgement::Met("No administrator accounts".into())
    } else {
        Judgement::Unknown
    }
}

fn days_ago(now: i64, at: i64) -> String {
    match (now - at).max(0) / DAY {
        0 => "today".into(),
        1 => "yesterday".into(),
        n => format!("{n} days ago"),
    }
}

impl Rule {
    /// What the rule asks of the records, in words.
    pub fn describe(&self) -> String {
        match self {
            Rule::MfaRegistered {
                min_percent,
                admins_only,
            } => format!(
                "at least {min_percent}% of the enabled {} in the Microsoft 365 directory registered for MFA",
                if *admins_only {
                    "administrators"
                } else {
                    "users"
                }
            ),
            Rule::AdminShare { max_percent } => format!(
                "at most {max_percent}% of the enabled Microsoft 365 accounts are administrators"
            ),
            Rule::DormantAccounts { days, admins_only } => format!(
                "no enabled Microsoft 365 {} without a sign-in for {days} days",
                if *admins_only {
                    "administrator"
                } else {
                    "account"
                }
            ),
            Rule::PatchedWithin { days } => {
                format!("patching recorded as succeeded within the last {days} days")
            }
            Rule::SupportedOs { unsupported } => {
                format!("no computer in use runs {}", unsupported.join(", "))
            }
            Rule::InventoryCurrent { days, min_percent } => format!(
                "at least {min_percent}% of the computers in use checked in with the RMM within {days} days"
            ),
            Rule::EdrCoverage { min_percent } => format!(
                "at least {min_percent}% of the computers in use have an endpoint protection agent that reports"
            ),
            Rule::BackupsSucceeding => {
                "every backup job in service succeeded within its expected interval".into()
            }
        }
    }

    pub fn judge(&self, facts: &Facts) -> Judgement {
        let verdict = |ok: bool, detail: String| {
            if ok {
                Judgement::Met(detail)
            } else {
                Judgement::NotMet(detail)
            }
        };
        match self {
            Rule::MfaRegistered {
                min_percent,
                admins_only,
            } => {
                let Some(users) = &facts.users else {
                    return Judgement::Unknown;
                };
                let Some(watched) = watched(users, *admins_only) else {
                    return Judgement::Unknown;
                };
                if watched.is_empty() {
                    return no_accounts(*admins_only);
                }
                let known: Vec<bool> = watched.iter().filter_map(|u| u.mfa).collect();
                if known.is_empty() {
                    return Judgement::Unknown;
                }
                let who = if *admins_only {
                    "administrators"
                } else {
                    "users"
                };
                let registered = known.iter().filter(|m| **m).count();
                verdict(
                    registered * 100 >= usize::from(*min_percent) * known.len(),
                    format!("{registered} of {} {who} registered for MFA", known.len()),
                )
            }
            Rule::AdminShare { max_percent } => {
                // Only accounts whose roles the directory reported.
                let known: Vec<bool> = facts
                    .users
                    .iter()
                    .flatten()
                    .filter_map(|u| u.admin)
                    .collect();
                if known.is_empty() {
                    return Judgement::Unknown;
                }
                let admins = known.iter().filter(|a| **a).count();
                verdict(
                    admins * 100 <= usize::from(*max_percent) * known.len(),
                    format!(
                        "{admins} of {} are administrators",
                        plural(known.len(), "enabled account", "enabled accounts")
                    ),
                )
            }
            Rule::DormantAccounts { days, admins_only } => {
                let Some(users) = &facts.users else {
                    return Judgement::Unknown;
                };
                // Sign-in times not reported at all (the tenant's licence): nothing known. Once
                // they are, an account without one has never signed in.
                if users.iter().all(|u| u.last_sign_in_at.is_none()) {
                    return Judgement::Unknown;
                }
                let Some(watched) = watched(users, *admins_only) else {
                    return Judgement::Unknown;
                };
                if watched.is_empty() {
                    return no_accounts(*admins_only);
                }
                let cutoff = facts.now - days * DAY;
                let dormant = watched
                    .iter()
                    .filter(|u| u.last_sign_in_at.is_none_or(|at| at < cutoff))
                    .count();
                let kind = if *admins_only {
                    ("enabled administrator", "enabled administrators")
                } else {
                    ("enabled account", "enabled accounts")
                };
                verdict(
                    dormant == 0,
                    if dormant == 0 {
                        format!(
                            "Every one of {} signed in within {days} days",
                            plural(watched.len(), kind.0, kind.1)
                        )
                    } else {
                        format!(
                            "{} not signed in within {days} days",
                            plural(dormant, kind.0, kind.1)
                        )
                    },
                )
            }
            Rule::PatchedWithin { days } => {
                if facts.last_patch_run_at.is_none() {
                    return Judgement::Unknown;
                }
                match facts.last_patched_at {
                    Some(at) => verdict(
                        at >= facts.now - days * DAY,
                        format!("Last patched {}", days_ago(facts.now, at)),
                    ),
                    None => Judgement::NotMet("No successful patching recorded".into()),
                }
            }
            Rule::SupportedOs { unsupported } => {
                let known: Vec<&str> = facts
                    .computers
                    .iter()
                    .map(|c| c.os.trim())
                    .filter(|os| !os.is_empty())
                    .collect();
                if known.is_empty() {
                    return Judgement::Unknown;
                }
                let lowered: Vec<String> = unsupported.iter().map(|u| u.to_lowercase()).collect();
                let mut names: Vec<&str> = Vec::new();
                let mut bad = 0;
                for os in &known {
                    let os = os.to_lowercase();
                    if let Some(i) = lowered.iter().position(|u| os.contains(u.as_str())) {
                        bad += 1;
                        if !names.contains(&unsupported[i].as_str()) {
                            names.push(&unsupported[i]);
                        }
                    }
                }
                verdict(
                    bad == 0,
                    if bad == 0 {
                        format!(
                            "All {} with a known system run a supported one",
                            plural(known.len(), "computer", "computers")
                        )
                    } else {
                        format!(
                            "{bad} of {} run an unsupported system ({})",
                            plural(known.len(), "computer", "computers"),
                            names.join(", ")
                        )
                    },
                )
            }
            Rule::InventoryCurrent { days, min_percent } => {
                if !facts.computers.iter().any(|c| c.last_seen_at.is_some()) {
                    return Judgement::Unknown;
                }
                let cutoff = facts.now - days * DAY;
                let seen = facts
                    .computers
                    .iter()
                    .filter(|c| c.last_seen_at.is_some_and(|at| at >= cutoff))
                    .count();
                let all = facts.computers.len();
                verdict(
                    seen * 100 >= usize::from(*min_percent) * all,
                    format!(
                        "{seen} of {} checked in within {days} days",
                        plural(all, "computer", "computers")
                    ),
                )
            }
            Rule::EdrCoverage { min_percent } => match facts.endpoint {
                Some((computers, covered)) if computers > 0 => verdict(
                    covered * 100 >= i64::from(*min_percent) * computers,
                    format!(
                        "{covered} of {} have an endpoint protection agent",
                        plural(computers as usize, "computer", "computers")
                    ),
                ),
                _ => Judgement::Unknown,
            },
            Rule::BackupsSucceeding => {
                if facts.backups.is_empty() {
                    return Judgement::Unknown;
                }
                let late = facts
                    .backups
                    .iter()
                    .filter(|b| {
                        b.last_success_at
                            .is_none_or(|at| at < facts.now - b.expected_every_hours.max(1) * 3_600)
                    })
                    .count();
                let all = facts.backups.len();
                verdict(
                    late == 0,
                    if late == 0 {
                        format!(
                            "All {} succeeded within their expected interval",
                            plural(all, "backup job", "backup jobs")
                        )
                    } else {
                        format!(
                            "{late} of {} without a success within its expected interval",
                            plural(all, "backup job", "backup jobs")
                        )
                    },
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 2_000_000_000;

    fn user(mfa: Option<bool>, admin: bool, days_since_sign_in: Option<i64>) -> UserFact {
        UserFact {
            mfa,
            // Roles come with the registration report, as MFA does.
            admin: mfa.map(|_| admin),
            last_sign_in_at: days_since_sign_in.map(|d| NOW - d * DAY),
        }
    }

    fn with_users(users: Vec<UserFact>) -> Facts {
        Facts {
            now: NOW,
            users: Some(users),
            ..Facts::default()
        }
    }

    #[test]
    fn directory_rules() {
        let facts = with_users(vec![
            user(Some(true), true, Some(1)),
            user(Some(false), false, Some(50)),
            user(None, false, None),
            user(Some(true), false, Some(2)),
        ]);
        let mfa = Rule::MfaRegistered {
            min_percent: 100,
            admins_only: false,
        };
        assert_eq!(
            mfa.judge(&facts),
            Judgement::NotMet("2 of 3 users registered for MFA".into())
        );
        let admin_mfa = Rule::MfaRegistered {
            min_percent: 100,
            admins_only: true,
        };
        assert_eq!(
            admin_mfa.judge(&facts),
            Judgement::Met("1 of 1 administrators registered for MFA".into())
        );
        assert_eq!(
            Rule::AdminShare { max_percent: 10 }.judge(&facts),
            Judgement::NotMet("1 of 3 enabled accounts are administrators".into())
        );
        assert_eq!(
            Rule::DormantAccounts {
                days: 45,
                admins_only: false
            }
            .judge(&facts),
            // Fifty days ago, and never.
            Judgement::NotMet("2 enabled accounts not signed in within 45 days".into())
        );
        assert!(matches!(
            Rule::DormantAccounts {
                days: 45,
                admins_only: true
            }
            .judge(&facts),
            Judgement::Met(_)
        ));
        // No directory: nothing known.
        assert_eq!(mfa.judge(&Facts::default()), Judgement::Unknown);
        // MFA state not reported for anyone.
        assert_eq!(
            mfa.judge(&with_users(vec![user(None, false, Some(1))])),
            Judgement::Unknown
        );
        // Nor roles: whether there are administrators is not known, never "none".
        let unreported = with_users(vec![user(None, false, Some(1)), user(None, false, Some(2))]);
        for rule in [
            admin_mfa,
            Rule::AdminShare { max_percent: 10 },
            Rule::DormantAccounts {
                days: 45,
                admins_only: true,
            },
        ] {
            assert_eq!(rule.judge(&unreported), Judgement::Unknown, "{rule:?}");
        }
        // Sign-ins not reported: dormancy unknown.
        assert_eq!(
            Rule::DormantAccounts {
                days: 45,
                admins_only: false
            }
            .judge(&with_users(vec![user(Some(true), false, None)])),
            Judgement::Unknown
        );
    }

    #[test]
    fn device_and_backup_rules() {
        let computer = |os: &str, seen: Option<i64>| ComputerFact {
            os: os.into(),
            last_seen_at: seen.map(|d| NOW - d * DAY),
        };
        let facts = Facts {
            now: NOW,
            computers: vec![
                computer("Windows 11 Pro", Some(1)),
                computer("Windows 7 Professional", Some(40)),
                computer("", None),
            ],
            endpoint: Some((3, 2)),
            last_patch_run_at: Some(NOW - DAY),
            last_patched_at: Some(NOW - 20 * DAY),
            backups: vec![
                BackupFact {
                    last_success_at: Some(NOW - 3_600),
                    expected_every_hours: 24,
                },
                BackupFact {
                    last_success_at: Some(NOW - 30 * 3_600),
                    expected_every_hours: 24,
                },
            ],
            ..Facts::default()
        };
        let unsupported = Rule::SupportedOs {
            unsupported: vec!["Windows 7".into(), "Windows 8".into()],
        };
        assert_eq!(
            unsupported.judge(&facts),
            Judgement::NotMet("1 of 2 computers run an unsupported system (Windows 7)".into())
        );
        assert_eq!(
            Rule::PatchedWithin { days: 31 }.judge(&facts),
            Judgement::Met("Last patched 20 days ago".into())
        );
        assert!(matches!(
            Rule::PatchedWithin { days: 14 }.judge(&facts),
            Judgement::NotMet(_)
        ));
        assert_eq!(
            Rule::InventoryCurrent {
                days: 30,
                min_percent: 90
            }
            .judge(&facts),
            Judgement::NotMet("1 of 3 computers checked in within 30 days".into())
        );
        assert_eq!(
            Rule::EdrCoverage { min_percent: 95 }.judge(&facts),
            Judgement::NotMet("2 of 3 computers have an endpoint protection agent".into())
        );
        assert_eq!(
            Rule::BackupsSucceeding.judge(&facts),
            Judgement::NotMet(
                "1 of 2 backup jobs without a success within its expected interval".into()
            )
        );
        // Nothing recorded: every device rule leaves the requirement to staff.
        let empty = Facts {
            now: NOW,
            ..Facts::default()
        };
        for rule in [
            unsupported,
            Rule::PatchedWithin { days: 14 },
            Rule::InventoryCurrent {
                days: 30,
                min_percent: 90,
            },
            Rule::EdrCoverage { min_percent: 95 },
            Rule::BackupsSucceeding,
        ] {
            assert_eq!(rule.judge(&empty), Judgement::Unknown, "{rule:?}");
        }
    }
}
