//! The live parts of the proof upload page (R-ELIG-2), for phones on poor networks:
//! the upload shows its progress and, when the connection drops, is retried without
//! picking the files again (the same idempotency key goes with the retry, so an upload
//! whose answer was lost is found, not stored twice); and the diagnosis can be found by
//! typing Chinese, pinyin initials or the ICD-10 code. Without JavaScript the same form
//! posts as plain multipart and the diagnosis is picked from the grouped list.
use crate::domain::department::Department;
use crate::i18n::*;
use crate::localized::fill;
use leptos::prelude::*;

/// Where the upload stands (only the browser moves it on).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    /// Percent of the bytes sent.
    Sending(u8),
    /// The connection failed or the server had a fault: the same upload can be sent again.
    Failed,
    /// The server refused it, with its localized message (the form must be changed).
    Refused(String),
}

/// The upload form: children are the server-rendered fields; this adds the progress,
/// the retry and the submit button.
#[island]
pub fn ProofUploadForm(csrf: String, english: bool, children: Children) -> impl IntoView {
    let locale = if english { Locale::en } else { Locale::zh_CN };
    let (phase, set_phase) = signal(Phase::Idle);
    // What the last attempt sent, to send again on retry (browser only).
    #[cfg(feature = "hydrate")]
    let last = StoredValue::new_local(None::<web_sys::FormData>);
    let action = format!("/forms/proofs?csrf_token={csrf}");
    let token = StoredValue::new(csrf);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(data) = browser::form_data(&ev) {
            ev.prevent_default();
            last.set_value(Some(data.clone()));
            browser::send(data, token.get_value(), set_phase);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ev, token, set_phase);
    };
    let retry = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(data) = last.get_value() {
            browser::send(data, token.get_value(), set_phase);
        }
    };
    let sending = move || matches!(phase.get(), Phase::Sending(_));
    let status = move || match phase.get() {
        Phase::Idle => ().into_any(),
        Phase::Sending(percent) => {
            let text = fill(
                td_string!(locale, proofs.uploading),
                &[("percent", &percent.to_string())],
            );
            view! {
                <label class="upload-progress">
                    <span>{text}</span>
                    <progress max="100" value=percent.to_string()></progress>
                </label>
            }
            .into_any()
        }
        Phase::Failed => view! {
            <div class="alert alert-error" role="alert" data-testid="upload-failed">
                <p>{td_string!(locale, proofs.upload_failed)}</p>
                <button type="button" class="button button-secondary" on:click=retry>
                    {td_string!(locale, proofs.retry)}
                </button>
            </div>
        }
        .into_any(),
        Phase::Refused(message) => {
            view! { <p class="alert alert-error" role="alert">{message}</p> }.into_any()
        }
    };
    view! {
        <form method="post" enctype="multipart/form-data" class="card form"
            action=action
            on:submit=on_submit>
            {children()}
            <div class="upload-status" aria-live="polite">{status}</div>
            <button type="submit" class="button button-block" disabled=sending>
                {td_string!(locale, proofs.submit)}
            </button>
        </form>
    }
}

/// Finds a diagnosis on the list as it is typed; picking one selects it in the plain
/// list below, which is what the form sends. Hidden until the browser runs it.
#[island]
pub fn ConditionSearch(english: bool) -> impl IntoView {
    let locale = if english { Locale::en } else { Locale::zh_CN };
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    let (matches, set_matches) = signal(Vec::<ConditionMatch>::new());
    let (chosen, set_chosen) = signal(None::<String>);
    // Only the answer to the latest query is shown.
    let asked = StoredValue::new(0u32);
    let on_input = move |ev| {
        let query = event_target_value(&ev).trim().to_owned();
        asked.update_value(|n| *n += 1);
        let n = asked.get_value();
        if query.is_empty() {
            set_matches.set(Vec::new());
            return;
        }
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let found = browser::search_conditions(&query, english).await;
            if asked.get_value() == n {
                set_matches.set(found);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (n, set_matches);
    };
    let pick = move |m: ConditionMatch| {
        #[cfg(feature = "hydrate")]
        browser::select_condition(&m.icd10);
        set_chosen.set(Some(format!("{} ({})", m.name, m.icd10)));
        set_matches.set(Vec::new());
    };
    view! {
        <div class="field condition-search" hidden=move || !ready.get()>
            <label for="f-condition-q">{td_string!(locale, proofs.search)}</label>
            <input id="f-condition-q" type="search" autocomplete="off" enterkeyhint="search"
                placeholder=td_string!(locale, proofs.search_placeholder) on:input=on_input />
            <ul class="condition-matches">
                // Eight answers at most, replaced whole: no keyed list needed.
                {move || matches.get().into_iter().map(|m| {
                    let label = format!("{} ({})", m.name, m.icd10);
                    let department = m.department.map(|d| d.name(english));
                    view! {
                        <li>
                            <button type="button" class="condition-match" on:click=move |_| pick(m.clone())>
                                <span>{label}</span>
                                <span class="hint">{department}</span>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || chosen.get().map(|c| view! {
                <p class="derived" role="status">{fill(td_string!(locale, proofs.chosen), &[("name", &c)])}</p>
            })}
        </div>
    }
}

/// One search answer, as the island shows it.
#[derive(Debug, Clone, PartialEq)]
struct ConditionMatch {
    icd10: String,
    name: String,
    department: Option<Department>,
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{ConditionMatch, Phase};
    use crate::domain::department::Department;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{FormData, HtmlFormElement, HtmlSelectElement, ProgressEvent, XmlHttpRequest};

    pub fn form_data(ev: &leptos::ev::SubmitEvent) -> Option<FormData> {
        let form: HtmlFormElement = ev.target()?.dyn_into().ok()?;
        FormData::new_with_form(&form).ok()
    }

    /// Sends the form to the API with XHR (fetch cannot report upload progress). A
    /// failure that sending again may cure (no connection, a timeout, a 5xx) offers the
    /// retry; a refusal shows the server's message.
    pub fn send(data: FormData, csrf: String, set_phase: WriteSignal<Phase>) {
        let Ok(xhr) = XmlHttpRequest::new() else {
            set_phase.set(Phase::Failed);
            return;
        };
        let opened = xhr.open_with_async("POST", "/api/v1/proofs", true).is_ok()
            && xhr.set_request_header("X-CSRF-Token", &csrf).is_ok()
            && xhr.set_request_header("Accept", "application/json").is_ok();
        if !opened {
            set_phase.set(Phase::Failed);
            return;
        }
        // Ten files of 10 MB on a slow line take a while; a stalled one should not hang.
        xhr.set_timeout(180_000);
        set_phase.set(Phase::Sending(0));
        if let Ok(upload) = xhr.upload() {
            let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    let percent = (e.loaded() / e.total() * 100.0).clamp(0.0, 100.0) as u8;
                    set_phase.set(Phase::Sending(percent));
                }
            });
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            // Owned by the request from here on; one small closure per attempt.
            on_progress.forget();
        }
        let answered = xhr.clone();
        // `loadend` follows every ending: answer, network error, timeout, abort.
        let on_end = Closure::<dyn FnMut()>::new(move || {
            let status = answered.status().unwrap_or(0);
            match status {
                200 | 201 => {
                    let _ = window().location().assign("/proofs?notice=proof_submitted");
                }
                0 | 408 | 429 | 500..=599 => set_phase.set(Phase::Failed),
                _ => {
                    let message = answered
                        .response_text()
                        .ok()
                        .flatten()
                        .and_then(|text| js_sys::JSON::parse(&text).ok())
                        .and_then(|body| js_sys::Reflect::get(&body, &"error".into()).ok())
                        .and_then(|error| js_sys::Reflect::get(&error, &"message".into()).ok())
                        .and_then(|m| m.as_string());
                    match message {
                        Some(m) => set_phase.set(Phase::Refused(m)),
                        None => set_phase.set(Phase::Failed),
                    }
                }
            }
        });
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        on_end.forget();
        if xhr.send_with_opt_form_data(Some(&data)).is_err() {
            set_phase.set(Phase::Failed);
        }
    }

    /// Asks `/api/v1/conditions`; nothing found or no connection is an empty list.
    pub async fn search_conditions(query: &str, english: bool) -> Vec<ConditionMatch> {
        let url = format!(
            "/api/v1/conditions?q={}",
            String::from(js_sys::encode_uri_component(query))
        );
        let Ok(answer) = wasm_bindgen_futures::JsFuture::from(window().fetch_with_str(&url)).await
        else {
            return Vec::new();
        };
        let Ok(response) = answer.dyn_into::<web_sys::Response>() else {
            return Vec::new();
        };
        if !response.ok() {
            return Vec::new();
        }
        let Ok(json) = response.json() else {
            return Vec::new();
        };
        let Ok(body) = wasm_bindgen_futures::JsFuture::from(json).await else {
            return Vec::new();
        };
        let text = |v: &wasm_bindgen::JsValue, key: &str| {
            js_sys::Reflect::get(v, &key.into())
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default()
        };
        let Ok(list) = js_sys::Reflect::get(&body, &"conditions".into()) else {
            return Vec::new();
        };
        js_sys::Array::from(&list)
            .iter()
            .take(8)
            .map(|c| ConditionMatch {
                icd10: text(&c, "icd10"),
                name: text(&c, if english { "name_en" } else { "name_zh" }),
                department: Department::parse(&text(&c, "department")),
            })
            .filter(|m| !m.icd10.is_empty())
            .collect()
    }

    pub fn select_condition(icd10: &str) {
        if let Some(select) = document()
            .get_element_by_id("f-icd10")
            .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
        {
            select.set_value(icd10);
        }
    }
}
