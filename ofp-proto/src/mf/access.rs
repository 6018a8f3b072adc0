//! What each field `Flow` models means for a `Flow` and a `Match` (OVS `mf_get_value`, `mf_set`,
//! `mf_are_prereqs_ok`, `mf_format`, …). Fields `Flow` does not model (conntrack, NSH, tunnel
//! metadata, …) read as zero, are never matched, and setting them changes nothing.

use super::{ones, MfId, MfString, Prereq};
use crate::flow::{self, text, EthAddr, Flow};
use crate::flow::{
    FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_MASK, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPV6_LABEL_MASK,
    IP_DSCP_MASK, IP_ECN_MASK, MPLS_BOS_MASK, MPLS_BOS_SHIFT, MPLS_LABEL_MASK, MPLS_LABEL_SHIFT, MPLS_TC_MASK,
    MPLS_TC_SHIFT, MPLS_TTL_MASK, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, VLAN_CFI, VLAN_PCP_MASK, VLAN_PCP_SHIFT,
    VLAN_VID_MASK,
};
use crate::ofmatch::Match;
use crate::port_no;

impl MfId {
    /// Whether `Flow` models this field (the fields NXM/OXM matches and set-field actions this
    /// codec decodes may name).
    #[inline]
    pub const fn in_flow(self) -> bool {
        IN_FLOW[self as usize]
    }
}

/// `MfId::in_flow` by id: one load on every match entry's decoding path, not a jump table.
static IN_FLOW: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < super::FIELDS.len() {
        t[i] = modelled(super::FIELDS[i].id);
        i += 1;
    }
    t
};

const fn modelled(id: MfId) -> bool {
    use MfId::*;
    matches!(
        id,
        DpHash
            | PacketType
            | TunId
            | Metadata
            | InPort
            | InPortOxm
            | PktMark
            | EthSrc
            | EthDst
            | EthType
            | VlanTci
            | VlanVid
            | VlanPcp
            | MplsLabel
            | MplsTc
            | MplsBos
            | MplsTtl
            | Ipv4Src
            | Ipv4Dst
            | Ipv6Src
            | Ipv6Dst
            | Ipv6Label
            | IpProto
            | IpDscp
            | IpDscpShifted
            | IpEcn
            | IpTtl
            | IpFrag
            | ArpOp
            | ArpSpa
            | ArpTpa
            | ArpSha
            | ArpTha
            | TcpSrc
            | TcpDst
            | TcpFlags
            | UdpSrc
            | UdpDst
            | SctpSrc
            | SctpDst
            | Icmpv4Type
            | Icmpv4Code
            | Icmpv6Type
            | Icmpv6Code
            | NdTarget
            | NdSll
            | NdTll
    ) || (id as u8 >= Reg0 as u8 && id as u8 <= Xreg7 as u8)
}

/// The field's value in `flow` (OVS `mf_get_value`); also reads masks when `flow` is a mask.
pub fn get(id: MfId, flow: &Flow) -> u128 {
    use MfId::*;
    match id {
        Reg0 | Reg1 | Reg2 | Reg3 | Reg4 | Reg5 | Reg6 | Reg7 | Reg8 | Reg9 | Reg10 | Reg11 | Reg12 | Reg13 | Reg14
        | Reg15 => flow.regs[id as usize - Reg0 as usize].into(),
        Xreg0 | Xreg1 | Xreg2 | Xreg3 | Xreg4 | Xreg5 | Xreg6 | Xreg7 => {
            let i = 2 * (id as usize - Xreg0 as usize);
            u128::from(flow.regs[i]) << 32 | u128::from(flow.regs[i + 1])
        }
        DpHash => flow.dp_hash.into(),
        PacketType => flow.packet_type.into(),
        TunId => flow.tun_id.into(),
        Metadata => flow.metadata.into(),
        InPort => port_no::to_ofp10_wire(flow.in_port).into(),
        InPortOxm => flow.in_port.into(),
        PktMark => flow.pkt_mark.into(),
        EthSrc => flow.dl_src.to_u64().into(),
        EthDst => flow.dl_dst.to_u64().into(),
        EthType => flow.dl_type.into(),
        VlanTci => flow.vlans[0].tci.into(),
        VlanVid => (flow.vlans[0].tci & (VLAN_VID_MASK | VLAN_CFI)).into(),
        VlanPcp => flow::vlan_tci_to_pcp(flow.vlans[0].tci).into(),
        MplsLabel => flow::mpls_lse_to_label(flow.mpls_lse[0]).into(),
        MplsTc => flow::mpls_lse_to_tc(flow.mpls_lse[0]).into(),
        MplsBos => flow::mpls_lse_to_bos(flow.mpls_lse[0]).into(),
        MplsTtl => flow::mpls_lse_to_ttl(flow.mpls_lse[0]).into(),
        Ipv4Src | ArpSpa => flow.nw_src.into(),
        Ipv4Dst | ArpTpa => flow.nw_dst.into(),
        Ipv6Src => flow.ipv6_src,
        Ipv6Dst => flow.ipv6_dst,
        Ipv6Label => flow.ipv6_label.into(),
        IpProto => flow.nw_proto.into(),
        IpDscp => (flow.nw_tos & IP_DSCP_MASK).into(),
        IpDscpShifted => (flow.nw_tos >> 2).into(),
        IpEcn => (flow.nw_tos & IP_ECN_MASK).into(),
        IpTtl => flow.nw_ttl.into(),
        IpFrag => flow.nw_frag.into(),
        ArpOp => flow.nw_proto.into(),
        ArpSha | NdSll => flow.arp_sha.to_u64().into(),
        ArpTha | NdTll => flow.arp_tha.to_u64().into(),
        TcpSrc | UdpSrc | SctpSrc => flow.tp_src.into(),
        TcpDst | UdpDst | SctpDst => flow.tp_dst.into(),
        TcpFlags => flow.tcp_flags.into(),
        Icmpv4Type | Icmpv6Type => (flow.tp_src as u8).into(),
        Icmpv4Code | Icmpv6Code => (flow.tp_dst as u8).into(),
        NdTarget => flow.nd_target,
        _ => 0,
    }
}

/// Writes `v` into the flow member(s) behind `id`, keeping bits the field does not cover (OVS
/// `mf_set_flow_value`). Used when actions modify a packet's flow.
pub fn set_flow_value(id: MfId, v: u128, flow: &mut Flow) {
    use MfId::*;
    match id {
        Reg0 | Reg1 | Reg2 | Reg3 | Reg4 | Reg5 | Reg6 | Reg7 | Reg8 | Reg9 | Reg10 | Reg11 | Reg12 | Reg13 | Reg14
        | Reg15 => flow.regs[id as usize - Reg0 as usize] = v as u32,
        Xreg0 | Xreg1 | Xreg2 | Xreg3 | Xreg4 | Xreg5 | Xreg6 | Xreg7 => {
            let i = 2 * (id as usize - Xreg0 as usize);
            flow.regs[i] = (v >> 32) as u32;
            flow.regs[i + 1] = v as u32;
        }
        DpHash => flow.dp_hash = v as u32,
        PacketType => flow.packet_type = v as u32,
        TunId => flow.tun_id = v as u64,
        Metadata => flow.metadata = v as u64,
        InPort => flow.in_port = port_no::ofp10_to_ofp11(v as u16),
        InPortOxm => flow.in_port = port_no::from_ofp11(v as u32).unwrap_or(port_no::ANY),
        PktMark => flow.pkt_mark = v as u32,
        EthSrc => flow.dl_src = EthAddr::from_u64(v as u64),
        EthDst => flow.dl_dst = EthAddr::from_u64(v as u64),
        EthType => flow.dl_type = v as u16,
        VlanTci => flow.vlans[0].tci = v as u16,
        VlanVid => {
            let m = VLAN_VID_MASK | VLAN_CFI;
            flow.vlans[0].tci = (flow.vlans[0].tci & !m) | (v as u16 & m);
        }
        VlanPcp => {
            flow.vlans[0].tci = (flow.vlans[0].tci & !VLAN_PCP_MASK) | ((v as u16 & 7) << VLAN_PCP_SHIFT) | VLAN_CFI
        }
        MplsLabel => set_lse(flow, MPLS_LABEL_MASK, (v as u32) << MPLS_LABEL_SHIFT),
        MplsTc => set_lse(flow, MPLS_TC_MASK, (v as u32) << MPLS_TC_SHIFT),
        MplsBos => set_lse(flow, MPLS_BOS_MASK, (v as u32) << MPLS_BOS_SHIFT),
        MplsTtl => set_lse(flow, MPLS_TTL_MASK, v as u32),
        Ipv4Src | ArpSpa => flow.nw_src = v as u32,
        Ipv4Dst | ArpTpa => flow.nw_dst = v as u32,
        Ipv6Src => flow.ipv6_src = v,
        Ipv6Dst => flow.ipv6_dst = v,
        Ipv6Label => flow.ipv6_label = v as u32,
        IpProto => flow.nw_proto = v as u8,
        IpDscp => flow.nw_tos = (flow.nw_tos & !IP_DSCP_MASK) | (v as u8 & IP_DSCP_MASK),
        IpDscpShifted => flow.nw_tos = (flow.nw_tos & !IP_DSCP_MASK) | ((v as u8) << 2),
        IpEcn => flow.nw_tos = (flow.nw_tos & !IP_ECN_MASK) | (v as u8 & IP_ECN_MASK),
        IpTtl => flow.nw_ttl = v as u8,
        IpFrag => flow.nw_frag = v as u8,
        ArpOp => flow.nw_proto = v as u8,
        ArpSha | NdSll => flow.arp_sha = EthAddr::from_u64(v as u64),
        ArpTha | NdTll => flow.arp_tha = EthAddr::from_u64(v as u64),
        TcpSrc | UdpSrc | SctpSrc => flow.tp_src = v as u16,
        TcpDst | UdpDst | SctpDst => flow.tp_dst = v as u16,
        TcpFlags => flow.tcp_flags = v as u16,
        Icmpv4Type | Icmpv6Type => flow.tp_src = v as u8 as u16,
        Icmpv4Code | Icmpv6Code => flow.tp_dst = v as u8 as u16,
        NdTarget => flow.nd_target = v,
        _ => {}
    }
}

fn set_lse(flow: &mut Flow, mask: u32, bits: u32) {
    flow.mpls_lse[0] = (flow.mpls_lse[0] & !mask) | (bits & mask);
}

/// OVS `mf_is_all_wild`: the match leaves every bit of the field wildcarded.
pub fn is_all_wild(id: MfId, m: &Match) -> bool {
    use MfId::*;
    let w = &m.mask;
    match id {
        VlanVid => w.vlans[0].tci & (VLAN_VID_MASK | VLAN_CFI) == 0,
        VlanPcp => w.vlans[0].tci & VLAN_PCP_MASK == 0,
        MplsLabel => w.mpls_lse[0] & MPLS_LABEL_MASK == 0,
        MplsTc => w.mpls_lse[0] & MPLS_TC_MASK == 0,
        MplsBos => w.mpls_lse[0] & MPLS_BOS_MASK == 0,
        MplsTtl => w.mpls_lse[0] & MPLS_TTL_MASK == 0,
        IpDscp | IpDscpShifted => w.nw_tos & IP_DSCP_MASK == 0,
        IpEcn => w.nw_tos & IP_ECN_MASK == 0,
        IpFrag => w.nw_frag & FLOW_NW_FRAG_MASK == 0,
        InPort | InPortOxm => w.in_port == 0,
        Icmpv4Type | Icmpv6Type => w.tp_src == 0,
        Icmpv4Code | Icmpv6Code => w.tp_dst == 0,
        _ => get(id, w) == 0,
    }
}

/// What OVS's `mf_is_value_valid` asks of a field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueRule {
    /// Every value is valid.
    Any,
    /// None of these bits may be set.
    Clear(u128),
    /// A port number OpenFlow 1.1+ can carry.
    Ofp11Port,
}

/// The rule `is_value_valid` applies to `id` (const: tables built at compile time use it).
pub(crate) const fn value_rule(id: MfId) -> ValueRule {
    use MfId::*;
    use ValueRule::Clear;
    match id {
        InPortOxm => ValueRule::Ofp11Port,
        IpDscp => Clear(!IP_DSCP_MASK as u128),
        IpDscpShifted => Clear(!(IP_DSCP_MASK >> 2) as u128),
        IpEcn => Clear(!IP_ECN_MASK as u128),
        IpFrag => Clear(!FLOW_NW_FRAG_MASK as u128),
        TcpFlags => Clear(!0x0fff),
        ArpOp => Clear(0xff00),
        VlanVid => Clear(VLAN_PCP_MASK as u128),
        VlanPcp => Clear(!7),
        Ipv6Label => Clear(!IPV6_LABEL_MASK as u128),
        MplsLabel => Clear(!(MPLS_LABEL_MASK >> MPLS_LABEL_SHIFT) as u128),
        MplsTc => Clear(!7),
        MplsBos => Clear(!1),
        _ => ValueRule::Any,
    }
}

/// OVS `mf_is_value_valid`: the value may appear (as part of a masked match) for the field.
#[inline]
pub fn is_value_valid(id: MfId, v: u128) -> bool {
    match value_rule(id) {
        ValueRule::Any => true,
        ValueRule::Clear(bits) => v & bits == 0,
        ValueRule::Ofp11Port => port_no::from_ofp11(v as u32).is_ok(),
    }
}

/// OVS `mf_is_mask_valid`: non-maskable fields take only all-zeros or all-ones masks.
#[inline]
pub fn is_mask_valid(id: MfId, mask: u128) -> bool {
    let f = id.field();
    f.maskable || mask == 0 || mask == ones(f.n_bytes)
}

/// OVS `mf_are_prereqs_ok` on a flow (a match's values, masks not consulted).
pub fn prereqs_ok(id: MfId, flow: &Flow) -> bool {
    let later = flow.nw_frag & FLOW_NW_FRAG_LATER != 0;
    match id.field().prereqs {
        Prereq::None => true,
        Prereq::Ethernet => flow.is_ethernet(),
        Prereq::Arp => flow.is_arp(),
        Prereq::Ipv4 => flow.dl_type() == flow::ETH_TYPE_IP,
        Prereq::Ipv6 => flow.dl_type() == flow::ETH_TYPE_IPV6,
        Prereq::VlanVid => flow.is_vlan(),
        Prereq::Mpls => flow.is_mpls(),
        Prereq::IpAny => flow.is_ip_any(),
        Prereq::Tcp => flow.is_ip_proto(IPPROTO_TCP) && !later,
        Prereq::Udp => flow.is_ip_proto(IPPROTO_UDP) && !later,
        Prereq::Sctp => flow.is_ip_proto(IPPROTO_SCTP) && !later,
        Prereq::Icmpv4 => flow.is_icmpv4(),
        Prereq::Icmpv6 => flow.is_icmpv6(),
        Prereq::Nd => flow.is_nd(),
        Prereq::NdSolicit => flow.is_nd() && flow.tp_src == ND_NEIGHBOR_SOLICIT,
        Prereq::NdAdvert => flow.is_nd() && flow.tp_src == ND_NEIGHBOR_ADVERT,
        // No field `Flow` models needs these.
        Prereq::Nsh | Prereq::CtValid => false,
    }
}

/// The fields that view the same flow bits as `id` (e.g. tcp_src, udp_src and icmp_type all
/// live in `tp_src`); matching those bits is justified if any of them has its prerequisites.
pub fn aliases(id: MfId) -> &'static [MfId] {
    use MfId::*;
    const TP_SRC: &[MfId] = &[TcpSrc, UdpSrc, SctpSrc, Icmpv4Type, Icmpv6Type];
    const TP_DST: &[MfId] = &[TcpDst, UdpDst, SctpDst, Icmpv4Code, Icmpv6Code];
    const NW_SRC: &[MfId] = &[Ipv4Src, ArpSpa];
    const NW_DST: &[MfId] = &[Ipv4Dst, ArpTpa];
    const SHA: &[MfId] = &[ArpSha, NdSll];
    const THA: &[MfId] = &[ArpTha, NdTll];
    const PROTO: &[MfId] = &[IpProto, ArpOp];
    const VLAN: &[MfId] = &[VlanTci, VlanVid, VlanPcp];
    match id {
        TcpSrc | UdpSrc | SctpSrc | Icmpv4Type | Icmpv6Type => TP_SRC,
        TcpDst | UdpDst | SctpDst | Icmpv4Code | Icmpv6Code => TP_DST,
        Ipv4Src | ArpSpa => NW_SRC,
        Ipv4Dst | ArpTpa => NW_DST,
        ArpSha | NdSll => SHA,
        ArpTha | NdTll => THA,
        IpProto | ArpOp => PROTO,
        VlanTci | VlanVid | VlanPcp => VLAN,
        _ => std::slice::from_ref(&id.field().id),
    }
}

/// OVS `mf_set_value`: make the match exactly match `v` in this field.
pub fn set_value(id: MfId, v: u128, m: &mut Match) {
    use MfId::*;
    match id {
        VlanVid => m.set_vlan_vid_masked(v as u16, VLAN_VID_MASK | VLAN_CFI),
        VlanPcp => m.set_vlan_pcp(v as u8),
        MplsLabel | MplsTc | MplsBos | MplsTtl => {
            let (mask, shift) = match id {
                MplsLabel => (MPLS_LABEL_MASK, MPLS_LABEL_SHIFT),
                MplsTc => (MPLS_TC_MASK, MPLS_TC_SHIFT),
                MplsBos => (MPLS_BOS_MASK, MPLS_BOS_SHIFT),
                _ => (MPLS_TTL_MASK, 0),
            };
            m.mask.mpls_lse[0] |= mask;
            set_lse(&mut m.flow, mask, (v as u32) << shift);
        }
        IpDscp | IpDscpShifted => {
            let dscp = if id == IpDscp { v as u8 } else { (v as u8) << 2 };
            m.mask.nw_tos |= IP_DSCP_MASK;
            m.flow.nw_tos = (m.flow.nw_tos & !IP_DSCP_MASK) | (dscp & IP_DSCP_MASK);
        }
        IpEcn => {
            m.mask.nw_tos |= IP_ECN_MASK;
            m.flow.nw_tos = (m.flow.nw_tos & !IP_ECN_MASK) | (v as u8 & IP_ECN_MASK);
        }
        IpFrag => {
            m.mask.nw_frag |= FLOW_NW_FRAG_MASK;
            m.flow.nw_frag = v as u8;
        }
        InPort | InPortOxm => {
            set_flow_value(id, v, &mut m.flow);
            m.mask.in_port = u32::MAX;
        }
        Icmpv4Type | Icmpv6Type => {
            m.flow.tp_src = v as u8 as u16;
            m.mask.tp_src = u16::MAX;
        }
        Icmpv4Code | Icmpv6Code => {
            m.flow.tp_dst = v as u8 as u16;
            m.mask.tp_dst = u16::MAX;
        }
        ArpOp => {
            m.flow.nw_proto = v as u8;
            m.mask.nw_proto = u8::MAX;
        }
        _ => set_masked(id, v, ones(id.field().n_bytes), m),
    }
}

/// Sets flow bits and mask of a field whose member is covered entirely by the field.
fn set_masked(id: MfId, v: u128, mask: u128, m: &mut Match) {
    set_flow_value(id, v & mask, &mut m.flow);
    set_flow_value(id, mask, &mut m.mask);
}

/// OVS `mf_set_wild`: stop matching on the field.
pub fn set_wild(id: MfId, m: &mut Match) {
    use MfId::*;
    match id {
        VlanVid => m.set_any_vid(),
        VlanPcp => m.set_any_pcp(),
        MplsLabel | MplsTc | MplsBos | MplsTtl => {
            let mask = match id {
                MplsLabel => MPLS_LABEL_MASK,
                MplsTc => MPLS_TC_MASK,
                MplsBos => MPLS_BOS_MASK,
                _ => MPLS_TTL_MASK,
            };
            m.mask.mpls_lse[0] &= !mask;
            m.flow.mpls_lse[0] &= !mask;
        }
        IpDscp | IpDscpShifted | IpEcn => {
            let bits = if id == IpEcn { IP_ECN_MASK } else { IP_DSCP_MASK };
            m.mask.nw_tos &= !bits;
            m.flow.nw_tos &= !bits;
        }
        IpFrag => {
            m.mask.nw_frag &= !FLOW_NW_FRAG_MASK;
            m.flow.nw_frag &= !FLOW_NW_FRAG_MASK;
        }
        InPort | InPortOxm => {
            m.flow.in_port = 0;
            m.mask.in_port = 0;
        }
        Icmpv4Type | Icmpv6Type => {
            m.flow.tp_src = 0;
            m.mask.tp_src = 0;
        }
        Icmpv4Code | Icmpv6Code => {
            m.flow.tp_dst = 0;
            m.mask.tp_dst = 0;
        }
        ArpOp => {
            m.flow.nw_proto = 0;
            m.mask.nw_proto = 0;
        }
        _ => set_masked(id, 0, 0, m),
    }
}

/// OVS `mf_set`: match the field against `v` under `mask`. An all-ones mask is an exact match,
/// all-zeros stops matching. Returns false (changing nothing) for a partial mask on a field that
/// cannot take one.
pub fn set(id: MfId, v: u128, mask: u128, m: &mut Match) -> bool {
    let f = id.field();
    let all = ones(f.n_bytes);
    if mask & all == all {
        set_value(id, v, m);
        return true;
    }
    if mask & all == 0 {
        set_wild(id, m);
        return true;
    }
    if !f.maskable {
        return false;
    }
    match id {
        MfId::VlanTci => {
            m.flow.vlans[0].tci = v as u16 & mask as u16;
            m.mask.vlans[0].tci = mask as u16;
        }
        MfId::VlanVid => m.set_vlan_vid_masked(v as u16, mask as u16),
        MfId::Ipv6Label if mask as u32 & IPV6_LABEL_MASK == IPV6_LABEL_MASK => set_value(id, v, m),
        MfId::IpFrag => {
            m.flow.nw_frag = v as u8 & mask as u8;
            m.mask.nw_frag = mask as u8;
        }
        _ => set_masked(id, v, mask, m),
    }
    true
}

/// The match's value and mask for the field (OVS `mf_get`).
pub fn get_masked(id: MfId, m: &Match) -> (u128, u128) {
    (get(id, &m.flow), get(id, &m.mask))
}

/// OVS `mf_format`: the value (and mask unless exact) in the field's notation; "ANY" for an
/// all-zero mask.
pub fn format(id: MfId, v: u128, mask: Option<u128>, out: &mut String) {
    let f = id.field();
    let all = ones(f.n_bytes);
    let mask = match mask {
        Some(0) => {
            out.push_str("ANY");
            return;
        }
        Some(m) if m == all => None,
        m => m,
    };
    let be = |x: u128| x.to_be_bytes()[16 - f.n_bytes..].to_vec();
    match (f.string, mask) {
        (MfString::OfpPortOxm, None) => {
            port_no::format_port(port_no::from_ofp11(v as u32).unwrap_or(port_no::ANY), out)
        }
        (MfString::OfpPort, None) => port_no::format_port(port_no::ofp10_to_ofp11(v as u16), out),
        (MfString::Decimal | MfString::OfpPort | MfString::OfpPortOxm, _) => {
            out.push_str(&v.to_string());
            if let Some(m) = mask {
                out.push('/');
                text::hex_bytes(&be(m), out);
            }
        }
        // Conntrack state and tunnel flags are not fields `Flow` models; hex is exact.
        (MfString::Hex | MfString::CtState | MfString::TunnelFlags, _) => {
            text::hex_bytes(&be(v), out);
            if let Some(m) = mask {
                out.push('/');
                text::hex_bytes(&be(m), out);
            }
        }
        (MfString::Ethernet, _) => {
            let m = mask.map_or(EthAddr::ONES, |m| EthAddr::from_u64(m as u64));
            text::eth_masked(EthAddr::from_u64(v as u64), m, out)
        }
        (MfString::Ipv4, _) => text::ipv4_masked(v as u32, mask.map_or(u32::MAX, |m| m as u32), out),
        (MfString::Ipv6, _) => text::ipv6_masked(v, mask.unwrap_or(u128::MAX), out),
        (MfString::Frag, _) => out.push_str(frag_name(v as u8, mask.map_or(u8::MAX, |m| m as u8))),
        (MfString::TcpFlags, _) => {
            let m = mask.map_or(0x0fff, |m| m as u32 & 0x0fff);
            text::flags_masked(text::tcp_flag_name, v as u32, m, 0x0fff, out)
        }
        (MfString::PacketType, _) => format_packet_type(v as u32, mask.map_or(u32::MAX, |m| m as u32), out),
    }
}

/// OVS's spelling of an ip_frag value/mask pair.
pub fn frag_name(value: u8, mask: u8) -> &'static str {
    const A: u8 = FLOW_NW_FRAG_ANY;
    const L: u8 = FLOW_NW_FRAG_LATER;
    let mask = mask & FLOW_NW_FRAG_MASK;
    match (mask, value & mask) {
        (m, 0) if m == A | L => "no",
        (m, A) if m == A | L => "first",
        (m, v) if m == A | L && v == A | L => "later",
        (A, 0) => "no",
        (A, A) => "yes",
        (L, 0) => "not_later",
        (L, L) => "later",
        _ => "<error>",
    }
}

/// OVS `format_packet_type_masked`.
pub fn format_packet_type(value: u32, mask: u32, out: &mut String) {
    if value == flow::PT_ETH && mask == u32::MAX {
        out.push_str("eth");
        return;
    }
    let part = |v: u16, m: u16, out: &mut String| {
        if m == 0 {
            out.push('*');
            return;
        }
        if v > 9 {
            out.push_str(&format!("{v:#x}"));
        } else {
            out.push_str(&v.to_string());
        }
        if m != u16::MAX {
            out.push_str(&format!("/{m:#x}"));
        }
    };
    out.push_str("packet_type=(");
    part(flow::pt_ns(value), flow::pt_ns(mask), out);
    out.push(',');
    part(flow::pt_ns_type(value), flow::pt_ns_type(mask), out);
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OVS `mf_is_value_valid` on the fields that restrict their values, at the edges.
    #[test]
    fn value_rules_are_ovs_rules() {
        use MfId::*;
        let cases: [(MfId, u128, bool); 16] = [
            (InPortOxm, 0xfeff, true),
            (InPortOxm, 0xff00, false),
            (InPortOxm, 0xffff_fff8, true),
            (IpDscp, 0xfc, true),
            (IpDscp, 0x01, false),
            (IpDscpShifted, 0x3f, true),
            (IpDscpShifted, 0x40, false),
            (IpEcn, 0x04, false),
            (VlanVid, 0x1fff, true),
            (VlanVid, 0x2000, false),
            (VlanPcp, 8, false),
            (Ipv6Label, 0x000f_ffff, true),
            (Ipv6Label, 0x0010_0000, false),
            (MplsLabel, 0x0010_0000, false),
            (ArpOp, 0x0100, false),
            (EthType, u128::from(u16::MAX), true),
        ];
        for (id, v, valid) in cases {
            assert_eq!(is_value_valid(id, v), valid, "{id:?} {v:#x}");
        }
    }

    #[test]
    fn every_flow_field_has_a_code_point_and_fits_a_u128() {
        let flow_fields: Vec<MfId> = MfId::all().filter(|id| id.in_flow()).collect();
        assert_eq!(flow_fields.len(), 71);
        for id in flow_fields {
            assert!(id.preferred(0).is_some() && id.field().n_bytes <= 16, "{id:?}");
        }
        assert!(!MfId::CtState.in_flow() && !MfId::Xxreg0.in_flow());
        // Fields `Flow` does not model read as zero and are always wildcarded.
        let all = Match { flow: Flow::all_ones(), mask: Flow::all_ones() };
        assert_eq!(get(MfId::CtMark, &all.flow), 0);
        assert!(is_all_wild(MfId::CtMark, &all));
    }

    #[test]
    fn value_validity() {
        assert!(!is_value_valid(MfId::IpDscp, 0x01));
        assert!(is_value_valid(MfId::IpDscpShifted, 0x3f));
        assert!(!is_value_valid(MfId::VlanPcp, 8));
        assert!(!is_value_valid(MfId::InPortOxm, 0x1_0000));
        assert!(is_value_valid(MfId::InPortOxm, 0xffff_fffd));
        assert!(!is_mask_valid(MfId::IpProto, 0x0f));
        assert!(is_mask_valid(MfId::IpProto, 0));
    }

    #[test]
    fn formatting() {
        let mut s = String::new();
        format(MfId::Ipv4Dst, 0xc0a8_4a7a, None, &mut s);
        s.push(' ');
        format(MfId::Reg0, 5, Some(0xff), &mut s);
        s.push(' ');
        format(MfId::InPortOxm, 0xffff_fffe, None, &mut s);
        s.push(' ');
        format(MfId::TcpFlags, 0x12, Some(0x12), &mut s);
        s.push(' ');
        format(MfId::EthSrc, 0x0102_0304_0506, Some(0), &mut s);
        s.push(' ');
        format(MfId::SctpSrc, 3334, None, &mut s);
        assert_eq!(s, "192.168.74.122 0x5/0xff LOCAL +syn+ack ANY 3334");
        assert_eq!(frag_name(1, 3), "first");
        assert_eq!(frag_name(0, 2), "not_later");
    }
}
