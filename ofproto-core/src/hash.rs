//! Deterministic hashing for the flow tables: no per-process random state, so two runs with the same
//! inputs visit rules in the same order.

use std::hash::{BuildHasherDefault, Hasher};

use ofp_proto::flow::{EthAddr, Flow};

/// Rotate, xor, multiply per 64-bit word (as FxHash does), with a full avalanche at the end so the
/// low and high bits both spread (hashbrown uses both): the upcall handler's hasher.
pub(crate) type Mix = upcall_core::FlowHasher;

/// Hash maps keyed by anything hashable, deterministically.
pub(crate) type MixState = BuildHasherDefault<Mix>;
pub(crate) type MixMap<K, V> = hashbrown::HashMap<K, V, MixState>;

/// For maps keyed by a hash already computed with [`hash_flow`]: passes it through unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are used; anything else still hashes, just not as fast.
        let mut m = Mix::with_state(self.0);
        m.write(bytes);
        self.0 = m.finish();
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type PreHashedMap<V> = hashbrown::HashMap<u64, V, BuildHasherDefault<PreHashed>>;

#[inline]
fn eth(a: EthAddr) -> u64 {
    a.to_u64()
}

/// A hash of every member of `f`, two or four members per word. Used on masked flows, where most
/// members are zero.
pub(crate) fn hash_flow(f: &Flow) -> u64 {
    let mut m = Mix::default();
    m.add(f.tun_id);
    m.add(f.metadata);
    for pair in f.regs.chunks_exact(2) {
        m.add(u64::from(pair[0]) << 32 | u64::from(pair[1]));
    }
    m.add(u64::from(f.pkt_mark) << 32 | u64::from(f.dp_hash));
    m.add(u64::from(f.packet_type) << 32 | u64::from(f.in_port) << 16 | u64::from(f.dl_type));
    m.add(eth(f.dl_dst) << 16 ^ u64::from(f.tcp_flags));
    m.add(eth(f.dl_src) << 16 ^ u64::from(f.tp_src));
    for v in f.vlans {
        m.add(u64::from(v.tpid) << 16 | u64::from(v.tci));
    }
    m.add(u64::from(f.mpls_lse[0]) << 32 | u64::from(f.mpls_lse[1]));
    m.add(u64::from(f.mpls_lse[2]) << 32 | u64::from(f.tp_dst));
    m.add(u64::from(f.nw_src) << 32 | u64::from(f.nw_dst));
    for v in [f.ipv6_src, f.ipv6_dst, f.nd_target] {
        m.add(v as u64);
        m.add((v >> 64) as u64);
    }
    m.add(
        u64::from(f.ipv6_label) << 32
            | u64::from(f.nw_frag) << 24
            | u64::from(f.nw_tos) << 16
            | u64::from(f.nw_ttl) << 8
            | u64::from(f.nw_proto),
    );
    m.add(eth(f.arp_sha));
    m.add(eth(f.arp_tha));
    m.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_changes_the_hash() {
        let base = hash_flow(&Flow::default());
        let variants: Vec<Flow> = vec![
            Flow { tun_id: 1, ..Flow::default() },
            Flow { metadata: 1, ..Flow::default() },
            Flow {
                regs: {
                    let mut r = [0; 16];
                    r[15] = 1;
                    r
                },
                ..Flow::default()
            },
            Flow { pkt_mark: 1, ..Flow::default() },
            Flow { dp_hash: 1, ..Flow::default() },
            Flow { in_port: 1, ..Flow::default() },
            Flow { packet_type: 1, ..Flow::default() },
            Flow { dl_dst: EthAddr([0, 0, 0, 0, 0, 1]), ..Flow::default() },
            Flow { dl_src: EthAddr([1, 0, 0, 0, 0, 0]), ..Flow::default() },
            Flow { dl_type: 1, ..Flow::default() },
            Flow { mpls_lse: [0, 0, 1], ..Flow::default() },
            Flow { nw_src: 1, ..Flow::default() },
            Flow { nw_dst: 1, ..Flow::default() },
            Flow { ipv6_src: 1 << 100, ..Flow::default() },
            Flow { ipv6_dst: 1, ..Flow::default() },
            Flow { nd_target: 1, ..Flow::default() },
            Flow { ipv6_label: 1, ..Flow::default() },
            Flow { nw_frag: 1, ..Flow::default() },
            Flow { nw_tos: 1, ..Flow::default() },
            Flow { nw_ttl: 1, ..Flow::default() },
            Flow { nw_proto: 1, ..Flow::default() },
            Flow { arp_sha: EthAddr([0, 0, 0, 0, 0, 1]), ..Flow::default() },
            Flow { arp_tha: EthAddr([0, 0, 0, 0, 0, 1]), ..Flow::default() },
            Flow { tcp_flags: 1, ..Flow::default() },
            Flow { tp_src: 1, ..Flow::default() },
            Flow { tp_dst: 1, ..Flow::default() },
        ];
        let mut seen = std::collections::HashSet::from([base]);
        for v in &variants {
            assert!(seen.insert(hash_flow(v)), "{v:?} collides");
        }
        let mut vl = Flow::default();
        vl.vlans[1].tci = 1;
        assert!(seen.insert(hash_flow(&vl)));
    }

    #[test]
    fn prehashed_passes_u64_through() {
        let mut h = PreHashed::default();
        h.write_u64(0xdead_beef);
        assert_eq!(h.finish(), 0xdead_beef);
    }
}
