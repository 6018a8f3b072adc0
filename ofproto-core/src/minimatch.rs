//! A rule's match kept small (OVS `minimatch`): a `Match` is two 224-byte flows, nearly all zero;
//! a rule keeps only the nonzero 64-bit words of its values and mask, so a table of 100,000
//! exact-match rules holds tens of bytes per match rather than 448.

use smallvec::SmallVec;

use ofp_proto::flow::{EthAddr, Flow, VlanHeader};
use ofp_proto::ofmatch::Match;

/// How many 64-bit words a `Flow` packs into.
const N_WORDS: usize = 27;

type Words = [u64; N_WORDS];

/// Every member of `f`, packed losslessly into words, two or more narrow members per word.
fn pack(f: &Flow) -> Words {
    let Flow {
        tun_id,
        metadata,
        regs,
        pkt_mark,
        dp_hash,
        in_port,
        packet_type,
        dl_dst,
        dl_src,
        dl_type,
        vlans,
        mpls_lse,
        nw_src,
        nw_dst,
        ipv6_src,
        ipv6_dst,
        ipv6_label,
        nw_frag,
        nw_tos,
        nw_ttl,
        nw_proto,
        nd_target,
        arp_sha,
        arp_tha,
        tcp_flags,
        tp_src,
        tp_dst,
    } = *f;
    let pair = |hi: u32, lo: u32| u64::from(hi) << 32 | u64::from(lo);
    let vlan = |v: VlanHeader| u64::from(v.tpid) << 16 | u64::from(v.tci);
    [
        tun_id,
        metadata,
        pair(regs[0], regs[1]),
        pair(regs[2], regs[3]),
        pair(regs[4], regs[5]),
        pair(regs[6], regs[7]),
        pair(regs[8], regs[9]),
        pair(regs[10], regs[11]),
        pair(regs[12], regs[13]),
        pair(regs[14], regs[15]),
        pair(pkt_mark, dp_hash),
        pair(in_port, packet_type),
        dl_dst.to_u64() << 16 | u64::from(dl_type),
        dl_src.to_u64() << 16 | u64::from(tcp_flags),
        vlan(vlans[0]) << 32 | vlan(vlans[1]),
        pair(mpls_lse[0], mpls_lse[1]),
        pair(mpls_lse[2], u32::from(tp_src) << 16 | u32::from(tp_dst)),
        pair(nw_src, nw_dst),
        (ipv6_src >> 64) as u64,
        ipv6_src as u64,
        (ipv6_dst >> 64) as u64,
        ipv6_dst as u64,
        (nd_target >> 64) as u64,
        nd_target as u64,
        pair(ipv6_label, u32::from_be_bytes([nw_frag, nw_tos, nw_ttl, nw_proto])),
        arp_sha.to_u64(),
        arp_tha.to_u64(),
    ]
}

/// The inverse of [`pack`].
fn unpack(w: &Words) -> Flow {
    let hi = |x: u64| (x >> 32) as u32;
    let lo = |x: u64| x as u32;
    let vlan = |x: u64| VlanHeader { tpid: (x >> 16) as u16, tci: x as u16 };
    let wide = |h: u64, l: u64| u128::from(h) << 64 | u128::from(l);
    let [nw_frag, nw_tos, nw_ttl, nw_proto] = lo(w[24]).to_be_bytes();
    Flow {
        tun_id: w[0],
        metadata: w[1],
        regs: [
            hi(w[2]),
            lo(w[2]),
            hi(w[3]),
            lo(w[3]),
            hi(w[4]),
            lo(w[4]),
            hi(w[5]),
            lo(w[5]),
            hi(w[6]),
            lo(w[6]),
            hi(w[7]),
            lo(w[7]),
            hi(w[8]),
            lo(w[8]),
            hi(w[9]),
            lo(w[9]),
        ],
        pkt_mark: hi(w[10]),
        dp_hash: lo(w[10]),
        in_port: hi(w[11]),
        packet_type: lo(w[11]),
        dl_dst: EthAddr::from_u64(w[12] >> 16),
        dl_type: w[12] as u16,
        dl_src: EthAddr::from_u64(w[13] >> 16),
        tcp_flags: w[13] as u16,
        vlans: [vlan(w[14] >> 32), vlan(w[14])],
        mpls_lse: [hi(w[15]), lo(w[15]), hi(w[16])],
        tp_src: (lo(w[16]) >> 16) as u16,
        tp_dst: lo(w[16]) as u16,
        nw_src: hi(w[17]),
        nw_dst: lo(w[17]),
        ipv6_src: wide(w[18], w[19]),
        ipv6_dst: wide(w[20], w[21]),
        nd_target: wide(w[22], w[23]),
        ipv6_label: hi(w[24]),
        nw_frag,
        nw_tos,
        nw_ttl,
        nw_proto,
        arp_sha: EthAddr::from_u64(w[25]),
        arp_tha: EthAddr::from_u64(w[26]),
    }
}

/// The indexes of the words in `map`, lowest first.
fn present(mut map: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let i = map.trailing_zeros() as usize;
        map &= map.wrapping_sub(1);
        (i < N_WORDS).then_some(i)
    })
}

/// A match as its nonzero words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MiniMatch {
    /// Bit `i`: word `i` of the values or of the mask is nonzero.
    map: u32,
    /// The values' words in `map`, then the mask's.
    words: SmallVec<[u64; 6]>,
}

impl MiniMatch {
    pub(crate) fn new(m: &Match) -> MiniMatch {
        let (flow, mask) = (pack(&m.flow), pack(&m.mask));
        let map = (0..N_WORDS).fold(0u32, |map, i| map | u32::from(flow[i] | mask[i] != 0) << i);
        let mut words = SmallVec::with_capacity(2 * map.count_ones() as usize);
        words.extend(present(map).map(|i| flow[i]));
        words.extend(present(map).map(|i| mask[i]));
        MiniMatch { map, words }
    }

    /// The words of the values (`half` 0) or of the mask (`half` 1), zero outside `map`.
    fn expand_half(&self, half: usize) -> Words {
        let n = self.words.len() / 2;
        let mut w = [0; N_WORDS];
        for (k, i) in present(self.map).enumerate() {
            w[i] = self.words[half * n + k];
        }
        w
    }

    pub(crate) fn to_match(&self) -> Match {
        Match { flow: unpack(&self.expand_half(0)), mask: unpack(&self.expand_half(1)) }
    }

    /// True if the values are `f` (compared word by word, without building a `Flow`).
    pub(crate) fn flow_is(&self, f: &PackedFlow) -> bool {
        self.expand_half(0) == f.0
    }

    /// True if the values under `mask` are `want` (which is zero outside `mask`).
    pub(crate) fn masked_flow_is(&self, mask: &PackedFlow, want: &PackedFlow) -> bool {
        let values = self.expand_half(0);
        (0..N_WORDS).all(|i| values[i] & mask.0[i] == want.0[i])
    }
}

/// A flow packed as a [`MiniMatch`] packs it, to compare many rules' matches with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PackedFlow(Words);

impl PackedFlow {
    pub(crate) fn of(f: &Flow) -> PackedFlow {
        PackedFlow(pack(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofp_proto::flow::ETH_TYPE_IP;
    use proptest::prelude::*;

    #[test]
    fn every_member_survives_packing() {
        let ones = Flow::all_ones();
        assert_eq!(unpack(&pack(&ones)), ones);
        assert!(pack(&ones).iter().all(|&w| w != 0), "no word is left unused");
        assert_eq!(unpack(&pack(&Flow::default())), Flow::default());
    }

    #[test]
    fn an_exact_ip_match_takes_four_words() {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_dst_masked(0x0a00_0001, u32::MAX);
        let mini = MiniMatch::new(&m);
        assert_eq!(mini.words.len(), 4);
        assert!(!mini.words.spilled());
        assert_eq!(mini.to_match(), m);
        assert!(mini.flow_is(&PackedFlow::of(&m.flow)));
        let mut other = m.flow;
        other.nw_dst += 1;
        assert!(!mini.flow_is(&PackedFlow::of(&other)));
        // Loose comparisons: the rule is within 10.0.0.0/8, not within 11.0.0.0/8.
        let mut net = Match::catchall();
        net.set_dl_type(ETH_TYPE_IP);
        net.set_nw_dst_masked(0x0a00_0000, 0xff00_0000);
        let (mask, want) = (PackedFlow::of(&net.mask), PackedFlow::of(&net.flow));
        assert!(mini.masked_flow_is(&mask, &want));
        net.set_nw_dst_masked(0x0b00_0000, 0xff00_0000);
        assert!(!mini.masked_flow_is(&mask, &PackedFlow::of(&net.flow)));
        assert_eq!(MiniMatch::new(&Match::catchall()).to_match(), Match::catchall());
    }

    proptest! {
        #[test]
        fn matches_round_trip(words in proptest::array::uniform27(any::<u64>()), keep in any::<u32>(), masks in any::<u32>()) {
            // Random values and masks, with most words zero as in real matches.
            let pick = |bits: u32| {
                let mut w = words;
                for (i, x) in w.iter_mut().enumerate() {
                    if bits & 1 << i == 0 {
                        *x = 0;
                    }
                }
                unpack(&w)
            };
            let m = Match { flow: pick(keep), mask: pick(masks) };
            let mini = MiniMatch::new(&m);
            prop_assert_eq!(mini.to_match(), m);
            prop_assert!(mini.flow_is(&PackedFlow::of(&m.flow)));
            // Against a target the rule is within (half the time) or a random one.
            let mask = pick(masks.rotate_left(7));
            let want = if keep % 2 == 0 { m.flow.and(&mask) } else { pick(keep & masks).and(&mask) };
            let loose = mini.masked_flow_is(&PackedFlow::of(&mask), &PackedFlow::of(&want));
            prop_assert_eq!(loose, m.flow.and(&mask) == want);
        }
    }
}
