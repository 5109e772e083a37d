//! The peer connection of the backup system: made with this side's media, the offer or
//! answer gathered and sent, and `getStats()` read every two seconds.
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

impl Ctl {
    pub(super) fn close_peer(&self) {
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
    pub(super) fn new_peer(&self) -> Option<RtcPeerConnection> {
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

    pub(super) async fn offer(&self, generation: u32) {
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

    pub(super) async fn answer(&self, generation: u32, sdp: String) {
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
