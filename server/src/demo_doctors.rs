//! The demo directory (dev mode only): 36 doctors across the departments, with photos
//! drawn here (no downloads), a price list, and two doctors too new to consult online.
use crate::doctors::service as doctors;
use crate::doctors::service::NewDoctor;
use crate::error::AppError;
use crate::state::State;
use app::domain::china_time;
use app::domain::schedule::{ALL_CONSULT_TYPES, ConsultType, DoctorTitle};
use time::OffsetDateTime;

/// (department, specialties): the conditions each department's doctors see most.
const SPECIALTIES: &[(&str, &[&str])] = &[
    (
        "cardiology",
        &["高血压", "冠心病", "心律失常", "心力衰竭", "高脂血症"],
    ),
    (
        "endocrinology",
        &["糖尿病", "甲状腺疾病", "骨质疏松", "痛风"],
    ),
    (
        "respiratory",
        &["慢性阻塞性肺疾病", "支气管哮喘", "慢性咳嗽", "肺结节"],
    ),
    (
        "gastroenterology",
        &["胃食管反流病", "慢性胃炎", "肠易激综合征", "脂肪肝"],
    ),
    ("neurology", &["脑卒中康复", "偏头痛", "癫痫", "帕金森病"]),
    ("nephrology", &["慢性肾脏病", "肾病综合征", "高尿酸血症"]),
    (
        "rheumatology",
        &["类风湿关节炎", "系统性红斑狼疮", "强直性脊柱炎"],
    ),
    ("dermatology", &["湿疹", "银屑病", "痤疮", "荨麻疹"]),
    ("psychiatry", &["抑郁障碍", "焦虑障碍", "失眠"]),
    ("pediatrics", &["儿童哮喘", "儿童过敏性鼻炎", "生长发育"]),
    (
        "gynecology",
        &["多囊卵巢综合征", "更年期综合征", "子宫内膜异位症"],
    ),
    ("urology", &["前列腺增生", "泌尿系结石", "慢性前列腺炎"]),
];

const SURNAMES: &[&str] = &[
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: &[&str] = &[
    "建华", "丽娟", "志强", "晓燕", "国栋", "静怡", "明辉", "雪梅", "文博",
];

const TITLES: [DoctorTitle; 4] = [
    DoctorTitle::Chief,
    DoctorTitle::AssociateChief,
    DoctorTitle::Attending,
    DoctorTitle::Resident,
];

/// Fees in fen, by title, for text, image-text and video.
fn fee(title: DoctorTitle, kind: ConsultType) -> i64 {
    let base = match title {
        DoctorTitle::Chief => 5000,
        DoctorTitle::AssociateChief => 3000,
        DoctorTitle::Attending => 2000,
        DoctorTitle::Resident => 1000,
    };
    match kind {
        ConsultType::Text => base,
        ConsultType::ImageText => base + base / 5,
        ConsultType::Video => base * 2,
    }
}

pub async fn seed(state: &State, operator: i64, now: OffsetDateTime) -> Result<usize, AppError> {
    for title in TITLES {
        for kind in ALL_CONSULT_TYPES {
            let cx = crate::context::RequestContext {
                ip: "demo-seed".into(),
                ..crate::context::RequestContext::system(now)
            };
            doctors::publish_price(state, title, *kind, fee(title, *kind), false, &cx).await?;
        }
    }
    let today = china_time::today(now);
    let mut n = 0usize;
    for (d, (department, specialties)) in SPECIALTIES.iter().enumerate() {
        for k in 0..3usize {
            let i = d * 3 + k;
            let title = TITLES[(i + k) % 4];
            // Two residents are in their second year: listed, not online (R-DOC-1).
            // Years that fit the title; two residents are in their second year.
            let years = match title {
                _ if i == 3 || i == 22 => 2,
                DoctorTitle::Chief => 20 + i % 11,
                DoctorTitle::AssociateChief => 12 + i % 8,
                DoctorTitle::Attending => 5 + i % 7,
                DoctorTitle::Resident => 3 + i % 2,
            };
            let since = today
                .replace_year(today.year() - years as i32)
                .unwrap_or(today)
                .replace_day(1)
                .unwrap_or(today);
            let name = format!(
                "{}{}",
                SURNAMES[i % SURNAMES.len()],
                GIVEN[(i * 5 + 2) % GIVEN.len()]
            );
            let mine: Vec<&str> = specialties
                .iter()
                .cycle()
                .skip(k)
                .take(3.min(specialties.len()))
                .copied()
                .collect();
            let number = doctors::create(
                state,
                NewDoctor {
                    name: name.clone(),
                    title: title.as_str().into(),
                    department: (*department).into(),
                    licence_number: format!("1101100{:08}", 20_000 + i),
                    practicing_since: since.to_string(),
                    specialties: mine.join("、"),
                    bio: format!(
                        "从事临床工作{}年，擅长{}的长期管理与随访。",
                        years + 3,
                        mine.join("、")
                    ),
                },
                &crate::context::RequestContext {
                    ip: "demo-seed".into(),
                    ..crate::context::RequestContext::system(now)
                },
            )
            .await?;
            doctors::set_photo(state, &number, portrait(i)?).await?;
            if app::domain::schedule::may_consult_online(u32::try_from(years).unwrap_or(0)) {
                schedule(state, &number, i, operator, now).await?;
            }
            n += 1;
        }
    }
    Ok(n)
}

/// A simple portrait: a coloured background, a face and a white coat.
fn portrait(i: usize) -> Result<Vec<u8>, AppError> {
    const BACKGROUNDS: [[u8; 3]; 6] = [
        [214, 234, 248],
        [232, 245, 233],
        [255, 243, 224],
        [243, 229, 245],
        [224, 242, 241],
        [252, 228, 236],
    ];
    const SKIN: [[u8; 3]; 3] = [[241, 204, 170], [224, 180, 140], [198, 150, 110]];
    const HAIR: [[u8; 3]; 3] = [[40, 32, 28], [70, 55, 45], [110, 110, 110]];
    let (bg, skin, hair) = (BACKGROUNDS[i % 6], SKIN[(i / 2) % 3], HAIR[(i / 3) % 3]);
    let size = 192i32;
    let img = image::RgbImage::from_fn(size as u32, size as u32, |x, y| {
        let (x, y) = (x as i32, y as i32);
        let (cx, cy) = (size / 2, 78);
        let d2 = (x - cx).pow(2) + (y - cy).pow(2);
        let coat = y > 132 && (x - cx).pow(2) / 3 + (y - 200).pow(2) < 95 * 95 / 2;
        let collar = coat && y < 160 && (x - cx).abs() < (y - 128) / 2;
        if d2 < 38 * 38 && y < cy - 10 {
            image::Rgb(hair)
        } else if d2 < 36 * 36 {
            image::Rgb(skin)
        } else if collar {
            image::Rgb([70, 120, 170])
        } else if coat {
            image::Rgb([250, 250, 250])
        } else {
            image::Rgb(bg)
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(out.into_inner())
}

/// Two weeks of sessions: mornings of 20-minute video appointments on some days,
/// afternoons of image-text consults with 8 places on others.
async fn schedule(
    state: &State,
    number: &str,
    i: usize,
    operator: i64,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    use app::domain::schedule::{SessionPlan, Split, add_days};
    let today = china_time::today(now);
    for ahead in 1..=14i64 {
        let date = add_days(today, ahead);
        let weekday = date.weekday().number_days_from_monday() as usize;
        if weekday >= 5 || (weekday + i) % 2 == 1 {
            continue;
        }
        let (kind, plan) = if i.is_multiple_of(2) {
            (
                ConsultType::Video,
                SessionPlan {
                    date,
                    start_minute: 9 * 60,
                    end_minute: 11 * 60,
                    split: Split::SlotMinutes(20),
                },
            )
        } else {
            (
                ConsultType::ImageText,
                SessionPlan {
                    date,
                    start_minute: 14 * 60,
                    end_minute: 16 * 60,
                    split: Split::Capacity(8),
                },
            )
        };
        crate::booking::schedule::publish_session(
            state,
            number,
            kind,
            plan,
            operator,
            &crate::context::RequestContext::system(now),
        )
        .await?;
    }
    Ok(())
}
