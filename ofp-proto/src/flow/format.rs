//! OVS's one-line text for a packet (`ofp_packet_to_string`): the flow of its headers as a match
//! with the fields that make sense for the packet, then the L4 checksum.

use std::fmt::Write;

use super::extract::extract;
use super::*;
use crate::ofmatch::{Match, OFP_DEFAULT_PRIORITY};

impl Match {
    /// The match OVS formats for a packet's flow (`match_wc_init` plus `flow_format`'s rule of
    /// omitting all-zero metadata): every header field the packet type makes meaningful.
    pub fn for_packet(flow: &Flow) -> Match {
        let mut w = Flow::default();
        if flow.tun_id != 0 {
            w.tun_id = u64::MAX;
        }
        if flow.pkt_mark != 0 {
            w.pkt_mark = u32::MAX;
        }
        if flow.dp_hash != 0 {
            w.dp_hash = u32::MAX;
        }
        if flow.in_port != 0 {
            w.in_port = u32::MAX;
        }
        for (m, r) in w.regs.iter_mut().zip(flow.regs) {
            if r != 0 {
                *m = u32::MAX;
            }
        }
        if flow.metadata != 0 {
            w.metadata = u64::MAX;
        }
        w.packet_type = u32::MAX;
        let dl_type = if flow.packet_type == PT_ETH {
            w.dl_dst = EthAddr::ONES;
            w.dl_src = EthAddr::ONES;
            w.dl_type = u16::MAX;
            for (m, v) in w.vlans.iter_mut().zip(flow.vlans) {
                // The first untagged slot is shown too (as vlan_tci=0x0000).
                *m = VlanHeader { tpid: u16::MAX, tci: u16::MAX };
                if v.tci == 0 {
                    break;
                }
            }
            flow.dl_type
        } else {
            pt_ns_type(flow.packet_type)
        };
        let l3 = match dl_type {
            ETH_TYPE_IP => {
                w.nw_src = u32::MAX;
                w.nw_dst = u32::MAX;
                true
            }
            ETH_TYPE_IPV6 => {
                w.ipv6_src = u128::MAX;
                w.ipv6_dst = u128::MAX;
                w.ipv6_label = u32::MAX;
                if flow.is_nd() {
                    w.arp_sha = EthAddr::ONES;
                    w.arp_tha = EthAddr::ONES;
                    w.nd_target = u128::MAX;
                }
                true
            }
            ETH_TYPE_ARP | ETH_TYPE_RARP => {
                w.nw_src = u32::MAX;
                w.nw_dst = u32::MAX;
                w.nw_proto = u8::MAX;
                w.arp_sha = EthAddr::ONES;
                w.arp_tha = EthAddr::ONES;
                false
            }
            t if eth_type_mpls(t) => {
                for (m, v) in w.mpls_lse.iter_mut().zip(flow.mpls_lse) {
                    *m = u32::MAX;
                    if v & MPLS_BOS_MASK != 0 {
                        break;
                    }
                }
                false
            }
            _ => false,
        };
        if l3 {
            w.nw_frag = FLOW_NW_FRAG_MASK;
            w.nw_tos = u8::MAX;
            w.nw_ttl = u8::MAX;
            w.nw_proto = u8::MAX;
            let l4 = matches!(
                flow.nw_proto,
                IPPROTO_ICMP | IPPROTO_ICMPV6 | IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_IGMP
            );
            if flow.nw_frag & FLOW_NW_FRAG_LATER == 0 && l4 {
                w.tp_src = u16::MAX;
                w.tp_dst = u16::MAX;
                if flow.nw_proto == IPPROTO_TCP {
                    w.tcp_flags = u16::MAX;
                }
            }
        }
        Match { flow: *flow, mask: w }
    }
}

/// The text OVS prints for a packet in packet-in and packet-out messages, e.g.
/// "udp,vlan_tci=0x0000,dl_src=...,tp_dst=5678 udp_csum:ec57" (no trailing newline).
pub fn packet_to_string(packet: &[u8], packet_type: u32) -> String {
    let (flow, l4) = extract(packet, packet_type, 0);
    let mut s = Match::for_packet(&flow).to_text(OFP_DEFAULT_PRIORITY);
    let Some(l4) = l4 else { return s };
    let h = &packet[l4.ofs..l4.ofs + l4.len];
    let be16 = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    match flow.nw_proto {
        IPPROTO_TCP if h.len() >= 20 => {
            let _ = write!(s, " tcp_csum:{:x}", be16(16));
        }
        IPPROTO_UDP if h.len() >= 8 => {
            let _ = write!(s, " udp_csum:{:x}", be16(6));
        }
        IPPROTO_SCTP if h.len() >= 12 => {
            let _ = write!(s, " sctp_csum:{:x}", u32::from_be_bytes([h[8], h[9], h[10], h[11]]));
        }
        IPPROTO_ICMP if h.len() >= 8 => {
            let _ = write!(s, " icmp_csum:{:x}", be16(2));
        }
        IPPROTO_ICMPV6 if h.len() >= 4 => {
            let _ = write!(s, " icmp6_csum:{:x}", be16(2));
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::parse_hex;

    #[test]
    fn packet_text_matches_ovs() {
        let p = parse_hex("505400000006505400000005080045000028bd12000040063c6ac0a80001c0a80002272f00007850cc5b57af421e5002020026e80000000000000000").unwrap();
        assert_eq!(
            packet_to_string(&p, PT_ETH),
            "tcp,vlan_tci=0x0000,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:06,nw_src=192.168.0.1,\
             nw_dst=192.168.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=10031,tp_dst=0,tcp_flags=syn tcp_csum:26e8"
        );
        let p =
            parse_hex("ffffffffffff00232083c15f8035000108000604000300232083c15f0000000000232083c15f00000000").unwrap();
        assert_eq!(
            packet_to_string(&p, PT_ETH),
            "rarp,vlan_tci=0x0000,dl_src=00:23:20:83:c1:5f,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=0.0.0.0,\
             arp_tpa=0.0.0.0,arp_op=3,arp_sha=00:23:20:83:c1:5f,arp_tha=00:23:20:83:c1:5f"
        );
    }

    #[test]
    fn vlan_tagged_packet_shows_the_inner_slot() {
        let p = parse_hex("828282828282808181818181810000500800450000280000000000063205535353535454545400550056000000000000000050010000316d0000000000000000").unwrap();
        assert_eq!(
            packet_to_string(&p, PT_ETH),
            "tcp,dl_vlan=80,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=80:81:81:81:81:81,dl_dst=82:82:82:82:82:82,\
             nw_src=83.83.83.83,nw_dst=84.84.84.84,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=85,tp_dst=86,\
             tcp_flags=fin tcp_csum:316d"
        );
    }
}
