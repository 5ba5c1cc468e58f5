//! `tenant.json`: ground truth about the generated organisation, for tests and evaluation.

use serde_json::{Value, json};

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::clock;
use crate::config::TenantConfig;
use crate::net;
use crate::tenant::Tenant;

/// The tenant as JSON: identity, period, people, shared mailboxes, offices and applications.
pub(crate) fn tenant_json(t: &Tenant, c: &TenantConfig) -> Value {
    let mut delegate_of: Vec<Vec<String>> = vec![Vec::new(); t.users.len()];
    for m in &t.mailboxes {
        for &d in &m.delegates {
            delegate_of[d as usize].push(m.upn.clone());
        }
    }
    let users: Vec<Value> = t
        .users
        .iter()
        .zip(delegate_of)
        .map(|(u, delegate_of)| {
            json!({
                "upn": u.upn,
                "display_name": u.display,
                "object_id": u.object_id,
                "office": t.offices[u.office].region.office_city,
                "role": u.role,
                "mfa": u.mfa,
                "desktop": u.desktop,
                "computer": u.computer,
                "home_computer": u.home_computer,
                "phone": u.phone,
                "phone_carrier": u.phone.map(|_| net::PROVIDERS[usize::from(u.carrier)].name),
                "phone_carrier_asn": u.phone.map(|_| net::PROVIDERS[usize::from(u.carrier)].asn),
                "new_phone_day": u.new_phone_day,
                "remote_access": u.remote,
                "home_ip": u.home.ip.to_string(),
                "home_asn": u.home.asn(),
                "home_network": u.home.provider().name,
                "home_network_kind": u.home.provider().kind.as_str(),
                "trips": u.trips,
                "delegate_of": delegate_of,
            })
        })
        .collect();
    let shared: Vec<Value> = t
        .mailboxes
        .iter()
        .filter(|m| m.shared)
        .map(|m| {
            json!({
                "upn": m.upn,
                "delegates": m.delegates.iter().map(|&d| t.users[d as usize].upn.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let apps: Vec<Value> = t
        .apps
        .iter()
        .map(|a| {
            json!({
                "app_id": a.app_id,
                "service_principal_id": a.sp_id,
                "name": a.name,
                "purpose": a.purpose,
                "access": "app-only",
                "egress_ips": a.egress.iter().map(|e| e.ip.to_string()).collect::<Vec<_>>(),
                "asn": a.egress.first().map(|e| e.asn()),
                "mailboxes": a.scope.len(),
            })
        })
        .collect();
    let offices: Vec<Value> = t
        .offices
        .iter()
        .map(|o| {
            json!({
                "city": o.region.office_city,
                "country": o.region.country,
                "egress_ips": o.egress.iter().map(|e| e.ip.to_string()).collect::<Vec<_>>(),
                "asn": o.egress.first().map(|e| e.asn()),
            })
        })
        .collect();
    json!({
        "tenant_id": t.id,
        "name": t.name,
        "domain": t.domain,
        "organization_name": t.org_name,
        "seed": c.seed,
        "period": {
            "start": clock::graph_time(c.start_time()),
            "end": clock::graph_time(c.end_time()),
            "days": c.days,
        },
        "scenarios": c.scenarios.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "offices": offices,
        "corporate_vpn_egress_ips": t.vpn_egress.iter().map(|e| e.ip.to_string()).collect::<Vec<_>>(),
        "users": users,
        "administrators": t.admins.iter().map(|&u| t.users[u as usize].upn.clone()).collect::<Vec<_>>(),
        "compliance_officers": t.compliance.iter().map(|&u| t.users[u as usize].upn.clone()).collect::<Vec<_>>(),
        "shared_mailboxes": shared,
        "apps": apps,
        "networks": networks(),
        "microsoft_service_principals": {
            "graph": t.graph_sp,
            "exchange_online": t.exchange_sp,
        },
    })
}

/// The synthetic provider table: every address any record carries falls in one of these blocks.
fn networks() -> Vec<Value> {
    net::PROVIDERS
        .iter()
        .map(|p| {
            let mut blocks: Vec<String> =
                p.v4.iter()
                    .map(|&(base, len)| format!("{}/{len}", Ipv4Addr::from(base)))
                    .collect();
            if let Some((base, len)) = p.v6 {
                blocks.push(format!("{}/{len}", Ipv6Addr::from(u128::from(base) << 64)));
            }
            json!({
                "name": p.name,
                "kind": p.kind.as_str(),
                "asn": p.asn,
                "country": p.country,
                "blocks": blocks,
            })
        })
        .collect()
}
