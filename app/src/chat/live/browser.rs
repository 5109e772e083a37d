//! The live conversation in the browser: the connection, its frames, the page it updates.
use super::{Link, Unsent};
use crate::chat::protocol::{ClientFrame, Entry, EntryKind, Resume, ServerFrame};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

pub struct Setup {
    pub consult: String,
    pub socket: String,
    pub last_seq: i64,
    pub set_entries: WriteSignal<Vec<Entry>>,
    pub set_pending: WriteSignal<Vec<Unsent>>,
    pub set_link: WriteSignal<Link>,
    pub set_typing: WriteSignal<bool>,
    pub set_other_read: WriteSignal<i64>,
    pub locale: crate::i18n::Locale,
}

type CallHandler = Rc<dyn Fn(crate::call::browser::CallFrame)>;

struct State {
    setup: Setup,
    call: Option<CallHandler>,
    /// What came for the call panel before its code was loaded: the replay's end and
    /// the call's latest state.
    call_backlog: Vec<crate::call::browser::CallFrame>,
    ws: Option<web_sys::WebSocket>,
    last: i64,
    outbox: Vec<Unsent>,
    retry_ms: i32,
    typed_at: f64,
    typing_timer: Option<i32>,
}

/// The connection's handle in the island: cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct Conn(StoredValue<Rc<RefCell<State>>, LocalStorage>);

fn storage_key(consult: &str) -> String {
    format!("fuzhen.outbox.{consult}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load_outbox(consult: &str) -> Vec<Unsent> {
    storage()
        .and_then(|s| s.get_item(&storage_key(consult)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

fn save_outbox(consult: &str, outbox: &[Unsent]) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(outbox)) {
        let _ = s.set_item(&storage_key(consult), &json);
    }
}

/// A UUID version 7: 48 bits of milliseconds, then random bits (RFC 9562).
fn uuid_v7() -> String {
    let ms = js_sys::Date::now() as u64;
    let mut b = [0u8; 16];
    if let Some(c) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut b);
    }
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6] = 0x70 | (b[6] & 0x0f);
    b[8] = 0x80 | (b[8] & 0x3f);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn url(path: &str) -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}{path}", loc.host().ok()?))
}

fn send_frame(ws: &web_sys::WebSocket, f: &ClientFrame) {
    if ws.ready_state() == web_sys::WebSocket::OPEN
        && let Ok(json) = serde_json::to_string(f)
    {
        let _ = ws.send_with_str(&json);
    }
}

impl Conn {
    pub fn start(setup: Setup) -> Self {
        let outbox = load_outbox(&setup.consult);
        setup.set_pending.set(outbox.clone());
        let state = Rc::new(RefCell::new(State {
            last: setup.last_seq,
            setup,
            call: None,
            call_backlog: Vec::new(),
            ws: None,
            outbox,
            retry_ms: 1_000,
            typed_at: 0.0,
            typing_timer: None,
        }));
        connect(state.clone());
        // Back online or back in view: connect at once rather than at the next retry.
        if let Some(w) = web_sys::window() {
            let again = state.clone();
            let wake = Closure::<dyn FnMut()>::new(move || {
                let down = again
                    .borrow()
                    .ws
                    .as_ref()
                    .is_none_or(|ws| ws.ready_state() > 1);
                if down {
                    connect(again.clone());
                }
            });
            let _ = w.add_event_listener_with_callback("online", wake.as_ref().unchecked_ref());
            wake.forget();
        }
        Conn(StoredValue::new_local(state))
    }

    pub fn send_text(&self, text: String) {
        let state = self.0.get_value();
        let mut s = state.borrow_mut();
        let u = Unsent {
            client_id: uuid_v7(),
            text,
        };
        s.outbox.push(u.clone());
        save_outbox(&s.setup.consult, &s.outbox);
        s.setup.set_pending.set(s.outbox.clone());
        if let Some(ws) = &s.ws {
            send_frame(
                ws,
                &ClientFrame::Send {
                    consult: s.setup.consult.clone(),
                    client_id: u.client_id,
                    text: u.text,
                },
            );
        }
    }

    /// Sends a frame now if the connection is open (a call's frames are not kept:
    /// the call panel asks again after a reconnection).
    pub fn send(&self, f: ClientFrame) {
        let state = self.0.get_value();
        let s = state.borrow();
        if let Some(ws) = &s.ws {
            send_frame(ws, &f);
        }
    }

    pub fn on_call(&self, call: CallHandler) {
        let backlog = {
            let state = self.0.get_value();
            let mut s = state.borrow_mut();
            s.call = Some(call.clone());
            std::mem::take(&mut s.call_backlog)
        };
        for f in backlog {
            call(f);
        }
    }

    /// At most one typing frame every 3 seconds.
    pub fn typing(&self) {
        let state = self.0.get_value();
        let mut s = state.borrow_mut();
        let now = js_sys::Date::now();
        if now - s.typed_at < 3_000.0 {
            return;
        }
        s.typed_at = now;
        if let Some(ws) = &s.ws {
            send_frame(
                ws,
                &ClientFrame::Typing {
                    consult: s.setup.consult.clone(),
                },
            );
        }
    }
}

fn connect(state: Rc<RefCell<State>>) {
    let Some(url) = url(&state.borrow().setup.socket) else {
        return;
    };
    let Ok(ws) = web_sys::WebSocket::new(&url) else {
        retry(state);
        return;
    };
    state.borrow().setup.set_link.set(Link::Connecting);
    let on_open = {
        let state = state.clone();
        let ws = ws.clone();
        Closure::<dyn FnMut()>::new(move || {
            let mut s = state.borrow_mut();
            s.retry_ms = 1_000;
            let hello = ClientFrame::Hello {
                consults: vec![Resume {
                    consult: s.setup.consult.clone(),
                    after: s.last,
                }],
            };
            send_frame(&ws, &hello);
            // Everything not acknowledged goes again, with its id.
            for u in &s.outbox {
                send_frame(
                    &ws,
                    &ClientFrame::Send {
                        consult: s.setup.consult.clone(),
                        client_id: u.client_id.clone(),
                        text: u.text.clone(),
                    },
                );
            }
            s.setup.set_link.set(Link::Live);
        })
    };
    let on_message = {
        let state = state.clone();
        let ws = ws.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) else {
                return;
            };
            take(&state, &ws, frame);
        })
    };
    let on_close = {
        let state = state.clone();
        Closure::<dyn FnMut()>::new(move || {
            state.borrow().setup.set_link.set(Link::Down);
            state.borrow_mut().ws = None;
            let call = state.borrow().call.clone();
            if let Some(call) = call {
                call(crate::call::browser::CallFrame::Down);
            }
            retry(state.clone());
        })
    };
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_open.forget();
    on_message.forget();
    on_close.forget();
    state.borrow_mut().ws = Some(ws);
}

/// Tries again after a pause that doubles up to 15 seconds.
fn retry(state: Rc<RefCell<State>>) {
    let Some(w) = web_sys::window() else { return };
    let ms = {
        let mut s = state.borrow_mut();
        let ms = s.retry_ms;
        s.retry_ms = (ms * 2).min(15_000);
        ms
    };
    let again = Closure::once_into_js(move || {
        let down = state.borrow().ws.is_none();
        if down {
            connect(state);
        }
    });
    let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(again.unchecked_ref(), ms);
}

fn take(state: &Rc<RefCell<State>>, ws: &web_sys::WebSocket, frame: ServerFrame) {
    use crate::call::browser::CallFrame;
    // The call panel's share, handed over once this connection's state is released.
    let mut for_call = None;
    let mut s = state.borrow_mut();
    match frame {
        f @ (ServerFrame::Call(_) | ServerFrame::Signal { .. }) => {
            for_call = Some(CallFrame::Server(f));
        }

        ServerFrame::Entry(e) => {
            if e.seq <= s.last {
                return;
            }
            if e.seq != s.last + 1 {
                // A gap (news lost between servers): resume from the log.
                ws.close().ok();
                return;
            }
            s.last = e.seq;
            if e.kind == EntryKind::Recall
                && let Some(seq) = e.recalls
            {
                mark_recalled(seq);
            }
            if e.call.is_some() {
                for_call = Some(CallFrame::Entry(e.clone()));
            }
            if let Some(status) = e.status {
                show_status(s.setup.locale, status);
            }
            let theirs = e.side != s.setup_side();
            if theirs {
                // Their message is what they were typing.
                s.setup.set_typing.set(false);
            }
            s.setup.set_entries.update(|v| v.push(e));
            if theirs && visible() {
                send_frame(
                    ws,
                    &ClientFrame::Read {
                        consult: s.setup.consult.clone(),
                        seq: s.last,
                    },
                );
            }
        }
        ServerFrame::Ack { client_id, .. } => {
            s.outbox.retain(|u| u.client_id != client_id);
            save_outbox(&s.setup.consult, &s.outbox);
            s.setup.set_pending.set(s.outbox.clone());
        }
        ServerFrame::Live { .. } => for_call = Some(CallFrame::Live),
        ServerFrame::Read { seq, .. } => s.setup.set_other_read.set(seq),
        ServerFrame::Typing { .. } => {
            s.setup.set_typing.set(true);
            if let Some(t) = s.typing_timer.take()
                && let Some(w) = web_sys::window()
            {
                w.clear_timeout_with_handle(t);
            }
            let set = s.setup.set_typing;
            let off = Closure::once_into_js(move || set.set(false));
            s.typing_timer = web_sys::window().and_then(|w| {
                w.set_timeout_with_callback_and_timeout_and_arguments_0(off.unchecked_ref(), 4_000)
                    .ok()
            });
        }
        ServerFrame::Error {
            client_id: Some(id),
            ..
        } => {
            // Refused for good (blocked words, ended): it leaves the outbox; the page's
            // form shows why on a reload.
            s.outbox.retain(|u| u.client_id != id);
            save_outbox(&s.setup.consult, &s.outbox);
            s.setup.set_pending.set(s.outbox.clone());
        }
        f @ ServerFrame::Error { .. } => for_call = Some(CallFrame::Server(f)),
    }
    let call = s.call.clone();
    match (call, for_call) {
        (Some(call), Some(f)) => {
            drop(s);
            call(f);
        }
        (None, Some(f)) => {
            // Kept for the panel until it is loaded: the end of the replay and the
            // call's latest state (entries are in the page already).
            match &f {
                CallFrame::Live => s.call_backlog.push(f),
                CallFrame::Server(ServerFrame::Call(_)) => {
                    s.call_backlog
                        .retain(|b| !matches!(b, CallFrame::Server(ServerFrame::Call(_))));
                    s.call_backlog.push(f);
                }
                _ => {}
            }
        }
        _ => {}
    }
}

impl State {
    fn setup_side(&self) -> crate::domain::consult::Side {
        // The socket path says whose connection this is.
        if self.setup.socket.contains("/staff/") {
            crate::domain::consult::Side::Doctor
        } else {
            crate::domain::consult::Side::Patient
        }
    }
}

fn visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
}

/// The consult's status chip, which the server drew, after a move.
fn show_status(locale: crate::i18n::Locale, status: crate::domain::consult::ConsultStatus) {
    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| {
        d.query_selector("[data-testid=consult-status]")
            .ok()
            .flatten()
    }) {
        el.set_text_content(Some(crate::consult::status_text(locale, status)));
        el.set_class_name(crate::consult::status_class(status));
    }
}

/// A message the page drew on the server, recalled since.
fn mark_recalled(seq: i64) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(&format!("m{seq}")))
    {
        let _ = el.class_list().add_1("chat-recalled-message");
    }
}
