//! A notice on its way to a patient: what the features that notify hand over.
use app::domain::notice::NoticeKind;

/// A notice to send: to which account, about whom, what, with which values.
#[derive(Debug, Clone)]
pub struct Notice {
    pub patient_id: i64,
    pub family_member_id: Option<i64>,
    pub kind: NoticeKind,
    pub params: Vec<(String, String)>,
}
