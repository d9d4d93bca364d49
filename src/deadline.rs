//! The time limit of one request, and the one moment it must not cut: a COMMIT.
//!
//! A request that runs past its limit is dropped and its client told it timed
//! out, which is only true if nothing it did was stored. So the limit and the
//! transactions agree through one small state machine per request:
//!
//! - before a COMMIT is sent, [`before_commit`] claims the request: from then on
//!   the limit no longer cuts it, it runs to its end and reports what really
//!   happened (the comment stored, with its number);
//! - when the limit fires first, the claim fails: the transaction rolls back and
//!   the client is told it timed out, which is then the truth;
//! - a transaction begun after the limit has passed fails at once.
//!
//! [`run`] sets the limit for everything the request does, over HTTP and over
//! the WebSocket alike; code outside a request (the CLI, the dispatcher) runs
//! without one.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{AppError, AppResult};

const RUNNING: u8 = 0;
const COMMITTING: u8 = 1;
const EXPIRED: u8 = 2;

struct Deadline {
    at: Instant,
    limit: Duration,
    state: AtomicU8,
}

tokio::task_local! {
    static CURRENT: Arc<Deadline>;
}

/// Run `fut` within `limit`: `None` if the limit passed before it finished and
/// before it sent a COMMIT (it is dropped, and nothing it began is stored).
pub async fn run<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let d = Arc::new(Deadline {
        at: Instant::now() + limit,
        limit,
        state: AtomicU8::new(RUNNING),
    });
    let timer = d.clone();
    CURRENT
        .scope(d, async move {
            let mut fut = std::pin::pin!(fut);
            tokio::select! {
                biased;
                out = &mut fut => Some(out),
                () = tokio::time::sleep_until(timer.at) => {
                    match timer.state.compare_exchange(RUNNING, EXPIRED, Ordering::AcqRel, Ordering::Acquire) {
                        Ok(_) => None,
                        // A COMMIT is on its way: finish and tell the truth.
                        Err(_) => Some(fut.await),
                    }
                }
            }
        })
        .await
}

fn too_late(d: &Deadline) -> AppError {
    AppError::Timeout(format!(
        "the request ran past its time limit of {}; nothing was stored",
        humantime::format_duration(d.limit)
    ))
}

/// Called before a transaction begins: fails once the limit has passed.
pub fn before_begin() -> AppResult<()> {
    CURRENT
        .try_with(|d| {
            if Instant::now() >= d.at || d.state.load(Ordering::Acquire) == EXPIRED {
                Err(too_late(d))
            } else {
                Ok(())
            }
        })
        .unwrap_or(Ok(()))
}

/// Called before COMMIT is sent: claims the request so that the limit no longer
/// cuts it, or fails (and the caller rolls back) when the limit came first.
pub fn before_commit() -> AppResult<()> {
    CURRENT
        .try_with(|d| {
            if Instant::now() >= d.at {
                // An earlier COMMIT may hold the request open past its limit:
                // a later transaction is not let through on its back.
                let _ =
                    d.state
                        .compare_exchange(RUNNING, EXPIRED, Ordering::AcqRel, Ordering::Acquire);
                return Err(too_late(d));
            }
            match d
                .state
                .compare_exchange(RUNNING, COMMITTING, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) | Err(COMMITTING) => Ok(()),
                Err(_) => Err(too_late(d)),
            }
        })
        .unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_limit_cuts_work_that_has_not_committed() {
        let out = run(Duration::from_secs(1), async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            before_commit()
        })
        .await;
        assert!(out.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_sent_in_time_finishes_past_the_limit() {
        let out = run(Duration::from_secs(1), async {
            before_commit()?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            AppResult::Ok(7)
        })
        .await;
        assert!(matches!(out, Some(Ok(7))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_transaction_after_the_limit_fails() {
        let out = run(Duration::from_secs(1), async {
            before_commit()?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let begin = before_begin();
            let commit = before_commit();
            AppResult::Ok((begin.is_err(), commit.is_err()))
        })
        .await;
        assert!(matches!(out, Some(Ok((true, true)))));
    }

    #[tokio::test]
    async fn outside_a_request_there_is_no_limit() {
        assert!(before_begin().is_ok());
        assert!(before_commit().is_ok());
    }
}
