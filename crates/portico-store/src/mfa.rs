//! Two-step verification (A3, P17): a TOTP authenticator (RFC 6238) per user, ten single-use
//! recovery codes, the sign-in challenge between a correct password and the second factor,
//! browsers a user chose to remember, and the requirements an owner sets for staff and a
//! company for its portal users.
//!
//! A sign-in that needs the second factor does not open a session: [`AuthTx::sign_in`] answers
//! with a challenge token (for a short-lived cookie), and [`AuthTx::answer_challenge`] opens
//! the way once the code is right. Wrong codes count against the same throttle as wrong
//! passwords, and the password's own attempt stays counted until the second step is passed,
//! so that signing in again does not buy more guesses.

use portico_core::{PortalUserId, StaffUserId};
use totp_rs::{Builder, Secret, Totp};

use crate::auth::{AuthTx, SessionUser, user_predicate, user_table};
use crate::public::SurfaceKind;
use crate::sql::{Q, q};
use crate::{StoreError, now, password, token};

/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// How long the second step may take after the password.
pub const CHALLENGE_TTL_SECS: i64 = 10 * 60;
/// Wrong codes one challenge takes before the password must be entered again.
pub const CHALLENGE_FAILURES: i64 = 5;
/// How long a remembered browser skips the second step.
pub const REMEMBERED_DEVICE_SECS: i64 = 30 * 24 * 3600;
/// 160 bits, the length RFC 4226 recommends and every authenticator app takes.
const SECRET_BYTES: usize = 20;
/// Recovery codes: ten characters without look-alikes (no 0/o, 1/l/i), about 49 bits each.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_LEN: usize = 10;
const WRONG_PASSWORD: &str = "The password is not correct.";

/// What an authenticator app needs to be set up: the secret as text and as an `otpauth://`
/// link (for the QR code).
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, in groups of four for typing.
    pub secret: String,
    pub url: String,
}

/// A user's second factor as their security page shows it.
#[derive(Debug, Clone, Default)]
pub struct MfaStatus {
    /// When the authenticator was confirmed; `None` when two-step verification is off.
    pub enabled_at: Option<i64>,
    pub recovery_codes_left: i64,
    pub remembered_devices: i64,
    /// The workspace (staff) or a company of theirs (portal users) requires it.
    pub required: bool,
}

/// A sign-in waiting for its second step.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub user: SessionUser,
    pub next: String,
    /// Set when the user must first set up an authenticator (their workspace or company
    /// requires one and they have none).
    pub enrolment: Option<Enrolment>,
}

/// The result of answering a challenge.
#[derive(Debug)]
pub enum ChallengeOutcome {
    Passed {
        user: SessionUser,
        next: String,
        /// New recovery codes, to be shown once: set when the challenge was an enrolment.
        recovery_codes: Vec<String>,
        /// How the second step was passed, for the audit log.
        how: &'static str,
    },
    Wrong,
    Throttled,
    /// Expired, used up, or never issued: the password must be entered again.
    Expired,
}

/// How a code was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepted {
    Authenticator,
    RecoveryCode,
}

struct ChallengeRow {
    staff_user_id: Option<String>,
    portal_user_id: Option<String>,
    enrol_secret_sealed: Option<String>,
    next_path: String,
}
crate::sql::db_row!(ChallengeRow {
    staff_user_id,
    portal_user_id,
    enrol_secret_sealed,
    next_path
});

fn user_of(staff: Option<String>, portal: Option<String>) -> Option<SessionUser> {
    match (staff, portal) {
        (Some(s), None) => Some(SessionUser::Staff(StaffUserId::from_stored(&s))),
        (None, Some(p)) => Some(SessionUser::Portal(PortalUserId::from_stored(&p))),
        _ => None,
    }
}

fn user_columns(user: SessionUser) -> (Option<String>, Option<String>) {
    match user {
        SessionUser::Staff(id) => (Some(id.as_text()), None),
        SessionUser::Portal(id) => (None, Some(id.as_text())),
    }
}

/// The code as typed, without spaces and dashes, lowercased.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn new_recovery_code() -> String {
    let bytes: [u8; RECOVERY_LEN] = rand::random();
    // 256 is not a multiple of 31: redraw the few values past the last whole cycle so that
    // every character is equally likely.
    let mut code = String::with_capacity(RECOVERY_LEN);
    for mut b in bytes {
        while usize::from(b) >= 256 - 256 % RECOVERY_ALPHABET.len() {
            b = rand::random();
        }
        code.push(char::from(
            RECOVERY_ALPHABET[usize::from(b) % RECOVERY_ALPHABET.len()],
        ));
    }
    code
}

/// A recovery code as shown: two groups of five.
fn shown_code(code: &str) -> String {
    format!("{}-{}", &code[..5], &code[5..])
}

fn group_base32(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

impl AuthTx {
    /// The record a user's sealed secret and code hashes are bound to.
    fn mfa_context(&self, user: SessionUser) -> String {
        let (table, id) = user_table(user);
        format!("totp:{}:{table}:{id}", self.workspace)
    }

    /// The TOTP of `secret` for `user`, named in authenticator apps by the workspace's name and
    /// the user's e-mail address.
    async fn totp(&mut self, user: SessionUser, secret: Vec<u8>) -> Result<Totp, StoreError> {
        let (issuer,): (String,) = self
            .tx
            .one(q!(
                "SELECT name FROM workspaces WHERE id = $1",
                self.workspace
            ))
            .await?;
        let (_, email, _) = self.account(user).await?;
        // A colon separates issuer and account in the otpauth label.
        Builder::new()
            .with_secret(Secret::from(secret))
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(email.replace(':', " "))
            .build()
            .map_err(|e| StoreError::Corrupt(format!("TOTP settings: {e}")))
    }

    async fn enrolment_of(
        &mut self,
        user: SessionUser,
        sealed: &str,
    ) -> Result<Enrolment, StoreError> {
        let secret = self.audit.sealer().open(&self.mfa_context(user), sealed)?;
        let totp = self.totp(user, secret).await?;
        Ok(Enrolment {
            secret: group_base32(&totp.secret().to_base32()),
            url: totp
                .to_url()
                .map_err(|e| StoreError::Corrupt(format!("TOTP link: {e}")))?,
        })
    }

    fn new_sealed_secret(&self, user: SessionUser) -> String {
        let secret: [u8; SECRET_BYTES] = rand::random();
        self.audit.sealer().seal(&self.mfa_context(user), &secret)
    }

    /// The step a TOTP code of the sealed secret matches now (one step of clock drift either
    /// way), if any.
    async fn totp_step(
        &mut self,
        user: SessionUser,
        sealed: &str,
        code: &str,
    ) -> Result<Option<i64>, StoreError> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let secret = self.audit.sealer().open(&self.mfa_context(user), sealed)?;
        let totp = self.totp(user, secret).await?;
        let now = u64::try_from(now()).unwrap_or(0);
        Ok(totp.check(code, now).and_then(|s| i64::try_from(s).ok()))
    }

    /// Whether the user has a confirmed authenticator.
    async fn has_authenticator(&mut self, user: SessionUser) -> Result<bool, StoreError> {
        let mut query = Q::new(
            "SELECT COUNT(*) FROM mfa_totp WHERE confirmed_at IS NOT NULL AND workspace_id = ",
        );
        query.arg(self.workspace);
        user_predicate(&mut query, user);
        Ok(self.tx.count(query).await? > 0)
    }

    /// Whether the user must use a second factor: staff when the workspace requires it, a
    /// portal user when their company or any company granted to them does.
    async fn mfa_required(&mut self, user: SessionUser) -> Result<bool, StoreError> {
        let query = match user {
            SessionUser::Staff(_) => q!(
                "SELECT COUNT(*) FROM workspaces WHERE id = $1 AND staff_mfa_required",
                self.workspace
            ),
            SessionUser::Portal(id) => q!(
                "SELECT COUNT(*) FROM companies c WHERE c.workspace_id = $1 AND c.portal_mfa_required \
                 AND (c.id = (SELECT u.company_id FROM portal_users u WHERE u.workspace_id = $1 AND u.id = $2) \
                 OR c.id IN (SELECT g.company_id FROM portal_user_companies g \
                 WHERE g.workspace_id = $1 AND g.portal_user_id = $2))",
                self.workspace,
                id
            ),
        };
        Ok(self.tx.count(query).await? > 0)
    }

    /// Checks a code typed at the second step: a TOTP code (each time step accepted once) or
    /// an unused recovery code (used up by this).
    async fn accept_code(
        &mut self,
        user: SessionUser,
        code: &str,
    ) -> Result<Option<Accepted>, StoreError> {
        let code = normalise_code(code);
        if code.len() == RECOVERY_LEN {
            let hash = self
                .audit
                .sealer()
                .code_hash(&self.mfa_context(user), &code);
            let mut query = Q::new("UPDATE mfa_recovery_codes SET used_at = ");
            query
                .arg(now())
                .sql(" WHERE used_at IS NULL AND code_hash = ")
                .arg(hash)
                .sql(" AND workspace_id = ")
                .arg(self.workspace);
            user_predicate(&mut query, user);
            return Ok((self.tx.exec(query).await? == 1).then_some(Accepted::RecoveryCode));
        }
        let mut query = Q::new(
            "SELECT secret_sealed FROM mfa_totp WHERE confirmed_at IS NOT NULL AND workspace_id = ",
        );
        query.arg(self.workspace);
        user_predicate(&mut query, user);
        let Some((sealed,)): Option<(String,)> = self.tx.optional(query).await? else {
            return Ok(None);
        };
        let Some(step) = self.totp_step(user, &sealed, &code).await? else {
            return Ok(None);
        };
        // A code is good once: the step must be later than the last one accepted.
        let mut query = Q::new("UPDATE mfa_totp SET last_step = ");
        query
            .arg(step)
            .sql(" WHERE confirmed_at IS NOT NULL AND last_step < ")
            .arg(step)
            .sql(" AND workspace_id = ")
            .arg(self.workspace);
        user_predicate(&mut query, user);
        Ok((self.tx.exec(query).await? == 1).then_some(Accepted::Authenticator))
    }

    /// Replaces the user's recovery codes with ten new ones and returns them (shown once).
    async fn replace_recovery_codes(
        &mut self,
        user: SessionUser,
    ) -> Result<Vec<String>, StoreError> {
        let mut delete = Q::new("DELETE FROM mfa_recovery_codes WHERE workspace_id = ");
        delete.arg(self.workspace);
        user_predicate(&mut delete, user);
        self.tx.exec(delete).await?;
        let context = self.mfa_context(user);
        let (staff, portal) = user_columns(user);
        let now = now();
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        while codes.len() < RECOVERY_CODES {
            let code = new_recovery_code();
            if codes.contains(&code) {
                continue;
            }
            self.tx
                .exec(q!(
                    "INSERT INTO mfa_recovery_codes (code_hash, workspace_id, staff_user_id, portal_user_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                    self.audit.sealer().code_hash(&context, &code),
                    self.workspace,
                    staff.clone(),
                    portal.clone(),
                    now
                ))
                .await?;
            codes.push(code);
        }
        Ok(codes.iter().map(|c| shown_code(c)).collect())
    }

    /// Makes `sealed` the user's confirmed authenticator (at `step`, which is thereby used) and
    /// gives them new recovery codes.
    async fn confirm_authenticator(
        &mut self,
        user: SessionUser,
        sealed: &str,
        step: i64,
    ) -> Result<Vec<String>, StoreError> {
        self.delete_authenticator(user).await?;
        // Other sign-ins waiting to enrol would set up another authenticator over this one.
        let mut others = Q::new(
            "DELETE FROM mfa_challenges WHERE enrol_secret_sealed IS NOT NULL AND used_at IS NULL AND workspace_id = ",
        );
        others.arg(self.workspace);
        user_predicate(&mut others, user);
        self.tx.exec(others).await?;
        let (staff, portal) = user_columns(user);
        let now = now();
        self.tx
            .exec(q!(
                "INSERT INTO mfa_totp (workspace_id, staff_user_id, portal_user_id, secret_sealed, confirmed_at, \
                 last_step, created_at) VALUES ($1, $2, $3, $4, $5, $6, $5)",
                self.workspace,
                staff,
                portal,
                sealed,
                now,
                step
            ))
            .await?;
        self.replace_recovery_codes(user).await
    }

    async fn delete_authenticator(&mut self, user: SessionUser) -> Result<(), StoreError> {
        let mut delete = Q::new("DELETE FROM mfa_totp WHERE workspace_id = ");
        delete.arg(self.workspace);
        user_predicate(&mut delete, user);
        self.tx.exec(delete).await?;
        Ok(())
    }

    /// Whether this browser's remembered-device token is one of the user's, still valid.
    async fn remembered(
        &mut self,
        user: SessionUser,
        device: Option<&str>,
    ) -> Result<bool, StoreError> {
        let Some(device) = device.filter(|d| d.len() == 64) else {
            return Ok(false);
        };
        let mut query = Q::new("SELECT COUNT(*) FROM mfa_remembered_devices WHERE token_hash = ");
        query
            .arg(token::hash(device))
            .sql(" AND workspace_id = ")
            .arg(self.workspace)
            .sql(" AND expires_at > ")
            .arg(now());
        user_predicate(&mut query, user);
        Ok(self.tx.count(query).await? > 0)
    }

    /// What a correct password (typed, or just chosen through an invitation or reset link)
    /// leads to: `None` when the session may open, else a challenge (its token) to verify a code
    /// or, when required and not yet set up, to enrol.
    pub async fn second_step(
        &mut self,
        surface: SurfaceKind,
        user: SessionUser,
        device: Option<&str>,
        next: &str,
    ) -> Result<Option<String>, StoreError> {
        let enrol = if self.has_authenticator(user).await? {
            if self.remembered(user, device).await? {
                return Ok(None);
            }
            None
        } else if self.mfa_required(user).await? {
            Some(self.new_sealed_secret(user))
        } else {
            return Ok(None);
        };
        let challenge = token::generate();
        let (staff, portal) = user_columns(user);
        let now = now();
        self.tx
            .exec(q!(
                "INSERT INTO mfa_challenges (challenge_hash, workspace_id, surface, staff_user_id, portal_user_id, \
                 enrol_secret_sealed, next_path, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                token::hash(&challenge),
                self.workspace,
                surface.as_str(),
                staff,
                portal,
                enrol,
                next.chars().take(500).collect::<String>(),
                now,
                now + CHALLENGE_TTL_SECS
            ))
            .await?;
        Ok(Some(challenge))
    }

    async fn challenge_row(
        &mut self,
        surface: SurfaceKind,
        challenge: &str,
    ) -> Result<Option<ChallengeRow>, StoreError> {
        if challenge.len() != 64 {
            return Ok(None);
        }
        self.tx
            .optional(q!(
                "SELECT staff_user_id, portal_user_id, enrol_secret_sealed, next_path FROM mfa_challenges \
                 WHERE challenge_hash = $1 AND workspace_id = $2 AND surface = $3 AND used_at IS NULL \
                 AND expires_at > $4 AND failures < $5",
                token::hash(challenge),
                self.workspace,
                surface.as_str(),
                now(),
                CHALLENGE_FAILURES
            ))
            .await
    }

    /// The sign-in waiting on `challenge`, if it is still open.
    pub async fn challenge(
        &mut self,
        surface: SurfaceKind,
        challenge: &str,
    ) -> Result<Option<Challenge>, StoreError> {
        let Some(row) = self.challenge_row(surface, challenge).await? else {
            return Ok(None);
        };
        let user = user_of(row.staff_user_id, row.portal_user_id)
            .ok_or_else(|| StoreError::Corrupt("a challenge names no user".into()))?;
        let enrolment = match &row.enrol_secret_sealed {
            Some(sealed) => Some(self.enrolment_of(user, sealed).await?),
            None => None,
        };
        Ok(Some(Challenge {
            user,
            next: row.next_path,
            enrolment,
        }))
    }

    /// Answers the challenge with a code: from the authenticator (or a recovery code), or, at
    /// an enrolment, from the authenticator just set up.
    pub async fn answer_challenge(
        &mut self,
        surface: SurfaceKind,
        challenge: &str,
        code: &str,
        ip: &str,
    ) -> Result<ChallengeOutcome, StoreError> {
        let Some(row) = self.challenge_row(surface, challenge).await? else {
            return Ok(ChallengeOutcome::Expired);
        };
        let user = user_of(row.staff_user_id, row.portal_user_id)
            .ok_or_else(|| StoreError::Corrupt("a challenge names no user".into()))?;
        let (_, email, _) = self.account(user).await?;
        let keys = self.throttle_keys(surface, &email, ip);
        if self.count_attempt(&keys).await? {
            return Ok(ChallengeOutcome::Throttled);
        }
        let challenge_hash = token::hash(challenge);
        // An enrolment begun before the user set an authenticator up elsewhere must not
        // replace it.
        if row.enrol_secret_sealed.is_some() && self.has_authenticator(user).await? {
            return Ok(ChallengeOutcome::Expired);
        }
        let passed = match &row.enrol_secret_sealed {
            Some(sealed) => match self.totp_step(user, sealed, &normalise_code(code)).await? {
                Some(step) => Some((
                    self.confirm_authenticator(user, sealed, step).await?,
                    "second step: a newly set up authenticator",
                )),
                None => None,
            },
            None => match self.accept_code(user, code).await? {
                Some(Accepted::Authenticator) => {
                    Some((Vec::new(), "second step: authenticator code"))
                }
                Some(Accepted::RecoveryCode) => Some((Vec::new(), "second step: a recovery code")),
                None => None,
            },
        };
        let Some((recovery_codes, how)) = passed else {
            self.tx
                .exec(q!(
                    "UPDATE mfa_challenges SET failures = failures + 1 WHERE challenge_hash = $1 AND workspace_id = $2",
                    &challenge_hash,
                    self.workspace
                ))
                .await?;
            return Ok(ChallengeOutcome::Wrong);
        };
        self.tx
            .exec(q!(
                "UPDATE mfa_challenges SET used_at = $1 WHERE challenge_hash = $2 AND workspace_id = $3",
                now(),
                &challenge_hash,
                self.workspace
            ))
            .await?;
        // This attempt and the password's both come off the address's count.
        self.clear_attempts(&keys, 2).await?;
        Ok(ChallengeOutcome::Passed {
            user,
            next: row.next_path,
            recovery_codes,
            how,
        })
    }

    /// Remembers this browser for the user: the second step is skipped here for
    /// [`REMEMBERED_DEVICE_SECS`]. Returns the token for its cookie.
    pub async fn remember_device(
        &mut self,
        user: SessionUser,
        user_agent: &str,
    ) -> Result<String, StoreError> {
        let device = token::generate();
        let (staff, portal) = user_columns(user);
        let now = now();
        self.tx
            .exec(q!(
                "INSERT INTO mfa_remembered_devices (token_hash, workspace_id, staff_user_id, portal_user_id, user_agent, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                token::hash(&device),
                self.workspace,
                staff,
                portal,
                user_agent.chars().take(300).collect::<String>(),
                now,
                now + REMEMBERED_DEVICE_SECS
            ))
            .await?;
        Ok(device)
    }

    /// The user's second factor, for their security page.
    pub async fn mfa_status(&mut self, user: SessionUser) -> Result<MfaStatus, StoreError> {
        let mut query = Q::new(
            "SELECT confirmed_at FROM mfa_totp WHERE confirmed_at IS NOT NULL AND workspace_id = ",
        );
        query.arg(self.workspace);
        user_predicate(&mut query, user);
        let enabled_at: Option<(i64,)> = self.tx.optional(query).await?;
        let mut codes = Q::new(
            "SELECT COUNT(*) FROM mfa_recovery_codes WHERE used_at IS NULL AND workspace_id = ",
        );
        codes.arg(self.workspace);
        user_predicate(&mut codes, user);
        let mut devices =
            Q::new("SELECT COUNT(*) FROM mfa_remembered_devices WHERE workspace_id = ");
        devices
            .arg(self.workspace)
            .sql(" AND expires_at > ")
            .arg(now());
        user_predicate(&mut devices, user);
        Ok(MfaStatus {
            enabled_at: enabled_at.map(|(at,)| at),
            recovery_codes_left: self.tx.count(codes).await?,
            remembered_devices: self.tx.count(devices).await?,
            required: self.mfa_required(user).await?,
        })
    }

    /// Starts setting up an authenticator from the security page (or shows the one started):
    /// nothing changes at sign-in until [`AuthTx::confirm_enrolment`].
    pub async fn begin_enrolment(&mut self, user: SessionUser) -> Result<Enrolment, StoreError> {
        if self.has_authenticator(user).await? {
            return Err(StoreError::Invalid(
                "Two-step verification is already on. Turn it off first to set up another authenticator."
                    .into(),
            ));
        }
        let mut query = Q::new("SELECT secret_sealed FROM mfa_totp WHERE workspace_id = ");
        query.arg(self.workspace);
        user_predicate(&mut query, user);
        if let Some((sealed,)) = self.tx.optional::<(String,)>(query).await? {
            return self.enrolment_of(user, &sealed).await;
        }
        let sealed = self.new_sealed_secret(user);
        let (staff, portal) = user_columns(user);
        self.tx
            .exec(q!(
                "INSERT INTO mfa_totp (workspace_id, staff_user_id, portal_user_id, secret_sealed, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                self.workspace,
                staff,
                portal,
                &sealed,
                now()
            ))
            .await?;
        self.enrolment_of(user, &sealed).await
    }

    /// Confirms the authenticator begun with [`AuthTx::begin_enrolment`] by a code from it;
    /// returns the new recovery codes (shown once).
    pub async fn confirm_enrolment(
        &mut self,
        user: SessionUser,
        code: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut query = Q::new(
            "SELECT secret_sealed FROM mfa_totp WHERE confirmed_at IS NULL AND workspace_id = ",
        );
        query.arg(self.workspace);
        user_predicate(&mut query, user);
        let Some((sealed,)): Option<(String,)> = self.tx.optional(query).await? else {
            return Err(StoreError::NotFound);
        };
        match self.totp_step(user, &sealed, &normalise_code(code)).await? {
            Some(step) => self.confirm_authenticator(user, &sealed, step).await,
            None => Err(StoreError::Invalid(
                "That code is not right. Check the time on your phone, then enter the code the app shows now."
                    .into(),
            )),
        }
    }

    /// Turns two-step verification off after checking the password; refused while the
    /// workspace or a company requires it.
    pub async fn disable_mfa(
        &mut self,
        user: SessionUser,
        password: &str,
    ) -> Result<(), StoreError> {
        if self.mfa_required(user).await? {
            return Err(StoreError::Invalid(
                "Two-step verification is required for your account and cannot be turned off."
                    .into(),
            ));
        }
        self.check_password(user, password, WRONG_PASSWORD).await?;
        self.remove_mfa(user).await
    }

    /// Replaces the recovery codes after checking the password; returns the new ones.
    pub async fn renew_recovery_codes(
        &mut self,
        user: SessionUser,
        password: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.check_password(user, password, WRONG_PASSWORD).await?;
        if !self.has_authenticator(user).await? {
            return Err(StoreError::NotFound);
        }
        self.replace_recovery_codes(user).await
    }

    /// Forgets every browser the user chose to remember; returns how many.
    pub async fn forget_devices(&mut self, user: SessionUser) -> Result<u64, StoreError> {
        let mut delete = Q::new("DELETE FROM mfa_remembered_devices WHERE workspace_id = ");
        delete.arg(self.workspace);
        user_predicate(&mut delete, user);
        self.tx.exec(delete).await
    }

    /// Removes the user's authenticator, recovery codes, remembered browsers and open
    /// challenges.
    pub(crate) async fn remove_mfa(&mut self, user: SessionUser) -> Result<(), StoreError> {
        self.delete_authenticator(user).await?;
        for table in [
            "mfa_recovery_codes",
            "mfa_remembered_devices",
            "mfa_challenges",
        ] {
            let mut delete = Q::new(&format!("DELETE FROM {table} WHERE workspace_id = "));
            delete.arg(self.workspace);
            user_predicate(&mut delete, user);
            self.tx.exec(delete).await?;
        }
        Ok(())
    }

    /// `Invalid(refusal)` unless `given` is the user's password.
    pub(crate) async fn check_password(
        &mut self,
        user: SessionUser,
        given: &str,
        refusal: &str,
    ) -> Result<(), StoreError> {
        let (table, id) = user_table(user);
        let (stored,): (Option<String>,) = self
            .tx
            .one(Q::with(
                &format!("SELECT password_hash FROM {table} WHERE workspace_id = $1 AND id = $2"),
                vec![self.workspace.into(), id.into()],
            ))
            .await?;
        let verified = match stored {
            Some(stored) => password::verify_in_turn(given, &stored).await,
            None => false,
        };
        if verified {
            Ok(())
        } else {
            Err(StoreError::Invalid(refusal.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_without_spaces_dashes_or_case() {
        assert_eq!(normalise_code(" 123 456 "), "123456");
        assert_eq!(normalise_code("ABCDE-fghjk"), "abcdefghjk");
    }

    #[test]
    fn recovery_codes_use_the_plain_alphabet_and_show_in_two_groups() {
        for _ in 0..200 {
            let code = new_recovery_code();
            assert_eq!(code.len(), RECOVERY_LEN);
            assert!(code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)));
            let shown = shown_code(&code);
            assert_eq!(normalise_code(&shown), code);
        }
    }

    #[test]
    fn secrets_show_in_groups_of_four() {
        assert_eq!(group_base32("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
