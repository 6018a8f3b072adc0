//! A packet's header fields and metadata (OVS `struct flow`), the protocol facts they rest on, and
//! the predicates OVS uses for field prerequisites.
//!
//! The same struct also serves as a set of masks (`Match::mask`), as `flow_wildcards` does in OVS:
//! every member is a plain integer so masks are bitwise.

mod extract;
mod format;
pub(crate) mod text;

use std::fmt;

pub use format::packet_to_string;

pub const ETH_TYPE_IP: u16 = 0x0800;
pub const ETH_TYPE_ARP: u16 = 0x0806;
pub const ETH_TYPE_RARP: u16 = 0x8035;
pub const ETH_TYPE_VLAN_8021Q: u16 = 0x8100;
pub const ETH_TYPE_VLAN_8021AD: u16 = 0x88a8;
pub const ETH_TYPE_IPV6: u16 = 0x86dd;
pub const ETH_TYPE_MPLS: u16 = 0x8847;
pub const ETH_TYPE_MPLS_MCAST: u16 = 0x8848;
/// Smallest value that is an Ethertype rather than an 802.3 length.
pub const ETH_TYPE_MIN: u16 = 0x600;
/// `dl_type` of a frame with no Ethertype (802.2 without SNAP), as OVS records it.
pub const FLOW_DL_TYPE_NONE: u16 = 0x5ff;
/// How OF1.0/1.1 matches spell FLOW_DL_TYPE_NONE.
pub const OFP_DL_TYPE_NOT_ETH_TYPE: u16 = 0x5ff;

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_IGMP: u8 = 2;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_SCTP: u8 = 132;

pub const VLAN_VID_MASK: u16 = 0x0fff;
/// In OVS's TCI the CFI bit means "a VLAN header is present".
pub const VLAN_CFI: u16 = 0x1000;
pub const VLAN_PCP_MASK: u16 = 0xe000;
pub const VLAN_PCP_SHIFT: u16 = 13;
/// OF1.2+ "VLAN present" bit in OXM_OF_VLAN_VID (same bit as VLAN_CFI).
pub const OFPVID12_PRESENT: u16 = 0x1000;

pub const IP_DSCP_MASK: u8 = 0xfc;
pub const IP_ECN_MASK: u8 = 0x03;
pub const FLOW_NW_FRAG_ANY: u8 = 1;
pub const FLOW_NW_FRAG_LATER: u8 = 2;
pub const FLOW_NW_FRAG_MASK: u8 = 3;
pub const IPV6_LABEL_MASK: u32 = 0x000f_ffff;

pub const MPLS_LABEL_MASK: u32 = 0xffff_f000;
pub const MPLS_LABEL_SHIFT: u32 = 12;
pub const MPLS_TC_MASK: u32 = 0x0000_0e00;
pub const MPLS_TC_SHIFT: u32 = 9;
pub const MPLS_BOS_MASK: u32 = 0x0000_0100;
pub const MPLS_BOS_SHIFT: u32 = 8;
pub const MPLS_TTL_MASK: u32 = 0x0000_00ff;

pub const ND_NEIGHBOR_SOLICIT: u16 = 135;
pub const ND_NEIGHBOR_ADVERT: u16 = 136;

/// OpenFlow packet type (OF1.5 `packet_type`): namespace << 16 | type. Ethernet is 0.
pub const PT_ETH: u32 = 0;
/// Namespace whose types are Ethertypes.
pub const OFPHTN_ETHERTYPE: u16 = 1;

pub const FLOW_N_REGS: usize = 16;
pub const FLOW_MAX_VLAN_HEADERS: usize = 2;
pub const FLOW_MAX_MPLS_LABELS: usize = 3;

/// An Ethernet address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EthAddr(pub [u8; 6]);

impl EthAddr {
    pub const ZERO: EthAddr = EthAddr([0; 6]);
    pub const ONES: EthAddr = EthAddr([0xff; 6]);

    pub fn is_zero(self) -> bool {
        self == EthAddr::ZERO
    }

    /// The address as a 48-bit integer (first byte most significant).
    pub fn to_u64(self) -> u64 {
        self.0.iter().fold(0, |acc, &b| acc << 8 | u64::from(b))
    }

    pub fn from_u64(v: u64) -> EthAddr {
        let b = v.to_be_bytes();
        EthAddr([b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// The address at `at` in a slice whose length the caller has checked.
    pub(crate) fn read(b: &[u8], at: usize) -> EthAddr {
        EthAddr([b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]])
    }
}

impl fmt::Display for EthAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", a[0], a[1], a[2], a[3], a[4], a[5])
    }
}

/// One 802.1Q header as OVS keeps it: the TPID and the TCI with CFI forced to 1 when present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VlanHeader {
    pub tpid: u16,
    pub tci: u16,
}

/// Bitwise operations every `Flow` member supports, so a `Flow` can be a mask.
pub trait Bits: Copy + PartialEq {
    fn and(self, other: Self) -> Self;
    fn or(self, other: Self) -> Self;
    fn is_zero(self) -> bool;
}

macro_rules! int_bits {
    ($($t:ty),*) => {$(
        impl Bits for $t {
            fn and(self, o: Self) -> Self { self & o }
            fn or(self, o: Self) -> Self { self | o }
            fn is_zero(self) -> bool { self == 0 }
        }
    )*};
}
int_bits!(u8, u16, u32, u64, u128);

impl Bits for EthAddr {
    fn and(self, o: Self) -> Self {
        EthAddr(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }
    fn or(self, o: Self) -> Self {
        EthAddr(std::array::from_fn(|i| self.0[i] | o.0[i]))
    }
    fn is_zero(self) -> bool {
        self.0 == [0; 6]
    }
}

impl Bits for VlanHeader {
    fn and(self, o: Self) -> Self {
        VlanHeader { tpid: self.tpid & o.tpid, tci: self.tci & o.tci }
    }
    fn or(self, o: Self) -> Self {
        VlanHeader { tpid: self.tpid | o.tpid, tci: self.tci | o.tci }
    }
    fn is_zero(self) -> bool {
        self.tpid == 0 && self.tci == 0
    }
}

impl<T: Bits, const N: usize> Bits for [T; N] {
    fn and(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i].and(o[i]))
    }
    fn or(self, o: Self) -> Self {
        std::array::from_fn(|i| self[i].or(o[i]))
    }
    fn is_zero(self) -> bool {
        self.iter().all(|x| x.is_zero())
    }
}

macro_rules! flow_struct {
    ($($(#[$m:meta])* $f:ident: $t:ty,)*) => {
        /// Header fields and metadata of one packet (OVS `struct flow`, the subset this codec
        /// models). Addresses and ports are host-order integers; `in_port` is an OpenFlow port
        /// number in the OF1.1+ 32-bit space (see `port_no`).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct Flow {
            $($(#[$m])* pub $f: $t,)*
        }

        impl Flow {
            /// Member-wise AND (applying a mask).
            pub fn and(&self, m: &Flow) -> Flow {
                Flow { $($f: self.$f.and(m.$f),)* }
            }

            /// Member-wise OR (combining masks).
            pub fn or(&self, m: &Flow) -> Flow {
                Flow { $($f: self.$f.or(m.$f),)* }
            }

            pub fn is_zero(&self) -> bool {
                $(self.$f.is_zero())&&*
            }

            /// True if `m` has every bit `self` has (`self.and(m) == *self`, without building it).
            pub fn is_within(&self, m: &Flow) -> bool {
                $(self.$f.and(m.$f) == self.$f)&&*
            }
        }
    };
}

flow_struct! {
    tun_id: u64,
    metadata: u64,
    regs: [u32; FLOW_N_REGS],
    pkt_mark: u32,
    dp_hash: u32,
    in_port: u32,
    packet_type: u32,
    dl_dst: EthAddr,
    dl_src: EthAddr,
    dl_type: u16,
    vlans: [VlanHeader; FLOW_MAX_VLAN_HEADERS],
    mpls_lse: [u32; FLOW_MAX_MPLS_LABELS],
    nw_src: u32,
    nw_dst: u32,
    ipv6_src: u128,
    ipv6_dst: u128,
    ipv6_label: u32,
    nw_frag: u8,
    nw_tos: u8,
    nw_ttl: u8,
    /// IP protocol, or the low 8 bits of the ARP opcode.
    nw_proto: u8,
    nd_target: u128,
    /// ARP source hardware address, or the ND source link-layer address.
    arp_sha: EthAddr,
    /// ARP target hardware address, or the ND target link-layer address.
    arp_tha: EthAddr,
    tcp_flags: u16,
    /// TCP/UDP/SCTP source port, or ICMP type.
    tp_src: u16,
    /// TCP/UDP/SCTP destination port, or ICMP code.
    tp_dst: u16,
}

impl Flow {
    /// A mask with every bit set.
    pub fn all_ones() -> Flow {
        Flow {
            tun_id: u64::MAX,
            metadata: u64::MAX,
            regs: [u32::MAX; FLOW_N_REGS],
            pkt_mark: u32::MAX,
            dp_hash: u32::MAX,
            in_port: u32::MAX,
            packet_type: u32::MAX,
            dl_dst: EthAddr::ONES,
            dl_src: EthAddr::ONES,
            dl_type: u16::MAX,
            vlans: [VlanHeader { tpid: u16::MAX, tci: u16::MAX }; FLOW_MAX_VLAN_HEADERS],
            mpls_lse: [u32::MAX; FLOW_MAX_MPLS_LABELS],
            nw_src: u32::MAX,
            nw_dst: u32::MAX,
            ipv6_src: u128::MAX,
            ipv6_dst: u128::MAX,
            ipv6_label: u32::MAX,
            nw_frag: u8::MAX,
            nw_tos: u8::MAX,
            nw_ttl: u8::MAX,
            nw_proto: u8::MAX,
            nd_target: u128::MAX,
            arp_sha: EthAddr::ONES,
            arp_tha: EthAddr::ONES,
            tcp_flags: u16::MAX,
            tp_src: u16::MAX,
            tp_dst: u16::MAX,
        }
    }

    /// The Ethertype of the packet, from `packet_type` for non-Ethernet packets (OVS `get_dl_type`).
    pub fn dl_type(&self) -> u16 {
        if self.packet_type == PT_ETH {
            self.dl_type
        } else if pt_ns(self.packet_type) == OFPHTN_ETHERTYPE {
            pt_ns_type(self.packet_type)
        } else {
            FLOW_DL_TYPE_NONE
        }
    }

    pub fn is_ethernet(&self) -> bool {
        self.packet_type == PT_ETH
    }

    pub fn is_vlan(&self) -> bool {
        self.is_ethernet() && self.vlans[0].tci & VLAN_CFI != 0
    }

    pub fn is_ip_any(&self) -> bool {
        matches!(self.dl_type(), ETH_TYPE_IP | ETH_TYPE_IPV6)
    }

    pub fn is_ip_proto(&self, proto: u8) -> bool {
        self.is_ip_any() && self.nw_proto == proto
    }

    pub fn is_icmpv4(&self) -> bool {
        self.dl_type() == ETH_TYPE_IP && self.nw_proto == IPPROTO_ICMP
    }

    pub fn is_icmpv6(&self) -> bool {
        self.dl_type() == ETH_TYPE_IPV6 && self.nw_proto == IPPROTO_ICMPV6
    }

    /// IPv6 neighbor solicitation or advertisement.
    pub fn is_nd(&self) -> bool {
        self.is_icmpv6() && self.tp_dst == 0 && matches!(self.tp_src, ND_NEIGHBOR_SOLICIT | ND_NEIGHBOR_ADVERT)
    }

    pub fn is_mpls(&self) -> bool {
        eth_type_mpls(self.dl_type())
    }

    pub fn is_arp(&self) -> bool {
        matches!(self.dl_type(), ETH_TYPE_ARP | ETH_TYPE_RARP)
    }
}

pub fn eth_type_mpls(t: u16) -> bool {
    t == ETH_TYPE_MPLS || t == ETH_TYPE_MPLS_MCAST
}

pub fn eth_type_vlan(t: u16) -> bool {
    t == ETH_TYPE_VLAN_8021Q || t == ETH_TYPE_VLAN_8021AD
}

/// Namespace half of a packet type.
pub fn pt_ns(pt: u32) -> u16 {
    (pt >> 16) as u16
}

/// Type half of a packet type.
pub fn pt_ns_type(pt: u32) -> u16 {
    pt as u16
}

pub fn vlan_tci_to_vid(tci: u16) -> u16 {
    tci & VLAN_VID_MASK
}

pub fn vlan_tci_to_pcp(tci: u16) -> u8 {
    (tci >> VLAN_PCP_SHIFT) as u8
}

pub fn mpls_lse_to_label(lse: u32) -> u32 {
    (lse & MPLS_LABEL_MASK) >> MPLS_LABEL_SHIFT
}

pub fn mpls_lse_to_tc(lse: u32) -> u8 {
    ((lse & MPLS_TC_MASK) >> MPLS_TC_SHIFT) as u8
}

pub fn mpls_lse_to_bos(lse: u32) -> u8 {
    ((lse & MPLS_BOS_MASK) >> MPLS_BOS_SHIFT) as u8
}

pub fn mpls_lse_to_ttl(lse: u32) -> u8 {
    (lse & MPLS_TTL_MASK) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_bitwise() {
        let mut f = Flow { nw_src: 0x0a00_0001, tp_dst: 80, ..Flow::default() };
        f.dl_src = EthAddr([1, 2, 3, 4, 5, 6]);
        let mut m = Flow { nw_src: 0xff00_0000, ..Flow::default() };
        m.dl_src = EthAddr([0xff, 0, 0, 0, 0, 0xff]);
        let r = f.and(&m);
        assert_eq!(r.nw_src, 0x0a00_0000);
        assert_eq!(r.tp_dst, 0);
        assert_eq!(r.dl_src, EthAddr([1, 0, 0, 0, 0, 6]));
        assert!(Flow::default().is_zero());
        assert!(!r.is_zero());
        assert_eq!(Flow::all_ones().and(&f), f);
        assert_eq!(f.or(&Flow::default()), f);
    }

    #[test]
    fn ethernet_addresses() {
        let a = EthAddr([0x50, 0x54, 0, 0, 0, 0x0a]);
        assert_eq!(a.to_string(), "50:54:00:00:00:0a");
        assert_eq!(EthAddr::from_u64(a.to_u64()), a);
    }

    #[test]
    fn dl_type_follows_packet_type() {
        let mut f = Flow { dl_type: ETH_TYPE_ARP, ..Flow::default() };
        assert!(f.is_arp() && f.is_ethernet());
        f.packet_type = (u32::from(OFPHTN_ETHERTYPE) << 16) | u32::from(ETH_TYPE_IP);
        assert_eq!(f.dl_type(), ETH_TYPE_IP);
        assert!(f.is_ip_any() && !f.is_ethernet());
        f.packet_type = 0x0003_0000;
        assert_eq!(f.dl_type(), FLOW_DL_TYPE_NONE);
    }
}
