//! What an order pays for. Each kind of subject (a consult booking today, a drug order
//! next) is answered for by its own feature through [`Subject`]; the order runner calls it
//! and names no subject itself.
use super::after_commit::AfterCommit;
use crate::context::RequestContext;
use crate::error::AppError;
use app::domain::order::SubjectKind;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use std::sync::Arc;

/// One subject: its kind and its id in its feature's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectRef {
    pub kind: SubjectKind,
    pub id: i64,
}

/// What the order runner asks of the thing an order pays for.
#[async_trait::async_trait]
pub trait Subject: Send + Sync {
    fn kind(&self) -> SubjectKind;

    /// The order is paid: the subject takes the payment, in the transaction that marks
    /// the order paid (a held booking is confirmed). `false` if the subject ended before
    /// the money came: the money then goes back.
    async fn paid(
        &self,
        txn: &DatabaseTransaction,
        id: i64,
        cx: &RequestContext,
        after: &mut AfterCommit,
    ) -> Result<bool, AppError>;

    /// Whether the subject still waits for its payment, read in the transaction that
    /// marks a payment begun (a hold that ended meanwhile cannot be paid).
    async fn awaits_payment(&self, txn: &DatabaseTransaction, id: i64) -> Result<bool, AppError>;

    /// The subjects' public numbers, for links from their orders: `(id, number)`.
    async fn numbers(
        &self,
        db: &DatabaseConnection,
        ids: &[i64],
    ) -> Result<Vec<(i64, String)>, AppError>;

    /// The patient's page of the subject with this number: where paying returns to.
    fn page(&self, number: &str) -> String;
}

/// The subjects the features answer for, one per kind.
#[derive(Clone, Default)]
pub struct Subjects(Vec<Arc<dyn Subject>>);

impl Subjects {
    pub fn new(subjects: Vec<Arc<dyn Subject>>) -> Self {
        Self(subjects)
    }

    pub(crate) fn find(&self, kind: SubjectKind) -> Option<&dyn Subject> {
        self.0.iter().find(|s| s.kind() == kind).map(AsRef::as_ref)
    }
}
