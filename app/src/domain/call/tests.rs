//! The call rules at their edges (R-CONS-1, R-CONS-6).
use super::*;

const NOW: i64 = 1_800_000_000;

fn window() -> CallWindow {
    CallWindow {
        status: ConsultStatus::Waiting,
        consult_type: ConsultType::Video,
        opens_at: NOW,
    }
}

fn live(patient_in: bool, doctor_in: bool) -> Option<CallFacts> {
    Some(CallFacts {
        ended: false,
        patient_in,
        doctor_in,
    })
}

#[test]
fn r_cons_6_the_primary_only_when_configured_healthy_and_not_just_failed() {
    let healthy = PrimaryState {
        configured: true,
        healthy_at: Some(NOW - HEALTH_FRESH_SECS),
    };
    assert_eq!(choose_system(healthy, false, NOW), MediaSystem::Sfu);
    // One second staler and the backup carries the call.
    assert_eq!(choose_system(healthy, false, NOW + 1), MediaSystem::Direct);
    // The last call could not reach it.
    assert_eq!(choose_system(healthy, true, NOW), MediaSystem::Direct);
    // Not configured (the embedded default): always the backup.
    let none = PrimaryState {
        configured: false,
        healthy_at: Some(NOW),
    };
    assert_eq!(choose_system(none, false, NOW), MediaSystem::Direct);
    let never = PrimaryState {
        configured: true,
        healthy_at: None,
    };
    assert_eq!(choose_system(never, false, NOW), MediaSystem::Direct);
    // A health check "from the future" (a clock step) does not count.
    let ahead = PrimaryState {
        configured: true,
        healthy_at: Some(NOW + 5),
    };
    assert_eq!(choose_system(ahead, false, NOW), MediaSystem::Direct);
    for m in [MediaSystem::Sfu, MediaSystem::Direct] {
        assert_eq!(MediaSystem::parse(m.as_str()), Some(m));
    }
}

#[test]
fn r_cons_1_only_the_doctor_starts_and_ends_and_only_one_call_runs() {
    let start = CallAction::Start {
        media: CallMedia::Video,
    };
    assert_eq!(
        decide(window(), None, Side::Doctor, start, NOW),
        Ok(CallOutcome::Start)
    );
    assert_eq!(
        decide(window(), None, Side::Patient, start, NOW),
        Err(CallRefused::DoctorOnly)
    );
    assert_eq!(
        decide(window(), live(false, true), Side::Doctor, start, NOW),
        Err(CallRefused::AlreadyLive)
    );
    // An ended call does not stop a new one.
    let ended = Some(CallFacts {
        ended: true,
        patient_in: false,
        doctor_in: false,
    });
    assert_eq!(
        decide(window(), ended, Side::Doctor, start, NOW),
        Ok(CallOutcome::Start)
    );
    assert_eq!(
        decide(
            window(),
            live(true, true),
            Side::Patient,
            CallAction::End,
            NOW
        ),
        Err(CallRefused::DoctorOnly)
    );
    assert_eq!(
        decide(
            window(),
            live(true, true),
            Side::Doctor,
            CallAction::End,
            NOW
        ),
        Ok(CallOutcome::End)
    );
    assert_eq!(
        decide(window(), None, Side::Doctor, CallAction::End, NOW),
        Err(CallRefused::NoCall)
    );
    assert_eq!(
        decide(window(), None, Side::Patient, CallAction::Join, NOW),
        Err(CallRefused::NoCall)
    );
    assert_eq!(
        decide(
            window(),
            live(false, true),
            Side::Patient,
            CallAction::Join,
            NOW
        ),
        Ok(CallOutcome::Join)
    );
    // A rejoin after a drop is a join again.
    assert_eq!(
        decide(
            window(),
            live(true, true),
            Side::Patient,
            CallAction::Join,
            NOW
        ),
        Ok(CallOutcome::Join)
    );
}

#[test]
fn r_cons_1_calls_only_within_the_consults_time_and_type() {
    let join = CallAction::Join;
    // 15 minutes before the appointment: allowed; one second earlier: not yet.
    let at = NOW - EARLY_WRITE_SECS;
    assert_eq!(
        decide(window(), live(false, true), Side::Patient, join, at),
        Ok(CallOutcome::Join)
    );
    assert_eq!(
        decide(window(), live(false, true), Side::Patient, join, at - 1),
        Err(CallRefused::NotYetOpen)
    );
    let start = CallAction::Start {
        media: CallMedia::Voice,
    };
    assert_eq!(
        decide(window(), None, Side::Doctor, start, at - 1),
        Err(CallRefused::NotYetOpen)
    );
    for status in [
        ConsultStatus::Completed,
        ConsultStatus::Referred,
        ConsultStatus::Unanswered,
        ConsultStatus::Cancelled,
    ] {
        let w = CallWindow { status, ..window() };
        assert_eq!(
            decide(w, None, Side::Doctor, start, NOW),
            Err(CallRefused::ConsultEnded)
        );
        // A call still running when the consult ended can always be left and ended.
        assert_eq!(
            decide(w, live(true, true), Side::Patient, CallAction::Leave, NOW),
            Ok(CallOutcome::Leave)
        );
        assert_eq!(
            decide(w, live(true, true), Side::Doctor, CallAction::End, NOW),
            Ok(CallOutcome::End)
        );
    }
    let w = CallWindow {
        status: ConsultStatus::InProgress,
        ..window()
    };
    assert_eq!(
        decide(w, None, Side::Doctor, start, NOW + 86_400),
        Ok(CallOutcome::Start)
    );
    for consult_type in [ConsultType::Text, ConsultType::ImageText] {
        let w = CallWindow {
            consult_type,
            ..window()
        };
        assert_eq!(
            decide(w, None, Side::Doctor, start, NOW),
            Err(CallRefused::NotVideo)
        );
    }
}

#[test]
fn leaving_a_call_one_is_not_in_changes_nothing_and_fallbacks_need_a_call() {
    assert_eq!(
        decide(
            window(),
            live(false, true),
            Side::Patient,
            CallAction::Leave,
            NOW
        ),
        Ok(CallOutcome::Nothing)
    );
    assert_eq!(
        decide(window(), None, Side::Doctor, CallAction::Leave, NOW),
        Ok(CallOutcome::Nothing)
    );
    let voice = CallAction::FallBack {
        to: Fallback::Voice,
    };
    assert_eq!(
        decide(window(), live(true, true), Side::Patient, voice, NOW),
        Ok(CallOutcome::FallBack(Fallback::Voice))
    );
    assert_eq!(
        decide(window(), None, Side::Patient, voice, NOW),
        Err(CallRefused::NoCall)
    );
}

#[test]
fn tickets_last_two_minutes_and_turn_credentials_the_whole_call() {
    let expires = ticket_expires(NOW);
    assert!(ticket_valid(expires, NOW));
    assert!(ticket_valid(expires, expires - 1));
    assert!(!ticket_valid(expires, expires));
    // A ticket that claims to last longer than any the server issues is not accepted.
    assert!(!ticket_valid(NOW + JOIN_TICKET_SECS + 1, NOW));
    assert_eq!(turn_expires(NOW, NOW), NOW + MAX_CALL_SECS);
    assert_eq!(turn_expires(NOW, NOW + 600), NOW + MAX_CALL_SECS);
    // Late in a long call: still ten minutes of relay.
    assert_eq!(
        turn_expires(NOW, NOW + MAX_CALL_SECS),
        NOW + MAX_CALL_SECS + MIN_TURN_SECS
    );
}

#[test]
fn quality_in_plain_words_at_its_edges() {
    assert_eq!(quality(300.0, 0.02), CallQuality::Good);
    assert_eq!(quality(300.1, 0.0), CallQuality::Fair);
    assert_eq!(quality(0.0, 0.021), CallQuality::Fair);
    assert_eq!(quality(600.0, 0.08), CallQuality::Fair);
    assert_eq!(quality(600.1, 0.0), CallQuality::Poor);
    assert_eq!(quality(10.0, 0.09), CallQuality::Poor);
    assert_eq!(loss_between(0.0, 0.0, 5.0, 95.0), 0.05);
    assert_eq!(loss_between(5.0, 95.0, 5.0, 95.0), 0.0);
    // Counters that went back (a new connection) do not make a negative loss.
    assert_eq!(loss_between(10.0, 100.0, 0.0, 50.0), 0.0);
}

#[test]
fn the_doctor_offers_the_patient_answers_and_stale_answers_are_ignored() {
    use Negotiation as N;
    use NegotiationDo as Do;
    use NegotiationEvent as E;
    // The doctor joins first and waits; the patient comes: offer 1.
    let (d, act) = N::Out.on(Side::Doctor, E::Joined { other_in: false });
    assert_eq!((d, act), (N::Waiting, Do::Nothing));
    let (d, act) = d.on(Side::Doctor, E::OtherJoined);
    assert_eq!(act, Do::Offer { generation: 1 });
    // The patient answers offer 1.
    let (p, _) = N::Out.on(Side::Patient, E::Joined { other_in: true });
    assert_eq!(p, N::Waiting);
    let (p, act) = p.on(Side::Patient, E::OfferReceived { generation: 1 });
    assert_eq!(act, Do::Answer { generation: 1 });
    // The patient drops and rejoins before the answer arrives: offer 2.
    let (d, act) = d.on(Side::Doctor, E::OtherJoined);
    assert_eq!(act, Do::Offer { generation: 2 });
    // The late answer to offer 1 is ignored; the answer to 2 is applied.
    let (d, act) = d.on(Side::Doctor, E::AnswerReceived { generation: 1 });
    assert_eq!((d, act), (N::Offered { generation: 2 }, Do::Nothing));
    let (d, act) = d.on(Side::Doctor, E::AnswerReceived { generation: 2 });
    assert_eq!((d, act), (N::Answered { generation: 2 }, Do::ApplyAnswer));
    let (d, _) = d.on(Side::Doctor, E::MediaFlowing);
    assert_eq!(d, N::Connected { generation: 2 });
    // The patient ignores an old offer once it holds a newer one.
    let (p, _) = p.on(Side::Patient, E::OfferReceived { generation: 2 });
    let (p, act) = p.on(Side::Patient, E::OfferReceived { generation: 1 });
    assert_eq!((p, act), (N::Answered { generation: 2 }, Do::Nothing));
    // A drop: broken, and one tap joins again.
    let (p, act) = p.on(Side::Patient, E::MediaLost);
    assert_eq!((p, act), (N::Broken { generation: 2 }, Do::Close));
    let (p, act) = p.on(Side::Patient, E::Rejoin);
    assert_eq!((p, act), (N::Out, Do::JoinAgain));
    // The doctor reloads its page: the patient drops generation 2 and takes offer 1.
    let (p, act) = N::Connected { generation: 2 }.on(Side::Patient, E::OtherJoined);
    assert_eq!((p, act), (N::Waiting, Do::Close));
    assert_eq!(
        p.on(Side::Patient, E::OfferReceived { generation: 1 }),
        (N::Answered { generation: 1 }, Do::Answer { generation: 1 })
    );
    // The doctor, joining when the patient is already in, offers at once.
    let (_, act) = N::Out.on(Side::Doctor, E::Joined { other_in: true });
    assert_eq!(act, Do::Offer { generation: 1 });
    // The other side leaving closes the connection; leaving closes it too.
    assert_eq!(d.on(Side::Doctor, E::OtherLeft), (N::Waiting, Do::Close));
    assert_eq!(d.on(Side::Doctor, E::Left), (N::Out, Do::Close));
    // Nothing happens to a side that is out.
    assert_eq!(
        N::Out.on(Side::Patient, E::OfferReceived { generation: 9 }),
        (N::Out, Do::Nothing)
    );
}

#[test]
fn on_the_media_server_each_page_offers_what_it_sends_and_answers_what_it_receives() {
    // R-CONS-6: the primary system; the same for the doctor and the patient.
    use NegotiationDo as Do;
    use NegotiationEvent as E;
    let out = SfuNegotiation::default();
    // Nothing happens to a page that is out of the call.
    assert_eq!(
        out.on(E::OfferReceived { generation: 1 }),
        (out, Do::Nothing)
    );
    // In the call, alone or not: the page offers its media at once.
    let (s, act) = out.on(E::Joined { other_in: false });
    assert_eq!(act, Do::Offer { generation: 1 });
    // The server's answer to that offer is applied; an answer to another is not.
    assert_eq!(s.on(E::AnswerReceived { generation: 2 }), (s, Do::Nothing));
    let (s, act) = s.on(E::AnswerReceived { generation: 1 });
    assert_eq!(act, Do::ApplyAnswer);
    // The other side publishes: the server offers it; a newer offer replaces it, an
    // older one is ignored.
    let (s, act) = s.on(E::OfferReceived { generation: 1 });
    assert_eq!(act, Do::Answer { generation: 1 });
    let (s, act) = s.on(E::OfferReceived { generation: 2 });
    assert_eq!(act, Do::Answer { generation: 2 });
    assert_eq!(s.on(E::OfferReceived { generation: 2 }).1, Do::Nothing);
    assert_eq!(s.on(E::OfferReceived { generation: 1 }).1, Do::Nothing);
    // Who comes and goes is the server's concern.
    assert_eq!(s.on(E::OtherJoined), (s, Do::Nothing));
    assert_eq!(s.on(E::OtherLeft), (s, Do::Nothing));
    let (s, _) = s.on(E::MediaFlowing);
    assert_eq!(s.publish, Negotiation::Connected { generation: 1 });
    // A drop: broken; one tap joins again, and the next offer is a fresh count of the
    // server's offers (a new leg counts from 1).
    let (s, act) = s.on(E::MediaLost);
    assert_eq!(
        (s.publish, act),
        (Negotiation::Broken { generation: 1 }, Do::Close)
    );
    let (s, act) = s.on(E::Rejoin);
    assert_eq!((s, act), (SfuNegotiation::default(), Do::JoinAgain));
    let (s, act) = s.on(E::Joined { other_in: true });
    assert_eq!(act, Do::Offer { generation: 1 });
    assert_eq!(
        s.on(E::OfferReceived { generation: 1 }).1,
        Do::Answer { generation: 1 }
    );
    // Joined again while sending (the call frame repeated): nothing new.
    assert_eq!(s.on(E::Joined { other_in: true }).1, Do::Nothing);
    // Leaving closes both connections and forgets the count.
    assert_eq!(s.on(E::Left), (SfuNegotiation::default(), Do::Close));
}
