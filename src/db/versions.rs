//! What a read's answer depends on besides its request and its viewer: the
//! data version (the sum of `data_versions`, which every write transaction
//! raises as its last statement) and the last deadline passed (a cycle that
//! opens or closes, a late grant that ends, changes what reads return
//! without any write).

use chrono::{DateTime, Utc};

use super::sql::Sql;
use super::Conn;
use crate::error::AppResult;

/// Both in one statement.
pub async fn current(
    c: &mut Conn<'_>,
    now: DateTime<Utc>,
) -> AppResult<(i64, Option<DateTime<Utc>>)> {
    Sql::new(
        "SELECT (SELECT CAST(SUM(version) AS BIGINT) FROM data_versions), \
         (SELECT MAX(t) FROM (\
            SELECT opens_at AS t FROM review_cycles WHERE opens_at <= $1 \
            UNION ALL SELECT closes_at FROM review_cycles WHERE closes_at <= $1 \
            UNION ALL SELECT until FROM late_grants WHERE until <= $1) AS passed)",
    )
    .arg(now)
    .fetch_one(c)
    .await
}

/// The data version alone.
pub async fn data(c: &mut Conn<'_>) -> AppResult<i64> {
    let (v,): (i64,) = Sql::new("SELECT CAST(SUM(version) AS BIGINT) FROM data_versions")
        .fetch_one(c)
        .await?;
    Ok(v)
}
