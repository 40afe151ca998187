//! The embedded backend's housekeeping, on a thread of its own so no request waits for it:
//! expired rows go in small batches (each an index range, so a batch costs the same at any
//! table size, and the request mutex is held for one batch only), and the WAL is
//! checkpointed through a second connection, which does not block the writers.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use rusqlite::Connection;

use super::{Database, db_err};
use crate::store::StoreResult;

/// Rows one statement removes at most: small enough that a request waits a fraction of a
/// millisecond behind it.
pub const BATCH: usize = 64;
/// How often the thread wakes to checkpoint.
const TICK: StdDuration = StdDuration::from_secs(1);
/// Sweeps run every this many ticks.
const SWEEP_EVERY: u32 = 30;
/// Spent codes and tokens stay this long past expiry, so a replay is still recognised.
const KEEP_SPENT: time::Duration = time::Duration::hours(1);

/// Starts the thread; it stops once the database is dropped.
pub(super) fn start(db: Weak<Database>, path: PathBuf) {
    let spawned = std::thread::Builder::new().name("gatehouse-sqlite-maintenance".into()).spawn(move || {
        let mut checkpointer = None;
        for tick in 1u32.. {
            std::thread::sleep(TICK);
            let Some(database) = db.upgrade() else { return };
            if tick % SWEEP_EVERY == 0
                && let Err(e) = sweep_all(&database)
            {
                tracing::warn!(error = %e, "sweeping expired rows failed");
            }
            if let Err(e) = checkpoint(&mut checkpointer, &path) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
                checkpointer = None;
            } else if let Err(e) = finish_checkpoint(&database) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
            drop(database);
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the SQLite maintenance thread; expired rows stay");
    }
}

/// Sweeps batch after batch until nothing expired is left, letting requests in between.
fn sweep_all(db: &Database) -> StoreResult<()> {
    while sweep(db, BATCH)? == BATCH {
        std::thread::sleep(StdDuration::from_millis(2));
    }
    Ok(())
}

/// Copies the WAL into the database without waiting for readers or writers (PASSIVE).
pub fn checkpoint(conn: &mut Option<Connection>, path: &Path) -> rusqlite::Result<()> {
    if conn.is_none() {
        let fresh = super::open_connection(path)?;
        fresh.busy_timeout(StdDuration::from_millis(100))?;
        *conn = Some(fresh);
    }
    if let Some(conn) = conn {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// Copies what was written during [`checkpoint`] through the requests' connection, so the
/// whole WAL is in the database and the next write starts it again from the beginning.
/// Without this, under steady writes the checkpointer never catches up and the WAL grows
/// without bound (200 MB in a minute of refreshes), every write appending to a new block.
/// Requests wait meanwhile, but only for the writes of one checkpoint's duration.
pub fn finish_checkpoint(db: &Database) -> StoreResult<()> {
    db.with(|c| c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))).map_err(db_err)
}

/// Removes at most `batch` expired rows from each table, as of the latest time a request
/// passed in; returns the most any one table lost. Nothing happens before the first request.
pub fn sweep(db: &Database, batch: usize) -> StoreResult<usize> {
    let now = db.latest.load(Ordering::Relaxed);
    if now == i64::MIN {
        return Ok(0);
    }
    let spent_before = now - KEEP_SPENT.whole_seconds();
    // (table, the columns naming a row, the column of its end, the cutoff)
    let cutoffs = [
        ("grants", "rowid", "expires_at", spent_before),
        ("spent_refresh_tokens", "until, key", "until", spent_before),
        ("revoked_families", "rowid", "until", spent_before),
        ("session_grants", "rowid", "expires_at", spent_before),
        ("sessions", "rowid", "expires_at", now),
        ("throttle", "rowid", "window_ends", now),
        ("event_log", "rowid", "occurred_at", now - db.retention.log.whole_seconds()),
        ("outbox", "rowid", "sent_at", now - db.retention.outbox.whole_seconds()),
    ];
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    let mut most = 0;
    for (table, row, column, cutoff) in cutoffs {
        // Table and column names are the constants above; the index on `column` finds the rows.
        let sql =
            format!("DELETE FROM {table} WHERE ({row}) IN (SELECT {row} FROM {table} WHERE {column} <= ?1 LIMIT ?2)");
        let removed = db.execute(&sql, rusqlite::params![cutoff, batch]).map_err(db_err)?;
        most = most.max(removed);
    }
    Ok(most)
}
