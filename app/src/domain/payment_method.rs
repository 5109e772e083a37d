//! How a patient pays, and which ways work where they are (R-PAY-1). Inside WeChat's
//! built-in browser, Alipay's pages are blocked by WeChat, so Alipay is not offered
//! there, and the page says why instead of letting the patient fail at the last step.
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
    /// Any other browser.
    Other,
}

impl Browser {
    pub fn from_user_agent(user_agent: &str) -> Browser {
        if user_agent.contains("MicroMessenger") {
            Browser::WeChat
        } else {
            Browser::Other
        }
    }
}

/// Why a method is not offered here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// Each method the provider takes, and whether it works in this browser.
pub fn offered(
    browser: Browser,
    provider_takes: &[PaymentMethod],
) -> Vec<(PaymentMethod, Option<Unavailable>)> {
    ALL_PAYMENT_METHODS
        .iter()
        .copied()
        .filter(|m| provider_takes.contains(m))
        .map(|m| {
            let why_not = match (browser, m) {
                (Browser::WeChat, PaymentMethod::Alipay) => Some(Unavailable::BlockedInWeChat),
                _ => None,
            };
            (m, why_not)
        })
        .collect()
}

/// The method is taken by the provider and works in this browser.
pub fn may_use(browser: Browser, provider_takes: &[PaymentMethod], method: PaymentMethod) -> bool {
    offered(browser, provider_takes)
        .iter()
        .any(|&(m, why_not)| m == method && why_not.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WECHAT_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN";
    const WECHAT_ANDROID: &str = "Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
    const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

    // R-PAY-1: WeChat's browser, on iOS and Android, is recognised; others are not.
    #[test]
    fn wechat_is_recognised_by_its_user_agent() {
        assert_eq!(Browser::from_user_agent(WECHAT_IOS), Browser::WeChat);
        assert_eq!(Browser::from_user_agent(WECHAT_ANDROID), Browser::WeChat);
        assert_eq!(Browser::from_user_agent(SAFARI), Browser::Other);
        assert_eq!(Browser::from_user_agent(""), Browser::Other);
    }

    // R-PAY-1: inside WeChat, Alipay is shown as unavailable with its reason; elsewhere
    // everything the provider takes is offered.
    #[test]
    fn alipay_is_not_offered_inside_wechat() {
        let all = ALL_PAYMENT_METHODS;
        assert_eq!(
            offered(Browser::WeChat, all),
            vec![
                (PaymentMethod::WechatPay, None),
                (PaymentMethod::Alipay, Some(Unavailable::BlockedInWeChat)),
                (PaymentMethod::Card, None),
            ]
        );
        assert!(
            offered(Browser::Other, all)
                .iter()
                .all(|(_, why)| why.is_none())
        );
        assert!(!may_use(Browser::WeChat, all, PaymentMethod::Alipay));
        assert!(may_use(Browser::Other, all, PaymentMethod::Alipay));
        // What the provider does not take is never offered.
        assert!(!may_use(
            Browser::Other,
            &[PaymentMethod::Card],
            PaymentMethod::WechatPay
        ));
        assert_eq!(offered(Browser::WeChat, &[PaymentMethod::Card]).len(), 1);
    }

    #[test]
    fn methods_round_trip() {
        for &m in ALL_PAYMENT_METHODS {
            assert_eq!(PaymentMethod::parse(m.as_str()), Some(m));
        }
        assert_eq!(PaymentMethod::parse("paypal"), None);
    }
}
