use app::domain::{ErrorCode, FieldError};

/// Either the user's input was refused (with what and, for limits, how long to
/// wait), or something broke on our side (logged once, shown as `internal`).
#[derive(Debug)]
pub enum AppError {
    Rejected {
        error: FieldError,
        retry_after_secs: Option<i64>,
    },
    /// Free text with words on the blocked list (R-CONS-5): which, and in which field.
    Blocked {
        field: app::domain::Field,
        words: Vec<String>,
    },
    /// R-BOOK-2: the last place went to someone else; the doctor's next free slots.
    SlotTaken {
        next: Vec<crate::booking::free_slot::FreeSlot>,
    },
    /// Too much work queued (password hashing): try again shortly.
    Busy {
        retry_after_secs: i64,
    },
    Internal(anyhow::Error),
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Rejected { error, .. } => error.code,
            AppError::Blocked { .. } => ErrorCode::TextBlocked,
            AppError::SlotTaken { .. } => ErrorCode::SlotTaken,
            AppError::Busy { .. } => ErrorCode::Busy,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }
    pub fn retry(error: FieldError, secs: i64) -> Self {
        AppError::Rejected {
            error,
            retry_after_secs: Some(secs),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Internal(e) => write!(f, "{e:#}"),
            other => write!(f, "refused: {}", other.code().as_str()),
        }
    }
}

impl std::error::Error for AppError {}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Rejected {
            error,
            retry_after_secs: None,
        }
    }
}

// A database error names where it happened (the `?` that met it: `#[track_caller]`
// reaches through it), and the request's span names the route: the log line says what
// was being done, not only what failed.
impl From<sea_orm::DbErr> for AppError {
    #[track_caller]
    fn from(e: sea_orm::DbErr) -> Self {
        let at = std::panic::Location::caller();
        AppError::Internal(anyhow::Error::new(e).context(format!("database, at {at}")))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        if e.downcast_ref::<crate::crypto::HashingBusy>().is_some() {
            return AppError::Busy {
                retry_after_secs: 2,
            };
        }
        AppError::Internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    /// Fails at the line it names in its message.
    fn failing_read() -> Result<(), AppError> {
        Err(sea_orm::DbErr::Custom(format!("reset, line {}", line!())))?;
        Ok(())
    }

    #[test]
    fn a_database_error_names_the_line_that_met_it() {
        let logged = failing_read().map_err(|e| e.to_string()).unwrap_err();
        let line = logged.rsplit("line ").next().unwrap_or_default();
        assert!(
            logged.contains(&format!("at {}:{line}:", file!())),
            "{logged}"
        );
    }
}
