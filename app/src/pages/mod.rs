//! One module per screen.
mod account;
mod consent;
mod consult_consent;
mod consult_start;
mod family;
mod home;
mod login;
mod me;
mod proof_upload;
mod proofs;
mod register;
mod screen;
mod staff;
mod tabs;

pub use account::{ChangePasswordPage, ResetPasswordPage};
pub use consent::{ConsentDocumentPage, ConsentPage};
pub use consult_consent::ConsultConsentPage;
pub use consult_start::ConsultStartPage;
pub use family::{AddFamilyMemberPage, FamilyListPage};
pub use home::HomePage;
pub use login::{LoginPage, SmsLoginPage};
pub use me::MePage;
pub use proofs::{NewProofPage, ProofsPage};
pub use register::RegisterPage;
pub use screen::{EmergencyPage, ScreenPage};
pub use staff::{StaffEnrolPage, StaffHomePage, StaffLoginPage, StaffSecondFactorPage};
pub use tabs::{ConsultsPage, MessagePage, MessagesPage, NotFound};
