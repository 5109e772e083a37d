//! The peer connections: on the backup one to the other side, with this side's media;
//! on the primary one that sends to the media server and one that receives from it. The
//! offer or answer is gathered and sent, and `getStats()` read every two seconds.
use super::{Ctl, DROP_MS, GATHER_MS, get, json, sleep, window};
use crate::chat::protocol::{ClientFrame, IceServer, SdpKind};
use crate::domain::call::{NegotiationEvent, loss_between, quality};
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{MediaStream, MediaStreamTrack, RtcPeerConnection};

/// Waits until the connection has gathered its addresses, or `ms` has passed.
pub(super) async fn gathered(pc: &RtcPeerConnection, ms: i32) {
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

pub(super) fn configuration(ice: &[IceServer], relay_only: bool) -> JsValue {
    json(&serde_json::json!({
        "iceServers": ice,
        "iceTransportPolicy": if relay_only { "relay" } else { "all" },
        "bundlePolicy": "max-bundle",
    }))
}

pub(super) fn description(kind: &str, sdp: &str) -> JsValue {
    json(&serde_json::json!({ "type": kind, "sdp": sdp }))
}

/// What a peer connection carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The backup: this side's media out, the other side's in.
    Both,
    /// The primary: this side's media out to the media server.
    Send,
    /// The primary: the other side's media in from the media server.
    Receive,
}

fn shut(pc: Option<RtcPeerConnection>) {
    if let Some(pc) = pc {
        pc.set_ontrack(None);
        pc.set_onconnectionstatechange(None);
        pc.close();
    }
}

impl Ctl {
    pub(super) fn close_peer(&self) {
        let s = self.state();
        let mut s = s.borrow_mut();
        shut(s.pc.take());
        shut(s.sub_pc.take());
        if let (Some(id), Some(w)) = (s.stats.take(), window()) {
            w.clear_interval_with_handle(id);
        }
        s.ui.connected.set(false);
        s.ui.quality.set(None);
        // What arrives next is counted afresh (a new connection starts at zero).
        s.ui.received.set((0, 0));
        s.counted = (0.0, 0.0);
    }

    /// A new peer connection for `role` (replacing the one that held it).
    pub(super) fn new_peer(&self, role: Role) -> Option<RtcPeerConnection> {
        match role {
            Role::Both => self.close_peer(),
            Role::Send => shut(self.state().borrow_mut().pc.take()),
            Role::Receive => shut(self.state().borrow_mut().sub_pc.take()),
        }
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
        if let (Some(stream), true) = (&s.borrow().local, role != Role::Receive) {
            for t in stream.get_tracks().iter() {
                let t: MediaStreamTrack = t.unchecked_into();
                pc.add_track_0(&t, stream);
            }
        }
        let ui = s.borrow().ui;
        let ctl = *self;
        let on_track =
            Closure::<dyn FnMut(web_sys::RtcTrackEvent)>::new(move |e: web_sys::RtcTrackEvent| {
                let stream = match e.streams().get(0).dyn_into::<MediaStream>() {
                    Ok(stream) => stream,
                    // A track without a stream: gathered into one of our own.
                    Err(_) => {
                        let held = ctl.state().borrow().remote.clone();
                        let Some(stream) = held.or_else(|| MediaStream::new().ok()) else {
                            return;
                        };
                        stream.add_track(&e.track());
                        stream
                    }
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
                // On the primary, media flows once the sending side is up; the picture
                // counts as connected once the receiving side is.
                P::Connected if role == Role::Send => {
                    ctl.negotiate(NegotiationEvent::MediaFlowing, None);
                }
                P::Connected => {
                    ui.connected.set(true);
                    if role == Role::Both {
                        ctl.negotiate(NegotiationEvent::MediaFlowing, None);
                    }
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
        if role == Role::Receive {
            s.borrow_mut().sub_pc = Some(pc.clone());
        } else {
            s.borrow_mut().pc = Some(pc.clone());
        }
        if s.borrow().stats.is_none() {
            self.watch_stats();
        }
        Some(pc)
    }

    pub(super) fn signal(&self, generation: u32, kind: SdpKind, sdp: String) {
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

    pub(super) async fn offer(&self, role: Role, generation: u32) {
        let Some(pc) = self.new_peer(role) else {
            return;
        };
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

    pub(super) async fn answer(&self, role: Role, generation: u32, sdp: String) {
        let Some(pc) = self.new_peer(role) else {
            return;
        };
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
    pub(super) fn watch_stats(&self) {
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

    pub(super) async fn read_stats(&self) {
        let (pc, sub_pc) = {
            let s = self.state();
            let s = s.borrow();
            (s.pc.clone(), s.sub_pc.clone())
        };
        let mut rtt = None::<f64>;
        let (mut frames, mut audio_bytes, mut lost, mut received) = (0.0, 0.0, 0.0, 0.0);
        let num = |o: &JsValue, k: &str| get(o, k).as_f64().unwrap_or(0.0);
        let mut stats = Vec::new();
        for pc in [pc, sub_pc].into_iter().flatten() {
            let Ok(report) = JsFuture::from(pc.get_stats()).await else {
                continue;
            };
            let values = js_sys::Reflect::get(&report, &"values".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                .and_then(|f| f.call0(&report).ok());
            if let Some(iter) = values.and_then(|v| js_sys::try_iter(&v).ok().flatten()) {
                stats.extend(iter.flatten());
            }
        }
        if stats.is_empty() {
            return;
        }
        for stat in stats {
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
