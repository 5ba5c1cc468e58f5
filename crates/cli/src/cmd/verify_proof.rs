//! `mailtrail verify-proof`: check an inclusion proof bundle offline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use mailtrail_store::{VerifierKey, verify_proof};

/// Arguments of `mailtrail verify-proof`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The proof bundle written by `mailtrail prove`.
    proof: PathBuf,
    /// The store's verifier key, as `init` printed it (`mailtrail/<id>+<keyid>+<base64>`), or a
    /// file containing it. Take it from a copy you trust, not from the bundle.
    #[arg(long, value_name = "PUBKEY")]
    key: String,
}

/// Reads a verifier key given inline or as a file.
pub(crate) fn parse_key(text: &str) -> anyhow::Result<VerifierKey> {
    if let Some(k) = VerifierKey::parse(text) {
        return Ok(k);
    }
    let content = std::fs::read_to_string(text)
        .with_context(|| format!("{text:?} is neither a verifier key nor a readable file"))?;
    content
        .lines()
        .find_map(VerifierKey::parse)
        .with_context(|| format!("{text} holds no Ed25519 verifier key (name+keyid+base64)"))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let key = parse_key(&args.key)?;
    let bytes =
        std::fs::read(&args.proof).with_context(|| format!("reading {}", args.proof.display()))?;
    match verify_proof(&bytes, &key) {
        Ok(p) => {
            let body = if p.record.is_some() {
                "the record bytes in the bundle are"
            } else {
                "the record's hash (its body was pruned) is"
            };
            println!(
                "OK: {body} leaf {} of the {} leaves of {}, signed by {} (record id claimed: {}).",
                p.leaf_index,
                p.tree_size,
                p.origin,
                key.short(),
                p.record_id
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("INVALID: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
