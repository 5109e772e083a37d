//! The primary system's recordings (R-CONS-7): Janus writes each publisher's sound and
//! picture as `.mjr` files into the consult's folder, named
//! `videoroom-<room>-user-<publisher>-<start µs>-<audio|video>-<n>.mjr`. After the call
//! they become one file: each file turned into a playable one with `janus-pp-rec`, then
//! with ffmpeg the doctor's pictures on the left and the patient's on the right, each
//! placed at the time it started (a side that rejoined has several), and all the sound
//! mixed. The result is hashed, stored through the object store, and attached to the
//! consult's record as made by the server, with its duration; Janus's files then go.
use super::sfu::side_of_publisher;
use crate::context::RequestContext;
use crate::db::{self, call_recording, consult, consult_call};
use crate::error::AppError;
use crate::state::State;
use app::domain::call::MediaSystem;
use app::domain::consult::Side;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::process::Command;

/// One file Janus recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub publisher: u64,
    /// When it started, in microseconds since the epoch.
    pub started_us: i64,
    pub video: bool,
}

/// What a recording file's name says, if it is one of `room`'s.
pub fn parse_name(room: &str, name: &str) -> Option<Track> {
    let rest = name
        .strip_prefix("videoroom-")?
        .strip_prefix(room)?
        .strip_prefix("-user-")?
        .strip_suffix(".mjr")?;
    let mut parts = rest.split('-');
    let publisher = parts.next()?.parse().ok()?;
    let started_us = parts.next()?.parse().ok()?;
    let video = match parts.next()? {
        "video" => true,
        "audio" => false,
        _ => return None,
    };
    Some(Track {
        publisher,
        started_us,
        video,
    })
}

/// A track ready for ffmpeg: its playable file, whose it is, when it starts in the call
/// (ms after the first), how long it runs.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub side: Side,
    pub video: bool,
    pub offset_ms: i64,
    pub duration_ms: i64,
}

/// Each side's picture: 640×480 of a 1280×480 frame, at 15 frames a second.
const HALF_W: u32 = 640;
const H: u32 = 480;

/// ffmpeg's arguments for putting `inputs` together into `out`; whether it has a picture.
pub fn ffmpeg_args(inputs: &[Input], out: &Path) -> (Vec<String>, bool) {
    let mut args: Vec<String> = ["-y", "-hide_banner", "-loglevel", "error"]
        .map(String::from)
        .to_vec();
    for i in inputs {
        args.push("-i".into());
        args.push(i.path.display().to_string());
    }
    let total_ms = inputs
        .iter()
        .map(|i| i.offset_ms + i.duration_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let total = format!("{:.3}", total_ms as f64 / 1000.0);
    let mut graph = Vec::new();
    let videos: Vec<(usize, &Input)> = inputs.iter().enumerate().filter(|(_, i)| i.video).collect();
    let audios: Vec<(usize, &Input)> = inputs
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.video)
        .collect();
    let has_video = !videos.is_empty();
    if has_video {
        graph.push(format!(
            "color=c=black:s={}x{H}:r=15:d={total}[base0]",
            HALF_W * 2
        ));
        for (n, (idx, i)) in videos.iter().enumerate() {
            let x = if i.side == Side::Doctor { 0 } else { HALF_W };
            graph.push(format!(
                "[{idx}:v]setpts=PTS-STARTPTS+{off}/TB,scale={HALF_W}:{H}:force_original_aspect_ratio=decrease,pad={HALF_W}:{H}:(ow-iw)/2:(oh-ih)/2[v{n}]",
                off = format_args!("{:.3}", i.offset_ms as f64 / 1000.0),
            ));
            let last = n + 1 == videos.len();
            graph.push(format!(
                "[base{n}][v{n}]overlay=x={x}:y=0:eof_action=pass{}[{}]",
                if last { ":shortest=0" } else { "" },
                if last {
                    "vout".to_owned()
                } else {
                    format!("base{}", n + 1)
                }
            ));
        }
    }
    if audios.is_empty() {
        graph.push(format!("anullsrc=r=48000:cl=mono,atrim=0:{total}[aout]"));
    } else {
        for (n, (idx, i)) in audios.iter().enumerate() {
            graph.push(format!(
                "[{idx}:a]aresample=48000,adelay={}:all=1[a{n}]",
                i.offset_ms.max(0)
            ));
        }
        let labels: String = (0..audios.len()).map(|n| format!("[a{n}]")).collect();
        graph.push(format!(
            "{labels}amix=inputs={}:duration=longest:normalize=0[aout]",
            audios.len()
        ));
    }
    args.push("-filter_complex".into());
    args.push(graph.join(";"));
    if has_video {
        for a in [
            "-map",
            "[vout]",
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "600k",
            "-pix_fmt",
            "yuv420p",
        ] {
            args.push(a.into());
        }
    }
    for a in ["-map", "[aout]", "-c:a", "libopus", "-b:a", "48k", "-t"] {
        args.push(a.into());
    }
    args.push(total);
    args.push(out.display().to_string());
    (args, has_video)
}

/// The calls being processed by this server (a job and the end of a call may both ask).
#[derive(Default)]
pub struct Processing(Mutex<HashSet<i64>>);

struct Claim<'a>(&'a Processing, i64);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.0.0.lock() {
            set.remove(&self.1);
        }
    }
}

impl Processing {
    fn claim(&self, call: i64) -> Option<Claim<'_>> {
        let mut set = self.0.lock().ok()?;
        set.insert(call).then_some(Claim(self, call))
    }
}

/// How long after a call's end its files are taken: Janus closes them when the room
/// closes.
const SETTLE_SECS: i64 = 2;
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(SETTLE_SECS as u64 + 1);

/// Processes the recordings of the primary system's ended calls that have none yet;
/// the calls done.
pub async fn process_ended(
    state: &Arc<State>,
    now: time::OffsetDateTime,
) -> Result<usize, AppError> {
    let parts = state.parts.get::<super::CallParts>()?;
    let Some(root) = parts.janus_recordings.clone() else {
        return Ok(0);
    };
    let at = now.unix_timestamp();
    let calls = consult_call::Entity::find()
        .filter(consult_call::Column::System.eq(MediaSystem::Sfu.as_str()))
        .filter(consult_call::Column::Recording.eq("pending"))
        .filter(consult_call::Column::EndedAt.lte(at - SETTLE_SECS))
        .all(&state.db)
        .await?;
    let mut done = 0;
    for call in calls {
        let Some(_claim) = parts.processing.claim(call.id) else {
            continue;
        };
        match process(state, &call, Path::new(&root), now).await {
            Ok(()) => done += 1,
            Err(e) => {
                tracing::warn!(error = ?e, call = call.call_number, "a call's recording was not processed; tried again later")
            }
        }
    }
    Ok(done)
}

/// Runs `program` with `args` at a low priority (`nice -n 10`, where there is `nice`):
/// making a recording must not slow the answers to patients and doctors.
async fn run(program: &str, args: &[String]) -> anyhow::Result<String> {
    let niced = Command::new("nice")
        .arg("-n")
        .arg("10")
        .arg(program)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await;
    let out = match niced {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Command::new(program)
                .args(args)
                .kill_on_drop(true)
                .output()
                .await
        }
        other => other,
    }
    .map_err(|e| anyhow::anyhow!("{program} did not run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!(
            "{program} failed: {}",
            err.chars().take(500).collect::<String>()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A media file's length in milliseconds.
async fn duration_ms(path: &Path) -> anyhow::Result<i64> {
    let out = run(
        "ffprobe",
        &[
            "-v".into(),
            "error".into(),
            "-show_entries".into(),
            "format=duration".into(),
            "-of".into(),
            "csv=p=0".into(),
            path.display().to_string(),
        ],
    )
    .await?;
    let secs: f64 = out.trim().parse()?;
    Ok((secs * 1000.0).round() as i64)
}

async fn process(
    state: &Arc<State>,
    call: &consult_call::Model,
    root: &Path,
    now: time::OffsetDateTime,
) -> Result<(), AppError> {
    let c = consult::Entity::find_by_id(call.consult_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the consult of call {} is gone", call.call_number))?;
    let Some(room) = call.room.clone() else {
        return not_recorded(state, call, "通话未使用媒体服务器的房间").await;
    };
    let folder = root.join(&c.consult_number);
    let mut found: Vec<(PathBuf, Track)> = Vec::new();
    if let Ok(mut dir) = tokio::fs::read_dir(&folder).await {
        while let Ok(Some(entry)) = dir.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(t) = parse_name(&room, &name) {
                found.push((entry.path(), t));
            }
        }
    }
    if found.is_empty() {
        return not_recorded(state, call, "媒体服务器没有录到本次通话的音视频").await;
    }
    let work = tempfile::tempdir().map_err(anyhow::Error::from)?;
    let first = found.iter().map(|(_, t)| t.started_us).min().unwrap_or(0);
    let mut inputs = Vec::new();
    for (n, (path, t)) in found.iter().enumerate() {
        let playable = work
            .path()
            .join(format!("{n}.{}", if t.video { "webm" } else { "opus" }));
        let converted = run(
            "janus-pp-rec",
            &[path.display().to_string(), playable.display().to_string()],
        )
        .await;
        // A track with nothing in it (a camera turned off at once) is left out.
        if let Err(e) = converted {
            tracing::debug!(error = %e, "a recorded track had nothing to convert");
            continue;
        }
        let Ok(duration_ms) = duration_ms(&playable).await else {
            continue;
        };
        inputs.push(Input {
            path: playable,
            side: side_of_publisher(t.publisher),
            video: t.video,
            offset_ms: (t.started_us - first) / 1000,
            duration_ms,
        });
    }
    if inputs.is_empty() {
        return not_recorded(state, call, "媒体服务器录到的文件中没有音视频").await;
    }
    let out = work.path().join("call.webm");
    let (args, has_video) = ffmpeg_args(&inputs, &out);
    run("ffmpeg", &args).await?;
    let length = duration_ms(&out).await?;
    let key = format!(
        "recordings/{}/{}-server.webm",
        c.consult_number, call.call_number
    );
    let (bytes, sha256) = state.files.put_file(&key, &out).await?;
    let at = now.unix_timestamp();
    let retention_days = state.parts.get::<super::CallParts>()?.retention_days;
    let stored = call_recording::ActiveModel {
        recording_number: Set(db::new_number("RC")),
        call_id: Set(call.id),
        part: Set(0),
        consult_id: Set(c.id),
        made_by: Set("server".to_owned()),
        object_key: Set(key),
        content_type: Set(if has_video {
            "video/webm"
        } else {
            "audio/webm"
        }
        .to_owned()),
        sha256: Set(sha256),
        bytes: Set(i64::try_from(bytes).unwrap_or(i64::MAX)),
        duration_ms: Set(length),
        keep_until: Set(at + retention_days * 86_400),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    let stored = match stored {
        Ok(r) => Some(r),
        // Another server processed it first: the same call, the same files.
        Err(e) if db::is_unique_violation(&e) => None,
        Err(e) => return Err(e.into()),
    };
    consult_call::Entity::update_many()
        .col_expr(consult_call::Column::Recording, Expr::value("recorded"))
        .filter(consult_call::Column::Id.eq(call.id))
        .exec(&state.db)
        .await?;
    if let Some(stored) = stored {
        crate::audit::record(
            &state.db,
            RequestContext::system(now)
                .audit(crate::audit::AuditAction::RecordingStored)
                .on("call_recording", &stored.recording_number)
                .about_member(c.family_member_id)
                .detail(serde_json::json!({
                    "call": call.call_number,
                    "sha256": stored.sha256,
                    "made_by": "server",
                })),
        )
        .await?;
    }
    // The record holds the recording now; Janus's working files go.
    for (path, _) in &found {
        let _ = tokio::fs::remove_file(path).await;
    }
    Ok(())
}

async fn not_recorded(
    state: &State,
    call: &consult_call::Model,
    why: &str,
) -> Result<(), AppError> {
    consult_call::Entity::update_many()
        .col_expr(consult_call::Column::Recording, Expr::value("none"))
        .col_expr(consult_call::Column::RecordingNote, Expr::value(why))
        .filter(consult_call::Column::Id.eq(call.id))
        .filter(consult_call::Column::Recording.eq("pending"))
        .exec(&state.db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn janus_file_names_say_the_publisher_the_start_and_the_kind() {
        let t = parse_name("77", "videoroom-77-user-4812-1765170000123456-video-1.mjr");
        assert_eq!(
            t,
            Some(Track {
                publisher: 4812,
                started_us: 1_765_170_000_123_456,
                video: true
            })
        );
        assert_eq!(side_of_publisher(4812), Side::Doctor);
        assert!(parse_name("77", "videoroom-77-user-4813-1-audio-0.mjr").is_some_and(|t| !t.video));
        // Another room's files, other files, a data channel's.
        assert_eq!(
            parse_name("7", "videoroom-77-user-4812-1-video-1.mjr"),
            None
        );
        assert_eq!(
            parse_name("77", "videoroom-77-user-4812-1-video-1.webm"),
            None
        );
        assert_eq!(
            parse_name("77", "videoroom-77-user-4812-1-data-2.mjr"),
            None
        );
    }

    #[test]
    fn the_doctor_goes_left_the_patient_right_each_at_its_time_and_all_sound_mixed() {
        let input = |side, video, offset_ms, duration_ms| Input {
            path: PathBuf::from(format!("/w/{offset_ms}{video}")),
            side,
            video,
            offset_ms,
            duration_ms,
        };
        let (args, video) = ffmpeg_args(
            &[
                input(Side::Doctor, true, 0, 60_000),
                input(Side::Doctor, false, 0, 60_000),
                input(Side::Patient, true, 2_500, 57_000),
                input(Side::Patient, false, 2_500, 58_000),
            ],
            Path::new("/w/out.webm"),
        );
        assert!(video);
        let graph = &args[args.iter().position(|a| a == "-filter_complex").unwrap() + 1];
        assert!(
            graph.contains("[0:v]setpts=PTS-STARTPTS+0.000/TB"),
            "{graph}"
        );
        assert!(
            graph.contains("[2:v]setpts=PTS-STARTPTS+2.500/TB"),
            "{graph}"
        );
        assert!(graph.contains("[base0][v0]overlay=x=0:y=0"), "{graph}");
        assert!(graph.contains("[base1][v1]overlay=x=640:y=0"), "{graph}");
        assert!(
            graph.contains("[3:a]aresample=48000,adelay=2500:all=1[a1]"),
            "{graph}"
        );
        assert!(graph.contains("amix=inputs=2"), "{graph}");
        // As long as the longest track runs from its start.
        assert_eq!(args[args.len() - 2], "60.500");
        // A voice call: sound only.
        let (args, video) = ffmpeg_args(
            &[input(Side::Patient, false, 0, 1_000)],
            Path::new("/w/out.webm"),
        );
        assert!(!video);
        assert!(!args.contains(&"[vout]".to_owned()));
    }
}
