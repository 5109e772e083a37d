//! Daily reconciliation (R-PAY-3): for one China day, our payments and settled refunds
//! against the provider's transactions, compared by `app::domain::reconcile`. The job
//! runs it for yesterday (and catches up after a restart), the CLI and the operators'
//! page for any day; each difference stays on the report until an operator resolves it
//! with a note.
use crate::audit::{self, AuditAction};
use crate::context::RequestContext;
use crate::db::{self, order, reconciliation_line as line, reconciliation_run as run, refund};
use crate::error::AppError;
use crate::state::State;
use app::domain::china_time;
use app::domain::reconcile::{Entry, LineKind, reconcile};
use app::domain::schedule::add_days;
use app::domain::{ErrorCode, Field, FieldError};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::{Date, OffsetDateTime};

/// What a run found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    /// `YYYY-MM-DD`, China time.
    pub day: String,
    pub provider: String,
    /// Unix seconds.
    pub ran_at: i64,
    pub matched: i32,
    pub differences: i32,
    /// The differences, resolved or not (matched movements are only counted).
    pub lines: Vec<ReportLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReportLine {
    pub id: i64,
    pub kind: LineKind,
    pub provider_ref: String,
    pub order_number: Option<String>,
    pub ours_fen: Option<i64>,
    pub theirs_fen: Option<i64>,
    pub resolved: bool,
    pub resolution: Option<String>,
}

/// Reconciles `day` (China time) and stores the report; a second run updates the lines
/// and keeps what operators resolved.
/// Each run is audited with who ran it and what it found.
pub async fn run_day(state: &State, day: Date, cx: &RequestContext) -> Result<Report, AppError> {
    let now = cx.now;
    let (from, until) = (
        china_time::midnight(day),
        china_time::midnight(add_days(day, 1)),
    );
    let provider = state.payments.name();
    let paid = order::Entity::find()
        .filter(order::Column::Provider.eq(provider))
        .filter(order::Column::PaidAt.gte(from))
        .filter(order::Column::PaidAt.lt(until))
        .filter(order::Column::ProviderRef.is_not_null())
        .all(&state.db)
        .await?;
    let mut ours: Vec<Entry> = paid
        .iter()
        .filter_map(|o| {
            Some(Entry {
                provider_ref: o.provider_ref.clone()?,
                order_number: Some(o.order_number.clone()),
                amount_fen: o.paid_fen.unwrap_or(o.amount_fen),
            })
        })
        .collect();
    let refunds = refund::Entity::find()
        .filter(refund::Column::Status.eq(crate::orders::SUCCEEDED))
        .filter(refund::Column::SettledAt.gte(from))
        .filter(refund::Column::SettledAt.lt(until))
        .filter(refund::Column::ProviderRef.is_not_null())
        .all(&state.db)
        .await?;
    for r in &refunds {
        let order_number = order::Entity::find_by_id(r.order_id)
            .one(&state.db)
            .await?
            .filter(|o| o.provider == provider)
            .map(|o| o.order_number);
        if let (Some(provider_ref), Some(order_number)) = (r.provider_ref.clone(), order_number) {
            ours.push(Entry {
                provider_ref,
                order_number: Some(order_number),
                amount_fen: -r.amount_fen,
            });
        }
    }
    let theirs: Vec<Entry> = state
        .payments
        .transactions(from, until)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?
        .into_iter()
        .map(|t| Entry {
            provider_ref: t.provider_ref,
            order_number: t.order_number,
            amount_fen: t.amount_fen,
        })
        .collect();
    let lines = reconcile(&ours, &theirs);
    let matched = lines.iter().filter(|l| l.kind == LineKind::Matched).count();
    let differences = lines.len() - matched;
    let ts = now.unix_timestamp();
    let txn = db::begin_write(&state.db).await?;
    run::Entity::insert(run::ActiveModel {
        provider: Set(provider.to_owned()),
        day: Set(day.to_string()),
        ran_at: Set(ts),
        matched: Set(i32::try_from(matched).unwrap_or(i32::MAX)),
        differences: Set(i32::try_from(differences).unwrap_or(i32::MAX)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([run::Column::Provider, run::Column::Day])
            .update_columns([
                run::Column::RanAt,
                run::Column::Matched,
                run::Column::Differences,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let r = run::Entity::find()
        .filter(run::Column::Provider.eq(provider))
        .filter(run::Column::Day.eq(day.to_string()))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("reconciliation run vanished")))?;
    for l in &lines {
        line::Entity::insert(line::ActiveModel {
            run_id: Set(r.id),
            provider_ref: Set(l.provider_ref.clone()),
            order_number: Set(l.order_number.clone()),
            kind: Set(l.kind.as_str().to_owned()),
            ours_fen: Set(l.ours_fen),
            theirs_fen: Set(l.theirs_fen),
            resolved_by_staff: Set(None),
            resolved_at: Set(None),
            resolution: Set(None),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([line::Column::RunId, line::Column::ProviderRef])
                .update_columns([
                    line::Column::Kind,
                    line::Column::OrderNumber,
                    line::Column::OursFen,
                    line::Column::TheirsFen,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    audit::record(
        &txn,
        cx.audit(AuditAction::ReconciliationRun)
            .detail(serde_json::json!({
                "day": day.to_string(),
                "provider": provider,
                "lines": lines.len(),
                "differences": differences,
            })),
    )
    .await?;
    txn.commit().await?;
    if differences > 0 {
        tracing::warn!(day = %day, differences, "reconciliation found differences");
    }
    report(state, day)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("reconciliation report vanished")))
}

/// The stored report for `day`, if it has run.
pub async fn report(state: &State, day: Date) -> Result<Option<Report>, AppError> {
    let Some(r) = run::Entity::find()
        .filter(run::Column::Provider.eq(state.payments.name()))
        .filter(run::Column::Day.eq(day.to_string()))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let lines = line::Entity::find()
        .filter(line::Column::RunId.eq(r.id))
        .filter(line::Column::Kind.ne(LineKind::Matched.as_str()))
        .order_by_asc(line::Column::ProviderRef)
        .all(&state.db)
        .await?;
    Ok(Some(Report {
        day: r.day,
        provider: r.provider,
        ran_at: r.ran_at,
        matched: r.matched,
        differences: r.differences,
        lines: lines
            .into_iter()
            .filter_map(|l| {
                Some(ReportLine {
                    id: l.id,
                    kind: LineKind::parse(&l.kind)?,
                    provider_ref: l.provider_ref,
                    order_number: l.order_number,
                    ours_fen: l.ours_fen,
                    theirs_fen: l.theirs_fen,
                    resolved: l.resolved_at.is_some(),
                    resolution: l.resolution,
                })
            })
            .collect(),
    }))
}

/// An operator resolves a difference, saying how; once.
pub async fn resolve(
    state: &State,
    staff_id: i64,
    line_id: i64,
    note: &str,
    cx: &RequestContext,
) -> Result<(), AppError> {
    let now = cx.now;
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(FieldError::new(ErrorCode::ResolutionMissing, Field::Note).into());
    }
    let txn = db::begin_write(&state.db).await?;
    let done = line::Entity::update_many()
        .col_expr(line::Column::ResolvedByStaff, Expr::value(staff_id))
        .col_expr(line::Column::ResolvedAt, Expr::value(now.unix_timestamp()))
        .col_expr(line::Column::Resolution, Expr::value(note))
        .filter(line::Column::Id.eq(line_id))
        .filter(line::Column::ResolvedAt.is_null())
        .filter(line::Column::Kind.ne(LineKind::Matched.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if done != 1 {
        txn.rollback().await?;
        return Err(FieldError::general(ErrorCode::NotFound).into());
    }
    audit::record(
        &txn,
        cx.audit(AuditAction::ReconciliationResolved)
            .on("reconciliation_line", line_id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The job: yesterday's reconciliation, once it has not run yet (so a restart catches
/// up, and several servers at worst run it twice, which only updates the same lines).
pub async fn run_yesterday_if_due(state: &State, now: OffsetDateTime) -> Result<bool, AppError> {
    let yesterday = add_days(china_time::day(now.unix_timestamp()), -1);
    if report(state, yesterday).await?.is_some() {
        return Ok(false);
    }
    run_day(state, yesterday, &RequestContext::system(now)).await?;
    Ok(true)
}

/// A China day from `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Option<Date> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// The staff page's card: `day` (yesterday by default) and its report, if it has run.
pub async fn staff_view(
    state: &State,
    day: Option<Date>,
    now: OffsetDateTime,
) -> Result<app::staff::Reconciliation, AppError> {
    use app::domain::order::Fen;
    let day = day.unwrap_or_else(|| add_days(china_time::day(now.unix_timestamp()), -1));
    let money = |fen: Option<i64>| match fen {
        Some(f) if f < 0 => format!("−{}", Fen::new(-f).map(Fen::yuan_text).unwrap_or_default()),
        Some(f) => Fen::new(f).map(Fen::yuan_text).unwrap_or_default(),
        None => "—".to_owned(),
    };
    let report = report(state, day)
        .await?
        .map(|r| app::staff::ReconciliationReport {
            matched: r.matched,
            differences: r.differences,
            ran: format!(
                "{} {}",
                china_time::day(r.ran_at),
                app::domain::china_time::clock(r.ran_at)
            ),
            lines: r
                .lines
                .into_iter()
                .map(|l| app::staff::ReconciliationLine {
                    id: l.id,
                    kind: l.kind,
                    provider_ref: l.provider_ref,
                    order_number: l.order_number,
                    ours: money(l.ours_fen),
                    theirs: money(l.theirs_fen),
                    resolution: l.resolution,
                })
                .collect(),
        });
    Ok(app::staff::Reconciliation {
        day: day.to_string(),
        report,
    })
}
