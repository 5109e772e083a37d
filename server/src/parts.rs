//! What a feature keeps for the life of the server (the booking feature's hold writer;
//! a chat hub next). Each feature puts its own in at start
//! ([`crate::feature::Feature::parts`]) and takes it out by type, so the app's
//! [`crate::state::State`] names no feature and adding one does not edit it.
use crate::error::AppError;
use std::any::{Any, TypeId};
use std::collections::HashMap;

#[derive(Default)]
pub struct Parts(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl Parts {
    pub fn insert<T: Send + Sync + 'static>(&mut self, part: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(part));
    }

    /// The part of type `T`. Missing means its feature is not in the list: an internal
    /// error, found by any test that uses the feature.
    pub fn get<T: Send + Sync + 'static>(&self) -> Result<&T, AppError> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|part| part.downcast_ref::<T>())
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "no {} among the parts: is its feature listed?",
                    std::any::type_name::<T>()
                ))
            })
    }
}
