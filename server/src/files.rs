//! Where uploaded files live: an `object_store` store (R-ELIG-2). The default writes
//! under the data dir (`<data>/files`, outside the web root); production points the same
//! code at S3-compatible object storage. Keys are made by the server, never from a
//! file's name.
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::sync::Arc;

#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
}

impl Files {
    /// Files under `dir` on the local disk.
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// An S3-compatible bucket (production). Plain `http://` endpoints are allowed here
    /// for a local test server; production mode refuses them at start.
    pub fn s3(settings: &crate::config::S3Settings) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        // The HTTPS client needs one crypto provider for the process (already set is fine).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(settings.secret_access_key.expose_secret());
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(settings.is_plain_http())
                // Most S3-compatible services address buckets by path, not by host name.
                .with_virtual_hosted_style_request(false);
        }
        let store: Arc<dyn ObjectStore> = Arc::new(builder.build()?);
        let store = if settings.prefix.is_empty() {
            store
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                store,
                settings.prefix.as_str(),
            ))
        };
        Ok(Self { store })
    }

    /// Any store (S3 in production, memory in tests).
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    pub async fn put(&self, key: &str, data: Vec<u8>) -> anyhow::Result<()> {
        self.store
            .put(&ObjectPath::parse(key)?, PutPayload::from(data))
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Bytes> {
        Ok(self
            .store
            .get(&ObjectPath::parse(key)?)
            .await?
            .bytes()
            .await?)
    }

    /// Writes the objects at `sources`, in order, as one object at `key` (a multipart
    /// upload: nothing is held whole in memory); its size in bytes and SHA-256 (hex).
    pub async fn assemble(&self, key: &str, sources: &[String]) -> anyhow::Result<(u64, String)> {
        use sha2::Digest;
        let upload = self.store.put_multipart(&ObjectPath::parse(key)?).await?;
        let mut write = object_store::WriteMultipart::new(upload);
        let mut hash = sha2::Sha256::new();
        let mut size = 0u64;
        for source in sources {
            match self.get(source).await {
                Ok(bytes) => {
                    hash.update(&bytes);
                    size += bytes.len() as u64;
                    write.write(&bytes);
                }
                Err(e) => {
                    let _ = write.abort().await;
                    return Err(e);
                }
            }
        }
        write.finish().await?;
        Ok((size, hex::encode(hash.finalize())))
    }

    /// Writes the local file at `path` as the object at `key` (a multipart upload, read
    /// a megabyte at a time); its size in bytes and SHA-256 (hex).
    pub async fn put_file(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> anyhow::Result<(u64, String)> {
        use sha2::Digest;
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(path).await?;
        let upload = self.store.put_multipart(&ObjectPath::parse(key)?).await?;
        let mut write = object_store::WriteMultipart::new(upload);
        let mut hash = sha2::Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = write.abort().await;
                    return Err(e.into());
                }
            };
            hash.update(&buf[..n]);
            size += n as u64;
            write.write(&buf[..n]);
        }
        write.finish().await?;
        Ok((size, hex::encode(hash.finalize())))
    }

    /// Keys under `prefix` last written before `before` (Unix seconds).
    pub async fn written_before(&self, prefix: &str, before: i64) -> anyhow::Result<Vec<String>> {
        use futures_util::TryStreamExt;
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&ObjectPath::parse(prefix)?))
            .try_collect()
            .await?;
        Ok(listed
            .into_iter()
            .filter(|m| m.last_modified.timestamp() < before)
            .map(|m| m.location.to_string())
            .collect())
    }

    /// Deletes `key`; a key already gone is fine (cleanup may run twice).
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&ObjectPath::parse(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
