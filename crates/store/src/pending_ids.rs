//! The record ids appended since the last commit: de-duplication within the batch, and the
//! commit's new run of ids.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::state::GUID_TAG;

/// Packed record ids (see [`pack_record_id`](crate::state::pack_record_id)) and their sequence
/// numbers. Nearly every id is a GUID, kept here as a number: appending a record allocates nothing,
/// and the commit sorts integers.
#[derive(Default)]
pub(crate) struct PendingIds {
    guids: HashMap<u128, u64, RandomState>,
    other: HashMap<Box<[u8]>, u64, RandomState>,
}

impl PendingIds {
    pub(crate) fn get(&self, key: &[u8]) -> Option<u64> {
        match guid(key) {
            Some(g) => self.guids.get(&g).copied(),
            None => self.other.get(key).copied(),
        }
    }

    pub(crate) fn insert(&mut self, key: &[u8], seq: u64) {
        match guid(key) {
            Some(g) => self.guids.insert(g, seq),
            None => self.other.insert(key.into(), seq),
        };
    }

    pub(crate) fn clear(&mut self) {
        self.guids.clear();
        self.other.clear();
    }

    /// Calls `f` with every packed id, in no particular order.
    pub(crate) fn for_each_key(&self, mut f: impl FnMut(&[u8])) {
        for key in self.other.keys() {
            f(key);
        }
        for g in self.guids.keys() {
            f(&packed(*g));
        }
    }

    /// Every packed id with its sequence number, sorted by id.
    pub(crate) fn sorted(&self) -> Sorted<'_> {
        let mut other: Vec<(&[u8], u64)> = self.other.iter().map(|(k, v)| (&**k, *v)).collect();
        other.sort_unstable();
        let mut guids: Vec<(u128, u64)> = self.guids.iter().map(|(k, v)| (*k, *v)).collect();
        // Big-endian numbers sort as their bytes do.
        guids.sort_unstable();
        Sorted {
            other,
            guids: guids.into_iter().map(|(g, seq)| (packed(g), seq)).collect(),
        }
    }
}

/// The ids of [`PendingIds::sorted`]: every other id sorts before every GUID, whose tag is higher.
pub(crate) struct Sorted<'a> {
    other: Vec<(&'a [u8], u64)>,
    guids: Vec<([u8; 17], u64)>,
}

impl Sorted<'_> {
    pub(crate) fn as_pairs(&self) -> Vec<(&[u8], u64)> {
        let mut pairs = Vec::with_capacity(self.other.len() + self.guids.len());
        pairs.extend_from_slice(&self.other);
        pairs.extend(self.guids.iter().map(|(k, seq)| (&k[..], *seq)));
        pairs
    }
}

fn guid(key: &[u8]) -> Option<u128> {
    match key {
        [GUID_TAG, rest @ ..] => Some(u128::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

fn packed(g: u128) -> [u8; 17] {
    let mut out = [GUID_TAG; 17];
    out[1..].copy_from_slice(&g.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::pack_record_id;

    #[test]
    fn sorted_ids_are_in_the_order_of_their_packed_bytes() {
        let ids = [
            "ffffffff-0000-0000-0000-000000000001",
            "not-a-guid",
            "00000000-0000-0000-0000-0000000000ff",
            "0a000000-0000-0000-0000-000000000000",
            "Zebra",
            "00000000-0000-0000-0000-000000000100",
        ];
        let mut pending = PendingIds::default();
        let mut expected = Vec::new();
        for (seq, id) in ids.iter().enumerate() {
            let mut key = Vec::new();
            pack_record_id(id, &mut key);
            pending.insert(&key, seq as u64);
            expected.push((key, seq as u64));
        }
        expected.sort();
        let sorted = pending.sorted();
        let got: Vec<(Vec<u8>, u64)> = sorted
            .as_pairs()
            .into_iter()
            .map(|(k, s)| (k.to_vec(), s))
            .collect();
        assert_eq!(got, expected);

        let mut seen = Vec::new();
        pending.for_each_key(|k| seen.push(k.to_vec()));
        seen.sort();
        let keys: Vec<_> = expected.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(seen, keys);
        for (key, seq) in &expected {
            assert_eq!(pending.get(key), Some(*seq));
        }
        pending.clear();
        assert_eq!(pending.get(&expected[0].0), None);
    }
}
