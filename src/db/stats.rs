//! What the pools do, for the metrics: statements run, connections in use
//! and idle per pool, and how many callers wait for one.

use std::future::Future;

use super::{Background, Db, Pools};

/// One pool's connections.
pub struct PoolStats {
    pub name: &'static str,
    pub size: u32,
    pub idle: usize,
}

impl Db {
    /// How many SQL statements have run through this pool (for the metrics,
    /// and tests that bound N+1).
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The pools' connections now: the request pool(s) and live updates' own.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        let mut out = match &self.pools {
            Pools::Sqlite { read, write } => vec![
                PoolStats {
                    name: "read",
                    size: read.size(),
                    idle: read.num_idle(),
                },
                PoolStats {
                    name: "write",
                    size: write.size(),
                    idle: write.num_idle(),
                },
            ],
            Pools::Postgres(pool) => {
                vec![PoolStats {
                    name: "requests",
                    size: pool.size(),
                    idle: pool.num_idle(),
                }]
            }
        };
        out.push(match &self.background {
            Background::Sqlite(p) => PoolStats {
                name: "live",
                size: p.size(),
                idle: p.num_idle(),
            },
            Background::Postgres(p) => PoolStats {
                name: "live",
                size: p.size(),
                idle: p.num_idle(),
            },
        });
        out
    }
}

/// Counts `acquire` as waiting (the `kitreview_db_pool_waiting` gauge) until it
/// ends or is dropped.
pub(super) async fn waiting<F: Future>(acquire: F) -> F::Output {
    struct Waiting;
    impl Drop for Waiting {
        fn drop(&mut self) {
            metrics::gauge!("kitreview_db_pool_waiting").decrement(1.0);
        }
    }
    metrics::gauge!("kitreview_db_pool_waiting").increment(1.0);
    let _w = Waiting;
    acquire.await
}
