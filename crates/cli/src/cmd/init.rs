//! `mailtrail init`: create an evidence store and its signing key.

use std::process::ExitCode;

use anyhow::Context as _;
use mailtrail_store::{SignerConfig, Store};

use crate::store_location::StoreArg;

/// Arguments of `mailtrail init`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// Where the checkpoint signing key lives: a key file path to create (0600), or a PKCS#11 URI
    /// such as `pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=mailtrail;key=checkpoints;pin-env=MAILTRAIL_PKCS11_PIN`
    /// (the key pair is generated on the token if it has none with that label). Default: a new
    /// key file `signing.key` inside the store.
    #[arg(long, value_name = "KEYFILE|pkcs11:URI")]
    signer: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.store.path()?;
    let signer: SignerConfig = match &args.signer {
        Some(s) => s.parse().context("--signer")?,
        None => SignerConfig::default(),
    };
    let store = Store::init(&dir, signer)
        .with_context(|| format!("creating a store in {}", dir.display()))?;
    eprintln!(
        "Created the evidence store {} (id {}).",
        dir.display(),
        store.store_id()
    );
    eprintln!(
        "Checkpoint verifier key (keep a copy outside the store; `verify --key` and `verify-proof --key` take it):"
    );
    println!("{}", store.verifier_key().as_str());
    Ok(ExitCode::SUCCESS)
}
