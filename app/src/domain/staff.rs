//! Hospital staff: roles and what each may do (R-SEC-1, least privilege), usernames,
//! and the second factor's rules (R-SEC-3).
use super::{ErrorCode, Field, FieldError};
use serde::{Deserialize, Serialize};

/// A staff member's one role. Staff accounts are separate from patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the service: reviews diagnosis proofs.
    Operator,
    Doctor,
    Pharmacist,
    /// Reads, never changes (the read-only query role of R-SEC-1).
    Auditor,
    /// Maintains the system: staff accounts. Separate from business operation.
    Admin,
}

pub const ALL_ROLES: &[Role] = &[
    Role::Operator,
    Role::Doctor,
    Role::Pharmacist,
    Role::Auditor,
    Role::Admin,
];

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Doctor => "doctor",
            Role::Pharmacist => "pharmacist",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        ALL_ROLES
            .iter()
            .copied()
            .find(|r| r.as_str() == s.trim())
            .ok_or(FieldError::new(ErrorCode::StaffRoleInvalid, Field::Role))
    }

    /// Whether this role may do `what` (R-SEC-1). Everything not listed is refused.
    pub const fn may(self, what: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Operator => matches!(
                what,
                ViewReviewQueue | ViewProofFiles | DecideProofs | ManageDirectory | ManagePayments
            ),
            Role::Doctor => {
                matches!(
                    what,
                    ViewReviewQueue | ViewProofFiles | DecideProofs | Consult
                )
            }
            Role::Pharmacist => false,
            Role::Auditor => matches!(what, ViewReviewQueue | ViewProofFiles | ReadAuditLog),
            // System maintenance, separate from business operation (R-SEC-1): no
            // patient data, no money, no prices.
            Role::Admin => matches!(what, ManageStaff | ReadAuditLog),
        }
    }
}

/// Things staff do. A new one is refused to every role until [`Role::may`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ViewReviewQueue,
    /// Open a patient's uploaded proof (each view is logged, R-EMR-2).
    ViewProofFiles,
    /// Approve or reject a proof (R-ELIG-2).
    DecideProofs,
    /// Create, disable and enable staff accounts.
    ManageStaff,
    ReadAuditLog,
    /// Add doctors to the directory and publish the price list (R-DOC-1).
    ManageDirectory,
    /// See every order, refund in full or in part, and reconcile with the provider
    /// (R-PAY-2, R-PAY-3).
    ManagePayments,
    /// Answer their own consults and write their records (R-CONS-2, R-EMR-1); each
    /// read of a patient's consult or record is logged (R-EMR-2).
    Consult,
}

pub const ALL_PERMISSIONS: &[Permission] = &[
    Permission::ViewReviewQueue,
    Permission::ViewProofFiles,
    Permission::DecideProofs,
    Permission::ManageStaff,
    Permission::ReadAuditLog,
    Permission::ManageDirectory,
    Permission::ManagePayments,
    Permission::Consult,
];

/// A staff login name: 3–32 of `a-z 0-9 . _ -`, starting with a letter; case-folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUsername(String);

impl StaffUsername {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if ok {
            Ok(Self(name))
        } else {
            Err(FieldError::new(
                ErrorCode::StaffUsernameInvalid,
                Field::Username,
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Idle minutes after which a staff session ends (R-SEC-3), unless configured.
pub const STAFF_IDLE_MINUTES: i64 = 15;
/// One-time recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Second-factor guesses allowed per staff member in the lockout window.
pub const SECOND_FACTOR_TRIES: i64 = 5;

/// How long a one-time activation code sent to a new staff member's phone is good for.
pub const ACTIVATION_HOURS: i64 = 72;
/// Wrong activation codes one account may receive before its code is void (a new one
/// must be sent).
pub const ACTIVATION_TRIES: i64 = 5;

/// The one-time code that lets a staff member set their first password: ten letters
/// and digits without look-alikes, shown as `xxxxx-xxxxx`; case, spaces and dashes
/// are ignored when typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

impl ActivationCode {
    pub const ALPHABET: &'static [u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    const LEN: usize = 10;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let folded: String = super::normalize::normalize_identifier(input)
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .collect();
        if folded.len() == Self::LEN && folded.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            Ok(Self(folded))
        } else {
            Err(FieldError::new(ErrorCode::ActivationFailed, Field::Code))
        }
    }

    /// The folded code, as its keyed hash is taken.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As the SMS shows it.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }
}

/// Whether an activation code that expires at `expires_at` (Unix seconds) may still be
/// used at `now`: up to the second before.
pub fn activation_fresh(expires_at: i64, now: i64) -> bool {
    now < expires_at
}

/// What a staff member typed as a second factor: a 6-digit authenticator code, or a
/// recovery code (`xxxx-xxxx`, letters and digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(String),
    Recovery(String),
}

impl SecondFactor {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let folded: String = super::normalize::normalize_identifier(input)
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        if folded.len() == 6 && folded.chars().all(|c| c.is_ascii_digit()) {
            Ok(SecondFactor::Totp(folded))
        } else if folded.len() == 8 {
            Ok(SecondFactor::Recovery(folded))
        } else {
            Err(FieldError::new(ErrorCode::SecondFactorWrong, Field::Code))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-SEC-1: least privilege: the auditor only reads, the admin maintains the system
    // but does not review patients' proofs, the pharmacist has nothing here yet.
    #[test]
    fn roles_have_least_privilege() {
        use Permission::*;
        assert!(Role::Operator.may(DecideProofs));
        assert!(!Role::Operator.may(ManageStaff));
        assert!(!Role::Auditor.may(DecideProofs) && !Role::Auditor.may(ManageStaff));
        assert!(Role::Auditor.may(ReadAuditLog) && Role::Auditor.may(ViewReviewQueue));
        assert!(Role::Admin.may(ManageStaff));
        assert!(!Role::Admin.may(DecideProofs) && !Role::Admin.may(ViewProofFiles));
        // Security review item 1: the admin has no patient, money or price power.
        for p in [
            ViewReviewQueue,
            ViewProofFiles,
            DecideProofs,
            ManagePayments,
            ManageDirectory,
        ] {
            assert!(!Role::Admin.may(p), "{p:?}");
        }
        for p in ALL_PERMISSIONS {
            assert!(!Role::Pharmacist.may(*p));
        }
        // Only the admin manages staff; only operators and doctors decide.
        for r in ALL_ROLES {
            assert_eq!(r.may(ManageStaff), *r == Role::Admin, "{r:?}");
            assert_eq!(
                r.may(DecideProofs),
                matches!(r, Role::Operator | Role::Doctor),
                "{r:?}"
            );
            // Only doctors consult and write records (R-CONS-2, R-EMR-1).
            assert_eq!(r.may(Consult), *r == Role::Doctor, "{r:?}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in ALL_ROLES {
            assert_eq!(Role::parse(r.as_str()), Ok(*r));
        }
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn usernames_are_checked_and_folded() {
        assert_eq!(StaffUsername::parse(" Li.Na ").unwrap().as_str(), "li.na");
        for bad in ["", "ab", "1abc", "a b c", "张三", &"a".repeat(33), "x@y"] {
            assert!(StaffUsername::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn activation_codes_are_folded_and_checked() {
        let code = ActivationCode::parse(" ABCDE-fghjk ").unwrap();
        assert_eq!(code.as_str(), "abcdefghjk");
        assert_eq!(code.display(), "abcde-fghjk");
        // Look-alikes (0, 1, i, l, o) are never made, so they are never right.
        for bad in [
            "",
            "abcde-fghj",
            "abcde-fghjkm",
            "abcde-fghj0",
            "abcde fghjl",
            "张三张三张三张三张三",
        ] {
            assert!(ActivationCode::parse(bad).is_err(), "{bad:?}");
        }
        assert!(activation_fresh(100, 99));
        assert!(!activation_fresh(100, 100));
    }

    #[test]
    fn second_factors_are_told_apart() {
        assert_eq!(
            SecondFactor::parse(" 123 456 "),
            Ok(SecondFactor::Totp("123456".into()))
        );
        assert_eq!(
            SecondFactor::parse("１２３４５６"),
            Ok(SecondFactor::Totp("123456".into()))
        );
        assert_eq!(
            SecondFactor::parse("AB12-CD34"),
            Ok(SecondFactor::Recovery("ab12cd34".into()))
        );
        assert!(SecondFactor::parse("12345").is_err());
        assert!(SecondFactor::parse("").is_err());
    }
}
