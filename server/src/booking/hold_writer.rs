//! Holds made at the same moment are written together (R-BOOK-2): group commit.
//!
//! A hold queues here as asked. The writer takes everything queued, up to
//! [`MAX_BATCH`], reads what the holds rest on in a few statements for all of them
//! (slots, consult consents, approved diagnoses: [`crate::booking::hold_basis`]) and checks each
//! alone; a refused one (no such slot, cancelled, started, no consent, not eligible) is
//! answered at once. The rest it writes in one transaction: the accounts' lock rows in
//! one statement, their bookings in one read, then each hold decided by the same rules
//! as alone, in slot order (so writers on several servers take slot rows in the same
//! order), the places taken by one conditional update (or, when a slot lacks room for
//! all its holds, each by its own), and the bookings, orders, order lines and audit rows
//! inserted a statement each for all. A hold refused there (overlap, too many holds,
//! just taken) is refused alone; the others are held. Should the batch's transaction
//! fail as a whole (a deadlock between servers, a unique index), each of its holds is
//! written again in a transaction of its own, which gives each its own answer. The
//! capacity, overlap and uniqueness promises stay the database's: the conditional
//! update, the lock rows and the unique index.
//!
//! Why: on the 2-core machines this runs on, the database's work per statement and per
//! transaction, not the server, bounds holds per second (`scripts/hold_sql.pgbench`
//! against `scripts/hold_sql_batched.pgbench`, docs/performance.md). Reading each
//! hold's facts on its own cost three statements a hold; read per batch, a few in all.
use crate::audit;
use crate::booking::hold_basis;
use crate::booking::hold_basis::HoldAsk;
use crate::booking::holds::Decision;
use crate::booking::holds::Held;
use crate::booking::holds::HoldRequest;
use crate::booking::holds::PreparedHold;
use crate::booking::holds::Written;
use crate::booking::holds::decide;
use crate::booking::holds::hold_one;
use crate::booking::holds::live_bookings_filter;
use crate::booking::holds::lock_accounts;
use crate::booking::holds::slot_taken;
use crate::booking::holds::take_for;
use crate::booking::holds::write_one;
use crate::db::{self, booking};
use crate::error::AppError;
use crate::state::State;
use app::domain::booking::BookingStatus;
use app::domain::eligibility::EligibilityPolicy;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

/// Holds a place for the person, for `hold_secs`, or says why not. "Just taken" comes
/// with the doctor's next free slots. Checked and written with other holds made at the
/// same moment: their facts read together, each checked alone, the held ones written in
/// one transaction (this writer, [`crate::booking::hold_basis`]).
pub async fn hold(
    state: &State,
    req: &HoldRequest,
    hold_secs: i64,
    ip: &str,
    now: OffsetDateTime,
) -> Result<Held, AppError> {
    let ask = HoldAsk {
        req: req.clone(),
        hold_secs,
        ip: ip.to_owned(),
        now,
        directory: state.directory.snapshot(&state.db).await?,
    };
    state
        .parts
        .get::<HoldWriter>()?
        .write(&state.db, state.payments.name(), ask)
        .await
}

/// Holds one transaction writes at most.
pub const MAX_BATCH: usize = 32;

struct Job {
    ask: HoldAsk,
    answer: oneshot::Sender<Result<Written, AppError>>,
}

/// The queue of holds to write, and its writer (started with the first hold).
pub struct HoldWriter {
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
    gather: Duration,
    /// The eligibility rule's settings (R-ELIG-3), as every hold is checked by them.
    policy: EligibilityPolicy,
    batched: Arc<AtomicU64>,
}

impl HoldWriter {
    /// `gather`: how long a writer waits after the first hold for more to come.
    pub fn new(gather: Duration, policy: EligibilityPolicy) -> HoldWriter {
        HoldWriter {
            queue: OnceLock::new(),
            gather,
            policy,
            batched: Arc::default(),
        }
    }

    /// Holds answered by a transaction written for two or more (held or refused).
    pub fn batched(&self) -> u64 {
        self.batched.load(Ordering::Relaxed)
    }

    /// Writes the hold, with whatever else is queued; its own answer.
    pub(crate) async fn write(
        &self,
        db: &DatabaseConnection,
        provider: &str,
        ask: HoldAsk,
    ) -> Result<Held, AppError> {
        let queue = self.queue.get_or_init(|| {
            let writer = Writer {
                db: db.clone(),
                provider: provider.to_owned(),
                gather: self.gather,
                policy: self.policy.clone(),
                batched: self.batched.clone(),
            };
            let (queue, jobs) = mpsc::unbounded_channel();
            tokio::spawn(writer.run(jobs));
            queue
        });
        let ts = ask.now.unix_timestamp();
        let (answer, answered) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = queue.send(Job { ask, answer }) {
            // The writer is gone (the runtime that started it ended): alone.
            let hold = hold_basis::prepare_alone(db, &self.policy, &job.ask).await?;
            return hold_one(db, provider, &hold).await;
        }
        match answered.await {
            Ok(Ok(Written::Held(held))) => Ok(held),
            Ok(Ok(Written::Taken { doctor_id })) => Err(slot_taken(db, doctor_id, ts).await),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(AppError::Internal(anyhow::anyhow!(
                "the hold writer ended before answering"
            ))),
        }
    }
}

/// The one writer of a server: while it commits a batch the next one queues, so
/// batches grow with the load. (Measured with 64 clients on PostgreSQL: one writer
/// 1,700–1,800 holds/s, two 1,480, four 1,480; SQLite has one write lock anyway.)
struct Writer {
    db: DatabaseConnection,
    provider: String,
    gather: Duration,
    policy: EligibilityPolicy,
    batched: Arc<AtomicU64>,
}

impl Writer {
    async fn run(self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        loop {
            let Some(first) = jobs.recv().await else {
                return;
            };
            let mut batch = vec![first];
            let until = tokio::time::Instant::now() + self.gather;
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) if self.gather.is_zero() => break,
                    Err(_) => match tokio::time::timeout_at(until, jobs.recv()).await {
                        Ok(Some(job)) => batch.push(job),
                        _ => break,
                    },
                }
            }
            self.answer(batch).await;
        }
    }

    /// Checks the batch's holds, answers the refused, writes the rest.
    async fn answer(&self, batch: Vec<Job>) {
        let asks: Vec<&HoldAsk> = batch.iter().map(|j| &j.ask).collect();
        let facts = match hold_basis::read(&self.db, &asks).await {
            Ok(facts) => facts,
            Err(e) => {
                tracing::warn!(code = ?e.code(), holds = batch.len(), "reading what a batch of holds rests on failed");
                for job in batch {
                    let answer =
                        match hold_basis::prepare_alone(&self.db, &self.policy, &job.ask).await {
                            Ok(hold) => write_one(&self.db, &self.provider, &hold).await,
                            Err(e) => Err(e),
                        };
                    let _ = job.answer.send(answer);
                }
                return;
            }
        };
        let mut ready: Vec<(PreparedHold, oneshot::Sender<Result<Written, AppError>>)> =
            Vec::with_capacity(batch.len());
        for job in batch {
            match hold_basis::prepare(&self.db, &self.policy, &job.ask, &facts).await {
                Ok(hold) => ready.push((hold, job.answer)),
                Err(e) => {
                    let _ = job.answer.send(Err(e));
                }
            }
        }
        if ready.len() == 1 {
            for (hold, answer) in ready {
                let _ = answer.send(write_one(&self.db, &self.provider, &hold).await);
            }
            return;
        }
        if ready.is_empty() {
            return;
        }
        let holds: Vec<&PreparedHold> = ready.iter().map(|(h, _)| h).collect();
        match write_batch(&self.db, &self.provider, &holds).await {
            Ok(answers) => {
                self.batched
                    .fetch_add(answers.len() as u64, Ordering::Relaxed);
                for ((_, answer), written) in ready.into_iter().zip(answers) {
                    let _ = answer.send(written);
                }
            }
            Err(e) => {
                tracing::warn!(code = ?e.code(), holds = ready.len(), "a batch of holds failed; writing each alone");
                for (hold, answer) in ready {
                    let _ = answer.send(write_one(&self.db, &self.provider, &hold).await);
                }
            }
        }
    }
}

/// One transaction for the holds; an answer for each, in their order. `Err`: nothing
/// was written.
async fn write_batch(
    db: &DatabaseConnection,
    provider: &str,
    holds: &[&PreparedHold],
) -> Result<Vec<Result<Written, AppError>>, AppError> {
    let earliest = holds.iter().map(|h| h.ts()).min().unwrap_or_default();
    let from = holds
        .iter()
        .map(|h| h.target.starts_at)
        .min()
        .unwrap_or_default();
    let to = holds
        .iter()
        .map(|h| h.target.ends_at)
        .max()
        .unwrap_or_default();
    let mut patients: Vec<i64> = holds.iter().map(|h| h.patient_id).collect();
    patients.sort_unstable();
    patients.dedup();
    let keys: Vec<String> = holds.iter().map(|h| h.key.clone()).collect();

    let txn = db::begin_write(db).await?;
    lock_accounts(&txn, &patients, earliest).await?;
    // Every booking any of the holds is checked against, in one read (a superset:
    // `decide` picks each hold's own).
    let mut theirs = booking::Entity::find()
        .filter(live_bookings_filter(patients, keys, from, to, earliest))
        .all(&txn)
        .await?;
    // Slot order, then arrival: every writer takes slot rows in the same order.
    let mut order: Vec<usize> = (0..holds.len()).collect();
    order.sort_by_key(|&i| (holds[i].target.id, i));
    let mut taken = vec![false; holds.len()];
    let mut answers: Vec<Option<AppError>> = (0..holds.len()).map(|_| None).collect();
    // Most batches: every hold decided as if those before it stood, then all their
    // places taken at once; should any slot lack room, nothing is written there and each
    // place is taken in turn below, deciding again.
    if let Some((placed, refused)) = all_at_once(&txn, holds, &order, &theirs).await? {
        for i in placed {
            taken[i] = true;
        }
        answers = refused;
        order.clear();
    }
    for i in order {
        let h = holds[i];
        match decide(h, &theirs) {
            Decision::Refused(e) => answers[i] = Some(e),
            Decision::Take { ran_out } => {
                if take_for(&txn, h, &ran_out).await? {
                    taken[i] = true;
                    // The holds after it see it, as they would once it committed.
                    for b in &ran_out {
                        if let Some(r) = theirs.iter_mut().find(|r| r.id == b.id) {
                            r.status = BookingStatus::Expired.as_str().to_owned();
                        }
                    }
                    theirs.push(pending_row(h)?);
                }
            }
        }
    }
    let made: Vec<&PreparedHold> = (0..holds.len())
        .filter(|&i| taken[i])
        .map(|i| holds[i])
        .collect();
    if !made.is_empty() {
        let rows = booking::Entity::insert_many(made.iter().map(|h| h.booking()))
            .exec_with_returning(&txn)
            .await?;
        // What each hold is paid by (R-PAY-1): its order, made with it.
        let mut paid_by = Vec::with_capacity(made.len());
        for h in &made {
            let b = rows
                .iter()
                .find(|b| b.booking_number == h.number)
                .ok_or_else(|| anyhow::anyhow!("booking {} was not returned", h.number))?;
            paid_by.push(super::paying::consult_order(
                provider,
                b,
                &h.doctor,
                h.consult_type()?,
                h.fee,
                b.held_at,
            ));
        }
        crate::orders::create_many(&txn, &paid_by).await?;
        audit::record_many(&txn, made.iter().map(|h| h.audit_event())).await?;
    }
    txn.commit().await?;
    Ok(holds
        .iter()
        .zip(answers)
        .zip(taken)
        .map(|((h, refused), taken)| match refused {
            Some(e) => Err(e),
            None if taken => Ok(Written::Held(h.held())),
            None => Ok(Written::Taken {
                doctor_id: h.doctor.id,
            }),
        })
        .collect())
}

/// Decides every hold in `order` against `theirs` and the holds decided before it, and
/// takes all their places in one statement, if none of them first ends a ran-out hold
/// and every slot has room for all of its holds. `None`: nothing was written (the slot
/// rows stay locked: taking each place in turn follows).
async fn all_at_once(
    txn: &sea_orm::DatabaseTransaction,
    holds: &[&PreparedHold],
    order: &[usize],
    theirs: &[booking::Model],
) -> Result<Option<(Vec<usize>, Vec<Option<AppError>>)>, AppError> {
    use sea_orm::ConnectionTrait;
    let mut seen = theirs.to_vec();
    let mut placed = Vec::new();
    let mut refused: Vec<Option<AppError>> = (0..holds.len()).map(|_| None).collect();
    for &i in order {
        match decide(holds[i], &seen) {
            Decision::Refused(e) => refused[i] = Some(e),
            Decision::Take { ran_out } if ran_out.is_empty() => {
                placed.push(i);
                seen.push(pending_row(holds[i])?);
            }
            Decision::Take { .. } => return Ok(None),
        }
    }
    if placed.is_empty() {
        return Ok(Some((placed, refused)));
    }
    // Places per slot, in slot order (`order` is).
    let mut slots: Vec<(i64, i64)> = Vec::new();
    for &i in &placed {
        match slots.last_mut() {
            Some((id, n)) if *id == holds[i].target.id => *n += 1,
            _ => slots.push((holds[i].target.id, 1)),
        }
    }
    let latest = placed
        .iter()
        .map(|&i| holds[i].ts())
        .max()
        .unwrap_or_default();
    let backend = txn.get_database_backend();
    // The slot rows as they stand, locked in slot order as every writer takes them
    // (SQLite: the transaction holds the one write lock already); until this commits
    // nobody else changes them, so whether all fit is known before writing.
    let ids: Vec<sea_orm::Value> = slots.iter().map(|(id, _)| (*id).into()).collect();
    let marks: Vec<String> = (1..=ids.len()).map(|k| format!("${k}")).collect();
    let lock = if backend == sea_orm::DbBackend::Sqlite {
        ""
    } else {
        " FOR UPDATE"
    };
    let rows = txn
        .query_all_raw(db::sql(
            backend,
            &format!(
                "SELECT id, taken, capacity, status, starts_at FROM slot WHERE id IN ({}) ORDER BY id{lock}",
                marks.join(", ")
            ),
            ids,
        ))
        .await?;
    let mut room = std::collections::HashMap::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("", "id")?;
        let (taken, capacity): (i32, i32) = (r.try_get("", "taken")?, r.try_get("", "capacity")?);
        let open = r.try_get::<String>("", "status")? == crate::booking::row::OPEN
            && r.try_get::<i64>("", "starts_at")? > latest;
        room.insert(id, if open { i64::from(capacity - taken) } else { 0 });
    }
    if slots
        .iter()
        .any(|(id, n)| room.get(id).copied().unwrap_or(0) < *n)
    {
        return Ok(None);
    }
    let rows: Vec<String> = (0..slots.len())
        .map(|k| {
            format!(
                "(CAST(${} AS BIGINT), CAST(${} AS BIGINT))",
                2 * k + 1,
                2 * k + 2
            )
        })
        .collect();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(slots.len() * 2 + 1);
    for (id, n) in &slots {
        values.extend([(*id).into(), (*n).into()]);
    }
    values.extend([crate::booking::row::OPEN.into(), latest.into()]);
    // Still conditional: the database, not the read above, keeps the capacity.
    let took = txn
        .execute_raw(db::sql(
            backend,
            &format!(
                "WITH v (id, n) AS (VALUES {}) \
                 UPDATE slot SET taken = slot.taken + v.n FROM v \
                 WHERE slot.id = v.id AND slot.status = ${} AND slot.starts_at > ${} \
                 AND slot.taken + v.n <= slot.capacity",
                rows.join(", "),
                slots.len() * 2 + 1,
                slots.len() * 2 + 2
            ),
            values,
        ))
        .await?
        .rows_affected();
    if took != slots.len() as u64 {
        return Err(AppError::Internal(anyhow::anyhow!(
            "{took} of {} locked slots took their places",
            slots.len()
        )));
    }
    Ok(Some((placed, refused)))
}

/// The booking a hold will insert, as the rows read: for the checks of the holds
/// after it in the same batch.
fn pending_row(h: &PreparedHold) -> Result<booking::Model, AppError> {
    use sea_orm::TryIntoModel;
    let mut row = h.booking();
    row.id = sea_orm::ActiveValue::Set(0);
    row.try_into_model()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("pending booking: {e}")))
}
