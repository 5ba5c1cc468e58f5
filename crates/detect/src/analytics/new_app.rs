//! New application reading mail: the signal that caught Storm-0558 (CISA AA23-193A).
//!
//! The one customer that noticed Storm-0558 did so because `MailItemsAccessed` records showed an
//! `AppId`/`ClientAppId` that had never read its mail before. This analytic learns which pairs read
//! mail during the baseline, tenant-wide and per mailbox, and fires when a pair reads mail after it:
//! tenant-wide novelty is a finding on its own; a known third-party app reading a mailbox it never
//! read before is context (low). Microsoft first-party apps are named, never silently trusted.

use mailtrail_event::AuditEvent;

use super::{Analytic, Attribution, Ctx, Evidence, Signal, app_pair, techniques};
use crate::apps::app_name;
use crate::finding::Severity;
use crate::{HashMap, HashSet};

/// See the module documentation.
#[derive(Default)]
pub(crate) struct NewAppReadingMail {
    /// `(tenant, app, client app)` pairs that have read mail.
    tenant_pairs: HashSet<(String, String, String)>,
    /// `(mailbox, app, client app)` triples that have read mail.
    mailbox_pairs: HashSet<(String, String, String)>,
    /// Mailboxes each known pair has read, for pairs seen in the baseline: an app that already read
    /// most mailboxes (backup, archiving) reading a new one is not news.
    breadth: HashMap<(String, String, String), usize>,
    /// Pairs first seen after the baseline: already a finding, whose attribution collects every
    /// mailbox they read.
    flagged: HashSet<(String, String, String)>,
    learned_any: bool,
}

pub(crate) const NAME: &str = "new-app-reading-mail";
const ATTACK: &[&str] = &["T1114.002", "T1550.001"];

impl Analytic for NewAppReadingMail {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        if !ev.reads_mail() {
            return;
        }
        let Some((app, client_app)) = app_pair(ev) else {
            return;
        };
        let tenant = ev.tenant_id.as_deref().unwrap_or("").to_ascii_lowercase();
        let mailbox = ev.mailbox().unwrap_or("").to_ascii_lowercase();
        let tenant_key = (tenant.clone(), app.clone(), client_app.clone());
        let mailbox_key = (mailbox.clone(), app.clone(), client_app.clone());

        if ctx.learning {
            self.learned_any = true;
            if self.mailbox_pairs.insert(mailbox_key) && !self.flagged.contains(&tenant_key) {
                *self.breadth.entry(tenant_key.clone()).or_default() += 1;
            }
            self.tenant_pairs.insert(tenant_key);
            return;
        }

        if self.tenant_pairs.insert(tenant_key.clone()) {
            self.mailbox_pairs.insert(mailbox_key);
            self.flagged.insert(tenant_key.clone());
            let first_party = app_name(&client_app).is_some() && app_name(&app).is_some();
            let mut attribution = vec![Attribution::AppPair {
                tenant: tenant.clone(),
                app: app.clone(),
                client_app: client_app.clone(),
            }];
            if !client_app.is_empty() && app_name(&client_app).is_none() {
                attribution.push(Attribution::ClientApp {
                    tenant: tenant.clone(),
                    app: client_app.clone(),
                });
            }
            ctx.emit(Signal {
                detector: NAME,
                key: format!("tenant|{tenant}|{app}|{client_app}"),
                title: format!(
                    "New application reading mail: {}",
                    describe(&app, &client_app)
                ),
                severity: if first_party {
                    Severity::Medium
                } else {
                    Severity::High
                },
                attack: techniques(ATTACK),
                reason: format!(
                    "{} read mail in this tenant for the first time since the baseline{}; first \
                     mailbox read: {}.",
                    describe(&app, &client_app),
                    if first_party {
                        " (both ids are Microsoft first-party apps, which attackers also use)"
                    } else {
                        ""
                    },
                    if mailbox.is_empty() {
                        "unknown"
                    } else {
                        &mailbox
                    },
                ),
                tenant: ev.tenant_id.clone(),
                evidence: vec![Evidence::of(ev)],
                attribution,
            });
            return;
        }

        if self.mailbox_pairs.insert(mailbox_key) && !self.flagged.contains(&tenant_key) {
            // First-party clients appear on new devices all the time; only third-party apps that
            // were not already reading across the tenant are worth noting per mailbox.
            let third_party = app_name(&client_app).is_none() || app_name(&app).is_none();
            let broad = self.breadth.get(&tenant_key).copied().unwrap_or(0) >= 5;
            if third_party && !broad && !mailbox.is_empty() {
                ctx.emit(Signal {
                    detector: NAME,
                    key: format!("mailbox|{mailbox}|{app}|{client_app}"),
                    title: format!(
                        "Application reading a mailbox it never read before: {}",
                        describe(&app, &client_app)
                    ),
                    severity: Severity::Low,
                    attack: techniques(ATTACK),
                    reason: format!(
                        "{} is known in the tenant but read mailbox {mailbox} for the first time \
                         since the baseline.",
                        describe(&app, &client_app)
                    ),
                    tenant: ev.tenant_id.clone(),
                    evidence: vec![Evidence::of(ev)],
                    attribution: Vec::new(),
                });
            }
        }
    }

    fn status(&self) -> super::DetectorStatus {
        if self.learned_any {
            super::DetectorStatus::Ran
        } else {
            super::DetectorStatus::Limited(
                "no mail access in the baseline period: every application counts as new".into(),
            )
        }
    }
}

/// `Name (AppId) via Name (ClientAppId)`, with names for Microsoft first-party ids.
fn describe(app: &str, client_app: &str) -> String {
    let one = |id: &str| match app_name(id) {
        Some(name) => format!("{name} ({id})"),
        None if id.is_empty() => "(none)".to_owned(),
        None => format!("unknown application {id}"),
    };
    if client_app.is_empty() || client_app == app {
        one(app)
    } else {
        format!("{} calling {}", one(client_app), one(app))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    const OUTLOOK: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
    const EVIL: &str = "5a95e683-08ad-424e-a441-1d1aec52c02c";

    #[test]
    fn an_app_first_seen_after_the_baseline_fires_once_per_tenant() {
        let events = vec![
            bind(
                "b1",
                "2026-01-02T09:00:00Z",
                "ann@c.example",
                GRAPH,
                OUTLOOK,
            ),
            bind(
                "b2",
                "2026-01-03T09:00:00Z",
                "bob@c.example",
                GRAPH,
                OUTLOOK,
            ),
            bind("n1", "2026-01-20T09:00:00Z", "ann@c.example", GRAPH, EVIL),
            bind("n2", "2026-01-20T09:05:00Z", "bob@c.example", GRAPH, EVIL),
            bind(
                "k1",
                "2026-01-21T09:00:00Z",
                "ann@c.example",
                GRAPH,
                OUTLOOK,
            ),
        ];
        let out = run(
            &mut NewAppReadingMail::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].severity, Severity::High);
        assert_eq!(out[0].evidence[0].record_id, "n1");
        assert!(out[0].reason.contains(EVIL));
        assert!(out[0].attribution.contains(&Attribution::ClientApp {
            tenant: TENANT.into(),
            app: EVIL.into()
        }));
    }

    #[test]
    fn nothing_fires_inside_the_baseline() {
        let events = vec![bind(
            "n1",
            "2026-01-02T09:00:00Z",
            "ann@c.example",
            GRAPH,
            EVIL,
        )];
        let out = run(
            &mut NewAppReadingMail::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert!(out.is_empty());
    }

    #[test]
    fn a_known_third_party_app_in_a_new_mailbox_is_low() {
        let events = vec![
            bind("b1", "2026-01-02T09:00:00Z", "ann@c.example", GRAPH, EVIL),
            bind("n1", "2026-01-20T09:00:00Z", "bob@c.example", GRAPH, EVIL),
            bind(
                "n2",
                "2026-01-20T10:00:00Z",
                "bob@c.example",
                GRAPH,
                OUTLOOK,
            ),
        ];
        let out = run(
            &mut NewAppReadingMail::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(out[0].severity, Severity::Low);
        assert_eq!(out[0].evidence[0].record_id, "n1");
        // The first-party pair is new to the tenant: medium, never silently trusted.
        assert_eq!(out[1].severity, Severity::Medium);
    }
}
