//! The query language: its syntax tree, its errors, and [`Query::parse`].
//!
//! The grammar is written out in `docs/search.md`; in short:
//!
//! ```text
//! query    := or? EOF                      (empty: every event)
//! or       := and ("OR" and)*
//! and      := unary (["AND"] unary)*        (juxtaposition means AND)
//! unary    := ("NOT" | "-" | "+") unary | primary
//! primary  := "(" or ")" | [FIELD ":"] value
//! value    := "(" or ")"                    (FIELD applies inside)
//!           | '"' phrase '"' | WORD         (WORD may hold * and ? wildcards, \ escapes)
//!           | ("[" | "{") bound "TO" bound ("]" | "}")
//!           | (">" | ">=" | "<" | "<=") bound
//! ```

mod parser;

use std::fmt;
use std::net::Ipv6Addr;
use std::ops::Bound;
use std::str::FromStr;

use mailtrail_event::Timestamp;

use crate::SearchField;

/// A parsed query: what to match, independent of any index.
///
/// ```
/// use mailtrail_index::Query;
///
/// let q = Query::parse("user:*@contoso.com op:MailItemsAccessed -ip:10.0.0.0/8").unwrap();
/// assert_eq!(q.source(), "user:*@contoso.com op:MailItemsAccessed -ip:10.0.0.0/8");
///
/// let err = Query::parse("(user:alice OR op:Send))").unwrap_err();
/// assert_eq!(err.to_string(), "unexpected ')' at column 24");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    source: String,
    expr: Expr,
}

impl Query {
    /// Parses the query language. An empty or all-blank query matches every event.
    pub fn parse(source: &str) -> Result<Query, QueryError> {
        Ok(Query {
            source: source.to_owned(),
            expr: parser::parse(source)?,
        })
    }

    /// A query that matches every event.
    pub fn all() -> Query {
        Query {
            source: String::new(),
            expr: Expr::All,
        }
    }

    /// A query for one expression, e.g. one built by a program rather than typed.
    pub fn from_expr(expr: Expr) -> Query {
        Query {
            source: expr.to_string(),
            expr,
        }
    }

    /// The text the query was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

impl FromStr for Query {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Query::parse(s)
    }
}

/// A node of the syntax tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Every event.
    All,
    /// One condition on one field.
    Clause(Clause),
    /// Every operand matches.
    And(Vec<Expr>),
    /// At least one operand matches.
    Or(Vec<Expr>),
    /// The operand does not match.
    Not(Box<Expr>),
}

/// One condition on one field. Values are as typed (case is kept); matching ignores case.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// A keyword field equals a value, ignoring case.
    Keyword {
        /// The field.
        field: SearchField,
        /// The value, already put in the field's canonical spelling (`record_type:50` becomes
        /// `ExchangeItemAggregated`, `user_type:5` becomes `Application`).
        value: String,
    },
    /// A keyword field matches a pattern where `*` is any run of characters and `?` one character.
    Wildcard {
        /// The field.
        field: SearchField,
        /// The pattern; `*` and `?` are wildcards, every other character is literal.
        pattern: WildcardPattern,
    },
    /// The field has a value.
    Exists {
        /// The field.
        field: SearchField,
    },
    /// Free text: these words, next to each other in this order (one word is the common case).
    Words {
        /// The words, as the text tokenizer cut them (lower-case letters and digits).
        words: Vec<String>,
    },
    /// Free text: one word that matches a wildcard pattern.
    WordWildcard {
        /// The pattern, over lower-case letters and digits.
        pattern: WildcardPattern,
    },
    /// A number in a range.
    Int {
        /// The field.
        field: SearchField,
        /// Lower bound.
        from: Bound<i64>,
        /// Upper bound.
        to: Bound<i64>,
    },
    /// An IP address in an inclusive range (a CIDR block is one). IPv4 addresses are written as
    /// IPv4-mapped IPv6 (`::ffff:a.b.c.d`), which keeps every address in one ordered space.
    Ip {
        /// First address.
        first: Ipv6Addr,
        /// Last address.
        last: Ipv6Addr,
    },
    /// A time in a range.
    Time {
        /// Lower bound.
        from: Bound<Timestamp>,
        /// Upper bound.
        to: Bound<Timestamp>,
    },
    /// A boolean field has this value.
    Bool {
        /// The field.
        field: SearchField,
        /// The value.
        value: bool,
    },
}

/// A wildcard pattern: literal text with `*` (any run of characters) and `?` (one character).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WildcardPattern {
    parts: Vec<WildcardPart>,
}

/// One piece of a [`WildcardPattern`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WildcardPart {
    /// Literal text.
    Literal(String),
    /// `*`: any run of characters, empty included.
    AnyRun,
    /// `?`: exactly one character.
    AnyChar,
}

impl WildcardPattern {
    pub(crate) fn new(parts: Vec<WildcardPart>) -> WildcardPattern {
        WildcardPattern { parts }
    }

    /// The pieces, in order.
    pub fn parts(&self) -> &[WildcardPart] {
        &self.parts
    }

    /// Whether `text` matches the whole pattern (case-sensitively; callers lower-case both).
    pub fn matches(&self, text: &str) -> bool {
        fn go(parts: &[WildcardPart], text: &str) -> bool {
            match parts.split_first() {
                None => text.is_empty(),
                Some((WildcardPart::Literal(l), rest)) => {
                    text.strip_prefix(l.as_str()).is_some_and(|t| go(rest, t))
                }
                Some((WildcardPart::AnyChar, rest)) => {
                    let mut chars = text.chars();
                    chars.next().is_some() && go(rest, chars.as_str())
                }
                Some((WildcardPart::AnyRun, rest)) => text
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain(std::iter::once(text.len()))
                    .any(|i| go(rest, &text[i..])),
            }
        }
        go(&self.parts, text)
    }

    /// The same pattern with its literal text lower-cased.
    pub fn to_lowercase(&self) -> WildcardPattern {
        WildcardPattern {
            parts: self
                .parts
                .iter()
                .map(|p| match p {
                    WildcardPart::Literal(l) => WildcardPart::Literal(l.to_lowercase()),
                    other => other.clone(),
                })
                .collect(),
        }
    }

    /// A regular expression matching exactly the strings the pattern matches.
    pub(crate) fn to_regex(&self) -> String {
        let mut re = String::new();
        for p in &self.parts {
            match p {
                WildcardPart::Literal(l) => re.push_str(&regex_syntax::escape(l)),
                WildcardPart::AnyRun => re.push_str("(?s:.)*"),
                WildcardPart::AnyChar => re.push_str("(?s:.)"),
            }
        }
        re
    }
}

impl fmt::Display for WildcardPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                WildcardPart::Literal(l) => write_escaped(f, l)?,
                WildcardPart::AnyRun => f.write_str("*")?,
                WildcardPart::AnyChar => f.write_str("?")?,
            }
        }
        Ok(())
    }
}

/// Writes a value so that the parser reads it back as the same literal text.
fn write_escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    for c in s.chars() {
        if parser::is_special(c) || c.is_whitespace() {
            write!(f, "\\{c}")?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

/// Prints the expression back in the query language, in a canonical form: explicit AND/OR, each
/// clause with its field, parentheses only where needed, so that the text parses back to the
/// same tree without nesting deeper than the original.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(self, f, Context::Top)
    }
}

/// Where an expression is printed, which decides whether it needs parentheses.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Top,
    InAnd,
    InOr,
    InNot,
}

fn write_expr(e: &Expr, f: &mut fmt::Formatter<'_>, ctx: Context) -> fmt::Result {
    let list = |f: &mut fmt::Formatter<'_>, v: &[Expr], op: &str, inner: Context, parens: bool| {
        if parens {
            f.write_str("(")?;
        }
        for (i, e) in v.iter().enumerate() {
            if i > 0 {
                f.write_str(op)?;
            }
            write_expr(e, f, inner)?;
        }
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    };
    match e {
        Expr::All => f.write_str("*"),
        Expr::Clause(c) => write!(f, "{c}"),
        Expr::And(v) => list(
            f,
            v,
            " AND ",
            Context::InAnd,
            matches!(ctx, Context::InAnd | Context::InNot),
        ),
        Expr::Or(v) => list(f, v, " OR ", Context::InOr, ctx != Context::Top),
        Expr::Not(inner) => {
            f.write_str("NOT ")?;
            write_expr(inner, f, Context::InNot)
        }
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn bound<T: fmt::Display>(
            f: &mut fmt::Formatter<'_>,
            from: &Bound<T>,
            to: &Bound<T>,
        ) -> fmt::Result {
            match from {
                Bound::Included(v) => write!(f, "[{v}")?,
                Bound::Excluded(v) => write!(f, "{{{v}")?,
                Bound::Unbounded => f.write_str("[*")?,
            }
            f.write_str(" TO ")?;
            match to {
                Bound::Included(v) => write!(f, "{v}]"),
                Bound::Excluded(v) => write!(f, "{v}}}"),
                Bound::Unbounded => f.write_str("*]"),
            }
        }
        match self {
            Clause::Keyword { field, value } => {
                write!(f, "{field}:\"")?;
                for c in value.chars() {
                    if c == '"' || c == '\\' {
                        write!(f, "\\{c}")?;
                    } else {
                        write!(f, "{c}")?;
                    }
                }
                f.write_str("\"")
            }
            Clause::Wildcard { field, pattern } => write!(f, "{field}:{pattern}"),
            Clause::Exists { field } => write!(f, "{field}:*"),
            Clause::Words { words } => write!(f, "text:\"{}\"", words.join(" ")),
            Clause::WordWildcard { pattern } => write!(f, "text:{pattern}"),
            Clause::Int { field, from, to } => {
                write!(f, "{field}:")?;
                bound(f, from, to)
            }
            Clause::Ip { first, last } => {
                f.write_str("ip:")?;
                bound(
                    f,
                    &Bound::Included(display_ip(*first)),
                    &Bound::Included(display_ip(*last)),
                )
            }
            Clause::Time { from, to } => {
                f.write_str("time:")?;
                bound(f, from, to)
            }
            Clause::Bool { field, value } => write!(f, "{field}:{value}"),
        }
    }
}

/// IPv4-mapped addresses print as IPv4.
fn display_ip(ip: Ipv6Addr) -> std::net::IpAddr {
    match ip.to_ipv4_mapped() {
        Some(v4) => std::net::IpAddr::V4(v4),
        None => std::net::IpAddr::V6(ip),
    }
}

/// A query that could not be parsed: what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at column {column}")]
pub struct QueryError {
    /// 1-based column (in characters) where the problem starts.
    pub column: usize,
    /// What is wrong.
    pub kind: QueryErrorKind,
}

/// What is wrong with a query.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryErrorKind {
    /// A character that cannot start or continue anything here, such as a stray `)`.
    #[error("unexpected '{0}'")]
    Unexpected(char),
    /// `(` without its `)`.
    #[error("missing ')' for the '(' opened")]
    UnclosedParen,
    /// `"` without its closing `"`.
    #[error("unterminated phrase: add a closing '\"' to the phrase starting")]
    UnterminatedPhrase,
    /// `\` as the last character.
    #[error("dangling '\\' (escape what?)")]
    DanglingEscape,
    /// `AND`, `OR`, `NOT` or `-` with nothing to apply to.
    #[error("expected a term after '{0}'")]
    MissingOperand(&'static str),
    /// `field:` with no value.
    #[error("missing value after '{0}:'")]
    MissingValue(String),
    /// A field name that no field has.
    #[error("unknown field '{name}'{}", hint(.suggestion))]
    UnknownField {
        /// The name as typed.
        name: String,
        /// The closest known field name, if one is close.
        suggestion: Option<&'static str>,
    },
    /// A value the field cannot hold (`op_count:many`, `ip:999.1.1.1`).
    #[error("'{value}' is not {expected} (field '{field}')")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value as typed.
        value: String,
        /// What the field wants, e.g. "an IP address or CIDR block".
        expected: &'static str,
    },
    /// A range or comparison on a field that has no order.
    #[error(
        "field '{0}' takes no range or comparison (ranges work on time, ip, op_count, error_code and asn)"
    )]
    RangeNotSupported(&'static str),
    /// A wildcard on a field that has no text.
    #[error("field '{0}' takes no wildcard")]
    WildcardNotSupported(&'static str),
    /// A wildcard inside an identifier (`session:abc*`): identifiers are matched whole.
    #[error(
        "field '{0}' holds identifiers, matched whole: give the whole value, or '{0}:*' for any"
    )]
    WholeIdentifier(&'static str),
    /// A phrase on a field that is not text.
    #[error("field '{0}' takes no phrase")]
    PhraseNotSupported(&'static str),
    /// A free-text wildcard that spans more than one word.
    #[error(
        "free-text wildcards match single words; '{0}' has punctuation (search a field instead, e.g. user:*@contoso.com)"
    )]
    WildcardSpansWords(String),
    /// Free text with nothing to search for, such as `@@`.
    #[error("'{0}' has no letters or digits to search for")]
    NoWords(String),
    /// A range without `TO` or without its closing bracket.
    #[error("malformed range: expected {0}")]
    MalformedRange(&'static str),
    /// Parentheses or negations nested deeper than the parser allows.
    #[error("query nests deeper than {0} levels")]
    TooDeep(usize),
}

fn hint(s: &Option<&'static str>) -> String {
    match s {
        Some(n) => format!(" (did you mean '{n}'?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(s: &str) -> WildcardPattern {
        match Query::parse(&format!("user:{s}")).map(|q| q.expr) {
            Ok(Expr::Clause(Clause::Wildcard { pattern, .. })) => pattern,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn wildcard_patterns_match_whole_values() {
        let p = pattern("*@contoso.com");
        assert!(p.matches("alice@contoso.com"));
        assert!(p.matches("@contoso.com"));
        assert!(!p.matches("alice@contoso.com.evil"));
        let p = pattern("a?c*");
        assert!(p.matches("abc"));
        assert!(p.matches("aécd"));
        assert!(!p.matches("aébcd"));
        assert!(!p.matches("ac"));
    }

    #[test]
    fn wildcard_regex_escapes_literal_text() {
        assert_eq!(pattern("a.b*").to_regex(), "a\\.b(?s:.)*");
        assert_eq!(pattern("\\(x\\)?").to_regex(), "\\(x\\)(?s:.)");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn any_input_parses_or_fails_with_a_column(
            s in "[a-z_:*?()\"\\\\\\[\\]{} <>=+\\-.@/0-9ANDORTOip]{0,48}"
        ) {
            match Query::parse(&s) {
                Ok(q) => {
                    let printed = q.expr().to_string();
                    let again = Query::parse(&printed);
                    proptest::prop_assert!(again.is_ok(), "{s:?} printed as {printed:?}: {again:?}");
                    proptest::prop_assert_eq!(Some(q.expr()), again.as_ref().ok().map(Query::expr));
                }
                Err(e) => proptest::prop_assert!(e.column >= 1 && e.column <= s.chars().count() + 1),
            }
        }
    }

    #[test]
    fn display_parses_back_to_the_same_tree() {
        for q in [
            "user:*@contoso.com op:MailItemsAccessed -ip:10.0.0.0/8",
            "time:[2026-01-01 TO 2026-01-07] OR op_count:>100",
            "\"exact phrase\" NOT (a OR b*)",
            "user:\"we\\\"ird\" record_type:50 throttled:yes",
            "ip:2001:db8::/32 user:a\\*b*",
            // Capitals that lower-case to a letter and a combining mark, and a final sigma.
            "aa\r|Va\rİaa\r|V\rz*",
            "\"İstanbul ΟΔΟΣ\"",
        ] {
            let parsed = Query::parse(q).unwrap();
            let again = Query::parse(&parsed.expr().to_string()).unwrap();
            assert_eq!(parsed.expr(), again.expr(), "{q} → {}", parsed.expr());
        }
    }
}
