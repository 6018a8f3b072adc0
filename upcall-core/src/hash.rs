//! Deterministic hashing: the dispatcher's upcall hash (murmur3 mixing, as OVS's `mhash_*`) and a `Hasher`
//! built on the same mix for the handler's flow table. No per-process random state anywhere.

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

/// A `Hasher` on the murmur3 mix with a fixed basis: deterministic across runs, for the handler's
/// per-batch flow table (at most 50 entries, so flooding resistance is not a concern).
#[derive(Clone, Copy, Debug, Default)]
pub struct MhashHasher {
    hash: u32,
    n_bytes: u32,
}

impl Hasher for MhashHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(4);
        for c in chunks.by_ref() {
            self.hash = mhash_add(self.hash, u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut w = [0u8; 4];
            w[..tail.len()].copy_from_slice(tail);
            self.hash = mhash_add(self.hash, u32::from_le_bytes(w));
        }
        self.n_bytes = self.n_bytes.wrapping_add(bytes.len() as u32);
    }

    fn write_u32(&mut self, i: u32) {
        self.hash = mhash_add(self.hash, i);
        self.n_bytes = self.n_bytes.wrapping_add(4);
    }

    fn write_u64(&mut self, i: u64) {
        self.write_u32(i as u32);
        self.write_u32((i >> 32) as u32);
    }

    fn finish(&self) -> u64 {
        u64::from(mhash_finish(self.hash, self.n_bytes))
    }
}

pub type BuildMhashHasher = BuildHasherDefault<MhashHasher>;

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
    fn hasher_is_deterministic_and_length_sensitive() {
        let h = |b: &[u8]| {
            let mut s = MhashHasher::default();
            s.write(b);
            s.finish()
        };
        assert_eq!(h(b"abcde"), h(b"abcde"));
        assert_ne!(h(b"abcd"), h(b"abcd\0"));
    }
}
