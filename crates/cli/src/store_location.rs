//! Where the evidence store lives: `--store DIR`, else `MAILTRAIL_STORE`, else the user's data directory.

use std::path::PathBuf;

/// The `--store` option shared by every command that opens the evidence store.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArg {
    /// The evidence store directory [default: $XDG_DATA_HOME/mailtrail/store, i.e.
    /// ~/.local/share/mailtrail/store].
    #[arg(long, value_name = "DIR", env = "MAILTRAIL_STORE")]
    pub(crate) store: Option<PathBuf>,
}

impl StoreArg {
    /// The store directory to use.
    pub(crate) fn path(&self) -> anyhow::Result<PathBuf> {
        if let Some(p) = &self.store {
            return Ok(p.clone());
        }
        let data = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
                Some(h) => PathBuf::from(h).join(".local").join("share"),
                None => anyhow::bail!(
                    "no store location: pass --store DIR or set MAILTRAIL_STORE (HOME is not set)"
                ),
            },
        };
        Ok(data.join("mailtrail").join("store"))
    }
}
