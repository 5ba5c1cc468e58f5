//! Key sets kept fresh from their issuers: refresh when a token names an unknown key, at most once
//! per issuer per interval, so a flood of tokens with random `kid`s cannot make us hammer the
//! identity provider (or be used to make it rate-limit us).

use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

use url::Url;

use crate::claims::Claims;
use crate::error::{Part, Rejection};
use crate::fetch::{Fetch, FetchError, discover, fetch_jwks};
use crate::jws::{Compact, object};
use crate::store::{IssuerPattern, KeyStore, TrustedIssuer};
use crate::validator::{Validator, Verified, unix_now};

/// Default shortest time between two fetches of one issuer's keys (Microsoft's own libraries wait
/// five minutes too).
pub const DEFAULT_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(300);
/// Default age after which keys are fetched again even if no token asks (Microsoft suggests
/// checking daily).
pub const DEFAULT_MAX_KEY_AGE: Duration = Duration::from_secs(24 * 3600);

/// Where an issuer's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// OpenID Provider Metadata (`…/.well-known/openid-configuration`); its `issuer` must be the
    /// configured issuer, and its `jwks_uri` gives the keys.
    Metadata(Url),
    /// A JWK Set URL, for providers without metadata.
    Jwks(Url),
}

/// The time source of a [`KeyCache`], in unix seconds. Tests use their own.
pub trait Clock: Send + Sync {
    /// Now, in unix seconds.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        unix_now()
    }
}

/// How often a [`KeyCache`] may fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    /// Shortest time between two fetches of one issuer's keys, whatever triggers them.
    pub min_refresh_interval: Duration,
    /// Age after which keys are fetched again before validating.
    pub max_key_age: Duration,
}

impl Default for CacheOptions {
    fn default() -> CacheOptions {
        CacheOptions {
            min_refresh_interval: DEFAULT_MIN_REFRESH_INTERVAL,
            max_key_age: DEFAULT_MAX_KEY_AGE,
        }
    }
}

/// Why [`KeyCache::validate`] did not return verified claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The token broke a rule.
    #[error("{0}")]
    Rejected(#[from] Rejection),
    /// The token names a key we do not have, and fetching the issuer's keys failed: the token may
    /// be good, we cannot tell.
    #[error("keys unavailable: {0}")]
    KeysUnavailable(FetchError),
}

#[derive(Debug)]
struct Source {
    issuer: IssuerPattern,
    source: KeySource,
    loaded_at: i64,
    last_attempt: i64,
    fetches: u64,
}

/// A [`KeyStore`] filled from issuers' metadata, refreshed on demand under a rate limit.
/// Share it between threads behind an `Arc`; every method takes `&self`.
///
/// ```no_run
/// use mailtrail_token::{
///     CacheOptions, HttpFetcher, KeyCache, KeySource, TokenUse, Url, ValidationError,
///     ValidationOptions, Validator,
/// };
///
/// let cache = KeyCache::new(HttpFetcher::default(), CacheOptions::default());
/// let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// cache.add_issuer(
///     &format!("https://login.microsoftonline.com/{tenant}/v2.0"),
///     KeySource::Metadata(Url::parse(&format!(
///         "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
///     ))?),
/// )?;
/// let validator = Validator::new(
///     ValidationOptions::for_audience("api://mail-archive").token_use(TokenUse::Access),
/// )?;
/// # let bearer = "";
/// match cache.validate(&validator, bearer) {
///     Ok(verified) => println!("caller {:?}", verified.claims().string("oid")),
///     Err(ValidationError::Rejected(r)) => println!("invalid_token ({})", r.rule()),
///     Err(ValidationError::KeysUnavailable(e)) => println!("try again later: {e}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyCache {
    fetcher: Box<dyn Fetch>,
    clock: Box<dyn Clock>,
    options: CacheOptions,
    store: RwLock<KeyStore>,
    sources: Mutex<Vec<Source>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("options", &self.options)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    /// An empty cache fetching with `fetcher`.
    pub fn new(fetcher: impl Fetch + 'static, options: CacheOptions) -> KeyCache {
        KeyCache {
            fetcher: Box::new(fetcher),
            clock: Box::new(SystemClock),
            options,
            store: RwLock::new(KeyStore::new()),
            sources: Mutex::new(Vec::new()),
        }
    }

    /// Uses `clock` instead of the system clock, for token times and the rate limit alike.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> KeyCache {
        self.clock = Box::new(clock);
        self
    }

    /// Fetches `issuer`'s keys from `source` now and trusts them for that issuer from then on.
    /// Returns the issuer as loaded, refused keys included.
    pub fn add_issuer(&self, issuer: &str, source: KeySource) -> Result<TrustedIssuer, FetchError> {
        let trusted = self.load(issuer, &source)?;
        let now = self.clock.now();
        self.write_store().insert(trusted.clone());
        let mut sources = self.lock_sources();
        sources.retain(|s| s.issuer.as_str() != issuer);
        sources.push(Source {
            issuer: IssuerPattern::new(issuer),
            source,
            loaded_at: now,
            last_attempt: now,
            fetches: 1,
        });
        Ok(trusted)
    }

    /// Trusts keys read elsewhere (a file); they are never refreshed.
    pub fn add_static(&self, issuer: TrustedIssuer) {
        self.write_store().insert(issuer);
    }

    /// A snapshot of the keys.
    pub fn store(&self) -> KeyStore {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times `issuer`'s keys were fetched, the first load included.
    pub fn fetch_count(&self, issuer: &str) -> u64 {
        self.lock_sources()
            .iter()
            .find(|s| s.issuer.as_str() == issuer)
            .map_or(0, |s| s.fetches)
    }

    /// Validates `token`, refreshing keys when they are old or the token names an unknown key and
    /// the issuer's rate limit allows a fetch.
    pub fn validate(
        &self,
        validator: &Validator,
        token: &str,
    ) -> Result<Verified, ValidationError> {
        let now = self.clock.now();
        let max_age = secs(self.options.max_key_age);
        // Old keys: refresh what the rate limit allows; on failure keep the old keys.
        let _ = self.refresh_where(now, |s| now.saturating_sub(s.loaded_at) >= max_age);

        let first = {
            let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
            validator.validate_at(&store, token, now)
        };
        let Err(Rejection::UnknownKey { .. }) = first else {
            return first.map_err(ValidationError::Rejected);
        };
        // Only the issuers this token claims are refreshed.
        let Some((iss, tid)) = unverified_issuer(token) else {
            return first.map_err(ValidationError::Rejected);
        };
        let outcome = self.refresh_where(now, |s| {
            s.issuer.matches(&iss, tid.as_deref()) == crate::store::Match::Yes
        });
        match outcome {
            Refreshed::Some => {
                let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
                validator
                    .validate_at(&store, token, now)
                    .map_err(ValidationError::Rejected)
            }
            Refreshed::Failed(e) => Err(ValidationError::KeysUnavailable(e)),
            Refreshed::None => first.map_err(ValidationError::Rejected),
        }
    }

    /// Refreshes the sources `wanted` selects whose rate limit allows it.
    fn refresh_where(&self, now: i64, wanted: impl Fn(&Source) -> bool) -> Refreshed {
        let interval = secs(self.options.min_refresh_interval);
        let mut sources = self.lock_sources();
        let mut outcome = Refreshed::None;
        for source in sources.iter_mut().filter(|s| wanted(s)) {
            if now.saturating_sub(source.last_attempt) < interval {
                continue;
            }
            source.last_attempt = now;
            source.fetches += 1;
            match self.load(source.issuer.as_str(), &source.source) {
                Ok(trusted) => {
                    self.write_store().insert(trusted);
                    source.loaded_at = now;
                    outcome = Refreshed::Some;
                }
                Err(e) => {
                    if !matches!(outcome, Refreshed::Some) {
                        outcome = Refreshed::Failed(e);
                    }
                }
            }
        }
        outcome
    }

    fn load(&self, issuer: &str, source: &KeySource) -> Result<TrustedIssuer, FetchError> {
        let jwks_uri = match source {
            KeySource::Metadata(url) => discover(self.fetcher.as_ref(), url, issuer)?.jwks_uri,
            KeySource::Jwks(url) => url.clone(),
        };
        let keys = fetch_jwks(self.fetcher.as_ref(), &jwks_uri)?;
        Ok(TrustedIssuer::new(issuer, keys))
    }

    fn lock_sources(&self) -> std::sync::MutexGuard<'_, Vec<Source>> {
        self.sources.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_store(&self) -> std::sync::RwLockWriteGuard<'_, KeyStore> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }
}

enum Refreshed {
    None,
    Some,
    Failed(FetchError),
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// The `iss` and `tid` a token claims, unverified: enough to know which issuer to refresh.
fn unverified_issuer(token: &str) -> Option<(String, Option<String>)> {
    let compact = Compact::decode(token, usize::MAX).ok()?;
    let claims = Claims::from_map(object(&compact.payload, Part::Payload).ok()?);
    Some((claims.iss()?.to_owned(), claims.tid().map(str::to_owned)))
}
