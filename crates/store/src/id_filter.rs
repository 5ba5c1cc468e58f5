//! A Bloom filter of the stored record ids, in front of their on-disk runs.
//!
//! Nearly every record an ingest appends is new, and the runs can only say so after a read in
//! each of them. The filter says "certainly new" with one hash and one cache line, and sends only
//! the rest (duplicates and about 0.2 % of new ids) to the runs, so de-duplication stays exact.
//!
//! It is a split-block Bloom filter (as in Parquet): a key picks one 256-bit block and sets one bit
//! in each of its eight 32-bit words. It lives in memory only, built from the runs once an ingest
//! has made enough lookups to pay for it, and grows by rebuilding once it holds more ids than it
//! was sized for, up to
//! [`MAX_BYTES`]; past that its false-positive rate rises and more lookups reach the runs, so
//! memory stays bounded however large the store grows.

use std::hash::BuildHasher;

/// Bits per id the filter is sized for: about 0.2 % false positives.
const BITS_PER_ID: u64 = 16;
/// The smallest filter, for an empty or small store (tiny in tests, so that they see it grow).
#[cfg(not(test))]
const MIN_BYTES: usize = 1 << 20;
#[cfg(test)]
const MIN_BYTES: usize = 1 << 10;
/// The largest filter: enough for 32 M ids at [`BITS_PER_ID`].
pub(crate) const MAX_BYTES: usize = 64 << 20;
/// Parquet's salts: one odd multiplier per word of a block.
const SALT: [u32; 8] = [
    0x47b6_137b,
    0x4497_4d91,
    0x8824_ad5b,
    0xa2b7_289d,
    0x7054_95c7,
    0x2df1_424b,
    0x9efc_4947,
    0x5c6b_fb31,
];

/// The record ids a store holds, as a Bloom filter: no false negatives.
pub(crate) struct IdFilter {
    blocks: Vec<[u32; 8]>,
    hasher: foldhash::fast::FixedState,
    len: u64,
}

impl IdFilter {
    /// An empty filter sized for `ids` ids (within the size limits).
    pub(crate) fn with_capacity(ids: u64) -> IdFilter {
        let bytes = (ids.saturating_mul(BITS_PER_ID) / 8)
            .clamp(MIN_BYTES as u64, MAX_BYTES as u64)
            .next_power_of_two() as usize;
        IdFilter {
            blocks: vec![[0; 8]; bytes / 32],
            hasher: foldhash::fast::FixedState::with_seed(0x6d61_696c_7472_6169),
            len: 0,
        }
    }

    /// Whether the filter holds more ids than it was sized for and may still grow.
    pub(crate) fn wants_to_grow(&self) -> bool {
        let bytes = self.blocks.len() * 32;
        bytes < MAX_BYTES && self.len.saturating_mul(BITS_PER_ID) / 8 > bytes as u64
    }

    /// How many ids were inserted.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn insert(&mut self, key: &[u8]) {
        let (block, word_key) = self.locate(key);
        let block = &mut self.blocks[block];
        for (word, salt) in block.iter_mut().zip(SALT) {
            *word |= 1 << (word_key.wrapping_mul(salt) >> 27);
        }
        self.len += 1;
    }

    /// `false` only if `key` was never inserted.
    pub(crate) fn may_contain(&self, key: &[u8]) -> bool {
        let (block, word_key) = self.locate(key);
        let block = &self.blocks[block];
        block
            .iter()
            .zip(SALT)
            .all(|(word, salt)| word & (1 << (word_key.wrapping_mul(salt) >> 27)) != 0)
    }

    /// The block (from the hash's high half, scaled to the block count) and the key of its words.
    fn locate(&self, key: &[u8]) -> (usize, u32) {
        let h = self.hasher.hash_one(key);
        let block = ((h >> 32) * self.blocks.len() as u64) >> 32;
        (block as usize, h as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> [u8; 17] {
        let mut k = [1u8; 17];
        k[1..9].copy_from_slice(&i.to_le_bytes());
        k[9..].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
        k
    }

    #[test]
    fn every_inserted_id_is_found_and_few_others_are() {
        let n = 200_000;
        let mut f = IdFilter::with_capacity(n);
        for i in 0..n {
            f.insert(&key(i));
        }
        assert_eq!(f.len(), n);
        assert!((0..n).all(|i| f.may_contain(&key(i))), "no false negatives");
        let false_positives = (n..2 * n).filter(|&i| f.may_contain(&key(i))).count();
        assert!(
            false_positives < (n as usize) / 100,
            "{false_positives} false positives in {n}"
        );
    }

    #[test]
    fn size_follows_the_ids_within_its_limits() {
        assert_eq!(IdFilter::with_capacity(0).blocks.len() * 32, MIN_BYTES);
        assert_eq!(IdFilter::with_capacity(1 << 22).blocks.len() * 32, 8 << 20);
        assert_eq!(IdFilter::with_capacity(3_000).blocks.len() * 32, 8 << 10);
        assert_eq!(
            IdFilter::with_capacity(u64::MAX).blocks.len() * 32,
            MAX_BYTES
        );

        let mut f = IdFilter::with_capacity(0);
        let fits = (MIN_BYTES as u64 * 8) / BITS_PER_ID;
        for i in 0..fits {
            f.insert(&key(i));
        }
        assert!(!f.wants_to_grow());
        f.insert(&key(fits));
        assert!(f.wants_to_grow());
    }
}
