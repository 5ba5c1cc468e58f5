//! [`SigmaError`]: why rules could not be loaded at all.
//!
//! A rule file that cannot be read or parsed is not an error: it is reported in the
//! [`LoadReport`](super::LoadReport) as skipped, and the other rules load. Only a rule location
//! that cannot be used at all stops the load.

use std::path::PathBuf;

/// Loading Sigma rules failed before any rule could be considered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigmaError {
    /// A `--sigma` location does not exist or cannot be read.
    #[error("cannot read Sigma rules at {path}: {source}; check the path and its permissions")]
    Read {
        /// The location given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A `--sigma` location is a file that is not YAML.
    #[error("{path} is not a directory or a .yml/.yaml file; give a directory of Sigma rules")]
    NotRules {
        /// The location given.
        path: PathBuf,
    },
}
