//! The doctor's page records a backup call (R-CONS-7): both sides' sound mixed, and both
//! pictures side by side on a canvas, into WebM pieces of five seconds that go up one at
//! a time (retried until they arrive; the server stores a piece sent twice once). When
//! the call ends the part is completed and becomes a recording of the consult's record.
//! A page that cannot record says why, and the record shows it.
use js_sys::{Array, Reflect};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Blob, HtmlVideoElement, MediaRecorder, MediaStream};

const PIECE_MS: i32 = 5_000;
const WIDTH: u32 = 640;
const HEIGHT: u32 = 240;

struct Inner {
    call: String,
    csrf: String,
    part: i32,
    next: i32,
    queue: VecDeque<Blob>,
    uploading: bool,
    stopped: bool,
    finished: bool,
    started_ms: f64,
    recorder: Option<MediaRecorder>,
    draw: Option<i32>,
    audio: Option<web_sys::AudioContext>,
}

/// A recording under way.
#[derive(Clone)]
pub struct Recorder(Rc<RefCell<Inner>>);

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

async fn request(
    method: &str,
    url: &str,
    csrf: &str,
    body: Option<&JsValue>,
) -> Result<JsValue, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = js_sys::Object::new();
    Reflect::set(&headers, &"X-CSRF-Token".into(), &csrf.into())?;
    if body.is_some_and(|b| b.is_string()) {
        Reflect::set(&headers, &"Content-Type".into(), &"application/json".into())?;
    }
    init.set_headers(&headers);
    if let Some(b) = body {
        init.set_body(b);
    }
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let w = window().ok_or(JsValue::NULL)?;
    let res: web_sys::Response = JsFuture::from(w.fetch_with_str_and_init(url, &init))
        .await?
        .unchecked_into();
    if !res.ok() {
        return Err(JsValue::from_f64(f64::from(res.status())));
    }
    Ok(res.into())
}

/// Tells the server this page cannot record the call, and why.
pub fn unavailable(call: &str, csrf: &str, reason: &str) {
    let url = format!("/api/v1/staff/calls/{call}/recording/unavailable");
    let body = JsValue::from_str(&serde_json::json!({ "reason": reason }).to_string());
    let csrf = csrf.to_owned();
    spawn_local(async move {
        let _ = request("POST", &url, &csrf, Some(&body)).await;
    });
}

/// The next part of the call's recording: one after every part the server knows.
async fn next_part(call: &str, csrf: &str) -> i32 {
    let url = format!("/api/v1/staff/calls/{call}/recording");
    let Ok(res) = request("GET", &url, csrf, None).await else {
        return 0;
    };
    let res: web_sys::Response = res.unchecked_into();
    let Ok(json) = res.json() else {
        return 0;
    };
    let Ok(json) = JsFuture::from(json).await else {
        return 0;
    };
    let mut highest = -1;
    for list in ["parts", "recordings"] {
        for item in
            Array::from(&Reflect::get(&json, &list.into()).unwrap_or(JsValue::UNDEFINED)).iter()
        {
            if let Some(p) = Reflect::get(&item, &"part".into())
                .ok()
                .and_then(|p| p.as_f64())
            {
                highest = highest.max(p as i32);
            }
        }
    }
    highest + 1
}

impl Recorder {
    /// Starts recording `local` and the stream playing in `remote` (and both pictures,
    /// unless `voice`). The reason it cannot, in the reader's words, otherwise.
    pub async fn start(
        call: String,
        csrf: String,
        local: &MediaStream,
        remote: &HtmlVideoElement,
        local_video: &HtmlVideoElement,
        voice: bool,
    ) -> Result<Recorder, &'static str> {
        let w = window().ok_or("no window")?;
        if Reflect::get(&w, &"MediaRecorder".into()).map_or(true, |v| v.is_undefined()) {
            return Err("此浏览器不支持录制（MediaRecorder）");
        }
        let audio = web_sys::AudioContext::new().map_err(|_| "无法混合双方声音")?;
        let _ = audio.resume();
        let mix = audio
            .create_media_stream_destination()
            .map_err(|_| "无法混合双方声音")?;
        if let Ok(src) = audio.create_media_stream_source(local) {
            let _ = src.connect_with_audio_node(&mix);
        }
        if let Some(remote_stream) = remote.src_object()
            && let Ok(src) = audio.create_media_stream_source(&remote_stream)
        {
            let _ = src.connect_with_audio_node(&mix);
        }
        let tracks = Array::new();
        for t in mix.stream().get_audio_tracks().iter() {
            tracks.push(&t);
        }
        let mut draw = None;
        if !voice {
            let canvas: web_sys::HtmlCanvasElement = w
                .document()
                .and_then(|d| d.create_element("canvas").ok())
                .ok_or("无法录制画面")?
                .unchecked_into();
            canvas.set_width(WIDTH);
            canvas.set_height(HEIGHT);
            let ctx: web_sys::CanvasRenderingContext2d = canvas
                .get_context("2d")
                .ok()
                .flatten()
                .ok_or("无法录制画面")?
                .unchecked_into();
            let (them, me) = (remote.clone(), local_video.clone());
            let half = f64::from(WIDTH / 2);
            let tick = Closure::<dyn FnMut()>::new(move || {
                let _ = ctx.draw_image_with_html_video_element_and_dw_and_dh(
                    &them,
                    0.0,
                    0.0,
                    half,
                    f64::from(HEIGHT),
                );
                let _ = ctx.draw_image_with_html_video_element_and_dw_and_dh(
                    &me,
                    half,
                    0.0,
                    half,
                    f64::from(HEIGHT),
                );
            });
            draw = w
                .set_interval_with_callback_and_timeout_and_arguments_0(
                    tick.as_ref().unchecked_ref(),
                    66,
                )
                .ok();
            tick.forget();
            let picture = canvas
                .capture_stream_with_frame_request_rate(15.0)
                .map_err(|_| "无法录制画面")?;
            for t in picture.get_video_tracks().iter() {
                tracks.push(&t);
            }
        }
        let stream = MediaStream::new_with_tracks(&tracks).map_err(|_| "无法录制")?;
        let options = web_sys::MediaRecorderOptions::new();
        let kind = if voice {
            "audio/webm;codecs=opus"
        } else {
            "video/webm;codecs=vp8,opus"
        };
        if MediaRecorder::is_type_supported(kind) {
            options.set_mime_type(kind);
        }
        let recorder =
            MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)
                .map_err(|_| "此浏览器无法录制 WebM")?;
        let part = next_part(&call, &csrf).await;
        let me = Recorder(Rc::new(RefCell::new(Inner {
            call,
            csrf,
            part,
            next: 0,
            queue: VecDeque::new(),
            uploading: false,
            stopped: false,
            finished: false,
            started_ms: js_sys::Date::now(),
            recorder: Some(recorder.clone()),
            draw,
            audio: Some(audio),
        })));
        let piece = me.clone();
        let on_data =
            Closure::<dyn FnMut(web_sys::BlobEvent)>::new(move |e: web_sys::BlobEvent| {
                if let Some(blob) = e.data()
                    && blob.size() > 0.0
                {
                    piece.0.borrow_mut().queue.push_back(blob);
                    piece.pump();
                }
            });
        recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
        on_data.forget();
        let done = me.clone();
        let on_stop = Closure::<dyn FnMut()>::new(move || {
            done.0.borrow_mut().stopped = true;
            done.pump();
        });
        recorder.set_onstop(Some(on_stop.as_ref().unchecked_ref()));
        on_stop.forget();
        recorder
            .start_with_time_slice(PIECE_MS)
            .map_err(|_| "无法开始录制")?;
        Ok(me)
    }

    /// Stops recording; what is left goes up, then the part is completed.
    pub fn stop(&self) {
        let mut inner = self.0.borrow_mut();
        if let Some(r) = inner.recorder.take()
            && r.state() != web_sys::RecordingState::Inactive
        {
            let _ = r.stop();
        }
        if let (Some(id), Some(w)) = (inner.draw.take(), window()) {
            w.clear_interval_with_handle(id);
        }
        if let Some(a) = inner.audio.take() {
            let _ = a.close();
        }
    }

    /// Sends the next piece (one at a time, in order, each retried until it arrives);
    /// once stopped and all sent, completes the part.
    fn pump(&self) {
        let me = self.clone();
        let (blob, url, csrf, idx) = {
            let mut inner = self.0.borrow_mut();
            if inner.uploading || inner.finished {
                return;
            }
            let Some(blob) = inner.queue.pop_front() else {
                if inner.stopped && inner.next > 0 {
                    inner.finished = true;
                    let url = format!(
                        "/api/v1/staff/calls/{}/recording/{}/finish",
                        inner.call, inner.part
                    );
                    let body = serde_json::json!({
                        "pieces": inner.next,
                        "duration_ms": (js_sys::Date::now() - inner.started_ms) as i64,
                    })
                    .to_string();
                    let csrf = inner.csrf.clone();
                    spawn_local(async move {
                        let body = JsValue::from_str(&body);
                        for wait in [0, 1_000, 3_000, 10_000] {
                            if wait > 0 {
                                sleep(wait).await;
                            }
                            if request("POST", &url, &csrf, Some(&body)).await.is_ok() {
                                return;
                            }
                        }
                    });
                }
                return;
            };
            inner.uploading = true;
            let url = format!(
                "/api/v1/staff/calls/{}/recording/{}/{}",
                inner.call, inner.part, inner.next
            );
            (blob, url, inner.csrf.clone(), inner.next)
        };
        spawn_local(async move {
            let mut wait = 1_000;
            loop {
                if request("PUT", &url, &csrf, Some(&blob)).await.is_ok() {
                    break;
                }
                sleep(wait).await;
                wait = (wait * 2).min(30_000);
            }
            {
                let mut inner = me.0.borrow_mut();
                inner.uploading = false;
                inner.next = idx + 1;
            }
            me.pump();
        });
    }
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
