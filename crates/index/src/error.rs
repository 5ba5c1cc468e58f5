//! What can go wrong with the index, each variant documented by when it happens.

use std::path::PathBuf;

/// An index operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The index directory could not be created or read.
    #[error("cannot use the index directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// tantivy failed: an I/O error or a damaged index. The index is derived, so `mailtrail
    /// reindex` rebuilds it from the store.
    #[error("the index at {path} failed: {source} (run `mailtrail reindex` if it persists)")]
    Tantivy {
        /// The index directory.
        path: PathBuf,
        /// Why.
        source: tantivy::TantivyError,
    },
    /// Another process holds the index's writer lock: an `ingest` or `reindex` is running.
    #[error(
        "the index at {path} is being written by another process (an ingest or reindex); \
         wait for it to finish"
    )]
    Locked {
        /// The index directory.
        path: PathBuf,
    },
    /// The index was built by a version of mailtrail with another index layout.
    #[error(
        "the index at {path} was built by another version of mailtrail ({found}; this one reads \
         {expected}): run `mailtrail reindex`"
    )]
    Outdated {
        /// The index directory.
        path: PathBuf,
        /// The layout found, or what differs.
        found: String,
        /// The layout this version writes.
        expected: &'static str,
    },
    /// [`Index::add`](crate::Index::add) was given a sequence number below the watermark or not
    /// above the previous one: the caller feeds records out of order.
    #[error(
        "record {seq} cannot be indexed: the index expects sequence numbers from {expected} on, in increasing order"
    )]
    OutOfOrder {
        /// The sequence number given.
        seq: u64,
        /// The lowest acceptable one.
        expected: u64,
    },
    /// [`Index::add_document`](crate::Index::add_document) was given a document built for
    /// another index (or for this one before another process created it).
    #[error(
        "a document was built for another index and cannot be added to this one; run `mailtrail reindex` if this index misses records"
    )]
    ForeignDocument,
    /// [`Index::commit`](crate::Index::commit) was given a watermark below a record already added
    /// or below the published watermark.
    #[error("cannot publish watermark {watermark}: records below {required} are already indexed")]
    WatermarkBehind {
        /// The watermark given.
        watermark: u64,
        /// The lowest acceptable one.
        required: u64,
    },
    /// A wildcard compiled to an automaton too large to run.
    #[error("wildcard '{pattern}' is too complex: {reason}")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// Why.
        reason: String,
    },
    /// A wildcard on an identifier field (`id`, `session`, `token`, `message_id` …), built
    /// through the API: identifiers are matched whole. The query parser refuses such wildcards
    /// itself.
    #[error(
        "{field}:{pattern}: {field} is an identifier, matched whole, not by wildcard; give the \
         whole value, or {field}:* for any"
    )]
    IdWildcard {
        /// The field.
        field: &'static str,
        /// The pattern as written.
        pattern: String,
    },
    /// No random key could be drawn for a new index's identifier hashes.
    #[error("cannot draw a random key for the index: {0}")]
    Random(#[source] getrandom::Error),
    /// The store could not be opened to look a record id up.
    #[error("cannot look record ids up in the store: {0}")]
    RecordIds(#[source] mailtrail_store::StoreError),
    /// The store could not be read while catching up.
    #[error("cannot read the store to index it: {0}")]
    Store(#[source] mailtrail_store::StoreError),
    /// `stats --by` named a field without a column of values.
    #[error("cannot group by '{field}'; fields that can be grouped: {groupable}")]
    NotGroupable {
        /// The field.
        field: &'static str,
        /// The fields that can.
        groupable: String,
    },
    /// `stats --by` named more fields than a grouping key holds.
    #[error("stats groups by at most {max} fields, {given} given")]
    TooManyGroups {
        /// Fields given.
        given: usize,
        /// The maximum.
        max: usize,
    },
}

impl IndexError {
    pub(crate) fn tantivy(path: &std::path::Path, source: tantivy::TantivyError) -> IndexError {
        match source {
            tantivy::TantivyError::LockFailure(..) => IndexError::Locked {
                path: path.to_owned(),
            },
            source => IndexError::Tantivy {
                path: path.to_owned(),
                source,
            },
        }
    }
}
