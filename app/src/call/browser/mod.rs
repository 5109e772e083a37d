//! The call panel's browser side: the camera and microphone, the network check, the peer
//! connection of the backup system (the doctor offers, the patient answers; see
//! [`crate::domain::call::Negotiation`]), the quality figures from `getStats()`, and the
//! frames it sends on the consult connection.
mod devices;
mod peer;

use super::{CallSetup, CallUi, Phase};
use crate::chat::live::Wire;
use crate::chat::protocol::{CallView, ClientFrame, Entry, SdpKind, ServerFrame};
use crate::domain::call::{
    CallAction, CallMedia, CallStep, Fallback, MediaSystem, Negotiation, NegotiationDo,
    NegotiationEvent, SfuNegotiation,
};
use crate::domain::consult::Side;
use devices::media_devices;
use leptos::prelude::*;
use peer::{Role, description};
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
    /// On the backup: the one connection to the other side.
    neg: Negotiation,
    /// On the primary: the connection that sends (in `pc`) and the one that receives.
    sfu: SfuNegotiation,
    /// The connection that sends this side's media (on the backup, the only one).
    pc: Option<RtcPeerConnection>,
    /// On the primary, the connection that receives the other side's media.
    sub_pc: Option<RtcPeerConnection>,
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

fn sleep(ms: i32) -> JsFuture {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    JsFuture::from(promise)
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
            sfu: SfuNegotiation::default(),
            pc: None,
            sub_pc: None,
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

    /// A frame of the consult connection that concerns calls.
    fn frame(&self, f: CallFrame) {
        match f {
            CallFrame::Live => self.state().borrow_mut().live = true,
            CallFrame::Down => {
                self.state().borrow_mut().live = false;
                // On the primary this side's media went with the connection (the server
                // drove it): both connections start again once it is back.
                if self.on_primary() {
                    self.negotiate(NegotiationEvent::Left, None);
                }
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
        let (ui, viewer, want_in, out) = {
            let st = s.borrow();
            let out = if view.system == MediaSystem::Sfu {
                st.sfu.publish == Negotiation::Out
            } else {
                st.neg == Negotiation::Out
            };
            (st.ui, st.viewer, st.want_in, out)
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
        // An older call's end, arriving after the call that took over from it: not news.
        if !live
            && s.borrow()
                .view
                .as_ref()
                .is_some_and(|v| v.live && v.call != view.call)
        {
            return;
        }
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
        } else if me_in && (out || replaced) {
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

    /// Whether the current call runs on the primary system.
    fn on_primary(&self) -> bool {
        self.state()
            .borrow()
            .view
            .as_ref()
            .is_some_and(|v| v.system == MediaSystem::Sfu)
    }

    /// Moves the negotiation and does what it says.
    fn negotiate(&self, event: NegotiationEvent, sdp: Option<String>) {
        let s = self.state();
        let primary = self.on_primary();
        let (broken, todo) = {
            let mut st = s.borrow_mut();
            if primary {
                let (next, todo) = st.sfu.on(event);
                st.sfu = next;
                // What the backup held is gone too (the call moved).
                st.neg = Negotiation::Out;
                (matches!(next.publish, Negotiation::Broken { .. }), todo)
            } else {
                let (next, todo) = st.neg.on(st.viewer, event);
                st.neg = next;
                st.sfu = SfuNegotiation::default();
                (matches!(next, Negotiation::Broken { .. }), todo)
            }
        };
        let ui = s.borrow().ui;
        ui.broken.set(broken);
        match todo {
            NegotiationDo::Nothing => {}
            NegotiationDo::Close => self.close_peer(),
            NegotiationDo::JoinAgain => {
                self.close_peer();
                self.join();
            }
            NegotiationDo::Offer { generation } => {
                let ctl = *self;
                let role = if primary { Role::Send } else { Role::Both };
                spawn_local(async move { ctl.offer(role, generation).await });
            }
            NegotiationDo::Answer { generation } => {
                let ctl = *self;
                let sdp = sdp.unwrap_or_default();
                let role = if primary { Role::Receive } else { Role::Both };
                spawn_local(async move { ctl.answer(role, generation, sdp).await });
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
