//! The documents a patient must explicitly accept (R-REG-2, R-REG-3).
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDocument {
    ServiceAgreement,
    InformedConsent,
    /// PIPL art. 29: sensitive personal information needs its own consent.
    SensitiveInfo,
}

pub const ALL_DOCUMENTS: [ConsentDocument; 3] = [
    ConsentDocument::ServiceAgreement,
    ConsentDocument::InformedConsent,
    ConsentDocument::SensitiveInfo,
];

impl ConsentDocument {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentDocument::ServiceAgreement => "service_agreement",
            ConsentDocument::InformedConsent => "informed_consent",
            ConsentDocument::SensitiveInfo => "sensitive_info",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_DOCUMENTS.into_iter().find(|d| d.as_str() == s)
    }

    /// The text in Chinese (authoritative) and English. Server only: the page gets it
    /// from the server, so the browser's download does not carry every text.
    #[cfg(feature = "ssr")]
    pub fn text(self, english: bool) -> &'static str {
        match (self, english) {
            (ConsentDocument::ServiceAgreement, false) => {
                include_str!("../../consents/service_agreement.zh-CN.md")
            }
            (ConsentDocument::ServiceAgreement, true) => {
                include_str!("../../consents/service_agreement.en.md")
            }
            (ConsentDocument::InformedConsent, false) => {
                include_str!("../../consents/informed_consent.zh-CN.md")
            }
            (ConsentDocument::InformedConsent, true) => {
                include_str!("../../consents/informed_consent.en.md")
            }
            (ConsentDocument::SensitiveInfo, false) => {
                include_str!("../../consents/sensitive_info.zh-CN.md")
            }
            (ConsentDocument::SensitiveInfo, true) => {
                include_str!("../../consents/sensitive_info.en.md")
            }
        }
    }

    /// What the version hash covers: both languages, so a change to either asks again.
    #[cfg(feature = "ssr")]
    pub fn versioned_content(self) -> String {
        format!("{}\n---\n{}", self.text(false), self.text(true))
    }
}

/// Which documents still need the patient's "我同意", given the versions they accepted
/// (and have not withdrawn) and the current versions.
pub fn outstanding<'a>(
    current: &'a [(ConsentDocument, String)],
    accepted: &[(ConsentDocument, String)],
) -> Vec<&'a (ConsentDocument, String)> {
    current
        .iter()
        .filter(|doc| !accepted.contains(doc))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsentDocument::*;

    // R-REG-2: a new version of a text requires fresh consent.
    #[test]
    fn a_changed_version_is_outstanding_again() {
        let current = vec![
            (ServiceAgreement, "v2".to_owned()),
            (InformedConsent, "v1".to_owned()),
        ];
        let accepted = vec![
            (ServiceAgreement, "v1".to_owned()),
            (InformedConsent, "v1".to_owned()),
        ];
        assert_eq!(
            outstanding(&current, &accepted),
            vec![&(ServiceAgreement, "v2".to_owned())]
        );
        let all = vec![
            (ServiceAgreement, "v2".to_owned()),
            (InformedConsent, "v1".to_owned()),
        ];
        assert!(outstanding(&current, &all).is_empty());
    }

    // R-REG-3: the sensitive-information consent is its own document.
    #[cfg(feature = "ssr")]
    #[test]
    fn three_separate_documents_with_texts_in_both_languages() {
        for doc in ALL_DOCUMENTS {
            assert!(doc.text(false).starts_with("# "));
            assert!(doc.text(true).starts_with("# "));
            assert_eq!(ConsentDocument::parse(doc.as_str()), Some(doc));
        }
        assert!(SensitiveInfo.text(false).contains("身份证号码"));
    }
}
