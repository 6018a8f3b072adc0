//! The field table (OVS `meta-flow`): every matchable/settable field this codec models, with its
//! names, width, maskability, prerequisites, writability and NXM/OXM code points, and the
//! per-field get/set semantics on `Flow` and `Match`.
//!
//! Field values travel as `u128` holding the field's `n_bytes` big-endian bytes as an integer
//! (an Ethernet address is a 48-bit number, an IPv6 address a 128-bit one).

use crate::flow::{self, text, EthAddr, Flow};
use crate::flow::{
    FLOW_NW_FRAG_ANY, FLOW_NW_FRAG_LATER, FLOW_NW_FRAG_MASK, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPV6_LABEL_MASK,
    IP_DSCP_MASK, IP_ECN_MASK, MPLS_BOS_MASK, MPLS_BOS_SHIFT, MPLS_LABEL_MASK, MPLS_LABEL_SHIFT, MPLS_TC_MASK,
    MPLS_TC_SHIFT, MPLS_TTL_MASK, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, VLAN_CFI, VLAN_PCP_MASK, VLAN_PCP_SHIFT,
    VLAN_VID_MASK,
};
use crate::ofmatch::Match;
use crate::port_no;

/// A field this codec knows (OVS `enum mf_field_id`, the modelled subset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MfId {
    DpHash,
    PacketType,
    TunId,
    Metadata,
    /// 16-bit (OF1.0/NXM) view of the input port.
    InPort,
    /// 32-bit (OF1.1+/OXM) view of the input port.
    InPortOxm,
    PktMark,
    Reg0,
    Reg1,
    Reg2,
    Reg3,
    Reg4,
    Reg5,
    Reg6,
    Reg7,
    Reg8,
    Reg9,
    Reg10,
    Reg11,
    Reg12,
    Reg13,
    Reg14,
    Reg15,
    /// OF1.5 64-bit register N: reg(2N) in the high half, reg(2N+1) in the low half.
    Xreg0,
    Xreg1,
    Xreg2,
    Xreg3,
    Xreg4,
    Xreg5,
    Xreg6,
    Xreg7,
    EthSrc,
    EthDst,
    EthType,
    /// NXM's 802.1Q TCI with CFI meaning "tag present".
    VlanTci,
    /// OXM's VID with OFPVID_PRESENT.
    VlanVid,
    VlanPcp,
    MplsLabel,
    MplsTc,
    MplsBos,
    MplsTtl,
    Ipv4Src,
    Ipv4Dst,
    Ipv6Src,
    Ipv6Dst,
    Ipv6Label,
    IpProto,
    /// DSCP in the high 6 bits of the TOS byte (NXM_OF_IP_TOS).
    IpDscp,
    /// DSCP shifted down to bits 0-5 (OXM_OF_IP_DSCP).
    IpDscpShifted,
    IpEcn,
    IpTtl,
    IpFrag,
    ArpOp,
    ArpSpa,
    ArpTpa,
    ArpSha,
    ArpTha,
    TcpSrc,
    TcpDst,
    TcpFlags,
    UdpSrc,
    UdpDst,
    SctpSrc,
    SctpDst,
    Icmpv4Type,
    Icmpv4Code,
    Icmpv6Type,
    Icmpv6Code,
    NdTarget,
    NdSll,
    NdTll,
}

/// How a field's value is spelled (OVS `enum mf_string`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfString {
    Decimal,
    Hex,
    Ethernet,
    Ipv4,
    Ipv6,
    /// 16-bit OpenFlow port (reserved ports by name).
    OfpPort,
    /// 32-bit OpenFlow port.
    OfpPortOxm,
    Frag,
    TcpFlags,
    PacketType,
}

/// What a match must establish before a field may be matched (OVS `enum mf_prereqs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prereq {
    None,
    Ethernet,
    Arp,
    Ipv4,
    Ipv6,
    VlanVid,
    Mpls,
    IpAny,
    Tcp,
    Udp,
    Sctp,
    Icmpv4,
    Icmpv6,
    Nd,
    NdSolicit,
    NdAdvert,
}

/// NXM/OXM classes.
pub const OXM_CLASS_NXM0: u16 = 0x0000;
pub const OXM_CLASS_NXM1: u16 = 0x0001;
pub const OXM_CLASS_BASIC: u16 = 0x8000;
/// OF1.5 packet registers.
pub const OXM_CLASS_PKT_REGS: u16 = 0x8001;
pub const OXM_CLASS_EXPERIMENTER: u16 = 0xffff;
pub const ONF_EXPERIMENTER: u32 = 0x4f4e_4600;
pub const NX_EXPERIMENTER: u32 = 0x0000_2320;

/// One NXM/OXM code point for a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OxmHeader {
    pub name: &'static str,
    pub class: u16,
    pub field: u8,
    /// Experimenter id for class 0xffff, else 0.
    pub experimenter: u32,
    /// First OpenFlow version that uses this code point when encoding OXM (0: NXM/extension).
    pub version: u8,
}

impl OxmHeader {
    pub fn is_experimenter(&self) -> bool {
        self.class == OXM_CLASS_EXPERIMENTER
    }

    /// The header's length byte for a value of `n_bytes`, optionally masked.
    pub fn length(&self, n_bytes: usize, masked: bool) -> u8 {
        let payload = if masked { 2 * n_bytes } else { n_bytes };
        (payload + if self.is_experimenter() { 4 } else { 0 }) as u8
    }
}

/// Static facts about one field.
#[derive(Debug)]
pub struct MfField {
    pub id: MfId,
    /// OVS's name, e.g. "eth_src" (the one `set_field` prints).
    pub name: &'static str,
    /// Alternative name, e.g. "dl_src".
    pub extra_name: Option<&'static str>,
    pub n_bytes: usize,
    pub n_bits: u32,
    pub maskable: bool,
    pub string: MfString,
    pub prereqs: Prereq,
    pub writable: bool,
    /// Code points, in increasing `version` order.
    pub headers: &'static [OxmHeader],
}

const fn h(name: &'static str, class: u16, field: u8, version: u8) -> OxmHeader {
    OxmHeader { name, class, field, experimenter: 0, version }
}

const fn hx(name: &'static str, experimenter: u32, field: u8, version: u8) -> OxmHeader {
    OxmHeader { name, class: OXM_CLASS_EXPERIMENTER, field, experimenter, version }
}

const N0: u16 = OXM_CLASS_NXM0;
const N1: u16 = OXM_CLASS_NXM1;
const OF: u16 = OXM_CLASS_BASIC;

#[allow(clippy::too_many_arguments)]
const fn f(
    id: MfId,
    name: &'static str,
    extra_name: Option<&'static str>,
    n_bytes: usize,
    n_bits: u32,
    maskable: bool,
    string: MfString,
    prereqs: Prereq,
    writable: bool,
    headers: &'static [OxmHeader],
) -> MfField {
    MfField { id, name, extra_name, n_bytes, n_bits, maskable, string, prereqs, writable, headers }
}

macro_rules! regs {
    ($($id:ident $n:literal),*) => {
        [$(f(MfId::$id, concat!("reg", $n), None, 4, 32, true, MfString::Hex, Prereq::None, true,
             &[h(concat!("NXM_NX_REG", $n), N1, $n, 0)]),)*]
    };
}

static REG_FIELDS: [MfField; 16] = regs!(Reg0 0, Reg1 1, Reg2 2, Reg3 3, Reg4 4, Reg5 5, Reg6 6, Reg7 7, Reg8 8,
    Reg9 9, Reg10 10, Reg11 11, Reg12 12, Reg13 13, Reg14 14, Reg15 15);

macro_rules! xregs {
    ($($id:ident $n:literal),*) => {
        [$(f(MfId::$id, concat!("xreg", $n), None, 8, 64, true, MfString::Hex, Prereq::None, true,
             &[h(concat!("OXM_OF_PKT_REG", $n), OXM_CLASS_PKT_REGS, $n, 4)]),)*]
    };
}

static XREG_FIELDS: [MfField; 8] = xregs!(Xreg0 0, Xreg1 1, Xreg2 2, Xreg3 3, Xreg4 4, Xreg5 5, Xreg6 6, Xreg7 7);

use MfString as S;
use Prereq as P;

static HEAD_FIELDS: [MfField; 7] = [
    f(
        MfId::DpHash,
        "dp_hash",
        None,
        4,
        32,
        true,
        S::Hex,
        P::None,
        false,
        // OVS lists OXM before NXM code points of equal version, so NXM wins when encoding.
        &[hx("NXOXM_ET_DP_HASH", NX_EXPERIMENTER, 0, 0), h("NXM_NX_DP_HASH", N1, 35, 0)],
    ),
    f(
        MfId::PacketType,
        "packet_type",
        None,
        4,
        32,
        false,
        S::PacketType,
        P::None,
        false,
        &[h("OXM_OF_PACKET_TYPE", OF, 44, 6)],
    ),
    f(
        MfId::TunId,
        "tun_id",
        Some("tunnel_id"),
        8,
        64,
        true,
        S::Hex,
        P::None,
        true,
        &[h("NXM_NX_TUN_ID", N1, 16, 0), h("OXM_OF_TUNNEL_ID", OF, 38, 4)],
    ),
    f(MfId::Metadata, "metadata", None, 8, 64, true, S::Hex, P::None, true, &[h("OXM_OF_METADATA", OF, 2, 3)]),
    f(MfId::InPort, "in_port", None, 2, 16, false, S::OfpPort, P::None, true, &[h("NXM_OF_IN_PORT", N0, 0, 0)]),
    f(
        MfId::InPortOxm,
        "in_port_oxm",
        None,
        4,
        32,
        false,
        S::OfpPortOxm,
        P::None,
        true,
        &[h("OXM_OF_IN_PORT", OF, 0, 3)],
    ),
    f(MfId::PktMark, "pkt_mark", None, 4, 32, true, S::Hex, P::None, true, &[h("NXM_NX_PKT_MARK", N1, 33, 0)]),
];

static TAIL_FIELDS: [MfField; 40] = [
    f(
        MfId::EthSrc,
        "eth_src",
        Some("dl_src"),
        6,
        48,
        true,
        S::Ethernet,
        P::Ethernet,
        true,
        &[h("NXM_OF_ETH_SRC", N0, 2, 0), h("OXM_OF_ETH_SRC", OF, 4, 3)],
    ),
    f(
        MfId::EthDst,
        "eth_dst",
        Some("dl_dst"),
        6,
        48,
        true,
        S::Ethernet,
        P::Ethernet,
        true,
        &[h("NXM_OF_ETH_DST", N0, 1, 0), h("OXM_OF_ETH_DST", OF, 3, 3)],
    ),
    f(
        MfId::EthType,
        "eth_type",
        Some("dl_type"),
        2,
        16,
        false,
        S::Hex,
        P::Ethernet,
        false,
        &[h("NXM_OF_ETH_TYPE", N0, 3, 0), h("OXM_OF_ETH_TYPE", OF, 5, 3)],
    ),
    f(MfId::VlanTci, "vlan_tci", None, 2, 16, true, S::Hex, P::Ethernet, true, &[h("NXM_OF_VLAN_TCI", N0, 4, 0)]),
    f(MfId::VlanVid, "vlan_vid", None, 2, 12, true, S::Decimal, P::Ethernet, true, &[h("OXM_OF_VLAN_VID", OF, 6, 3)]),
    f(MfId::VlanPcp, "vlan_pcp", None, 1, 3, false, S::Decimal, P::VlanVid, true, &[h("OXM_OF_VLAN_PCP", OF, 7, 3)]),
    f(
        MfId::MplsLabel,
        "mpls_label",
        None,
        4,
        20,
        false,
        S::Decimal,
        P::Mpls,
        true,
        &[h("OXM_OF_MPLS_LABEL", OF, 34, 3)],
    ),
    f(MfId::MplsTc, "mpls_tc", None, 1, 3, false, S::Decimal, P::Mpls, true, &[h("OXM_OF_MPLS_TC", OF, 35, 3)]),
    f(MfId::MplsBos, "mpls_bos", None, 1, 1, false, S::Decimal, P::Mpls, false, &[h("OXM_OF_MPLS_BOS", OF, 36, 4)]),
    f(MfId::MplsTtl, "mpls_ttl", None, 1, 8, false, S::Decimal, P::Mpls, true, &[h("NXM_NX_MPLS_TTL", N1, 30, 0)]),
    f(
        MfId::Ipv4Src,
        "ip_src",
        Some("nw_src"),
        4,
        32,
        true,
        S::Ipv4,
        P::Ipv4,
        true,
        &[h("NXM_OF_IP_SRC", N0, 7, 0), h("OXM_OF_IPV4_SRC", OF, 11, 3)],
    ),
    f(
        MfId::Ipv4Dst,
        "ip_dst",
        Some("nw_dst"),
        4,
        32,
        true,
        S::Ipv4,
        P::Ipv4,
        true,
        &[h("NXM_OF_IP_DST", N0, 8, 0), h("OXM_OF_IPV4_DST", OF, 12, 3)],
    ),
    f(
        MfId::Ipv6Src,
        "ipv6_src",
        None,
        16,
        128,
        true,
        S::Ipv6,
        P::Ipv6,
        true,
        &[h("NXM_NX_IPV6_SRC", N1, 19, 0), h("OXM_OF_IPV6_SRC", OF, 26, 3)],
    ),
    f(
        MfId::Ipv6Dst,
        "ipv6_dst",
        None,
        16,
        128,
        true,
        S::Ipv6,
        P::Ipv6,
        true,
        &[h("NXM_NX_IPV6_DST", N1, 20, 0), h("OXM_OF_IPV6_DST", OF, 27, 3)],
    ),
    f(
        MfId::Ipv6Label,
        "ipv6_label",
        None,
        4,
        20,
        true,
        S::Hex,
        P::Ipv6,
        true,
        &[h("NXM_NX_IPV6_LABEL", N1, 27, 0), h("OXM_OF_IPV6_FLABEL", OF, 28, 3)],
    ),
    f(
        MfId::IpProto,
        "nw_proto",
        Some("ip_proto"),
        1,
        8,
        false,
        S::Decimal,
        P::IpAny,
        false,
        &[h("NXM_OF_IP_PROTO", N0, 6, 0), h("OXM_OF_IP_PROTO", OF, 10, 3)],
    ),
    f(MfId::IpDscp, "nw_tos", None, 1, 8, false, S::Decimal, P::IpAny, true, &[h("NXM_OF_IP_TOS", N0, 5, 0)]),
    f(MfId::IpDscpShifted, "ip_dscp", None, 1, 6, false, S::Decimal, P::IpAny, true, &[h("OXM_OF_IP_DSCP", OF, 8, 3)]),
    f(
        MfId::IpEcn,
        "nw_ecn",
        Some("ip_ecn"),
        1,
        2,
        false,
        S::Decimal,
        P::IpAny,
        true,
        &[h("NXM_NX_IP_ECN", N1, 28, 0), h("OXM_OF_IP_ECN", OF, 9, 3)],
    ),
    f(MfId::IpTtl, "nw_ttl", None, 1, 8, false, S::Decimal, P::IpAny, true, &[h("NXM_NX_IP_TTL", N1, 29, 0)]),
    f(
        MfId::IpFrag,
        "ip_frag",
        Some("nw_frag"),
        1,
        2,
        true,
        S::Frag,
        P::IpAny,
        false,
        &[h("NXM_NX_IP_FRAG", N1, 26, 0)],
    ),
    f(
        MfId::ArpOp,
        "arp_op",
        None,
        2,
        16,
        false,
        S::Decimal,
        P::Arp,
        true,
        &[h("NXM_OF_ARP_OP", N0, 15, 0), h("OXM_OF_ARP_OP", OF, 21, 3)],
    ),
    f(
        MfId::ArpSpa,
        "arp_spa",
        None,
        4,
        32,
        true,
        S::Ipv4,
        P::Arp,
        true,
        &[h("NXM_OF_ARP_SPA", N0, 16, 0), h("OXM_OF_ARP_SPA", OF, 22, 3)],
    ),
    f(
        MfId::ArpTpa,
        "arp_tpa",
        None,
        4,
        32,
        true,
        S::Ipv4,
        P::Arp,
        true,
        &[h("NXM_OF_ARP_TPA", N0, 17, 0), h("OXM_OF_ARP_TPA", OF, 23, 3)],
    ),
    f(
        MfId::ArpSha,
        "arp_sha",
        None,
        6,
        48,
        true,
        S::Ethernet,
        P::Arp,
        true,
        &[h("NXM_NX_ARP_SHA", N1, 17, 0), h("OXM_OF_ARP_SHA", OF, 24, 3)],
    ),
    f(
        MfId::ArpTha,
        "arp_tha",
        None,
        6,
        48,
        true,
        S::Ethernet,
        P::Arp,
        true,
        &[h("NXM_NX_ARP_THA", N1, 18, 0), h("OXM_OF_ARP_THA", OF, 25, 3)],
    ),
    f(
        MfId::TcpSrc,
        "tcp_src",
        Some("tp_src"),
        2,
        16,
        true,
        S::Decimal,
        P::Tcp,
        true,
        &[h("NXM_OF_TCP_SRC", N0, 9, 0), h("OXM_OF_TCP_SRC", OF, 13, 3)],
    ),
    f(
        MfId::TcpDst,
        "tcp_dst",
        Some("tp_dst"),
        2,
        16,
        true,
        S::Decimal,
        P::Tcp,
        true,
        &[h("NXM_OF_TCP_DST", N0, 10, 0), h("OXM_OF_TCP_DST", OF, 14, 3)],
    ),
    f(
        MfId::TcpFlags,
        "tcp_flags",
        None,
        2,
        12,
        true,
        S::TcpFlags,
        P::Tcp,
        false,
        &[
            h("NXM_NX_TCP_FLAGS", N1, 34, 0),
            hx("ONFOXM_ET_TCP_FLAGS", ONF_EXPERIMENTER, 42, 4),
            h("OXM_OF_TCP_FLAGS", OF, 42, 6),
        ],
    ),
    f(
        MfId::UdpSrc,
        "udp_src",
        None,
        2,
        16,
        true,
        S::Decimal,
        P::Udp,
        true,
        &[h("NXM_OF_UDP_SRC", N0, 11, 0), h("OXM_OF_UDP_SRC", OF, 15, 3)],
    ),
    f(
        MfId::UdpDst,
        "udp_dst",
        None,
        2,
        16,
        true,
        S::Decimal,
        P::Udp,
        true,
        &[h("NXM_OF_UDP_DST", N0, 12, 0), h("OXM_OF_UDP_DST", OF, 16, 3)],
    ),
    f(MfId::SctpSrc, "sctp_src", None, 2, 16, true, S::Decimal, P::Sctp, true, &[h("OXM_OF_SCTP_SRC", OF, 17, 3)]),
    f(MfId::SctpDst, "sctp_dst", None, 2, 16, true, S::Decimal, P::Sctp, true, &[h("OXM_OF_SCTP_DST", OF, 18, 3)]),
    f(
        MfId::Icmpv4Type,
        "icmp_type",
        None,
        1,
        8,
        false,
        S::Decimal,
        P::Icmpv4,
        true,
        &[h("NXM_OF_ICMP_TYPE", N0, 13, 0), h("OXM_OF_ICMPV4_TYPE", OF, 19, 3)],
    ),
    f(
        MfId::Icmpv4Code,
        "icmp_code",
        None,
        1,
        8,
        false,
        S::Decimal,
        P::Icmpv4,
        true,
        &[h("NXM_OF_ICMP_CODE", N0, 14, 0), h("OXM_OF_ICMPV4_CODE", OF, 20, 3)],
    ),
    f(
        MfId::Icmpv6Type,
        "icmpv6_type",
        None,
        1,
        8,
        false,
        S::Decimal,
        P::Icmpv6,
        true,
        &[h("NXM_NX_ICMPV6_TYPE", N1, 21, 0), h("OXM_OF_ICMPV6_TYPE", OF, 29, 3)],
    ),
    f(
        MfId::Icmpv6Code,
        "icmpv6_code",
        None,
        1,
        8,
        false,
        S::Decimal,
        P::Icmpv6,
        true,
        &[h("NXM_NX_ICMPV6_CODE", N1, 22, 0), h("OXM_OF_ICMPV6_CODE", OF, 30, 3)],
    ),
    f(
        MfId::NdTarget,
        "nd_target",
        None,
        16,
        128,
        true,
        S::Ipv6,
        P::Nd,
        true,
        &[h("NXM_NX_ND_TARGET", N1, 23, 0), h("OXM_OF_IPV6_ND_TARGET", OF, 31, 3)],
    ),
    f(
        MfId::NdSll,
        "nd_sll",
        None,
        6,
        48,
        true,
        S::Ethernet,
        P::NdSolicit,
        true,
        &[h("NXM_NX_ND_SLL", N1, 24, 0), h("OXM_OF_IPV6_ND_SLL", OF, 32, 3)],
    ),
    f(
        MfId::NdTll,
        "nd_tll",
        None,
        6,
        48,
        true,
        S::Ethernet,
        P::NdAdvert,
        true,
        &[h("NXM_NX_ND_TLL", N1, 25, 0), h("OXM_OF_IPV6_ND_TLL", OF, 33, 3)],
    ),
];

/// Every field, indexed by `MfId as usize`.
static FIELDS: [&MfField; 71] = {
    let mut a: [&MfField; 71] = [&HEAD_FIELDS[0]; 71];
    let mut i = 0;
    while i < 7 {
        a[i] = &HEAD_FIELDS[i];
        i += 1;
    }
    while i < 23 {
        a[i] = &REG_FIELDS[i - 7];
        i += 1;
    }
    while i < 31 {
        a[i] = &XREG_FIELDS[i - 23];
        i += 1;
    }
    while i < 71 {
        a[i] = &TAIL_FIELDS[i - 31];
        i += 1;
    }
    a
};

impl MfId {
    pub fn field(self) -> &'static MfField {
        FIELDS[self as usize]
    }

    pub fn all() -> impl Iterator<Item = MfId> {
        FIELDS.iter().map(|f| f.id)
    }

    /// NXM_NX_REG`n` for n < 16.
    pub fn reg(n: usize) -> Option<MfId> {
        REG_FIELDS.get(n).map(|f| f.id)
    }

    /// OF1.5 extended register `n` (n < 8).
    pub fn xreg(n: usize) -> Option<MfId> {
        XREG_FIELDS.get(n).map(|f| f.id)
    }

    /// The field named `name` (OVS name or its alias).
    pub fn from_name(name: &str) -> Option<MfId> {
        FIELDS.iter().find(|f| f.name == name || f.extra_name == Some(name)).map(|f| f.id)
    }

    /// The code point OVS uses for this field in OXM `version` (0 for NXM): the last one whose
    /// version is at most `version`, else the first (OVS `nxm_field_by_mf_id`).
    pub fn header_for(self, version: u8) -> &'static OxmHeader {
        let hs = self.field().headers;
        hs.iter().rev().find(|h| h.version <= version).unwrap_or(&hs[0])
    }

    /// The header name OVS prints in `load:` and `move:` (`nxm_field_by_mf_id(id, 0)`).
    pub fn nxm_name(self) -> &'static str {
        self.header_for(0).name
    }

    /// The field an NXM/OXM code point names, whatever the header's length.
    pub fn from_code(class: u16, field: u8, experimenter: u32) -> Option<(MfId, &'static OxmHeader)> {
        FIELDS.iter().find_map(|f| {
            f.headers
                .iter()
                .find(|h| h.class == class && h.field == field && h.experimenter == experimenter)
                .map(|h| (f.id, h))
        })
    }

    /// The field an NXM/OXM header denotes if its length fits the field (OVS
    /// `nxm_field_by_header`: a masked header's length is halved first, rounding down).
    pub fn from_header(class: u16, field: u8, experimenter: u32, masked: bool, length: u8) -> Option<MfId> {
        let (id, h) = MfId::from_code(class, field, experimenter)?;
        let exp = if h.is_experimenter() { 4 } else { 0 };
        let length = usize::from(length);
        let exact = if masked { length.checked_sub(exp)? / 2 + exp } else { length };
        (exact == id.field().n_bytes + exp).then_some(id)
    }

    /// All-ones value for this field's width.
    pub fn all_ones(self) -> u128 {
        ones(self.field().n_bytes)
    }
}

pub fn ones(n_bytes: usize) -> u128 {
    if n_bytes >= 16 {
        u128::MAX
    } else {
        (1u128 << (8 * n_bytes)) - 1
    }
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

/// OVS `mf_is_value_valid`: the value may appear (as part of a masked match) for the field.
pub fn is_value_valid(id: MfId, v: u128) -> bool {
    use MfId::*;
    match id {
        InPortOxm => port_no::from_ofp11(v as u32).is_ok(),
        IpDscp => v as u8 & !IP_DSCP_MASK == 0,
        IpDscpShifted => v as u8 & !(IP_DSCP_MASK >> 2) == 0,
        IpEcn => v as u8 & !IP_ECN_MASK == 0,
        IpFrag => v as u8 & !FLOW_NW_FRAG_MASK == 0,
        TcpFlags => v & !0x0fff == 0,
        ArpOp => v & 0xff00 == 0,
        VlanVid => v as u16 & VLAN_PCP_MASK == 0,
        VlanPcp => v & !7 == 0,
        Ipv6Label => v as u32 & !IPV6_LABEL_MASK == 0,
        MplsLabel => v as u32 & !(MPLS_LABEL_MASK >> MPLS_LABEL_SHIFT) == 0,
        MplsTc => v & !7 == 0,
        MplsBos => v & !1 == 0,
        _ => true,
    }
}

/// OVS `mf_is_mask_valid`: non-maskable fields take only all-zeros or all-ones masks.
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
        _ => std::slice::from_ref(&FIELDS[id as usize].id),
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
        (MfString::Hex, _) => {
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

    #[test]
    fn table_is_indexed_by_id() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.id as usize, i, "{}", f.name);
            assert!(!f.headers.is_empty());
            assert!(f.headers.windows(2).all(|w| w[0].version <= w[1].version), "{}", f.name);
        }
        assert_eq!(MfId::reg(15), Some(MfId::Reg15));
        assert_eq!(MfId::Reg7.field().name, "reg7");
        assert_eq!(MfId::from_name("dl_src"), Some(MfId::EthSrc));
        assert_eq!(MfId::from_name("tunnel_id"), Some(MfId::TunId));
    }

    #[test]
    fn headers_by_version_follow_ovs() {
        assert_eq!(MfId::TunId.header_for(3).name, "NXM_NX_TUN_ID");
        assert_eq!(MfId::TunId.header_for(4).name, "OXM_OF_TUNNEL_ID");
        assert_eq!(MfId::TcpFlags.header_for(0).name, "NXM_NX_TCP_FLAGS");
        assert_eq!(MfId::TcpFlags.header_for(5).name, "ONFOXM_ET_TCP_FLAGS");
        assert_eq!(MfId::TcpFlags.header_for(6).name, "OXM_OF_TCP_FLAGS");
        assert_eq!(MfId::DpHash.header_for(0).name, "NXM_NX_DP_HASH");
        assert_eq!(MfId::DpHash.header_for(6).name, "NXM_NX_DP_HASH");
        assert_eq!(MfId::Metadata.nxm_name(), "OXM_OF_METADATA");
        assert_eq!(MfId::from_header(0xffff, 0, NX_EXPERIMENTER, true, 12), Some(MfId::DpHash));
        assert_eq!(MfId::from_header(0x8000, 11, 0, true, 8), Some(MfId::Ipv4Src));
        assert_eq!(MfId::from_header(0x8000, 11, 0, false, 5), None);
        assert_eq!(MfId::from_header(0x8000, 10, 0, true, 2), Some(MfId::IpProto));
        assert_eq!(MfId::from_header(0x8000, 10, 0, true, 3), Some(MfId::IpProto));
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
