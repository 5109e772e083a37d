//! Video and voice calls of consults (R-CONS-1, R-CONS-4, R-CONS-6, R-CONS-7): started by
//! the doctor inside a video consult, carried by one of two media systems (the primary
//! media server, or the backup where the browsers connect directly through STUN/TURN),
//! signalled over the consult connection (`crate::chat::socket`), each step an entry of
//! the consult's log. The pages are the consult pages' call panel (`app::call`).
pub mod api;
pub mod ending;
pub mod events;
pub mod janus;
pub mod media;
pub mod processing;
pub mod recording;
pub mod service;
pub mod sfu;

use crate::config::{Config, Mode};
use crate::feature::{Feature, Job, logged};
use crate::parts::Parts;
use crate::state::AppState;
use crate::web::api::ApiRoutes;
use std::time::Duration;

pub struct Calls;

/// What calls keep for the life of the server.
pub struct CallParts {
    pub media: media::Media,
    /// Days a recording is kept at least (R-CONS-7).
    pub retention_days: i64,
    /// The most one call's recording may take, in bytes.
    pub recording_max_bytes: i64,
    /// Where the primary media server records (as this server sees it), when there is one.
    pub janus_recordings: Option<String>,
    pub processing: processing::Processing,
    /// SHA-256 of the password Janus's event handler sends (the API secret).
    pub janus_events_digest: Option<Vec<u8>>,
    pub janus_handles: events::Handles,
}

impl Feature for Calls {
    fn api(&self, _mode: Mode, _state: &AppState) -> ApiRoutes {
        api::routes()
    }
    fn parts(&self, config: &Config, _db: &sea_orm::DatabaseConnection, parts: &mut Parts) {
        parts.insert(CallParts {
            media: media::Media::from_config(config),
            retention_days: config.calls.recording_retention_days,
            recording_max_bytes: config.calls.recording_max_bytes,
            janus_recordings: config.calls.janus.as_ref().map(|j| j.recordings.clone()),
            processing: processing::Processing::default(),
            janus_events_digest: config.calls.janus.as_ref().map(|j| {
                use secrecy::ExposeSecret;
                ring::digest::digest(
                    &ring::digest::SHA256,
                    j.api_secret.expose_secret().as_bytes(),
                )
                .as_ref()
                .to_vec()
            }),
            janus_handles: events::Handles::default(),
        });
    }
    fn jobs(&self) -> Vec<Job> {
        vec![
            Job {
                name: "checking the primary media server",
                every: Duration::from_secs(10),
                first_after: Duration::ZERO,
                run: |state, now| {
                    Box::pin(async move {
                        if let Ok(parts) = state.parts.get::<CallParts>() {
                            parts.media.check_primary(now.unix_timestamp()).await;
                        }
                        Ok(())
                    })
                },
            },
            Job {
                name: "processing the media server's recordings",
                every: Duration::from_secs(15),
                first_after: Duration::from_secs(15),
                run: |state, now| {
                    Box::pin(async move {
                        logged(
                            "processing the media server's recordings",
                            processing::process_ended(&state, now).await,
                        );
                        Ok(())
                    })
                },
            },
            Job {
                name: "settling recordings that doctors' pages left behind",
                every: Duration::from_secs(300),
                first_after: Duration::from_secs(60),
                run: |state, now| {
                    Box::pin(async move {
                        logged(
                            "settling abandoned recordings",
                            recording::settle_abandoned(&state, now).await,
                        );
                        Ok(())
                    })
                },
            },
            Job {
                name: "ending calls that ran too long",
                every: Duration::from_secs(60),
                first_after: Duration::from_secs(60),
                run: |state, now| {
                    Box::pin(async move {
                        logged(
                            "ending overlong calls",
                            ending::end_overlong(&state, now.unix_timestamp()).await,
                        );
                        Ok(())
                    })
                },
            },
        ]
    }
}
