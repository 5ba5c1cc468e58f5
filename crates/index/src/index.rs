//! [`Index`]: the tantivy index in `STORE/index`, its watermark, and the queries it answers.
//!
//! # Invariant
//!
//! Documents are added in increasing sequence order, never below the watermark, and published
//! only by [`Index::commit`], which writes the new watermark in the same tantivy commit (its
//! payload) as the documents. So the published documents are exactly the store records
//! `[0, watermark)` that could be read as events, a crash loses at most the unpublished batch
//! (which `catch_up` indexes again), and a searcher, which only ever sees published segments,
//! never sees a partial batch.

use std::collections::HashSet;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use mailtrail_event::AuditEvent;
use mailtrail_store::{OpenMode, Store};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::UserOperation;
use tantivy::query::{BooleanQuery, Occur, Query as TQuery, RangeQuery};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::collect::{GroupCounts, MAX_GROUP_FIELDS, TopByTime};
use crate::compile::{compile, time_range};
use crate::schema::{IdHasher, IndexSchema};
use crate::search::timestamp;
use crate::{
    Cursor, Hit, IndexError, Query, SearchField, SearchOptions, SearchPage, Stats, StatsRequest,
    StatsRow, Timeline,
};

/// The index's directory inside a store.
pub const INDEX_DIR: &str = "index";

/// The layout this version writes, kept in every commit; a different one means "reindex".
/// Layout 3: term dictionaries are sorted string tables (tantivy's `quickwit` feature) instead of
/// FSTs. Most terms are identifiers (sessions, tokens, message ids) that share no structure an FST
/// could fold, so building FSTs cost a tenth of ingest's CPU and bought nothing. Layout 4: free-text
/// words are lower-cased without the final-sigma rule and keep only letters and digits, as queries
/// lower-case them. Layout 5: identifiers (sessions, tokens, message ids) are keyed hashes in
/// columns rather than terms, which took a third of the indexing work (see `schema::IdHasher`); the
/// key is in every commit's payload. Layout 6: free text leaves out the values that a few keyword
/// fields hold whole (see `schema::WORDS_IN_KEYWORDS`); queries find those words in the fields.
/// Layout 7: message ids and folders also come from the messages that sends, updates, moves and
/// deletes act on (`Item`, `AffectedItems`), not only from `MailItemsAccessed`. Layout 8: keyword
/// fields with few values (workload, record type, logon type …) and flags are columns only,
/// without terms (see `SearchField::column_only`), and `touches` leaves out the event's own
/// mailbox, which `mailbox` holds: 10.8 postings per event instead of 20.1. `unread` names what a
/// record read in part left unread, and free text holds the subjects of the messages an operation
/// acted on.
const LAYOUT: &str = "mailtrail-index/8";

/// Memory the writer may buffer before it flushes a segment. Small segments finalise while
/// documents queue (see [`BATCH`]), so only the last one is finalised with nothing else to do:
/// against 256 MiB, ingest of 506k records takes 6 % less time and of 10 M records 5–12 % less,
/// with a third less memory and an index 2 % larger.
const WRITER_MEMORY: usize = 64 << 20;

/// Documents handed to the writer at once. Its queue holds 10,000 hand-overs, so batches of four
/// let it queue 40,000 documents: enough to keep ingest going while a segment is finalised.
const BATCH: usize = 4;

/// The search index of one evidence store.
///
/// Open it with [`Index::open`]; feed it with [`add`](Index::add) and [`commit`](Index::commit)
/// (or let [`catch_up`](crate::catch_up) do both from the store); ask it with
/// [`search`](Index::search), [`stats`](Index::stats) and [`timeline`](Index::timeline), which
/// return store sequence numbers.
pub struct Index {
    dir: PathBuf,
    index: tantivy::Index,
    schema: IndexSchema,
    reader: IndexReader,
    searcher: Searcher,
    watermark: u64,
    writer: Option<IndexWriter<TantivyDocument>>,
    /// Documents added and not yet handed to the writer.
    batch: Vec<UserOperation<TantivyDocument>>,
    /// The lowest sequence number `add` accepts next.
    next_seq: u64,
    /// The store, opened read-only the first time a query names a record id.
    store: std::sync::OnceLock<Store>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .field("watermark", &self.watermark)
            .field("writing", &self.writer.is_some())
            .finish()
    }
}

/// Builds the documents of one [`Index`] from events, on any thread: see
/// [`Index::document_builder`].
#[derive(Clone)]
pub struct DocumentBuilder(IndexSchema);

impl DocumentBuilder {
    /// The document of `event`, for [`Index::add_document`].
    pub fn build(&self, event: &AuditEvent) -> IndexDocument {
        IndexDocument(self.0.document(event), self.0.ids)
    }
}

impl std::fmt::Debug for DocumentBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocumentBuilder")
    }
}

/// The index document of one event, made by a [`DocumentBuilder`], without its sequence number:
/// [`Index::add_document`] adds that. It also carries the identifier hash it was built with, so
/// that a document built for another index is refused rather than indexed under the wrong hashes.
pub struct IndexDocument(TantivyDocument, IdHasher);

impl std::fmt::Debug for IndexDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexDocument")
    }
}

impl Index {
    /// Opens the index of the store in `store_dir`, creating `store_dir/index` if missing.
    ///
    /// Opening takes no lock: any number of processes may search while one writes. The first
    /// [`add`](Self::add) or [`commit`](Self::commit) takes the writer lock.
    pub fn open(store_dir: &Path) -> Result<Index, IndexError> {
        Index::open_dir(&store_dir.join(INDEX_DIR))
    }

    /// Opens (or creates) an index in exactly this directory.
    pub(crate) fn open_dir(dir: &Path) -> Result<Index, IndexError> {
        std::fs::create_dir_all(dir).map_err(|source| IndexError::Directory {
            path: dir.to_owned(),
            source,
        })?;
        let tv = |e| IndexError::tantivy(dir, e);
        // A fresh index's key; an index with commits has its own, which `reload` reads.
        let schema = IndexSchema::new(IdHasher::random().map_err(IndexError::Random)?);
        let directory = MmapDirectory::open(dir).map_err(|e| tv(e.into()))?;
        let index = tantivy::Index::open_or_create(directory, schema.schema.clone()).map_err(
            |e| match e {
                tantivy::TantivyError::SchemaError(_) => IndexError::Outdated {
                    path: dir.to_owned(),
                    found: "other fields".to_owned(),
                    expected: LAYOUT,
                },
                e => tv(e),
            },
        )?;
        IndexSchema::register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tv)?;
        let searcher = reader.searcher();
        let mut this = Index {
            dir: dir.to_owned(),
            index,
            schema,
            reader,
            searcher,
            watermark: 0,
            writer: None,
            batch: Vec::with_capacity(BATCH),
            store: std::sync::OnceLock::new(),
            next_seq: 0,
        };
        this.reload()?;
        Ok(this)
    }

    /// The directory of the index.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Store records `[0, watermark)` are indexed and published.
    pub fn watermark(&self) -> u64 {
        self.watermark
    }

    /// Picks up what other processes published since this one opened or last reloaded. Pending
    /// documents of this process's own writer are unaffected.
    pub fn reload(&mut self) -> Result<(), IndexError> {
        let tv = |e| IndexError::tantivy(&self.dir, e);
        // Read the commit and reload the searcher until both name the same segments, so the
        // watermark describes exactly what the searcher sees even if a writer commits meanwhile.
        let mut attempts = 0;
        loop {
            let metas = self.index.load_metas().map_err(tv)?;
            self.reader.reload().map_err(tv)?;
            let searcher = self.reader.searcher();
            let committed: HashSet<_> = metas.segments.iter().map(|s| s.id()).collect();
            let seen: HashSet<_> = searcher
                .segment_readers()
                .iter()
                .map(|r| r.segment_id())
                .collect();
            attempts += 1;
            if committed == seen || attempts >= 5 {
                if let Some((watermark, ids)) = parse_payload(&self.dir, metas.payload.as_deref())?
                {
                    self.watermark = watermark;
                    self.schema.ids = ids;
                }
                self.searcher = searcher;
                self.next_seq = self.next_seq.max(self.watermark);
                return Ok(());
            }
        }
    }

    /// Takes the writer lock, once.
    pub(crate) fn ensure_writer(&mut self) -> Result<(), IndexError> {
        if self.writer.is_none() {
            // One indexing thread: ingest keeps the other core busy parsing and storing, and one
            // segment per commit does less work than two (ingest of 506k records: 3 % less time,
            // 9 % smaller index).
            let w = self
                .index
                .writer_with_num_threads(1, WRITER_MEMORY)
                .map_err(|e| IndexError::tantivy(&self.dir, e))?;
            // Only the lock holder publishes, so what it saw before taking the lock may be stale:
            // a commit must build on the latest watermark.
            self.reload()?;
            self.writer = Some(w);
        }
        Ok(())
    }

    /// Adds the event stored at `seq`. Sequence numbers must increase and start at the
    /// watermark or above; the event becomes searchable at the next [`commit`](Self::commit).
    pub fn add(&mut self, seq: u64, event: &AuditEvent) -> Result<(), IndexError> {
        self.ensure_writer()?;
        let document = self.schema.document(event);
        self.add_document(seq, IndexDocument(document, self.schema.ids))
    }

    /// A builder of this index's documents, for building them on other threads (ingest builds
    /// them on the reader's workers). Takes the writer lock, as [`add`](Self::add) does: while it
    /// is held, the identifier hash the documents use cannot change.
    pub fn document_builder(&mut self) -> Result<DocumentBuilder, IndexError> {
        self.ensure_writer()?;
        Ok(DocumentBuilder(self.schema.clone()))
    }

    /// Adds a document built by a [`DocumentBuilder`] of this index for the event stored at
    /// `seq`, as [`add`](Self::add) does.
    pub fn add_document(&mut self, seq: u64, document: IndexDocument) -> Result<(), IndexError> {
        self.ensure_writer()?;
        if seq < self.next_seq {
            return Err(IndexError::OutOfOrder {
                seq,
                expected: self.next_seq,
            });
        }
        let IndexDocument(mut document, ids) = document;
        if ids != self.schema.ids {
            return Err(IndexError::ForeignDocument);
        }
        document.add_u64(self.schema.seq, seq);
        self.batch.push(UserOperation::Add(document));
        self.next_seq = seq + 1;
        if self.batch.len() >= BATCH {
            self.send_batch()?;
        }
        Ok(())
    }

    /// Hands the batched documents to the writer's indexing thread.
    fn send_batch(&mut self) -> Result<(), IndexError> {
        if let Some(w) = &self.writer
            && !self.batch.is_empty()
        {
            w.run(self.batch.drain(..))
                .map_err(|e| IndexError::tantivy(&self.dir, e))?;
        }
        Ok(())
    }

    /// Publishes every added event at once and records that store records `[0, watermark)`
    /// are indexed. `watermark` may exceed the last added sequence number: records that could
    /// not be read as events are counted as indexed (they have nothing to search).
    pub fn commit(&mut self, watermark: u64) -> Result<(), IndexError> {
        self.ensure_writer()?;
        if watermark < self.next_seq {
            return Err(IndexError::WatermarkBehind {
                watermark,
                required: self.next_seq,
            });
        }
        self.send_batch()?;
        if let Some(w) = &mut self.writer {
            let mut prepared = w
                .prepare_commit()
                .map_err(|e| IndexError::tantivy(&self.dir, e))?;
            prepared.set_payload(&payload(watermark, self.schema.ids));
            prepared
                .commit()
                .map_err(|e| IndexError::tantivy(&self.dir, e))?;
        }
        self.next_seq = watermark;
        self.reload()
    }

    /// Commits like [`commit`](Self::commit) while `durable` runs on this thread: the index
    /// writes its new segments (the slow part of a commit, on its own threads) while `durable`
    /// makes the same records durable elsewhere and returns the watermark to publish. The index
    /// publishes only if `durable` succeeds; if it fails, or returns a watermark behind the added
    /// events, the added events are dropped.
    ///
    /// Returns what `durable` returned and, separately, whether the index published.
    pub fn commit_alongside<T, E>(
        &mut self,
        durable: impl FnOnce() -> Result<(T, u64), E>,
    ) -> (Result<T, E>, Result<(), IndexError>) {
        if let Err(e) = self.ensure_writer().and_then(|()| self.send_batch()) {
            return (durable().map(|(t, _)| t), Err(e));
        }
        let Some(writer) = self.writer.as_mut() else {
            return (durable().map(|(t, _)| t), Ok(()));
        };
        let (prepared, durable) = std::thread::scope(|s| {
            let preparing = s.spawn(move || writer.prepare_commit());
            let durable = durable();
            let prepared = preparing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (prepared, durable)
        });
        let tv = |e| IndexError::tantivy(&self.dir, e);
        let mut prepared = match prepared {
            Ok(p) => p,
            Err(e) => return (durable.map(|(t, _)| t), Err(tv(e))),
        };
        let (value, watermark) = match durable {
            Ok(d) => d,
            Err(e) => {
                let _ = prepared.abort();
                self.next_seq = self.watermark;
                return (Err(e), Ok(()));
            }
        };
        if watermark < self.next_seq {
            let err = IndexError::WatermarkBehind {
                watermark,
                required: self.next_seq,
            };
            let _ = prepared.abort();
            self.next_seq = self.watermark;
            return (Ok(value), Err(err));
        }
        prepared.set_payload(&payload(watermark, self.schema.ids));
        if let Err(e) = prepared.commit() {
            return (Ok(value), Err(tv(e)));
        }
        self.next_seq = watermark;
        (Ok(value), self.reload())
    }

    /// Finishes background merges and releases the writer lock. Dropping the index also releases
    /// it; this waits for merges so that the directory is compact when the process exits.
    pub fn close(mut self) -> Result<(), IndexError> {
        if let Some(w) = self.writer.take() {
            w.wait_merging_threads()
                .map_err(|e| IndexError::tantivy(&self.dir, e))?;
        }
        Ok(())
    }

    /// The store sequence number of a record id, as written or in either case. The index lives
    /// inside its store, which maps record ids.
    fn record_seq(&self, id: &str) -> Result<Option<u64>, IndexError> {
        let store = match self.store.get() {
            Some(s) => s,
            None => {
                let dir = self.dir.parent().unwrap_or(&self.dir);
                let s = Store::open(dir, OpenMode::ReadOnly).map_err(IndexError::RecordIds)?;
                self.store.get_or_init(|| s)
            }
        };
        for candidate in [id.to_owned(), id.to_lowercase(), id.to_uppercase()] {
            if let Some(r) = store.get(&candidate).map_err(IndexError::RecordIds)? {
                return Ok(Some(r.seq));
            }
        }
        Ok(None)
    }

    /// The query with the options' time range and tenant applied.
    fn filtered(&self, query: &Query, opts: &SearchOptions) -> Result<Box<dyn TQuery>, IndexError> {
        let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = vec![(
            Occur::Must,
            compile(&self.schema, query.expr(), &|id| self.record_seq(id))?,
        )];
        let from = opts.from.map_or(Bound::Unbounded, Bound::Included);
        let to = opts.to.map_or(Bound::Unbounded, Bound::Excluded);
        if !matches!((from, to), (Bound::Unbounded, Bound::Unbounded)) {
            clauses.push((Occur::Must, time_range(&self.schema, from, to)));
        }
        if let Some(tenant) = &opts.tenant {
            let tenant = crate::Expr::Clause(crate::Clause::Keyword {
                field: SearchField::Common(mailtrail_event::Field::Tenant),
                value: tenant.clone(),
            });
            clauses.push((Occur::Must, compile(&self.schema, &tenant, &|_| Ok(None))?));
        }
        Ok(if clauses.len() == 1 {
            clauses.remove(0).1
        } else {
            Box::new(BooleanQuery::new(clauses))
        })
    }

    /// One page of events matching `query`, newest first (ties by sequence number, newest
    /// first too).
    pub fn search(&self, query: &Query, opts: &SearchOptions) -> Result<SearchPage, IndexError> {
        let mut q = self.filtered(query, opts)?;
        let (skip, after) = match opts.after {
            Some(c) => (0, Some(c)),
            None => (opts.offset, None),
        };
        // A cursor pins the page to what the first page could see.
        let watermark = after.map_or(self.watermark, |c| c.watermark.min(self.watermark));
        if watermark < self.watermark {
            q = Box::new(BooleanQuery::new(vec![
                (Occur::Must, q),
                (
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        Bound::Unbounded,
                        Bound::Excluded(Term::from_field_u64(self.schema.seq, watermark)),
                    )),
                ),
            ]));
        }
        let collector = TopByTime {
            keep: skip.saturating_add(opts.limit),
            newest_first: true,
            after: after.map(|c| (c.time_nanos, c.seq)),
        };
        let top = self
            .searcher
            .search(q.as_ref(), &collector)
            .map_err(|e| IndexError::tantivy(&self.dir, e))?;
        let hits: Vec<Hit> = top
            .keys
            .iter()
            .skip(skip)
            .map(|&(t, seq)| Hit {
                seq,
                time: timestamp(t),
            })
            .collect();
        let shown = (skip + hits.len()) as u64;
        let next = match top.keys.last() {
            Some(&(time_nanos, seq)) if top.remaining > shown && !hits.is_empty() => Some(Cursor {
                time_nanos,
                seq,
                watermark,
            }),
            _ => None,
        };
        Ok(SearchPage {
            hits,
            total: top.total,
            next,
            watermark,
        })
    }

    /// Events that touched `mailbox` (its owner's, or named by a cmdlet as the mailbox acted
    /// on), oldest first: at most `opts.limit`, the earliest ones.
    pub fn timeline(&self, mailbox: &str, opts: &SearchOptions) -> Result<Timeline, IndexError> {
        let query = Query::from_expr(crate::Expr::Clause(crate::Clause::Keyword {
            field: SearchField::Touches,
            value: mailbox.to_owned(),
        }));
        let q = self.filtered(&query, opts)?;
        let collector = TopByTime {
            keep: opts.limit,
            newest_first: false,
            after: None,
        };
        let top = self
            .searcher
            .search(q.as_ref(), &collector)
            .map_err(|e| IndexError::tantivy(&self.dir, e))?;
        Ok(Timeline {
            hits: top
                .keys
                .into_iter()
                .map(|(t, seq)| Hit {
                    seq,
                    time: timestamp(t),
                })
                .collect(),
            total: top.total,
            watermark: self.watermark,
        })
    }

    /// Counts events matching `query` by the requested fields and time buckets.
    pub fn stats(
        &self,
        query: &Query,
        opts: &SearchOptions,
        req: &StatsRequest,
    ) -> Result<Stats, IndexError> {
        if req.by.len() > MAX_GROUP_FIELDS {
            return Err(IndexError::TooManyGroups {
                given: req.by.len(),
                max: MAX_GROUP_FIELDS,
            });
        }
        if let Some(f) = req.by.iter().find(|f| !f.groupable()) {
            return Err(IndexError::NotGroupable {
                field: f.name(),
                groupable: SearchField::groupable_names(),
            });
        }
        let q = self.filtered(query, opts)?;
        let collector = GroupCounts {
            by: req.by.clone(),
            interval: req.interval.map(|i| i.nanos()),
        };
        let groups = self
            .searcher
            .search(q.as_ref(), &collector)
            .map_err(|e| IndexError::tantivy(&self.dir, e))?;
        let mut rows: Vec<StatsRow> = groups
            .into_iter()
            .map(|((bucket, values), count)| StatsRow {
                bucket: bucket.map(timestamp),
                values,
                count,
            })
            .collect();
        rows.sort_by(|a, b| {
            a.bucket
                .cmp(&b.bucket)
                .then(b.count.cmp(&a.count))
                .then_with(|| a.values.cmp(&b.values))
        });
        Ok(Stats {
            by: req.by.clone(),
            total: rows.iter().map(|r| r.count).sum(),
            rows,
            watermark: self.watermark,
        })
    }

    /// How many events are indexed (published).
    pub fn num_events(&self) -> u64 {
        self.searcher.num_docs()
    }
}

/// What a commit records besides its segments: the layout, the watermark and the identifier key.
fn payload(watermark: u64, ids: IdHasher) -> String {
    format!("{LAYOUT} watermark={watermark} ids={}", ids.to_hex())
}

/// Reads [`payload`]; `None` for an index without commits.
fn parse_payload(dir: &Path, payload: Option<&str>) -> Result<Option<(u64, IdHasher)>, IndexError> {
    let Some(p) = payload else { return Ok(None) };
    // Only the layout: the rest holds the identifier key, which has no place in messages.
    let outdated = || IndexError::Outdated {
        path: dir.to_owned(),
        found: p
            .split_ascii_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
        expected: LAYOUT,
    };
    let rest = p.strip_prefix(LAYOUT).ok_or_else(outdated)?;
    let mut watermark = None;
    let mut ids = None;
    for item in rest.split_ascii_whitespace() {
        match item.split_once('=') {
            Some(("watermark", n)) => watermark = n.parse().ok(),
            Some(("ids", key)) => ids = IdHasher::from_hex(key),
            _ => return Err(outdated()),
        }
    }
    watermark.zip(ids).map(Some).ok_or_else(outdated)
}
