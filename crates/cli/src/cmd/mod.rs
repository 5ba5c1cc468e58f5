//! One module per subcommand: its arguments and its `run`.

pub(crate) mod demo;
pub(crate) mod eval;
pub(crate) mod hunt;
pub(crate) mod ingest;
pub(crate) mod init;
pub(crate) mod parse;
pub(crate) mod prove;
pub(crate) mod reindex;
pub(crate) mod retention;
pub(crate) mod rules;
pub(crate) mod search;
pub(crate) mod show;
pub(crate) mod simulate;
pub(crate) mod stats;
pub(crate) mod timeline;
pub(crate) mod token;
pub(crate) mod verify;
pub(crate) mod verify_proof;
