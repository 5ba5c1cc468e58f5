//! `mailtrail token`: inspect and strictly verify JWT access tokens.
//!
//! `inspect` exits 0 when nothing severe was noticed, 1 when a high-severity finding was (what a
//! forgery looks like), 2 when the input is not a token. `verify` exits 0 for a valid token, 1 for
//! a rejected one (with the rule that failed), 2 when it cannot decide (unreadable key file, keys
//! that cannot be fetched).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use mailtrail_token::{
    CacheOptions, Clock, Finding, HttpFetcher, Inspection, JwkSet, KeyCache, KeySource, Rejection,
    Severity, TokenUse, TrustedIssuer, Url, ValidationError, ValidationOptions, Validator,
    Verified, unix_now,
};
use serde_json::{Value, json};

/// `mailtrail token …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Decode a token without trusting it and flag what forgeries look like.
    Inspect(InspectArgs),
    /// Validate a token strictly, binding every signing key to its issuer.
    Verify(VerifyArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Human,
    /// One JSON object, for machines.
    Json,
}

/// Arguments of `mailtrail token inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct InspectArgs {
    /// The token, or `-` to read it from standard input. A leading `Bearer ` is ignored.
    token: String,
    /// A JWK Set file of the keys the token should be signed with; flags a `kid` not in it and a
    /// key bound (by its `issuer` member) to another issuer.
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
    /// Judge times as of this moment (RFC 3339 or unix seconds) instead of now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Kind of token `--token-use` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Use {
    /// An access token (grants `scp` or `roles`, no `nonce`).
    Access,
    /// An ID token (no `scp`).
    Id,
}

/// Arguments of `mailtrail token verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The token, or `-` to read it from standard input. A leading `Bearer ` is ignored.
    token: String,
    /// The issuer to trust, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0. Only keys this
    /// issuer published can verify the token.
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// Accept the multi-tenant issuer template https://login.microsoftonline.com/{tenantid}/v2.0:
    /// `--issuer` must contain `{tenantid}`, and `iss` must name the tenant in the `tid` claim.
    #[arg(long)]
    tenant_template: bool,
    /// Required audience; repeat to accept any of several. Without it the audience is not checked
    /// (and the output says so).
    #[arg(long, value_name = "AUD")]
    audience: Vec<String>,
    /// Read the issuer's keys from this JWK Set file.
    #[arg(long, value_name = "FILE", conflicts_with = "metadata")]
    jwks: Option<PathBuf>,
    /// Fetch the issuer's keys through this OpenID metadata URL (default: the issuer's
    /// /.well-known/openid-configuration).
    #[arg(long, value_name = "URL")]
    metadata: Option<String>,
    /// Accept only these tenants (`tid`); repeat for several.
    #[arg(long, value_name = "TID")]
    tenant: Vec<String>,
    /// Require this header `typ` (e.g. JWT, at+jwt).
    #[arg(long, value_name = "TYP")]
    typ: Option<String>,
    /// Require this kind of token.
    #[arg(long, value_enum)]
    token_use: Option<Use>,
    /// Require this token version (the `ver` claim), e.g. 2.0.
    #[arg(long, value_name = "VER")]
    ver: Option<String>,
    /// Clock skew tolerated on times, in seconds (at most 600).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    clock_skew: u64,
    /// Validate as of this moment (RFC 3339 or unix seconds) instead of now: was the captured token
    /// valid when it was used?
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Inspect(args) => inspect(args),
        Command::Verify(args) => verify(args),
    }
}

fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let token = read_token(&args.token)?;
    let now = moment(args.at.as_deref())?;
    let keys = args.jwks.as_deref().map(read_jwks).transpose()?;
    let inspection = Inspection::inspect(&token, now, keys.as_ref())
        .map_err(|e| anyhow::anyhow!("not a JWT [{}]: {e}", e.rule()))?;
    match args.format {
        Format::Json => {
            let out = json!({
                "verified": false,
                "header": inspection.header().as_map(),
                "claims": inspection.claims().as_map(),
                "signature_bytes": inspection.signature_len(),
                "findings": inspection.findings(),
            });
            println!("{out}");
        }
        Format::Human => print_inspection(&inspection, now),
    }
    let severe = inspection
        .findings()
        .iter()
        .any(|f| f.severity == Severity::High);
    Ok(ExitCode::from(u8::from(severe)))
}

fn print_inspection(inspection: &Inspection, now: i64) {
    println!("UNVERIFIED: decoded without checking the signature; nothing below is trusted.\n");
    println!("header");
    for (name, value) in inspection.header().as_map() {
        println!("  {name:<8} {}", show(value));
    }
    println!("  {:<8} {} bytes", "(sig)", inspection.signature_len());
    println!("claims");
    for (name, value) in inspection.claims().as_map() {
        let when = match (name.as_str(), value.as_i64()) {
            ("exp" | "nbf" | "iat", Some(t)) => format!("  ({})", describe_time(t, now)),
            _ => String::new(),
        };
        println!("  {name:<8} {}{when}", show(value));
    }
    println!("findings");
    if inspection.findings().is_empty() {
        println!("  none");
    }
    for Finding {
        severity,
        code,
        message,
    } in inspection.findings()
    {
        let level = match severity {
            Severity::High => "HIGH",
            Severity::Medium => "medium",
            Severity::Info => "info",
        };
        println!("  {level:<6} {code:<24} {message}");
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let token = read_token(&args.token)?;
    let now = moment(args.at.as_deref())?;
    let template = args.issuer.to_ascii_lowercase().contains("{tenantid}");
    if template && !args.tenant_template {
        bail!(
            "--issuer {} is a multi-tenant template; pass --tenant-template to accept every tenant it covers",
            args.issuer
        );
    }
    if args.tenant_template && !template {
        bail!("--tenant-template needs an --issuer containing {{tenantid}}");
    }

    let validator = Validator::new(options(&args)?).context("invalid validation options")?;
    let cache =
        KeyCache::new(HttpFetcher::default(), CacheOptions::default()).with_clock(FixedClock(now));
    match &args.jwks {
        Some(path) => {
            let keys = read_jwks(path)?;
            let trusted = TrustedIssuer::new(&args.issuer, keys);
            report_refused_keys(&trusted);
            if trusted.keys().next().is_none() {
                bail!("{}: no usable key for {}", path.display(), args.issuer);
            }
            cache.add_static(trusted);
        }
        None => {
            let url = match &args.metadata {
                Some(url) => url.clone(),
                None if template => bail!(
                    "a template issuer has no metadata URL of its own; give --metadata (e.g. https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration) or --jwks"
                ),
                None => format!(
                    "{}/.well-known/openid-configuration",
                    args.issuer.trim_end_matches('/')
                ),
            };
            let url = Url::parse(&url).with_context(|| format!("metadata URL {url:?}"))?;
            let trusted = cache
                .add_issuer(&args.issuer, KeySource::Metadata(url))
                .context("cannot fetch the issuer's keys")?;
            report_refused_keys(&trusted);
        }
    }

    match cache.validate(&validator, &token) {
        Ok(verified) => {
            print_valid(&verified, args.format, now);
            Ok(ExitCode::SUCCESS)
        }
        Err(ValidationError::Rejected(rejection)) => {
            print_rejected(&rejection, args.format);
            Ok(ExitCode::from(1))
        }
        Err(ValidationError::KeysUnavailable(e)) => {
            Err(anyhow::Error::new(e).context("the token names a key that could not be fetched"))
        }
    }
}

fn options(args: &VerifyArgs) -> anyhow::Result<ValidationOptions> {
    let mut o = if args.audience.is_empty() {
        ValidationOptions::any_audience()
    } else {
        ValidationOptions::for_audiences(args.audience.iter().cloned())
    };
    o = o.clock_skew(Duration::from_secs(args.clock_skew));
    if !args.tenant.is_empty() {
        o = o.tenants(args.tenant.iter().cloned());
    }
    if let Some(typ) = &args.typ {
        o = o.typ(typ.clone());
    }
    if let Some(token_use) = args.token_use {
        o = o.token_use(match token_use {
            Use::Access => TokenUse::Access,
            Use::Id => TokenUse::Id,
        });
    }
    if let Some(version) = &args.ver {
        o = o.version(version.clone());
    }
    Ok(o)
}

fn print_valid(v: &Verified, format: Format, now: i64) {
    let claims = v.claims();
    match format {
        Format::Json => {
            let out = json!({
                "valid": true,
                "kid": v.kid(),
                "alg": v.algorithm().name(),
                "issuer": v.issuer(),
                "key_issuer": v.key_issuer(),
                "key_thumbprint": v.key_thumbprint(),
                "audience_checked": v.audience_checked(),
                "header": v.header().as_map(),
                "claims": claims.as_map(),
            });
            println!("{out}");
        }
        Format::Human => {
            println!(
                "VALID: signed by key {} ({}) of issuer {}",
                v.kid(),
                v.algorithm(),
                v.key_issuer()
            );
            for name in [
                "iss", "tid", "aud", "sub", "upn", "appid", "azp", "scp", "roles", "ver",
            ] {
                if let Some(value) = claims.get(name) {
                    println!("  {name:<6} {}", show(value));
                }
            }
            if let Ok(Some(exp)) = claims.numeric_date("exp") {
                println!("  {:<6} {}", "exp", describe_time(exp, now));
            }
            if !v.audience_checked() {
                println!("note: the audience was not checked (no --audience)");
            }
        }
    }
}

fn print_rejected(rejection: &Rejection, format: Format) {
    match format {
        Format::Json => {
            let out =
                json!({"valid": false, "rule": rejection.rule(), "reason": rejection.to_string()});
            println!("{out}");
        }
        Format::Human => println!("REJECTED [{}]: {rejection}", rejection.rule()),
    }
}

fn report_refused_keys(trusted: &TrustedIssuer) {
    for refused in trusted.rejected() {
        eprintln!(
            "warning: key #{} ({}) refused: {}",
            refused.index,
            refused.kid.as_deref().unwrap_or("no kid"),
            refused.reason
        );
    }
}

/// The token from the argument or standard input, trimmed, without a `Bearer ` prefix.
fn read_token(arg: &str) -> anyhow::Result<String> {
    let raw = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .take(1024 * 1024)
            .read_to_string(&mut s)
            .context("reading the token from standard input")?;
        s
    } else {
        arg.to_owned()
    };
    let token = raw.trim();
    let token = match token.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
        _ => token,
    };
    if token.is_empty() {
        bail!("no token given");
    }
    Ok(token.to_owned())
}

fn read_jwks(path: &Path) -> anyhow::Result<JwkSet> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    JwkSet::from_json(&bytes).with_context(|| format!("{}", path.display()))
}

/// `--at`: unix seconds or an RFC 3339 timestamp; now when absent.
fn moment(at: Option<&str>) -> anyhow::Result<i64> {
    let Some(at) = at else {
        return Ok(unix_now());
    };
    if let Ok(secs) = at.parse::<i64>() {
        return Ok(secs);
    }
    let ts: jiff::Timestamp = at
        .parse()
        .with_context(|| format!("--at {at:?} is neither unix seconds nor an RFC 3339 time"))?;
    Ok(ts.as_second())
}

/// `2023-11-14T22:13:20Z, in 58 min` / `…, 3 d 2 h ago`.
fn describe_time(t: i64, now: i64) -> String {
    let when = jiff::Timestamp::from_second(t)
        .map_or_else(|_| "out of range".to_owned(), |ts| ts.to_string());
    let delta = t - now;
    let span = human_span(delta.unsigned_abs());
    if delta >= 0 {
        format!("{when}, in {span}")
    } else {
        format!("{when}, {span} ago")
    }
}

fn human_span(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Strings without quotes; anything else as JSON. Control characters are escaped: a forged token
/// must not drive the terminal.
fn show(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// The moment `--at` names, for token times and the refresh rate limit alike.
struct FixedClock(i64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }
}
