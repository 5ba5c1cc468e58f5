//! The search index over stored events: a derived view of the evidence store, rebuildable from it.
//!
//! The evidence store keeps records and proves them; this crate answers questions about them —
//! which events match a query, how many per user and day, what touched one mailbox — in
//! milliseconds over millions of events. Proof and query are different concerns, so the index
//! is a separate [tantivy] index in `STORE/index/` that holds no record bytes and can always be
//! rebuilt from the store's segments. Its answers are store sequence numbers; the store turns
//! them back into records.
//!
//! # Brief overview
//!
//! * [`Query`] parses the Lucene-like query language (`user:*@contoso.com op:MailItemsAccessed
//!   -ip:10.0.0.0/8`, phrases, wildcards, ranges, CIDR blocks, AND/OR/NOT, free text) into a
//!   syntax tree ([`Expr`], [`Clause`]), with located errors ([`QueryError`]).
//! * [`Index`] holds the documents: [`Index::add`] and [`Index::commit`] feed it (or
//!   [`catch_up`] does both from a store; a [`DocumentBuilder`] builds documents on other
//!   threads for [`Index::add_document`]), [`Index::search`] pages hits newest first with stable
//!   [`Cursor`]s, [`Index::stats`] counts by fields and time buckets, [`Index::timeline`] lists
//!   what touched one mailbox, oldest first.
//! * The watermark ties the two together: store records `[0, watermark)` are indexed, published
//!   in the same commit as the documents, so a search never sees a partial batch.
//!
//! # Example
//!
//! ```
//! use mailtrail_event::{AuditEvent, parse_time};
//! use mailtrail_index::{Index, Query, SearchOptions};
//!
//! let store = tempfile::tempdir()?;
//! let mut index = Index::open(store.path())?;
//! for (seq, (user, op)) in [("alice@contoso.com", "MailItemsAccessed"),
//!                           ("bob@contoso.com", "Send"),
//!                           ("carol@fabrikam.com", "MailItemsAccessed")].into_iter().enumerate() {
//!     let event = AuditEvent {
//!         time: parse_time(&format!("2026-01-0{}T10:00:00Z", seq + 1)).unwrap(),
//!         user_id: Some(user.into()),
//!         operation: op.into(),
//!         ..Default::default()
//!     };
//!     index.add(seq as u64, &event)?;
//! }
//! index.commit(3)?;
//!
//! let page = index.search(&Query::parse("op:mailitemsaccessed user:*@contoso.com")?, &SearchOptions::default())?;
//! assert_eq!(page.total, 1);
//! assert_eq!(page.hits[0].seq, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod catch_up;
mod collect;
mod column_query;
mod compile;
mod error;
mod fields;
mod guard;
mod index;
mod query;
mod schema;
mod search;
mod stats;
mod timeline;

pub use crate::catch_up::{CatchUp, catch_up, catch_up_report, reindex};
pub use crate::error::IndexError;
pub use crate::fields::SearchField;
pub use crate::index::{DocumentBuilder, INDEX_DIR, Index, IndexDocument};
pub use crate::query::{
    Clause, Expr, Query, QueryError, QueryErrorKind, WildcardPart, WildcardPattern,
};
pub use crate::search::{Cursor, CursorError, Hit, SearchOptions, SearchPage, Timeline};
pub use crate::stats::{Interval, IntervalError, Stats, StatsRequest, StatsRow};
pub use crate::timeline::TimelineEntry;
