//! C2SP tlog-checkpoints, signed as C2SP signed notes with Ed25519.
//!
//! A checkpoint commits to one tenant log at one size:
//!
//! ```text
//! mailtrail/3f9c2a7d41e0b6c8/contoso.onmicrosoft.com      ← origin: store id and tenant
//! 1234                                                    ← tree size
//! ZGUzY2Y4…=                                              ← base64 of the RFC 6962 root hash
//!
//! — mailtrail/3f9c2a7d41e0b6c8 Az3grlgt…                  ← key name, base64(key id ‖ signature)
//! ```
//!
//! The note format and Ed25519 signatures are `signed_note`'s (a port of Go's
//! `golang.org/x/mod/sumdb/note`); the three checkpoint lines are parsed here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use signed_note::{Note, NoteError, StandardVerifier, VerifierList};

use crate::merkle::Hash;

/// The body of a checkpoint: which log, how many leaves, which root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, `mailtrail/<store id>/<tenant>`.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// The RFC 6962 root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: origin, size and root, each on its own line.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses the note text of a checkpoint. Extension lines after the root are allowed and ignored.
    pub fn parse_text(text: &str) -> Option<Checkpoint> {
        let mut lines = text.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty())?;
        let size = lines.next()?;
        // Decimal without sign or leading zeros, as the spec requires.
        if size.is_empty()
            || (size.len() > 1 && size.starts_with('0'))
            || !size.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let size = size.parse().ok()?;
        let root: Hash = B64.decode(lines.next()?).ok()?.try_into().ok()?;
        Some(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// The origin line of a tenant's log. Characters outside `[A-Za-z0-9._@-]` in the tenant name are
/// percent-encoded so that any name yields one well-formed line.
pub(crate) fn origin(store_id: &str, tenant: &str) -> String {
    let mut s = format!("mailtrail/{store_id}/");
    for b in tenant.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@') {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// Why a signed checkpoint was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// The bytes are not a signed note, or its text is not a checkpoint.
    #[error("not a well-formed signed checkpoint")]
    Malformed,
    /// The note carries no signature by the trusted key (only by others, e.g. a forger's).
    #[error("not signed by the trusted key {trusted}; signed by {found}")]
    UnknownKey {
        /// The trusted key, `name+id`.
        trusted: String,
        /// The keys that did sign, `name+id`, comma separated.
        found: String,
    },
    /// A signature claims the trusted key but does not verify: the text was changed after signing.
    #[error("the signature by {key} does not match the checkpoint text")]
    BadSignature {
        /// The key, `name+id`.
        key: String,
    },
}

/// A parsed Ed25519 verifier key (`name+hexid+base64(0x01‖pub)`).
#[derive(Clone)]
pub struct VerifierKey {
    text: String,
    name: String,
    id: u32,
    verifier: StandardVerifier,
}

impl std::fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl VerifierKey {
    /// Parses a verifier key string; `None` if malformed, not Ed25519, or its id is wrong.
    pub fn parse(text: &str) -> Option<VerifierKey> {
        let text = text.trim();
        let verifier = StandardVerifier::new(text).ok()?;
        let (name, rest) = text.split_once('+')?;
        let id = u32::from_str_radix(rest.split_once('+')?.0, 16).ok()?;
        Some(VerifierKey {
            text: text.to_owned(),
            name: name.to_owned(),
            id,
            verifier,
        })
    }

    /// The key as text, as `init` printed it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name+hexid`, how notes and messages refer to the key.
    pub fn short(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    /// Verifies a signed note and returns its checkpoint.
    pub fn open(&self, signed: &[u8]) -> Result<Checkpoint, CheckpointProblem> {
        let text = self.verify_note(signed)?;
        let text = std::str::from_utf8(&text).map_err(|_| CheckpointProblem::Malformed)?;
        Checkpoint::parse_text(text).ok_or(CheckpointProblem::Malformed)
    }

    /// Verifies a signed note's signature by this key and returns the note's text.
    pub fn verify_note(&self, signed: &[u8]) -> Result<Vec<u8>, CheckpointProblem> {
        let note = Note::from_bytes(signed).map_err(|_| CheckpointProblem::Malformed)?;
        let list = VerifierList::new(vec![Box::new(self.verifier.clone())]);
        match note.verify(&list) {
            Ok(_) => {}
            Err(NoteError::UnverifiedNote) => {
                let found = signers_of(signed);
                return Err(CheckpointProblem::UnknownKey {
                    trusted: self.short(),
                    found,
                });
            }
            Err(NoteError::InvalidSignature { .. }) => {
                return Err(CheckpointProblem::BadSignature { key: self.short() });
            }
            Err(_) => return Err(CheckpointProblem::Malformed),
        }
        Ok(note.text().to_vec())
    }
}

/// The `name+id` of every signature line of a note.
fn signers_of(signed: &[u8]) -> String {
    let text = String::from_utf8_lossy(signed);
    let sigs = text.rsplit_once("\n\n").map(|(_, s)| s).unwrap_or("");
    let mut out = Vec::new();
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            continue;
        };
        let id = B64
            .decode(b64)
            .ok()
            .filter(|b| b.len() >= 4)
            .map(|b| format!("{:02x}{:02x}{:02x}{:02x}", b[0], b[1], b[2], b[3]))
            .unwrap_or_else(|| "????????".into());
        out.push(format!("{name}+{id}"));
    }
    if out.is_empty() {
        "nobody".into()
    } else {
        out.join(", ")
    }
}

/// Signs a checkpoint with `signer`, returning the signed note bytes.
pub(crate) fn sign(
    cp: &Checkpoint,
    signer: &dyn signed_note::Signer,
) -> Result<Vec<u8>, NoteError> {
    let mut note = Note::new(cp.to_text().as_bytes(), &[])?;
    note.add_sigs(&[signer])?;
    Ok(note.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_text_round_trips() {
        let cp = Checkpoint {
            origin: "mailtrail/abc/contoso".into(),
            size: 42,
            root: [9; 32],
        };
        assert_eq!(Checkpoint::parse_text(&cp.to_text()), Some(cp));
    }

    #[test]
    fn spec_example_checkpoint_parses() {
        // The example of c2sp.org/tlog-checkpoint.
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let cp = Checkpoint::parse_text(text).unwrap();
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20_852_163);
        assert_eq!(
            B64.encode(cp.root),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
    }

    #[test]
    fn sizes_with_leading_zeros_or_signs_are_rejected() {
        for size in ["012", "+12", "-1", "", "1a"] {
            let text = format!("o\n{size}\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
            assert_eq!(Checkpoint::parse_text(&text), None, "{size}");
        }
    }

    #[test]
    fn spec_example_note_verifies_with_its_key() {
        // The example note and key of c2sp.org/signed-note.
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let note = "If you think cryptography is the answer to your problem,\n\
then you don't know what your problem is.\n\
\n\
\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let key = VerifierKey::parse(vkey).unwrap();
        let text = key.verify_note(note.as_bytes()).unwrap();
        assert!(text.starts_with(b"If you think"));
        // The text is not a checkpoint.
        assert_eq!(key.open(note.as_bytes()), Err(CheckpointProblem::Malformed));
        let tampered = note.replace("answer", "ANSWER");
        assert!(matches!(
            key.open(tampered.as_bytes()),
            Err(CheckpointProblem::BadSignature { .. })
        ));
    }

    #[test]
    fn origins_escape_what_would_break_the_line() {
        assert_eq!(origin("s1", "contoso.com"), "mailtrail/s1/contoso.com");
        assert_eq!(origin("s1", "a b\n+"), "mailtrail/s1/a%20b%0A%2B");
    }
}
