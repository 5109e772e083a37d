//! Real-name verification. The default checks what GB 11643 lets us check locally
//! (done when the ID is parsed); production would ask an identity service whether
//! the name and number belong together.
use app::domain::FieldError;
use app::domain::id_number::IdNumber;
use app::domain::person_name::RealName;
use async_trait::async_trait;

#[async_trait]
pub trait RealNameVerifier: Send + Sync {
    async fn verify(&self, name: &RealName, id_number: &IdNumber) -> Result<(), FieldError>;
    /// Local checks alone are for development; production refuses to start with them.
    fn is_dev_only(&self) -> bool {
        false
    }
}

/// Accepts every well-formed pair; the format checks already happened in `IdNumber::parse`.
pub struct LocalChecksOnly;

#[async_trait]
impl RealNameVerifier for LocalChecksOnly {
    async fn verify(&self, _name: &RealName, _id_number: &IdNumber) -> Result<(), FieldError> {
        Ok(())
    }
    fn is_dev_only(&self) -> bool {
        true
    }
}
