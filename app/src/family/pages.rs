//! 就诊人: the family members a guardian acts for, whom they act for now, and adding one
//! (R-REG-7). Plain forms: everything works without JavaScript.
use crate::components::{CsrfField, FormAlerts, FormState, InputField, with_viewer};
use crate::domain::Field;
use crate::domain::family::{ALL_RELATIONSHIPS, Dependency, Relationship};
use crate::family::FamilyMemberView;
use crate::family::{FamilyPage, FamilyPageQuery};
use crate::i18n::*;
use crate::localized::fill;
use crate::page_data::load;
use leptos::prelude::*;

pub fn relationship_name(r: Relationship) -> &'static str {
    let i18n = use_i18n();
    match r {
        Relationship::Child => t_string!(i18n, family.rel_child),
        Relationship::Grandchild => t_string!(i18n, family.rel_grandchild),
        Relationship::Sibling => t_string!(i18n, family.rel_sibling),
        Relationship::Spouse => t_string!(i18n, family.rel_spouse),
        Relationship::Parent => t_string!(i18n, family.rel_parent),
        Relationship::OtherRelative => t_string!(i18n, family.rel_other_relative),
        Relationship::Ward => t_string!(i18n, family.rel_ward),
    }
}

/// The list, with one tap to act for someone else.
#[component]
pub fn FamilyListPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    let data = Resource::new(|| (), |_| load(FamilyPageQuery));
    view! {
        <h1>{t_string!(i18n, family.title)}</h1>
        <FormAlerts state=state />
        <p class="lead">{t_string!(i18n, family.lead)}</p>
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            let page = data.await.unwrap_or(FamilyPage { members: vec![], acting_for: None });
                            family_list(page, csrf).into_any()
                        })
                    }}
                </Suspense>
            }
        })}
        <p><a class="button button-block" href="/family/new">{t_string!(i18n, family.add)}</a></p>
    }
}

fn family_list(page: FamilyPage, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let myself = page.acting_for.is_none();
    let empty = page.members.is_empty();
    view! {
        <section class="card" aria-labelledby="acting-title">
            <h2 id="acting-title">{t_string!(i18n, family.acting_for)}</h2>
            <ul class="people">
                <li class="person" class:person-current=myself>
                    <div class="person-main">
                        <strong>{t_string!(i18n, family.myself)}</strong>
                    </div>
                    {if myself {
                        view! { <span class="badge">{t_string!(i18n, family.current)}</span> }.into_any()
                    } else {
                        switch_form(csrf.clone(), String::new(), t_string!(i18n, family.switch_self)).into_any()
                    }}
                </li>
                {page.members.into_iter().map(|m| {
                    let current = page.acting_for.as_deref() == Some(m.member_number.as_str());
                    member_row(m, current, csrf.clone())
                }).collect_view()}
            </ul>
            {empty.then(|| view! { <p class="hint">{t_string!(i18n, family.empty)}</p> })}
        </section>
    }
}

fn switch_form(csrf: String, member_number: String, label: &'static str) -> impl IntoView {
    view! {
        <form method="post" action="/forms/acting-for">
            <CsrfField token=csrf />
            <input type="hidden" name="member_number" value=member_number />
            <button type="submit" class="button button-secondary button-small">{label}</button>
        </form>
    }
}

fn member_row(m: FamilyMemberView, current: bool, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let kind = match m.dependency {
        Dependency::Minor => t_string!(i18n, family.minor),
        Dependency::AdultWithoutCapacity => t_string!(i18n, family.adult_without_capacity),
    };
    let age = fill(
        t_string!(i18n, family.age),
        &[("years", &m.age.to_string())],
    );
    let number = m.member_number.clone();
    view! {
        <li class="person" class:person-current=current data-testid="family-member">
            <div class="person-main">
                <strong>{m.real_name.clone()}</strong>
                <span class="hint">{format!("{} · {} · {}", relationship_name(m.relationship), age, kind)}</span>
                <span class="hint">{m.id_number_masked.clone()}</span>
            </div>
            <div class="person-actions">
                {if current {
                    view! { <span class="badge">{t_string!(i18n, family.current)}</span> }.into_any()
                } else {
                    switch_form(csrf.clone(), number.clone(), t_string!(i18n, family.switch)).into_any()
                }}
                <form method="post" action=format!("/forms/family/{number}/remove")>
                    <CsrfField token=csrf />
                    <button type="submit" class="button button-secondary button-small">{t_string!(i18n, family.remove)}</button>
                </form>
            </div>
        </li>
    }
}

/// Add a child, or an adult without full capacity, with the guardian's declaration.
#[component]
pub fn AddFamilyMemberPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    view! {
        <h1>{t_string!(i18n, family.new_title)}</h1>
        <p class="lead">{t_string!(i18n, family.new_lead)}</p>
        {with_viewer(move |v| {
            let s = state.clone();
            view! {
                <form method="post" action="/forms/family" class="card form">
                    <FormAlerts state=s.clone() />
                    <CsrfField token=v.csrf_token.clone() />
                    <InputField field=Field::RealName label=t_string!(i18n, family.real_name_label).to_string()
                        autocomplete="off" maxlength=30 state=s.clone() />
                    <InputField field=Field::IdNumber label=t_string!(i18n, family.id_number_label).to_string()
                        hint=t_string!(i18n, register.id_number_hint).to_string()
                        autocomplete="off" maxlength=24 state=s.clone() />
                    <div class="field" class:field-invalid=s.message_for(Field::Relationship).is_some()>
                        <label for="f-relationship">{t_string!(i18n, family.relationship_label)}</label>
                        <select id="f-relationship" name="relationship" required=true>
                            {ALL_RELATIONSHIPS.iter().map(|r| view! {
                                <option value=r.as_str()>{relationship_name(*r)}</option>
                            }).collect_view()}
                        </select>
                        {s.message_for(Field::Relationship).map(|e| view! { <p class="field-error">{e}</p> })}
                    </div>
                    <fieldset class="consents">
                        <div class="check">
                            <input type="checkbox" id="f-adult_lacks_capacity" name="adult_lacks_capacity" value="yes" />
                            <label for="f-adult_lacks_capacity">{t_string!(i18n, family.adult_lacks_capacity)}</label>
                        </div>
                        <div class="check">
                            <input type="checkbox" id="f-guardian_confirmed" name="guardian_confirmed" value="yes" required=true />
                            <label for="f-guardian_confirmed">{t_string!(i18n, family.guardian_confirmed)}</label>
                        </div>
                        {s.message_for(Field::GuardianConfirmed).map(|e| view! { <p class="field-error">{e}</p> })}
                    </fieldset>
                    <button type="submit" class="button button-block">{t_string!(i18n, family.submit)}</button>
                    <p class="form-footer"><a href="/family">{t_string!(i18n, family.back)}</a></p>
                </form>
            }
        })}
    }
}
