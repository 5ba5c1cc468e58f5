//! Known-bad infrastructure: indicator lists of addresses, user agents and application ids.
//!
//! Indicators carry validity windows because addresses change hands: a VPS address Storm-0558 used
//! in June 2023 belongs to someone else now, and matching it forever would accuse them. The
//! built-in set is Microsoft's published Storm-0558 infrastructure with its first/last-seen
//! dates; users add their own as CSV or STIX 2.1 bundles (`--ioc FILE`).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mailtrail_event::{AuditEvent, Timestamp, parse_client_ip};

use super::{Analytic, Attribution, Ctx, Evidence, Signal, techniques};
use crate::HashMap;
use crate::finding::Severity;

pub(crate) const NAME: &str = "known-bad-infrastructure";

/// Microsoft's published Storm-0558 indicators (Microsoft Threat Intelligence, 2023-07-14).
const STORM_0558: &str = include_str!("../../indicators/storm-0558.csv");

/// What an indicator matches.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndicatorKind {
    /// A client address or network.
    Ip {
        /// The network address.
        addr: IpAddr,
        /// The prefix length (32 or 128 for one address).
        prefix: u8,
    },
    /// A user agent or Exchange `ClientInfoString`, compared exactly (ignoring case).
    UserAgent(String),
    /// An application id, matched against `AppId` and `ClientAppId`.
    AppId(String),
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip { addr, prefix } if (addr.is_ipv4() && *prefix == 32) || *prefix == 128 => {
                write!(f, "ip {addr}")
            }
            Self::Ip { addr, prefix } => write!(f, "ip {addr}/{prefix}"),
            Self::UserAgent(ua) => write!(f, "user agent {ua:?}"),
            Self::AppId(id) => write!(f, "app {id}"),
        }
    }
}

/// One indicator with its validity window.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    /// What it matches.
    pub kind: IndicatorKind,
    /// First moment it is valid (inclusive); `None` for always.
    pub valid_from: Option<Timestamp>,
    /// Last moment it is valid (inclusive); `None` for always.
    pub valid_until: Option<Timestamp>,
    /// What it is, from the list.
    pub description: String,
    /// Where it was published, from the list or the file name.
    pub source: String,
}

impl Indicator {
    fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| t >= f) && self.valid_until.is_none_or(|u| t <= u)
    }
}

/// Why an indicator file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IocError {
    /// The file could not be read.
    #[error("cannot read indicator file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is neither an indicator CSV nor a STIX 2.1 bundle.
    #[error(
        "{path}: not an indicator file: expected a CSV with a `kind,value` header or a STIX 2.1 \
         bundle (JSON with \"type\": \"bundle\")"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// One entry is malformed.
    #[error("{path}:{line}: {reason}")]
    Entry {
        /// The file.
        path: PathBuf,
        /// The CSV line, or the index of the STIX object.
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

/// A set of indicators, indexed for fast lookup.
#[derive(Clone, Debug, Default)]
pub struct IndicatorSet {
    indicators: Vec<Indicator>,
    by_addr: HashMap<IpAddr, Vec<usize>>,
    networks: Vec<usize>,
    by_agent: HashMap<String, Vec<usize>>,
    by_app: HashMap<String, Vec<usize>>,
    /// STIX indicators whose patterns this version cannot evaluate.
    unsupported: usize,
}

impl IndicatorSet {
    /// Microsoft's published Storm-0558 indicators.
    pub fn storm_0558() -> IndicatorSet {
        let mut set = IndicatorSet::default();
        // The embedded list is tested; an error here would be a build defect caught by the tests.
        let _ = set.add_csv(Path::new("built-in storm-0558.csv"), STORM_0558);
        set
    }

    /// Loads a CSV (`kind,value[,first_seen,last_seen,description,source]`) or a STIX 2.1 bundle,
    /// recognised from its content.
    pub fn load(&mut self, path: &Path) -> Result<usize, IocError> {
        let text = std::fs::read_to_string(path).map_err(|source| IocError::Io {
            path: path.to_owned(),
            source,
        })?;
        let trimmed = text.trim_start_matches('\u{feff}').trim_start();
        if trimmed.starts_with('{') {
            self.add_stix(path, trimmed)
        } else if trimmed.lines().next().is_some_and(|h| {
            h.to_ascii_lowercase()
                .replace(' ', "")
                .starts_with("kind,value")
        }) {
            self.add_csv(path, trimmed)
        } else {
            Err(IocError::UnknownFormat {
                path: path.to_owned(),
            })
        }
    }

    /// How many indicators the set holds.
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// STIX indicators skipped because their pattern is not one this version evaluates.
    pub fn unsupported(&self) -> usize {
        self.unsupported
    }

    fn push(&mut self, ind: Indicator) {
        let i = self.indicators.len();
        match &ind.kind {
            IndicatorKind::Ip { addr, prefix } => {
                if (addr.is_ipv4() && *prefix == 32) || *prefix == 128 {
                    self.by_addr.entry(*addr).or_default().push(i);
                } else {
                    self.networks.push(i);
                }
            }
            IndicatorKind::UserAgent(ua) => self
                .by_agent
                .entry(ua.to_ascii_lowercase())
                .or_default()
                .push(i),
            IndicatorKind::AppId(id) => self
                .by_app
                .entry(id.to_ascii_lowercase())
                .or_default()
                .push(i),
        }
        self.indicators.push(ind);
    }

    fn add_csv(&mut self, path: &Path, text: &str) -> Result<usize, IocError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let entry_err = |line: u64, reason: String| IocError::Entry {
            path: path.to_owned(),
            line,
            reason,
        };
        let headers = reader
            .headers()
            .map_err(|e| entry_err(1, e.to_string()))?
            .iter()
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (kind_col, value_col) = match (col("kind"), col("value")) {
            (Some(k), Some(v)) => (k, v),
            _ => {
                return Err(entry_err(
                    1,
                    "the header must name `kind` and `value` columns".into(),
                ));
            }
        };
        let (from_col, until_col) = (col("first_seen"), col("last_seen"));
        let (desc_col, source_col) = (col("description"), col("source"));
        let mut added = 0;
        for record in reader.records() {
            let record = record
                .map_err(|e| entry_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");
            let kind = parse_kind(field(Some(kind_col)), field(Some(value_col)))
                .map_err(|r| entry_err(line, r))?;
            let valid_from = parse_day(field(from_col), false).map_err(|r| entry_err(line, r))?;
            let valid_until = parse_day(field(until_col), true).map_err(|r| entry_err(line, r))?;
            let source = match field(source_col) {
                "" => path.display().to_string(),
                s => s.to_owned(),
            };
            self.push(Indicator {
                kind,
                valid_from,
                valid_until,
                description: field(desc_col).to_owned(),
                source,
            });
            added += 1;
        }
        Ok(added)
    }

    fn add_stix(&mut self, path: &Path, text: &str) -> Result<usize, IocError> {
        let bundle: serde_json::Value =
            serde_json::from_str(text).map_err(|e| IocError::Entry {
                path: path.to_owned(),
                line: e.line() as u64,
                reason: format!("invalid JSON: {e}"),
            })?;
        if bundle.get("type").and_then(|t| t.as_str()) != Some("bundle") {
            return Err(IocError::UnknownFormat {
                path: path.to_owned(),
            });
        }
        let objects = bundle
            .get("objects")
            .and_then(|o| o.as_array())
            .cloned()
            .unwrap_or_default();
        let mut added = 0;
        for (i, obj) in objects.iter().enumerate() {
            if obj.get("type").and_then(|t| t.as_str()) != Some("indicator") {
                continue;
            }
            let err = |reason: String| IocError::Entry {
                path: path.to_owned(),
                line: i as u64,
                reason,
            };
            let s = |k: &str| obj.get(k).and_then(|v| v.as_str());
            if s("pattern_type").is_some_and(|t| t != "stix") {
                self.unsupported += 1;
                continue;
            }
            let Some(pattern) = s("pattern") else {
                return Err(err("indicator without a pattern".into()));
            };
            let kinds = stix_pattern_kinds(pattern);
            if kinds.is_empty() {
                self.unsupported += 1;
                continue;
            }
            let time = |k: &str| -> Result<Option<Timestamp>, IocError> {
                match s(k) {
                    None => Ok(None),
                    Some(t) => mailtrail_event::parse_time(t)
                        .map(Some)
                        .ok_or_else(|| err(format!("{k} is not a timestamp: {t:?}"))),
                }
            };
            let (valid_from, valid_until) = (time("valid_from")?, time("valid_until")?);
            let description = s("name").or(s("description")).unwrap_or("").to_owned();
            let source = s("id").map_or_else(|| path.display().to_string(), str::to_owned);
            for kind in kinds {
                let kind = kind.map_err(&err)?;
                self.push(Indicator {
                    kind,
                    valid_from,
                    valid_until,
                    description: description.clone(),
                    source: source.clone(),
                });
                added += 1;
            }
        }
        Ok(added)
    }

    /// Every indicator valid at `ev.time` that matches the event.
    pub fn matches<'a>(&'a self, ev: &AuditEvent) -> Vec<&'a Indicator> {
        let mut hits: Vec<usize> = Vec::new();
        if let Some(ip) = ev.client_ip {
            if let Some(v) = self.by_addr.get(&ip) {
                hits.extend(v);
            }
            for &i in &self.networks {
                if let IndicatorKind::Ip { addr, prefix } = self.indicators[i].kind
                    && in_network(ip, addr, prefix)
                {
                    hits.push(i);
                }
            }
        }
        if !self.by_agent.is_empty()
            && let Some(ua) = &ev.user_agent
            && let Some(v) = self.by_agent.get(&ua.trim().to_ascii_lowercase())
        {
            hits.extend(v);
        }
        if !self.by_app.is_empty() {
            for id in [&ev.app_id, &ev.client_app_id].into_iter().flatten() {
                if let Some(v) = self.by_app.get(&id.trim().to_ascii_lowercase()) {
                    hits.extend(v);
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter()
            .map(|i| &self.indicators[i])
            .filter(|ind| ind.valid_at(ev.time))
            .collect()
    }
}

fn parse_kind(kind: &str, value: &str) -> Result<IndicatorKind, String> {
    if value.is_empty() {
        return Err("empty value".into());
    }
    match kind.to_ascii_lowercase().as_str() {
        "ip" | "ipv4" | "ipv6" | "ip-address" | "cidr" => parse_network(value),
        "user_agent" | "user-agent" | "useragent" | "ua" => {
            Ok(IndicatorKind::UserAgent(value.to_owned()))
        }
        "app_id" | "app-id" | "appid" | "app" => Ok(IndicatorKind::AppId(value.to_owned())),
        other => Err(format!(
            "unknown indicator kind {other:?}: use ip, user_agent or app_id"
        )),
    }
}

fn parse_network(value: &str) -> Result<IndicatorKind, String> {
    let (addr, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let addr = parse_client_ip(addr).ok_or_else(|| format!("not an IP address: {value:?}"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("bad prefix length in {value:?}"))?,
    };
    Ok(IndicatorKind::Ip { addr, prefix })
}

/// A `YYYY-MM-DD` day (start or end of it) or a full timestamp; empty means unbounded.
fn parse_day(s: &str, end_of_day: bool) -> Result<Option<Timestamp>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let is_day = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    if !is_day && let Some(t) = mailtrail_event::parse_time(s) {
        return Ok(Some(t));
    }
    let time = if end_of_day {
        "T23:59:59.999999999Z"
    } else {
        "T00:00:00Z"
    };
    mailtrail_event::parse_time(&format!("{s}{time}"))
        .map(Some)
        .ok_or_else(|| format!("not a date (YYYY-MM-DD) or timestamp: {s:?}"))
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The comparisons of a STIX pattern this version understands, joined by OR: address values and
/// HTTP user agents. Anything else (AND, FOLLOWEDBY, other objects) yields nothing, so the
/// indicator is counted as unsupported rather than half-applied.
fn stix_pattern_kinds(pattern: &str) -> Vec<Result<IndicatorKind, String>> {
    let lowered = pattern.to_ascii_lowercase();
    if lowered.contains(" and ") || lowered.contains("followedby") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for part in pattern.split(['[', ']']).flat_map(|p| p.split(" OR ")) {
        let part = part.trim();
        if part.is_empty() || part.eq_ignore_ascii_case("or") {
            continue;
        }
        let Some((path, value)) = part.split_once('=') else {
            return Vec::new();
        };
        let path = path.trim().to_ascii_lowercase();
        let value = value.trim();
        let Some(value) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) else {
            return Vec::new();
        };
        let value = value.replace("\\'", "'").replace("\\\\", "\\");
        if path == "ipv4-addr:value" || path == "ipv6-addr:value" {
            out.push(parse_network(&value));
        } else if path.starts_with("network-traffic:extensions.")
            && path.ends_with(".request_header.'user-agent'")
        {
            out.push(Ok(IndicatorKind::UserAgent(value)));
        } else {
            return Vec::new();
        }
    }
    out
}

/// See the module documentation.
pub(crate) struct KnownBadInfrastructure {
    set: Arc<IndicatorSet>,
}

impl KnownBadInfrastructure {
    pub(crate) fn new(set: Arc<IndicatorSet>) -> Self {
        Self { set }
    }
}

impl Analytic for KnownBadInfrastructure {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        if self.set.is_empty() {
            return;
        }
        for ind in self.set.matches(ev) {
            let mut attribution = Vec::new();
            if let (IndicatorKind::Ip { .. }, Some(ip)) = (&ind.kind, ev.client_ip) {
                attribution.push(Attribution::Ip(ip));
            }
            let about = if ind.description.is_empty() {
                String::new()
            } else {
                format!(" ({})", ind.description)
            };
            ctx.emit(Signal {
                detector: NAME,
                key: format!(
                    "{}|{}",
                    ev.tenant_id.as_deref().unwrap_or_default(),
                    ind.kind
                ),
                title: format!("Activity from known-bad infrastructure: {}", ind.kind),
                severity: Severity::High,
                attack: techniques(&["T1078.004"]),
                reason: format!(
                    "{} by {} matched indicator {}{about}, valid at that time, from {}.",
                    ev.operation,
                    ev.user_id.as_deref().unwrap_or("(unknown user)"),
                    ind.kind,
                    ind.source
                ),
                tenant: ev.tenant_id.clone(),
                evidence: vec![Evidence::of(ev)],
                attribution,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn ev_from(ip: &str, time: &str) -> AuditEvent {
        let mut ev = bind("m1", time, "ann@c.example", "a", "b");
        ev.client_ip = ip.parse().ok();
        ev
    }

    #[test]
    fn the_built_in_storm_0558_list_loads_with_windows() {
        let mut checked = IndicatorSet::default();
        let n = checked
            .add_csv(Path::new("storm-0558.csv"), STORM_0558)
            .unwrap();
        let set = IndicatorSet::storm_0558();
        assert_eq!(set.len(), n);
        assert!(set.len() >= 35, "{}", set.len());
        // Inside its first/last-seen window, and the day after the window closes.
        assert_eq!(
            set.matches(&ev_from("51.89.156.153", "2023-06-01T10:00:00Z"))
                .len(),
            1
        );
        assert_eq!(
            set.matches(&ev_from("51.89.156.153", "2023-07-10T23:00:00Z"))
                .len(),
            1
        );
        assert!(
            set.matches(&ev_from("51.89.156.153", "2023-07-11T00:00:01Z"))
                .is_empty()
        );
        assert!(
            set.matches(&ev_from("51.89.156.153", "2026-01-20T10:00:00Z"))
                .is_empty()
        );
    }

    #[test]
    fn csv_lists_accept_networks_agents_and_apps() {
        let dir = std::env::temp_dir().join(format!("mt-ioc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("iocs.csv");
        std::fs::write(
            &path,
            "kind,value,first_seen,last_seen,description\n\
             ip,203.0.113.0/24,,,test net\n\
             user_agent,python-requests/2.31.0,2026-01-01,,scripted\n\
             app_id,5A95E683-08AD-424E-A441-1D1AEC52C02C,,,rogue app\n",
        )
        .unwrap();
        let mut set = IndicatorSet::default();
        assert_eq!(set.load(&path).unwrap(), 3);
        let mut ev = ev_from("203.0.113.77", "2026-01-20T10:00:00Z");
        ev.user_agent = Some("Python-Requests/2.31.0".into());
        ev.client_app_id = Some("5a95e683-08ad-424e-a441-1d1aec52c02c".into());
        assert_eq!(set.matches(&ev).len(), 3);
        assert!(
            set.matches(&ev_from("203.0.114.1", "2026-01-20T10:00:00Z"))
                .is_empty()
        );
    }

    #[test]
    fn a_bad_csv_line_is_reported_with_its_line() {
        let dir = std::env::temp_dir().join(format!("mt-ioc-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("iocs.csv");
        std::fs::write(&path, "kind,value\nip,1.2.3.4\nip,not-an-ip\n").unwrap();
        let err = IndicatorSet::default().load(&path).unwrap_err().to_string();
        assert!(
            err.contains(":3:") && err.contains("not an IP address"),
            "{err}"
        );
    }

    #[test]
    fn stix_bundles_give_addresses_and_agents_and_skip_the_rest() {
        let dir = std::env::temp_dir().join(format!("mt-ioc-stix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.json");
        std::fs::write(
            &path,
            r#"{"type":"bundle","id":"bundle--1","objects":[
              {"type":"indicator","spec_version":"2.1","id":"indicator--a","pattern_type":"stix",
               "pattern":"[ipv4-addr:value = '198.51.100.9'] OR [ipv6-addr:value = '2001:db8::/32']",
               "valid_from":"2026-01-01T00:00:00Z","valid_until":"2026-02-01T00:00:00Z","name":"vps"},
              {"type":"indicator","id":"indicator--b","pattern_type":"stix",
               "pattern":"[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'evil/1.0']",
               "valid_from":"2026-01-01T00:00:00Z"},
              {"type":"indicator","id":"indicator--c","pattern_type":"stix",
               "pattern":"[file:hashes.'SHA-256' = 'abc']","valid_from":"2026-01-01T00:00:00Z"},
              {"type":"malware","id":"malware--d","name":"x"}
            ]}"#,
        )
        .unwrap();
        let mut set = IndicatorSet::default();
        assert_eq!(set.load(&path).unwrap(), 3);
        assert_eq!(set.unsupported(), 1);
        assert_eq!(
            set.matches(&ev_from("198.51.100.9", "2026-01-15T00:00:00Z"))
                .len(),
            1
        );
        assert!(
            set.matches(&ev_from("198.51.100.9", "2026-03-15T00:00:00Z"))
                .is_empty()
        );
        assert_eq!(
            set.matches(&ev_from("2001:db8::5", "2026-01-15T00:00:00Z"))
                .len(),
            1
        );
    }

    #[test]
    fn the_analytic_attributes_later_records_from_the_address() {
        let mut set = IndicatorSet::default();
        set.push(Indicator {
            kind: parse_network("203.0.113.5").unwrap(),
            valid_from: None,
            valid_until: None,
            description: "test".into(),
            source: "test".into(),
        });
        let out = run(
            &mut KnownBadInfrastructure::new(Arc::new(set)),
            &[ev_from("203.0.113.5", "2026-01-20T10:00:00Z")],
            None,
        );
        assert_eq!(out.len(), 1);
        assert!(
            out[0]
                .attribution
                .contains(&Attribution::Ip("203.0.113.5".parse().unwrap()))
        );
    }
}
