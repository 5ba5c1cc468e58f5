//! Seeded randomness: sub-seeds, identifiers in Microsoft's shapes, and the few distributions the
//! behaviour model needs.
//!
//! Every stream of randomness is derived from the tenant seed and a path of tags (what it is for,
//! which user, which day). Two runs with the same configuration therefore draw the same numbers no
//! matter how work is split across threads, and adding a user does not shift anyone else's day.

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator every stream uses: ChaCha8 is fast, portable and stable across platforms.
pub(crate) type SimRng = ChaCha8Rng;

/// Tags naming what a stream of randomness is for, so that streams never collide.
pub(crate) mod tag {
    pub(crate) const TENANT: u64 = 1;
    pub(crate) const USER_DAY: u64 = 2;
    pub(crate) const SCENARIO: u64 = 4;
    pub(crate) const TENANT_DAY: u64 = 5;
    pub(crate) const MESSAGE: u64 = 6;
}

/// SplitMix64's finaliser: a cheap, well-mixed hash of one word.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a seed and a path of tags into one word.
pub(crate) fn hash(seed: u64, tags: &[u64]) -> u64 {
    tags.iter().fold(mix(seed), |h, &t| {
        mix(h ^ t.wrapping_mul(0xA076_1D64_78BD_642F))
    })
}

/// A generator for one purpose, derived from the tenant seed.
pub(crate) fn stream(seed: u64, tags: &[u64]) -> SimRng {
    let mut key = [0u8; 32];
    let mut h = hash(seed, tags);
    for chunk in key.chunks_mut(8) {
        h = mix(h);
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    SimRng::from_seed(key)
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// A random (version 4) GUID in lower case, as Microsoft writes record and object ids.
pub(crate) fn guid(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    guid_from(b)
}

/// A GUID from a 64-bit hash, for ids that must be recomputable without storing them.
pub(crate) fn guid_from_hash(h: u64) -> String {
    let a = mix(h).to_le_bytes();
    let b = mix(h ^ 0x5555_5555_5555_5555).to_le_bytes();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a);
    bytes[8..].copy_from_slice(&b);
    guid_from(bytes)
}

fn guid_from(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 15) as usize] as char);
    }
    s
}

/// `n` random hex digits in upper case.
pub(crate) fn hex_upper(rng: &mut impl RngCore, n: usize) -> String {
    (0..n)
        .map(|_| HEX_UPPER[rng.random_range(0..16usize)] as char)
        .collect()
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A token identifier as Entra ID writes `uniqueTokenIdentifier` and Exchange `UniqueTokenId`:
/// 16 random bytes in unpadded base64url (22 characters, e.g. `3kVZRE8tFkinHtPA7_EFAA`).
pub(crate) fn token_id(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    base64(&b, B64URL, false)
}

/// Standard base64 with padding, used for Exchange store ids.
pub(crate) fn base64_std(bytes: &[u8]) -> String {
    base64(bytes, B64, true)
}

fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(alphabet[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// A draw from a normal distribution (Box–Muller).
pub(crate) fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A draw from a Poisson distribution; Knuth's method below 30, a rounded normal above.
pub(crate) fn poisson(rng: &mut impl Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return normal(rng, lambda, lambda.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p: f64 = rng.random();
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

/// Picks one element; the slices passed here are never empty.
pub(crate) fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: u64 = stream(7, &[1, 2]).random();
        let b: u64 = stream(7, &[1, 2]).random();
        let c: u64 = stream(7, &[1, 3]).random();
        let d: u64 = stream(8, &[1, 2]).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn guids_have_microsofts_shape() {
        let g = guid(&mut stream(1, &[]));
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert!(g.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(guid_from_hash(5), guid_from_hash(5));
    }

    #[test]
    fn token_ids_are_22_base64url_characters() {
        let t = token_id(&mut stream(1, &[]));
        assert_eq!(t.len(), 22);
        assert!(t.bytes().all(|c| B64URL.contains(&c)));
        assert_eq!(base64_std(b"ab"), "YWI=");
        assert_eq!(base64_std(b"abc"), "YWJj");
    }

    #[test]
    fn poisson_mean_is_close_to_lambda() {
        let mut rng = stream(3, &[]);
        let n = 20_000;
        let total: u32 = (0..n).map(|_| poisson(&mut rng, 4.0)).sum();
        let mean = f64::from(total) / f64::from(n);
        assert!((mean - 4.0).abs() < 0.1, "{mean}");
    }
}
