//! The append-only, tamper-evident evidence store (work in progress).
