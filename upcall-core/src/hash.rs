//! Deterministic hashing: the dispatcher's upcall hash (murmur3 mixing, as OVS's `mhash_*`) and a fast
//! `Hasher` for the handler's flow table. No per-process random state anywhere.

use std::hash::{BuildHasherDefault, Hasher};

use crate::odp::{KeyAttrs, OVS_KEY_ATTR_IN_PORT, OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_UDP};

/// Mixes one 32-bit word into `hash` (murmur3 body step).
#[inline]
pub fn mhash_add(hash: u32, data: u32) -> u32 {
    let data = data.wrapping_mul(0xcc9e_2d51).rotate_left(15).wrapping_mul(0x1b87_3593);
    (hash ^ data).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}

/// Final avalanche (murmur3 `fmix32`) after folding in the number of bytes hashed.
#[inline]
pub fn mhash_finish(hash: u32, n_bytes: u32) -> u32 {
    let mut h = hash ^ n_bytes;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The dispatcher's hash of a miss upcall's flow key: `secret` mixed with the 4-byte `IN_PORT`, `TCP` and `UDP`
/// attributes in key order (each read as a host-order word, as OVS does). Returns the hash and the number of
/// those attributes skipped for not being 4 bytes long.
pub fn upcall_hash(secret: u32, key: &[u8]) -> (u32, usize) {
    let mut hash = secret;
    let mut n_bytes = 0u32;
    let mut n_bad = 0;
    for (attr_type, payload) in KeyAttrs::new(key) {
        if matches!(attr_type, OVS_KEY_ATTR_IN_PORT | OVS_KEY_ATTR_TCP | OVS_KEY_ATTR_UDP) {
            match <[u8; 4]>::try_from(payload) {
                Ok(word) => {
                    hash = mhash_add(hash, u32::from_ne_bytes(word));
                    n_bytes = n_bytes.wrapping_add(4);
                }
                Err(_) => n_bad += 1,
            }
        }
    }
    (mhash_finish(hash, n_bytes), n_bad)
}

/// A deterministic `Hasher` for the handler's per-batch flow table (at most 50 entries, so flooding
/// resistance is not a concern, speed is): rotate, xor, multiply, eight bytes at a time, as FxHash does.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlowHasher {
    hash: u64,
}

impl FlowHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    /// A hasher whose state starts at `seed` (the `Default` starts at 0).
    #[inline]
    pub const fn with_state(seed: u64) -> FlowHasher {
        FlowHasher { hash: seed }
    }

    /// Mixes in one word; cheaper than `write` for callers that pack their own words.
    #[inline]
    pub fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FlowHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in chunks.by_ref() {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut w = [0u8; 8];
            w[..tail.len()].copy_from_slice(tail);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// The multiply only carries entropy upwards; hashbrown indexes buckets with the low bits, so fold the
    /// state with murmur3's 64-bit finalizer.
    fn finish(&self) -> u64 {
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub type BuildFlowHasher = BuildHasherDefault<FlowHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odp::AttrBuilder;

    #[test]
    fn mhash_matches_murmur3_reference_values() {
        // MurmurHash3_x86_32 reference outputs: ("", seed 0) = 0, ("", seed 1) = 0x514e28b7,
        // (b"\0\0\0\0", seed 0) = 0x2362f9de, (b"\x21\x43\x65\x87", seed 0) = 0xf55b516b.
        assert_eq!(mhash_finish(0, 0), 0);
        assert_eq!(mhash_finish(1, 0), 0x514e_28b7);
        assert_eq!(mhash_finish(mhash_add(0, 0), 4), 0x2362_f9de);
        assert_eq!(mhash_finish(mhash_add(0, 0x8765_4321), 4), 0xf55b_516b);
    }

    #[test]
    fn upcall_hash_uses_only_port_attributes_of_the_right_size() {
        let base = AttrBuilder::new().in_port(3).ethertype(0x0800).tcp(1000, 80).finish();
        let other_l2 = AttrBuilder::new().in_port(3).ethertype(0x86dd).tcp(1000, 80).finish();
        assert_eq!(upcall_hash(7, &base), upcall_hash(7, &other_l2));
        assert_eq!(upcall_hash(7, &base).1, 0);

        // Same words, computed by hand.
        let mut h = mhash_add(7, u32::from_ne_bytes(3u32.to_ne_bytes()));
        h = mhash_add(h, u32::from_ne_bytes([0x03, 0xe8, 0x00, 0x50]));
        assert_eq!(upcall_hash(7, &base).0, mhash_finish(h, 8));

        let bad_tcp = AttrBuilder::new().in_port(3).put(OVS_KEY_ATTR_TCP, &[1, 2]).finish();
        let no_tcp = AttrBuilder::new().in_port(3).finish();
        assert_eq!(upcall_hash(7, &bad_tcp), (upcall_hash(7, &no_tcp).0, 1));
        assert_ne!(upcall_hash(7, &base).0, upcall_hash(8, &base).0);
    }

    #[test]
    fn flow_hasher_is_deterministic_and_sees_every_byte() {
        use std::hash::{BuildHasher, Hash};
        let h = |b: &[u8]| BuildFlowHasher::default().hash_one(b);
        assert_eq!(h(b"abcdefghij"), h(b"abcdefghij"));
        // The length prefix of `[u8]::hash` separates strings that differ only in trailing zeros.
        assert_ne!(h(b"abcd"), h(b"abcd\0"));
        let base = [7u8; 20];
        for i in 0..20 {
            let mut other = base;
            other[i] ^= 1;
            assert_ne!(h(&base), h(&other), "byte {i} ignored");
        }
        // Keys differing only in high bits of their last word (TCP ports in a flow key) must still differ in
        // the low bits hashbrown uses for the bucket index.
        let low_bits: std::collections::BTreeSet<u64> = (0..256u32)
            .map(|port| {
                let mut key = [0u8; 16];
                key[10..12].copy_from_slice(&(port as u16).to_be_bytes());
                h(&key) & 0xff
            })
            .collect();
        assert!(low_bits.len() > 128, "only {} distinct bucket indexes of 256", low_bits.len());
        let mut a = FlowHasher::default();
        7u32.hash(&mut a);
        assert_ne!(a.finish(), FlowHasher::default().finish());
    }
}
