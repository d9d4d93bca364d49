//! Rows of either database as one value type, their bind values, and the
//! canonical text a table's checksum is taken over: the same bytes for the
//! same data on SQLite and on PostgreSQL.

use chrono::{DateTime, SubsecRound as _, Utc};
use sha2::{Digest as _, Sha256};
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::tables::{Column, Kind};
use crate::db::sql::Arg;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Time(DateTime<Utc>),
    Real(f64),
}

/// Decode one row of [`Table::select`]. Timestamps are kept to the
/// microsecond, PostgreSQL's precision, on both sides.
pub fn decode<R>(row: &R, columns: &[Column]) -> Result<Vec<Value>, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<f64>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
        v.map_or(Value::Null, f)
    }
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.kind {
                Kind::Int => or_null(row.try_get::<Option<i64>, _>(i)?, Value::Int),
                Kind::Text => or_null(row.try_get::<Option<String>, _>(i)?, Value::Text),
                Kind::Terms => match row.try_get_unchecked::<Option<String>, _>(i) {
                    Ok(v) => or_null(v, Value::Text),
                    Err(_) => Value::Null,
                },
                Kind::Bool => or_null(row.try_get::<Option<bool>, _>(i)?, Value::Bool),
                Kind::Time => or_null(row.try_get::<Option<DateTime<Utc>>, _>(i)?, |t| {
                    Value::Time(t.trunc_subsecs(6))
                }),
                Kind::Real => or_null(row.try_get::<Option<f64>, _>(i)?, Value::Real),
            })
        })
        .collect()
}

/// The bind value of `v` in a column of kind `kind`.
pub fn arg(v: Value, kind: Kind) -> Arg {
    match (v, kind) {
        (Value::Int(i), _) => Arg::OptI64(Some(i)),
        (Value::Text(s), _) => Arg::OptText(Some(s)),
        (Value::Bool(b), _) => Arg::Bool(b),
        (Value::Time(t), _) => Arg::OptTime(Some(t)),
        (Value::Real(r), _) => Arg::OptF64(Some(r)),
        (Value::Null, Kind::Int) => Arg::OptI64(None),
        (Value::Null, Kind::Text | Kind::Terms | Kind::Bool) => Arg::OptText(None),
        (Value::Null, Kind::Time) => Arg::OptTime(None),
        (Value::Null, Kind::Real) => Arg::OptF64(None),
    }
}

/// A table's checksum: SHA-256 over its rows in key order, each value in a
/// canonical, unambiguous text form (a tag, then the value; text with its
/// length; timestamps UTC to the microsecond; floats by their bits).
#[derive(Default)]
pub struct Checksum {
    hash: Sha256,
    pub rows: u64,
}

impl Checksum {
    pub fn add(&mut self, row: &[Value], columns: &[Column]) {
        let mut line = String::new();
        for (v, c) in row.iter().zip(columns) {
            if c.kind == Kind::Terms {
                continue;
            }
            match v {
                Value::Null => line.push('N'),
                Value::Int(i) => line.push_str(&format!("i{i}")),
                Value::Text(s) => line.push_str(&format!("t{}:{s}", s.len())),
                Value::Bool(b) => line.push_str(if *b { "b1" } else { "b0" }),
                Value::Time(t) => line.push_str(&t.format("d%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
                Value::Real(r) => line.push_str(&format!("r{:016x}", r.to_bits())),
            }
            line.push('|');
        }
        line.push('\n');
        self.hash.update(line.as_bytes());
        self.rows += 1;
    }

    pub fn finish(self) -> (u64, String) {
        (self.rows, hex::encode(self.hash.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tables::c;
    use super::*;
    use Kind::{Bool as B, Real as R, Text as T, Time as D};

    #[test]
    fn the_same_values_give_the_same_checksum_and_nulls_differ_from_empty_text() {
        let cols = &[c("a", T), c("b", D), c("c", R), c("d", B)];
        let at = DateTime::parse_from_rfc3339("2026-12-01T09:00:00.1234567Z")
            .expect("valid")
            .with_timezone(&Utc)
            .trunc_subsecs(6);
        let row = |a: Value| vec![a, Value::Time(at), Value::Real(0.5), Value::Bool(true)];
        let sum = |rows: &[Vec<Value>]| {
            let mut s = Checksum::default();
            for r in rows {
                s.add(r, cols);
            }
            s.finish()
        };
        let one = sum(&[row(Value::Text("x".into()))]);
        assert_eq!(one, sum(&[row(Value::Text("x".into()))]));
        assert_ne!(
            sum(&[row(Value::Null)]).1,
            sum(&[row(Value::Text(String::new()))]).1
        );
        assert_eq!(one.0, 1);
    }
}
