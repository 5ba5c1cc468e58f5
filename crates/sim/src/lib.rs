//! A synthetic Microsoft 365 tenant with labelled attacks (work in progress).
