//! Committing header changes (OVS `commit_odp_actions`): translation changes a copy of the packet's
//! flow; before anything sees the packet (an output, a packet-in), the headers that differ from
//! what the frame holds become datapath set, push and pop actions.

use ofp_proto::flow::{
    Flow, VlanHeader, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, ETH_TYPE_VLAN_8021Q, FLOW_NW_FRAG_ANY,
    FLOW_NW_FRAG_LATER, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, VLAN_CFI,
};
use upcall_core::odp::{OVS_FRAG_TYPE_FIRST, OVS_FRAG_TYPE_LATER, OVS_FRAG_TYPE_NONE};

use super::odp::DpAction;

/// The VLAN tags present, outermost first.
fn tags(f: &Flow) -> Vec<VlanHeader> {
    f.vlans.iter().take_while(|v| v.tci & VLAN_CFI != 0).copied().collect()
}

fn frag_type(nw_frag: u8) -> u8 {
    if nw_frag & FLOW_NW_FRAG_ANY == 0 {
        OVS_FRAG_TYPE_NONE
    } else if nw_frag & FLOW_NW_FRAG_LATER != 0 {
        OVS_FRAG_TYPE_LATER
    } else {
        OVS_FRAG_TYPE_FIRST
    }
}

/// Appends to `out` the actions that turn a frame whose headers are `base` into one whose headers
/// are `flow`, then records `flow` as the frame's headers.
pub(crate) fn commit(base: &mut Flow, flow: &Flow, out: &mut impl FnMut(DpAction)) {
    if (base.dl_src, base.dl_dst) != (flow.dl_src, flow.dl_dst) {
        out(DpAction::SetEth { src: flow.dl_src, dst: flow.dl_dst });
    }
    commit_vlans(base, flow, out);
    match flow.dl_type {
        ETH_TYPE_IP
            if (base.nw_src, base.nw_dst, base.nw_tos, base.nw_ttl)
                != (flow.nw_src, flow.nw_dst, flow.nw_tos, flow.nw_ttl) =>
        {
            out(DpAction::SetIpv4 {
                src: flow.nw_src,
                dst: flow.nw_dst,
                proto: flow.nw_proto,
                tos: flow.nw_tos,
                ttl: flow.nw_ttl,
                frag: frag_type(flow.nw_frag),
            })
        }
        ETH_TYPE_IPV6
            if (base.ipv6_src, base.ipv6_dst, base.ipv6_label, base.nw_tos, base.nw_ttl)
                != (flow.ipv6_src, flow.ipv6_dst, flow.ipv6_label, flow.nw_tos, flow.nw_ttl) =>
        {
            out(DpAction::SetIpv6 {
                src: flow.ipv6_src,
                dst: flow.ipv6_dst,
                label: flow.ipv6_label,
                proto: flow.nw_proto,
                tclass: flow.nw_tos,
                hlimit: flow.nw_ttl,
                frag: frag_type(flow.nw_frag),
            })
        }
        ETH_TYPE_ARP | ETH_TYPE_RARP
            if (base.nw_src, base.nw_dst, base.nw_proto, base.arp_sha, base.arp_tha)
                != (flow.nw_src, flow.nw_dst, flow.nw_proto, flow.arp_sha, flow.arp_tha) =>
        {
            out(DpAction::SetArp {
                sip: flow.nw_src,
                tip: flow.nw_dst,
                op: u16::from(flow.nw_proto),
                sha: flow.arp_sha,
                tha: flow.arp_tha,
            })
        }
        _ => {}
    }
    let has_l4 = flow.is_ip_any() && flow.nw_frag & FLOW_NW_FRAG_LATER == 0;
    if has_l4 && (base.tp_src, base.tp_dst) != (flow.tp_src, flow.tp_dst) {
        match flow.nw_proto {
            IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP => {
                out(DpAction::SetPorts { proto: flow.nw_proto, src: flow.tp_src, dst: flow.tp_dst })
            }
            IPPROTO_ICMP | IPPROTO_ICMPV6 if flow.is_icmpv4() || flow.is_icmpv6() => {
                out(DpAction::SetIcmp { proto: flow.nw_proto, icmp_type: flow.tp_src as u8, code: flow.tp_dst as u8 })
            }
            _ => {}
        }
    }
    *base = *flow;
}

/// Pops the frame's outer tags until what is left is the inside of the wanted stack, then pushes
/// the wanted outer tags, innermost first.
fn commit_vlans(base: &Flow, flow: &Flow, out: &mut impl FnMut(DpAction)) {
    let (mut have, want) = (tags(base), tags(flow));
    while !(have.len() <= want.len() && want[want.len() - have.len()..] == have[..]) {
        out(DpAction::PopVlan);
        have.remove(0);
    }
    for v in want[..want.len() - have.len()].iter().rev() {
        let tpid = if v.tpid == 0 { ETH_TYPE_VLAN_8021Q } else { v.tpid };
        out(DpAction::PushVlan { tpid, tci: v.tci });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ofp_proto::flow::EthAddr;

    fn run(base: &Flow, flow: &Flow) -> Vec<DpAction> {
        let mut b = *base;
        let mut v = Vec::new();
        commit(&mut b, flow, &mut |a| v.push(a));
        assert_eq!(b, *flow);
        v
    }

    fn tagged(vids: &[u16]) -> Flow {
        let mut f = Flow { dl_type: ETH_TYPE_IP, ..Flow::default() };
        for (i, vid) in vids.iter().enumerate() {
            f.vlans[i] = VlanHeader { tpid: 0x8100, tci: VLAN_CFI | vid };
        }
        f
    }

    #[test]
    fn nothing_changed_nothing_emitted() {
        let f = tagged(&[5]);
        assert!(run(&f, &f).is_empty());
    }

    #[test]
    fn headers_are_set_whole() {
        let base =
            Flow { dl_type: ETH_TYPE_IP, nw_proto: IPPROTO_TCP, nw_ttl: 64, tp_src: 1, tp_dst: 2, ..Flow::default() };
        let mut f = base;
        f.dl_src = EthAddr([2; 6]);
        f.nw_ttl = 63;
        f.tp_dst = 80;
        assert_eq!(
            run(&base, &f),
            [
                DpAction::SetEth { src: EthAddr([2; 6]), dst: EthAddr::ZERO },
                DpAction::SetIpv4 { src: 0, dst: 0, proto: IPPROTO_TCP, tos: 0, ttl: 63, frag: 0 },
                DpAction::SetPorts { proto: IPPROTO_TCP, src: 1, dst: 80 },
            ]
        );
    }

    #[test]
    fn vlan_stacks_are_rebuilt_from_the_outside() {
        let push = |vid| DpAction::PushVlan { tpid: 0x8100, tci: VLAN_CFI | vid };
        assert_eq!(run(&tagged(&[]), &tagged(&[7])), [push(7)]);
        assert_eq!(run(&tagged(&[7]), &tagged(&[])), [DpAction::PopVlan]);
        assert_eq!(run(&tagged(&[7]), &tagged(&[8, 7])), [push(8)]);
        assert_eq!(run(&tagged(&[7]), &tagged(&[8])), [DpAction::PopVlan, push(8)]);
        assert_eq!(run(&tagged(&[8, 7]), &tagged(&[7])), [DpAction::PopVlan]);
        assert_eq!(run(&tagged(&[8, 7]), &tagged(&[9, 6])), [DpAction::PopVlan, DpAction::PopVlan, push(6), push(9)]);
    }
}
