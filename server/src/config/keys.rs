//! The keys in the settings: from the environment, or made once in dev into
//! `<data dir>/secrets/` (readable by the owner only).
use super::{Mode, env};
use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use std::path::Path;

pub(super) fn decode_key<const N: usize>(name: &str, text: &str) -> anyhow::Result<[u8; N]> {
    let bytes = STANDARD
        .decode(text.trim())
        .with_context(|| format!("{name} is not base64"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{name} must be {N} bytes, base64-encoded"))
}

/// A base64 key from the environment; in dev, generated once into `<data>/secrets/`.
/// (key, whether it was generated or read from the data dir rather than given).
pub(super) fn secret<const N: usize>(
    name: &str,
    data_dir: &Path,
    mode: Mode,
) -> anyhow::Result<([u8; N], bool)> {
    if let Some(value) = env(name) {
        return Ok((decode_key(name, &value)?, false));
    }
    if mode == Mode::Production {
        bail!("{name} is required in production mode");
    }
    let dir = data_dir.join("secrets");
    let path = dir.join(name.to_ascii_lowercase());
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok((decode_key(name, &text)?, true));
    }
    std::fs::create_dir_all(&dir)?;
    let mut key = [0u8; N];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    write_private(&path, &STANDARD.encode(key))?;
    tracing::info!(secret.name = name, path = %path.display(), "generated a dev secret");
    Ok((key, true))
}

/// Dev: the in-process time-stamping authority's key, made once into the data dir.
pub(super) fn local_tsa_key(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("secrets").join("fuzhen_tsa_key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return STANDARD
            .decode(text.trim())
            .context("secrets/fuzhen_tsa_key is not base64");
    }
    let authority = crate::timestamp::LocalAuthority::generate()
        .map_err(|e| anyhow::anyhow!("making the local time-stamping key: {e:?}"))?;
    std::fs::create_dir_all(data_dir.join("secrets"))?;
    write_private(&path, &STANDARD.encode(authority.pkcs8()))?;
    Ok(authority.pkcs8().to_vec())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(text.as_bytes())?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, text)?;
        Ok(())
    }
}
