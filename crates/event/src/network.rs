//! Microsoft's own service networks.
//!
//! When a Microsoft service acts for a user — Outlook Mobile's back end synchronising a phone,
//! Teams or Substrate reading a calendar, Exchange itself — the audit record's client address is a
//! Microsoft datacenter address, under the user's session. Such an address says nothing about where
//! the user is, and thousands of tenants share it, so detections must not treat it as a place.
//!
//! Source: Microsoft, "Microsoft 365 URLs and IP address ranges" (worldwide endpoints, service areas
//! Exchange Online, Microsoft 365 Common and Office / identity, SharePoint Online, Microsoft Teams),
//! as also published in Azure's BGP service communities (Exchange: 12076:5010).

use std::net::IpAddr;
use std::sync::OnceLock;

/// `(network, prefix length, service)`.
const NETWORKS: &[(&str, u8, &str)] = &[
    // Exchange Online.
    ("13.107.6.152", 31, "Exchange Online"),
    ("13.107.18.10", 31, "Exchange Online"),
    ("13.107.128.0", 22, "Exchange Online"),
    ("23.103.160.0", 20, "Exchange Online"),
    ("40.92.0.0", 15, "Exchange Online"),
    ("40.96.0.0", 13, "Exchange Online"),
    ("40.104.0.0", 15, "Exchange Online"),
    ("40.107.0.0", 16, "Exchange Online"),
    ("52.96.0.0", 14, "Exchange Online"),
    ("52.100.0.0", 14, "Exchange Online"),
    ("52.238.78.88", 32, "Exchange Online"),
    ("104.47.0.0", 17, "Exchange Online"),
    ("131.253.33.215", 32, "Exchange Online"),
    ("132.245.0.0", 16, "Exchange Online"),
    ("150.171.32.0", 22, "Exchange Online"),
    ("204.79.197.215", 32, "Exchange Online"),
    ("2603:1006::", 40, "Exchange Online"),
    ("2603:1016::", 36, "Exchange Online"),
    ("2603:1026::", 36, "Exchange Online"),
    ("2603:1036::", 36, "Exchange Online"),
    ("2603:1046::", 36, "Exchange Online"),
    ("2603:1056::", 36, "Exchange Online"),
    ("2620:1ec:4::152", 128, "Exchange Online"),
    ("2620:1ec:4::153", 128, "Exchange Online"),
    ("2620:1ec:c::10", 127, "Exchange Online"),
    ("2620:1ec:d::10", 127, "Exchange Online"),
    ("2620:1ec:8f0::", 46, "Exchange Online"),
    ("2620:1ec:900::", 46, "Exchange Online"),
    ("2620:1ec:a92::152", 127, "Exchange Online"),
    ("2a01:111:f400::", 48, "Exchange Online"),
    ("2a01:111:f403::", 48, "Exchange Online"),
    // Microsoft Entra ID (Microsoft 365 Common and Office, identity).
    ("20.20.32.0", 19, "Microsoft Entra ID"),
    ("20.190.128.0", 18, "Microsoft Entra ID"),
    ("20.231.128.0", 19, "Microsoft Entra ID"),
    ("40.126.0.0", 18, "Microsoft Entra ID"),
    // SharePoint Online and OneDrive.
    ("13.107.136.0", 22, "SharePoint Online"),
    ("40.108.128.0", 17, "SharePoint Online"),
    ("52.104.0.0", 14, "SharePoint Online"),
    ("104.146.128.0", 17, "SharePoint Online"),
    ("150.171.40.0", 22, "SharePoint Online"),
    ("2603:1061:1300::", 40, "SharePoint Online"),
    ("2620:1ec:8f8::", 46, "SharePoint Online"),
    ("2620:1ec:908::", 46, "SharePoint Online"),
    ("2a01:111:f402::", 48, "SharePoint Online"),
    // Microsoft Teams.
    ("52.112.0.0", 14, "Microsoft Teams"),
    ("52.122.0.0", 15, "Microsoft Teams"),
    ("2603:1063::", 38, "Microsoft Teams"),
];

/// The Microsoft 365 service whose network `ip` belongs to, if any.
///
/// ```
/// use mailtrail_event::microsoft_service;
///
/// assert_eq!(microsoft_service("40.97.27.103".parse().unwrap()), Some("Exchange Online"));
/// assert_eq!(microsoft_service("2603:1006:82::1".parse().unwrap()), Some("Exchange Online"));
/// assert_eq!(microsoft_service("203.0.113.9".parse().unwrap()), None);
/// ```
pub fn microsoft_service(ip: IpAddr) -> Option<&'static str> {
    // Called for every record by several detectors: parse the table once.
    static PARSED: OnceLock<Vec<(IpAddr, u8, &'static str)>> = OnceLock::new();
    let table = PARSED.get_or_init(|| {
        NETWORKS
            .iter()
            .filter_map(|(net, prefix, service)| Some((net.parse().ok()?, *prefix, *service)))
            .collect()
    });
    table
        .iter()
        .find(|(net, prefix, _)| contains(*net, *prefix, ip))
        .map(|(_, _, service)| *service)
}

fn contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_network_parses() {
        for (net, prefix, _) in NETWORKS {
            let ip: IpAddr = net.parse().unwrap();
            // Every entry parses: none is silently dropped from the table.
            assert!(
                *prefix <= if ip.is_ipv4() { 32 } else { 128 },
                "{net}/{prefix}"
            );
            assert!(microsoft_service(ip).is_some(), "{net}");
        }
    }

    #[test]
    fn edges_of_a_network() {
        let svc = |s: &str| microsoft_service(s.parse().unwrap());
        assert_eq!(svc("40.96.0.0"), Some("Exchange Online"));
        assert_eq!(svc("40.103.255.255"), Some("Exchange Online"));
        assert_eq!(svc("40.104.0.1"), Some("Exchange Online"));
        assert_eq!(svc("40.95.255.255"), None);
        assert_eq!(svc("20.190.191.255"), Some("Microsoft Entra ID"));
        assert_eq!(svc("20.190.192.0"), None);
    }
}
