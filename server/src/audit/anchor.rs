//! Anchors (security review item 4): now and then the chain's head (seq and hash) is
//! time-stamped by a time-stamping authority (RFC 3161) and the token kept in
//! `audit_anchor`. The keyed chain stops whoever holds only the database; an anchor
//! stops even the key's holder from rewriting what came before it, since the token is
//! signed by the authority, not by us. Production names an outside authority
//! (`FUZHEN_TSA_URL`, its public key `FUZHEN_TSA_PUBLIC_KEY`); dev uses one in the
//! process with its key kept in the data dir.
use crate::timestamp::{self, LocalAuthority};
use base64::{Engine, engine::general_purpose::STANDARD};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use std::collections::HashMap;

/// Who time-stamps the head.
pub enum Authority {
    /// In the process (dev and tests): signs with its own P-256 key.
    Local(Box<LocalAuthority>),
    /// An outside authority over HTTP (RFC 3161 §3.4), whose key is pinned.
    Remote {
        url: String,
        public_key: Vec<u8>,
        client: reqwest_s3::Client,
    },
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl Authority {
    /// An outside authority at `url` whose public key is `spki_der` (DER
    /// SubjectPublicKeyInfo, as `openssl x509 -pubkey | openssl pkey -pubin -outform DER`).
    pub fn remote(url: &str, spki_der: &[u8]) -> anyhow::Result<Self> {
        let public_key = timestamp::public_key_from_spki(spki_der)
            .map_err(|e| anyhow::anyhow!("FUZHEN_TSA_PUBLIC_KEY is not a public key: {e:?}"))?;
        // The HTTPS client needs one crypto provider for the process (already set is fine).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest_s3::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()?;
        Ok(Authority::Remote {
            url: url.to_owned(),
            public_key,
            client,
        })
    }

    /// The authority the settings name: outside (production), or in the process.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        match (&config.tsa_url, &config.tsa_public_key) {
            (Some(url), Some(key)) => Self::remote(url, key),
            (Some(_), None) => anyhow::bail!("FUZHEN_TSA_URL needs FUZHEN_TSA_PUBLIC_KEY"),
            _ => Self::local(
                config
                    .tsa_local_key
                    .as_ref()
                    .map(|k| k.expose_secret().as_slice()),
            ),
        }
    }

    /// The local authority with the PKCS#8 key given, or a new one.
    pub fn local(pkcs8: Option<&[u8]>) -> anyhow::Result<Self> {
        let authority = match pkcs8 {
            Some(key) => LocalAuthority::from_pkcs8(key),
            None => LocalAuthority::generate(),
        }
        .map_err(|e| anyhow::anyhow!("the local time-stamping key: {e:?}"))?;
        Ok(Authority::Local(Box::new(authority)))
    }

    pub fn name(&self) -> String {
        match self {
            Authority::Local(_) => "local".to_owned(),
            Authority::Remote { url, .. } => url.clone(),
        }
    }

    fn public_key(&self) -> &[u8] {
        match self {
            Authority::Local(a) => a.public_key(),
            Authority::Remote { public_key, .. } => public_key,
        }
    }

    /// A token for `digest`, checked before it is kept (the nonce too).
    pub async fn stamp(&self, digest: &[u8; 32], serial: u64, now: i64) -> anyhow::Result<Vec<u8>> {
        let nonce = rand::random::<u64>();
        let request = timestamp::request(digest, nonce);
        let response = match self {
            Authority::Local(a) => a
                .respond(&request, now, serial)
                .map_err(|e| anyhow::anyhow!("local time-stamp: {e:?}"))?,
            Authority::Remote { url, client, .. } => client
                .post(url)
                .header("content-type", "application/timestamp-query")
                .body(request)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?
                .to_vec(),
        };
        let verified = timestamp::verify(&response, digest, self.public_key())
            .map_err(|e| anyhow::anyhow!("the time-stamp does not check out: {e:?}"))?;
        anyhow::ensure!(
            verified.nonce == Some(nonce),
            "the time-stamp answers another request (nonce)"
        );
        Ok(response)
    }
}

/// What is time-stamped for the head at `seq` with `hash`.
pub fn head_digest(seq: i64, hash: &str) -> [u8; 32] {
    let text = format!("fuzhen-audit-head\0{seq}\0{hash}");
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Time-stamps the head if it moved since the last anchor; returns the seq anchored.
pub async fn anchor(
    db: &impl ConnectionTrait,
    authority: &Authority,
    now: i64,
) -> anyhow::Result<Option<i64>> {
    let Some((seq, hash)) = super::read_head(db).await? else {
        return Ok(None);
    };
    if seq == 0 || anchored(db).await?.iter().any(|(s, _, _)| *s == seq) {
        return Ok(None);
    }
    let token = authority
        .stamp(&head_digest(seq, &hash), u64::try_from(seq)?, now)
        .await?;
    let backend = db.get_database_backend();
    let placeholders = |sql: &str| match backend {
        sea_orm::DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    };
    // Two servers anchoring the same head: the second insert finds the seq taken.
    let inserted = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                "INSERT INTO audit_anchor (seq, head_hash, authority, token, stamped_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING",
            ),
            [
                seq.into(),
                hash.into(),
                authority.name().into(),
                STANDARD.encode(token).into(),
                now.into(),
            ],
        ))
        .await?
        .rows_affected();
    Ok((inserted == 1).then_some(seq))
}

/// The anchors: (seq, head hash, token), in seq order.
pub(crate) async fn anchored(
    db: &impl ConnectionTrait,
) -> Result<Vec<(i64, String, String)>, DbErr> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT seq, head_hash, token FROM audit_anchor ORDER BY seq",
    ))
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("", "seq")?,
            r.try_get("", "head_hash")?,
            r.try_get("", "token")?,
        ))
    })
    .collect()
}

/// Checks each anchor against the chain as recomputed (`hashes`: the hash at each
/// anchored seq): its token must be the authority's, for that seq and hash. Returns the
/// first that fails, as (seq, why).
pub(crate) fn check_anchors(
    anchors: &[(i64, String, String)],
    hashes: &HashMap<i64, String>,
    authority: &Authority,
) -> Option<(i64, String)> {
    for (seq, _, token) in anchors {
        let Some(hash) = hashes.get(seq) else {
            return Some((*seq, format!("anchored seq {seq} is not in the chain")));
        };
        let Ok(token) = STANDARD.decode(token) else {
            return Some((*seq, "the anchor's token is not base64".to_owned()));
        };
        if timestamp::verify(&token, &head_digest(*seq, hash), authority.public_key()).is_err() {
            return Some((
                *seq,
                format!(
                    "the head time-stamped at seq {seq} does not match the chain: rows up to seq {seq} were rewritten, or the token is not the authority's"
                ),
            ));
        }
    }
    None
}
