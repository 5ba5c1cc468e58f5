//! The searchable fields: each [`Field`] of the event model plus a few that only search has.

use std::fmt;

use mailtrail_event::Field;

/// A field a query can name.
///
/// Every common [`Field`] of the event model is searchable under its short name and its Unified
/// Audit Log aliases (`user`, `UserId`, `upn` …). Search adds fields the model reaches only through
/// nested details: the free text, `MailItemsAccessed` folders, message ids and operation counts, and
/// the mailboxes an event touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchField {
    /// A common field of the event model.
    Common(Field),
    /// `text`: the free text (operation, user, user agent, mailbox, result, folders, message
    /// subjects, parameters, operation and modified properties, application names). Bare words
    /// search it.
    Text,
    /// `op_count`: `OperationCount` of an aggregated `MailItemsAccessed` record.
    OpCount,
    /// `folder`: a folder path a `MailItemsAccessed` record lists, e.g. `\Inbox`.
    Folder,
    /// `message_id`: an `InternetMessageId` a `MailItemsAccessed` (Bind) record lists.
    MessageId,
    /// `touches`: every mailbox an event acted on: the mailbox owner, and the `Identity` or
    /// `Mailbox` parameter of a cmdlet (inbox rules, mailbox and folder permissions, forwarding).
    Touches,
    /// `unread`: what of a record read in part was left unread, and why (`unread:*` finds every
    /// such record; see `AuditEvent::unread`).
    Unread,
}

/// How a field is indexed, which decides what a query can say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    /// A whole value, matched case-insensitively, with wildcards.
    Keyword,
    /// An identifier (session, token, message id …): matched whole and case-insensitively, never
    /// by wildcard. Most are unique to a few events, and as terms they were a third of the index's
    /// work; the index keeps a keyed hash of each instead (see `schema::IdHasher`).
    Id,
    /// Words, matched one by one or as phrases.
    Text,
    /// A signed integer, with comparisons and ranges.
    Int,
    /// An IP address, with CIDR blocks and ranges.
    Ip,
    /// An instant, with comparisons and ranges.
    Time,
    /// `true` or `false`.
    Bool,
}

/// Fields only search knows: `(field, name, aliases)`.
const EXTRA: &[(SearchField, &str, &[&str])] = &[
    (SearchField::Text, "text", &["_all", "any"]),
    (
        SearchField::OpCount,
        "op_count",
        &["OperationCount", "operation_count"],
    ),
    (SearchField::Folder, "folder", &["FolderPath", "path"]),
    (
        SearchField::MessageId,
        "message_id",
        &["InternetMessageId", "msgid"],
    ),
    (SearchField::Touches, "touches", &["target_mailbox"]),
    (SearchField::Unread, "unread", &["read_in_part"]),
];

/// The common fields search indexes, in display order. [`Field`] is non-exhaustive: a field added
/// to the model later is reported as not searchable until it is added here.
const COMMON: &[Field] = &[
    Field::Time,
    Field::RecordId,
    Field::Kind,
    Field::Source,
    Field::Tenant,
    Field::Workload,
    Field::RecordType,
    Field::Operation,
    Field::Result,
    Field::User,
    Field::UserType,
    Field::ClientIp,
    Field::UserAgent,
    Field::AppId,
    Field::ClientAppId,
    Field::Session,
    Field::AadSession,
    Field::Token,
    Field::TokenTenant,
    Field::TokenObject,
    Field::Mailbox,
    Field::LogonType,
    Field::AccessType,
    Field::Throttled,
    Field::Object,
    Field::AppName,
    Field::ErrorCode,
    Field::Country,
    Field::Asn,
];

impl SearchField {
    /// Every searchable field, common fields first.
    pub fn all() -> impl Iterator<Item = SearchField> {
        COMMON
            .iter()
            .map(|f| SearchField::Common(*f))
            .chain(EXTRA.iter().map(|(f, _, _)| *f))
    }

    /// Finds a field by its short name or any alias, case-insensitively.
    pub fn from_name(name: &str) -> Option<SearchField> {
        if let Some(f) = Field::from_name(name) {
            return COMMON.contains(&f).then_some(SearchField::Common(f));
        }
        EXTRA
            .iter()
            .find(|(_, n, aliases)| {
                n.eq_ignore_ascii_case(name) || aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            })
            .map(|(f, _, _)| *f)
    }

    /// The short name, which is also the field's name in the index schema.
    pub fn name(self) -> &'static str {
        match self {
            SearchField::Common(f) => f.name(),
            other => EXTRA
                .iter()
                .find(|(f, _, _)| *f == other)
                .map_or("", |(_, n, _)| n),
        }
    }

    /// How the field is indexed.
    pub(crate) fn kind(self) -> FieldKind {
        match self {
            SearchField::Common(Field::Time) => FieldKind::Time,
            SearchField::Common(Field::ClientIp) => FieldKind::Ip,
            SearchField::Common(Field::Throttled) => FieldKind::Bool,
            SearchField::Common(Field::ErrorCode | Field::Asn) | SearchField::OpCount => {
                FieldKind::Int
            }
            SearchField::Common(Field::RecordId | Field::Session | Field::Token)
            | SearchField::MessageId => FieldKind::Id,
            SearchField::Text => FieldKind::Text,
            _ => FieldKind::Keyword,
        }
    }

    /// Whether `stats --by` can group by this field: it has a column of values per event.
    /// Identifiers unique to one event or one session (record id, session, token, object) have
    /// none, because such a column would cost more than the rest of the index together.
    pub fn groupable(self) -> bool {
        match self {
            SearchField::Common(f) => !matches!(
                f,
                Field::Time
                    | Field::RecordId
                    | Field::Session
                    | Field::AadSession
                    | Field::Token
                    | Field::Object
                    | Field::TokenObject
            ),
            SearchField::OpCount => true,
            SearchField::Text
            | SearchField::Folder
            | SearchField::MessageId
            | SearchField::Touches
            | SearchField::Unread => false,
        }
    }

    /// Whether the field is a keyword with few distinct values, kept only as its column of values
    /// as written: no term per event. A query reads the column's dictionary of values (a few to a
    /// few hundred per segment), picks the values it matches in any letter case and scans the
    /// column for them. Such fields were half the terms of an event and of the index's work
    /// at ingest; a scan of such a column over 10 M events takes about 14 ms. Fields whose values
    /// free text finds ([`WORDS_IN_KEYWORDS`](crate::schema::WORDS_IN_KEYWORDS)) keep their
    /// terms.
    pub(crate) fn column_only(self) -> bool {
        matches!(
            self,
            SearchField::Common(
                Field::Kind
                    | Field::Source
                    | Field::Tenant
                    | Field::Workload
                    | Field::RecordType
                    | Field::UserType
                    | Field::TokenTenant
                    | Field::LogonType
                    | Field::AccessType
                    | Field::Country
            )
        )
    }

    /// Names of every field that [`groupable`](Self::groupable) allows, for error messages.
    pub(crate) fn groupable_names() -> String {
        Self::all()
            .filter(|f| f.groupable())
            .map(SearchField::name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The known field name closest to `name`, for "did you mean" hints.
    pub(crate) fn closest(name: &str) -> Option<&'static str> {
        let name = name.to_ascii_lowercase();
        Self::all()
            .map(SearchField::name)
            .map(|n| (edit_distance(&name, n), n))
            .filter(|(d, n)| *d <= 2.max(n.len() / 3))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }
}

impl fmt::Display for SearchField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Levenshtein distance, for the handful of short names above.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_found_by_its_own_name() {
        for f in SearchField::all() {
            assert_eq!(SearchField::from_name(f.name()), Some(f), "{f}");
        }
    }

    #[test]
    fn ual_names_and_extras_resolve() {
        assert_eq!(
            SearchField::from_name("ClientAppId"),
            Some(SearchField::Common(Field::ClientAppId))
        );
        assert_eq!(
            SearchField::from_name("OperationCount"),
            Some(SearchField::OpCount)
        );
        assert_eq!(
            SearchField::from_name("InternetMessageId"),
            Some(SearchField::MessageId)
        );
        assert_eq!(SearchField::from_name("nope"), None);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = SearchField::all().map(SearchField::name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn closest_suggests_a_near_name() {
        assert_eq!(SearchField::closest("usr"), Some("user"));
        assert_eq!(SearchField::closest("mailbx"), Some("mailbox"));
        assert_eq!(SearchField::closest("zzzzzzzzzz"), None);
    }
}
