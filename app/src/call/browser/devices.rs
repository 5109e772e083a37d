//! The camera and microphone: getting them (sound alone when the camera cannot be had),
//! the level meter, the network check before a call, and what the controls do to the
//! tracks.
use super::peer::{configuration, gathered};
use super::{Ctl, PROBE_MS, get, json, tracks, window};
use crate::call::{Device, Network};
use crate::domain::call::{CallAction, Fallback};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{MediaStream, MediaStreamTrack, RtcPeerConnection};

pub(super) fn media_devices() -> Option<web_sys::MediaDevices> {
    let nav = window()?.navigator();
    let devices = get(&nav, "mediaDevices");
    if devices.is_undefined() || get(&devices, "getUserMedia").is_undefined() {
        return None;
    }
    Some(devices.unchecked_into())
}

/// The browser's error name (`NotAllowedError`, `NotFoundError` …).
pub(super) fn error_device(e: &JsValue) -> Device {
    match get(e, "name").as_string().as_deref() {
        Some("NotAllowedError" | "SecurityError" | "PermissionDeniedError") => Device::Denied,
        Some("NotFoundError" | "OverconstrainedError" | "DevicesNotFoundError") => Device::Missing,
        _ => Device::Failed,
    }
}

pub(super) async fn user_media(video: bool, facing_user: bool) -> Result<MediaStream, JsValue> {
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

impl Ctl {
    /// Gets the camera and microphone (or the microphone alone for a voice call), shows
    /// the preview and starts the level meter. Falls back to sound alone when the camera
    /// cannot be had.
    pub(super) async fn ensure_media(&self) -> bool {
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
    pub(super) fn meter(&self, stream: &MediaStream) {
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
    pub(super) async fn probe_network(&self) {
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

    pub(super) fn release_media(&self) {
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
}
