//! Sigma rules over audit events (work in progress).
