//! Demo data for trying the app locally (`server dev seed`; `make run` calls it): staff
//! of every role with known passwords and authenticator secrets, patients with family
//! members, proofs in every state, and a paid consult with a question answered. Refused in production mode; running it again
//! changes nothing. The credentials are in the README, for local use only.
use crate::accounts::service as accounts;
use crate::accounts::service::RegisterInput;
use crate::accounts::sms_codes;
use crate::config::Mode;
use crate::context::RequestContext;
use crate::family::service as family;
use crate::family::service::AddInput;
use crate::proofs::service as proofs;
use crate::proofs::service::Decision;
use crate::proofs::uploads::ProofInput;
use crate::staff::service as staff;
use crate::state::AppState;
use anyhow::{Context, bail};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

/// Every demo staff member's password.
pub const STAFF_PASSWORD: &str = "fuzhen-demo-staff-2026";
/// Every demo patient's password.
pub const PATIENT_PASSWORD: &str = "fuzhen-demo-patient-2026";

/// (username, display name, role, department, TOTP secret in base32).
pub const STAFF: &[(&str, &str, &str, Option<&str>, &str)] = &[
    (
        "demo.admin",
        "演示管理员",
        "admin",
        None,
        "FUZHENDEMOADMINAAAAAAAAAAAAAAAAA",
    ),
    // A second admin, so that approving an account (four eyes) can be tried locally.
    (
        "demo.admin2",
        "演示管理员二",
        "admin",
        None,
        "FUZHENDEMOADMINBBBBBBBBBBBBBBBBB",
    ),
    (
        "demo.operator",
        "王运营",
        "operator",
        None,
        "FUZHENDEMOOPERATORAAAAAAAAAAAAAA",
    ),
    (
        "demo.doctor",
        "刘医生",
        "doctor",
        Some("cardiology"),
        "FUZHENDEMODOCTORAAAAAAAAAAAAAAAA",
    ),
    (
        "demo.pharmacist",
        "陈药师",
        "pharmacist",
        None,
        "FUZHENDEMOPHARMACISTAAAAAAAAAAAA",
    ),
    (
        "demo.auditor",
        "赵审计",
        "auditor",
        None,
        "FUZHENDEMOAUDITORAAAAAAAAAAAAAAA",
    ),
];

/// (phone, name, ID number). The ID numbers are made up, with valid check digits.
pub const PATIENTS: &[(&str, &str, &str)] = &[
    ("13900000001", "王建国", "110105196505050039"),
    ("13900000002", "李秀英", "110105195808120044"),
    ("13900000003", "陈晨", "110105199203030052"),
];

const IP: &str = "demo-seed";

/// What a run did.
pub enum Seeded {
    Created,
    AlreadyThere,
}

pub async fn seed(state: &AppState, mode: Mode) -> anyhow::Result<Seeded> {
    if mode == Mode::Production {
        bail!("demo data is for dev mode only: production starts empty");
    }
    if staff::list(state)
        .await
        .map_err(anyhow_of)?
        .iter()
        .any(|s| s.username == STAFF[0].0)
    {
        return Ok(Seeded::AlreadyThere);
    }
    let now = OffsetDateTime::now_utc();
    let mut operator = None;
    for (username, name, role, department, secret) in STAFF {
        let created = staff::create_on_host(
            state,
            staff::NewStaff {
                username: (*username).into(),
                display_name: (*name).into(),
                role: (*role).into(),
                department: department.map(Into::into),
                phone: None,
            },
            &demo(now),
        )
        .await
        .map_err(anyhow_of)
        .with_context(|| format!("staff {username}"))?;
        staff::set_demo_credentials(state, created.staff.id, STAFF_PASSWORD, secret)
            .await
            .map_err(anyhow_of)?;
        if *role == "operator" {
            operator = Some(created.staff.id);
        }
    }
    let operator = operator.context("no demo operator")?;

    let mut ids = Vec::new();
    for (phone, name, id_number) in PATIENTS {
        ids.push(register(state, phone, name, id_number, now).await?);
    }
    let (wang, li) = (ids[0], ids[1]);

    // 王建国: hypertension approved, diabetes waiting; his son's asthma proof rejected.
    let approved = proof(
        state,
        wang,
        None,
        "I10",
        "北京协和医院",
        "2026-03-12",
        1,
        now,
    )
    .await?;
    decide(
        state,
        operator,
        &approved,
        approve("I10", "cardiology"),
        now,
    )
    .await?;
    proof(
        state,
        wang,
        None,
        "E11.9",
        "北京大学第一医院",
        "2026-05-20",
        2,
        now,
    )
    .await?;
    let son = family::add(
        state,
        wang,
        AddInput {
            real_name: "王小宇".into(),
            id_number: "110105201907090010".into(),
            relationship: "child".into(),
            guardian_confirmed: true,
            adult_lacks_capacity: false,
        },
        &demo(now),
    )
    .await
    .map_err(anyhow_of)?;
    let son = family::find(&state.db, wang, &son.member_number)
        .await
        .map_err(anyhow_of)?
        .context("the demo child")?
        .id;
    let asthma = proof(
        state,
        wang,
        Some(son),
        "J45.0",
        "首都儿科研究所附属儿童医院",
        "2026-01-08",
        3,
        now,
    )
    .await?;
    let blurry = Decision::Reject {
        reason: "unreadable".into(),
        note: "照片模糊，请重新拍摄诊断页".into(),
    };
    decide(state, operator, &asthma, blurry, now).await?;

    // 李秀英: rheumatoid arthritis approved; a withdrawn upload; her mother in her care.
    let ra = proof(
        state,
        li,
        None,
        "M06.9",
        "北京积水潭医院",
        "2025-12-02",
        4,
        now,
    )
    .await?;
    decide(state, operator, &ra, approve("M06.9", "rheumatology"), now).await?;
    let withdrawn = proof(
        state,
        li,
        None,
        "K21.9",
        "北京朝阳医院",
        "2026-07-15",
        5,
        now,
    )
    .await?;
    proofs::withdraw(state, li, &withdrawn, &demo(now))
        .await
        .map_err(anyhow_of)?;
    family::add(
        state,
        li,
        AddInput {
            real_name: "张桂兰".into(),
            id_number: "110105194011110020".into(),
            relationship: "parent".into(),
            guardian_confirmed: true,
            adult_lacks_capacity: true,
        },
        &demo(now),
    )
    .await
    .map_err(anyhow_of)?;
    // 陈晨 has nothing approved: a first visit, turned away with the reason.
    crate::demo_doctors::seed(state, operator, now)
        .await
        .map_err(anyhow_of)?;
    // demo.doctor runs the first cardiologist's live queue.
    let cardiologist = crate::db::doctor::Entity::find()
        .filter(crate::db::doctor::Column::Department.eq("cardiology"))
        .order_by_asc(crate::db::doctor::Column::Id)
        .one(&state.db)
        .await?
        .context("no demo cardiologist")?;
    crate::doctors::service::link_account(
        state,
        &cardiologist.doctor_number,
        "demo.doctor",
        &demo(now),
    )
    .await
    .map_err(anyhow_of)?;
    let demo_doctor = staff::list(state)
        .await
        .map_err(anyhow_of)?
        .into_iter()
        .find(|s| s.username == "demo.doctor")
        .context("no demo doctor")?
        .id;
    // Paid through the sandbox: with a real provider there is no demo consult.
    if state.payments.name() == crate::orders::payments::sandbox::NAME {
        consult(state, wang, operator, &cardiologist, demo_doctor, now).await?;
    }
    Ok(Seeded::Created)
}

/// 王建国's paid text consult with demo.doctor, a question asked and answered: the
/// consult page, the doctor's desk and the message centre have something to show. Made
/// the way a patient makes one: screen, notice, hold, sandbox payment.
async fn consult(
    state: &AppState,
    wang: i64,
    operator: i64,
    doctor: &crate::db::doctor::Model,
    doctor_staff: i64,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    use crate::chat::service::Body;
    use crate::consult::access::Participant;
    use crate::eligibility::consult_consents::{self, ConsultFor};
    use app::domain::consult_consent::ScreenPass;
    use app::domain::schedule::{ConsultType, SessionPlan, Split};

    let slots = crate::booking::schedule::publish_session(
        state,
        &doctor.doctor_number,
        ConsultType::Text,
        SessionPlan {
            date: app::domain::schedule::add_days(app::domain::china_time::today(now), 1),
            start_minute: 19 * 60,
            end_minute: 19 * 60 + 30,
            split: Split::SlotMinutes(30),
        },
        operator,
        &demo(now),
    )
    .await
    .map_err(anyhow_of)?;
    let slot = slots.first().context("no demo slot")?;
    let patient = RequestContext {
        actor: crate::audit::Actor::Patient(wang),
        ..demo(now)
    };
    let answers = app::domain::emergency::ALL_RED_FLAGS
        .iter()
        .map(|f| (f.as_str().to_owned(), false))
        .collect();
    crate::eligibility::screen::submit(state, wang, None, &answers, &patient)
        .await
        .map_err(anyhow_of)?;
    let consent = consult_consents::give(
        state,
        &ConsultFor {
            patient_id: wang,
            member: None,
            icd10: "I10".into(),
            department: app::domain::department::Department::Cardiology,
        },
        Some(ScreenPass {
            at: now.unix_timestamp(),
            member: None,
            critical: false,
        }),
        true,
        &state.consult_notice_version,
        &patient,
    )
    .await
    .map_err(anyhow_of)?;
    let held = crate::booking::hold_writer::hold(
        state,
        &crate::booking::holds::HoldRequest {
            patient_id: wang,
            member: None,
            slot_number: slot.clone(),
            consult_consent: consent,
            known_birth_date: None,
        },
        state.hold_secs,
        IP,
        now,
    )
    .await
    .map_err(anyhow_of)?;
    let next = crate::booking::paying::start_payment(
        state,
        wang,
        &held.booking_number,
        app::domain::payment_method::PaymentMethod::WechatPay,
        app::domain::payment_method::Browser::Phone,
        &patient,
    )
    .await
    .map_err(anyhow_of)?;
    let crate::orders::PayNext::Redirect(url) = next else {
        bail!("the demo booking did not ask for a payment");
    };
    let order = url
        .trim_start_matches("/pay/sandbox/")
        .split('?')
        .next()
        .context("no order in the sandbox's address")?;
    crate::orders::sandbox_choose(
        state,
        wang,
        order,
        Some(crate::orders::payments::sandbox::Choice::Succeed),
        now,
    )
    .await
    .map_err(anyhow_of)?;
    let booking = crate::db::booking::Entity::find()
        .filter(crate::db::booking::Column::BookingNumber.eq(held.booking_number.as_str()))
        .one(&state.db)
        .await?
        .context("the demo booking")?;
    let number = crate::db::consult::Entity::find()
        .filter(crate::db::consult::Column::BookingId.eq(booking.id))
        .one(&state.db)
        .await?
        .context("the demo consult did not open on payment")?
        .consult_number;
    let said = [
        (
            Participant::Patient { id: wang },
            "刘医生您好，我最近早上量血压在 150/95 左右，氨氯地平还在吃，需要加药吗？",
        ),
        (
            Participant::Doctor {
                staff_id: doctor_staff,
                doctor_id: doctor.id,
            },
            "您好，请连续一周早晚各量一次血压，记录后拍照发给我，我看过再决定是否调整。",
        ),
    ];
    for (who, text) in said {
        let cx = RequestContext {
            actor: match who {
                Participant::Patient { id } => crate::audit::Actor::Patient(id),
                Participant::Doctor { staff_id, .. } => crate::audit::Actor::Staff(staff_id),
            },
            ..demo(now)
        };
        crate::chat::service::send(
            state,
            who,
            &number,
            &uuid::Uuid::now_v7().to_string(),
            Body::Text(text.into()),
            &cx,
        )
        .await
        .map_err(anyhow_of)?;
    }
    Ok(())
}

fn approve(icd10: &str, department: &str) -> Decision {
    Decision::Approve {
        icd10: icd10.into(),
        department: department.into(),
    }
}

async fn decide(
    state: &AppState,
    operator: i64,
    number: &str,
    decision: Decision,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    proofs::decide(
        state,
        operator,
        &crate::proofs::reach::ProofReach::All,
        number,
        decision,
        &demo(now),
    )
    .await
    .map_err(anyhow_of)
}

async fn register(
    state: &AppState,
    phone: &str,
    name: &str,
    id_number: &str,
    now: OffsetDateTime,
) -> anyhow::Result<i64> {
    sms_codes::send(state, phone, "register", IP, now)
        .await
        .map_err(anyhow_of)?;
    // The console sender delivers in the background.
    let mut code = None;
    for _ in 0..100 {
        code = state
            .sms
            .outbox()
            .and_then(|o| o.messages_for(phone).pop())
            .and_then(|m| m.code);
        if code.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let code = code.context("demo data needs the console SMS sender")?;
    let consents = state
        .consents
        .iter()
        .map(|(d, v)| (d.as_str().to_owned(), v.clone()))
        .collect();
    accounts::register(
        state,
        RegisterInput {
            phone: phone.into(),
            code,
            password: PATIENT_PASSWORD.into(),
            real_name: name.into(),
            id_number: id_number.into(),
            consents,
        },
        &demo(now),
    )
    .await
    .map_err(anyhow_of)
    .with_context(|| format!("patient {phone}"))
}

#[expect(
    clippy::too_many_arguments,
    reason = "a demo proof's facts, each its own"
)]
async fn proof(
    state: &AppState,
    patient: i64,
    member: Option<i64>,
    icd10: &str,
    institution: &str,
    diagnosed_on: &str,
    n: u32,
    now: OffsetDateTime,
) -> anyhow::Result<String> {
    let (number, _) = proofs::submit(
        state,
        patient,
        member,
        ProofInput {
            institution: institution.into(),
            diagnosed_on: diagnosed_on.into(),
            icd10: icd10.into(),
            note: String::new(),
            idempotency_key: format!("demo-proof-{n:04}"),
        },
        vec![document_photo(n)?],
        &demo(now),
    )
    .await
    .map_err(anyhow_of)?;
    Ok(number)
}

/// A made-up photo of a paper report: a white page with a title bar and lines of text.
fn document_photo(n: u32) -> anyhow::Result<Vec<u8>> {
    let (w, h) = (600u32, 800u32);
    let page = image::RgbImage::from_fn(w, h, |x, y| {
        let margin = x > 60 && x < w - 60;
        let title = margin && (80..110).contains(&y);
        let line = margin && y > 160 && y < h - 120 && (y - 160) % 36 < 10;
        // Lines end at different places, as text does.
        let short = x > w - 60 - ((y / 36 + n) % 5) * 60;
        if title {
            image::Rgb([40, 90, 160])
        } else if line && !short {
            image::Rgb([120, 120, 120])
        } else {
            image::Rgb([250, 250, 246])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(page).write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

fn anyhow_of(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.code().as_str())
}

/// The demo's changes are the server's own, from the demo's address.
fn demo(now: OffsetDateTime) -> RequestContext {
    RequestContext {
        ip: IP.into(),
        ..RequestContext::system(now)
    }
}
