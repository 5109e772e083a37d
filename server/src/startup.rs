//! Builds the app (binding first, so tests can use port 0) and runs it until a
//! signal, letting in-flight requests finish.
use crate::config::Config;
use crate::state::AppState;
use crate::web;
use crate::web::csrf;
use app::{App, shell};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        tracing::info!(config = ?config, "starting");
        config.check_safe()?;
        let db = if config.run_migrations {
            crate::db::connect_and_migrate(&config.database_url).await?
        } else {
            let db = crate::db::connect(&config.database_url).await?;
            crate::db::check_migrated(&db).await?;
            db
        };
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let leptos_options = LeptosOptions::builder()
            .output_name("fuzhen")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .hash_files(std::env::var("LEPTOS_HASH_FILES").is_ok_and(|v| v == "true"))
            .build();
        let state: AppState =
            Arc::new(crate::features::state(&config, db, leptos_options.clone()).await?);
        state.check_safe()?;
        crate::audit::check_key(&state.db, &state.audit_key).await?;
        let router = router(&config, state.clone(), leptos_options);
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        // The operator's blocked-words file is re-read when it changes (R-CONS-5).
        self.state.words.clone().watch(Duration::from_secs(5));
        // New audit rows join the hash chain within a second (R-SEC-2).
        let sealer = self.state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The head is time-stamped every so often (and a minute after start).
            let mut next_anchor = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                tick.tick().await;
                if let Err(e) = crate::audit::seal(&sealer.db, &sealer.audit_key).await {
                    tracing::warn!(error = ?e, "sealing the audit log failed");
                }
                if tokio::time::Instant::now() >= next_anchor {
                    next_anchor += sealer.anchor_every;
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    if let Err(e) =
                        crate::audit::anchor(&sealer.db, &sealer.audit_authority, now).await
                    {
                        tracing::warn!(error = ?e, "time-stamping the audit log's head failed; tried again later");
                    }
                }
            }
        });
        crate::features::start_jobs(&self.state);
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        self.state.db.clone().close().await?;
        tracing::info!("stopped cleanly");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

/// Small JSON and form bodies only; uploads will get their own group and limit.
const BODY_LIMIT: usize = 16 * 1024;

/// The app's routes, listed once per process. Leptos stops every resource from loading,
/// process-wide, while it lists routes, and a resource first polled in that window never
/// loads (leptos#4773): a second listing beside a live render (two servers in one test
/// process) would hang that page. Listed once, before any server of this process serves.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The pages' router state. Axum clones a route's state for every request that reaches
/// the route, before its layers run (a kept page too); `LeptosOptions` is a dozen
/// strings, so it sits behind an `Arc` and is copied out only for a render.
#[derive(Clone)]
struct PageState(Arc<LeptosOptions>);

impl axum::extract::FromRef<PageState> for LeptosOptions {
    fn from_ref(state: &PageState) -> LeptosOptions {
        state.0.as_ref().clone()
    }
}

/// Route groups, each with only the layers it needs:
/// - API and forms: session, CSRF cookie + check, body limit;
/// - pages and server functions: session, CSRF cookie, same-origin check, viewer;
/// - language switch, health checks, static files: none of these (no session, no viewer).
fn router(config: &Config, state: AppState, leptos_options: LeptosOptions) -> Router {
    let routes = route_list();
    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(state.web.cookies.session_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.web.cookies.secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(
            config.session_idle_minutes,
        )))
        .with_signed(Key::from(config.cookie_key()));

    let pkg_dir = config.site_root.join("pkg");
    // File names carry a content hash, so they can be cached for a year.
    let static_files = Router::new()
        .nest_service(
            "/pkg",
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ));

    let with_csrf = |r: Router<AppState>| {
        r.layer(middleware::from_fn_with_state(state.clone(), csrf::require))
            .layer(middleware::from_fn_with_state(state.clone(), csrf::issue))
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
    };
    let (api, providers) = crate::features::api_routes(config.mode, &state);
    let api = with_csrf(api);
    let forms = with_csrf(
        crate::features::FEATURES
            .iter()
            .fold(Router::new(), |all, f| all.merge(f.forms(&state))),
    );

    let mut answers = web::pages::PageAnswers::new(&state);
    for feature in crate::features::FEATURES {
        feature.page_data(&mut answers);
    }
    let answers = Arc::new(answers);
    let page_state = PageState(Arc::new(leptos_options.clone()));
    let pages = Router::<PageState>::new()
        .leptos_routes_with_context(
            &page_state,
            routes,
            move || {
                answers.provide();
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .with_state(page_state)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::viewer::attach_viewer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            web::page_cache::anonymous_pages,
        ))
        .layer(middleware::from_fn(csrf::require_same_origin))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::issue))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));

    // Everything personal: never cached (WeChat's webview caches aggressively).
    let personal = api
        .merge(forms)
        .with_state(state.clone())
        .merge(pages)
        .layer(session_layer)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(personal)
        .merge(web::forms::language_routes())
        // Payment providers: the signature is the credential; no session, no CSRF.
        .merge(providers.with_state(state.clone()))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready).with_state(state.clone()))
        .merge(static_files)
        .fallback_service(
            Router::<LeptosOptions>::new()
                .fallback(leptos_axum::file_and_error_handler::<LeptosOptions, _>(shell))
                .with_state(leptos_options),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs),
        ))
        .layer(middleware::from_fn(web::error::render_errors))
        // Pages and JSON: brotli with a window fitted to the page (`web::compress`); gzip
        // for clients without br; the built WASM, JS and CSS are precompressed.
        .layer(middleware::from_fn(web::compress::brotli_pages))
        .layer(
            CompressionLayer::new()
                .br(false)
                .quality(tower_http::CompressionLevel::Precise(2)),
        )
        .layer(axum::middleware::from_fn_with_state(config.mode, web::security::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            // The path only: queries may hold personal data.
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

async fn ready(AxState(state): AxState<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
