//! Client IP normalisation.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Parses a client address as the Unified Audit Log and Entra ID write it.
///
/// Accepts a bare IPv4 or IPv6 address, `v4:port`, `[v6]:port`, `[v6]`, and IPv4-mapped IPv6
/// (`::ffff:203.0.113.9`), which is returned as the IPv4 address so one client has one key. Returns
/// `None` for empty strings and anything that is not an address (Exchange sometimes writes `<null>`
/// or a host name).
pub fn parse_client_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let ip = if let Ok(ip) = s.parse::<IpAddr>() {
        ip
    } else if let Ok(sock) = s.parse::<SocketAddr>() {
        sock.ip()
    } else if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?)
    } else {
        // `v6%zone` or `v6%zone:port` never occur in these logs; anything else is not an address.
        return None;
    };
    Some(canonical(ip))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> Option<String> {
        parse_client_ip(s).map(|i| i.to_string())
    }

    #[test]
    fn accepts_every_shape_exchange_writes() {
        assert_eq!(ip("203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(ip("203.0.113.9:51234").as_deref(), Some("203.0.113.9"));
        assert_eq!(ip("[2001:db8::7]:443").as_deref(), Some("2001:db8::7"));
        assert_eq!(ip("[2001:db8::7]").as_deref(), Some("2001:db8::7"));
        assert_eq!(ip("2001:db8::7").as_deref(), Some("2001:db8::7"));
        assert_eq!(ip("::ffff:203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(
            ip("[::ffff:203.0.113.9]:80").as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(ip(" 198.51.100.1 ").as_deref(), Some("198.51.100.1"));
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "<null>",
            "outlook.office365.com",
            "1.2.3",
            "[1.2.3.4]:x",
            "300.1.1.1",
        ] {
            assert_eq!(parse_client_ip(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn v4_with_any_port_is_the_address(a: u8, b: u8, c: u8, d: u8, port: u16) {
            let s = format!("{a}.{b}.{c}.{d}:{port}");
            prop_assert_eq!(ip(&s), Some(format!("{a}.{b}.{c}.{d}")));
        }

        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = parse_client_ip(&s);
        }
    }
}
