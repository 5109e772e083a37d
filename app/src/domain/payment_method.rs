//! How a patient pays, and which ways work where they are (R-PAY-1). Inside WeChat's
//! built-in browser, Alipay's pages are blocked by WeChat, so Alipay is not offered
//! there, and the page says why instead of letting the patient fail at the last step.
//! A provider that takes a method only by QR code (Stripe's WeChat Pay on the web) needs
//! a second device on a phone: the page says so, and does not choose it by default.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    WechatPay,
    Alipay,
    Card,
}

/// In the order the payment page offers them: what most Chinese patients use first.
pub const ALL_PAYMENT_METHODS: &[PaymentMethod] = &[
    PaymentMethod::WechatPay,
    PaymentMethod::Alipay,
    PaymentMethod::Card,
];

impl PaymentMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::WechatPay => "wechat_pay",
            PaymentMethod::Alipay => "alipay",
            PaymentMethod::Card => "card",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_PAYMENT_METHODS
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
    }
}

/// Where the patient is, as far as paying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    /// WeChat's in-app browser (its user agent carries `MicroMessenger`).
    WeChat,
    /// Another browser on a phone or tablet.
    Phone,
    /// A computer: a QR code on its screen is scanned with the phone.
    Desktop,
}

impl Browser {
    pub fn from_user_agent(user_agent: &str) -> Browser {
        if user_agent.contains("MicroMessenger") {
            Browser::WeChat
        } else if ["Mobile", "Android", "iPhone", "iPad"]
            .iter()
            .any(|m| user_agent.contains(m))
        {
            Browser::Phone
        } else {
            Browser::Desktop
        }
    }
}

/// Why a method is not offered here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Unavailable {
    /// WeChat blocks Alipay's pages in its browser: open the page in another browser.
    BlockedInWeChat,
}

impl Unavailable {
    pub const fn as_str(self) -> &'static str {
        match self {
            Unavailable::BlockedInWeChat => "blocked_in_wechat",
        }
    }
}

/// A method as the pay form offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub method: PaymentMethod,
    /// Why it cannot be used here, if it cannot.
    pub unavailable: Option<Unavailable>,
    /// Only by QR code, and this is a phone: another device must scan it.
    pub scan_elsewhere: bool,
}

/// Each method the provider takes (those in `qr_only` only by QR code), and whether it
/// works in this browser.
pub fn offered(browser: Browser, takes: &[PaymentMethod], qr_only: &[PaymentMethod]) -> Vec<Offer> {
    ALL_PAYMENT_METHODS
        .iter()
        .copied()
        .filter(|m| takes.contains(m))
        .map(|method| Offer {
            method,
            unavailable: match (browser, method) {
                (Browser::WeChat, PaymentMethod::Alipay) => Some(Unavailable::BlockedInWeChat),
                _ => None,
            },
            scan_elsewhere: browser != Browser::Desktop && qr_only.contains(&method),
        })
        .collect()
}

/// The method chosen unless the patient picks another: the first that works here
/// without a second device, else the first that works at all.
pub fn default_method(offers: &[Offer]) -> Option<PaymentMethod> {
    let usable = || offers.iter().filter(|o| o.unavailable.is_none());
    usable()
        .find(|o| !o.scan_elsewhere)
        .or_else(|| usable().next())
        .map(|o| o.method)
}

/// The method is taken by the provider and works in this browser.
pub fn may_use(browser: Browser, takes: &[PaymentMethod], method: PaymentMethod) -> bool {
    offered(browser, takes, &[])
        .iter()
        .any(|o| o.method == method && o.unavailable.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WECHAT_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN";
    const WECHAT_ANDROID: &str = "Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
    const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

    const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";

    // R-PAY-1: WeChat's browser, on iOS and Android, is recognised; so are phones.
    #[test]
    fn browsers_are_recognised_by_their_user_agent() {
        assert_eq!(Browser::from_user_agent(WECHAT_IOS), Browser::WeChat);
        assert_eq!(Browser::from_user_agent(WECHAT_ANDROID), Browser::WeChat);
        assert_eq!(Browser::from_user_agent(SAFARI), Browser::Phone);
        assert_eq!(Browser::from_user_agent(DESKTOP), Browser::Desktop);
        assert_eq!(Browser::from_user_agent(""), Browser::Desktop);
    }

    fn summary(offers: &[Offer]) -> Vec<(PaymentMethod, Option<Unavailable>, bool)> {
        offers
            .iter()
            .map(|o| (o.method, o.unavailable, o.scan_elsewhere))
            .collect()
    }

    // R-PAY-1: inside WeChat, Alipay is shown as unavailable with its reason; elsewhere
    // everything the provider takes is offered.
    #[test]
    fn alipay_is_not_offered_inside_wechat() {
        let all = ALL_PAYMENT_METHODS;
        assert_eq!(
            summary(&offered(Browser::WeChat, all, &[])),
            vec![
                (PaymentMethod::WechatPay, None, false),
                (
                    PaymentMethod::Alipay,
                    Some(Unavailable::BlockedInWeChat),
                    false
                ),
                (PaymentMethod::Card, None, false),
            ]
        );
        assert!(
            offered(Browser::Phone, all, &[])
                .iter()
                .all(|o| o.unavailable.is_none())
        );
        assert!(!may_use(Browser::WeChat, all, PaymentMethod::Alipay));
        assert!(may_use(Browser::Phone, all, PaymentMethod::Alipay));
        // What the provider does not take is never offered.
        assert!(!may_use(
            Browser::Desktop,
            &[PaymentMethod::Card],
            PaymentMethod::WechatPay
        ));
        assert_eq!(
            offered(Browser::WeChat, &[PaymentMethod::Card], &[]).len(),
            1
        );
    }

    // R-PAY-1: a QR-only method needs another device on a phone (said, and not chosen
    // by default), not on a computer.
    #[test]
    fn a_qr_code_on_a_phone_needs_another_device() {
        let all = ALL_PAYMENT_METHODS;
        let qr = &[PaymentMethod::WechatPay];
        let wechat = offered(Browser::WeChat, all, qr);
        assert!(wechat[0].scan_elsewhere);
        assert_eq!(default_method(&wechat), Some(PaymentMethod::Card));
        let phone = offered(Browser::Phone, all, qr);
        assert_eq!(default_method(&phone), Some(PaymentMethod::Alipay));
        let desktop = offered(Browser::Desktop, all, qr);
        assert!(!desktop[0].scan_elsewhere);
        assert_eq!(default_method(&desktop), Some(PaymentMethod::WechatPay));
        // Only a QR-code method: still the default, with its note.
        let only = offered(Browser::WeChat, &[PaymentMethod::WechatPay], qr);
        assert_eq!(default_method(&only), Some(PaymentMethod::WechatPay));
        assert_eq!(default_method(&[]), None);
    }

    #[test]
    fn methods_round_trip() {
        for &m in ALL_PAYMENT_METHODS {
            assert_eq!(PaymentMethod::parse(m.as_str()), Some(m));
        }
        assert_eq!(PaymentMethod::parse("paypal"), None);
    }
}
