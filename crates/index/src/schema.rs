//! The tantivy schema: which field is indexed how, and how an event becomes a document.
//!
//! The index holds no record bytes and stores no field: it answers "which sequence numbers", and
//! the evidence store answers "what do they say". That keeps the index small (the budget is the
//! whole store, segments and index, at most 30 % of the raw NDJSON) and keeps the records in one
//! place. Per kind of field:
//!
//! * keywords: one lower-cased term per value (case-insensitive equality and wildcards over the
//!   term dictionary), no frequencies, positions or norms; a column of the value as written when
//!   `stats --by` can group by it;
//! * free text: words with positions (for phrases), no norms (results are ordered by time, never
//!   by relevance);
//! * identifiers (sessions, tokens, message ids): a column of keyed 64-bit hashes, see
//!   [`IdHasher`];
//! * time, IP, numbers: columns only; ranges and CIDR blocks scan the column.

use std::borrow::Cow;
use std::hash::Hasher;
use std::net::{IpAddr, Ipv6Addr};

use mailtrail_event::{AuditEvent, Field, FieldValue};
use siphasher::sip::SipHasher13;
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field as TField, IndexRecordOption, IpAddrOptions,
    NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    LowerCaser, RawTokenizer, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};
use tantivy::{DateTime, TantivyDocument};

use crate::SearchField;
use crate::fields::FieldKind;

/// Tokenizer of keyword fields: the whole value, lower-cased.
pub(crate) const KEYWORD_TOKENIZER: &str = "mailtrail_keyword";
/// Tokenizer of the free-text field: runs of letters and digits, lower-cased.
pub(crate) const TEXT_TOKENIZER: &str = "mailtrail_text";
/// The column of sequence numbers in the store.
pub(crate) const SEQ: &str = "seq";
/// Keyword values are indexed by their first this-many bytes: longer ones (pathological user
/// agents) would bloat the term dictionary, and tantivy rejects terms over 64 KiB.
pub(crate) const KEYWORD_MAX_BYTES: usize = 1024;

/// The schema and the handle of each field in it.
#[derive(Clone)]
pub(crate) struct IndexSchema {
    pub(crate) schema: Schema,
    pub(crate) seq: TField,
    /// Every searchable field but the record id (looked up in the store), its kind and its
    /// handle, in [`SearchField::all`] order.
    fields: Vec<(SearchField, FieldKind, TField)>,
    /// The hash of identifier fields; its key is the index's own.
    pub(crate) ids: IdHasher,
}

impl IndexSchema {
    pub(crate) fn new(ids: IdHasher) -> IndexSchema {
        let mut b = Schema::builder();
        let seq = b.add_u64_field(SEQ, NumericOptions::default().set_fast());
        let mut fields = Vec::new();
        // Record ids are looked up in the store, which maps them already: in the index they
        // were a unique term per event, a third of its size and indexing time.
        for f in SearchField::all().filter(|f| *f != SearchField::Common(Field::RecordId)) {
            let name = f.name();
            let kind = f.kind();
            let handle = match kind {
                FieldKind::Keyword if f.column_only() => {
                    b.add_text_field(name, TextOptions::default().set_fast("raw"))
                }
                FieldKind::Keyword => {
                    let indexing = TextFieldIndexing::default()
                        .set_tokenizer(KEYWORD_TOKENIZER)
                        .set_index_option(IndexRecordOption::Basic)
                        .set_fieldnorms(false);
                    let mut opts = TextOptions::default().set_indexing_options(indexing);
                    if f.groupable() {
                        // The column keeps the value as written, so `stats` shows it that way.
                        opts = opts.set_fast("raw");
                    }
                    b.add_text_field(name, opts)
                }
                FieldKind::Text => {
                    let indexing = TextFieldIndexing::default()
                        .set_tokenizer(TEXT_TOKENIZER)
                        .set_index_option(IndexRecordOption::WithFreqsAndPositions)
                        .set_fieldnorms(false);
                    b.add_text_field(name, TextOptions::default().set_indexing_options(indexing))
                }
                FieldKind::Id => b.add_u64_field(name, NumericOptions::default().set_fast()),
                FieldKind::Int => b.add_i64_field(name, NumericOptions::default().set_fast()),
                FieldKind::Ip => b.add_ip_addr_field(name, IpAddrOptions::default().set_fast()),
                FieldKind::Time => b.add_date_field(
                    name,
                    DateOptions::default()
                        .set_fast()
                        .set_precision(DateTimePrecision::Nanoseconds),
                ),
                // A column only: an indexed flag would be a term in nearly every event.
                FieldKind::Bool => b.add_bool_field(name, NumericOptions::default().set_fast()),
            };
            fields.push((f, kind, handle));
        }
        IndexSchema {
            schema: b.build(),
            seq,
            fields,
            ids,
        }
    }

    /// The handle of a searchable field. Every [`SearchField`] is in the schema.
    pub(crate) fn field(&self, f: SearchField) -> TField {
        // `new` adds every field `SearchField::all` yields; a miss would be a bug in this file,
        // and the seq field is a harmless stand-in that keeps this total.
        self.fields
            .iter()
            .find(|(g, _, _)| *g == f)
            .map_or(self.seq, |(_, _, h)| *h)
    }

    /// Registers the tokenizers the schema names. tantivy does not persist custom tokenizers, so
    /// every opened index needs this.
    pub(crate) fn register_tokenizers(index: &tantivy::Index) {
        index
            .tokenizers()
            .register(KEYWORD_TOKENIZER, keyword_analyzer());
        index.tokenizers().register(TEXT_TOKENIZER, text_analyzer());
    }

    /// The document for one event, but for its sequence number.
    pub(crate) fn document(&self, ev: &AuditEvent) -> TantivyDocument {
        let mut doc = TantivyDocument::new();
        for &(f, kind, handle) in &self.fields {
            match f {
                SearchField::Common(Field::Time) => doc.add_date(handle, date(ev.time)),
                SearchField::Common(Field::ClientIp) => {
                    if let Some(ip) = ev.client_ip {
                        doc.add_ip_addr(handle, mapped(ip));
                    }
                }
                SearchField::Common(common) => match common.value(ev) {
                    Some(FieldValue::Text(s)) if !s.is_empty() => {
                        self.add_whole(&mut doc, kind, handle, &s)
                    }
                    Some(FieldValue::Int(n)) => doc.add_i64(handle, n),
                    Some(FieldValue::Bool(b)) => doc.add_bool(handle, b),
                    _ => {}
                },
                SearchField::OpCount => {
                    if let Some(n) = ev.mail_access.as_ref().and_then(|m| m.operation_count) {
                        doc.add_i64(handle, i64::try_from(n).unwrap_or(i64::MAX));
                    }
                }
                SearchField::Folder => {
                    for path in folders(ev) {
                        doc.add_text(handle, truncate(path, KEYWORD_MAX_BYTES));
                    }
                }
                SearchField::MessageId => {
                    for id in ev.message_ids() {
                        self.add_whole(&mut doc, kind, handle, id);
                    }
                }
                SearchField::Touches => {
                    for m in touched_mailboxes(ev)
                        .iter()
                        .filter(|m| !mailbox_term_is(ev, m))
                    {
                        doc.add_text(handle, truncate(m, KEYWORD_MAX_BYTES));
                    }
                }
                SearchField::Unread => {
                    for part in &ev.unread {
                        doc.add_text(handle, truncate(part, KEYWORD_MAX_BYTES));
                    }
                }
                SearchField::Text => {
                    for text in free_text(ev) {
                        doc.add_text(handle, text);
                    }
                }
            }
        }
        doc
    }

    /// Adds a whole value of a keyword or identifier field.
    fn add_whole(&self, doc: &mut TantivyDocument, kind: FieldKind, handle: TField, value: &str) {
        if kind == FieldKind::Id {
            doc.add_u64(handle, self.ids.hash(value));
        } else {
            doc.add_text(handle, truncate(value, KEYWORD_MAX_BYTES));
        }
    }
}

/// The hash the index keeps of an identifier: SipHash-1-3 of the value lower-cased, under a key
/// drawn at random when the index is created and kept in its commits.
///
/// Keyed, because whoever writes a record chooses some of its identifiers (a sender picks the
/// `InternetMessageId` of a message): without the key nobody can make one identifier's hash
/// equal another's, and a search for a victim's message can never be made to return the
/// attacker's. 64 bits, so that distinct identifiers collide by chance with odds of about
/// n² / 2⁶⁵: one in 400,000 for a store of 10 million.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdHasher {
    key: [u8; 16],
}

impl IdHasher {
    /// A hasher under a fresh random key.
    pub(crate) fn random() -> Result<IdHasher, getrandom::Error> {
        let mut key = [0; 16];
        getrandom::fill(&mut key)?;
        Ok(IdHasher { key })
    }

    /// The key as 32 hexadecimal digits, as commits keep it.
    pub(crate) fn to_hex(self) -> String {
        self.key.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads a key written by [`to_hex`](Self::to_hex).
    pub(crate) fn from_hex(hex: &str) -> Option<IdHasher> {
        if hex.len() != 32 || !hex.is_ascii() {
            return None;
        }
        let mut key = [0; 16];
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(IdHasher { key })
    }

    /// The hash of `value`, the same in any letter case.
    pub(crate) fn hash(self, value: &str) -> u64 {
        let mut h = SipHasher13::new_with_key(&self.key);
        if value.is_ascii() {
            // Most identifiers: lower-cased on the stack, a chunk at a time.
            let mut buf = [0u8; 64];
            for chunk in value.as_bytes().chunks(buf.len()) {
                let lower = &mut buf[..chunk.len()];
                lower.copy_from_slice(chunk);
                lower.make_ascii_lowercase();
                h.write(lower);
            }
        } else {
            h.write(lowercase(value).as_bytes());
        }
        h.finish()
    }
}

impl std::fmt::Debug for IdHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdHasher(..)")
    }
}

pub(crate) fn keyword_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build()
}

pub(crate) fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(WordLowerCaser)
        .build()
}

/// Lower-cases one word of free text (a run of letters and digits) as the index does: character by
/// character, without the final-sigma rule, keeping only letters and digits. A few capitals
/// lower-case to a letter and a combining mark (`İ` to `i̇`); kept, the mark would split the word
/// in two when the query is read back.
pub(crate) fn lowercase_word(word: &str, out: &mut String) {
    out.clear();
    if word.is_ascii() {
        out.push_str(word);
        out.make_ascii_lowercase();
    } else {
        out.extend(
            word.chars()
                .flat_map(char::to_lowercase)
                .filter(|c| c.is_alphanumeric()),
        );
    }
}

/// The token filter of [`lowercase_word`].
#[derive(Clone)]
struct WordLowerCaser;

impl TokenFilter for WordLowerCaser {
    type Tokenizer<T: Tokenizer> = WordLowerCaserFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordLowerCaserFilter<T> {
        WordLowerCaserFilter {
            tokenizer,
            buffer: String::new(),
        }
    }
}

#[derive(Clone)]
struct WordLowerCaserFilter<T> {
    tokenizer: T,
    buffer: String,
}

impl<T: Tokenizer> Tokenizer for WordLowerCaserFilter<T> {
    type TokenStream<'a> = WordLowerCaserStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordLowerCaserStream {
            tail: self.tokenizer.token_stream(text),
            buffer: &mut self.buffer,
        }
    }
}

struct WordLowerCaserStream<'a, T> {
    tail: T,
    buffer: &'a mut String,
}

impl<T: TokenStream> TokenStream for WordLowerCaserStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if token.text.is_ascii() {
            token.text.make_ascii_lowercase();
        } else {
            lowercase_word(&token.text, self.buffer);
            std::mem::swap(&mut token.text, self.buffer);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Lower-cases the way the index does: character by character (no final-sigma rule), so a
/// query value and an indexed value meet.
pub(crate) fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().flat_map(char::to_lowercase).collect())
}

/// The first `max` bytes of `s`, cut at a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An instant as tantivy stores it: nanoseconds, clamped to what an `i64` holds (years
/// 1677–2262, far beyond any audit record).
pub(crate) fn date(t: mailtrail_event::Timestamp) -> DateTime {
    let nanos = t
        .as_nanosecond()
        .clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    DateTime::from_timestamp_nanos(nanos as i64)
}

/// IPv4 as IPv4-mapped IPv6, so one ordered column holds both.
pub(crate) fn mapped(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The folders a record names: those `MailItemsAccessed` read, and those the messages of
/// another mailbox operation were in.
fn folders(ev: &AuditEvent) -> impl Iterator<Item = &str> {
    ev.mail_access
        .iter()
        .flat_map(|m| m.folders.iter())
        .filter_map(|f| f.path.as_deref())
        .chain(ev.items.iter().filter_map(|i| i.folder.as_deref()))
        .filter(|p| !p.is_empty())
}

/// Every mailbox an event acted on, lower-cased and without repeats: its mailbox, and the
/// mailbox named by an `Identity` or `Mailbox` cmdlet parameter. Exchange writes those as
/// `alice@contoso.com`, `alice@contoso.com\RuleName` (inbox rules) or
/// `alice@contoso.com:\Inbox` (folder permissions); the part before the separator is the mailbox.
pub(crate) fn touched_mailboxes(ev: &AuditEvent) -> Vec<Cow<'_, str>> {
    fn push<'a>(out: &mut Vec<Cow<'a, str>>, s: &'a str) {
        let s = s.trim();
        if !s.is_empty() {
            let s = lowercase(s);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(m) = ev.mailbox() {
        push(&mut out, m);
    }
    for nv in &ev.parameters {
        if nv.name.eq_ignore_ascii_case("Identity") || nv.name.eq_ignore_ascii_case("Mailbox") {
            let v = nv.value.as_str();
            let end = v.find(":\\").or_else(|| v.find('\\')).unwrap_or(v.len());
            push(&mut out, &v[..end]);
        }
    }
    out
}

/// Whether the `mailbox` field holds `touched` (lower-cased) as its term: then `touches` leaves it
/// out, and a `touches` query asks both fields (see `compile`). That is the case of nearly every
/// mailbox event's own mailbox, where the term would only repeat the mailbox's; one written with
/// blanks around it, or with capitals outside ASCII, stays in `touches`.
fn mailbox_term_is(ev: &AuditEvent, touched: &str) -> bool {
    ev.mailbox()
        .is_some_and(|m| m.eq_ignore_ascii_case(touched))
}

/// Keyword fields whose values free text leaves to them: a free-text query reads these values'
/// words from the field's own dictionary (see `compile::free_text`), where the value is whole and
/// lower-cased. They are most of the words of a typical record (the operation, the user, the user
/// agent, the folders of a mail read): on simulated UAL the text field holds 2.1 words per record
/// instead of 15.8.
pub(crate) const WORDS_IN_KEYWORDS: [SearchField; 7] = [
    SearchField::Common(Field::Operation),
    SearchField::Common(Field::Result),
    SearchField::Common(Field::User),
    SearchField::Common(Field::UserAgent),
    SearchField::Common(Field::Mailbox),
    SearchField::Common(Field::AppName),
    SearchField::Folder,
];

/// Whether a value of a [`WORDS_IN_KEYWORDS`] field can be left out of free text: in ASCII the
/// field's lower-casing and free text's agree letter for letter, and under the keyword limit the
/// field holds the whole value. Other values stay in free text as well.
fn words_in_keyword(value: &str) -> bool {
    value.is_ascii() && value.len() < KEYWORD_MAX_BYTES
}

/// The values free text indexes, each its own value so that a phrase never spans two of them,
/// each once: every text the record holds but identifiers, less the values its
/// [`WORDS_IN_KEYWORDS`] fields hold (see [`words_in_keyword`]).
pub(crate) fn free_text(ev: &AuditEvent) -> Vec<&str> {
    // The values of the WORDS_IN_KEYWORDS fields, as `Field::value` and `folders` read them.
    let sign_in_app = ev
        .sign_in
        .as_deref()
        .and_then(|s| s.app_display_name.as_deref());
    let keyword_values: Vec<&str> = [
        Some(ev.operation.as_str()),
        ev.result_status.as_deref(),
        ev.user_id.as_deref(),
        ev.user_agent.as_deref(),
        ev.mailbox(),
        sign_in_app,
    ]
    .into_iter()
    .flatten()
    .chain(folders(ev))
    .filter(|v| words_in_keyword(v))
    .collect();

    let mut out: Vec<&str> = vec![ev.operation.as_str()];
    let opt = [
        ev.user_id.as_deref(),
        ev.user_agent.as_deref(),
        ev.mailbox_owner_upn.as_deref(),
        ev.result_status.as_deref(),
    ];
    out.extend(opt.into_iter().flatten());
    out.extend(folders(ev));
    // The subjects of the messages a send, update, move or delete acted on.
    out.extend(ev.items.iter().filter_map(|i| i.subject.as_deref()));
    for nv in ev
        .parameters
        .iter()
        .chain(&ev.operation_properties)
        .chain(&ev.extended_properties)
        .chain(&ev.modified_properties)
    {
        out.push(&nv.name);
        out.push(&nv.value);
    }
    if let Some(s) = ev.sign_in.as_deref() {
        let opt = [
            s.app_display_name.as_deref(),
            s.resource_display_name.as_deref(),
            s.user_display_name.as_deref(),
            s.failure_reason.as_deref(),
        ];
        out.extend(opt.into_iter().flatten());
    }
    if let Some(d) = ev.directory.as_deref() {
        out.extend(d.initiated_by_app_name.as_deref());
        for t in &d.targets {
            out.extend(t.display_name.as_deref());
            out.extend(t.user_principal_name.as_deref());
        }
    }
    // A value met twice (the user agent in its field and in ExtendedProperties, the user as their
    // own mailbox's owner) would only add the same words again. Term matching and phrases within
    // one value are unchanged.
    let mut unique = Vec::with_capacity(out.len());
    for s in out {
        if !s.is_empty() && !unique.contains(&s) && !keyword_values.contains(&s) {
            unique.push(s);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailtrail_event::NameValue;

    #[test]
    fn touched_mailboxes_come_from_the_owner_and_cmdlet_targets() {
        let ev = AuditEvent {
            workload: Some("Exchange".into()),
            user_id: Some("Admin@contoso.com".into()),
            operation: "New-InboxRule".into(),
            parameters: vec![
                NameValue {
                    name: "Mailbox".into(),
                    value: "Bob@contoso.com\\Forward all".into(),
                },
                NameValue {
                    name: "Identity".into(),
                    value: "carol@contoso.com:\\Inbox".into(),
                },
                NameValue {
                    name: "ForwardTo".into(),
                    value: "x@evil.example".into(),
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            touched_mailboxes(&ev),
            ["admin@contoso.com", "bob@contoso.com", "carol@contoso.com"]
        );
    }

    #[test]
    fn free_text_leaves_ascii_keyword_values_to_their_fields() {
        let long_agent = format!("Mozilla/5.0 {}", "x".repeat(KEYWORD_MAX_BYTES));
        let ev = AuditEvent {
            workload: Some("Exchange".into()),
            operation: "New-InboxRule".into(),
            user_id: Some("Ünal@contoso.com".into()),
            mailbox_owner_upn: Some("a@contoso.com".into()),
            user_agent: Some("Mozilla/5.0 (Windows NT 10.0)".into()),
            parameters: vec![
                NameValue {
                    name: "ForwardTo".into(),
                    value: "x@evil.example".into(),
                },
                NameValue {
                    name: "Identity".into(),
                    value: "a@contoso.com".into(),
                },
            ],
            extended_properties: vec![NameValue {
                name: "UserAgent".into(),
                value: "Mozilla/5.0 (Windows NT 10.0)".into(),
            }],
            ..Default::default()
        };
        // The operation, the mailbox and the user agent are in their keyword fields, wherever
        // else they appear; the user is not ASCII, so free text keeps it.
        assert_eq!(
            free_text(&ev),
            [
                "Ünal@contoso.com",
                "ForwardTo",
                "x@evil.example",
                "Identity",
                "UserAgent"
            ]
        );
        // A value the keyword field holds only in part stays in free text.
        let ev = AuditEvent {
            user_agent: Some(long_agent.clone()),
            ..ev
        };
        assert!(free_text(&ev).contains(&long_agent.as_str()));
    }

    #[test]
    fn free_text_words_are_lower_cased_as_queries_lower_case_them() {
        let mut analyzer = text_analyzer();
        let mut stream = analyzer.token_stream("İstanbul ΟΔΟΣ Mail");
        let mut indexed = Vec::new();
        while stream.advance() {
            indexed.push(stream.token().text.clone());
        }
        assert_eq!(indexed, ["istanbul", "οδοσ", "mail"]);
        let query = crate::Query::parse("\"İstanbul ΟΔΟΣ Mail\"").unwrap();
        assert_eq!(query.expr().to_string(), "text:\"istanbul οδοσ mail\"");
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("aéb", 3), "aé");
    }

    #[test]
    fn every_search_field_but_the_record_id_has_its_own_handle() {
        let s = IndexSchema::new(IdHasher::random().unwrap());
        let id = SearchField::Common(Field::RecordId);
        assert_eq!(s.field(id), s.seq, "record ids are looked up in the store");
        let mut handles: Vec<_> = SearchField::all()
            .filter(|f| *f != id)
            .map(|f| s.field(f))
            .collect();
        handles.push(s.seq);
        let n = handles.len();
        handles.sort();
        handles.dedup();
        assert_eq!(handles.len(), n);
    }

    #[test]
    fn identifier_hashes_ignore_case_and_depend_on_the_key() {
        let a = IdHasher::random().unwrap();
        let b = IdHasher::random().unwrap();
        let long = format!("<{}@EURPRD.PROD.OUTLOOK.COM>", "AbCdEf0123".repeat(20));
        assert_eq!(a.hash(&long), a.hash(&long.to_lowercase()));
        assert_eq!(a.hash("ÜNAL-Session"), a.hash("ünal-session"));
        assert_ne!(a.hash(&long), a.hash(&long[1..]));
        assert_ne!(a.hash(&long), b.hash(&long));
        // Hashing in chunks on the stack is the same as hashing the lower-cased value at once.
        let mut whole = SipHasher13::new_with_key(&a.key);
        whole.write(long.to_lowercase().as_bytes());
        assert_eq!(a.hash(&long), whole.finish());
    }

    #[test]
    fn identifier_keys_round_trip_through_hex() {
        let a = IdHasher::random().unwrap();
        assert_eq!(IdHasher::from_hex(&a.to_hex()), Some(a));
        assert_eq!(IdHasher::from_hex("00"), None);
        assert_eq!(IdHasher::from_hex(&"zz".repeat(16)), None);
        assert_eq!(IdHasher::from_hex(&"é".repeat(16)), None);
    }
}
