//! The settings' checks: production refuses what must never serve patients.
use super::*;

fn dev() -> Config {
    Config::dev(
        PathBuf::from("/tmp/x"),
        "sqlite::memory:".into(),
        [1; 32],
        [2; 64],
    )
}

#[test]
fn production_refuses_dev_parts_and_names_the_setting() {
    let mut c = dev();
    c.mode = Mode::Production;
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_SMS_PROVIDER"), "{e}");
    c.sms_provider = "gateway".into();
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_IDENTITY_VERIFIER"), "{e}");
    c.identity_verifier = "service".into();
    c.generated_secrets = true;
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_FIELD_KEY"), "{e}");
    c.generated_secrets = false;
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_TSA_URL"), "{e}");
    c.tsa_url = Some("https://tsa.example.cn/tsr".into());
    c.tsa_public_key = Some(vec![1, 2, 3]);
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_PAYMENT_PROVIDER"), "{e}");
    c.payment_provider = "stripe".into();
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_PUBLIC_URL"), "{e}");
    c.public_url = "https://fuzhen.example.cn".into();
    c.payment_provider = "stripe".into();
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_STRIPE_WEBHOOK_SECRETS"), "{e}");
    c.stripe_webhook_secrets = vec![SecretBox::from(String::from("whsec_x"))];
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_TURN_URLS"), "{e}");
    c.calls.turn_urls = vec!["turns:turn.example.cn:443?transport=tcp".into()];
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_TURN_SECRET"), "{e}");
    c.calls.turn_secret = Some(SecretBox::from(String::from("coturn secret")));
    assert!(c.check_safe().is_ok());
    // R-CONS-7: recordings are kept at least three years, in every mode.
    c.calls.recording_retention_days = 3 * 365 - 1;
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_RECORDING_RETENTION_DAYS"), "{e}");
    c.calls.recording_retention_days = 3 * 365;
    assert!(c.check_safe().is_ok());
    let s3 = |endpoint: &str| S3Settings {
        bucket: "proofs".into(),
        endpoint: Some(endpoint.into()),
        region: "cn-north-1".into(),
        access_key_id: "id".into(),
        secret_access_key: SecretBox::from(String::from("not printed")),
        prefix: String::new(),
    };
    c.object_storage = Some(s3("HTTP://minio.internal:9000"));
    let e = c.check_safe().unwrap_err().to_string();
    assert!(e.contains("FUZHEN_S3_ENDPOINT"), "{e}");
    c.object_storage = Some(s3("https://minio.internal"));
    assert!(c.check_safe().is_ok());
    assert!(!format!("{:?}", c.object_storage).contains("not printed"));
}

#[test]
fn the_mode_must_be_stated() {
    let unset = Mode::parse(None).unwrap_err().to_string();
    assert!(unset.contains("FUZHEN_MODE is not set"), "{unset}");
    assert!(Mode::parse(Some("")).is_err());
    assert!(Mode::parse(Some("Production")).is_err());
    assert_eq!(Mode::parse(Some("dev")).unwrap(), Mode::Dev);
    assert_eq!(Mode::parse(Some("production")).unwrap(), Mode::Production);
}

#[test]
fn database_passwords_are_redacted() {
    assert_eq!(
        redact_url("postgres://fz:s3cret@db:5432/fz"),
        "postgres://fz:***@db:5432/fz"
    );
    assert_eq!(
        redact_url("sqlite://./data/x.db?mode=rwc"),
        "sqlite://./data/x.db?mode=rwc"
    );
}
