//! The call panel of a video consult (R-CONS-1, R-CONS-6): a check of the camera,
//! microphone and network before the call, then the call itself with mute, camera off,
//! front/back camera, a quality hint, one-tap rejoin, and the fallbacks to voice and to
//! text. It lives inside the consult's live island and rides its connection: `call`
//! frames move the call, `signal` frames carry the browsers' offer and answer.
//!
//! Without WebAssembly, or in a browser without camera access (some in-app browsers),
//! the panel says so, shows how to open the page in the system browser, and the consult
//! goes on in writing below it.
#[cfg(feature = "hydrate")]
pub mod browser;
#[cfg(feature = "hydrate")]
mod recorder;

#[cfg(feature = "hydrate")]
use crate::chat::protocol::CallView;
use crate::chat::protocol::IceServer;
#[cfg(feature = "hydrate")]
use crate::domain::call::CallQuality;
use crate::domain::consult::Side;
use crate::i18n::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A recording as the consult's record lists it (R-CONS-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecordingView {
    pub recording_number: String,
    pub call: String,
    pub part: i32,
    /// `server` (the media server) or `client` (the doctor's page on the backup).
    pub made_by: String,
    pub content_type: String,
    pub bytes: i64,
    pub duration_ms: i64,
    pub sha256: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// One of a consult's calls and what was recorded of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallRecord {
    pub call: String,
    /// `sfu` (the primary) or `direct` (the backup).
    pub system: String,
    pub media: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// `pending`, `recorded` or `none`.
    pub recording: String,
    /// Why there is no recording.
    pub note: Option<String>,
    pub recordings: Vec<RecordingView>,
    /// What the media server saw of the call (the primary system only), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_events: Vec<MediaEventView>,
}

/// A media server's report about a call: a side joining, publishing, leaving, its
/// connection or media stopping (R-CONS-7, 全程留痕).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MediaEventView {
    pub side: Option<Side>,
    /// `joined`, `published`, `unpublished`, `left`, `connected`, `hung_up`,
    /// `media_stopped`, `media_back`.
    pub what: String,
    pub detail: Option<String>,
    /// Unix milliseconds, the media server's clock.
    pub at_ms: i64,
}

/// A consult's calls, for its page: when, on which line, and the recordings with links
/// under `files` (`/api/v1/consults/{n}/recordings` or the staff one).
pub fn calls_section(locale: Locale, calls: Vec<CallRecord>, files: String) -> impl IntoView {
    (!calls.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="calls-title" data-testid="calls">
                <h2 id="calls-title">{td_string!(locale, call.calls_title)}</h2>
                <ul class="call-list">
                    {calls.into_iter().map(|c| {
                        let line = if c.system == "sfu" { td_string!(locale, call.primary_line) } else { td_string!(locale, call.backup_line) };
                        let media = if c.media == "voice" { td_string!(locale, call.voice) } else { td_string!(locale, call.video) };
                        let when = crate::consult::when(c.started_at);
                        let minutes = c.ended_at.map(|e| ((e - c.started_at).max(0) + 59) / 60);
                        let length = minutes.map(|m| crate::localized::fill(td_string!(locale, call.minutes), &[("n", &m.to_string())]));
                        let status = match c.recording.as_str() {
                            "recorded" => None,
                            "none" => Some(crate::localized::fill(td_string!(locale, call.not_recorded), &[("reason", c.note.as_deref().unwrap_or_default())])),
                            _ => Some(td_string!(locale, call.recording_pending).to_owned()),
                        };
                        let files = files.clone();
                        view! {
                            <li>
                                <p>{format!("{when} · {media} · {line}")}{length.map(|l| format!(" · {l}"))}</p>
                                {status.map(|s| view! { <p class="hint">{s}</p> })}
                                {c.recordings.into_iter().map(|r| {
                                    let secs = r.duration_ms / 1000;
                                    view! {
                                        <p><a href=format!("{files}/{}", r.recording_number) rel="noopener" data-testid="recording">
                                            {crate::localized::fill(td_string!(locale, call.recording_link), &[("length", &format!("{}:{:02}", secs / 60, secs % 60))])}
                                        </a></p>
                                    }
                                }).collect_view()}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

/// What the page gives the call panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSetup {
    /// STUN/TURN for the network check before a call (each call brings its own).
    pub ice_servers: Vec<IceServer>,
    /// The page's CSRF token (the doctor's page uploads the backup's recording).
    pub csrf: String,
}

#[cfg(feature = "hydrate")]
/// Where the panel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not hydrated yet (or no WebAssembly).
    Static,
    /// Before the call: the check, and the call to start or answer.
    Lobby,
    /// In the call.
    InCall,
    /// This browser cannot use a camera or microphone.
    Unsupported,
    /// The side chose to go on in writing.
    Text,
}

#[cfg(feature = "hydrate")]
/// What the check found of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Unchecked,
    Checking,
    Ok,
    /// The user or the system refused access.
    Denied,
    /// No such device.
    Missing,
    Failed,
}

#[cfg(feature = "hydrate")]
/// What the network check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Unchecked,
    Checking,
    /// The relay (TURN) answered: the call can go through on any network.
    Relay,
    /// The public address was found (STUN); direct calls should work.
    Direct,
    /// No STUN or TURN is configured: calls within this network only.
    Local,
    /// A relay is configured but did not answer.
    Blocked,
}

#[cfg(feature = "hydrate")]
/// The panel's signals, written by the browser's controller.
#[derive(Clone, Copy)]
pub struct CallUi {
    pub phase: RwSignal<Phase>,
    pub camera: RwSignal<Device>,
    pub microphone: RwSignal<Device>,
    /// 0–100.
    pub mic_level: RwSignal<u8>,
    pub network: RwSignal<Network>,
    pub call: RwSignal<Option<CallView>>,
    pub muted: RwSignal<bool>,
    pub camera_off: RwSignal<bool>,
    pub voice_only: RwSignal<bool>,
    /// Quality, round trip (ms) and loss (%).
    pub quality: RwSignal<Option<(CallQuality, u32, u32)>>,
    /// The remote media waits for a tap to play (autoplay refused).
    pub needs_tap: RwSignal<bool>,
    /// The connection dropped: rejoin with one tap.
    pub broken: RwSignal<bool>,
    /// Connected to the other side.
    pub connected: RwSignal<bool>,
    /// The last refusal's code.
    pub refused: RwSignal<Option<crate::domain::ErrorCode>>,
    /// Frames decoded and audio bytes received from the other side so far.
    pub received: RwSignal<(u64, u64)>,
    /// The page runs inside WeChat.
    pub wechat: RwSignal<bool>,
    pub local_video: NodeRef<leptos::html::Video>,
    pub remote_video: NodeRef<leptos::html::Video>,
    /// The camera's preview in the check before the call.
    pub preview: NodeRef<leptos::html::Video>,
}

#[cfg(feature = "hydrate")]
impl CallUi {
    fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::Static),
            camera: RwSignal::new(Device::Unchecked),
            microphone: RwSignal::new(Device::Unchecked),
            mic_level: RwSignal::new(0),
            network: RwSignal::new(Network::Unchecked),
            call: RwSignal::new(None),
            muted: RwSignal::new(false),
            camera_off: RwSignal::new(false),
            voice_only: RwSignal::new(false),
            quality: RwSignal::new(None),
            needs_tap: RwSignal::new(false),
            broken: RwSignal::new(false),
            connected: RwSignal::new(false),
            refused: RwSignal::new(None),
            received: RwSignal::new((0, 0)),
            wechat: RwSignal::new(false),
            local_video: NodeRef::new(),
            remote_video: NodeRef::new(),
            preview: NodeRef::new(),
        }
    }
}

#[cfg(feature = "hydrate")]
fn device_text(locale: Locale, d: Device) -> &'static str {
    match d {
        Device::Unchecked => td_string!(locale, call.device_unchecked),
        Device::Checking => td_string!(locale, call.device_checking),
        Device::Ok => td_string!(locale, call.device_ok),
        Device::Denied => td_string!(locale, call.device_denied),
        Device::Missing => td_string!(locale, call.device_missing),
        Device::Failed => td_string!(locale, call.device_failed),
    }
}

#[cfg(feature = "hydrate")]
fn network_text(locale: Locale, n: Network) -> &'static str {
    match n {
        Network::Unchecked => td_string!(locale, call.device_unchecked),
        Network::Checking => td_string!(locale, call.device_checking),
        Network::Relay => td_string!(locale, call.network_relay),
        Network::Direct => td_string!(locale, call.network_direct),
        Network::Local => td_string!(locale, call.network_local),
        Network::Blocked => td_string!(locale, call.network_blocked),
    }
}

#[cfg(feature = "hydrate")]
fn quality_text(locale: Locale, q: CallQuality) -> &'static str {
    match q {
        CallQuality::Good => td_string!(locale, call.quality_good),
        CallQuality::Fair => td_string!(locale, call.quality_fair),
        CallQuality::Poor => td_string!(locale, call.quality_poor),
    }
}

/// The call panel. `wire` is the consult connection it rides. The server draws its frame
/// and says a call needs JavaScript; in the browser the panel's code (the device check,
/// the peer connection, the recorder) is loaded apart from the rest of the islands, only
/// on the pages that show it, and takes the frame over.
#[component]
pub fn CallPanel(
    locale: Locale,
    viewer: Side,
    consult: String,
    setup: CallSetup,
    wire: crate::chat::live::Wire,
    /// Where "go on in writing" leads (the consult's page).
    text_href: String,
) -> impl IntoView {
    let body = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = body.get() {
            let args = PanelArgs {
                locale,
                viewer,
                consult: consult.clone(),
                setup: setup.clone(),
                wire,
                text_href: text_href.clone(),
            };
            leptos::task::spawn_local(async move {
                mount_panel(el.into(), args).await;
            });
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (viewer, &consult, &setup, &wire, &text_href);
    view! {
        <section class="card call-panel" aria-labelledby="call-title">
            <h2 id="call-title">{td_string!(locale, call.title)}</h2>
            <p class="hint">{td_string!(locale, call.recorded)}</p>
            <div class="call-body" node_ref=body>
                <p class="hint" data-testid="call-static">{td_string!(locale, call.needs_script)}</p>
            </div>
        </section>
    }
}

/// What the panel's lazily loaded code needs.
#[cfg(feature = "hydrate")]
pub struct PanelArgs {
    locale: Locale,
    viewer: Side,
    consult: String,
    setup: CallSetup,
    wire: crate::chat::live::Wire,
    text_href: String,
}

/// Loaded on first use (`cargo leptos build --split`): the panel drawn into the frame.
#[cfg(feature = "hydrate")]
#[leptos::lazy]
fn mount_panel(el: web_sys::HtmlElement, args: PanelArgs) {
    el.set_inner_html("");
    let PanelArgs {
        locale,
        viewer,
        consult,
        setup,
        wire,
        text_href,
    } = args;
    leptos::mount::mount_to(el, move || {
        panel(locale, viewer, consult, setup, wire, text_href)
    })
    .forget();
}

#[cfg(feature = "hydrate")]
fn panel(
    locale: Locale,
    viewer: Side,
    consult: String,
    setup: CallSetup,
    wire: crate::chat::live::Wire,
    text_href: String,
) -> impl IntoView {
    let ui = CallUi::new();
    let ctl = browser::Ctl::new(ui, wire, viewer, consult.clone(), setup);
    macro_rules! act {
        ($method:ident $(, $arg:expr)*) => {
            move |_| ctl.$method($($arg),*)
        };
    }
    let doctor = viewer == Side::Doctor;
    let phase = ui.phase;
    let call = ui.call;
    let live_call = move || call.get().filter(|c| c.live);
    let me_in =
        move || live_call().is_some_and(|c| if doctor { c.doctor_in } else { c.patient_in });
    let advice = move || {
        let denied = ui.camera.get() == Device::Denied || ui.microphone.get() == Device::Denied;
        let missing = ui.camera.get() == Device::Missing;
        let blocked = ui.network.get() == Network::Blocked;
        let wechat = ui.wechat.get();
        let mut lines = Vec::new();
        if denied {
            lines.push(if wechat {
                td_string!(locale, call.advice_denied_wechat)
            } else {
                td_string!(locale, call.advice_denied)
            });
        }
        if missing {
            lines.push(td_string!(locale, call.advice_missing));
        }
        if blocked {
            lines.push(td_string!(locale, call.advice_blocked));
        }
        (!lines.is_empty()).then(|| {
            view! {
                <div class="alert alert-error" role="alert" data-testid="call-advice">
                    {lines.into_iter().map(|l| view! { <p>{l}</p> }).collect_view()}
                </div>
            }
        })
    };
    let check = move || {
        view! {
            <section class="call-check" aria-labelledby="call-check-title">
                <h3 id="call-check-title">{td_string!(locale, call.check_title)}</h3>
            <video class="call-preview" node_ref=ui.preview autoplay=true playsinline=true muted=true
                attr:webkit-playsinline="true" attr:x5-playsinline="true"
                aria-label=td_string!(locale, call.local_video)
                class:call-preview-on=move || ui.camera.get() == Device::Ok></video>
                <dl class="call-devices">
                    <dt>{td_string!(locale, call.camera)}</dt>
                    <dd data-testid="check-camera">{move || device_text(locale, ui.camera.get())}</dd>
                    <dt>{td_string!(locale, call.microphone)}</dt>
                    <dd data-testid="check-microphone">
                        {move || device_text(locale, ui.microphone.get())}
                        <meter class="call-level" min="0" max="100" low="10" high="90" optimum="50"
                            aria-label=td_string!(locale, call.mic_level)
                            value=move || ui.mic_level.get().to_string()></meter>
                    </dd>
                    <dt>{td_string!(locale, call.network)}</dt>
                    <dd data-testid="check-network">{move || network_text(locale, ui.network.get())}</dd>
                </dl>
                {advice}
                <button type="button" class="button button-secondary button-block" data-testid="call-check"
                    on:click=act!(check)>{td_string!(locale, call.check)}</button>
            </section>
        }
    };
    let lobby = move || {
        let start_or_answer = match (doctor, live_call()) {
            (true, None) => view! {
                <div class="call-actions">
                    <button type="button" class="button" data-testid="call-start-video" on:click=act!(start, false)>
                        {td_string!(locale, call.start_video)}
                    </button>
                    <button type="button" class="button button-secondary" data-testid="call-start-voice" on:click=act!(start, true)>
                        {td_string!(locale, call.start_voice)}
                    </button>
                </div>
            }
            .into_any(),
            (false, None) => view! {
                <p class="hint" data-testid="call-waiting">{td_string!(locale, call.waiting_for_doctor)}</p>
            }
            .into_any(),
            (_, Some(_)) => view! {
                {(!doctor).then(|| view! {
                    <p class="alert alert-notice" role="status" data-testid="call-ringing">{td_string!(locale, call.ringing)}</p>
                })}
                <button type="button" class="button button-block" data-testid="call-join" on:click=act!(join)>
                    {if doctor { td_string!(locale, call.rejoin) } else { td_string!(locale, call.answer) }}
                </button>
            }
            .into_any(),
        };
        view! { {start_or_answer} {check()} }
    };
    let quality = move || {
        ui.quality.get().map(|(q, rtt, loss)| view! {
            <p class="hint call-quality" data-testid="call-quality" data-quality=format!("{q:?}")>
                {quality_text(locale, q)}
                {format!(" · {}", crate::localized::fill(td_string!(locale, call.figures), &[("rtt", &rtt.to_string()), ("loss", &loss.to_string())]))}
            </p>
        })
    };
    let in_call = move || {
        view! {
            <div class="call-stage" data-testid="call-stage"
                data-frames=move || ui.received.get().0.to_string()
                data-audio=move || ui.received.get().1.to_string()
                data-connected=move || ui.connected.get().to_string()>
                <video class="call-remote" node_ref=ui.remote_video autoplay=true playsinline=true
                    attr:webkit-playsinline="true" attr:x5-playsinline="true"
                    aria-label=td_string!(locale, call.remote_video)></video>
                <video class="call-local" node_ref=ui.local_video autoplay=true playsinline=true muted=true
                    attr:webkit-playsinline="true" attr:x5-playsinline="true"
                    aria-label=td_string!(locale, call.local_video)></video>
                {move || (!ui.connected.get()).then(|| view! {
                    <p class="call-overlay" role="status">{if ui.broken.get() {
                        td_string!(locale, call.dropped)
                    } else {
                        td_string!(locale, call.connecting)
                    }}</p>
                })}
            </div>
            {move || ui.needs_tap.get().then(|| view! {
                <button type="button" class="button button-block" data-testid="call-play" on:click=act!(play)>
                    {td_string!(locale, call.tap_to_play)}
                </button>
            })}
            {move || ui.broken.get().then(|| view! {
                <button type="button" class="button button-block" data-testid="call-rejoin" on:click=act!(rejoin)>
                    {td_string!(locale, call.rejoin)}
                </button>
            })}
            {quality}
            <p class="hint">{td_string!(locale, call.speaker_hint)}</p>
            <div class="call-controls">
                <button type="button" class="button button-secondary" data-testid="call-mute"
                    aria-pressed=move || ui.muted.get().to_string() on:click=act!(toggle_mute)>
                    {move || if ui.muted.get() { td_string!(locale, call.unmute) } else { td_string!(locale, call.mute) }}
                </button>
                {move || (!ui.voice_only.get()).then(|| view! {
                    <button type="button" class="button button-secondary" data-testid="call-camera"
                        aria-pressed=move || ui.camera_off.get().to_string() on:click=act!(toggle_camera)>
                        {move || if ui.camera_off.get() { td_string!(locale, call.camera_on) } else { td_string!(locale, call.camera_off) }}
                    </button>
                    <button type="button" class="button button-secondary" data-testid="call-flip" on:click=act!(flip_camera)>
                        {td_string!(locale, call.flip)}
                    </button>
                    <button type="button" class="button button-secondary" data-testid="call-voice" on:click=act!(voice_only)>
                        {td_string!(locale, call.to_voice)}
                    </button>
                })}
                <button type="button" class="button button-secondary" data-testid="call-text" on:click=act!(text_only)>
                    {td_string!(locale, call.to_text)}
                </button>
                {if doctor {
                    view! {
                        <button type="button" class="button button-danger" data-testid="call-end" on:click=act!(end)>
                            {td_string!(locale, call.end)}
                        </button>
                    }
                    .into_any()
                } else {
                    view! {
                        <button type="button" class="button button-danger" data-testid="call-leave" on:click=act!(leave)>
                            {td_string!(locale, call.leave)}
                        </button>
                    }
                    .into_any()
                }}
            </div>
        }
    };
    let href = text_href.clone();
    let unsupported = move || {
        view! {
            <div class="alert alert-error" role="alert" data-testid="call-unsupported">
                <p>{td_string!(locale, call.unsupported)}</p>
                <p>{if ui.wechat.get() {
                    td_string!(locale, call.open_in_browser_wechat)
                } else {
                    td_string!(locale, call.open_in_browser)
                }}</p>
            </div>
            <p><a class="button button-secondary button-block" href=href.clone() data-testid="call-text-path">{td_string!(locale, call.go_text)}</a></p>
        }
    };
    let body = move || {
        match phase.get() {
        Phase::Static => ().into_any(),
        Phase::Unsupported => unsupported().into_any(),
        Phase::Text => view! {
            <p class="alert alert-notice" role="status" data-testid="call-text-mode">{td_string!(locale, call.text_mode)}</p>
            {(!doctor).then(|| view! {
                <button type="button" class="button button-secondary button-block" on:click=act!(back_to_lobby)>
                    {td_string!(locale, call.back_to_call)}
                </button>
            })}
        }
        .into_any(),
        Phase::InCall if me_in() => in_call().into_any(),
        Phase::InCall | Phase::Lobby => lobby().into_any(),
    }
    };
    let refused = move || {
        ui.refused.get().map(|code| view! {
            <p class="alert alert-error" role="alert" data-testid="call-refused">{crate::localized::error_message(locale, code)}</p>
        })
    };
    let ended = move || {
        call.get()
            .filter(|c| !c.live)
            .map(|_| view! { <p class="hint" data-testid="call-ended">{td_string!(locale, call.ended)}</p> })
    };
    view! {
        <div data-testid="call-panel" data-phase=move || format!("{:?}", phase.get())>
            {refused}
            {ended}
            {body}
        </div>
    }
}
