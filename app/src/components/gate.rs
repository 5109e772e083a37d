//! Who may see a page. Pages render on the server only (islands mode: every link is a
//! request to the server), so this one check, a redirect response, covers every way in.
use crate::viewer::{Viewer, current_viewer};
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// A route's access rule. Every route in `app.rs` is wrapped in [`gated`]; the default
/// for a new page is [`Access::Consented`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, even a patient whose consent is outstanding (the consent texts).
    Anyone,
    /// Anyone; a logged-in patient with outstanding consent is sent to agree first.
    Open,
    /// A logged-in patient, consent outstanding or not (the consent page itself).
    Patient,
    /// A logged-in patient who has agreed to the texts in force (R-REG-2).
    Consented,
    /// Between the staff password and the second factor.
    StaffSecondStep,
    /// A staff member with both factors (R-SEC-3); roles are checked by the page's data.
    Staff,
}

/// Where the viewer must go instead, if anywhere.
pub fn redirect_for(access: Access, v: &Viewer) -> Option<&'static str> {
    let logged_in = v.signed_in.is_some();
    let outstanding = logged_in && !v.consents_outstanding.is_empty();
    match access {
        Access::Anyone => None,
        Access::StaffSecondStep if v.staff_pending.is_none() => Some("/staff/login"),
        Access::StaffSecondStep => None,
        Access::Staff if v.staff.is_none() => Some("/staff/login"),
        Access::Staff => None,
        Access::Open | Access::Consented if outstanding => Some("/consent"),
        Access::Open => None,
        Access::Patient | Access::Consented if !logged_in => Some("/login?error=unauthenticated"),
        Access::Patient | Access::Consented => None,
    }
}

/// Renders `page` if the viewer may see it; otherwise redirects.
pub fn gated<V: IntoView + 'static>(access: Access, page: fn() -> V) -> AnyView {
    match redirect_for(access, &current_viewer()) {
        Some(path) => view! { <Redirect path=path /> }.into_any(),
        None => page().into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::ConsentDocumentView;
    use crate::domain::consent::ConsentDocument;
    use crate::viewer::SignedIn;

    fn patient(outstanding: bool) -> Viewer {
        Viewer {
            signed_in: Some(SignedIn::default()),
            consents_outstanding: if outstanding {
                vec![ConsentDocumentView {
                    document: ConsentDocument::InformedConsent,
                    version: "v".into(),
                }]
            } else {
                vec![]
            },
            ..Viewer::default()
        }
    }

    // R-REG-2: outstanding consent stops every page but the consent texts; personal pages
    // need a login.
    #[test]
    fn gates_send_each_viewer_where_they_may_go() {
        let anon = Viewer::default();
        let login = Some("/login?error=unauthenticated");
        assert_eq!(redirect_for(Access::Open, &anon), None);
        assert_eq!(redirect_for(Access::Consented, &anon), login);
        assert_eq!(redirect_for(Access::Patient, &anon), login);
        let owing = patient(true);
        assert_eq!(redirect_for(Access::Open, &owing), Some("/consent"));
        assert_eq!(redirect_for(Access::Consented, &owing), Some("/consent"));
        assert_eq!(redirect_for(Access::Patient, &owing), None);
        assert_eq!(redirect_for(Access::Anyone, &owing), None);
        let fine = patient(false);
        for a in [
            Access::Anyone,
            Access::Open,
            Access::Patient,
            Access::Consented,
        ] {
            assert_eq!(redirect_for(a, &fine), None);
        }
    }
}
