//! The index against a model: for random events and random queries, search, stats and
//! timelines must equal brute-force evaluation of the same query over the same events.
//!
//! The model below is written independently of the index: its own tokenizer, its own wildcard
//! matcher, its own reading of each field from the event.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::ops::Bound;

use mailtrail_event::{
    AuditEvent, Field, Folder, MailAccess, MailAccessType, MailItem, NameValue, Timestamp,
};
use mailtrail_index::{
    Clause, Expr, Index, Query, SearchField, SearchOptions, StatsRequest, WildcardPart,
    WildcardPattern,
};
use proptest::prelude::*;

const USERS: &[&str] = &[
    "alice@contoso.com",
    "Bob@Contoso.com",
    "carol@fabrikam.com",
    "dave@contoso.com",
    "Ünal@contoso.com",
];
const OPS: &[&str] = &[
    "MailItemsAccessed",
    "Send",
    "New-InboxRule",
    "UserLoggedIn",
    "MailboxLogin",
];
const APPS: &[&str] = &[
    "00000002-0000-0ff1-ce00-000000000000",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c",
    "bb5a3a8c-1a1f-4b2e-9f4e-0c1e2d3f4a5b",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64) Outlook/16.0",
    "python-requests/2.31.0",
    "Client=REST;Client=RESTSystem;;",
];
const FOLDERS: &[&str] = &["\\Inbox", "\\Sent Items", "\\Inbox\\Finance", "\\Archive"];
const IPS: &[&str] = &[
    "203.0.113.7",
    "203.0.113.200",
    "198.51.100.1",
    "198.51.100.130",
    "10.1.2.3",
    "2001:db8::1",
    "2001:db8:ffff::9",
    "2603:1026::5",
];
const TENANTS: &[&str] = &["tenant-a", "tenant-b"];
/// Workloads, one of them in three spellings: a query for one matches all three, which lie apart
/// in a column's sorted values.
const WORKLOADS: &[&str] = &[
    "Exchange",
    "EXCHANGE",
    "exchange",
    "AzureActiveDirectory",
    "SharePoint",
];
/// Mailbox owners: the users, and one written with blanks around it.
const OWNERS: &[&str] = &[
    "alice@contoso.com",
    "Bob@Contoso.com",
    "Ünal@contoso.com",
    " carol@fabrikam.com ",
];
/// `Identity` parameters of cmdlets, as Exchange writes them.
const IDENTITIES: &[&str] = &[
    "alice@contoso.com",
    "Bob@Contoso.com\\Forward all",
    "dave@contoso.com:\\Inbox",
    "Ünal@contoso.com",
];
/// Identifiers, two of them differing only in their last character and in letter case.
const SESSIONS: &[&str] = &[
    "3f2c9a1e-0b7d-4c55-9e21-7d0c4b1a2e3f",
    "3F2C9A1E-0B7D-4C55-9E21-7D0C4B1A2E40",
    "s-1",
];
const TOKENS: &[&str] = &["x5M2hnGhFkqxQ5yX0vUFAA", "x5m2hnghfkqxq5yx0vufab"];
const MESSAGES: &[&str] = &[
    "<CAF=x1@mail.contoso.com>",
    "<caf=x2@mail.contoso.com>",
    "<AM0PR01MB1234@eurprd01.prod.outlook.com>",
];
/// 2026-01-01T00:00:00Z.
const EPOCH: i64 = 1_767_225_600;

fn pick<'a>(items: &'a [&'a str]) -> impl Strategy<Value = &'a str> + 'a {
    (0..items.len()).prop_map(move |i| items[i])
}

fn event() -> impl Strategy<Value = AuditEvent> {
    (
        (
            0i64..10 * 86_400,
            0u32..3,
            pick(USERS),
            pick(OPS),
            pick(TENANTS),
            pick(WORKLOADS),
        ),
        (
            proptest::option::of(pick(APPS)),
            proptest::option::of(pick(AGENTS)),
            proptest::option::of(pick(IPS)),
            proptest::option::of(pick(OWNERS)),
            proptest::option::of(pick(IDENTITIES)),
        ),
        (
            proptest::option::of(0u64..300),
            proptest::option::of(any::<bool>()),
            proptest::collection::vec(pick(FOLDERS), 0..3),
            any::<bool>(),
        ),
        (
            proptest::option::of(pick(SESSIONS)),
            proptest::option::of(pick(TOKENS)),
            proptest::collection::vec(pick(MESSAGES), 0..3),
        ),
    )
        .prop_map(
            |(
                (secs, nanos, user, op, tenant, workload),
                (app, agent, ip, owner, identity),
                (count, throttled, folders, bind),
                (session, token, messages),
            )| {
                let mail_access = (op == "MailItemsAccessed").then(|| MailAccess {
                    access_type: Some(if bind {
                        MailAccessType::Bind
                    } else {
                        MailAccessType::Sync
                    }),
                    is_throttled: throttled,
                    operation_count: count,
                    folders: folders
                        .iter()
                        .map(|p| Folder {
                            path: Some((*p).into()),
                            ..Default::default()
                        })
                        .chain((bind && !messages.is_empty()).then(|| Folder {
                            message_ids: messages.iter().map(|m| (*m).into()).collect(),
                            ..Default::default()
                        }))
                        .collect(),
                });
                // Other mailbox operations name the messages they act on, each in a folder.
                let items = if op == "MailItemsAccessed" {
                    Vec::new()
                } else {
                    messages
                        .iter()
                        .enumerate()
                        .map(|(i, m)| MailItem {
                            internet_message_id: Some((*m).into()),
                            folder: folders.get(i).map(|f| (*f).into()),
                            ..Default::default()
                        })
                        .collect()
                };
                AuditEvent {
                    // Whole seconds mostly, and some sub-second times, to test ties and bounds.
                    time: Timestamp::new(EPOCH + secs, (nanos * 250_000_000) as i32).unwrap(),
                    tenant_id: Some(tenant.into()),
                    workload: Some(workload.into()),
                    operation: op.into(),
                    user_id: Some(user.into()),
                    client_app_id: app.map(Into::into),
                    user_agent: agent.map(Into::into),
                    client_ip: ip.and_then(|s| s.parse().ok()),
                    mailbox_owner_upn: owner.map(Into::into),
                    session_id: session.map(Into::into),
                    unique_token_id: token.map(Into::into),
                    mail_access,
                    items,
                    parameters: identity
                        .map(|v| NameValue {
                            name: "Identity".into(),
                            value: v.into(),
                        })
                        .into_iter()
                        .collect(),
                    ..Default::default()
                }
            },
        )
}

/// `field:"value"` for one of `values`, as written, in upper case or in lower case.
fn in_any_case(field: &'static str, values: &'static [&'static str]) -> BoxedStrategy<String> {
    (pick(values), 0..3)
        .prop_map(move |(v, case)| {
            let v = match case {
                0 => v.to_owned(),
                1 => v.to_uppercase(),
                _ => v.to_lowercase(),
            };
            format!("{field}:\"{v}\"")
        })
        .boxed()
}

/// Queries as a person types them, from leaves the events can match.
fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        in_any_case("user", USERS),
        Just("user:*@contoso.com".to_owned()),
        Just("UserId:?ob*".to_owned()),
        pick(OPS).prop_map(|o| format!("op:{}", o.to_lowercase())),
        Just("op:Mail*".to_owned()),
        Just("Operation:*Login".to_owned()),
        pick(&[
            "203.0.113.0/24",
            "198.51.100.0/25",
            "2001:db8::/32",
            "10.0.0.0/8",
            "203.0.113.7",
            "::/0"
        ])
        .prop_map(|c| format!("ip:{c}")),
        Just("ip:[198.51.100.0 TO 203.0.113.10]".to_owned()),
        (0i64..11, 0i64..11).prop_map(|(a, b)| format!(
            "time:[2026-01-{:02} TO 2026-01-{:02}]",
            a + 1,
            b + 1
        )),
        (0i64..10 * 86_400)
            .prop_map(|s| format!("time:>{}", Timestamp::from_second(EPOCH + s).unwrap())),
        (0i64..10 * 86_400)
            .prop_map(|s| format!("time:<={}", Timestamp::from_second(EPOCH + s).unwrap())),
        (0i64..300).prop_map(|n| format!("op_count:>{n}")),
        (0i64..300, 0i64..300).prop_map(|(a, b)| format!("op_count:{{{a} TO {b}]")),
        Just("op_count:*".to_owned()),
        Just("client_app:*".to_owned()),
        pick(APPS).prop_map(|a| format!("ClientAppId:{}", a.to_uppercase())),
        pick(&["true", "false"]).prop_map(|b| format!("throttled:{b}")),
        pick(&["Bind", "1"]).prop_map(|b| format!("access_type:{b}")),
        pick(FOLDERS).prop_map(|f| format!("folder:\"{}\"", f.replace('\\', "\\\\"))),
        Just("folder:*inbox*".to_owned()),
        pick(USERS).prop_map(|u| format!("mailbox:\"{u}\"")),
        in_any_case("tenant", TENANTS),
        Just("tenant:*-B".to_owned()),
        in_any_case("workload", WORKLOADS),
        Just("workload:exch*".to_owned()),
        Just("Workload:*".to_owned()),
        Just("workload:nope".to_owned()),
        in_any_case("touches", USERS),
        Just("touches:*@fabrikam.com".to_owned()),
        Just("target_mailbox:*".to_owned()),
        in_any_case("session", SESSIONS),
        Just("SessionId:*".to_owned()),
        pick(TOKENS).prop_map(|t| format!("token:{t}")),
        Just("token:*".to_owned()),
        in_any_case("message_id", MESSAGES),
        Just("msgid:*".to_owned()),
        pick(&[
            "outlook",
            "Python",
            "\"windows nt\"",
            "\"nt 10\"",
            "inbox",
            "finance",
            "out*",
            "ünal",
            "contoso",
            "\"sent items\"",
            "rest"
        ])
        .prop_map(str::to_owned),
    ]
}

fn query() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND NOT {b}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.prop_map(|a| format!("NOT {a}")),
        ]
    })
}

// ---- the model ---------------------------------------------------------------------------

fn lower(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A wildcard matcher by dynamic programming over characters.
fn glob(p: &WildcardPattern, text: &str) -> bool {
    let mut pat: Vec<Option<Option<char>>> = Vec::new(); // None = *, Some(None) = ?, Some(Some(c)) = c
    for part in p.parts() {
        match part {
            WildcardPart::Literal(l) => pat.extend(l.chars().map(|c| Some(Some(c)))),
            WildcardPart::AnyRun => pat.push(None),
            WildcardPart::AnyChar => pat.push(Some(None)),
        }
    }
    let t: Vec<char> = text.chars().collect();
    let mut dp = vec![vec![false; t.len() + 1]; pat.len() + 1];
    dp[0][0] = true;
    for i in 1..=pat.len() {
        for j in 0..=t.len() {
            dp[i][j] = match pat[i - 1] {
                None => dp[i - 1][j] || (j > 0 && dp[i][j - 1]),
                Some(None) => j > 0 && dp[i - 1][j - 1],
                Some(Some(c)) => j > 0 && dp[i - 1][j - 1] && t[j - 1] == c,
            };
        }
    }
    dp[pat.len()][t.len()]
}

/// The values of a keyword field in the model's own reading of the event.
fn keyword_values(ev: &AuditEvent, f: SearchField) -> Vec<String> {
    let ma = ev.mail_access.as_ref();
    match f {
        SearchField::Common(Field::User) => ev.user_id.iter().cloned().collect(),
        SearchField::Common(Field::Operation) => vec![ev.operation.clone()],
        SearchField::Common(Field::ClientAppId) => ev.client_app_id.iter().cloned().collect(),
        SearchField::Common(Field::Tenant) => ev.tenant_id.iter().cloned().collect(),
        SearchField::Common(Field::Workload) => ev.workload.iter().cloned().collect(),
        // The owner; else the user, of Exchange (so spelled) only.
        SearchField::Common(Field::Mailbox) => ev
            .mailbox_owner_upn
            .clone()
            .or_else(|| {
                ev.user_id
                    .clone()
                    .filter(|_| ev.workload.as_deref() == Some("Exchange"))
            })
            .into_iter()
            .collect(),
        // The mailbox without blanks, and the mailbox part of an `Identity`.
        SearchField::Touches => keyword_values(ev, SearchField::Common(Field::Mailbox))
            .iter()
            .map(|m| m.trim().to_owned())
            .chain(ev.parameters.iter().map(|p| {
                let v = p.value.as_str();
                v.split(":\\")
                    .next()
                    .unwrap_or(v)
                    .split('\\')
                    .next()
                    .unwrap_or(v)
                    .to_owned()
            }))
            .collect(),
        SearchField::Common(Field::AccessType) => ma
            .and_then(|m| m.access_type.as_ref())
            .map(|a| a.to_string())
            .into_iter()
            .collect(),
        SearchField::Common(Field::Session) => ev.session_id.iter().cloned().collect(),
        SearchField::Common(Field::Token) => ev.unique_token_id.iter().cloned().collect(),
        SearchField::MessageId => ma
            .into_iter()
            .flat_map(|m| &m.folders)
            .flat_map(|f| f.message_ids.iter().cloned())
            .chain(
                ev.items
                    .iter()
                    .filter_map(|i| i.internet_message_id.clone()),
            )
            .collect(),
        SearchField::Folder => ma
            .into_iter()
            .flat_map(|m| &m.folders)
            .filter_map(|f| f.path.clone())
            .chain(ev.items.iter().filter_map(|i| i.folder.clone()))
            .collect(),
        other => panic!("the model does not generate {other}"),
    }
}

fn text_values(ev: &AuditEvent) -> Vec<String> {
    let mut v = vec![ev.operation.clone()];
    v.extend(ev.user_id.clone());
    v.extend(ev.user_agent.clone());
    v.extend(ev.mailbox_owner_upn.clone());
    v.extend(keyword_values(ev, SearchField::Folder));
    for p in &ev.parameters {
        v.push(p.name.clone());
        v.push(p.value.clone());
    }
    v
}

fn in_bounds<T: PartialOrd>(v: T, from: &Bound<T>, to: &Bound<T>) -> bool {
    let lo = match from {
        Bound::Included(a) => v >= *a,
        Bound::Excluded(a) => v > *a,
        Bound::Unbounded => true,
    };
    let hi = match to {
        Bound::Included(b) => v <= *b,
        Bound::Excluded(b) => v < *b,
        Bound::Unbounded => true,
    };
    lo && hi
}

fn matches(e: &Expr, ev: &AuditEvent) -> bool {
    match e {
        Expr::All => true,
        Expr::And(v) => v.iter().all(|e| matches(e, ev)),
        Expr::Or(v) => v.iter().any(|e| matches(e, ev)),
        Expr::Not(e) => !matches(e, ev),
        Expr::Clause(c) => clause(c, ev),
    }
}

fn clause(c: &Clause, ev: &AuditEvent) -> bool {
    let ma = ev.mail_access.as_ref();
    match c {
        Clause::Keyword { field, value } => keyword_values(ev, *field)
            .iter()
            .any(|v| lower(v) == lower(value)),
        Clause::Wildcard { field, pattern } => {
            let p = pattern.to_lowercase();
            keyword_values(ev, *field)
                .iter()
                .any(|v| glob(&p, &lower(v)))
        }
        Clause::Exists { field } => match field {
            SearchField::OpCount => ma.and_then(|m| m.operation_count).is_some(),
            f => !keyword_values(ev, *f).is_empty(),
        },
        Clause::Words { words: want } => text_values(ev).iter().any(|v| {
            let have = words(v);
            have.windows(want.len()).any(|w| w == want.as_slice())
        }),
        Clause::WordWildcard { pattern } => text_values(ev)
            .iter()
            .flat_map(|v| words(v))
            .any(|w| glob(pattern, &w)),
        Clause::Int { field, from, to } => {
            assert_eq!(*field, SearchField::OpCount);
            ma.and_then(|m| m.operation_count)
                .is_some_and(|n| in_bounds(n as i64, from, to))
        }
        Clause::Ip { first, last } => ev.client_ip.is_some_and(|ip| {
            let v6 = match ip {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            v6 >= *first && v6 <= *last
        }),
        Clause::Time { from, to } => in_bounds(ev.time, from, to),
        Clause::Bool { value, .. } => ma.and_then(|m| m.is_throttled) == Some(*value),
    }
}

// ---- the properties ----------------------------------------------------------------------

fn build(events: &[AuditEvent]) -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    for (seq, ev) in events.iter().enumerate() {
        index.add(seq as u64, ev).unwrap();
    }
    index.commit(events.len() as u64).unwrap();
    (dir, index)
}

/// The expected hits, newest first, ties by sequence number newest first.
fn expected(events: &[AuditEvent], q: &Query, opts: &SearchOptions) -> Vec<u64> {
    let mut hits: Vec<(Timestamp, u64)> = events
        .iter()
        .enumerate()
        .filter(|(_, ev)| matches(q.expr(), ev))
        .filter(|(_, ev)| {
            opts.from.is_none_or(|f| ev.time >= f) && opts.to.is_none_or(|t| ev.time < t)
        })
        .filter(|(_, ev)| {
            opts.tenant.as_ref().is_none_or(|t| {
                ev.tenant_id
                    .as_deref()
                    .is_some_and(|e| lower(e) == lower(t))
            })
        })
        .map(|(seq, ev)| (ev.time, seq as u64))
        .collect();
    hits.sort_by(|a, b| b.cmp(a));
    hits.into_iter().map(|(_, s)| s).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn search_equals_brute_force(
        events in proptest::collection::vec(event(), 0..120),
        queries in proptest::collection::vec(query(), 1..12),
        tenant in proptest::option::of(pick(TENANTS)),
        window in proptest::option::of((0i64..10 * 86_400, 0i64..5 * 86_400)),
    ) {
        let (_dir, index) = build(&events);
        for text in &queries {
            let q = Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let mut opts = SearchOptions { limit: 1000, ..SearchOptions::default() };
            opts.tenant = tenant.map(str::to_uppercase);
            if let Some((start, len)) = window {
                opts.from = Timestamp::from_second(EPOCH + start).ok();
                opts.to = Timestamp::from_second(EPOCH + start + len).ok();
            }
            let want = expected(&events, &q, &opts);
            let page = index.search(&q, &opts).unwrap();
            let got: Vec<u64> = page.hits.iter().map(|h| h.seq).collect();
            prop_assert_eq!(&got, &want, "query {} ({})", text, q.expr());
            prop_assert_eq!(page.total, want.len() as u64);
            prop_assert!(page.next.is_none());
        }
    }

    #[test]
    fn cursor_pages_concatenate_to_the_whole_result(
        events in proptest::collection::vec(event(), 0..150),
        text in query(),
        limit in 1usize..20,
    ) {
        let (_dir, index) = build(&events);
        let q = Query::parse(&text).unwrap();
        let want = expected(&events, &q, &SearchOptions::default());
        let mut got = Vec::new();
        let mut opts = SearchOptions { limit, ..SearchOptions::default() };
        loop {
            let page = index.search(&q, &opts).unwrap();
            prop_assert!(page.hits.len() <= limit);
            got.extend(page.hits.iter().map(|h| h.seq));
            match page.next {
                Some(c) => opts.after = Some(c),
                None => break,
            }
            prop_assert!(got.len() <= want.len());
        }
        prop_assert_eq!(&got, &want);
        // Offsets give the same pages.
        let second = index.search(&q, &SearchOptions { limit, offset: limit, ..SearchOptions::default() }).unwrap();
        let offset_seqs: Vec<u64> = second.hits.iter().map(|h| h.seq).collect();
        prop_assert_eq!(&offset_seqs[..], &want[want.len().min(limit)..want.len().min(2 * limit)]);
    }

    #[test]
    fn stats_equal_direct_counts(
        events in proptest::collection::vec(event(), 0..150),
        text in query(),
        hourly in any::<bool>(),
    ) {
        let (_dir, index) = build(&events);
        let q = Query::parse(&text).unwrap();
        let interval = if hourly { "6h" } else { "1d" };
        let req = StatsRequest {
            by: vec![
                SearchField::from_name("client_app").unwrap(),
                SearchField::from_name("op").unwrap(),
                SearchField::from_name("ip").unwrap(),
            ],
            interval: Some(interval.parse().unwrap()),
        };
        let stats = index.stats(&q, &SearchOptions::default(), &req).unwrap();
        let width = if hourly { 6 * 3600 } else { 86_400 };
        let mut want: HashMap<(i64, Vec<Option<String>>), u64> = HashMap::new();
        for ev in events.iter().filter(|ev| matches(q.expr(), ev)) {
            let bucket = ev.time.as_second().div_euclid(width) * width;
            let key = vec![
                ev.client_app_id.clone(),
                Some(ev.operation.clone()),
                ev.client_ip.map(|i| i.to_string()),
            ];
            *want.entry((bucket, key)).or_default() += 1;
        }
        let got: HashMap<(i64, Vec<Option<String>>), u64> = stats
            .rows
            .iter()
            .map(|r| ((r.bucket.unwrap().as_second(), r.values.clone()), r.count))
            .collect();
        prop_assert_eq!(got.len(), stats.rows.len(), "one row per group");
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(stats.total, want.values().sum::<u64>());
        // Rows come oldest bucket first, largest count first within a bucket.
        for w in stats.rows.windows(2) {
            prop_assert!(w[0].bucket < w[1].bucket || (w[0].bucket == w[1].bucket && w[0].count >= w[1].count));
        }
    }

    #[test]
    fn timeline_lists_what_touched_a_mailbox_in_order(
        events in proptest::collection::vec(event(), 0..150),
        mailbox in pick(USERS),
    ) {
        let (_dir, index) = build(&events);
        let tl = index.timeline(&mailbox.to_uppercase(), &SearchOptions { limit: 10_000, ..SearchOptions::default() }).unwrap();
        let mut want: Vec<(Timestamp, u64)> = events
            .iter()
            .enumerate()
            .filter(|(_, ev)| keyword_values(ev, SearchField::Touches).iter().any(|m| lower(m) == lower(mailbox)))
            .map(|(seq, ev)| (ev.time, seq as u64))
            .collect();
        want.sort();
        let got: Vec<(Timestamp, u64)> = tl.hits.iter().map(|h| (h.time, h.seq)).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn ip_model_and_index_agree_on_v4_mapped_addresses() {
    let ev = AuditEvent {
        client_ip: Some("203.0.113.9".parse().unwrap()),
        ..Default::default()
    };
    let (_dir, index) = build(std::slice::from_ref(&ev));
    for (q, hit) in [
        ("ip:203.0.113.0/24", true),
        ("ip:::ffff:203.0.113.9", true),
        ("ip:2001:db8::/32", false),
        ("ip:::/0", true),
        ("ip:0.0.0.0/0", true),
    ] {
        let query = Query::parse(q).unwrap();
        assert_eq!(matches(query.expr(), &ev), hit, "model {q}");
        let page = index.search(&query, &SearchOptions::default()).unwrap();
        assert_eq!(page.total, u64::from(hit), "index {q}");
    }
    assert_eq!(
        "::ffff:203.0.113.9"
            .parse::<Ipv6Addr>()
            .unwrap()
            .to_ipv4_mapped(),
        "203.0.113.9".parse().ok()
    );
}
