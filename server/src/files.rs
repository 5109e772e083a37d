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

    /// Deletes `key`; a key already gone is fine (cleanup may run twice).
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&ObjectPath::parse(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
