//! Checkpoint signing keys: an Ed25519 key in a 0600 file, or one on a PKCS#11 token.
//!
//! The key file holds one line in the signer-key format of Go's `note` package,
//! `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`, so other C2SP tools can use it too.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signed_note::{Signer, StandardSigner};

use crate::checkpoint::VerifierKey;
use crate::error::StoreError;

/// Where the checkpoint signing key lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerConfig {
    /// An Ed25519 key in a file readable by its owner only. `None`: `signing.key` inside the
    /// store directory.
    KeyFile(Option<PathBuf>),
    /// An Ed25519 key on a PKCS#11 token (a hardware security module, a smart card, SoftHSM2).
    Pkcs11(Pkcs11Uri),
}

impl Default for SignerConfig {
    fn default() -> Self {
        SignerConfig::KeyFile(None)
    }
}

impl FromStr for SignerConfig {
    type Err = StoreError;

    /// `pkcs11:…` (see [`Pkcs11Uri`]), `file:PATH`, or a plain path to a key file.
    fn from_str(s: &str) -> Result<Self, StoreError> {
        if s.starts_with("pkcs11:") {
            return Ok(SignerConfig::Pkcs11(s.parse()?));
        }
        let path = s.strip_prefix("file:").unwrap_or(s);
        if path.is_empty() {
            return Err(StoreError::BadSigner("empty key file path".into()));
        }
        Ok(SignerConfig::KeyFile(Some(PathBuf::from(path))))
    }
}

/// Where to find the PIN of a PKCS#11 token. The PIN itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinSource {
    /// An environment variable holding the PIN.
    Env(String),
    /// A file holding the PIN (trailing newline ignored).
    File(PathBuf),
}

/// A PKCS#11 key location, written as an RFC 7512 URI.
///
/// Accepted attributes, in the path (`;`-separated) or the query (`&`-separated), values
/// percent-encoded as RFC 7512 requires:
///
/// * `module-path` (or `module`): the PKCS#11 library, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
/// * `token`: the token label.
/// * `object` (or `key`): the label of the key pair.
/// * `pin-source=env:VAR`, `pin-env=VAR` or `pin-source=file:PATH`: where the user PIN comes
///   from; default `env:MAILTRAIL_PKCS11_PIN`. A literal `pin-value` is refused so that the PIN
///   is never written into the store's configuration.
///
/// For example `pkcs11:token=mailtrail;object=checkpoints?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:MAILTRAIL_PKCS11_PIN`
/// or the short form `pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=mailtrail;key=checkpoints;pin-env=MAILTRAIL_PKCS11_PIN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// The PKCS#11 library to load.
    pub module: PathBuf,
    /// The token label.
    pub token: String,
    /// The key pair's label.
    pub key_label: String,
    /// Where the user PIN comes from.
    pub pin: PinSource,
}

impl FromStr for Pkcs11Uri {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, StoreError> {
        let bad = |m: String| StoreError::BadSigner(format!("{m} in PKCS#11 URI {s:?}"));
        let rest = s
            .strip_prefix("pkcs11:")
            .ok_or_else(|| bad("missing `pkcs11:` scheme".into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (mut module, mut token, mut key, mut pin) = (None, None, None, None);
        let attrs = path
            .split(';')
            .chain(query.split('&'))
            .filter(|a| !a.is_empty());
        for attr in attrs {
            let (k, v) = attr
                .split_once('=')
                .ok_or_else(|| bad(format!("attribute {attr:?} has no value")))?;
            let v = percent_decode(v)
                .ok_or_else(|| bad(format!("bad percent-encoding in {attr:?}")))?;
            match k {
                "module-path" | "module" => module = Some(PathBuf::from(v)),
                "token" => token = Some(v),
                "object" | "key" => key = Some(v),
                "pin-env" => pin = Some(PinSource::Env(v)),
                "pin-source" => {
                    pin = Some(if let Some(var) = v.strip_prefix("env:") {
                        PinSource::Env(var.to_owned())
                    } else {
                        let path = v.strip_prefix("file:").unwrap_or(&v);
                        PinSource::File(PathBuf::from(path))
                    })
                }
                "pin-value" => {
                    return Err(bad(
                        "a literal pin-value (put the PIN in an environment variable and use pin-source=env:VAR)"
                            .into(),
                    ));
                }
                // Other RFC 7512 attributes (manufacturer, serial, type, id, …) do not narrow
                // anything we need; they are accepted and ignored.
                _ => {}
            }
        }
        Ok(Pkcs11Uri {
            module: module.ok_or_else(|| bad("no module-path".into()))?,
            token: token.ok_or_else(|| bad("no token label".into()))?,
            key_label: key.ok_or_else(|| bad("no object (key label)".into()))?,
            pin: pin.unwrap_or_else(|| PinSource::Env("MAILTRAIL_PKCS11_PIN".into())),
        })
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The canonical RFC 7512 form, without any PIN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pin = match &self.pin {
            PinSource::Env(v) => format!("env:{v}"),
            PinSource::File(p) => format!("file:{}", p.display()),
        };
        write!(
            f,
            "pkcs11:token={};object={}?module-path={}&pin-source={}",
            percent_encode(&self.token),
            percent_encode(&self.key_label),
            percent_encode(&self.module.to_string_lossy()),
            percent_encode(&pin)
        )
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A checkpoint signer the store can share across threads.
pub(crate) type BoxSigner = Box<dyn Signer + Send + Sync>;

/// The C2SP verifier key string of an Ed25519 public key.
pub(crate) fn vkey_for(name: &str, public: &[u8; 32]) -> Result<VerifierKey, StoreError> {
    let vk = ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| {
        StoreError::BadSigner("the token's public key is not a valid Ed25519 key".into())
    })?;
    let text = signed_note::new_ed25519_verifier_key(name, &vk);
    VerifierKey::parse(&text)
        .ok_or_else(|| StoreError::BadSigner("cannot encode the verifier key".into()))
}

/// Creates a new key file (0600, refusing to overwrite) and returns its verifier key.
pub(crate) fn create_key_file(path: &Path, name: &str) -> Result<VerifierKey, StoreError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| StoreError::BadSigner(format!("no system randomness: {e}")))?;
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let vkey = vkey_for(name, &sk.verifying_key().to_bytes())?;
    let mut pubkey = vec![1u8];
    pubkey.extend_from_slice(&sk.verifying_key().to_bytes());
    let id = signed_note::key_id(name, &pubkey);
    let mut private = vec![1u8];
    private.extend_from_slice(&seed);
    let line = format!("PRIVATE+KEY+{name}+{id:08x}+{}\n", B64.encode(&private));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let io = |e| StoreError::io(path, e);
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(line.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(vkey)
}

/// Loads a key file, refusing one that others can read.
pub(crate) fn load_key_file(path: &Path) -> Result<BoxSigner, StoreError> {
    let meta = std::fs::metadata(path).map_err(|e| StoreError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StoreError::KeyFilePermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(|e| StoreError::io(path, e))?;
    let signer = StandardSigner::new(text.trim()).map_err(|e| {
        StoreError::BadSigner(format!("{} is not a signing key: {e}", path.display()))
    })?;
    Ok(Box::new(signer))
}

/// A signer whose key never leaves a PKCS#11 token.
pub(crate) struct Pkcs11Signer {
    name: String,
    id: u32,
    key: cryptoki::object::ObjectHandle,
    // A PKCS#11 session is not safe to use from two threads at once.
    session: Mutex<cryptoki::session::Session>,
    _ctx: cryptoki::context::Pkcs11,
}

impl Signer for Pkcs11Signer {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        use cryptoki::mechanism::Mechanism;
        use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
        let session = self
            .session
            .lock()
            .map_err(|_| ed25519_dalek::SignatureError::new())?;
        let mech = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        session.sign(&mech, self.key, msg).map_err(|e| {
            tracing::error!(error = %e, "PKCS#11 signing failed.");
            ed25519_dalek::SignatureError::new()
        })
    }
}

/// DER of the Ed25519 curve OID 1.3.101.112, the `CKA_EC_PARAMS` of an Ed25519 key.
const ED25519_OID_DER: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];

/// Opens the key named by `uri`; with `create`, generates it on the token when it is not there.
/// Returns the signer and its verifier key.
pub(crate) fn open_pkcs11(
    uri: &Pkcs11Uri,
    name: &str,
    create: bool,
) -> Result<(BoxSigner, VerifierKey), StoreError> {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::mechanism::Mechanism;
    use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;

    let err = |what: &str, e: cryptoki::error::Error| StoreError::Pkcs11(format!("{what}: {e}"));
    let pin = match &uri.pin {
        PinSource::Env(var) => std::env::var(var).map_err(|_| {
            StoreError::Pkcs11(format!(
                "the token PIN is read from ${var}, which is not set"
            ))
        })?,
        PinSource::File(p) => std::fs::read_to_string(p)
            .map_err(|e| StoreError::io(p, e))?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
    };
    let ctx = Pkcs11::new(&uri.module)
        .map_err(|e| err(&format!("cannot load {}", uri.module.display()), e))?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(|e| err("C_Initialize", e))?;
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| err("C_GetSlotList", e))?;
    let slot = slots
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .is_ok_and(|t| t.label().trim_end() == uri.token)
        })
        .ok_or_else(|| {
            StoreError::Pkcs11(format!(
                "no token labelled {:?} in {}",
                uri.token,
                uri.module.display()
            ))
        })?;
    let session = ctx
        .open_rw_session(slot)
        .map_err(|e| err("C_OpenSession", e))?;
    session
        .login(UserType::User, Some(&AuthPin::new(pin.into())))
        .map_err(|e| err("C_Login (is the PIN right?)", e))?;
    let label = uri.key_label.as_bytes().to_vec();
    let find = |class| {
        session.find_objects(&[
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Label(label.clone()),
        ])
    };
    let mut private = find(ObjectClass::PRIVATE_KEY).map_err(|e| err("C_FindObjects", e))?;
    let mut public = find(ObjectClass::PUBLIC_KEY).map_err(|e| err("C_FindObjects", e))?;
    if private.len() > 1 || public.len() > 1 {
        return Err(StoreError::Pkcs11(format!(
            "more than one Ed25519 key labelled {:?} on token {:?}",
            uri.key_label, uri.token
        )));
    }
    let (public, private) = match (public.pop(), private.pop()) {
        (Some(p), Some(k)) => (p, k),
        (None, None) if create => {
            let pub_t = [
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::EcParams(ED25519_OID_DER.to_vec()),
                Attribute::Label(label.clone()),
            ];
            let priv_t = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Label(label.clone()),
            ];
            session
                .generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &pub_t, &priv_t)
                .map_err(|e| err("generating an Ed25519 key pair (does the token support CKM_EC_EDWARDS_KEY_PAIR_GEN?)", e))?
        }
        _ => {
            return Err(StoreError::Pkcs11(format!(
                "token {:?} has no complete Ed25519 key pair labelled {:?}",
                uri.token, uri.key_label
            )));
        }
    };
    let attrs = session
        .get_attributes(public, &[AttributeType::EcPoint])
        .map_err(|e| err("reading the public key", e))?;
    let point = attrs
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        })
        .ok_or_else(|| StoreError::Pkcs11("the public key has no CKA_EC_POINT".into()))?;
    // Tokens return the 32-byte point either bare or wrapped in a DER OCTET STRING.
    let raw: [u8; 32] = match point.as_slice() {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest.try_into().ok(),
        bare if bare.len() == 32 => bare.try_into().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        StoreError::Pkcs11(format!(
            "unexpected Ed25519 public key encoding ({} bytes)",
            point.len()
        ))
    })?;
    let vkey = vkey_for(name, &raw)?;
    let mut pubkey = vec![1u8];
    pubkey.extend_from_slice(&raw);
    let signer = Pkcs11Signer {
        name: name.to_owned(),
        id: signed_note::key_id(name, &pubkey),
        key: private,
        session: Mutex::new(session),
        _ctx: ctx,
    };
    Ok((Box::new(signer), vkey))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_uri_spellings_parse_to_the_same_location() {
        let a: Pkcs11Uri =
            "pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=mail%20trail;key=cp;pin-env=PIN"
                .parse()
                .unwrap();
        let b: Pkcs11Uri = "pkcs11:token=mail%20trail;object=cp?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:PIN"
            .parse()
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.token, "mail trail");
        assert_eq!(a.to_string().parse::<Pkcs11Uri>().unwrap(), a);
    }

    #[test]
    fn a_literal_pin_is_refused() {
        let e = "pkcs11:module=/m.so;token=t;key=k;pin-value=1234".parse::<Pkcs11Uri>();
        assert!(e.unwrap_err().to_string().contains("pin-value"));
    }

    #[test]
    fn missing_attributes_are_named() {
        let e = "pkcs11:token=t;key=k".parse::<Pkcs11Uri>().unwrap_err();
        assert!(e.to_string().contains("module-path"), "{e}");
    }

    #[test]
    fn a_key_file_signs_what_its_verifier_key_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let vkey = create_key_file(&path, "mailtrail/test").unwrap();
        let signer = load_key_file(&path).unwrap();
        let cp = crate::checkpoint::Checkpoint {
            origin: "o".into(),
            size: 1,
            root: [0; 32],
        };
        let note = crate::checkpoint::sign(&cp, signer.as_ref()).unwrap();
        assert_eq!(vkey.open(&note).unwrap(), cp);
        // Refuses to overwrite.
        assert!(create_key_file(&path, "mailtrail/test").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_key_file_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        create_key_file(&path, "n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_key_file(&path),
            Err(StoreError::KeyFilePermissions { mode: 0o644, .. })
        ));
    }
}
