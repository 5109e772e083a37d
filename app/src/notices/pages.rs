//! The message centre's pages.
use crate::components::NotFound;
use crate::i18n::*;
use leptos::prelude::*;

/// The message centre (R-BOOK-3): notices newest first, unread ones marked.
#[component]
pub fn NoticesPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(
        || (),
        |_| crate::page_data::load(crate::notices::NoticesQuery),
    );
    view! {
        <h1>{t_string!(i18n, messages.title)}</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = data.await.unwrap_or(crate::notices::NoticeList { messages: vec![], unread: 0 });
                if list.messages.is_empty() {
                    return view! { <div class="card empty"><p>{t_string!(i18n, messages.empty)}</p></div> }.into_any();
                }
                let unread = crate::localized::fill(t_string!(i18n, messages.unread), &[("count", &list.unread.to_string())]);
                view! {
                    <p class="hint" data-testid="unread">{unread}</p>
                    <ul class="card notices">
                        {list.messages.into_iter().map(|m| view! {
                            <li class="notice" class:notice-unread=!m.read>
                                <a href=format!("/messages/{}", m.id)>
                                    <strong>{m.title}</strong>
                                    <span class="hint">{m.sent_at}</span>
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Suspense>
    }
}

/// One notice; opening it marks it read.
#[component]
pub fn NoticePage() -> impl IntoView {
    let i18n = use_i18n();
    let id = leptos_router::hooks::use_params_map()
        .with_untracked(|p| p.get("id").and_then(|i| i.parse::<i64>().ok()));
    let data = Resource::new(
        move || id,
        |id| async move {
            match id {
                Some(id) => crate::page_data::load(crate::notices::NoticeQuery(id)).await,
                None => None,
            }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Some(m) => view! {
                        <h1>{m.title}</h1>
                        <article class="card">
                            <p class="hint">{m.sent_at}</p>
                            <p>{m.body}</p>
                        </article>
                        <p><a href="/messages">{t_string!(i18n, messages.back)}</a></p>
                    }.into_any(),
                    None => view! { <NotFound /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
