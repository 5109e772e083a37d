#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = server::config::Config::from_env()?;
    server::telemetry::init(config.log_format);
    let app = server::startup::Application::build(config).await?;
    tracing::info!(addr = %app.address(), "Fuzhen is listening: http://{}", app.address());
    app.run_until_stopped().await
}
