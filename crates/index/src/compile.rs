//! From the syntax tree to tantivy queries.

use std::ops::Bound;
use std::sync::Arc;

use tantivy::Term;
use tantivy::query::{
    AllQuery, AutomatonWeight, BooleanQuery, EmptyQuery, EnableScoring, ExistsQuery, Occur,
    PhraseQuery, Query as TQuery, RangeQuery, RegexQuery, TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy_fst::Automaton;

use crate::column_query::{Accept, ColumnQuery};
use crate::fields::FieldKind;
use crate::guard::SafeSeek;
use crate::query::{Clause, Expr, WildcardPart, WildcardPattern};
use crate::schema::{IndexSchema, KEYWORD_MAX_BYTES, WORDS_IN_KEYWORDS, date, lowercase, truncate};
use crate::{IndexError, SearchField};

/// Finds the store sequence number of a record id: record ids are not in the index (each is
/// unique, and they were a third of its size and time), the store maps them.
pub(crate) type RecordSeq<'a> = &'a dyn Fn(&str) -> Result<Option<u64>, IndexError>;

/// Compiles an expression. Negations become `MustNot` clauses beside an "all documents" clause,
/// because tantivy matches nothing for a query made only of exclusions.
pub(crate) fn compile(
    s: &IndexSchema,
    expr: &Expr,
    ids: RecordSeq<'_>,
) -> Result<Box<dyn TQuery>, IndexError> {
    Ok(match expr {
        Expr::All => Box::new(AllQuery),
        Expr::Clause(c) => clause(s, c, ids)?,
        Expr::And(operands) => {
            let mut clauses = Vec::with_capacity(operands.len() + 1);
            for e in operands {
                match e {
                    Expr::Not(inner) => clauses.push((Occur::MustNot, compile(s, inner, ids)?)),
                    other => clauses.push((Occur::Must, compile(s, other, ids)?)),
                }
            }
            if !clauses.iter().any(|(o, _)| *o == Occur::Must) {
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            Box::new(BooleanQuery::new(clauses))
        }
        Expr::Or(operands) => {
            let mut clauses = Vec::with_capacity(operands.len());
            for e in operands {
                clauses.push((Occur::Should, compile(s, e, ids)?));
            }
            Box::new(BooleanQuery::new(clauses))
        }
        Expr::Not(inner) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(AllQuery) as Box<dyn TQuery>),
            (Occur::MustNot, compile(s, inner, ids)?),
        ])),
    })
}

fn clause(s: &IndexSchema, c: &Clause, ids: RecordSeq<'_>) -> Result<Box<dyn TQuery>, IndexError> {
    const ID: SearchField = SearchField::Common(mailtrail_event::Field::RecordId);
    Ok(match c {
        Clause::Keyword { field: ID, value } => match ids(value)? {
            Some(seq) => Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_u64(s.seq, seq)),
                Bound::Included(Term::from_field_u64(s.seq, seq)),
            )),
            None => Box::new(EmptyQuery),
        },
        // Every event has a record id.
        Clause::Exists { field: ID } => Box::new(AllQuery),
        // Identifiers are matched whole: `*` alone is "has one", which the arms above and below
        // answer for the record id and for the rest.
        Clause::Wildcard { field, pattern } if field.kind() == FieldKind::Id => {
            if pattern.parts() == [WildcardPart::AnyRun] {
                return clause(s, &Clause::Exists { field: *field }, ids);
            }
            return Err(IndexError::IdWildcard {
                field: field.name(),
                pattern: pattern.to_string(),
            });
        }
        // One hash, matched in the column (identifiers are not terms, see `schema::IdHasher`).
        Clause::Keyword { field, value } if field.kind() == FieldKind::Id => {
            let term = Term::from_field_u64(s.field(*field), s.ids.hash(value));
            Box::new(RangeQuery::new(
                Bound::Included(term.clone()),
                Bound::Included(term),
            ))
        }
        // The event's own mailbox is in `mailbox` only (see `schema::mailbox_term_is`).
        Clause::Keyword {
            field: SearchField::Touches,
            ..
        }
        | Clause::Wildcard {
            field: SearchField::Touches,
            ..
        }
        | Clause::Exists {
            field: SearchField::Touches,
        } => {
            let mailbox = on_field(c, SearchField::Common(mailtrail_event::Field::Mailbox));
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, keyword_clause(s, c)?),
                (Occur::Should, clause(s, &mailbox, ids)?),
            ]))
        }
        Clause::Keyword { .. } | Clause::Wildcard { .. } => keyword_clause(s, c)?,
        Clause::Exists { field } => exists(s, *field)?,
        Clause::Words { words } => {
            let f = s.field(SearchField::Text);
            let words: Vec<String> = words.iter().map(|w| lowercase(w).into_owned()).collect();
            let terms: Vec<Term> = words.iter().map(|w| Term::from_field_text(f, w)).collect();
            let text: Box<dyn TQuery> = match terms.as_slice() {
                [] => return Ok(Box::new(EmptyQuery)),
                [one] => Box::new(TermQuery::new(one.clone(), IndexRecordOption::Basic)),
                _ => Box::new(SafeSeek(Box::new(PhraseQuery::new(terms)))),
            };
            let core = words
                .iter()
                .map(|w| ascii_word(w).then(|| regex_syntax::escape(w)))
                .collect::<Option<Vec<_>>>()
                .map(|w| w.join(&format!("{SEPARATOR}+")));
            free_text(s, text, core)?
        }
        Clause::WordWildcard { pattern } => {
            let pattern = pattern.to_lowercase();
            let core = pattern
                .parts()
                .iter()
                .map(|part| match part {
                    WildcardPart::Literal(l) => ascii_word(l).then(|| regex_syntax::escape(l)),
                    WildcardPart::AnyRun => Some("[a-z0-9]*".to_owned()),
                    WildcardPart::AnyChar => Some("[a-z0-9]".to_owned()),
                })
                .collect();
            free_text(s, regex(s, SearchField::Text, &pattern)?, core)?
        }
        Clause::Int { field, from, to } => {
            let f = s.field(*field);
            range(
                from.map(|v| Term::from_field_i64(f, v)),
                to.map(|v| Term::from_field_i64(f, v)),
                || exists(s, *field),
            )?
        }
        Clause::Ip { first, last } => {
            if first > last {
                return Ok(Box::new(EmptyQuery));
            }
            let f = s.field(SearchField::Common(mailtrail_event::Field::ClientIp));
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_ip_addr(f, *first)),
                Bound::Included(Term::from_field_ip_addr(f, *last)),
            ))
        }
        Clause::Time { from, to } => time_range(s, *from, *to),
        Clause::Bool { field, value } => Box::new(ColumnQuery {
            field: *field,
            accept: Accept::Flag(*value),
        }),
    })
}

/// A keyword clause, over another keyword field.
fn on_field(c: &Clause, field: SearchField) -> Clause {
    match c {
        Clause::Keyword { value, .. } => Clause::Keyword {
            field,
            value: value.clone(),
        },
        Clause::Wildcard { pattern, .. } => Clause::Wildcard {
            field,
            pattern: pattern.clone(),
        },
        _ => Clause::Exists { field },
    }
}

/// A value, pattern or presence of a keyword field, matched among its terms, or among its
/// column's values for a field without terms.
fn keyword_clause(s: &IndexSchema, c: &Clause) -> Result<Box<dyn TQuery>, IndexError> {
    Ok(match c {
        Clause::Keyword { field, value } if field.column_only() => Box::new(ColumnQuery {
            field: *field,
            accept: Accept::Value(lowercase(truncate(value, KEYWORD_MAX_BYTES)).into_owned()),
        }),
        Clause::Keyword { field, value } => {
            let value = lowercase(truncate(value, KEYWORD_MAX_BYTES));
            let term = Term::from_field_text(s.field(*field), &value);
            Box::new(TermQuery::new(term, IndexRecordOption::Basic))
        }
        Clause::Wildcard { field, pattern } if field.column_only() => Box::new(ColumnQuery {
            field: *field,
            accept: Accept::Pattern(Arc::new(pattern_regex(pattern)?)),
        }),
        Clause::Wildcard { field, pattern } => regex(s, *field, pattern)?,
        Clause::Exists { field } => exists(s, *field)?,
        _ => Box::new(EmptyQuery),
    })
}

/// Any ASCII character.
const ASCII: &str = r"[\x00-\x7F]";

/// An ASCII character that is not a letter or digit: what separates words in a lower-cased ASCII
/// keyword. Upper-case letters are excluded too, though lower-cased keywords have none.
const SEPARATOR: &str = r"[\x00-/:-@\[-`{-\x7F]";

/// Whether `w` is a word as free text cuts them, in ASCII: letters and digits only.
fn ascii_word(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A free-text query: the text field's `text`, or a value of a [`WORDS_IN_KEYWORDS`] field whose
/// words match `core`, a regular expression over whole lower-cased ASCII words (`None` when the
/// words are not ASCII: such values are in the text field as well). Free text leaves those values
/// to their fields, so their words are found in the fields' dictionaries, whose values are few
/// (operations, users, user agents, folders), and only ever in ASCII terms.
fn free_text(
    s: &IndexSchema,
    text: Box<dyn TQuery>,
    core: Option<String>,
) -> Result<Box<dyn TQuery>, IndexError> {
    let Some(core) = core else { return Ok(text) };
    let re = format!("(?:{ASCII}*{SEPARATOR})?{core}(?:{SEPARATOR}{ASCII}*)?");
    let regex = tantivy_fst::Regex::new(&re).map_err(|e| IndexError::Pattern {
        pattern: core.clone(),
        reason: e.to_string(),
    })?;
    let words = Arc::new(WholeKeyword(regex));
    let mut clauses = vec![(Occur::Should, text)];
    for field in WORDS_IN_KEYWORDS {
        let q = WordsInKeyword {
            field: s.field(field),
            words: Arc::clone(&words),
        };
        clauses.push((Occur::Should, Box::new(q) as Box<dyn TQuery>));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// The terms of one keyword field that a [`WholeKeyword`] matches.
#[derive(Clone, Debug)]
struct WordsInKeyword {
    field: tantivy::schema::Field,
    words: Arc<WholeKeyword>,
}

impl TQuery for WordsInKeyword {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<WholeKeyword>::new(
            self.field,
            Arc::clone(&self.words),
        )))
    }
}

/// A regular expression over keyword terms shorter than [`KEYWORD_MAX_BYTES`]. Longer values are
/// cut at that length in the field, and the word at the cut is not a word of the value; such
/// values are in free text whole.
#[derive(Debug)]
struct WholeKeyword(tantivy_fst::Regex);

impl Automaton for WholeKeyword {
    /// The regular expression's state and the bytes read.
    type State = (<tantivy_fst::Regex as Automaton>::State, usize);

    fn start(&self) -> Self::State {
        (self.0.start(), 0)
    }

    fn is_match(&self, (re, len): &Self::State) -> bool {
        *len < KEYWORD_MAX_BYTES && self.0.is_match(re)
    }

    fn can_match(&self, (re, len): &Self::State) -> bool {
        *len < KEYWORD_MAX_BYTES && self.0.can_match(re)
    }

    fn accept(&self, (re, len): &Self::State, byte: u8) -> Self::State {
        (self.0.accept(re, byte), len + 1)
    }
}

/// A range over a column; both ends open means "has a value".
fn range(
    from: Bound<Term>,
    to: Bound<Term>,
    open: impl FnOnce() -> Result<Box<dyn TQuery>, IndexError>,
) -> Result<Box<dyn TQuery>, IndexError> {
    if matches!((&from, &to), (Bound::Unbounded, Bound::Unbounded)) {
        return open();
    }
    Ok(Box::new(RangeQuery::new(from, to)))
}

/// A time range. Every event has a time, so an open range is every event.
pub(crate) fn time_range(
    s: &IndexSchema,
    from: Bound<mailtrail_event::Timestamp>,
    to: Bound<mailtrail_event::Timestamp>,
) -> Box<dyn TQuery> {
    let f = s.field(SearchField::Common(mailtrail_event::Field::Time));
    let term = |t| Term::from_field_date(f, date(t));
    match (from, to) {
        (Bound::Unbounded, Bound::Unbounded) => Box::new(AllQuery),
        (from, to) => Box::new(RangeQuery::new(from.map(term), to.map(term))),
    }
}

fn regex(
    s: &IndexSchema,
    field: SearchField,
    pattern: &WildcardPattern,
) -> Result<Box<dyn TQuery>, IndexError> {
    let re = pattern_regex(pattern)?;
    Ok(Box::new(RegexQuery::from_regex(re, s.field(field))))
}

/// The regular expression of a wildcard pattern, over lower-cased values.
fn pattern_regex(pattern: &WildcardPattern) -> Result<tantivy_fst::Regex, IndexError> {
    tantivy_fst::Regex::new(&pattern.to_lowercase().to_regex()).map_err(|e| IndexError::Pattern {
        pattern: pattern.to_string(),
        reason: e.to_string(),
    })
}

/// "The field has a value". Columns answer that directly; keyword fields without a column
/// (identifiers) answer it from the term dictionary.
fn exists(s: &IndexSchema, field: SearchField) -> Result<Box<dyn TQuery>, IndexError> {
    match field.kind() {
        FieldKind::Text => Ok(Box::new(AllQuery)),
        FieldKind::Keyword if !field.groupable() => regex(
            s,
            field,
            &WildcardPattern::new(vec![crate::query::WildcardPart::AnyRun]),
        ),
        _ => Ok(Box::new(ExistsQuery::new(field.name().to_owned(), false))),
    }
}
