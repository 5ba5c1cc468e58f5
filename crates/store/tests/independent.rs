//! The tree is RFC 6962 and the checkpoints C2SP signed notes, as checked by an independent
//! implementation: a few lines of Python's hashlib (and `cryptography` for Ed25519 when it is
//! installed; otherwise the signature is checked with a second Rust Ed25519 implementation).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed step should stop the test.

#[allow(unreachable_pub)]
mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use mailtrail_store::{SignerConfig, Store};
use support::*;

const PYTHON: &str = r#"
import base64, hashlib, json, sys

def h(b): return hashlib.sha256(b).digest()
def leaf(b): return h(b"\x00" + b)
def node(l, r): return h(b"\x01" + l + r)

def mth(leaves):
    # RFC 6962 section 2.1: split at the largest power of two smaller than n.
    n = len(leaves)
    if n == 0: return h(b"")
    if n == 1: return leaves[0]
    k = 1
    while k * 2 < n: k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))

def root_from_path(index, size, lh, path):
    # RFC 9162 section 2.1.3.2.
    if index >= size: return None
    fn, sn, r = index, size - 1, lh
    for p in path:
        if sn == 0: return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1; sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    return r if sn == 0 else None

data = json.load(sys.stdin)
b64 = base64.b64decode
all_leaves = [leaf(b64(r)) for r in data["tenant_records"]]
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    have_crypto = True
except ImportError:
    have_crypto = False
for bundle in data["bundles"]:
    record = b64(bundle["record"])
    lh = leaf(record)
    assert lh == b64(bundle["leaf_hash"]), "leaf hash"
    assert all_leaves[bundle["leaf_index"]] == lh, "leaf position"
    path = [b64(p) for p in bundle["audit_path"]]
    root = root_from_path(bundle["leaf_index"], bundle["tree_size"], lh, path)
    text, sigs = bundle["checkpoint"].split("\n\n", 1)
    origin, size, root_b64 = text.split("\n")[:3]
    assert int(size) == bundle["tree_size"], "size"
    assert root is not None and root == b64(root_b64), "audit path root"
    assert mth(all_leaves[: bundle["tree_size"]]) == root, "RFC 6962 MTH"
    if have_crypto:
        name, keyid_hex, key_b64 = bundle["key"].split("+", 2)  # base64 may contain "+"
        key = b64(key_b64)
        assert key[0] == 1
        assert hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() == keyid_hex, "key id"
        sig_line = sigs.strip("\n").split("\n")[0]
        assert sig_line.startswith("\u2014 " + name + " "), sig_line
        blob = b64(sig_line.split(" ")[2])
        assert blob[:4].hex() == keyid_hex, "signature key id"
        Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[4:], (text + "\n").encode())
print("sig-ok" if have_crypto else "sig-skipped")
"#;

fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("python3");
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("python3 is required in CI (apt-get install python3)");
    }
    eprintln!("skipping: python3 not found (install it, e.g. `apt-get install python3`)");
    None
}

#[test]
fn proofs_and_checkpoints_check_out_with_an_independent_implementation() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(&dir.path().join("store"), SignerConfig::default()).unwrap();
    // 900 contoso records interleaved with others, over several commits: uneven tree sizes, and
    // audit paths through both the stored hashes of 256-leaf subtrees and the leaf hashes.
    let mut contoso = Vec::new();
    for n in 0..1400u64 {
        let tenant = if n % 2 == 0 || n > 1000 {
            "contoso"
        } else {
            "fabrikam"
        };
        let e = event(n, tenant);
        if tenant == "contoso" {
            contoso.push(e.clone());
        }
        store.append(&e).unwrap();
        if n % 131 == 0 {
            store.commit().unwrap();
        }
    }
    store.commit().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let last = contoso.len() - 1;
    let bundles: Vec<_> = [
        0usize,
        1,
        2,
        17,
        255,
        256,
        511,
        512,
        700,
        767,
        768,
        last - 1,
        last,
    ]
    .iter()
    .map(|&i| store.prove(&contoso[i].record_id).unwrap().unwrap())
    .collect();
    assert!(bundles.iter().all(|b| b.tree_size == contoso.len() as u64));
    let input = serde_json::json!({
        "tenant_records": contoso.iter().map(|e| b64.encode(&e.raw)).collect::<Vec<_>>(),
        "bundles": bundles,
    });
    let mut child = Command::new(py)
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if stdout.trim() == "sig-skipped" {
        // No `cryptography` module: check the signatures with ed25519-compact instead.
        for b in &bundles {
            let (name, rest) = b.key.split_once('+').unwrap();
            let key = b64.decode(rest.split_once('+').unwrap().1).unwrap();
            let pk = ed25519_compact::PublicKey::from_slice(&key[1..]).unwrap();
            let (text, sigs) = b.checkpoint.split_once("\n\n").unwrap();
            let line = sigs.lines().next().unwrap();
            let blob = b64
                .decode(line.strip_prefix(&format!("\u{2014} {name} ")).unwrap())
                .unwrap();
            let sig = ed25519_compact::Signature::from_slice(&blob[4..]).unwrap();
            pk.verify(format!("{text}\n").as_bytes(), &sig).unwrap();
        }
    } else {
        assert_eq!(stdout.trim(), "sig-ok");
    }
}

#[test]
fn a_proof_with_any_byte_changed_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::init(&dir.path().join("store"), SignerConfig::default()).unwrap();
    for n in 0..9 {
        store.append(&event(n, "contoso")).unwrap();
    }
    store.commit().unwrap();
    let bundle = store.prove(&guid(6)).unwrap().unwrap();
    let key = store.verifier_key();
    let good = serde_json::to_vec(&bundle).unwrap();
    assert!(mailtrail_store::verify_proof(&good, key).is_ok());
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut altered = bundle.clone();
    altered.record = Some(b64.encode(b"{\"Id\":\"something else\"}"));
    assert_eq!(
        mailtrail_store::verify_proof(&serde_json::to_vec(&altered).unwrap(), key),
        Err(mailtrail_store::ProofError::RecordHashMismatch)
    );
    let mut moved = bundle.clone();
    moved.leaf_index = 5;
    assert_eq!(
        mailtrail_store::verify_proof(&serde_json::to_vec(&moved).unwrap(), key),
        Err(mailtrail_store::ProofError::PathMismatch)
    );
    let mut path = bundle.clone();
    path.audit_path[0] = b64.encode([0u8; 32]);
    assert_eq!(
        mailtrail_store::verify_proof(&serde_json::to_vec(&path).unwrap(), key),
        Err(mailtrail_store::ProofError::PathMismatch)
    );
    // Another store's key does not vouch for this checkpoint.
    let other = Store::init(&dir.path().join("other"), SignerConfig::default()).unwrap();
    assert!(matches!(
        mailtrail_store::verify_proof(&good, other.verifier_key()),
        Err(mailtrail_store::ProofError::Checkpoint(_))
    ));
}
