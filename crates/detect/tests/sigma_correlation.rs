//! Sigma correlations over batch input: windows measured on the events' own times, at their
//! edges, per group, folded into one match per burst with all of its evidence.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod sigma_util;

use mailtrail_detect::Severity;
use mailtrail_detect::sigma::{SigmaMatch, SigmaMatcher};
use mailtrail_event::AuditEvent;
use sigma_util::{builtin, event, rules, run};

/// A UAL record of `operation` by `user` at `time`.
fn ual(id: &str, time: &str, operation: &str, user: &str) -> AuditEvent {
    event(&format!(
        r#"{{"CreationTime":"{time}","Id":"{id}","Operation":"{operation}","OrganizationId":"c0ffee00-0000-4000-8000-000000000000","RecordType":2,"ResultStatus":"Succeeded","UserKey":"k","UserType":0,"Version":1,"Workload":"Exchange","UserId":"{user}","ClientIPAddress":"198.51.100.4","MailboxOwnerUPN":"{user}","LogonType":0}}"#
    ))
}

/// A Graph sign-in of `user` from `ip` at `time` that failed with `code` (0 = success).
fn sign_in(id: &str, time: &str, user: &str, ip: &str, code: i64) -> AuditEvent {
    event(&format!(
        r#"{{"id":"{id}","createdDateTime":"{time}","userPrincipalName":"{user}","userId":"u-{user}","appId":"1b730954-1685-4b74-9bfd-dac224a7b894","appDisplayName":"Azure Active Directory PowerShell","ipAddress":"{ip}","clientAppUsed":"Browser","correlationId":"c-{id}","conditionalAccessStatus":"notApplied","isInteractive":true,"status":{{"errorCode":{code},"failureReason":"Invalid username or password or Invalid on-premises username or password."}},"location":{{"city":"Lagos","countryOrRegion":"NG"}}}}"#
    ))
}

/// `n` minutes (and `s` seconds) after 09:00 on 2019-03-04: correlations must work on old data.
fn at(m: u32, s: u32) -> String {
    format!("2019-03-04T{:02}:{:02}:{s:02}", 9 + m / 60, m % 60)
}

const COUNT: &str = r#"
title: Mailbox folder opened
id: 0f0e0000-0000-4000-8000-000000000001
name: folder_opened
logsource: { product: m365, service: exchange }
detection: { sel: { Operation: FolderBind }, condition: sel }
level: informational
---
title: Many folders opened
id: 0f0e0000-0000-4000-8000-000000000002
correlation:
    type: event_count
    rules: [folder_opened]
    group-by: [UserId]
    timespan: 10m
    condition: { gte: 3 }
level: high
tags: [attack.collection, attack.t1114.002]
"#;

fn correlations(matches: &[SigmaMatch]) -> Vec<&SigmaMatch> {
    matches.iter().filter(|m| m.is_correlation).collect()
}

#[test]
fn event_count_fires_when_the_last_event_is_exactly_one_timespan_after_the_first() {
    let events = [
        ual("a1", &at(0, 0), "FolderBind", "alice@contoso.example"),
        ual("a2", &at(4, 0), "FolderBind", "alice@contoso.example"),
        ual("a3", &at(10, 0), "FolderBind", "alice@contoso.example"),
    ];
    let matches = run(&rules(COUNT), &events);
    let found = correlations(&matches);
    assert_eq!(found.len(), 1, "{matches:?}");
    let m = found[0];
    assert_eq!(m.title, "Many folders opened");
    assert_eq!(m.level, Severity::High);
    assert_eq!(m.attack, vec!["T1114.002"]);
    assert_eq!(m.record_ids, vec!["a1", "a2", "a3"]);
    assert_eq!(
        m.group_key,
        vec![("UserId".to_owned(), "alice@contoso.example".to_owned())]
    );
    assert_eq!(m.first, events[0].time);
    assert_eq!(m.last, events[2].time);
}

#[test]
fn event_count_does_not_fire_one_second_past_the_timespan() {
    let events = [
        ual("a1", &at(0, 0), "FolderBind", "alice@contoso.example"),
        ual("a2", &at(4, 0), "FolderBind", "alice@contoso.example"),
        ual("a3", &at(10, 1), "FolderBind", "alice@contoso.example"),
    ];
    assert!(correlations(&run(&rules(COUNT), &events)).is_empty());
}

#[test]
fn groups_are_counted_apart() {
    let events = [
        ual("a1", &at(0, 0), "FolderBind", "alice@contoso.example"),
        ual("b1", &at(1, 0), "FolderBind", "bob@contoso.example"),
        ual("a2", &at(2, 0), "FolderBind", "alice@contoso.example"),
        ual("b2", &at(3, 0), "FolderBind", "bob@contoso.example"),
        ual("b3", &at(4, 0), "FolderBind", "bob@contoso.example"),
    ];
    let matches = run(&rules(COUNT), &events);
    let found = correlations(&matches);
    assert_eq!(found.len(), 1, "{matches:?}");
    assert_eq!(found[0].record_ids, vec!["b1", "b2", "b3"]);
    assert_eq!(found[0].group_key[0].1, "bob@contoso.example");
}

#[test]
fn repeated_firings_fold_into_one_match_per_burst() {
    let mut events: Vec<AuditEvent> = (0..6)
        .map(|i| {
            ual(
                &format!("x{i}"),
                &at(i, 0),
                "FolderBind",
                "alice@contoso.example",
            )
        })
        .collect();
    // A second burst two hours later.
    events.extend((0..3).map(|i| {
        ual(
            &format!("y{i}"),
            &at(120 + i, 0),
            "FolderBind",
            "alice@contoso.example",
        )
    }));
    let matches = run(&rules(COUNT), &events);
    let found = correlations(&matches);
    assert_eq!(found.len(), 2, "{matches:?}");
    assert_eq!(
        found[0].record_ids,
        vec!["x0", "x1", "x2", "x3", "x4", "x5"]
    );
    assert_eq!(found[1].record_ids, vec!["y0", "y1", "y2"]);
    assert!(found[0].last < found[1].first);
}

#[test]
fn a_burst_is_emitted_once_a_later_event_closes_its_window_or_at_finish() {
    let rules = rules(COUNT);
    let mut matcher = SigmaMatcher::new(&rules);
    let mut out = Vec::new();
    for i in 0..3 {
        matcher.process(
            &ual(
                &format!("a{i}"),
                &at(i, 0),
                "FolderBind",
                "alice@contoso.example",
            ),
            &mut out,
        );
    }
    // The burst may still grow: nothing yet.
    assert!(correlations(&out).is_empty());
    // An unrelated event 11 minutes after the last one closes it.
    matcher.process(
        &ual("z", &at(13, 0), "Send", "carol@contoso.example"),
        &mut out,
    );
    assert_eq!(correlations(&out).len(), 1);
    matcher.finish(&mut out);
    assert_eq!(correlations(&out).len(), 1, "emitted twice");

    // Without a later event, finish emits it.
    let mut matcher = SigmaMatcher::new(&rules);
    let mut out = Vec::new();
    for i in 0..3 {
        matcher.process(
            &ual(
                &format!("a{i}"),
                &at(i, 0),
                "FolderBind",
                "alice@contoso.example",
            ),
            &mut out,
        );
    }
    assert!(correlations(&out).is_empty());
    matcher.finish(&mut out);
    assert_eq!(correlations(&out).len(), 1);
}

#[test]
fn the_counted_rule_stays_quiet_unless_the_correlation_generates_it() {
    let quiet = run(
        &rules(COUNT),
        &[ual("a1", &at(0, 0), "FolderBind", "alice@contoso.example")],
    );
    assert!(quiet.is_empty(), "{quiet:?}");
    let generating = COUNT.replace("timespan: 10m", "timespan: 10m\n    generate: true");
    let loud = run(
        &rules(&generating),
        &[ual("a1", &at(0, 0), "FolderBind", "alice@contoso.example")],
    );
    assert_eq!(loud.len(), 1);
    assert_eq!(loud[0].title, "Mailbox folder opened");
    assert!(!loud[0].is_correlation);
}

const TEMPORAL: &str = r#"
title: Forwarding rule created
id: 0f0e0000-0000-4000-8000-000000000011
name: forwarding_rule
logsource: { product: m365, service: exchange }
detection: { sel: { Operation: New-InboxRule }, condition: sel }
---
title: Mail sent
id: 0f0e0000-0000-4000-8000-000000000012
name: mail_sent
logsource: { product: m365, service: exchange }
detection: { sel: { Operation: Send }, condition: sel }
---
title: Rule then send
id: 0f0e0000-0000-4000-8000-000000000013
correlation:
    type: TYPE
    rules: [forwarding_rule, mail_sent]
    group-by: [UserId]
    timespan: 30m
level: medium
"#;

#[test]
fn temporal_needs_every_rule_within_the_window_in_any_order() {
    let yaml = TEMPORAL.replace("TYPE", "temporal");
    let rules = rules(&yaml);
    let both = [
        ual("s", &at(0, 0), "Send", "alice@contoso.example"),
        ual("r", &at(29, 59), "New-InboxRule", "alice@contoso.example"),
    ];
    let found = run(&rules, &both);
    let found = correlations(&found);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record_ids, vec!["s", "r"]);

    let apart = [
        ual("s", &at(0, 0), "Send", "alice@contoso.example"),
        ual("r", &at(30, 1), "New-InboxRule", "alice@contoso.example"),
    ];
    assert!(correlations(&run(&rules, &apart)).is_empty());
    let other_user = [
        ual("s", &at(0, 0), "Send", "alice@contoso.example"),
        ual("r", &at(1, 0), "New-InboxRule", "bob@contoso.example"),
    ];
    assert!(correlations(&run(&rules, &other_user)).is_empty());
}

#[test]
fn temporal_ordered_needs_the_rules_in_their_order() {
    let yaml = TEMPORAL.replace("TYPE", "temporal_ordered");
    let rules = rules(&yaml);
    let in_order = [
        ual("r", &at(0, 0), "New-InboxRule", "alice@contoso.example"),
        ual("s", &at(5, 0), "Send", "alice@contoso.example"),
    ];
    assert_eq!(correlations(&run(&rules, &in_order)).len(), 1);
    let reversed = [
        ual("s", &at(0, 0), "Send", "alice@contoso.example"),
        ual("r", &at(5, 0), "New-InboxRule", "alice@contoso.example"),
    ];
    assert!(correlations(&run(&rules, &reversed)).is_empty());
}

/// The built-in password spray correlation: distinct accounts failing from one address.
fn spray(users: usize, minutes_apart: u32, ip: &str) -> Vec<AuditEvent> {
    (0..users)
        .map(|i| {
            sign_in(
                &format!("s{i}"),
                &format!("{}Z", at(i as u32 * minutes_apart, 0)),
                &format!("user{i}@contoso.example"),
                ip,
                50126,
            )
        })
        .collect()
}

fn spray_matches(events: &[AuditEvent]) -> Vec<SigmaMatch> {
    run(&builtin(), events)
        .into_iter()
        .filter(|m| m.title == "Password spray from one address")
        .collect()
}

#[test]
fn ten_accounts_failing_from_one_address_within_an_hour_is_a_password_spray() {
    let events = spray(10, 6, "203.0.113.77"); // the tenth at 54 minutes
    let found = spray_matches(&events);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].record_ids.len(), 10);
    assert_eq!(
        found[0].group_key,
        vec![("ipAddress".to_owned(), "203.0.113.77".to_owned())]
    );
    assert_eq!(found[0].attack, vec!["T1110.003"]);
    assert!(found[0].builtin);
    // The single failures that feed it are not reported on their own.
    assert!(run(&builtin(), &events[..1]).is_empty());
}

#[test]
fn nine_accounts_or_ten_spread_over_more_than_an_hour_are_not() {
    assert!(spray_matches(&spray(9, 1, "203.0.113.77")).is_empty());
    assert!(spray_matches(&spray(10, 7, "203.0.113.77")).is_empty()); // the tenth at 63 minutes
    // One account failing ten times is a forgotten password, not a spray.
    let one_user: Vec<AuditEvent> = (0..10)
        .map(|i| {
            sign_in(
                &format!("s{i}"),
                &format!("{}Z", at(i, 0)),
                "user0@contoso.example",
                "203.0.113.77",
                50126,
            )
        })
        .collect();
    assert!(spray_matches(&one_user).is_empty());
    // Ten successful sign-ins from one address are an office.
    let office: Vec<AuditEvent> = (0..10)
        .map(|i| {
            sign_in(
                &format!("s{i}"),
                &format!("{}Z", at(i, 0)),
                &format!("user{i}@contoso.example"),
                "203.0.113.77",
                0,
            )
        })
        .collect();
    assert!(spray_matches(&office).is_empty());
}

#[test]
fn sprays_from_two_addresses_are_two_matches() {
    let mut events = spray(10, 1, "203.0.113.77");
    events.extend(spray(10, 1, "198.51.100.99"));
    events.sort_by_key(|e| e.time);
    let found = spray_matches(&events);
    assert_eq!(found.len(), 2);
    let mut ips: Vec<&str> = found.iter().map(|m| m.group_key[0].1.as_str()).collect();
    ips.sort();
    assert_eq!(ips, ["198.51.100.99", "203.0.113.77"]);
}
