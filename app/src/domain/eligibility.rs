//! May this 就诊人 start a follow-up consult for this diagnosis with this department
//! today? One decision for booking, chat and prescriptions alike (R-ELIG-1, R-ELIG-3,
//! R-ELIG-5, R-REG-2), and when the answer is no, which reason to tell the patient.
//!
//! The checks run in a fixed order, so the patient hears the reason that matters first:
//! consent (nothing happens without it), the age policy and a critical condition (they
//! hold whatever the diagnosis), then the diagnosis itself: approved, treated by the
//! department, and recent enough.
use super::ErrorCode;
use super::age::age_on;
use super::department::Department;
use time::{Date, Month};

/// The hospital's settings for who may consult online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibilityPolicy {
    /// A proof counts for this many months after the date of diagnosis (default 12): an
    /// older diagnosis needs a new proof.
    pub proof_valid_months: u32,
    pub age: AgePolicy,
}

impl Default for EligibilityPolicy {
    fn default() -> Self {
        Self {
            proof_valid_months: 12,
            age: AgePolicy::national(),
        }
    }
}

/// R-ELIG-5. The national rule refuses no age: under 6 a guardian and a relevant
/// specialist must be present when prescribing (R-RX-3). A hospital may switch on its
/// stricter rule: no infants under a number of days, no one over an age, no one in a
/// critical condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgePolicy {
    /// Refuse a 就诊人 fewer than this many days old (the hospital's rule: 28).
    pub min_age_days: Option<u32>,
    /// Refuse a 就诊人 older than this many 周岁.
    pub max_age_years: Option<u32>,
    /// Refuse a 就诊人 who says they are in a critical condition.
    pub refuse_critical: bool,
}

/// Below this age (周岁) a guardian and a relevant specialist must be present (R-RX-3).
pub const GUARDIAN_PRESENT_UNDER: u32 = 6;
/// Below full age the 就诊人 is served only through a guardian (R-REG-7).
pub const GUARDIAN_ACTS_UNDER: u32 = super::age::ADULT_AGE;

impl AgePolicy {
    pub const fn national() -> Self {
        Self {
            min_age_days: None,
            max_age_years: None,
            refuse_critical: false,
        }
    }

    /// The hospital's own rule (000 诊疗内容规定 5), with the oldest age it serves.
    pub const fn hospital(max_age_years: u32) -> Self {
        Self {
            min_age_days: Some(28),
            max_age_years: Some(max_age_years),
            refuse_critical: true,
        }
    }
}

/// A diagnosis an operator or doctor approved from the 就诊人's proof (R-ELIG-2).
/// Pending, rejected and withdrawn proofs are never passed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedDiagnosis {
    pub proof_id: i64,
    /// ICD-10 code as approved, e.g. `I10`.
    pub icd10: String,
    /// The department the approver confirmed treats it.
    pub department: Department,
    pub diagnosed_on: Date,
}

/// Who the consult would be for.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub birth_date: Date,
    /// The acting account has agreed to the texts in force (R-REG-2).
    pub consents_in_force: bool,
    /// Said yes to "in a critical condition" on the screen before the consult.
    pub critical: bool,
    pub diagnoses: &'a [ApprovedDiagnosis],
}

/// What the patient asks for.
#[derive(Debug, Clone, Copy)]
pub struct ConsultRequest<'a> {
    pub icd10: &'a str,
    pub department: Department,
    pub today: Date,
}

/// Yes, with what the consult must then respect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligible {
    /// The proof the consult is booked against.
    pub proof_id: i64,
    /// Under 18: only a guardian acts (R-REG-7).
    pub guardian_acts: bool,
    /// Under 6: a guardian and a relevant specialist must be present (R-RX-3).
    pub guardian_and_specialist_present: bool,
}

/// No, and why, in terms the patient can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The acting account has not agreed to the texts in force.
    ConsentMissing,
    /// Younger than the hospital serves online (days old, minimum).
    TooYoung { min_age_days: u32 },
    /// Older than the hospital serves online (周岁, maximum).
    TooOld { max_age_years: u32 },
    /// A critical condition: go to a hospital.
    Critical,
    /// No approved diagnosis for this condition: a first visit, which must be in person.
    FirstVisit,
    /// The diagnosis is treated by another department.
    WrongDepartment { treated_by: Department },
    /// The newest proof is older than the policy accepts; a new one is needed.
    ProofExpired {
        diagnosed_on: Date,
        valid_until: Date,
    },
}

impl Refusal {
    /// The stable code, for the API and for the localized message.
    pub const fn code(self) -> ErrorCode {
        match self {
            Refusal::ConsentMissing => ErrorCode::ConsentRequired,
            Refusal::TooYoung { .. } => ErrorCode::EligibilityTooYoung,
            Refusal::TooOld { .. } => ErrorCode::EligibilityTooOld,
            Refusal::Critical => ErrorCode::EligibilityCritical,
            Refusal::FirstVisit => ErrorCode::EligibilityFirstVisit,
            Refusal::WrongDepartment { .. } => ErrorCode::EligibilityWrongDepartment,
            Refusal::ProofExpired { .. } => ErrorCode::EligibilityProofExpired,
        }
    }
}

/// The decision. Pure: the day is passed in, as everywhere in the domain.
pub fn decide(
    policy: &EligibilityPolicy,
    who: Candidate<'_>,
    want: ConsultRequest<'_>,
) -> Result<Eligible, Refusal> {
    if !who.consents_in_force {
        return Err(Refusal::ConsentMissing);
    }
    let age = age_on(who.birth_date, want.today);
    if let Some(min_age_days) = policy.age.min_age_days {
        let days_old = (want.today - who.birth_date).whole_days();
        if days_old < i64::from(min_age_days) {
            return Err(Refusal::TooYoung { min_age_days });
        }
    }
    if let Some(max_age_years) = policy.age.max_age_years
        && age > max_age_years
    {
        return Err(Refusal::TooOld { max_age_years });
    }
    if policy.age.refuse_critical && who.critical {
        return Err(Refusal::Critical);
    }
    // A renewed proof for the same condition supersedes the older ones.
    let newest = who
        .diagnoses
        .iter()
        .filter(|d| same_code(&d.icd10, want.icd10))
        .max_by_key(|d| (d.diagnosed_on, d.proof_id))
        .ok_or(Refusal::FirstVisit)?;
    if newest.department != want.department {
        return Err(Refusal::WrongDepartment {
            treated_by: newest.department,
        });
    }
    let valid_until = add_months(newest.diagnosed_on, policy.proof_valid_months);
    if want.today > valid_until {
        return Err(Refusal::ProofExpired {
            diagnosed_on: newest.diagnosed_on,
            valid_until,
        });
    }
    Ok(Eligible {
        proof_id: newest.proof_id,
        guardian_acts: age < GUARDIAN_ACTS_UNDER,
        guardian_and_specialist_present: age < GUARDIAN_PRESENT_UNDER,
    })
}

/// ICD-10 codes compare without case or a trailing dot (`i10`, `I10.`).
fn same_code(a: &str, b: &str) -> bool {
    let clean = |s: &str| s.trim().trim_end_matches('.').to_ascii_uppercase();
    clean(a) == clean(b)
}

/// The same day `months` later; a day the month lacks becomes its last day
/// (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: Date, months: u32) -> Date {
    let index = date.year() as i64 * 12 + (date.month() as i64 - 1) + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MAX);
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).unwrap_or(Month::December);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 24);

    fn hypertension(diagnosed_on: Date) -> ApprovedDiagnosis {
        ApprovedDiagnosis {
            proof_id: 1,
            icd10: "I10".into(),
            department: Department::Cardiology,
            diagnosed_on,
        }
    }

    fn adult(diagnoses: &[ApprovedDiagnosis]) -> Candidate<'_> {
        Candidate {
            birth_date: date!(1960 - 05 - 01),
            consents_in_force: true,
            critical: false,
            diagnoses,
        }
    }

    fn want(icd10: &str, department: Department) -> ConsultRequest<'_> {
        ConsultRequest {
            icd10,
            department,
            today: TODAY,
        }
    }

    fn national() -> EligibilityPolicy {
        EligibilityPolicy::default()
    }

    fn strict(max_age_years: u32) -> EligibilityPolicy {
        EligibilityPolicy {
            age: AgePolicy::hospital(max_age_years),
            ..EligibilityPolicy::default()
        }
    }

    // R-ELIG-1/3: an approved diagnosis, treated by the department asked for.
    #[test]
    fn an_approved_recent_diagnosis_is_eligible() {
        let d = [hypertension(date!(2026 - 06 - 01))];
        assert_eq!(
            decide(&national(), adult(&d), want("I10", Department::Cardiology)),
            Ok(Eligible {
                proof_id: 1,
                guardian_acts: false,
                guardian_and_specialist_present: false
            })
        );
        // Codes as people type them.
        for code in ["i10", " I10 ", "I10."] {
            assert!(decide(&national(), adult(&d), want(code, Department::Cardiology)).is_ok());
        }
    }

    // R-ELIG-1: no approved diagnosis for this condition is a first visit.
    #[test]
    fn without_an_approved_diagnosis_it_is_a_first_visit() {
        assert_eq!(
            decide(&national(), adult(&[]), want("I10", Department::Cardiology)),
            Err(Refusal::FirstVisit)
        );
        let d = [hypertension(date!(2026 - 06 - 01))];
        assert_eq!(
            decide(
                &national(),
                adult(&d),
                want("E11.9", Department::Endocrinology)
            ),
            Err(Refusal::FirstVisit),
            "a diagnosis of something else does not count"
        );
        assert_eq!(
            decide(&national(), adult(&d), want("I1", Department::Cardiology)),
            Err(Refusal::FirstVisit),
            "a code's prefix is not the code"
        );
    }

    // R-ELIG-3: the department must treat the diagnosis.
    #[test]
    fn another_department_is_refused_and_told_which_treats_it() {
        let d = [hypertension(date!(2026 - 06 - 01))];
        assert_eq!(
            decide(&national(), adult(&d), want("I10", Department::Neurology)),
            Err(Refusal::WrongDepartment {
                treated_by: Department::Cardiology
            })
        );
    }

    // R-ELIG-2: a diagnosis older than the policy allows (12 months by default) needs a
    // new proof; the last valid day is the same date a year later.
    #[test]
    fn a_proof_is_valid_to_the_same_date_a_year_later_inclusive() {
        let on_edge = [hypertension(date!(2025 - 11 - 24))];
        assert!(
            decide(
                &national(),
                adult(&on_edge),
                want("I10", Department::Cardiology)
            )
            .is_ok()
        );
        let a_day_older = [hypertension(date!(2025 - 11 - 23))];
        assert_eq!(
            decide(
                &national(),
                adult(&a_day_older),
                want("I10", Department::Cardiology)
            ),
            Err(Refusal::ProofExpired {
                diagnosed_on: date!(2025 - 11 - 23),
                valid_until: date!(2026 - 11 - 23)
            })
        );
        let six_months = EligibilityPolicy {
            proof_valid_months: 6,
            ..national()
        };
        let d = [hypertension(date!(2026 - 05 - 24))];
        assert!(decide(&six_months, adult(&d), want("I10", Department::Cardiology)).is_ok());
        let d = [hypertension(date!(2026 - 05 - 23))];
        assert!(decide(&six_months, adult(&d), want("I10", Department::Cardiology)).is_err());
    }

    // A renewed proof supersedes an older one for the same condition: its department
    // and its date count.
    #[test]
    fn the_newest_proof_for_a_condition_counts() {
        let old = hypertension(date!(2024 - 01 - 10));
        let renewed = ApprovedDiagnosis {
            proof_id: 2,
            diagnosed_on: date!(2026 - 10 - 01),
            ..hypertension(date!(2026 - 10 - 01))
        };
        let d = [old.clone(), renewed];
        assert_eq!(
            decide(&national(), adult(&d), want("I10", Department::Cardiology)).map(|e| e.proof_id),
            Ok(2)
        );
        let moved = ApprovedDiagnosis {
            proof_id: 3,
            department: Department::General,
            diagnosed_on: date!(2026 - 11 - 01),
            ..old
        };
        let d = [hypertension(date!(2026 - 10 - 01)), moved];
        assert_eq!(
            decide(&national(), adult(&d), want("I10", Department::Cardiology)),
            Err(Refusal::WrongDepartment {
                treated_by: Department::General
            })
        );
    }

    // R-REG-2: nothing without the texts in force, and that is said first.
    #[test]
    fn missing_consent_comes_before_everything() {
        let who = Candidate {
            consents_in_force: false,
            critical: true,
            ..adult(&[])
        };
        assert_eq!(
            decide(&strict(80), who, want("I10", Department::Cardiology)),
            Err(Refusal::ConsentMissing)
        );
    }

    // R-REG-7 / R-RX-3: under 18 a guardian acts; under 6 a guardian and a specialist
    // must be present. On the 6th and 18th birthdays the child is still the younger age.
    #[test]
    fn guardian_flags_follow_age_in_full_years() {
        let asthma = |birth| {
            (
                Candidate {
                    birth_date: birth,
                    consents_in_force: true,
                    critical: false,
                    diagnoses: &[],
                },
                [ApprovedDiagnosis {
                    proof_id: 9,
                    icd10: "J45.9".into(),
                    department: Department::Pediatrics,
                    diagnosed_on: date!(2026 - 09 - 01),
                }],
            )
        };
        let check = |birth: Date| {
            let (who, d) = asthma(birth);
            let e = decide(
                &national(),
                Candidate {
                    diagnoses: &d,
                    ..who
                },
                want("J45.9", Department::Pediatrics),
            )
            .expect("eligible");
            (e.guardian_acts, e.guardian_and_specialist_present)
        };
        assert_eq!(
            check(date!(2020 - 11 - 24)),
            (true, true),
            "6th birthday: still 5"
        );
        assert_eq!(check(date!(2020 - 11 - 23)), (true, false), "day after: 6");
        assert_eq!(
            check(date!(2008 - 11 - 24)),
            (true, false),
            "18th birthday: still 17"
        );
        assert_eq!(
            check(date!(2008 - 11 - 23)),
            (false, false),
            "day after: 18"
        );
        assert_eq!(check(TODAY), (true, true), "born today");
    }

    // R-ELIG-5: the national rule refuses no age.
    #[test]
    fn the_national_rule_refuses_no_age_and_no_self_declared_critical_state() {
        let d = [hypertension(date!(2026 - 06 - 01))];
        for birth in [TODAY, date!(2026 - 11 - 10), date!(1920 - 01 - 01)] {
            let who = Candidate {
                birth_date: birth,
                critical: true,
                ..adult(&d)
            };
            assert!(decide(&national(), who, want("I10", Department::Cardiology)).is_ok());
        }
    }

    // R-ELIG-5: the hospital's rule: no infant under 28 days (day 27 refused, day 28
    // served), no one older than the configured age in 周岁, no critical patients.
    #[test]
    fn the_hospital_rule_refuses_infants_the_very_old_and_critical_patients() {
        let d = [hypertension(date!(2026 - 06 - 01))];
        let at = |birth: Date, critical: bool| {
            decide(
                &strict(80),
                Candidate {
                    birth_date: birth,
                    critical,
                    ..adult(&d)
                },
                want("I10", Department::Cardiology),
            )
        };
        assert_eq!(
            at(date!(2026 - 10 - 28), false),
            Err(Refusal::TooYoung { min_age_days: 28 }),
            "27 days old"
        );
        assert!(at(date!(2026 - 10 - 27), false).is_ok(), "28 days old");
        assert!(
            at(date!(1945 - 11 - 24), false).is_ok(),
            "81st birthday: still 80"
        );
        assert_eq!(
            at(date!(1945 - 11 - 23), false),
            Err(Refusal::TooOld { max_age_years: 80 }),
            "the day after: 81"
        );
        assert_eq!(at(date!(1970 - 01 - 01), true), Err(Refusal::Critical));
        // The age policy is said before a missing diagnosis: a new proof would not help.
        let none = Candidate {
            birth_date: date!(1940 - 01 - 01),
            ..adult(&[])
        };
        assert_eq!(
            decide(&strict(80), none, want("I10", Department::Cardiology)),
            Err(Refusal::TooOld { max_age_years: 80 })
        );
    }

    #[test]
    fn months_are_added_on_the_calendar() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 02 - 29), 12), date!(2025 - 02 - 28));
        assert_eq!(add_months(date!(2023 - 02 - 28), 12), date!(2024 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 24), 2), date!(2027 - 01 - 24));
        assert_eq!(add_months(date!(2026 - 05 - 31), 0), date!(2026 - 05 - 31));
    }

    #[test]
    fn every_refusal_has_its_own_code() {
        let all = [
            Refusal::ConsentMissing,
            Refusal::TooYoung { min_age_days: 28 },
            Refusal::TooOld { max_age_years: 80 },
            Refusal::Critical,
            Refusal::FirstVisit,
            Refusal::WrongDepartment {
                treated_by: Department::General,
            },
            Refusal::ProofExpired {
                diagnosed_on: TODAY,
                valid_until: TODAY,
            },
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), all.len());
    }
}
