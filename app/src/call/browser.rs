//! The call panel's browser side: the camera and microphone, the network check, the peer
//! connection of the backup system (the doctor offers, the patient answers; see
//! [`crate::domain::call::Negotiation`]), the quality figures from `getStats()`, and the
//! frames it sends on the consult connection.
use super::{CallSetup, CallUi, Device, Network, Phase};
use crate::chat::live::Wire;
use crate::chat::protocol::{CallView, ClientFrame, Entry, IceServer, SdpKind, ServerFrame};
use crate::domain::call::{
    CallAction, CallMedia, CallStep, Fallback, Negotiation, NegotiationDo, NegotiationEvent,
    loss_between, quality,
};
use crate::domain::consult::Side;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{MediaStream, MediaStreamTrack, RtcPeerConnection};

/// How long a new connection gathers its addresses before its offer or answer goes out.
const GATHER_MS: i32 = 2_000;
/// How long the network check waits for the relay.
const PROBE_MS: i32 = 5_000;
/// How long a connection may stay `disconnected` before it counts as dropped.
const DROP_MS: i32 = 5_000;

struct State {
    ui: CallUi,
    wire: Wire,
    viewer: Side,
    consult: String,
    setup: CallSetup,
    view: Option<CallView>,
    /// The user asked to be in the call (joins again after a reconnection).
    want_in: bool,
    neg: Negotiation,
    pc: Option<RtcPeerConnection>,
    local: Option<MediaStream>,
    facing_user: bool,
    /// The connection has replayed the log: call entries from here are news.
    live: bool,
    /// Lost and received packets at the last stats reading.
    counted: (f64, f64),
    meter: Option<i32>,
    stats: Option<i32>,
    /// The doctor's page's recording of a backup call, by call.
    recording: Option<(String, super::recorder::Recorder)>,
    /// The other side's media, kept for a video element drawn again.
    remote: Option<MediaStream>,
}

/// The controller's handle: cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct Ctl(StoredValue<Rc<RefCell<State>>, LocalStorage>);

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn json(value: &serde_json::Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn media_devices() -> Option<web_sys::MediaDevices> {
    let nav = window()?.navigator();
    let devices = get(&nav, "mediaDevices");
    if devices.is_undefined() || get(&devices, "getUserMedia").is_undefined() {
        return None;
    }
    Some(devices.unchecked_into())
}

fn in_wechat() -> bool {
    window()
        .and_then(|w| w.navigator().user_agent().ok())
        .is_some_and(|ua| ua.contains("MicroMessenger"))
}

fn tracks(stream: &MediaStream, video: bool) -> Vec<MediaStreamTrack> {
    let list = if video {
        stream.get_video_tracks()
    } else {
        stream.get_audio_tracks()
    };
    list.iter().map(|t| t.unchecked_into()).collect()
}

/// The browser's error name (`NotAllowedError`, `NotFoundError` …).
fn error_device(e: &JsValue) -> Device {
    match get(e, "name").as_string().as_deref() {
        Some("NotAllowedError" | "SecurityError" | "PermissionDeniedError") => Device::Denied,
        Some("NotFoundError" | "OverconstrainedError" | "DevicesNotFoundError") => Device::Missing,
        _ => Device::Failed,
    }
}

async fn user_media(video: bool, facing_user: bool) -> Result<MediaStream, JsValue> {
    let devices = media_devices().ok_or(JsValue::NULL)?;
    let facing = if facing_user { "user" } else { "environment" };
    let constraints = json(&serde_json::json!({
        "audio": { "echoCancellation": true, "noiseSuppression": true, "autoGainControl": true },
        "video": if video {
            serde_json::json!({ "facingMode": facing, "width": { "ideal": 640 }, "height": { "ideal": 480 } })
        } else {
            serde_json::json!(false)
        },
    }));
    let promise = devices.get_user_media_with_constraints(&constraints.unchecked_into())?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

fn sleep(ms: i32) -> JsFuture {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    JsFuture::from(promise)
}

/// Waits until the connection has gathered its addresses, or `ms` has passed.
async fn gathered(pc: &RtcPeerConnection, ms: i32) {
    if pc.ice_gathering_state() == web_sys::RtcIceGatheringState::Complete {
        return;
    }
    let pc2 = pc.clone();
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let done = resolve.clone();
        let watch = pc2.clone();
        let on_change = Closure::<dyn FnMut()>::new(move || {
            if watch.ice_gathering_state() == web_sys::RtcIceGatheringState::Complete {
                let _ = done.call0(&JsValue::NULL);
            }
        });
        pc2.set_onicegatheringstatechange(Some(on_change.as_ref().unchecked_ref()));
        on_change.forget();
        if let Some(w) = window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
    pc.set_onicegatheringstatechange(None);
}

fn configuration(ice: &[IceServer], relay_only: bool) -> JsValue {
    json(&serde_json::json!({
        "iceServers": ice,
        "iceTransportPolicy": if relay_only { "relay" } else { "all" },
        "bundlePolicy": "max-bundle",
    }))
}

fn description(kind: &str, sdp: &str) -> JsValue {
    json(&serde_json::json!({ "type": kind, "sdp": sdp }))
}

fn play(video: &web_sys::HtmlVideoElement) -> Option<js_sys::Promise> {
    video.play().ok()
}

impl Ctl {
    pub fn new(ui: CallUi, wire: Wire, viewer: Side, consult: String, setup: CallSetup) -> Self {
        let state = Rc::new(RefCell::new(State {
            ui,
            wire,
            viewer,
            consult,
            setup,
            view: None,
            want_in: false,
            neg: Negotiation::Out,
            pc: None,
            local: None,
            facing_user: true,
            live: false,
            counted: (0.0, 0.0),
            meter: None,
            stats: None,
            recording: None,
            remote: None,
        }));
        let ctl = Ctl(StoredValue::new_local(state));
        // The page as the server drew it first; what this browser can do once hydrated
        // (changing the view while hydrating would mismatch the server's HTML).
        Effect::new(move |_| {
            ui.wechat.set(in_wechat());
            ui.phase.set(if media_devices().is_some() {
                Phase::Lobby
            } else {
                Phase::Unsupported
            });
        });
        // A video element drawn (again) shows what it should.
        Effect::new(move |_| {
            let _ = (
                ui.local_video.get(),
                ui.remote_video.get(),
                ui.preview.get(),
            );
            ctl.attach();
        });
        wire.on_call(Rc::new(move |f| ctl.frame(f)));
        // A page that goes away leaves its call at once rather than after the timeout.
        if let Some(w) = window() {
            let gone = Closure::<dyn FnMut()>::new(move || {
                let s = ctl.state();
                let want = s.borrow().want_in;
                if want {
                    ctl.send(CallAction::Leave);
                }
                ctl.stop_recording();
            });
            let _ = w.add_event_listener_with_callback("pagehide", gone.as_ref().unchecked_ref());
            gone.forget();
        }
        ctl
    }

    /// Puts the camera on the preview and the small picture, and the other side on the
    /// large one, where they are not already.
    fn attach(&self) {
        let s = self.state();
        let s = s.borrow();
        let same = |v: &web_sys::HtmlVideoElement, stream: &MediaStream| {
            v.src_object().is_some_and(|o| o.id() == stream.id())
        };
        if let Some(local) = &s.local {
            for v in [
                s.ui.local_video.get_untracked(),
                s.ui.preview.get_untracked(),
            ]
            .into_iter()
            .flatten()
            {
                if !same(&v, local) {
                    v.set_src_object(Some(local));
                    let _ = play(&v);
                }
            }
        }
        if let (Some(remote), Some(v)) = (&s.remote, s.ui.remote_video.get_untracked())
            && !same(&v, remote)
        {
            v.set_src_object(Some(remote));
            if let Some(p) = play(&v) {
                let ui = s.ui;
                spawn_local(async move {
                    // Refused without a tap (not merely interrupted by a newer play).
                    if let Err(e) = JsFuture::from(p).await
                        && get(&e, "name").as_string().as_deref() == Some("NotAllowedError")
                    {
                        ui.needs_tap.set(true);
                    }
                });
            }
        }
    }

    fn state(&self) -> Rc<RefCell<State>> {
        self.0.get_value()
    }

    fn send(&self, action: CallAction) {
        let (wire, consult) = {
            let s = self.state();
            let s = s.borrow();
            (s.wire, s.consult.clone())
        };
        wire.send(ClientFrame::Call { consult, action });
    }

    /// The camera, microphone and network check (on a tap: browsers start sound only
    /// after one).
    pub fn check(&self) {
        let ctl = *self;
        spawn_local(async move {
            ctl.ensure_media().await;
            ctl.probe_network().await;
        });
    }

    /// Gets the camera and microphone (or the microphone alone for a voice call), shows
    /// the preview and starts the level meter. Falls back to sound alone when the camera
    /// cannot be had.
    async fn ensure_media(&self) -> bool {
        let s = self.state();
        if s.borrow().local.is_some() {
            return true;
        }
        let (ui, voice, facing) = {
            let st = s.borrow();
            (st.ui, st.ui.voice_only.get_untracked(), st.facing_user)
        };
        ui.camera.set(if voice {
            Device::Unchecked
        } else {
            Device::Checking
        });
        ui.microphone.set(Device::Checking);
        let stream = match user_media(!voice, facing).await {
            Ok(stream) => {
                if !voice {
                    ui.camera.set(Device::Ok);
                }
                stream
            }
            Err(e) => {
                if !voice {
                    ui.camera.set(error_device(&e));
                }
                // Without a camera a voice call still works.
                match user_media(false, facing).await {
                    Ok(stream) => {
                        ui.voice_only.set(true);
                        stream
                    }
                    Err(e) => {
                        ui.microphone.set(error_device(&e));
                        return false;
                    }
                }
            }
        };
        ui.microphone.set(Device::Ok);
        self.meter(&stream);
        s.borrow_mut().local = Some(stream);
        self.attach();
        true
    }

    /// The microphone's level, ten times a second.
    fn meter(&self, stream: &MediaStream) {
        let Ok(audio) = web_sys::AudioContext::new() else {
            return;
        };
        let _ = audio.resume();
        let (Ok(source), Ok(analyser)) = (
            audio.create_media_stream_source(stream),
            audio.create_analyser(),
        ) else {
            return;
        };
        analyser.set_fft_size(256);
        let _ = source.connect_with_audio_node(&analyser);
        let ui = self.state().borrow().ui;
        let tick = Closure::<dyn FnMut()>::new(move || {
            let mut samples = [0u8; 256];
            analyser.get_byte_time_domain_data(&mut samples);
            let energy: f64 = samples
                .iter()
                .map(|b| {
                    let x = (f64::from(*b) - 128.0) / 128.0;
                    x * x
                })
                .sum::<f64>()
                / samples.len() as f64;
            let level = (energy.sqrt() * 300.0).min(100.0);
            ui.mic_level.set(level as u8);
        });
        let id = window().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                100,
            )
            .ok()
        });
        tick.forget();
        self.state().borrow_mut().meter = id;
    }

    /// Whether the configured STUN/TURN answers: a throwaway connection gathers its
    /// addresses and the kinds found say what works.
    async fn probe_network(&self) {
        let (ui, ice) = {
            let s = self.state();
            let s = s.borrow();
            (s.ui, s.setup.ice_servers.clone())
        };
        let turn = ice
            .iter()
            .any(|i| i.urls.iter().any(|u| u.starts_with("turn")));
        let stun = ice
            .iter()
            .any(|i| i.urls.iter().any(|u| u.starts_with("stun")));
        if !turn && !stun {
            ui.network.set(Network::Local);
            return;
        }
        ui.network.set(Network::Checking);
        let Ok(pc) =
            RtcPeerConnection::new_with_configuration(&configuration(&ice, false).unchecked_into())
        else {
            ui.network.set(Network::Blocked);
            return;
        };
        let found = Rc::new(RefCell::new((false, false)));
        let seen = found.clone();
        let on_candidate = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let line = get(&get(&e, "candidate"), "candidate")
                .as_string()
                .unwrap_or_default();
            let mut f = seen.borrow_mut();
            f.0 |= line.contains(" typ relay");
            f.1 |= line.contains(" typ srflx");
        });
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        let _ = pc.create_data_channel("probe");
        if let Ok(offer) = JsFuture::from(pc.create_offer()).await {
            let _ = JsFuture::from(pc.set_local_description(&offer.unchecked_into())).await;
            gathered(&pc, PROBE_MS).await;
        }
        pc.set_onicecandidate(None);
        drop(on_candidate);
        pc.close();
        let (relay, srflx) = *found.borrow();
        ui.network.set(match (turn, relay, srflx) {
            (true, true, _) => Network::Relay,
            (true, false, _) => Network::Blocked,
            (false, _, true) => Network::Direct,
            (false, _, false) => Network::Blocked,
        });
    }

    /// The doctor calls (video, or voice only).
    pub fn start(&self, voice: bool) {
        let ctl = *self;
        spawn_local(async move {
            let ui = ctl.state().borrow().ui;
            if voice {
                ui.voice_only.set(true);
            }
            if !ctl.ensure_media().await {
                return;
            }
            ctl.state().borrow_mut().want_in = true;
            ui.phase.set(Phase::InCall);
            let media = if ui.voice_only.get_untracked() {
                CallMedia::Voice
            } else {
                CallMedia::Video
            };
            ctl.send(CallAction::Start { media });
        });
    }

    /// Answers (the patient) or comes back into (either side) the running call.
    pub fn join(&self) {
        let ctl = *self;
        spawn_local(async move {
            let ui = ctl.state().borrow().ui;
            if !ctl.ensure_media().await {
                return;
            }
            ctl.state().borrow_mut().want_in = true;
            ui.phase.set(Phase::InCall);
            ui.refused.set(None);
            ctl.send(CallAction::Join);
        });
    }

    pub fn rejoin(&self) {
        self.negotiate(NegotiationEvent::Rejoin, None);
    }

    pub fn leave(&self) {
        self.state().borrow_mut().want_in = false;
        self.send(CallAction::Leave);
        self.negotiate(NegotiationEvent::Left, None);
        self.state().borrow().ui.phase.set(Phase::Lobby);
    }

    pub fn end(&self) {
        self.stop_recording();
        self.state().borrow_mut().want_in = false;
        self.send(CallAction::End);
        self.negotiate(NegotiationEvent::Left, None);
    }

    /// Plays the other side's media after a tap (autoplay was refused).
    pub fn play(&self) {
        let ui = self.state().borrow().ui;
        if let Some(v) = ui.remote_video.get_untracked() {
            let _ = play(&v);
        }
        ui.needs_tap.set(false);
    }

    pub fn toggle_mute(&self) {
        let s = self.state();
        let s = s.borrow();
        let muted = !s.ui.muted.get_untracked();
        if let Some(stream) = &s.local {
            for t in tracks(stream, false) {
                t.set_enabled(!muted);
            }
        }
        s.ui.muted.set(muted);
    }

    pub fn toggle_camera(&self) {
        let s = self.state();
        let s = s.borrow();
        let off = !s.ui.camera_off.get_untracked();
        if let Some(stream) = &s.local {
            for t in tracks(stream, true) {
                t.set_enabled(!off);
            }
        }
        s.ui.camera_off.set(off);
    }

    /// Front to back camera and back: a new video track replaces the old one on the
    /// connection without a new offer.
    pub fn flip_camera(&self) {
        let ctl = *self;
        spawn_local(async move {
            let facing = {
                let s = ctl.state();
                let mut s = s.borrow_mut();
                s.facing_user = !s.facing_user;
                s.facing_user
            };
            let Some(devices) = media_devices() else {
                return;
            };
            let constraints = json(&serde_json::json!({
                "video": { "facingMode": if facing { "user" } else { "environment" } }
            }));
            let Ok(promise) =
                devices.get_user_media_with_constraints(&constraints.unchecked_into())
            else {
                return;
            };
            let Ok(fresh) = JsFuture::from(promise).await else {
                return;
            };
            let fresh: MediaStream = fresh.unchecked_into();
            let Some(track) = tracks(&fresh, true).into_iter().next() else {
                return;
            };
            let s = ctl.state();
            let s = s.borrow();
            if let Some(local) = &s.local {
                for old in tracks(local, true) {
                    old.stop();
                    local.remove_track(&old);
                }
                local.add_track(&track);
            }
            if let Some(pc) = &s.pc {
                for sender in pc.get_senders().iter() {
                    let sender: web_sys::RtcRtpSender = sender.unchecked_into();
                    if sender.track().is_some_and(|t| t.kind() == "video") {
                        let _ = sender.replace_track(Some(&track));
                    }
                }
            }
        });
    }

    /// Video cannot work: the call goes on with sound only.
    pub fn voice_only(&self) {
        let s = self.state();
        {
            let s = s.borrow();
            if let Some(stream) = &s.local {
                for t in tracks(stream, true) {
                    t.stop();
                    stream.remove_track(&t);
                }
            }
            if let Some(pc) = &s.pc {
                for sender in pc.get_senders().iter() {
                    let sender: web_sys::RtcRtpSender = sender.unchecked_into();
                    if sender.track().is_some_and(|t| t.kind() == "video") {
                        let _ = sender.replace_track(None);
                    }
                }
            }
            s.ui.voice_only.set(true);
        }
        self.send(CallAction::FallBack {
            to: Fallback::Voice,
        });
    }

    /// No call can work: this side leaves it and goes on in writing.
    pub fn text_only(&self) {
        self.state().borrow_mut().want_in = false;
        self.send(CallAction::FallBack { to: Fallback::Text });
        self.negotiate(NegotiationEvent::Left, None);
        self.release_media();
        self.state().borrow().ui.phase.set(Phase::Text);
    }

    pub fn back_to_lobby(&self) {
        self.state().borrow().ui.phase.set(Phase::Lobby);
    }

    fn release_media(&self) {
        let s = self.state();
        let mut s = s.borrow_mut();
        if let Some(stream) = s.local.take() {
            for t in stream.get_tracks().iter() {
                t.unchecked_into::<MediaStreamTrack>().stop();
            }
        }
        if let (Some(id), Some(w)) = (s.meter.take(), window()) {
            w.clear_interval_with_handle(id);
        }
        s.ui.mic_level.set(0);
    }

    /// A frame of the consult connection that concerns calls.
    fn frame(&self, f: CallFrame) {
        match f {
            CallFrame::Live => self.state().borrow_mut().live = true,
            CallFrame::Down => {
                let s = self.state();
                let mut s = s.borrow_mut();
                s.live = false;
            }
            CallFrame::Server(ServerFrame::Call(view)) => self.call_view(view),
            CallFrame::Server(ServerFrame::Signal {
                call,
                generation,
                kind,
                sdp,
                ..
            }) => {
                let current = self.state().borrow().view.as_ref().map(|v| v.call.clone());
                if current.as_deref() != Some(call.as_str()) {
                    return;
                }
                let event = match kind {
                    SdpKind::Offer => NegotiationEvent::OfferReceived { generation },
                    SdpKind::Answer => NegotiationEvent::AnswerReceived { generation },
                };
                self.negotiate(event, Some(sdp));
            }
            CallFrame::Server(ServerFrame::Error { code, .. }) => {
                if let Some(code) = crate::domain::ErrorCode::parse(&code) {
                    self.state().borrow().ui.refused.set(Some(code));
                }
            }
            CallFrame::Server(_) => {}
            CallFrame::Entry(e) => self.entry(e),
        }
    }

    fn call_view(&self, view: CallView) {
        let s = self.state();
        let (ui, viewer, want_in, neg) = {
            let st = s.borrow();
            (st.ui, st.viewer, st.want_in, st.neg)
        };
        let me_in = if viewer == Side::Doctor {
            view.doctor_in
        } else {
            view.patient_in
        };
        let other_in = if viewer == Side::Doctor {
            view.patient_in
        } else {
            view.doctor_in
        };
        let live = view.live;
        let voice = view.media == CallMedia::Voice;
        // A different call (the backup took over): start afresh on it.
        let replaced = s
            .borrow()
            .view
            .as_ref()
            .is_some_and(|v| v.call != view.call);
        s.borrow_mut().view = Some(view);
        ui.call.set(s.borrow().view.clone());
        if replaced {
            self.negotiate(NegotiationEvent::Left, None);
        }
        if !live {
            self.stop_recording();
            self.negotiate(NegotiationEvent::Left, None);
            s.borrow_mut().want_in = false;
            if ui.phase.get_untracked() == Phase::InCall {
                ui.phase.set(Phase::Lobby);
            }
            return;
        }
        if voice && !ui.voice_only.get_untracked() && s.borrow().local.is_none() {
            ui.voice_only.set(true);
        }
        if want_in && !me_in {
            // Back after a reconnection (or a new call on the backup): join again.
            self.send(CallAction::Join);
        } else if me_in && (neg == Negotiation::Out || replaced) {
            self.negotiate(NegotiationEvent::Joined { other_in }, None);
        }
    }

    /// A call step from the log: the other side coming or going.
    fn entry(&self, e: Entry) {
        let (live, viewer) = {
            let s = self.state();
            let s = s.borrow();
            (s.live, s.viewer)
        };
        let Some(note) = e.call else { return };
        if !live || e.side == viewer || e.side == Side::System {
            return;
        }
        let current = self.state().borrow().view.as_ref().map(|v| v.call.clone());
        if current.as_deref() != Some(note.call.as_str()) {
            return;
        }
        match note.step {
            CallStep::Joined => self.negotiate(NegotiationEvent::OtherJoined, None),
            CallStep::Left => self.negotiate(NegotiationEvent::OtherLeft, None),
            CallStep::FellBack if note.to == Some(Fallback::Text) => {
                self.negotiate(NegotiationEvent::OtherLeft, None)
            }
            _ => {}
        }
    }

    /// Moves the negotiation and does what it says.
    fn negotiate(&self, event: NegotiationEvent, sdp: Option<String>) {
        let s = self.state();
        let (next, todo) = {
            let st = s.borrow();
            st.neg.on(st.viewer, event)
        };
        s.borrow_mut().neg = next;
        let ui = s.borrow().ui;
        ui.broken.set(matches!(next, Negotiation::Broken { .. }));
        match todo {
            NegotiationDo::Nothing => {}
            NegotiationDo::Close => self.close_peer(),
            NegotiationDo::JoinAgain => {
                self.close_peer();
                self.join();
            }
            NegotiationDo::Offer { generation } => {
                let ctl = *self;
                spawn_local(async move { ctl.offer(generation).await });
            }
            NegotiationDo::Answer { generation } => {
                let ctl = *self;
                let sdp = sdp.unwrap_or_default();
                spawn_local(async move { ctl.answer(generation, sdp).await });
            }
            NegotiationDo::ApplyAnswer => {
                let pc = s.borrow().pc.clone();
                if let (Some(pc), Some(sdp)) = (pc, sdp) {
                    spawn_local(async move {
                        let d = description("answer", &sdp);
                        let _ =
                            JsFuture::from(pc.set_remote_description(&d.unchecked_into())).await;
                    });
                }
            }
        }
    }

    /// The doctor's page starts recording a backup call once media flows (R-CONS-7); a
    /// page that cannot says why.
    fn record(&self) {
        let s = self.state();
        let (viewer, view, csrf, local, ui, voice) = {
            let st = s.borrow();
            (
                st.viewer,
                st.view.clone(),
                st.setup.csrf.clone(),
                st.local.clone(),
                st.ui,
                st.ui.voice_only.get_untracked(),
            )
        };
        let Some(view) = view else { return };
        if viewer != Side::Doctor || view.system != crate::domain::call::MediaSystem::Direct {
            return;
        }
        if s.borrow()
            .recording
            .as_ref()
            .is_some_and(|(c, _)| *c == view.call)
        {
            return;
        }
        let (Some(local), Some(remote), Some(mine)) = (
            local,
            ui.remote_video.get_untracked(),
            ui.local_video.get_untracked(),
        ) else {
            return;
        };
        let ctl = *self;
        spawn_local(async move {
            match super::recorder::Recorder::start(
                view.call.clone(),
                csrf.clone(),
                &local,
                &remote,
                &mine,
                voice,
            )
            .await
            {
                Ok(r) => ctl.state().borrow_mut().recording = Some((view.call, r)),
                Err(reason) => super::recorder::unavailable(&view.call, &csrf, reason),
            }
        });
    }

    fn stop_recording(&self) {
        let taken = self.state().borrow_mut().recording.take();
        if let Some((_, r)) = taken {
            r.stop();
        }
    }

    fn close_peer(&self) {
        let s = self.state();
        let mut s = s.borrow_mut();
        if let Some(pc) = s.pc.take() {
            pc.set_ontrack(None);
            pc.set_onconnectionstatechange(None);
            pc.close();
        }
        if let (Some(id), Some(w)) = (s.stats.take(), window()) {
            w.clear_interval_with_handle(id);
        }
        s.ui.connected.set(false);
        s.ui.quality.set(None);
    }

    /// A new peer connection with this side's media on it.
    fn new_peer(&self) -> Option<RtcPeerConnection> {
        self.close_peer();
        let s = self.state();
        let (ice, relay_only) = {
            let st = s.borrow();
            let v = st.view.as_ref()?;
            (v.ice_servers.clone(), v.relay_only)
        };
        let pc = RtcPeerConnection::new_with_configuration(
            &configuration(&ice, relay_only).unchecked_into(),
        )
        .ok()?;
        if let Some(stream) = &s.borrow().local {
            for t in stream.get_tracks().iter() {
                let t: MediaStreamTrack = t.unchecked_into();
                pc.add_track_0(&t, stream);
            }
        }
        let ui = s.borrow().ui;
        let ctl = *self;
        let on_track =
            Closure::<dyn FnMut(web_sys::RtcTrackEvent)>::new(move |e: web_sys::RtcTrackEvent| {
                let Some(stream) = e.streams().get(0).dyn_into::<MediaStream>().ok() else {
                    return;
                };
                ctl.state().borrow_mut().remote = Some(stream);
                ctl.attach();
            });
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        on_track.forget();
        let watched = pc.clone();
        let on_state = Closure::<dyn FnMut()>::new(move || {
            use web_sys::RtcPeerConnectionState as P;
            match watched.connection_state() {
                P::Connected => {
                    ui.connected.set(true);
                    ctl.negotiate(NegotiationEvent::MediaFlowing, None);
                    ctl.record();
                }
                P::Failed => ctl.negotiate(NegotiationEvent::MediaLost, None),
                P::Disconnected => {
                    ui.connected.set(false);
                    let again = watched.clone();
                    spawn_local(async move {
                        let _ = sleep(DROP_MS).await;
                        if again.connection_state() == P::Disconnected {
                            ctl.negotiate(NegotiationEvent::MediaLost, None);
                        }
                    });
                }
                _ => {}
            }
        });
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        on_state.forget();
        s.borrow_mut().pc = Some(pc.clone());
        self.watch_stats();
        Some(pc)
    }

    fn signal(&self, generation: u32, kind: SdpKind, sdp: String) {
        let (wire, consult, call) = {
            let s = self.state();
            let s = s.borrow();
            let Some(call) = s.view.as_ref().map(|v| v.call.clone()) else {
                return;
            };
            (s.wire, s.consult.clone(), call)
        };
        wire.send(ClientFrame::Signal {
            consult,
            call,
            generation,
            kind,
            sdp,
        });
    }

    async fn offer(&self, generation: u32) {
        let Some(pc) = self.new_peer() else { return };
        let Ok(offer) = JsFuture::from(pc.create_offer()).await else {
            return;
        };
        if JsFuture::from(pc.set_local_description(&offer.unchecked_into()))
            .await
            .is_err()
        {
            return;
        }
        gathered(&pc, GATHER_MS).await;
        if let Some(d) = pc.local_description() {
            self.signal(generation, SdpKind::Offer, d.sdp());
        }
    }

    async fn answer(&self, generation: u32, sdp: String) {
        let Some(pc) = self.new_peer() else { return };
        let d = description("offer", &sdp);
        if JsFuture::from(pc.set_remote_description(&d.unchecked_into()))
            .await
            .is_err()
        {
            return;
        }
        let Ok(answer) = JsFuture::from(pc.create_answer()).await else {
            return;
        };
        if JsFuture::from(pc.set_local_description(&answer.unchecked_into()))
            .await
            .is_err()
        {
            return;
        }
        gathered(&pc, GATHER_MS).await;
        if let Some(d) = pc.local_description() {
            self.signal(generation, SdpKind::Answer, d.sdp());
        }
    }

    /// Reads `getStats()` every two seconds: the round trip and loss for the quality
    /// hint, and what has arrived from the other side.
    fn watch_stats(&self) {
        let ctl = *self;
        let tick = Closure::<dyn FnMut()>::new(move || {
            spawn_local(async move { ctl.read_stats().await });
        });
        let id = window().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                2_000,
            )
            .ok()
        });
        tick.forget();
        self.state().borrow_mut().stats = id;
    }

    async fn read_stats(&self) {
        let Some(pc) = self.state().borrow().pc.clone() else {
            return;
        };
        let Ok(report) = JsFuture::from(pc.get_stats()).await else {
            return;
        };
        let mut rtt = None::<f64>;
        let (mut frames, mut audio_bytes, mut lost, mut received) = (0.0, 0.0, 0.0, 0.0);
        let values = js_sys::Reflect::get(&report, &"values".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call0(&report).ok());
        let Some(iter) = values.and_then(|v| js_sys::try_iter(&v).ok().flatten()) else {
            return;
        };
        let num = |o: &JsValue, k: &str| get(o, k).as_f64().unwrap_or(0.0);
        for stat in iter.flatten() {
            match get(&stat, "type").as_string().as_deref() {
                Some("candidate-pair") if get(&stat, "nominated").as_bool() == Some(true) => {
                    if let Some(r) = get(&stat, "currentRoundTripTime").as_f64() {
                        rtt = Some(r * 1000.0);
                    }
                }
                Some("inbound-rtp") => {
                    lost += num(&stat, "packetsLost");
                    received += num(&stat, "packetsReceived");
                    match get(&stat, "kind").as_string().as_deref() {
                        Some("video") => frames += num(&stat, "framesDecoded"),
                        Some("audio") => audio_bytes += num(&stat, "bytesReceived"),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        let s = self.state();
        let (before_lost, before_received) = s.borrow().counted;
        s.borrow_mut().counted = (lost, received);
        let ui = s.borrow().ui;
        ui.received.set((frames as u64, audio_bytes as u64));
        if let Some(rtt) = rtt {
            let loss = loss_between(before_lost, before_received, lost, received);
            ui.quality.set(Some((
                quality(rtt, loss),
                rtt.round() as u32,
                (loss * 100.0).round() as u32,
            )));
        }
    }
}

/// What the consult connection hands the call panel.
pub enum CallFrame {
    Server(ServerFrame),
    Entry(Entry),
    /// The replay is done: entries from here are news.
    Live,
    /// The connection dropped.
    Down,
}
