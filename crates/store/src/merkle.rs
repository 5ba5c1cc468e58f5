//! RFC 6962 / RFC 9162 Merkle trees: hashing, the stored-hash layout, proofs and their checks.
//!
//! A tenant log of `n` leaves keeps every hash of every complete subtree, in the order Go's
//! `golang.org/x/mod/sumdb/tlog` stores them: appending leaf `i` writes its leaf hash, then the
//! hash of each complete subtree that leaf closes (one more per trailing one bit of `i`). So the
//! hash file only ever grows at the end, a tree of `n` leaves owns exactly the first
//! [`stored_hash_count`]`(n)` hashes, and the hash of the complete subtree at `level` and `index`
//! sits at [`stored_hash_index`]`(level, index)`. Any root, inclusion proof or consistency proof
//! reads O(log n) of them.

use sha2::{Digest, Sha256};

/// A SHA-256 hash of a leaf or an interior node.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
pub(crate) const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The leaf hash of a record: SHA-256(0x00 ‖ record).
pub fn leaf_hash(record: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(record);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Where the hash of the complete subtree `index` at `level` (covering leaves
/// `index·2^level .. (index+1)·2^level`) sits in the stored-hash sequence.
pub(crate) fn stored_hash_index(level: u32, index: u64) -> u64 {
    let mut n = index;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    let mut i = 0u64;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + u64::from(level)
}

/// How many hashes a tree of `n` leaves stores.
pub(crate) fn stored_hash_count(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut count = stored_hash_index(0, n - 1) + 1;
    let mut i = n - 1;
    while i & 1 != 0 {
        count += 1;
        i >>= 1;
    }
    count
}

/// The largest power of two strictly smaller than `n` (`n ≥ 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Reads stored hashes by their index in the stored-hash sequence.
pub(crate) trait HashSource {
    /// The error reading can fail with.
    type Error;
    /// The hash at `index` of the stored-hash sequence.
    fn stored(&self, index: u64) -> Result<Hash, Self::Error>;
}

/// The right edge of a growing tree: the roots of its complete subtrees, largest first.
///
/// Appending a leaf folds equal-sized subtrees together (a binary counter); the hashes it closes
/// are exactly those the stored-hash layout appends next.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frontier {
    size: u64,
    /// Subtree roots, one per set bit of `size`, from the highest bit down.
    stack: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub(crate) fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds the frontier of a tree of `size` leaves from its stored hashes.
    pub(crate) fn load<S: HashSource>(size: u64, src: &S) -> Result<Frontier, S::Error> {
        let mut stack = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                stack.push(src.stored(stored_hash_index(level, start >> level))?);
                start += 1u64 << level;
            }
        }
        Ok(Frontier { size, stack })
    }

    /// The number of leaves.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; `out` receives the hashes to store, leaf hash first.
    pub(crate) fn push(&mut self, leaf: Hash, out: &mut Vec<Hash>) {
        out.push(leaf);
        let mut h = leaf;
        let mut i = self.size;
        while i & 1 == 1 {
            // Every set low bit of the old size is a complete subtree of the same height to merge.
            let Some(left) = self.stack.pop() else { break };
            h = node_hash(&left, &h);
            out.push(h);
            i >>= 1;
        }
        self.stack.push(h);
        self.size += 1;
    }

    /// The root hash of the tree.
    pub(crate) fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(last) = iter.next() else {
            return EMPTY_ROOT;
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// The hash of leaves `lo..hi` where `lo` is a multiple of the largest power of two not above
/// `hi - lo` — true of every subtree the RFC 6962 recursion visits.
fn range_hash<S: HashSource>(src: &S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    // Split [lo, hi) into aligned complete subtrees, largest first, then fold from the right.
    let mut parts = Vec::with_capacity(64);
    let mut start = lo;
    while start < hi {
        let level = 63 - (hi - start).leading_zeros();
        parts.push(src.stored(stored_hash_index(level, start >> level))?);
        start += 1u64 << level;
    }
    let mut iter = parts.into_iter().rev();
    let Some(last) = iter.next() else {
        return Ok(EMPTY_ROOT);
    };
    Ok(iter.fold(last, |acc, left| node_hash(&left, &acc)))
}

/// The root of the first `size` leaves.
#[cfg(test)]
pub(crate) fn tree_root<S: HashSource>(src: &S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    range_hash(src, 0, size)
}

/// The RFC 6962 audit path of leaf `index` in the tree of the first `size` leaves, leaf-side first.
/// `None` when `index >= size`.
pub(crate) fn inclusion_proof<S: HashSource>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Option<Vec<Hash>>, S::Error> {
    if index >= size {
        return Ok(None);
    }
    let mut path = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    // Walk down from the root; siblings are collected root-side first, then reversed.
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            path.push(range_hash(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_hash(src, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(Some(path))
}

/// The RFC 6962 consistency proof from the tree of `old` leaves to the tree of `new` leaves.
/// `None` unless `0 < old <= new`.
pub(crate) fn consistency_proof<S: HashSource>(
    src: &S,
    old: u64,
    new: u64,
) -> Result<Option<Vec<Hash>>, S::Error> {
    if old == 0 || old > new {
        return Ok(None);
    }
    let mut proof = Vec::new();
    subproof(src, old, 0, new, true, &mut proof)?;
    Ok(Some(proof))
}

/// SUBPROOF(m, D[lo:hi], b) of RFC 6962 §2.1.2, with `m` relative to `lo`.
fn subproof<S: HashSource>(
    src: &S,
    m: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, lo, lo + k, complete, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// The root implied by an audit path (RFC 9162 §2.1.3.2), or `None` if the path cannot belong to
/// leaf `index` of a tree of `size` leaves.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// Checks a consistency proof between two roots (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    // If the old size is a power of two, the old root is the first node of the path.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &fr == old_root && &sr == new_root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A stored-hash sequence in memory.
    struct Mem(Vec<Hash>);

    impl HashSource for Mem {
        type Error = ();
        fn stored(&self, index: u64) -> Result<Hash, ()> {
            self.0.get(index as usize).copied().ok_or(())
        }
    }

    fn build(n: u64) -> (Mem, Vec<Hash>, Frontier) {
        let mut f = Frontier::new();
        let mut stored = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let l = leaf_hash(&i.to_le_bytes());
            leaves.push(l);
            f.push(l, &mut stored);
            assert_eq!(stored.len() as u64, stored_hash_count(i + 1));
        }
        (Mem(stored), leaves, f)
    }

    /// MTH straight from the RFC's recursive definition.
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn roots_match_the_rfc_6962_test_vectors() {
        // The eight leaves and roots of certificate-transparency's merkle_tree_test vectors.
        let inputs: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let mut f = Frontier::new();
        let mut stored = Vec::new();
        for (input, root) in inputs.iter().zip(roots) {
            f.push(leaf_hash(input), &mut stored);
            assert_eq!(hex(&f.root()), root);
            assert_eq!(
                hex(&tree_root(&Mem(stored.clone()), f.size()).unwrap()),
                root
            );
        }
    }

    #[test]
    fn empty_tree_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
        assert_eq!(Frontier::new().root(), EMPTY_ROOT);
    }

    #[test]
    fn stored_hash_index_follows_the_go_layout() {
        // Leaf 0, leaf 1, node(0,1), leaf 2, leaf 3, node(2,3), node(0..4), …
        assert_eq!(stored_hash_index(0, 0), 0);
        assert_eq!(stored_hash_index(0, 1), 1);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(0, 2), 3);
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_count(4), 7);
    }

    #[test]
    fn frontier_loads_back_from_stored_hashes() {
        for n in 0..70 {
            let (mem, _, f) = build(n);
            assert_eq!(Frontier::load(n, &mem).unwrap(), f);
        }
    }

    proptest! {
        #[test]
        fn proofs_verify_and_roots_agree_with_the_definition(n in 1u64..300, seed in any::<u64>()) {
            let (mem, leaves, f) = build(n);
            prop_assert_eq!(f.root(), reference_root(&leaves));
            let index = seed % n;
            let path = inclusion_proof(&mem, index, n).unwrap().unwrap();
            prop_assert_eq!(
                root_from_inclusion_proof(index, n, &leaves[index as usize], &path),
                Some(f.root())
            );
            // A wrong leaf or index does not verify.
            prop_assert_ne!(
                root_from_inclusion_proof(index, n, &leaf_hash(b"other"), &path),
                Some(f.root())
            );
            let old = 1 + seed % n;
            let proof = consistency_proof(&mem, old, n).unwrap().unwrap();
            let old_root = reference_root(&leaves[..old as usize]);
            prop_assert!(verify_consistency(old, n, &old_root, &f.root(), &proof));
            prop_assert!(!verify_consistency(old, n, &leaf_hash(b"x"), &f.root(), &proof));
        }

        #[test]
        fn proof_checks_never_panic(index in 0u64..1000, size in 0u64..1000, len in 0usize..20) {
            let path = vec![[7u8; 32]; len];
            let _ = root_from_inclusion_proof(index, size, &[1; 32], &path);
            let _ = verify_consistency(index, size, &[1; 32], &[2; 32], &path);
        }
    }
}
