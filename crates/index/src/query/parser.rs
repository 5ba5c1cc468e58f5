//! A recursive-descent parser over characters, so every error can name its column.

use std::net::{IpAddr, Ipv6Addr};
use std::ops::Bound;

use mailtrail_event::{
    Field, LogonType, MailAccessType, RecordType, Timestamp, UserType, parse_client_ip, parse_time,
};

use super::{Clause, Expr, QueryError, QueryErrorKind, WildcardPart, WildcardPattern};
use crate::SearchField;
use crate::fields::FieldKind;

/// Nesting allowed for parentheses and negations: deep enough for any query a person writes,
/// shallow enough that no input can exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Characters with a meaning in the grammar; a backslash makes them literal.
pub(super) fn is_special(c: char) -> bool {
    matches!(
        c,
        '(' | ')'
            | '"'
            | ':'
            | '*'
            | '?'
            | '\\'
            | '['
            | ']'
            | '{'
            | '}'
            | '<'
            | '>'
            | '='
            | '-'
            | '+'
    )
}

pub(super) fn parse(source: &str) -> Result<Expr, QueryError> {
    let mut p = Parser {
        chars: source.chars().collect(),
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    if p.at_end() {
        return Ok(Expr::All);
    }
    let expr = p.or_expr(None)?;
    p.skip_ws();
    match p.peek() {
        None => Ok(expr),
        Some(c) => Err(p.error_here(QueryErrorKind::Unexpected(c))),
    }
}

/// A word as typed: its text with escapes resolved, and where its wildcards are.
struct Word {
    /// Literal characters and wildcards, in order.
    parts: Vec<WordChar>,
    /// Column of its first character.
    column: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum WordChar {
    Lit(char),
    Star,
    Question,
}

impl Word {
    fn has_wildcard(&self) -> bool {
        self.parts.iter().any(|c| !matches!(c, WordChar::Lit(_)))
    }

    /// The text, with wildcards as the characters they were typed as.
    fn text(&self) -> String {
        self.parts
            .iter()
            .map(|c| match c {
                WordChar::Lit(c) => *c,
                WordChar::Star => '*',
                WordChar::Question => '?',
            })
            .collect()
    }

    /// `*` (or `**`…): anything at all.
    fn is_bare_star(&self) -> bool {
        !self.parts.is_empty() && self.parts.iter().all(|c| *c == WordChar::Star)
    }

    fn pattern(&self) -> WildcardPattern {
        let mut parts: Vec<WildcardPart> = Vec::new();
        for c in &self.parts {
            match c {
                WordChar::Lit(ch) => match parts.last_mut() {
                    Some(WildcardPart::Literal(s)) => s.push(*ch),
                    _ => parts.push(WildcardPart::Literal(ch.to_string())),
                },
                // `**` means the same as `*`; keeping one keeps the regex small.
                WordChar::Star if parts.last() == Some(&WildcardPart::AnyRun) => {}
                WordChar::Star => parts.push(WildcardPart::AnyRun),
                WordChar::Question => parts.push(WildcardPart::AnyChar),
            }
        }
        WildcardPattern::new(parts)
    }
}

/// What follows `field:`.
enum Value {
    Word(Word),
    Phrase(String, usize),
    Range {
        from: Bound<Word>,
        to: Bound<Word>,
        column: usize,
    },
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error_here(&self, kind: QueryErrorKind) -> QueryError {
        QueryError {
            column: self.column(),
            kind,
        }
    }

    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(QueryErrorKind::TooDeep(MAX_DEPTH)));
        }
        Ok(())
    }

    /// Whether the keyword (`AND`, `OR`, `NOT`) starts here as a whole word.
    fn at_keyword(&self, kw: &str) -> bool {
        let n = kw.chars().count();
        kw.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
            && self
                .peek_at(n)
                .is_none_or(|c| c.is_whitespace() || c == '(' || c == ')')
    }

    fn or_expr(&mut self, field: Option<SearchField>) -> Result<Expr, QueryError> {
        let mut operands = vec![self.and_expr(field)?];
        loop {
            self.skip_ws();
            if !self.at_keyword("OR") {
                break;
            }
            self.pos += 2;
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') || self.at_keyword("OR") {
                return Err(self.error_here(QueryErrorKind::MissingOperand("OR")));
            }
            operands.push(self.and_expr(field)?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Expr::Or(operands)
        })
    }

    fn and_expr(&mut self, field: Option<SearchField>) -> Result<Expr, QueryError> {
        let mut operands = vec![self.unary(field)?];
        loop {
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') || self.at_keyword("OR") {
                break;
            }
            if self.at_keyword("AND") {
                self.pos += 3;
                self.skip_ws();
                if self.at_end()
                    || self.peek() == Some(')')
                    || self.at_keyword("OR")
                    || self.at_keyword("AND")
                {
                    return Err(self.error_here(QueryErrorKind::MissingOperand("AND")));
                }
            }
            operands.push(self.unary(field)?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Expr::And(operands)
        })
    }

    fn unary(&mut self, field: Option<SearchField>) -> Result<Expr, QueryError> {
        self.skip_ws();
        let op = if self.at_keyword("NOT") {
            self.pos += 3;
            Some("NOT")
        } else if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| !c.is_whitespace()) {
            self.pos += 1;
            Some("-")
        } else if self.peek() == Some('+') && self.peek_at(1).is_some_and(|c| !c.is_whitespace()) {
            // `+term` is Lucene's "required"; terms are required already. A loop, not recursion,
            // so that no run of pluses can exhaust the stack.
            while self.peek() == Some('+') && self.peek_at(1).is_some_and(|c| !c.is_whitespace()) {
                self.pos += 1;
            }
            return self.unary(field);
        } else {
            None
        };
        match op {
            Some(op) => {
                self.enter()?;
                self.skip_ws();
                if self.at_end()
                    || self.peek() == Some(')')
                    || self.at_keyword("OR")
                    || self.at_keyword("AND")
                {
                    return Err(self.error_here(QueryErrorKind::MissingOperand(op)));
                }
                let inner = self.unary(field)?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            None => self.primary(field),
        }
    }

    fn primary(&mut self, field: Option<SearchField>) -> Result<Expr, QueryError> {
        match self.peek() {
            Some('(') => self.group(field),
            Some(c @ (')' | ']' | '}' | ':')) => {
                Err(self.error_here(QueryErrorKind::Unexpected(c)))
            }
            Some(_) => self.clause(field),
            None => Err(self.error_here(QueryErrorKind::MissingOperand("AND"))),
        }
    }

    /// `( or )`, with the field (if any) applying inside.
    fn group(&mut self, field: Option<SearchField>) -> Result<Expr, QueryError> {
        let open = self.column();
        self.enter()?;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(')') {
            return Err(self.error_here(QueryErrorKind::Unexpected(')')));
        }
        if self.at_end() {
            return Err(QueryError {
                column: open,
                kind: QueryErrorKind::UnclosedParen,
            });
        }
        let inner = self.or_expr(field)?;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(QueryError {
                column: open,
                kind: QueryErrorKind::UnclosedParen,
            });
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(inner)
    }

    fn clause(&mut self, field: Option<SearchField>) -> Result<Expr, QueryError> {
        // A field name is a run of name characters followed by ':'.
        let start = self.pos;
        let mut end = start;
        while self
            .chars
            .get(end)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        {
            end += 1;
        }
        if field.is_none() && end > start && self.chars.get(end) == Some(&':') {
            let name: String = self.chars[start..end].iter().collect();
            let column = self.column();
            let Some(f) = SearchField::from_name(&name) else {
                return Err(QueryError {
                    column,
                    kind: QueryErrorKind::UnknownField {
                        suggestion: SearchField::closest(&name),
                        name,
                    },
                });
            };
            self.pos = end + 1;
            return match self.peek() {
                None => Err(self.error_here(QueryErrorKind::MissingValue(name))),
                Some(c) if c.is_whitespace() || c == ')' => {
                    Err(self.error_here(QueryErrorKind::MissingValue(name)))
                }
                Some('(') => self.group(Some(f)),
                Some(_) => {
                    let value = self.value()?;
                    fielded(f, value)
                }
            };
        }
        let value = self.value()?;
        match field {
            Some(f) => fielded(f, value),
            None => free_text(value),
        }
    }

    fn value(&mut self) -> Result<Value, QueryError> {
        let column = self.column();
        match self.peek() {
            Some('"') => {
                let text = self.phrase()?;
                Ok(Value::Phrase(text, column))
            }
            Some(open @ ('[' | '{')) => {
                self.pos += 1;
                self.range(open == '[', column)
            }
            Some(c @ ('>' | '<')) => {
                self.pos += 1;
                let inclusive = self.peek() == Some('=');
                if inclusive {
                    self.pos += 1;
                }
                let word = self.bound_word()?;
                let (from, to) = match (c, inclusive) {
                    ('>', false) => (Bound::Excluded(word), Bound::Unbounded),
                    ('>', true) => (Bound::Included(word), Bound::Unbounded),
                    (_, false) => (Bound::Unbounded, Bound::Excluded(word)),
                    (_, true) => (Bound::Unbounded, Bound::Included(word)),
                };
                Ok(Value::Range { from, to, column })
            }
            _ => Ok(Value::Word(self.word()?)),
        }
    }

    /// A phrase between double quotes; `\"` and `\\` are escapes.
    fn phrase(&mut self) -> Result<String, QueryError> {
        let open = self.column();
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(QueryError {
                        column: open,
                        kind: QueryErrorKind::UnterminatedPhrase,
                    });
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(text);
                }
                Some('\\') => {
                    let Some(c) = self.peek_at(1) else {
                        return Err(self.error_here(QueryErrorKind::DanglingEscape));
                    };
                    text.push(c);
                    self.pos += 2;
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A bare word: up to whitespace, a parenthesis or a quote; `\` escapes any character.
    fn word(&mut self) -> Result<Word, QueryError> {
        self.word_until(|c| c.is_whitespace() || c == '(' || c == ')' || c == '"')
    }

    fn word_until(&mut self, stop: impl Fn(char) -> bool) -> Result<Word, QueryError> {
        let column = self.column();
        let mut parts = Vec::new();
        while let Some(c) = self.peek() {
            if stop(c) {
                break;
            }
            match c {
                '\\' => {
                    let Some(next) = self.peek_at(1) else {
                        return Err(self.error_here(QueryErrorKind::DanglingEscape));
                    };
                    parts.push(WordChar::Lit(next));
                    self.pos += 2;
                    continue;
                }
                '*' => parts.push(WordChar::Star),
                '?' => parts.push(WordChar::Question),
                c => parts.push(WordChar::Lit(c)),
            }
            self.pos += 1;
        }
        if parts.is_empty() {
            return Err(match self.peek() {
                Some(c) => self.error_here(QueryErrorKind::Unexpected(c)),
                None => self.error_here(QueryErrorKind::MissingOperand("AND")),
            });
        }
        Ok(Word { parts, column })
    }

    /// One bound of a range or comparison: a word or a quoted phrase.
    fn bound_word(&mut self) -> Result<Word, QueryError> {
        let column = self.column();
        if self.peek() == Some('"') {
            let text = self.phrase()?;
            return Ok(Word {
                parts: text.chars().map(WordChar::Lit).collect(),
                column,
            });
        }
        if self
            .peek()
            .is_none_or(|c| c.is_whitespace() || matches!(c, ']' | '}' | ')'))
        {
            return Err(self.error_here(QueryErrorKind::MalformedRange("a value")));
        }
        self.word_until(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | ']' | '}'))
    }

    /// `[a TO b]`, `{a TO b}` or a mix; `*` is an open end.
    fn range(&mut self, from_inclusive: bool, column: usize) -> Result<Value, QueryError> {
        self.skip_ws();
        let lo = self.bound_word()?;
        self.skip_ws();
        if !self.at_keyword("TO") {
            return Err(self.error_here(QueryErrorKind::MalformedRange("'TO'")));
        }
        self.pos += 2;
        self.skip_ws();
        let hi = self.bound_word()?;
        self.skip_ws();
        let to_inclusive = match self.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => return Err(self.error_here(QueryErrorKind::MalformedRange("']' or '}'"))),
        };
        self.pos += 1;
        let from = match (lo.is_bare_star(), from_inclusive) {
            (true, _) => Bound::Unbounded,
            (false, true) => Bound::Included(lo),
            (false, false) => Bound::Excluded(lo),
        };
        let to = match (hi.is_bare_star(), to_inclusive) {
            (true, _) => Bound::Unbounded,
            (false, true) => Bound::Included(hi),
            (false, false) => Bound::Excluded(hi),
        };
        Ok(Value::Range { from, to, column })
    }
}

/// Bare words and phrases without a field: free text.
fn free_text(value: Value) -> Result<Expr, QueryError> {
    match value {
        Value::Word(w) if w.is_bare_star() => Ok(Expr::All),
        Value::Word(w) if w.has_wildcard() => text_wildcard(&w).map(Expr::Clause),
        Value::Word(w) => words(&w.text(), w.column).map(Expr::Clause),
        Value::Phrase(p, column) => words(&p, column).map(Expr::Clause),
        Value::Range { column, .. } => Err(QueryError {
            column,
            kind: QueryErrorKind::RangeNotSupported("text"),
        }),
    }
}

/// Splits free text the way the index's text tokenizer does: runs of letters and digits,
/// lower-cased by [`lowercase_word`](crate::schema::lowercase_word).
pub(crate) fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut lower = String::new();
            crate::schema::lowercase_word(w, &mut lower);
            lower
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn words(text: &str, column: usize) -> Result<Clause, QueryError> {
    let words = tokenize(text);
    if words.is_empty() {
        return Err(QueryError {
            column,
            kind: QueryErrorKind::NoWords(text.to_owned()),
        });
    }
    Ok(Clause::Words { words })
}

fn text_wildcard(w: &Word) -> Result<Clause, QueryError> {
    let single_word = w.parts.iter().all(|c| match c {
        WordChar::Lit(c) => c.is_alphanumeric(),
        _ => true,
    });
    if !single_word {
        return Err(QueryError {
            column: w.column,
            kind: QueryErrorKind::WildcardSpansWords(w.text()),
        });
    }
    Ok(Clause::WordWildcard {
        pattern: w.pattern().to_lowercase(),
    })
}

/// `field:value`; `text:value` is free text.
fn fielded(field: SearchField, value: Value) -> Result<Expr, QueryError> {
    if field.kind() == FieldKind::Text {
        return free_text(value);
    }
    field_clause(field, value).map(Expr::Clause)
}

fn field_clause(field: SearchField, value: Value) -> Result<Clause, QueryError> {
    let name = field.name();
    match (field.kind(), value) {
        (FieldKind::Text, v) => Err(QueryError {
            column: match &v {
                Value::Word(w) => w.column,
                Value::Phrase(_, c) | Value::Range { column: c, .. } => *c,
            },
            kind: QueryErrorKind::RangeNotSupported(name),
        }),
        (FieldKind::Keyword, Value::Word(w)) if w.is_bare_star() => Ok(Clause::Exists { field }),
        (FieldKind::Id, Value::Word(w)) if w.is_bare_star() => Ok(Clause::Exists { field }),
        (FieldKind::Id, Value::Word(w)) if w.has_wildcard() => Err(QueryError {
            column: w.column,
            kind: QueryErrorKind::WholeIdentifier(name),
        }),
        (FieldKind::Id, Value::Word(w)) => Ok(keyword(field, &w.text())),
        (FieldKind::Id, Value::Phrase(p, _)) => Ok(keyword(field, &p)),
        (FieldKind::Keyword, Value::Word(w)) if w.has_wildcard() => Ok(Clause::Wildcard {
            field,
            pattern: w.pattern(),
        }),
        (FieldKind::Keyword, Value::Word(w)) => Ok(keyword(field, &w.text())),
        (FieldKind::Keyword, Value::Phrase(p, _)) => Ok(keyword(field, &p)),
        (_, Value::Word(w)) if w.is_bare_star() => Ok(match field.kind() {
            FieldKind::Time => Clause::Time {
                from: Bound::Unbounded,
                to: Bound::Unbounded,
            },
            _ => Clause::Exists { field },
        }),
        (FieldKind::Keyword | FieldKind::Id, Value::Range { column, .. }) => Err(QueryError {
            column,
            kind: QueryErrorKind::RangeNotSupported(name),
        }),
        (_, Value::Word(w)) if w.has_wildcard() => Err(QueryError {
            column: w.column,
            kind: QueryErrorKind::WildcardNotSupported(name),
        }),
        (FieldKind::Bool, Value::Word(w)) => match w.text().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Clause::Bool { field, value: true }),
            "false" | "no" | "0" => Ok(Clause::Bool {
                field,
                value: false,
            }),
            _ => Err(invalid(field, &w, "true or false")),
        },
        (FieldKind::Bool, Value::Range { column, .. }) => Err(QueryError {
            column,
            kind: QueryErrorKind::RangeNotSupported(name),
        }),
        (FieldKind::Int | FieldKind::Ip | FieldKind::Bool, Value::Phrase(_, column)) => {
            Err(QueryError {
                column,
                kind: QueryErrorKind::PhraseNotSupported(name),
            })
        }
        (FieldKind::Int, Value::Word(w)) => {
            let n = int(field, &w)?;
            Ok(Clause::Int {
                field,
                from: Bound::Included(n),
                to: Bound::Included(n),
            })
        }
        (FieldKind::Int, Value::Range { from, to, .. }) => Ok(Clause::Int {
            field,
            from: map_bound(from, |w| int(field, &w))?,
            to: map_bound(to, |w| int(field, &w))?,
        }),
        (FieldKind::Ip, Value::Word(w)) => {
            let (first, last) = ip_block(&w)?;
            Ok(Clause::Ip { first, last })
        }
        (FieldKind::Ip, Value::Range { from, to, .. }) => {
            let first = match from {
                Bound::Unbounded => Ipv6Addr::UNSPECIFIED,
                Bound::Included(w) => ip(&w)?,
                Bound::Excluded(w) => match ip(&w)?.to_bits().checked_add(1) {
                    Some(n) => Ipv6Addr::from_bits(n),
                    None => return Ok(empty_ip()),
                },
            };
            let last = match to {
                Bound::Unbounded => Ipv6Addr::from_bits(u128::MAX),
                Bound::Included(w) => ip(&w)?,
                Bound::Excluded(w) => match ip(&w)?.to_bits().checked_sub(1) {
                    Some(n) => Ipv6Addr::from_bits(n),
                    None => return Ok(empty_ip()),
                },
            };
            Ok(Clause::Ip { first, last })
        }
        (FieldKind::Time, Value::Word(w)) => time_equals(&w),
        (FieldKind::Time, Value::Phrase(p, column)) => time_equals(&Word {
            parts: p.chars().map(WordChar::Lit).collect(),
            column,
        }),
        (FieldKind::Time, Value::Range { from, to, .. }) => Ok(Clause::Time {
            from: match from {
                Bound::Unbounded => Bound::Unbounded,
                Bound::Included(w) => Bound::Included(time(&w)?.start()),
                Bound::Excluded(w) => time(&w)?.after(),
            },
            to: match to {
                Bound::Unbounded => Bound::Unbounded,
                Bound::Included(w) => time(&w)?.through(),
                Bound::Excluded(w) => Bound::Excluded(time(&w)?.start()),
            },
        }),
    }
}

/// A range no address falls in.
fn empty_ip() -> Clause {
    Clause::Ip {
        first: Ipv6Addr::from_bits(1),
        last: Ipv6Addr::UNSPECIFIED,
    }
}

fn map_bound<T>(
    b: Bound<Word>,
    f: impl Fn(Word) -> Result<T, QueryError>,
) -> Result<Bound<T>, QueryError> {
    Ok(match b {
        Bound::Included(w) => Bound::Included(f(w)?),
        Bound::Excluded(w) => Bound::Excluded(f(w)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

fn invalid(field: SearchField, w: &Word, expected: &'static str) -> QueryError {
    QueryError {
        column: w.column,
        kind: QueryErrorKind::InvalidValue {
            field: field.name(),
            value: w.text(),
            expected,
        },
    }
}

/// A keyword value in its canonical spelling: enumerations that exports write as numbers or
/// names are indexed by name.
fn keyword(field: SearchField, value: &str) -> Clause {
    let canonical = match field {
        SearchField::Common(Field::RecordType) => RecordType::parse(value).map(|r| r.to_string()),
        SearchField::Common(Field::UserType) => UserType::parse(value).map(|u| u.to_string()),
        SearchField::Common(Field::LogonType) => LogonType::parse(value).map(|l| l.to_string()),
        SearchField::Common(Field::AccessType) => {
            MailAccessType::parse(value).map(|a| a.to_string())
        }
        _ => None,
    };
    Clause::Keyword {
        field,
        value: canonical.unwrap_or_else(|| value.to_owned()),
    }
}

fn int(field: SearchField, w: &Word) -> Result<i64, QueryError> {
    w.text()
        .parse::<i64>()
        .map_err(|_| invalid(field, w, "a whole number"))
}

fn ip(w: &Word) -> Result<Ipv6Addr, QueryError> {
    parse_client_ip(&w.text())
        .map(mapped)
        .ok_or_else(|| invalid(SearchField::Common(Field::ClientIp), w, "an IP address"))
}

fn mapped(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// An address or a CIDR block, as the first and last address it covers.
fn ip_block(w: &Word) -> Result<(Ipv6Addr, Ipv6Addr), QueryError> {
    let text = w.text();
    let Some((addr, bits)) = text.split_once('/') else {
        let a = ip(w)?;
        return Ok((a, a));
    };
    let bad = || {
        invalid(
            SearchField::Common(Field::ClientIp),
            w,
            "an IP address or CIDR block (203.0.113.0/24, 2001:db8::/32)",
        )
    };
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let bits: u32 = bits.parse().map_err(|_| bad())?;
    let (base, prefix) = match addr {
        IpAddr::V4(v4) if bits <= 32 => (v4.to_ipv6_mapped(), 96 + bits),
        IpAddr::V6(v6) if bits <= 128 => (v6, bits),
        _ => return Err(bad()),
    };
    let host_mask = u128::MAX.checked_shr(prefix).unwrap_or(0);
    let first = base.to_bits() & !host_mask;
    Ok((
        Ipv6Addr::from_bits(first),
        Ipv6Addr::from_bits(first | host_mask),
    ))
}

/// A time as typed: an instant, or a whole day when only a date was given.
enum TimeValue {
    Instant(Timestamp),
    Day { start: Timestamp, next: Timestamp },
}

impl TimeValue {
    fn start(&self) -> Timestamp {
        match self {
            TimeValue::Instant(t) => *t,
            TimeValue::Day { start, .. } => *start,
        }
    }

    /// The bound "after this": after the instant, or from the next day on.
    fn after(&self) -> Bound<Timestamp> {
        match self {
            TimeValue::Instant(t) => Bound::Excluded(*t),
            TimeValue::Day { next, .. } => Bound::Included(*next),
        }
    }

    /// The bound "up to and including this": the instant, or the whole day.
    fn through(&self) -> Bound<Timestamp> {
        match self {
            TimeValue::Instant(t) => Bound::Included(*t),
            TimeValue::Day { next, .. } => Bound::Excluded(*next),
        }
    }
}

fn time(w: &Word) -> Result<TimeValue, QueryError> {
    let text = w.text();
    let bad = || {
        invalid(
            SearchField::Common(Field::Time),
            w,
            "a date (2026-01-31) or time (2026-01-31T08:00:00Z)",
        )
    };
    let date_only = text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    if !date_only {
        return parse_time(&text).map(TimeValue::Instant).ok_or_else(bad);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| bad())?;
    let start = date.to_zoned(jiff::tz::TimeZone::UTC).map_err(|_| bad())?;
    let next = start.tomorrow().map_err(|_| bad())?;
    Ok(TimeValue::Day {
        start: start.timestamp(),
        next: next.timestamp(),
    })
}

/// `time:VALUE`: that instant, or that whole day.
fn time_equals(w: &Word) -> Result<Clause, QueryError> {
    let t = time(w)?;
    Ok(Clause::Time {
        from: Bound::Included(t.start()),
        to: t.through(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    fn parse(q: &str) -> Expr {
        match Query::parse(q) {
            Ok(q) => q.expr().clone(),
            Err(e) => panic!("{q}: {e}"),
        }
    }

    fn error(q: &str) -> String {
        match Query::parse(q) {
            Ok(q) => panic!("{q:?} parsed as {:?}", q.expr()),
            Err(e) => e.to_string(),
        }
    }

    fn kw(field: Field, value: &str) -> Expr {
        Expr::Clause(Clause::Keyword {
            field: SearchField::Common(field),
            value: value.into(),
        })
    }

    fn ts(s: &str) -> Timestamp {
        parse_time(s).unwrap()
    }

    #[test]
    fn empty_query_matches_everything() {
        assert_eq!(parse(""), Expr::All);
        assert_eq!(parse("   "), Expr::All);
        assert_eq!(parse("*"), Expr::All);
    }

    #[test]
    fn juxtaposition_is_and_and_or_binds_looser() {
        assert_eq!(
            parse("user:a op:b OR op:c"),
            Expr::Or(vec![
                Expr::And(vec![kw(Field::User, "a"), kw(Field::Operation, "b")]),
                kw(Field::Operation, "c"),
            ])
        );
        assert_eq!(parse("user:a AND op:b"), parse("user:a op:b"));
    }

    #[test]
    fn not_and_minus_negate() {
        let not = Expr::Not(Box::new(kw(Field::User, "a")));
        assert_eq!(parse("NOT user:a"), not);
        assert_eq!(parse("-user:a"), not);
        assert_eq!(parse("+user:a"), kw(Field::User, "a"));
    }

    #[test]
    fn parentheses_group_and_a_field_applies_inside_them() {
        assert_eq!(
            parse("user:(a OR b) -(op:x)"),
            Expr::And(vec![
                Expr::Or(vec![kw(Field::User, "a"), kw(Field::User, "b")]),
                Expr::Not(Box::new(kw(Field::Operation, "x"))),
            ])
        );
    }

    #[test]
    fn ual_names_alias_friendly_names() {
        assert_eq!(parse("UserId:a"), parse("user:a"));
        assert_eq!(parse("ClientIP:1.2.3.4"), parse("ip:1.2.3.4"));
        assert_eq!(parse("Operation:x"), parse("op:x"));
    }

    #[test]
    fn enumerations_take_numbers_or_names() {
        assert_eq!(
            parse("record_type:50"),
            kw(Field::RecordType, "ExchangeItemAggregated")
        );
        assert_eq!(parse("user_type:5"), kw(Field::UserType, "Application"));
        assert_eq!(parse("access_type:0"), kw(Field::AccessType, "Bind"));
    }

    #[test]
    fn wildcards_and_existence() {
        match parse("user:*@contoso.com") {
            Expr::Clause(Clause::Wildcard { pattern, .. }) => {
                assert_eq!(pattern.to_string(), "*@contoso.com");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse("session:*"),
            Expr::Clause(Clause::Exists {
                field: SearchField::Common(Field::Session)
            })
        );
        // An escaped star is a literal star.
        assert_eq!(parse("user:a\\*b"), kw(Field::User, "a*b"));
        // A quoted value is exact, stars included.
        assert_eq!(parse("user:\"a*b c\""), kw(Field::User, "a*b c"));
    }

    #[test]
    fn free_text_is_tokenized_into_words_or_phrases() {
        assert_eq!(
            parse("Outlook"),
            Expr::Clause(Clause::Words {
                words: vec!["outlook".into()]
            })
        );
        assert_eq!(
            parse("\"Microsoft Office/16.0\""),
            Expr::Clause(Clause::Words {
                words: vec!["microsoft".into(), "office".into(), "16".into(), "0".into()]
            })
        );
        assert!(matches!(
            parse("outl*k"),
            Expr::Clause(Clause::WordWildcard { .. })
        ));
        assert_eq!(parse("text:Outlook"), parse("Outlook"));
    }

    #[test]
    fn ip_blocks_cover_their_range() {
        let first = "::ffff:203.0.113.0".parse().unwrap();
        let last = "::ffff:203.0.113.255".parse().unwrap();
        assert_eq!(
            parse("ip:203.0.113.0/24"),
            Expr::Clause(Clause::Ip { first, last })
        );
        // Host bits are ignored, as most tools do.
        assert_eq!(parse("ip:203.0.113.77/24"), parse("ip:203.0.113.0/24"));
        assert_eq!(
            parse("ip:2001:db8::/32"),
            Expr::Clause(Clause::Ip {
                first: "2001:db8::".parse().unwrap(),
                last: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
            })
        );
        let one = "::ffff:198.51.100.7".parse().unwrap();
        assert_eq!(
            parse("ip:198.51.100.7"),
            Expr::Clause(Clause::Ip {
                first: one,
                last: one
            })
        );
        assert_eq!(
            parse("ip:0.0.0.0/0"),
            parse("ip:[0.0.0.0 TO 255.255.255.255]")
        );
    }

    #[test]
    fn numbers_take_comparisons_and_ranges() {
        let f = SearchField::OpCount;
        assert_eq!(
            parse("op_count:>100"),
            Expr::Clause(Clause::Int {
                field: f,
                from: Bound::Excluded(100),
                to: Bound::Unbounded
            })
        );
        assert_eq!(
            parse("op_count:<=5"),
            Expr::Clause(Clause::Int {
                field: f,
                from: Bound::Unbounded,
                to: Bound::Included(5)
            })
        );
        assert_eq!(
            parse("op_count:{1 TO *]"),
            Expr::Clause(Clause::Int {
                field: f,
                from: Bound::Excluded(1),
                to: Bound::Unbounded
            })
        );
        assert_eq!(
            parse("error_code:50126"),
            Expr::Clause(Clause::Int {
                field: SearchField::Common(Field::ErrorCode),
                from: Bound::Included(50126),
                to: Bound::Included(50126)
            })
        );
    }

    #[test]
    fn dates_mean_whole_days() {
        assert_eq!(
            parse("time:[2026-01-01 TO 2026-01-07]"),
            Expr::Clause(Clause::Time {
                from: Bound::Included(ts("2026-01-01T00:00:00Z")),
                to: Bound::Excluded(ts("2026-01-08T00:00:00Z")),
            })
        );
        assert_eq!(
            parse("time:>2026-01-01"),
            Expr::Clause(Clause::Time {
                from: Bound::Included(ts("2026-01-02T00:00:00Z")),
                to: Bound::Unbounded,
            })
        );
        assert_eq!(
            parse("time:2026-01-01"),
            Expr::Clause(Clause::Time {
                from: Bound::Included(ts("2026-01-01T00:00:00Z")),
                to: Bound::Excluded(ts("2026-01-02T00:00:00Z")),
            })
        );
        assert_eq!(
            parse("time:{2026-01-01T10:00:00Z TO 2026-01-02}"),
            Expr::Clause(Clause::Time {
                from: Bound::Excluded(ts("2026-01-01T10:00:00Z")),
                to: Bound::Excluded(ts("2026-01-02T00:00:00Z")),
            })
        );
        assert_eq!(
            parse("time:<\"2026-01-01 10:00:00\""),
            Expr::Clause(Clause::Time {
                from: Bound::Unbounded,
                to: Bound::Excluded(ts("2026-01-01T10:00:00Z")),
            })
        );
    }

    #[test]
    fn booleans_take_words() {
        let t = Expr::Clause(Clause::Bool {
            field: SearchField::Common(Field::Throttled),
            value: true,
        });
        assert_eq!(parse("throttled:true"), t);
        assert_eq!(parse("IsThrottled:yes"), t);
    }

    #[test]
    fn lowercase_keywords_are_words() {
        assert_eq!(
            parse("a and b"),
            Expr::And(vec![
                Expr::Clause(Clause::Words {
                    words: vec!["a".into()]
                }),
                Expr::Clause(Clause::Words {
                    words: vec!["and".into()]
                }),
                Expr::Clause(Clause::Words {
                    words: vec!["b".into()]
                }),
            ])
        );
    }

    #[test]
    fn every_error_names_its_column() {
        let cases = [
            ("(user:alice OR op:Send))", "unexpected ')' at column 24"),
            (")", "unexpected ')' at column 1"),
            ("(user:a", "missing ')' for the '(' opened at column 1"),
            ("user:a (op:b", "missing ')' for the '(' opened at column 8"),
            ("()", "unexpected ')' at column 2"),
            (
                "\"abc",
                "unterminated phrase: add a closing '\"' to the phrase starting at column 1",
            ),
            (
                "user:\"abc",
                "unterminated phrase: add a closing '\"' to the phrase starting at column 6",
            ),
            ("abc\\", "dangling '\\' (escape what?) at column 4"),
            ("\"abc\\", "dangling '\\' (escape what?) at column 5"),
            ("user:a AND", "expected a term after 'AND' at column 11"),
            (
                "user:a AND OR b",
                "expected a term after 'AND' at column 12",
            ),
            ("user:a OR", "expected a term after 'OR' at column 10"),
            ("(a OR )", "expected a term after 'OR' at column 7"),
            ("NOT", "expected a term after 'NOT' at column 4"),
            ("a NOT )", "expected a term after 'NOT' at column 7"),
            ("user:", "missing value after 'user:' at column 6"),
            ("user: alice", "missing value after 'user:' at column 6"),
            (
                "usr:alice",
                "unknown field 'usr' (did you mean 'user'?) at column 1",
            ),
            ("a qqqqqqqqq:1", "unknown field 'qqqqqqqqq' at column 3"),
            (
                "op_count:many",
                "'many' is not a whole number (field 'op_count') at column 10",
            ),
            (
                "op_count:>x",
                "'x' is not a whole number (field 'op_count') at column 11",
            ),
            (
                "ip:999.1.1.1",
                "'999.1.1.1' is not an IP address (field 'ip') at column 4",
            ),
            (
                "ip:10.0.0.0/33",
                "'10.0.0.0/33' is not an IP address or CIDR block (203.0.113.0/24, 2001:db8::/32) (field 'ip') at column 4",
            ),
            (
                "time:yesterday",
                "'yesterday' is not a date (2026-01-31) or time (2026-01-31T08:00:00Z) (field 'time') at column 6",
            ),
            (
                "throttled:maybe",
                "'maybe' is not true or false (field 'throttled') at column 11",
            ),
            (
                "user:[a TO b]",
                "field 'user' takes no range or comparison (ranges work on time, ip, op_count, error_code and asn) at column 6",
            ),
            (
                "user:>a",
                "field 'user' takes no range or comparison (ranges work on time, ip, op_count, error_code and asn) at column 6",
            ),
            (
                "throttled:[true TO false]",
                "field 'throttled' takes no range or comparison (ranges work on time, ip, op_count, error_code and asn) at column 11",
            ),
            (
                "[a TO b]",
                "field 'text' takes no range or comparison (ranges work on time, ip, op_count, error_code and asn) at column 1",
            ),
            (
                "op_count:1*",
                "field 'op_count' takes no wildcard at column 10",
            ),
            ("ip:10.*", "field 'ip' takes no wildcard at column 4"),
            (
                "op_count:\"1\"",
                "field 'op_count' takes no phrase at column 10",
            ),
            (
                "*@contoso.com",
                "free-text wildcards match single words; '*@contoso.com' has punctuation (search a field instead, e.g. user:*@contoso.com) at column 1",
            ),
            (
                "@@",
                "'@@' has no letters or digits to search for at column 1",
            ),
            (
                "op_count:[1 2]",
                "malformed range: expected 'TO' at column 13",
            ),
            (
                "op_count:[1 TO 2",
                "malformed range: expected ']' or '}' at column 17",
            ),
            (
                "op_count:[ TO 2]",
                "malformed range: expected 'TO' at column 15",
            ),
            (
                "op_count:[1 TO ]",
                "malformed range: expected a value at column 16",
            ),
            (
                "op_count:>",
                "malformed range: expected a value at column 11",
            ),
            ("user:a :b", "unexpected ':' at column 8"),
            ("a ]", "unexpected ']' at column 3"),
        ];
        for (q, want) in cases {
            assert_eq!(error(q), want, "query {q:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(
            error(&deep),
            "query nests deeper than 64 levels at column 65"
        );
        let nots = format!("{}a", "NOT ".repeat(100));
        assert!(error(&nots).starts_with("query nests deeper than 64 levels"));
        let minus = format!("{}a", "-".repeat(100));
        assert!(error(&minus).starts_with("query nests deeper than 64 levels"));
        let plus = format!("{}a", "+".repeat(100_000));
        assert_eq!(
            parse(&plus),
            Expr::Clause(Clause::Words {
                words: vec!["a".into()]
            })
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(error("Ünïcödé )"), "unexpected ')' at column 9");
    }
}
