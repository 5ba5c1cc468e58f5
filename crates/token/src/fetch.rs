//! Fetching metadata and key sets over HTTP(S), with the limits a key fetch needs.
//!
//! The client is [ureq] with rustls: blocking, small, no async runtime, no OpenSSL. Key fetches are
//! rare (at start, then at most once per issuer per refresh interval), so a blocking call is the
//! simplest correct tool; an async service calls [`KeyCache`](crate::KeyCache) from a blocking task.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::encoding::{JsonError, parse_object};
use crate::error::{KeySetError, shorten};
use crate::jwk::JwkSet;
use crate::store::IssuerPattern;

/// Largest response read: an OpenID metadata document or a key set (Entra ID's are under 20 KiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 512 * 1024;
/// Time allowed for one whole request, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed, all on the original host.
const MAX_REDIRECTS: usize = 3;

/// Gets the bytes at a URL. [`HttpFetcher`] is the real one; tests and services may supply theirs.
pub trait Fetch: Send + Sync {
    /// The body of a successful GET of `url`.
    fn get(&self, url: &Url) -> Result<Vec<u8>, FetchError>;
}

/// A fetch or a fetched document that failed, with the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {kind}")]
pub struct FetchError {
    /// The URL asked for.
    pub url: String,
    /// What went wrong.
    pub kind: FetchErrorKind,
}

/// What went wrong while fetching keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchErrorKind {
    /// The URL is not https (plain http is allowed to loopback addresses only), or is unreadable.
    UrlNotAllowed(String),
    /// The server redirected to another host or scheme; keys are only taken from where we asked.
    RedirectRefused {
        /// Where it pointed.
        to: String,
    },
    /// More than three redirects.
    TooManyRedirects,
    /// The server answered with a status other than 200.
    Status(u16),
    /// The connection, TLS or the timeout failed.
    Transport(String),
    /// The response is over the size limit.
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The OpenID metadata is not JSON or lacks `issuer` / `jwks_uri`.
    BadMetadata(String),
    /// The metadata's `issuer` is not the issuer we asked about (OpenID Connect Discovery §4.3).
    IssuerMismatch {
        /// The issuer configured.
        expected: String,
        /// The issuer the metadata states.
        found: String,
    },
    /// The key set is unreadable.
    KeySet(KeySetError),
}

impl fmt::Display for FetchErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchErrorKind::UrlNotAllowed(why) => write!(f, "URL refused: {why}"),
            FetchErrorKind::RedirectRefused { to } => {
                write!(
                    f,
                    "redirect to {to} refused: keys are fetched from the configured host only"
                )
            }
            FetchErrorKind::TooManyRedirects => f.write_str("too many redirects"),
            FetchErrorKind::Status(code) => write!(f, "HTTP status {code}"),
            FetchErrorKind::Transport(e) => write!(f, "request failed: {e}"),
            FetchErrorKind::TooLarge { limit } => write!(f, "response over {limit} bytes"),
            FetchErrorKind::BadMetadata(why) => write!(f, "bad OpenID metadata: {why}"),
            FetchErrorKind::IssuerMismatch { expected, found } => write!(
                f,
                "metadata is for issuer {found:?}, not {expected:?}; check --issuer and --metadata"
            ),
            FetchErrorKind::KeySet(e) => write!(f, "{e}"),
        }
    }
}

impl FetchError {
    pub(crate) fn new(url: &str, kind: FetchErrorKind) -> FetchError {
        FetchError {
            url: shorten(url),
            kind,
        }
    }
}

/// Refuses URLs keys must not come from: anything but `https`, except `http` to a loopback
/// address (a local test server or sidecar), where nobody on the path can swap the keys.
pub fn check_url(url: &Url) -> Result<(), FetchError> {
    let refuse = |why: &str| {
        Err(FetchError::new(
            url.as_str(),
            FetchErrorKind::UrlNotAllowed(why.into()),
        ))
    };
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => return refuse("plain http is allowed to loopback addresses only; use https"),
        other => return refuse(&format!("scheme {other:?} is not http(s)")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return refuse("no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("credentials in the URL");
    }
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// HTTP(S) with rustls: timeouts, a response size limit, and redirects only within the host.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    agent: ureq::Agent,
    /// For loopback addresses: never through a proxy, whose loopback is not ours.
    direct: ureq::Agent,
    max_bytes: u64,
}

impl Default for HttpFetcher {
    fn default() -> HttpFetcher {
        HttpFetcher::new(DEFAULT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES)
    }
}

impl HttpFetcher {
    /// A fetcher with this whole-request timeout and response size limit.
    pub fn new(timeout: Duration, max_bytes: u64) -> HttpFetcher {
        let config = || {
            ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                // Redirects are followed by hand below, so that each hop is checked.
                .max_redirects(0)
                .http_status_as_error(false)
                .user_agent(concat!("mailtrail-token/", env!("CARGO_PKG_VERSION")))
        };
        HttpFetcher {
            agent: config().build().into(),
            direct: config().proxy(None).build().into(),
            max_bytes,
        }
    }
}

impl Fetch for HttpFetcher {
    fn get(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        check_url(url)?;
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let fail = |kind| FetchError::new(current.as_str(), kind);
            let agent = if is_loopback(&current) {
                &self.direct
            } else {
                &self.agent
            };
            let mut response = agent
                .get(current.as_str())
                .call()
                .map_err(|e| fail(FetchErrorKind::Transport(e.to_string())))?;
            let status = response.status().as_u16();
            if (300..400).contains(&status) {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| fail(FetchErrorKind::Status(status)))?;
                let next = current.join(location).map_err(|_| {
                    fail(FetchErrorKind::RedirectRefused {
                        to: shorten(location),
                    })
                })?;
                if next.scheme() != current.scheme()
                    || next.host_str() != current.host_str()
                    || next.port_or_known_default() != current.port_or_known_default()
                {
                    return Err(fail(FetchErrorKind::RedirectRefused {
                        to: shorten(next.as_str()),
                    }));
                }
                current = next;
                continue;
            }
            if status != 200 {
                return Err(fail(FetchErrorKind::Status(status)));
            }
            return response
                .body_mut()
                .with_config()
                .limit(self.max_bytes)
                .read_to_vec()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(limit) => {
                        fail(FetchErrorKind::TooLarge { limit })
                    }
                    other => fail(FetchErrorKind::Transport(other.to_string())),
                });
        }
        Err(FetchError::new(
            url.as_str(),
            FetchErrorKind::TooManyRedirects,
        ))
    }
}

/// The two members of OpenID Provider Metadata a validator needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// `issuer`, which may be a `{tenantid}` template.
    pub issuer: String,
    /// `jwks_uri`, where the keys are.
    pub jwks_uri: Url,
}

/// Reads OpenID Provider Metadata (`/.well-known/openid-configuration`) and checks that its
/// `issuer` is `expected_issuer` and its `jwks_uri` is a URL keys may come from.
pub fn discover(
    fetcher: &dyn Fetch,
    metadata_url: &Url,
    expected_issuer: &str,
) -> Result<ProviderMetadata, FetchError> {
    let body = fetcher.get(metadata_url)?;
    let bad =
        |why: String| FetchError::new(metadata_url.as_str(), FetchErrorKind::BadMetadata(why));
    let map = parse_object(&body).map_err(|e| {
        bad(match e {
            JsonError::Duplicate(name) => format!("member {name:?} appears twice"),
            JsonError::Invalid(why) => why,
        })
    })?;
    let issuer = map
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no \"issuer\"".into()))?;
    if IssuerPattern::new(issuer) != IssuerPattern::new(expected_issuer) {
        return Err(FetchError::new(
            metadata_url.as_str(),
            FetchErrorKind::IssuerMismatch {
                expected: shorten(expected_issuer),
                found: shorten(issuer),
            },
        ));
    }
    let jwks_uri = map
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no \"jwks_uri\"".into()))?;
    let jwks_uri = Url::parse(jwks_uri).map_err(|e| bad(format!("jwks_uri: {e}")))?;
    check_url(&jwks_uri)?;
    Ok(ProviderMetadata {
        issuer: issuer.to_owned(),
        jwks_uri,
    })
}

/// Fetches and reads a JWK Set.
pub fn fetch_jwks(fetcher: &dyn Fetch, url: &Url) -> Result<JwkSet, FetchError> {
    let body = fetcher.get(url)?;
    JwkSet::from_json(&body).map_err(|e| FetchError::new(url.as_str(), FetchErrorKind::KeySet(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_https_or_loopback_http_urls_are_allowed() {
        assert!(
            check_url(&url(
                "https://login.microsoftonline.com/common/discovery/v2.0/keys"
            ))
            .is_ok()
        );
        assert!(check_url(&url("http://127.0.0.1:8080/keys")).is_ok());
        assert!(check_url(&url("http://[::1]:8080/keys")).is_ok());
        assert!(check_url(&url("http://localhost/keys")).is_ok());
        assert!(check_url(&url("http://login.microsoftonline.com/keys")).is_err());
        assert!(check_url(&url("file:///etc/passwd")).is_err());
        assert!(check_url(&url("https://user:pw@example.com/keys")).is_err());
    }
}
