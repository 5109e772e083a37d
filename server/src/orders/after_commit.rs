//! What a transaction's steps leave to do once it has committed.
use crate::notices::notice::Notice;

/// Work for once the transaction has committed.
pub type Task = Box<dyn FnOnce(&std::sync::Arc<crate::state::State>) + Send>;

/// What a transaction's steps leave to do once it has committed.
#[derive(Default)]
pub struct AfterCommit {
    pub sms: Vec<Notice>,
    /// Refunds recorded and to be asked of the provider.
    pub refunds: usize,
    /// Other features' work once the data is visible (a consult's news published).
    pub tasks: Vec<Task>,
}
