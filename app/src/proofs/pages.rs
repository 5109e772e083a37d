//! Diagnosis proofs for the patient (R-ELIG-2): the list with each proof's status (and
//! the reason when rejected), withdrawal while waiting, and the upload form. Plain forms
//! that work without JavaScript; on a phone the file input offers camera or gallery.
use super::upload::{ConditionSearch, ProofUploadForm};
use crate::components::{CsrfField, FormAlerts, FormState, with_viewer};
use crate::domain::Field;
use crate::domain::proof::ProofStatus;
use crate::i18n::*;
use crate::localized::{fill, reject_reason_text};
use crate::page_data::load;
use crate::proofs::ProofView;
use crate::proofs::{ProofFormQuery, ProofsQuery};
use leptos::prelude::*;

fn status_text(status: ProofStatus) -> &'static str {
    let i18n = use_i18n();
    match status {
        ProofStatus::Submitted => t_string!(i18n, proofs.submitted),
        ProofStatus::Approved => t_string!(i18n, proofs.approved),
        ProofStatus::Rejected => t_string!(i18n, proofs.rejected),
        ProofStatus::Withdrawn => t_string!(i18n, proofs.withdrawn),
    }
}

#[component]
pub fn ProofsPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = FormState::from_query();
    let data = Resource::new(|| (), |_| load(ProofsQuery));
    view! {
        <h1>{t_string!(i18n, proofs.title)}</h1>
        <FormAlerts state=state />
        <p><a class="button button-block" href="/proofs/new">{t_string!(i18n, proofs.add)}</a></p>
        {with_viewer(move |v| {
            let csrf = v.csrf_token;
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let csrf = csrf.clone();
                        Suspend::new(async move {
                            let list = data.await.unwrap_or_default();
                            if list.is_empty() {
                                return view! { <div class="card empty"><p>{t_string!(i18n, proofs.empty)}</p></div> }.into_any();
                            }
                            list.into_iter().map(|p| proof_card(p, csrf.clone())).collect_view().into_any()
                        })
                    }}
                </Suspense>
            }
        })}
    }
}

fn proof_card(p: ProofView, csrf: String) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let reason = p.reject_reason.map(|r| {
        let mut text = reject_reason_text(locale, r).to_owned();
        if let Some(note) = p.reject_note.as_ref().filter(|n| !n.is_empty()) {
            text = format!("{text}（{note}）");
        }
        text
    });
    let thumb = p.files.iter().find(|f| f.has_thumbnail).map(|f| {
        format!(
            "/api/v1/proofs/{}/files/{}?thumbnail=true",
            p.proof_number, f.position
        )
    });
    let waiting = p.status == ProofStatus::Submitted;
    let number = p.proof_number.clone();
    view! {
        <article class="card proof" data-testid="proof">
            <div class="proof-head">
                <strong>{format!("{} · {}", p.person_name, p.diagnosis)}</strong>
                <span class=format!("badge status-{}", p.status.as_str())>{status_text(p.status)}</span>
            </div>
            <p class="hint">{format!("{} · {} · {}", p.institution, p.diagnosed_on, p.icd10)}</p>
            {thumb.map(|src| view! { <img class="proof-thumb" src=src alt="" loading="lazy" /> })}
            {reason.map(|r| view! { <p class="field-error">{fill(t_string!(i18n, proofs.reason), &[("reason", &r)])}</p> })}
            {waiting.then(|| view! {
                <form method="post" action=format!("/forms/proofs/{number}/withdraw")>
                    <CsrfField token=csrf />
                    <button type="submit" class="button button-secondary button-small">{t_string!(i18n, proofs.withdraw)}</button>
                </form>
            })}
        </article>
    }
}

#[component]
pub fn NewProofPage() -> impl IntoView {
    let i18n = use_i18n();
    let english = i18n.get_locale_untracked() == Locale::en;
    let state = FormState::from_query();
    let data = Resource::new(|| (), |_| load(ProofFormQuery));
    view! {
        <h1>{t_string!(i18n, proofs.new_title)}</h1>
        {with_viewer(move |v| {
            let (csrf, state) = (v.csrf_token, state.clone());
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let (csrf, s) = (csrf.clone(), state.clone());
                        Suspend::new(async move {
                            let Some(form) = data.await else { return ().into_any() };
                            let who = fill(t_string!(i18n, start.for_whom), &[("name", &form.person_name)]);
                            // Grouped by department, so a long list is still findable without JS.
                            let mut groups: Vec<(crate::domain::department::Department, Vec<crate::proofs::DiagnosisOption>)> = Vec::new();
                            for c in form.conditions {
                                match groups.last_mut() {
                                    Some((d, list)) if *d == c.department => list.push(c),
                                    _ => groups.push((c.department, vec![c])),
                                }
                            }
                            let err = |f: Field| s.message_for(f).map(|e| view! { <p class="field-error" id=format!("f-{}-error", f.as_str())>{e}</p> });
                            // The island's children must own what they show.
                            let [icd10_err, institution_err, date_err, files_err, note_err] =
                                [Field::Icd10, Field::Institution, Field::DiagnosedOn, Field::Files, Field::Note].map(err);
                            view! {
                                <p class="lead">{who}" "<a href="/family">{t_string!(i18n, start.switch)}</a></p>
                                <ProofUploadForm csrf english>
                                    <FormAlerts state=s.clone() />
                                    <input type="hidden" name="idempotency_key" value=form.idempotency_key />
                                    <ConditionSearch english />
                                    <div class="field">
                                        <label for="f-icd10">{t_string!(i18n, proofs.diagnosis)}</label>
                                        <select id="f-icd10" name="icd10" required=true>
                                            <option value="">{t_string!(i18n, proofs.choose)}</option>
                                            {groups.into_iter().map(|(d, list)| view! {
                                                <optgroup label=d.name(english)>
                                                    {list.into_iter().map(|c| view! { <option value=c.icd10.clone()>{format!("{} ({})", c.name, c.icd10)}</option> }).collect_view()}
                                                </optgroup>
                                            }).collect_view()}
                                        </select>
                                        {icd10_err}
                                    </div>
                                    <div class="field">
                                        <label for="f-institution">{t_string!(i18n, proofs.institution)}</label>
                                        <input id="f-institution" name="institution" maxlength="60" required=true />
                                        {institution_err}
                                    </div>
                                    <div class="field">
                                        <label for="f-diagnosed_on">{t_string!(i18n, proofs.diagnosed_on)}</label>
                                        <input id="f-diagnosed_on" name="diagnosed_on" type="date" required=true />
                                        {date_err}
                                    </div>
                                    <div class="field">
                                        <label for="f-files">{t_string!(i18n, proofs.files)}</label>
                                        <input id="f-files" name="files" type="file" multiple=true required=true
                                            accept="image/jpeg,image/png,image/webp,application/pdf" />
                                        <p class="hint">{t_string!(i18n, proofs.files_hint)}</p>
                                        {files_err}
                                    </div>
                                    <div class="field">
                                        <label for="f-note">{t_string!(i18n, proofs.note)}</label>
                                        <textarea id="f-note" name="note" maxlength="200" rows="3"></textarea>
                                        {note_err}
                                    </div>
                                </ProofUploadForm>
                            }.into_any()
                        })
                    }}
                </Suspense>
            }
        })}
    }
}
