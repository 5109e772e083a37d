//! The names of our cookies.

/// Cookie names: in production the `__Host-` prefix (Secure, Path=/, no Domain) means no
/// subdomain or plain-HTTP page can set or overwrite them.
#[derive(Clone, Copy)]
pub struct CookieNames {
    pub secure: bool,
}

impl CookieNames {
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-fuzhen_session"
        } else {
            "fuzhen_session"
        }
    }
    pub fn csrf_name(&self) -> &'static str {
        if self.secure {
            "__Host-fuzhen_csrf"
        } else {
            "fuzhen_csrf"
        }
    }
}
