//! Key rotation against a real HTTP server on 127.0.0.1 serving OpenID metadata and a JWK Set:
//! a rotated-in key is accepted after a refresh, and refreshes are rate-limited per issuer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod support;

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mailtrail_token::testing::{TestKey, jwks};
use mailtrail_token::{
    CacheOptions, Clock, Fetch, FetchErrorKind, HttpFetcher, KeyCache, KeySource, Rejection,
    ValidationError, ValidationOptions, Validator,
};
use support::*;
use url::Url;

/// What the identity provider serves right now.
#[derive(Default)]
struct Provider {
    issuer: String,
    jwks: String,
    fail_keys: bool,
}

/// A real HTTP server on an ephemeral 127.0.0.1 port, stopped on drop.
struct TestServer {
    server: Arc<tiny_http::Server>,
    base: String,
    provider: Arc<Mutex<Provider>>,
    key_fetches: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    fn start() -> TestServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let provider = Arc::new(Mutex::new(Provider::default()));
        let key_fetches = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (server, provider, key_fetches, base) = (
                server.clone(),
                provider.clone(),
                key_fetches.clone(),
                base.clone(),
            );
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let p = provider.lock().unwrap();
                    let (status, body, location) = match request.url() {
                        "/.well-known/openid-configuration" => (
                            200,
                            serde_json::json!({"issuer": p.issuer, "jwks_uri": format!("{base}/keys")})
                                .to_string(),
                            None,
                        ),
                        "/keys" => {
                            key_fetches.fetch_add(1, Ordering::SeqCst);
                            if p.fail_keys {
                                (500, "overloaded".to_owned(), None)
                            } else {
                                (200, p.jwks.clone(), None)
                            }
                        }
                        "/same-host-redirect" => (302, String::new(), Some("/keys".to_owned())),
                        "/other-host-redirect" => (
                            302,
                            String::new(),
                            Some(base.replace("127.0.0.1", "localhost") + "/keys"),
                        ),
                        "/huge" => (200, "x".repeat(2 * 1024 * 1024), None),
                        _ => (404, String::new(), None),
                    };
                    drop(p);
                    let mut response =
                        tiny_http::Response::from_string(body).with_status_code(status);
                    if let Some(location) = location {
                        response.add_header(
                            tiny_http::Header::from_bytes("Location", location.as_bytes()).unwrap(),
                        );
                    }
                    let _ = request.respond(response);
                }
            })
        };
        TestServer {
            server,
            base,
            provider,
            key_fetches,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).unwrap()
    }

    fn serve(&self, issuer: &str, keys: &[&TestKey]) {
        let mut p = self.provider.lock().unwrap();
        p.issuer = issuer.to_owned();
        p.jwks = jwks(keys);
    }

    fn key_fetches(&self) -> usize {
        self.key_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

const INTERVAL: u64 = 60;

fn cache(clock: &ManualClock) -> KeyCache {
    KeyCache::new(
        HttpFetcher::default(),
        CacheOptions {
            min_refresh_interval: Duration::from_secs(INTERVAL),
            max_key_age: Duration::from_secs(24 * 3600),
        },
    )
    .with_clock(clock.clone())
}

fn validator() -> Validator {
    Validator::new(ValidationOptions::for_audience(AUD)).unwrap()
}

#[test]
fn a_rotated_in_key_is_accepted_after_a_refresh_and_refreshes_are_rate_limited() {
    let server = TestServer::start();
    let old = TestKey::ed25519("2023-old");
    let new = TestKey::es256("2024-new");
    server.serve(ENTERPRISE, &[&old]);
    let clock = ManualClock(Arc::new(AtomicI64::new(NOW)));
    let cache = cache(&clock);
    let loaded = cache
        .add_issuer(
            ENTERPRISE,
            KeySource::Metadata(server.url("/.well-known/openid-configuration")),
        )
        .unwrap();
    assert_eq!(loaded.keys().count(), 1);
    assert_eq!(server.key_fetches(), 1);
    let v = validator();
    assert!(cache.validate(&v, &old.mint(&claims(CONTOSO))).is_ok());

    // The provider rotates the new key in. Right after the load, the rate limit holds.
    server.serve(ENTERPRISE, &[&old, &new]);
    let token = new.mint(&claims(CONTOSO));
    assert!(matches!(
        cache.validate(&v, &token),
        Err(ValidationError::Rejected(Rejection::UnknownKey { .. }))
    ));
    assert_eq!(server.key_fetches(), 1, "refresh inside the interval");

    // Once the interval has passed, the unknown kid triggers one refresh and the token passes.
    clock.advance(INTERVAL as i64 + 1);
    let verified = cache.validate(&v, &new.mint(&claims(CONTOSO))).unwrap();
    assert_eq!(verified.kid(), "2024-new");
    assert_eq!(server.key_fetches(), 2);
    assert_eq!(cache.fetch_count(ENTERPRISE), 2);

    // A flood of tokens with made-up kids does not reach the provider again.
    for i in 0..50 {
        let junk = old.mint_raw(
            &format!(r#"{{"alg":"EdDSA","kid":"random-{i}"}}"#),
            &claims(CONTOSO).to_string(),
        );
        assert!(cache.validate(&v, &junk).is_err());
    }
    assert_eq!(server.key_fetches(), 2, "refreshes must be rate-limited");

    // Tokens for an issuer we do not trust never cause a fetch.
    clock.advance(INTERVAL as i64 + 1);
    let mut c = claims(CONTOSO);
    c["iss"] = serde_json::json!("https://sts.evil.example/");
    assert!(cache.validate(&v, &new.mint(&c)).is_err());
    assert_eq!(server.key_fetches(), 2);
}

#[test]
fn keys_older_than_the_maximum_age_are_refreshed_before_validating() {
    let server = TestServer::start();
    let retired = TestKey::ed25519("retired");
    let current = TestKey::ed25519("current");
    server.serve(ENTERPRISE, &[&retired, &current]);
    let clock = ManualClock(Arc::new(AtomicI64::new(NOW)));
    let cache = cache(&clock);
    cache
        .add_issuer(
            ENTERPRISE,
            KeySource::Metadata(server.url("/.well-known/openid-configuration")),
        )
        .unwrap();
    server.serve(ENTERPRISE, &[&current]);
    clock.advance(24 * 3600 + 1);
    let mut c = claims(CONTOSO);
    for name in ["iat", "nbf"] {
        c[name] = serde_json::json!(clock.now() - 10);
    }
    c["exp"] = serde_json::json!(clock.now() + 3000);
    // The retired key is gone after the age-triggered refresh.
    assert!(matches!(
        cache.validate(&validator(), &retired.mint(&c)),
        Err(ValidationError::Rejected(Rejection::UnknownKey { .. }))
    ));
    assert!(cache.validate(&validator(), &current.mint(&c)).is_ok());
    assert_eq!(server.key_fetches(), 2);
}

#[test]
fn a_failed_refresh_reports_keys_unavailable_not_a_rejection() {
    let server = TestServer::start();
    let known = TestKey::ed25519("known");
    server.serve(ENTERPRISE, &[&known]);
    let clock = ManualClock(Arc::new(AtomicI64::new(NOW)));
    let cache = cache(&clock);
    cache
        .add_issuer(ENTERPRISE, KeySource::Jwks(server.url("/keys")))
        .unwrap();
    server.provider.lock().unwrap().fail_keys = true;
    clock.advance(INTERVAL as i64 + 1);
    let unknown = TestKey::ed25519("unknown");
    let err = cache
        .validate(&validator(), &unknown.mint(&claims(CONTOSO)))
        .unwrap_err();
    assert!(
        matches!(&err, ValidationError::KeysUnavailable(e) if e.kind == FetchErrorKind::Status(500)),
        "{err}"
    );
    // The keys already held keep working.
    let mut c = claims(CONTOSO);
    c["exp"] = serde_json::json!(NOW + 3500);
    assert!(cache.validate(&validator(), &known.mint(&c)).is_ok());
}

#[test]
fn metadata_for_another_issuer_is_refused() {
    let server = TestServer::start();
    server.serve("https://login.microsoftonline.com/common/v2.0", &[]);
    let cache = cache(&ManualClock(Arc::new(AtomicI64::new(NOW))));
    let err = cache
        .add_issuer(
            ENTERPRISE,
            KeySource::Metadata(server.url("/.well-known/openid-configuration")),
        )
        .unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::IssuerMismatch { .. }),
        "{err}"
    );
    assert_eq!(server.key_fetches(), 0);
}

#[test]
fn redirects_stay_on_the_host_and_responses_are_bounded() {
    let server = TestServer::start();
    let key = TestKey::ed25519("k");
    server.serve(ENTERPRISE, &[&key]);
    let fetcher = HttpFetcher::new(Duration::from_secs(5), 64 * 1024);
    assert!(fetcher.get(&server.url("/same-host-redirect")).is_ok());
    let err = fetcher
        .get(&server.url("/other-host-redirect"))
        .unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::RedirectRefused { .. }),
        "{err}"
    );
    let err = fetcher.get(&server.url("/huge")).unwrap_err();
    assert!(matches!(err.kind, FetchErrorKind::TooLarge { .. }), "{err}");
    let err = fetcher.get(&server.url("/nothing-here")).unwrap_err();
    assert_eq!(err.kind, FetchErrorKind::Status(404));
}
