//! `server` starts the web server; `server audit verify` checks the audit log's hash
//! chain (R-SEC-2), prints a one-line report and exits 0 if intact, 1 if broken and 2
//! if it could not check.
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: server              start the web server\n       server audit verify check the audit log's hash chain\n       server migrate       apply the migrations (as the owner role); with FUZHEN_APP_ROLE,\n                           grant that role what the app may do (PostgreSQL)\n       server staff create-admin <username> <display name>\n                           create an admin account (the first one); prints its first password\n       server dev seed      add demo staff, patients and proofs (dev mode only; once)\n       server reconcile [YYYY-MM-DD]\n                           compare a China day's payments and refunds with the provider's\n                           (yesterday by default); exits 1 when there are differences";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => match serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("Error: {e:?}");
                ExitCode::FAILURE
            }
        },
        ["audit", "verify"] => audit_verify(),
        ["migrate"] => migrate(),
        ["staff", "create-admin", username, display_name] => create_admin(username, display_name),
        ["dev", "seed"] => seed_demo_data(),
        ["reconcile"] => reconcile(None),
        ["reconcile", day] => reconcile(Some(day)),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[tokio::main]
async fn serve() -> anyhow::Result<()> {
    let config = server::config::Config::from_env()?;
    server::telemetry::init(config.log_format);
    let app = server::startup::Application::build(config).await?;
    tracing::info!(addr = %app.address(), "Fuzhen is listening: http://{}", app.address());
    app.run_until_stopped().await
}

#[tokio::main]
async fn audit_verify() -> ExitCode {
    let report = async {
        let config = server::config::Config::from_env()?;
        let db = server::db::connect_and_migrate(&config.database_url).await?;
        let key =
            server::audit::AuditKey::new(*secrecy::ExposeSecret::expose_secret(&config.audit_key));
        server::audit::check_key(&db, &key).await?;
        // Rows recorded in the last second join the chain first, so all are checked.
        let sealed = server::audit::seal(&db, &key).await?;
        if sealed > 0 {
            println!("sealed {sealed} new audit rows");
        }
        let authority = server::audit::Authority::from_config(&config)?;
        let report = server::audit::verify_anchored(&db, &key, &authority).await?;
        db.close().await?;
        anyhow::Ok(report)
    };
    match report.await {
        Ok(report) => {
            println!("{report}");
            if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("audit verify could not run: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Demo data for local use (dev mode only; a second run changes nothing).
#[tokio::main]
async fn seed_demo_data() -> ExitCode {
    let seeded = async {
        let (config, state) = cli_state().await?;
        let state = std::sync::Arc::new(state);
        let seeded = server::demo::seed(&state, config.mode).await?;
        state.db.clone().close().await?;
        anyhow::Ok(seeded)
    };
    match seeded.await {
        Ok(server::demo::Seeded::Created) => {
            println!("demo data added: the README lists the accounts (local use only)");
            ExitCode::SUCCESS
        }
        Ok(server::demo::Seeded::AlreadyThere) => {
            println!("demo data is already there");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dev seed failed: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Migrations, run by the database's owner role; the app's role (`FUZHEN_APP_ROLE`) is
/// then granted what it may do, and serves with `FUZHEN_RUN_MIGRATIONS=false`.
#[tokio::main]
async fn migrate() -> ExitCode {
    let done = async {
        let url = std::env::var("DATABASE_URL")
            .map_err(|_| anyhow::anyhow!("DATABASE_URL (the owner role's) is required"))?;
        let db = server::db::connect_and_migrate(&url).await?;
        if let Some(role) = std::env::var("FUZHEN_APP_ROLE")
            .ok()
            .filter(|r| !r.is_empty())
        {
            server::db::grant_app_role(&db, &role).await?;
            println!("granted {role} what the app may do");
        }
        db.close().await?;
        anyhow::Ok(())
    };
    match done.await {
        Ok(()) => {
            println!("migrations applied");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("migrate failed: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The first admin (R-SEC-1): nobody can create staff accounts before one exists.
#[tokio::main]
async fn create_admin(username: &str, display_name: &str) -> ExitCode {
    let created = async {
        let (_, state) = cli_state().await?;
        let input = server::staff::service::NewStaff {
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            role: "admin".to_owned(),
            department: None,
            phone: None,
        };
        let created = server::staff::service::create_on_host(
            &state,
            input,
            &server::context::RequestContext {
                ip: "cli".into(),
                ..server::context::RequestContext::system(time::OffsetDateTime::now_utc())
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.code().as_str()))?;
        state.db.clone().close().await?;
        anyhow::Ok(created)
    };
    match created.await {
        Ok(created) => {
            println!(
                "created admin {} (id {}). First password, shown once: {}\n\
                 Log in at /staff/login and set up the authenticator app.",
                created.staff.username, created.staff.id, created.initial_password
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("staff create-admin failed: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// R-PAY-3: one day's reconciliation, printed; differences make the exit status 1.
#[tokio::main]
async fn reconcile(day: Option<&str>) -> ExitCode {
    use server::orders::reconciliation;
    let now = time::OffsetDateTime::now_utc();
    let day = match day {
        None => {
            app::domain::schedule::add_days(app::domain::china_time::day(now.unix_timestamp()), -1)
        }
        Some(text) => match reconciliation::parse_day(text) {
            Some(d) => d,
            None => {
                eprintln!("reconcile: {text:?} is not a date (YYYY-MM-DD)");
                return ExitCode::from(2);
            }
        },
    };
    let report = async {
        let (_, state) = cli_state().await?;
        let cx = server::context::RequestContext {
            ip: "cli".into(),
            ..server::context::RequestContext::system(now)
        };
        let report = reconciliation::run_day(&state, day, &cx)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.code().as_str()))?;
        state.db.clone().close().await?;
        anyhow::Ok(report)
    };
    match report.await {
        Ok(r) => {
            println!(
                "{} {}: {} matched, {} differences",
                r.provider, r.day, r.matched, r.differences
            );
            for l in &r.lines {
                let fen = |f: Option<i64>| f.map_or_else(|| "-".to_owned(), |f| f.to_string());
                println!(
                    "  {:<16} {:<32} order {:<18} ours {:>9} theirs {:>9}{}",
                    l.kind.as_str(),
                    l.provider_ref,
                    l.order_number.as_deref().unwrap_or("-"),
                    fen(l.ours_fen),
                    fen(l.theirs_fen),
                    if l.resolved { "  (resolved)" } else { "" }
                );
            }
            if r.differences == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("reconcile could not run: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The configuration and the server's state, for a command run from the shell.
async fn cli_state() -> anyhow::Result<(server::config::Config, server::state::State)> {
    let config = server::config::Config::from_env()?;
    let db = server::db::connect_and_migrate(&config.database_url).await?;
    let options = leptos::config::LeptosOptions::builder()
        .output_name("fuzhen")
        .build();
    let state = server::features::state(&config, db, options).await?;
    Ok((config, state))
}
