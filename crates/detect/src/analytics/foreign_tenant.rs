//! Foreign-tenant token: a mailbox accessed with a token another tenant issued.
//!
//! Exchange records the tenant that issued the access token as `TokenTenantId`. For a tenant's own
//! users it is the tenant itself; a different tenant means a guest or cross-tenant app — and the
//! Microsoft consumer (MSA) tenant means a consumer token on an enterprise mailbox, which is exactly
//! what Storm-0558's tokens, signed with an MSA key, were. Cross-tenant pairs seen during the
//! baseline are learned (legitimate partners); the consumer tenant is never learned.

use mailtrail_event::{AuditEvent, MSA_CONSUMER_TENANT_ID};

use super::{Analytic, Attribution, Ctx, Evidence, Signal, network_of, techniques};
use crate::HashSet;
use crate::finding::Severity;

pub(crate) const NAME: &str = "foreign-tenant-token";

/// See the module documentation.
#[derive(Default)]
pub(crate) struct ForeignTenantToken {
    /// `(tenant, token tenant)` pairs learned in the baseline.
    known: HashSet<(String, String)>,
}

impl Analytic for ForeignTenantToken {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        let (Some(tenant), Some(token_tenant)) = (&ev.tenant_id, &ev.token_tenant_id) else {
            return;
        };
        let tenant = tenant.trim().to_ascii_lowercase();
        let token_tenant = token_tenant.trim().to_ascii_lowercase();
        if token_tenant.is_empty() || tenant == token_tenant || ev.mailbox().is_none() {
            return;
        }
        let consumer = token_tenant == MSA_CONSUMER_TENANT_ID;
        if ctx.learning && !consumer {
            self.known.insert((tenant, token_tenant));
            return;
        }
        if !consumer && self.known.contains(&(tenant.clone(), token_tenant.clone())) {
            return;
        }
        let place = ev
            .client_ip
            .map(|ip| network_of(ip).to_string())
            .unwrap_or_default();
        let mailbox = ev.mailbox().unwrap_or_default().to_ascii_lowercase();
        let (title, severity, reason) = if consumer {
            (
                "Consumer (MSA) token used on an enterprise mailbox".to_owned(),
                Severity::Critical,
                format!(
                    "{} on mailbox {mailbox} used a token issued by the Microsoft consumer tenant \
                     {MSA_CONSUMER_TENANT_ID}; enterprise mailboxes never accept consumer tokens \
                     legitimately (Storm-0558 forged such tokens with a stolen MSA key).",
                    ev.operation
                ),
            )
        } else {
            (
                "Mailbox accessed with a token from another tenant".to_owned(),
                Severity::Medium,
                format!(
                    "{} on mailbox {mailbox} used a token issued by tenant {token_tenant}, which \
                     did not access this tenant's mail during the baseline.",
                    ev.operation
                ),
            )
        };
        ctx.emit(Signal {
            detector: NAME,
            key: format!("{tenant}|{token_tenant}|{place}"),
            title,
            severity,
            attack: techniques(&["T1550.001", "T1078.004"]),
            reason,
            tenant: ev.tenant_id.clone(),
            evidence: vec![Evidence::of(ev)],
            attribution: ev
                .unique_token_id
                .iter()
                .map(|t| Attribution::Token(t.clone()))
                .collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    const PARTNER: &str = "11111111-2222-4333-8444-555555555555";

    fn from_tenant(id: &str, time: &str, token_tenant: &str) -> AuditEvent {
        let mut ev = bind(id, time, "ann@c.example", GRAPH, GRAPH);
        ev.token_tenant_id = Some(token_tenant.into());
        ev
    }

    #[test]
    fn the_consumer_tenant_is_critical_even_in_the_baseline() {
        let events = vec![from_tenant(
            "m1",
            "2026-01-02T09:00:00Z",
            MSA_CONSUMER_TENANT_ID,
        )];
        let out = run(
            &mut ForeignTenantToken::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].severity, Severity::Critical);
    }

    #[test]
    fn a_partner_tenant_seen_in_the_baseline_is_learned() {
        let events = vec![
            from_tenant("m1", "2026-01-02T09:00:00Z", PARTNER),
            from_tenant("m2", "2026-01-20T09:00:00Z", PARTNER),
            from_tenant(
                "m3",
                "2026-01-20T09:00:00Z",
                "99999999-2222-4333-8444-555555555555",
            ),
            from_tenant("m4", "2026-01-20T09:00:00Z", TENANT),
        ];
        let out = run(
            &mut ForeignTenantToken::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].evidence[0].record_id, "m3");
        assert_eq!(out[0].severity, Severity::Medium);
    }
}
