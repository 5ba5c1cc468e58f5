//! Strict JWT and JWKS validation that binds every signing key to its issuer (work in progress).
