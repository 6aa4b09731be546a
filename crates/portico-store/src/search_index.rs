//! Upkeep of SQLite's full-text index of tickets (migration 0018), which PostgreSQL's GIN index
//! does not need.
//!
//! FTS5 keeps its index as segments: every committed write adds a small one, and its automatic
//! merging folds them, four of a size at a time, into ever larger ones, so that an index of a
//! million tickets settles at a dozen segments of comparable size. Every search looks its
//! words up in each segment: at a dozen, a member's search of their company read 50 µs a match
//! against 15 µs with one segment (`bench/README.md`). [`Store::compact_search_index`] merges
//! them into one when the smaller segments have grown to a tenth of the largest: each compaction
//! rewrites the index, so new text costs about ten times its own size in merging, spread over
//! the housekeeping rounds that notice it.

use std::time::Duration;

use crate::sql::q;
use crate::{Pool, Store, StoreError};

/// What one compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchIndexCompaction {
    /// Segments before and after.
    pub segments_before: usize,
    pub segments_after: usize,
    /// Merge steps taken, each its own write transaction.
    pub steps: u32,
}

/// The index's segments, as their numbers of leaf pages, largest first. FTS5 numbers a
/// segment's leaf pages in the rowids of its `%_data` table (`segid << 37` plus the page
/// number; part of its file format), so each count is two lookups, where counting the rows would
/// read the whole index. (Its `%_idx` table, one row per leaf page that starts a term, is no
/// measure: a large doclist spans many pages that start none.)
async fn segment_sizes(store: &Store) -> Result<Vec<i64>, StoreError> {
    let mut tx = store.begin(false).await?;
    let mut pages: Vec<(i64,)> = tx
        .all(q!(
            "SELECT COALESCE((SELECT max(rowid) - min(rowid) + 1 FROM ticket_search_data \
             WHERE rowid BETWEEN (s.segid << 37) + 1 AND (s.segid << 37) + 2147483647), 0) \
             FROM (SELECT DISTINCT segid FROM ticket_search_idx) AS s"
        ))
        .await?;
    tx.commit().await?;
    pages.sort_unstable_by(|a, b| b.cmp(a));
    Ok(pages.into_iter().map(|(n,)| n).collect())
}

/// Whether merging pays: more than one segment, and the rest hold a tenth of the largest's
/// pages or more.
fn worth_merging(sizes: &[i64]) -> bool {
    match sizes.split_first() {
        Some((largest, rest)) if !rest.is_empty() => rest.iter().sum::<i64>() * 10 >= *largest,
        _ => false,
    }
}

impl Store {
    /// Merges SQLite's full-text index into one segment when it has fragmented (see the
    /// module's notes); does nothing on PostgreSQL. Each step is FTS5's incremental `merge`
    /// with a negative count, which merges every segment whatever its size, in a write
    /// transaction of its own; it writes at least `pages_per_step` pages, and more where a
    /// term's documents fill many (it stops only between terms: the workspace's own token is
    /// in every document). `pause` passes between steps. Writes made meanwhile add segments
    /// that the next step takes in; at most enough steps for the whole index, and a hundred
    /// more, are taken. SQLite runs on the calling thread: a server calls this off its
    /// request workers.
    pub async fn compact_search_index(
        &self,
        pages_per_step: u32,
        pause: Duration,
    ) -> Result<SearchIndexCompaction, StoreError> {
        if !matches!(self.pool, Pool::Sqlite(_)) {
            return Ok(SearchIndexCompaction::default());
        }
        let sizes = segment_sizes(self).await?;
        let mut done = SearchIndexCompaction {
            segments_before: sizes.len(),
            segments_after: sizes.len(),
            steps: 0,
        };
        if !worth_merging(&sizes) {
            return Ok(done);
        }
        // A step stops at the first term past its pages, so it writes at least as many.
        let pages_per_step = pages_per_step.max(1);
        let budget = sizes.iter().sum::<i64>() / i64::from(pages_per_step) + 100;
        while i64::from(done.steps) < budget {
            let mut tx = self.begin(true).await?;
            tx.exec(q!(
                "INSERT INTO ticket_search (ticket_search, rank) VALUES ('merge', $1)",
                -i64::from(pages_per_step)
            ))
            .await?;
            tx.commit().await?;
            done.steps += 1;
            done.segments_after = segment_sizes(self).await?.len();
            if done.segments_after <= 1 {
                break;
            }
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::worth_merging;

    #[test]
    fn merging_pays_once_the_smaller_segments_hold_a_tenth_of_the_largest() {
        assert!(!worth_merging(&[]));
        assert!(!worth_merging(&[5_000]));
        assert!(!worth_merging(&[5_000, 300, 199]));
        assert!(worth_merging(&[5_000, 300, 200]));
        assert!(worth_merging(&[816, 816, 816, 560, 376]));
        assert!(worth_merging(&[1, 1]));
    }
}
