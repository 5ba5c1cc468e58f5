//! What to generate: [`TenantConfig`], its builder, and the attack [`Scenario`]s.

use std::fmt;
use std::str::FromStr;

use crate::clock;

/// The first day generated when none is given: Monday 5 January 2026. A fixed default keeps output
/// reproducible; it does not follow the wall clock.
pub const DEFAULT_START: &str = "2026-01-05";

/// An attack scenario the generator can hide in a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scenario {
    /// Forged tokens read mailboxes through OWA/REST from VPS egress, with no matching sign-in.
    Storm0558,
    /// A user consents to a malicious multi-tenant app with mail scopes; the app reads mail through Graph.
    ConsentPhishing,
    /// An adversary-in-the-middle sign-in, a replayed session, an inbox rule, forwarding and a fraudulent send.
    Aitm,
    /// An application (new, or existing with a newly added credential) reads many mailboxes through EWS.
    EwsHarvest,
    /// FullAccess is granted on a mailbox and the grantee reads it.
    FullAccessDelegation,
    /// A compliance search is created, started and exported by an account that never did so before.
    EdiscoveryExport,
    /// Failed sign-ins across many users from few addresses, then one success and mail access.
    PasswordSpray,
}

impl Scenario {
    /// Every scenario, in the order `--scenarios all` runs them.
    pub const ALL: [Scenario; 7] = [
        Self::Storm0558,
        Self::ConsentPhishing,
        Self::Aitm,
        Self::EwsHarvest,
        Self::FullAccessDelegation,
        Self::EdiscoveryExport,
        Self::PasswordSpray,
    ];

    /// The name used on the command line and in `labels.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Storm0558 => "storm-0558",
            Self::ConsentPhishing => "consent-phishing",
            Self::Aitm => "aitm",
            Self::EwsHarvest => "ews-harvest",
            Self::FullAccessDelegation => "fullaccess-delegation",
            Self::EdiscoveryExport => "ediscovery-export",
            Self::PasswordSpray => "password-spray",
        }
    }

    /// Parses a comma-separated list, `all` or `none`.
    pub fn parse_list(s: &str) -> Result<Vec<Scenario>, ConfigError> {
        match s.trim() {
            "all" => return Ok(Self::ALL.to_vec()),
            "none" | "" => return Ok(Vec::new()),
            _ => {}
        }
        let mut out: Vec<Scenario> = s
            .split(',')
            .map(|name| name.parse())
            .collect::<Result<_, _>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scenario {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|sc| sc.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ConfigError::UnknownScenario(s.to_owned()))
    }
}

/// A configuration the generator cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A scenario name that does not exist.
    #[error(
        "unknown scenario {0:?}; known scenarios: storm-0558, consent-phishing, aitm, ews-harvest, \
         fullaccess-delegation, ediscovery-export, password-spray (or `all`, `none`)"
    )]
    UnknownScenario(String),
    /// A start date that is not `YYYY-MM-DD`.
    #[error("start date {0:?} is not a date in the form YYYY-MM-DD")]
    BadStart(String),
    /// Too few users for the tenant to make sense.
    #[error(
        "a tenant needs at least {min} users (got {got}): attack scenarios need victims and bystanders"
    )]
    TooFewUsers {
        /// What was asked for.
        got: u32,
        /// The minimum.
        min: u32,
    },
    /// A period of zero days.
    #[error("the period must be at least one day")]
    NoDays,
    /// A period too long to be sensible.
    #[error("the period is {0} days; at most 3,660 days (ten years) can be generated")]
    TooManyDays(u32),
}

/// Everything that determines a generated tenant. Output is a pure function of this value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantConfig {
    pub(crate) users: u32,
    pub(crate) days: u32,
    pub(crate) seed: u64,
    pub(crate) start_day: i64,
    pub(crate) scenarios: Vec<Scenario>,
}

impl TenantConfig {
    /// The smallest tenant: enough people for victims, delegates, admins and bystanders.
    pub const MIN_USERS: u32 = 10;

    /// A builder with the defaults: 100 users, 30 days from [`DEFAULT_START`], seed 1, every scenario.
    pub fn builder() -> TenantConfigBuilder {
        TenantConfigBuilder::default()
    }

    /// Number of people (mailbox users); shared mailboxes come on top.
    pub fn users(&self) -> u32 {
        self.users
    }

    /// Number of days generated.
    pub fn days(&self) -> u32 {
        self.days
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The first day, `YYYY-MM-DD`.
    pub fn start(&self) -> String {
        clock::format_date(self.start_day)
    }

    /// The scenarios hidden in the tenant.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The first instant of the period, Unix seconds.
    pub(crate) fn start_time(&self) -> i64 {
        self.start_day * clock::DAY
    }

    /// The instant just after the period, Unix seconds.
    pub(crate) fn end_time(&self) -> i64 {
        (self.start_day + i64::from(self.days)) * clock::DAY
    }
}

/// Builds a [`TenantConfig`].
#[derive(Clone, Debug)]
pub struct TenantConfigBuilder {
    users: u32,
    days: u32,
    seed: u64,
    start: String,
    scenarios: Vec<Scenario>,
}

impl Default for TenantConfigBuilder {
    fn default() -> Self {
        Self {
            users: 100,
            days: 30,
            seed: 1,
            start: DEFAULT_START.to_owned(),
            scenarios: Scenario::ALL.to_vec(),
        }
    }
}

impl TenantConfigBuilder {
    /// Number of people.
    pub fn users(&mut self, n: u32) -> &mut Self {
        self.users = n;
        self
    }

    /// Number of days.
    pub fn days(&mut self, n: u32) -> &mut Self {
        self.days = n;
        self
    }

    /// The seed.
    pub fn seed(&mut self, seed: u64) -> &mut Self {
        self.seed = seed;
        self
    }

    /// The first day, `YYYY-MM-DD` (UTC).
    pub fn start(&mut self, date: &str) -> &mut Self {
        date.clone_into(&mut self.start);
        self
    }

    /// The attack scenarios; an empty list gives a benign tenant.
    pub fn scenarios(&mut self, scenarios: &[Scenario]) -> &mut Self {
        let mut s = scenarios.to_vec();
        s.sort();
        s.dedup();
        self.scenarios = s;
        self
    }

    /// Checks the values and builds the configuration.
    pub fn build(&self) -> Result<TenantConfig, ConfigError> {
        if self.users < TenantConfig::MIN_USERS {
            return Err(ConfigError::TooFewUsers {
                got: self.users,
                min: TenantConfig::MIN_USERS,
            });
        }
        if self.days == 0 {
            return Err(ConfigError::NoDays);
        }
        if self.days > 3660 {
            return Err(ConfigError::TooManyDays(self.days));
        }
        let start_day = clock::parse_date(&self.start)
            .ok_or_else(|| ConfigError::BadStart(self.start.clone()))?;
        Ok(TenantConfig {
            users: self.users,
            days: self.days,
            seed: self.seed,
            start_day,
            scenarios: self.scenarios.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_lists_parse_all_none_and_names() {
        assert_eq!(Scenario::parse_list("all").unwrap().len(), 7);
        assert!(Scenario::parse_list("none").unwrap().is_empty());
        assert_eq!(
            Scenario::parse_list("aitm, storm-0558,aitm").unwrap(),
            vec![Scenario::Storm0558, Scenario::Aitm]
        );
        assert!(matches!(
            Scenario::parse_list("aitm,nope"),
            Err(ConfigError::UnknownScenario(s)) if s == "nope"
        ));
        for s in Scenario::ALL {
            assert_eq!(s.as_str().parse::<Scenario>(), Ok(s));
        }
    }

    #[test]
    fn builder_rejects_what_cannot_be_generated() {
        assert!(matches!(
            TenantConfig::builder().users(3).build(),
            Err(ConfigError::TooFewUsers { got: 3, .. })
        ));
        assert_eq!(
            TenantConfig::builder().days(0).build(),
            Err(ConfigError::NoDays)
        );
        assert!(matches!(
            TenantConfig::builder().start("2026-13-01").build(),
            Err(ConfigError::BadStart(_))
        ));
        let c = TenantConfig::builder()
            .start("2025-03-01")
            .days(2)
            .build()
            .unwrap();
        assert_eq!(c.start(), "2025-03-01");
        assert_eq!(c.end_time() - c.start_time(), 2 * 86_400);
    }
}
