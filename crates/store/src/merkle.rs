//! RFC 6962 / RFC 9162 Merkle trees: hashing, the stored layout, proofs and their checks.
//!
//! A tenant log of `n` leaves is kept in two append-only files:
//!
//! * `.leaves`: the leaf hashes, leaf `i` at byte `32·i`;
//! * `.hashes`: the hashes of the complete subtrees of [`UPPER_LEVEL`] (8) levels and more, in the
//!   order Go's `golang.org/x/mod/sumdb/tlog` stores a tree: they form the *upper tree*, whose
//!   leaves are the roots of the complete 256-leaf subtrees, and the subtree at `level ≥ 8`,
//!   `index` is its stored hash [`stored_hash_index`]`(level - 8, index)`. A tree of `n` leaves owns
//!   the first [`stored_hash_count`]`(n >> 8)` of them.
//!
//! A subtree below level 8 is not stored: it is folded from its at most 128 leaf hashes, read in
//! one read. That halves the tree on disk (32.25 bytes per leaf instead of 64), while reading any
//! complete subtree stays O(1) reads, so roots and proofs stay O(log n) reads.

use sha2::{Digest, Sha256};

/// A SHA-256 hash of a leaf or an interior node.
pub type Hash = [u8; 32];

/// The lowest level whose complete subtrees are stored in `.hashes`; those below are folded from
/// the leaf hashes.
pub(crate) const UPPER_LEVEL: u32 = 8;

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
/// `index·2^level .. (index+1)·2^level`) sits in a tlog stored-hash sequence.
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

/// How many hashes the tlog stored-hash sequence of a tree of `n` leaves has.
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

/// How many hashes the `.hashes` file of a tree of `n` leaves holds.
pub(crate) fn upper_hash_count(n: u64) -> u64 {
    stored_hash_count(n >> UPPER_LEVEL)
}

/// The largest power of two strictly smaller than `n` (`n ≥ 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Folds `2^k` hashes, in place, into the root of the complete subtree they are the leaves of.
pub(crate) fn fold(hashes: &mut [Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut len = hashes.len();
    while len > 1 {
        for i in 0..len / 2 {
            hashes[i] = node_hash(&hashes[2 * i], &hashes[2 * i + 1]);
        }
        len /= 2;
    }
    hashes[0]
}

/// Reads a tree in the stored layout: leaf hashes and upper-tree hashes.
pub(crate) trait HashSource {
    /// The error reading can fail with.
    type Error;

    /// Fills `out` with the leaf hashes `first .. first + out.len()`.
    fn leaves(&self, first: u64, out: &mut [Hash]) -> Result<(), Self::Error>;

    /// The hash at `index` of the upper tree's stored-hash sequence (the `.hashes` file).
    fn upper(&self, index: u64) -> Result<Hash, Self::Error>;

    /// The hash of the complete subtree `index` at `level`.
    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        stored_node(self, level, index)
    }
}

/// The hash of the complete subtree `index` at `level` as stored: one upper-tree hash, or the fold
/// of at most 128 leaf hashes read at once.
pub(crate) fn stored_node<S: HashSource + ?Sized>(
    src: &S,
    level: u32,
    index: u64,
) -> Result<Hash, S::Error> {
    if level >= UPPER_LEVEL {
        return src.upper(stored_hash_index(level - UPPER_LEVEL, index));
    }
    let mut buf = [[0u8; 32]; 1 << (UPPER_LEVEL - 1)];
    let buf = &mut buf[..1 << level];
    src.leaves(index << level, buf)?;
    Ok(fold(buf))
}

/// The right edge of a growing tree: the roots of its complete subtrees, largest first.
///
/// Appending a leaf folds equal-sized subtrees together (a binary counter). The subtrees it closes
/// come out in increasing level; those at [`UPPER_LEVEL`] and above are, in order, exactly what the
/// `.hashes` layout appends next: leaf `i` closes a level-8 subtree when `i + 1` is a multiple of
/// 256, and that is an upper-tree leaf `j = i >> 8` followed by one node per trailing one bit of
/// `j`, as tlog appends an upper-tree leaf.
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
                stack.push(src.node(level, start >> level)?);
                start += 1u64 << level;
            }
        }
        Ok(Frontier { size, stack })
    }

    /// The number of leaves.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash (which belongs in `.leaves`); `upper` receives the hashes it closes at
    /// [`UPPER_LEVEL`] and above (which belong in `.hashes`), lowest level first.
    pub(crate) fn push(&mut self, leaf: Hash, upper: &mut Vec<Hash>) {
        let mut h = leaf;
        let mut i = self.size;
        let mut level = 0;
        while i & 1 == 1 {
            // Every set low bit of the old size is a complete subtree of the same height to merge.
            let Some(left) = self.stack.pop() else { break };
            h = node_hash(&left, &h);
            level += 1;
            if level >= UPPER_LEVEL {
                upper.push(h);
            }
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
        parts.push(src.node(level, start >> level)?);
        start += 1u64 << level;
    }
    let mut iter = parts.into_iter().rev();
    let Some(last) = iter.next() else {
        return Ok(EMPTY_ROOT);
    };
    Ok(iter.fold(last, |acc, left| node_hash(&left, &acc)))
}

/// The root of the first `size` leaves.
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

    /// The two files in memory.
    #[derive(Default)]
    struct Mem {
        leaves: Vec<Hash>,
        upper: Vec<Hash>,
    }

    impl HashSource for Mem {
        type Error = ();
        fn leaves(&self, first: u64, out: &mut [Hash]) -> Result<(), ()> {
            let first = first as usize;
            out.copy_from_slice(self.leaves.get(first..first + out.len()).ok_or(())?);
            Ok(())
        }
        fn upper(&self, index: u64) -> Result<Hash, ()> {
            self.upper.get(index as usize).copied().ok_or(())
        }
    }

    fn build(n: u64) -> (Mem, Frontier) {
        let mut f = Frontier::new();
        let mut mem = Mem::default();
        for i in 0..n {
            let l = leaf_hash(&i.to_le_bytes());
            mem.leaves.push(l);
            f.push(l, &mut mem.upper);
            assert_eq!(mem.upper.len() as u64, upper_hash_count(i + 1));
        }
        (mem, f)
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

    /// PATH(m, D[n]) of RFC 6962 §2.1.1, leaf side first.
    fn reference_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split_point(n as u64) as usize;
        let (mut path, sibling) = if m < k {
            (reference_path(m, &leaves[..k]), &leaves[k..])
        } else {
            (reference_path(m - k, &leaves[k..]), &leaves[..k])
        };
        path.push(reference_root(sibling));
        path
    }

    /// SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2.
    fn reference_subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if complete {
                Vec::new()
            } else {
                vec![reference_root(leaves)]
            };
        }
        let k = split_point(n as u64) as usize;
        let (mut proof, other) = if m <= k {
            (reference_subproof(m, &leaves[..k], complete), &leaves[k..])
        } else {
            (reference_subproof(m - k, &leaves[k..], false), &leaves[..k])
        };
        proof.push(reference_root(other));
        proof
    }

    /// Tree sizes around the 256-leaf boundary as well as anywhere.
    fn sizes() -> impl Strategy<Value = u64> {
        prop_oneof![
            1u64..300,
            (1u64..12).prop_map(|k| 256 * k),
            (1u64..12).prop_map(|k| 256 * k - 1),
            (1u64..12).prop_map(|k| 256 * k + 1),
            300u64..4000,
        ]
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
        let mut mem = Mem::default();
        for (input, root) in inputs.iter().zip(roots) {
            mem.leaves.push(leaf_hash(input));
            f.push(leaf_hash(input), &mut mem.upper);
            assert_eq!(hex(&f.root()), root);
            assert_eq!(hex(&tree_root(&mem, f.size()).unwrap()), root);
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
        for n in (0..70).chain([255, 256, 257, 511, 512, 513, 1000]) {
            let (mem, f) = build(n);
            assert_eq!(Frontier::load(n, &mem).unwrap(), f);
        }
    }

    #[test]
    fn upper_hashes_are_the_tlog_order_restricted_to_levels_8_and_up() {
        let n = 8 * 256 + 300;
        let (mem, _) = build(n);
        // The full tlog sequence, as (level, index): leaf i, then one node per trailing one bit.
        let mut full = Vec::new();
        for i in 0..n {
            full.push((0, i));
            for t in 1..=i.trailing_ones() {
                full.push((t, i >> t));
            }
        }
        assert_eq!(full.len() as u64, stored_hash_count(n));
        let restricted: Vec<(u32, u64)> = full.into_iter().filter(|&(l, _)| l >= 8).collect();
        // The upper tree's own tlog sequence, with its levels lifted by 8.
        let mut upper = Vec::new();
        for j in 0..n >> 8 {
            upper.push((8, j));
            for t in 1..=j.trailing_ones() {
                upper.push((8 + t, j >> t));
            }
        }
        assert_eq!(restricted, upper);
        assert_eq!(mem.upper.len(), upper.len());
        for (at, &(level, index)) in upper.iter().enumerate() {
            assert_eq!(stored_hash_index(level - 8, index), at as u64);
            let span = (index << level) as usize..((index + 1) << level) as usize;
            assert_eq!(mem.upper[at], reference_root(&mem.leaves[span]));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn the_stored_layout_gives_the_rfc_6962_tree(n in sizes(), a in any::<u64>(), b in any::<u64>()) {
            let (mem, f) = build(n);
            let leaves = &mem.leaves;
            let root = reference_root(leaves);
            prop_assert_eq!(f.root(), root);
            prop_assert_eq!(tree_root(&mem, n).unwrap(), root);
            prop_assert_eq!(&Frontier::load(n, &mem).unwrap(), &f);
            let prefix = 1 + (a ^ b) % n;
            prop_assert_eq!(
                tree_root(&mem, prefix).unwrap(),
                reference_root(&leaves[..prefix as usize])
            );

            // Any complete subtree, stored or folded from its leaves.
            let level = (a % u64::from(64 - n.leading_zeros())) as u32;
            let index = b % (n >> level);
            let span = (index << level) as usize..((index + 1) << level) as usize;
            prop_assert_eq!(mem.node(level, index).unwrap(), reference_root(&leaves[span]));

            let index = a % n;
            let path = inclusion_proof(&mem, index, n).unwrap().unwrap();
            prop_assert_eq!(&path, &reference_path(index as usize, leaves));
            prop_assert_eq!(
                root_from_inclusion_proof(index, n, &leaves[index as usize], &path),
                Some(root)
            );
            // A wrong leaf does not verify.
            prop_assert_ne!(
                root_from_inclusion_proof(index, n, &leaf_hash(b"other"), &path),
                Some(root)
            );

            let old = 1 + b % n;
            let proof = consistency_proof(&mem, old, n).unwrap().unwrap();
            prop_assert_eq!(&proof, &reference_subproof(old as usize, leaves, true));
            let old_root = reference_root(&leaves[..old as usize]);
            prop_assert!(verify_consistency(old, n, &old_root, &root, &proof));
            prop_assert!(!verify_consistency(old, n, &leaf_hash(b"x"), &root, &proof));
        }
    }

    proptest! {
        #[test]
        fn proof_checks_never_panic(index in 0u64..1000, size in 0u64..1000, len in 0usize..20) {
            let path = vec![[7u8; 32]; len];
            let _ = root_from_inclusion_proof(index, size, &[1; 32], &path);
            let _ = verify_consistency(index, size, &[1; 32], &[2; 32], &path);
        }
    }
}
