//! The networks people and programs connect from.
//!
//! A synthetic table of providers of each kind — home ISPs, mobile carriers, business fibre used
//! for office egress, hosting/VPS and commercial VPN — each with an autonomous system number,
//! address blocks and the places it serves. Names and ASNs are those of real networks of that kind,
//! so that ASN-based reasoning behaves as it would on real logs; the address blocks are illustrative
//! and every address, and which person uses which network, is invented.
//!
//! Hosting and VPN providers are used by attackers *and* by some ordinary users (commercial VPNs,
//! cloud desktops), and Microsoft's own network carries the traffic of Outlook Mobile's and Teams'
//! services, so "came from a datacenter" is never by itself proof of anything.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::Rng;

use crate::clock::{Dst, Zone};

/// What kind of network a provider runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum NetKind {
    /// Residential broadband.
    Isp,
    /// Mobile carrier (carrier-grade NAT: addresses change often).
    Mobile,
    /// Business connectivity used as office egress and by the corporate VPN.
    Business,
    /// Hosting, VPS and cloud.
    Hosting,
    /// Commercial VPN.
    Vpn,
    /// Microsoft's own cloud (Exchange Online, Outlook Mobile and Teams back ends, Windows 365).
    Microsoft,
}

impl NetKind {
    /// Name used in `tenant.json`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Isp => "isp",
            Self::Mobile => "mobile",
            Self::Business => "business",
            Self::Hosting => "hosting",
            Self::Vpn => "vpn",
            Self::Microsoft => "microsoft",
        }
    }
}

/// A city a provider serves, with its coordinates for the sign-in `location`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct City {
    pub(crate) name: &'static str,
    pub(crate) state: &'static str,
    pub(crate) country: &'static str,
    pub(crate) lat: f64,
    pub(crate) lon: f64,
}

/// One network provider.
#[derive(Debug)]
pub(crate) struct Provider {
    pub(crate) name: &'static str,
    pub(crate) kind: NetKind,
    pub(crate) asn: u32,
    pub(crate) country: &'static str,
    /// IPv4 blocks as (first address, prefix length).
    pub(crate) v4: &'static [(u32, u8)],
    /// An IPv6 block as (first 64 bits, prefix length ≤ 64), when the provider hands out IPv6.
    pub(crate) v6: Option<(u64, u8)>,
    pub(crate) cities: &'static [City],
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

macro_rules! city {
    ($n:literal, $s:literal, $c:literal, $lat:literal, $lon:literal) => {
        City {
            name: $n,
            state: $s,
            country: $c,
            lat: $lat,
            lon: $lon,
        }
    };
}

const NYC: City = city!("New York", "New York", "US", 40.7128, -74.0060);
const NEWARK: City = city!("Newark", "New Jersey", "US", 40.7357, -74.1724);
const BOSTON: City = city!("Boston", "Massachusetts", "US", 42.3601, -71.0589);
const PHILLY: City = city!("Philadelphia", "Pennsylvania", "US", 39.9526, -75.1652);
const CHICAGO: City = city!("Chicago", "Illinois", "US", 41.8781, -87.6298);
const ASHBURN: City = city!("Ashburn", "Virginia", "US", 39.0438, -77.4874);
const SANJOSE: City = city!("San Jose", "California", "US", 37.3382, -121.8863);
const LONDON: City = city!("London", "England", "GB", 51.5072, -0.1276);
const MANCHESTER: City = city!("Manchester", "England", "GB", 53.4808, -2.2426);
const READING: City = city!("Reading", "England", "GB", 51.4543, -0.9781);
const BERLIN: City = city!("Berlin", "Berlin", "DE", 52.5200, 13.4050);
const FRANKFURT: City = city!("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821);
const MUNICH: City = city!("Munich", "Bayern", "DE", 48.1351, 11.5820);
const HAMBURG: City = city!("Hamburg", "Hamburg", "DE", 53.5511, 9.9937);
const SINGAPORE: City = city!("Singapore", "Singapore", "SG", 1.3521, 103.8198);
const PARIS: City = city!("Paris", "Ile-de-France", "FR", 48.8566, 2.3522);
const LYON: City = city!("Lyon", "Auvergne-Rhone-Alpes", "FR", 45.7640, 4.8357);
const TOKYO: City = city!("Tokyo", "Tokyo", "JP", 35.6762, 139.6503);
const OSAKA: City = city!("Osaka", "Osaka", "JP", 34.6937, 135.5023);
const MADRID: City = city!("Madrid", "Madrid", "ES", 40.4168, -3.7038);
const BARCELONA: City = city!("Barcelona", "Catalunya", "ES", 41.3874, 2.1686);
const SYDNEY: City = city!("Sydney", "New South Wales", "AU", -33.8688, 151.2093);
const MELBOURNE: City = city!("Melbourne", "Victoria", "AU", -37.8136, 144.9631);
const AMSTERDAM: City = city!("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041);
const TORONTO: City = city!("Toronto", "Ontario", "CA", 43.6532, -79.3832);
const DUBLIN: City = city!("Dublin", "Dublin", "IE", 53.3498, -6.2603);
const ZURICH: City = city!("Zurich", "Zurich", "CH", 47.3769, 8.5417);
const BUCHAREST: City = city!("Bucharest", "Bucuresti", "RO", 44.4268, 26.1025);
const PRAGUE: City = city!("Prague", "Hlavni mesto Praha", "CZ", 50.0755, 14.4378);

/// The provider table. Order matters only for determinism.
pub(crate) static PROVIDERS: &[Provider] = &[
    // United States
    Provider {
        name: "Comcast Cable Communications",
        kind: NetKind::Isp,
        asn: 7922,
        country: "US",
        v4: &[(v4(73, 0, 0, 0), 10), (v4(98, 192, 0, 0), 12)],
        v6: Some((0x2601_0000_0000_0000, 20)),
        cities: &[NYC, NEWARK, BOSTON, PHILLY, CHICAGO],
    },
    Provider {
        name: "Verizon Fios",
        kind: NetKind::Isp,
        asn: 701,
        country: "US",
        v4: &[(v4(71, 160, 0, 0), 11), (v4(108, 2, 0, 0), 15)],
        v6: Some((0x2600_4040_0000_0000, 28)),
        cities: &[NYC, NEWARK, BOSTON, PHILLY],
    },
    Provider {
        name: "Charter Communications",
        kind: NetKind::Isp,
        asn: 20115,
        country: "US",
        v4: &[(v4(47, 144, 0, 0), 12)],
        v6: None,
        cities: &[NYC, CHICAGO],
    },
    Provider {
        name: "T-Mobile USA",
        kind: NetKind::Mobile,
        asn: 21928,
        country: "US",
        v4: &[(v4(172, 56, 0, 0), 14)],
        v6: Some((0x2607_fb90_0000_0000, 32)),
        cities: &[NYC, NEWARK, BOSTON, CHICAGO],
    },
    Provider {
        name: "Verizon Wireless",
        kind: NetKind::Mobile,
        asn: 22394,
        country: "US",
        v4: &[(v4(174, 192, 0, 0), 10)],
        v6: Some((0x2600_1000_0000_0000, 28)),
        cities: &[NYC, PHILLY, BOSTON],
    },
    Provider {
        name: "AT&T Mobility",
        kind: NetKind::Mobile,
        asn: 20057,
        country: "US",
        v4: &[(v4(166, 170, 0, 0), 15)],
        v6: Some((0x2600_0380_0000_0000, 25)),
        cities: &[NYC, CHICAGO],
    },
    Provider {
        name: "Lumen Technologies",
        kind: NetKind::Business,
        asn: 3356,
        country: "US",
        v4: &[(v4(4, 14, 0, 0), 15)],
        v6: None,
        cities: &[NYC, CHICAGO],
    },
    // United Kingdom
    Provider {
        name: "British Telecommunications",
        kind: NetKind::Isp,
        asn: 2856,
        country: "GB",
        v4: &[(v4(86, 128, 0, 0), 10), (v4(81, 128, 0, 0), 11)],
        v6: Some((0x2a00_23c0_0000_0000, 28)),
        cities: &[LONDON, MANCHESTER, READING],
    },
    Provider {
        name: "Virgin Media",
        kind: NetKind::Isp,
        asn: 5089,
        country: "GB",
        v4: &[(v4(82, 0, 0, 0), 14)],
        v6: None,
        cities: &[LONDON, MANCHESTER],
    },
    Provider {
        name: "EE Limited",
        kind: NetKind::Mobile,
        asn: 12576,
        country: "GB",
        v4: &[(v4(31, 94, 0, 0), 16)],
        v6: Some((0x2a01_4c80_0000_0000, 29)),
        cities: &[LONDON, MANCHESTER],
    },
    Provider {
        name: "Vodafone UK",
        kind: NetKind::Mobile,
        asn: 25135,
        country: "GB",
        v4: &[(v4(85, 255, 232, 0), 21)],
        v6: None,
        cities: &[LONDON, READING],
    },
    Provider {
        name: "Colt Technology Services",
        kind: NetKind::Business,
        asn: 8220,
        country: "GB",
        v4: &[(v4(212, 36, 160, 0), 19)],
        v6: None,
        cities: &[LONDON],
    },
    // Germany
    Provider {
        name: "Deutsche Telekom",
        kind: NetKind::Isp,
        asn: 3320,
        country: "DE",
        v4: &[(v4(79, 192, 0, 0), 10), (v4(91, 0, 0, 0), 10)],
        v6: Some((0x2003_0000_0000_0000, 19)),
        cities: &[BERLIN, FRANKFURT, MUNICH, HAMBURG],
    },
    Provider {
        name: "Vodafone GmbH",
        kind: NetKind::Isp,
        asn: 3209,
        country: "DE",
        v4: &[(v4(88, 64, 0, 0), 12)],
        v6: Some((0x2a02_0810_0000_0000, 29)),
        cities: &[BERLIN, HAMBURG],
    },
    Provider {
        name: "Telefonica Germany",
        kind: NetKind::Mobile,
        asn: 6805,
        country: "DE",
        v4: &[(v4(2, 240, 0, 0), 12)],
        v6: Some((0x2a02_3030_0000_0000, 28)),
        cities: &[BERLIN, MUNICH],
    },
    Provider {
        name: "Deutsche Telekom Mobile",
        kind: NetKind::Mobile,
        asn: 3320,
        country: "DE",
        v4: &[(v4(80, 187, 96, 0), 19)],
        v6: Some((0x2a01_0598_0000_0000, 29)),
        cities: &[FRANKFURT, MUNICH],
    },
    Provider {
        name: "Versatel Deutschland",
        kind: NetKind::Business,
        asn: 8881,
        country: "DE",
        v4: &[(v4(62, 214, 0, 0), 16)],
        v6: None,
        cities: &[BERLIN, FRANKFURT],
    },
    // Singapore
    Provider {
        name: "Singtel",
        kind: NetKind::Isp,
        asn: 9506,
        country: "SG",
        v4: &[(v4(116, 14, 0, 0), 15)],
        v6: None,
        cities: &[SINGAPORE],
    },
    Provider {
        name: "StarHub",
        kind: NetKind::Isp,
        asn: 4657,
        country: "SG",
        v4: &[(v4(118, 200, 0, 0), 14)],
        v6: Some((0x2406_3003_0000_0000, 32)),
        cities: &[SINGAPORE],
    },
    Provider {
        name: "Singtel Mobile",
        kind: NetKind::Mobile,
        asn: 45143,
        country: "SG",
        v4: &[(v4(111, 65, 32, 0), 19)],
        v6: None,
        cities: &[SINGAPORE],
    },
    Provider {
        name: "Singtel Business",
        kind: NetKind::Business,
        asn: 7473,
        country: "SG",
        v4: &[(v4(203, 116, 0, 0), 16)],
        v6: None,
        cities: &[SINGAPORE],
    },
    // Travel destinations
    Provider {
        name: "Orange",
        kind: NetKind::Isp,
        asn: 3215,
        country: "FR",
        v4: &[(v4(90, 0, 0, 0), 9)],
        v6: Some((0x2a01_0cb0_0000_0000, 29)),
        cities: &[PARIS, LYON],
    },
    Provider {
        name: "Free SAS",
        kind: NetKind::Mobile,
        asn: 12322,
        country: "FR",
        v4: &[(v4(37, 160, 0, 0), 12)],
        v6: None,
        cities: &[PARIS],
    },
    Provider {
        name: "NTT Communications",
        kind: NetKind::Isp,
        asn: 4713,
        country: "JP",
        v4: &[(v4(153, 128, 0, 0), 9)],
        v6: None,
        cities: &[TOKYO, OSAKA],
    },
    Provider {
        name: "NTT Docomo",
        kind: NetKind::Mobile,
        asn: 9605,
        country: "JP",
        v4: &[(v4(1, 66, 0, 0), 15)],
        v6: None,
        cities: &[TOKYO],
    },
    Provider {
        name: "Telefonica de Espana",
        kind: NetKind::Isp,
        asn: 3352,
        country: "ES",
        v4: &[(v4(80, 24, 0, 0), 13)],
        v6: None,
        cities: &[MADRID, BARCELONA],
    },
    Provider {
        name: "Telstra",
        kind: NetKind::Isp,
        asn: 1221,
        country: "AU",
        v4: &[(v4(120, 144, 0, 0), 13)],
        v6: None,
        cities: &[SYDNEY, MELBOURNE],
    },
    Provider {
        name: "Rogers Communications",
        kind: NetKind::Isp,
        asn: 812,
        country: "CA",
        v4: &[(v4(99, 224, 0, 0), 11)],
        v6: None,
        cities: &[TORONTO],
    },
    // Hosting and VPS
    Provider {
        name: "DigitalOcean",
        kind: NetKind::Hosting,
        asn: 14061,
        country: "US",
        v4: &[
            (v4(159, 89, 0, 0), 16),
            (v4(167, 99, 0, 0), 16),
            (v4(134, 209, 0, 0), 16),
        ],
        v6: Some((0x2604_a880_0000_0000, 32)),
        cities: &[NYC, SANJOSE, AMSTERDAM, FRANKFURT, LONDON, SINGAPORE],
    },
    Provider {
        name: "OVH SAS",
        kind: NetKind::Hosting,
        asn: 16276,
        country: "FR",
        v4: &[
            (v4(51, 68, 0, 0), 16),
            (v4(54, 36, 0, 0), 16),
            (v4(145, 239, 0, 0), 16),
        ],
        v6: Some((0x2001_41d0_0000_0000, 32)),
        cities: &[PARIS, LONDON, FRANKFURT, TORONTO],
    },
    Provider {
        name: "Hetzner Online",
        kind: NetKind::Hosting,
        asn: 24940,
        country: "DE",
        v4: &[(v4(95, 216, 0, 0), 15), (v4(135, 181, 0, 0), 16)],
        v6: Some((0x2a01_04f8_0000_0000, 32)),
        cities: &[FRANKFURT, MUNICH],
    },
    Provider {
        name: "The Constant Company (Vultr)",
        kind: NetKind::Hosting,
        asn: 20473,
        country: "US",
        v4: &[(v4(45, 32, 0, 0), 16), (v4(45, 76, 0, 0), 16)],
        v6: Some((0x2001_19f0_0000_0000, 32)),
        cities: &[NEWARK, CHICAGO, LONDON, AMSTERDAM, TOKYO],
    },
    Provider {
        name: "Akamai Connected Cloud (Linode)",
        kind: NetKind::Hosting,
        asn: 63949,
        country: "US",
        v4: &[(v4(172, 104, 0, 0), 15)],
        v6: Some((0x2600_3c00_0000_0000, 27)),
        cities: &[NEWARK, FRANKFURT, LONDON, SINGAPORE],
    },
    Provider {
        name: "Amazon.com",
        kind: NetKind::Hosting,
        asn: 16509,
        country: "US",
        v4: &[
            (v4(3, 80, 0, 0), 12),
            (v4(18, 184, 0, 0), 15),
            (v4(52, 28, 0, 0), 16),
        ],
        v6: Some((0x2600_1f18_0000_0000, 32)),
        cities: &[ASHBURN, DUBLIN, FRANKFURT, SINGAPORE],
    },
    // Commercial VPN
    Provider {
        name: "M247 Europe",
        kind: NetKind::Vpn,
        asn: 9009,
        country: "RO",
        v4: &[(v4(185, 156, 172, 0), 22), (v4(146, 70, 0, 0), 16)],
        v6: None,
        cities: &[BUCHAREST, LONDON, AMSTERDAM, ZURICH, NYC],
    },
    Provider {
        name: "Datacamp Limited",
        kind: NetKind::Vpn,
        asn: 60068,
        country: "GB",
        v4: &[(v4(89, 187, 160, 0), 19), (v4(138, 199, 0, 0), 17)],
        v6: None,
        cities: &[LONDON, FRANKFURT, PRAGUE, NYC, MADRID],
    },
    Provider {
        name: "Tefincom S.A. (NordVPN)",
        kind: NetKind::Vpn,
        asn: 136787,
        country: "PA",
        v4: &[(v4(194, 35, 232, 0), 22), (v4(37, 120, 128, 0), 17)],
        v6: None,
        cities: &[AMSTERDAM, LONDON, FRANKFURT, NYC, TORONTO],
    },
    // Microsoft
    Provider {
        name: "Microsoft Corporation",
        kind: NetKind::Microsoft,
        asn: 8075,
        country: "US",
        v4: &[
            (v4(40, 97, 0, 0), 16),
            (v4(52, 96, 0, 0), 14),
            (v4(20, 190, 128, 0), 18),
        ],
        v6: Some((0x2603_1006_0000_0000, 40)),
        cities: &[ASHBURN, DUBLIN, AMSTERDAM, SINGAPORE, SANJOSE],
    },
];

/// Index into [`PROVIDERS`].
pub(crate) type ProviderId = u16;

/// Providers of one kind in one country.
pub(crate) fn providers(kind: NetKind, country: Option<&str>) -> Vec<ProviderId> {
    PROVIDERS
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == kind && country.is_none_or(|c| p.country == c))
        .map(|(i, _)| i as ProviderId)
        .collect()
}

/// Providers of one kind anywhere.
pub(crate) fn providers_of(kind: NetKind) -> Vec<ProviderId> {
    providers(kind, None)
}

/// A concrete address and where it is, as the sign-in log would geolocate it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Endpoint {
    pub(crate) ip: IpAddr,
    pub(crate) provider: ProviderId,
    pub(crate) city: u8,
}

impl Endpoint {
    pub(crate) fn provider(&self) -> &'static Provider {
        &PROVIDERS[usize::from(self.provider)]
    }

    pub(crate) fn city(&self) -> &'static City {
        let p = self.provider();
        &p.cities[usize::from(self.city) % p.cities.len()]
    }

    pub(crate) fn asn(&self) -> u32 {
        self.provider().asn
    }
}

/// A random IPv4 address of a provider. Addresses ending in .0 or .255 are avoided.
pub(crate) fn random_v4(rng: &mut impl Rng, provider: ProviderId) -> Ipv4Addr {
    let p = &PROVIDERS[usize::from(provider)];
    let (base, len) = p.v4[rng.random_range(0..p.v4.len())];
    let size = 1u64 << (32 - u32::from(len));
    let offset = rng.random_range(1..size.saturating_sub(1).max(2)) as u32;
    let mut a = base.wrapping_add(offset);
    if a & 0xff == 0 || a & 0xff == 0xff {
        a = (a & !0xff) | u32::from(rng.random_range(2u8..250));
    }
    Ipv4Addr::from(a)
}

/// A random /64 of a provider's IPv6 block (the first 64 bits).
pub(crate) fn random_v6_prefix(rng: &mut impl Rng, provider: ProviderId) -> Option<u64> {
    let (base, len) = PROVIDERS[usize::from(provider)].v6?;
    let host_bits = 64 - u32::from(len);
    let mask = if host_bits == 0 {
        0
    } else {
        (1u64 << host_bits) - 1
    };
    Some(base | (rng.random::<u64>() & mask))
}

/// An address inside a /64.
pub(crate) fn v6_in(rng: &mut impl Rng, prefix: u64) -> Ipv6Addr {
    let iid: u64 = rng.random::<u64>() | 1;
    Ipv6Addr::from((u128::from(prefix) << 64) | u128::from(iid))
}

/// A random endpoint of a provider, IPv6 with probability `v6` where the provider has it.
pub(crate) fn random_endpoint(rng: &mut impl Rng, provider: ProviderId, v6: f64) -> Endpoint {
    let p = &PROVIDERS[usize::from(provider)];
    let city = rng.random_range(0..p.cities.len()) as u8;
    let ip = match random_v6_prefix(rng, provider) {
        Some(prefix) if rng.random_bool(v6) => IpAddr::V6(v6_in(rng, prefix)),
        _ => IpAddr::V4(random_v4(rng, provider)),
    };
    Endpoint { ip, provider, city }
}

/// A place people live, work and travel to: country, clock and the providers serving it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    pub(crate) country: &'static str,
    pub(crate) office_city: &'static str,
    pub(crate) zone: Zone,
}

/// Where offices can be.
pub(crate) static OFFICE_REGIONS: &[Region] = &[
    Region {
        country: "US",
        office_city: "New York",
        zone: Zone {
            std_offset_min: -300,
            dst: Dst::Us,
        },
    },
    Region {
        country: "GB",
        office_city: "London",
        zone: Zone {
            std_offset_min: 0,
            dst: Dst::Eu,
        },
    },
    Region {
        country: "DE",
        office_city: "Berlin",
        zone: Zone {
            std_offset_min: 60,
            dst: Dst::Eu,
        },
    },
    Region {
        country: "SG",
        office_city: "Singapore",
        zone: Zone {
            std_offset_min: 480,
            dst: Dst::None,
        },
    },
];

/// Where people travel to (besides other offices).
pub(crate) static TRAVEL_REGIONS: &[Region] = &[
    Region {
        country: "FR",
        office_city: "Paris",
        zone: Zone {
            std_offset_min: 60,
            dst: Dst::Eu,
        },
    },
    Region {
        country: "JP",
        office_city: "Tokyo",
        zone: Zone {
            std_offset_min: 540,
            dst: Dst::None,
        },
    },
    Region {
        country: "ES",
        office_city: "Madrid",
        zone: Zone {
            std_offset_min: 60,
            dst: Dst::Eu,
        },
    },
    Region {
        country: "AU",
        office_city: "Sydney",
        zone: Zone {
            std_offset_min: 600,
            dst: Dst::Au,
        },
    },
    Region {
        country: "CA",
        office_city: "Toronto",
        zone: Zone {
            std_offset_min: -300,
            dst: Dst::Us,
        },
    },
    Region {
        country: "US",
        office_city: "New York",
        zone: Zone {
            std_offset_min: -300,
            dst: Dst::Us,
        },
    },
    Region {
        country: "GB",
        office_city: "London",
        zone: Zone {
            std_offset_min: 0,
            dst: Dst::Eu,
        },
    },
    Region {
        country: "DE",
        office_city: "Berlin",
        zone: Zone {
            std_offset_min: 60,
            dst: Dst::Eu,
        },
    },
    Region {
        country: "SG",
        office_city: "Singapore",
        zone: Zone {
            std_offset_min: 480,
            dst: Dst::None,
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn every_region_has_home_and_mobile_networks() {
        for r in OFFICE_REGIONS {
            assert!(
                !providers(NetKind::Isp, Some(r.country)).is_empty(),
                "{}",
                r.country
            );
            assert!(
                !providers(NetKind::Mobile, Some(r.country)).is_empty(),
                "{}",
                r.country
            );
            assert!(
                !providers(NetKind::Business, Some(r.country)).is_empty(),
                "{}",
                r.country
            );
        }
        for r in TRAVEL_REGIONS {
            assert!(
                !providers(NetKind::Isp, Some(r.country)).is_empty(),
                "{}",
                r.country
            );
        }
        assert!(!providers_of(NetKind::Hosting).is_empty());
        assert!(!providers_of(NetKind::Vpn).is_empty());
    }

    #[test]
    fn addresses_fall_inside_their_providers_blocks() {
        let mut rng = stream(9, &[]);
        for (i, p) in PROVIDERS.iter().enumerate() {
            for _ in 0..50 {
                let a = u32::from(random_v4(&mut rng, i as ProviderId));
                assert!(
                    p.v4.iter()
                        .any(|&(base, len)| (a ^ base) >> (32 - u32::from(len)) == 0),
                    "{} {}",
                    p.name,
                    Ipv4Addr::from(a)
                );
                assert!(a & 0xff != 0 && a & 0xff != 0xff);
            }
            if let Some((base, len)) = p.v6 {
                let prefix = random_v6_prefix(&mut rng, i as ProviderId).unwrap();
                assert_eq!(
                    prefix >> (64 - u32::from(len)),
                    base >> (64 - u32::from(len))
                );
            }
        }
    }
}
