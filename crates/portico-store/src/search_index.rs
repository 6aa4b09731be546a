//! Upkeep of SQLite's full-text index of tickets (migration 0018), which PostgreSQL's GIN index
//! does not need.
//!
//! FTS5 keeps its index as segments: every committed write adds a small one, and its automatic
//! merging folds them, four of a size at a time, into ever larger ones, so that an index of a
//! million tickets holds a dozen segments or more. Every search looks its words up in each
//! segment: at a dozen (the benchmark's seeded file), a member's search of their company read
//! 50 µs a match against 15 µs with one segment (`bench/README.md`).
//! [`Store::compact_search_index`] merges them into one when the smaller segments have grown to
//! a tenth of the largest: each compaction rewrites the index, so new text costs about ten times
//! its own size in merging, spread over the housekeeping rounds that notice it.

use crate::sql::q;
use crate::{Pool, Store, StoreError};

/// What one compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchIndexCompaction {
    /// Segments before and after (after: the merged one, and any that writes made meanwhile).
    pub segments_before: usize,
    pub segments_after: usize,
    /// Leaf pages the segments held before.
    pub pages_before: i64,
    /// Merge steps taken, each its own write transaction.
    pub steps: u32,
    /// Whether every segment there was before is merged into one.
    pub merged: bool,
}

/// The ids of the index's segments (FTS5's `%_idx` table holds a row for every leaf page of
/// each that starts a term, and for its first page always).
async fn segment_ids(store: &Store) -> Result<Vec<i64>, StoreError> {
    let mut tx = store.begin(false).await?;
    let ids: Vec<(i64,)> = tx
        .all(q!("SELECT DISTINCT segid FROM ticket_search_idx"))
        .await?;
    tx.commit().await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// The index's segments, as their numbers of leaf pages, largest first. FTS5 numbers a
/// segment's leaf pages in the rowids of its `%_data` table (`segid << 37` plus the page
/// number; part of its file format), so each count is two lookups (two subqueries: SQLite
/// answers a lone `min` or `max` from the key, both in one SELECT by a scan), where counting
/// the rows would read the whole index. `%_idx` is no measure: a large doclist spans many pages
/// that start no term.
async fn segment_sizes(store: &Store) -> Result<Vec<i64>, StoreError> {
    let mut tx = store.begin(false).await?;
    let mut pages: Vec<(i64,)> = tx
        .all(q!(
            "SELECT COALESCE((SELECT max(rowid) FROM ticket_search_data \
             WHERE rowid BETWEEN (s.segid << 37) + 1 AND (s.segid << 37) + 2147483647) \
             - (SELECT min(rowid) FROM ticket_search_data \
             WHERE rowid BETWEEN (s.segid << 37) + 1 AND (s.segid << 37) + 2147483647) + 1, 0) \
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
    /// module's notes); does nothing on PostgreSQL.
    ///
    /// The first step is FTS5's `merge` with a negative count, which puts every segment into
    /// one merge whatever its size; the rest are `merge` with a positive count, which goes on
    /// with that merge. (A negative count again would start it afresh whenever a write had
    /// added a segment since, rewriting what the last step wrote.) Each step is a write
    /// transaction of its own and writes at least `pages_per_step` pages, more where a term's
    /// documents fill many: it stops only between terms, and the workspace's own token is in
    /// every document. Segments that writes add meanwhile stay out of the merge, to FTS5's own
    /// merging. It ends once none of the segments it began with is left, or after enough
    /// steps for the whole index and a hundred more, or when `go_on` (called between steps,
    /// the place for a pause) answers false.
    ///
    /// SQLite runs on the calling thread: a server calls this off its request workers.
    pub async fn compact_search_index(
        &self,
        pages_per_step: u32,
        mut go_on: impl FnMut() -> bool,
    ) -> Result<SearchIndexCompaction, StoreError> {
        if !matches!(self.pool, Pool::Sqlite(_)) {
            return Ok(SearchIndexCompaction::default());
        }
        let sizes = segment_sizes(self).await?;
        let mut done = SearchIndexCompaction {
            segments_before: sizes.len(),
            segments_after: sizes.len(),
            pages_before: sizes.iter().sum(),
            steps: 0,
            merged: sizes.len() <= 1,
        };
        if !worth_merging(&sizes) {
            return Ok(done);
        }
        let before = segment_ids(self).await?;
        let pages_per_step = i64::from(pages_per_step.max(1));
        let budget = done.pages_before / pages_per_step + 100;
        while i64::from(done.steps) < budget {
            let count = if done.steps == 0 {
                -pages_per_step
            } else {
                pages_per_step
            };
            let mut tx = self.begin(true).await?;
            tx.exec(q!(
                "INSERT INTO ticket_search (ticket_search, rank) VALUES ('merge', $1)",
                count
            ))
            .await?;
            tx.commit().await?;
            done.steps += 1;
            let now = segment_ids(self).await?;
            done.segments_after = now.len();
            if !now.iter().any(|id| before.contains(id)) {
                done.merged = true;
                break;
            }
            if !go_on() {
                break;
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
