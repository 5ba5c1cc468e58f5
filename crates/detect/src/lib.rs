//! The detection engine: Sigma rules, stateful analytics, incidents (work in progress).

pub mod sigma;
