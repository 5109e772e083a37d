//! A place in a doctor's live queue (R-BOOK-1): how many are ahead and an honest wait,
//! updated live after hydration (server-sent events), with a refresh link without
//! JavaScript; the patient can leave.
use crate::booking::QueuePlace;
use crate::booking::QueuePlaceQuery;
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn QueuePage() -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    let number = use_params_map().with_untracked(|p| p.get("number").unwrap_or_default());
    let data = Resource::new(move || number.clone(), |n| load(QueuePlaceQuery(n)));
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, queue.title)}</h1>
        <FormAlerts state=state />
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            let Some(p) = data.await else {
                                return view! { <crate::components::NotFound /> }.into_any();
                            };
                            place_view(p, csrf, english).into_any()
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

fn place_view(p: QueuePlace, csrf: String, english: bool) -> impl IntoView {
    let i18n = use_i18n();
    let waiting = p.status == "waiting";
    let number = p.entry_number.clone();
    view! {
        <article class="card" data-testid="queue-place">
            <p><a href=format!("/doctors/{}", p.doctor_number)>{p.doctor_name.clone()}</a>{format!(" · {}", p.consult_type.name(english))}</p>
            <LivePlace entry_number=p.entry_number.clone() status=p.status.clone() ahead=p.ahead wait_minutes=p.wait_minutes english />
        </article>
        {waiting.then(|| view! {
            <p><a class="button button-secondary button-block" href=format!("/queue/{number}")>{t_string!(i18n, queue.refresh)}</a></p>
            <form method="post" action=format!("/forms/queue/{number}/leave")>
                <CsrfField token=csrf />
                <button type="submit" class="button button-secondary button-block">{t_string!(i18n, queue.leave)}</button>
            </form>
        })}
    }
}

/// The place, kept current by the server's events once the page is live.
#[island]
fn LivePlace(
    entry_number: String,
    status: String,
    ahead: u32,
    wait_minutes: u32,
    english: bool,
) -> impl IntoView {
    let locale = if english { Locale::en } else { Locale::zh_CN };
    let (place, set_place) = signal((status, ahead, wait_minutes));
    let (live, set_live) = signal(false);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::listen(&entry_number, set_place, set_live);
        #[cfg(not(feature = "hydrate"))]
        let _ = (&entry_number, set_place, set_live);
    });
    view! {
        <div class="queue-live" role="status" aria-live="polite" data-testid="queue-live">
            {move || {
                let (status, ahead, minutes) = place.get();
                match status.as_str() {
                    "waiting" => {
                        let line = if ahead == 0 {
                            td_string!(locale, queue.next).to_owned()
                        } else {
                            fill(td_string!(locale, queue.ahead), &[("n", &ahead.to_string())])
                        };
                        let wait = fill(td_string!(locale, queue.wait), &[("m", &minutes.to_string())]);
                        view! {
                            <p class="queue-ahead">{line}</p>
                            <p>{wait}</p>
                        }.into_any()
                    }
                    "called" => view! { <p class="queue-ahead">{td_string!(locale, queue.called)}</p> }.into_any(),
                    "left" => view! { <p>{td_string!(locale, queue.left)}</p> }.into_any(),
                    _ => view! { <p>{td_string!(locale, queue.closed)}</p> }.into_any(),
                }
            }}
            {move || live.get().then(|| view! { <p class="hint">{td_string!(locale, queue.live)}</p> })}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    type Place = (String, u32, u32);

    /// Subscribes to the place's events; the browser reconnects by itself.
    pub fn listen(entry: &str, set_place: WriteSignal<Place>, set_live: WriteSignal<bool>) {
        let Ok(source) = web_sys::EventSource::new(&format!("/api/v1/queue/{entry}/events")) else {
            return;
        };
        let on_place =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(text) = e.data().as_string() else {
                    return;
                };
                let Ok(v) = js_sys::JSON::parse(&text) else {
                    return;
                };
                let get = |k: &str| js_sys::Reflect::get(&v, &k.into()).ok();
                let status = get("status")
                    .and_then(|s| s.as_string())
                    .unwrap_or_default();
                let number = |k: &str| get(k).and_then(|n| n.as_f64()).map_or(0, |n| n as u32);
                set_place.set((status, number("ahead"), number("wait_minutes")));
                set_live.set(true);
            });
        let _ = source.add_event_listener_with_callback("place", on_place.as_ref().unchecked_ref());
        // Both live as long as the page (islands are never unmounted: every link is a
        // new page); an open EventSource is kept alive by the browser.
        on_place.forget();
    }
}
