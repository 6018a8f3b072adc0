//! OF1.0 `ofp10_match` (40 bytes): wildcard bits, CIDR-counted IP masks, OFP_VLAN_NONE (OVS
//! `ofputil_match_from_ofp10_match` / `ofputil_match_to_ofp10_match`).

use crate::buf::{be16, be32};
use crate::flow::*;
use crate::ofmatch::Match;
use crate::port_no;

pub const OFP10_MATCH_LEN: usize = 40;

pub const OFPFW10_IN_PORT: u32 = 1 << 0;
pub const OFPFW10_DL_VLAN: u32 = 1 << 1;
pub const OFPFW10_DL_SRC: u32 = 1 << 2;
pub const OFPFW10_DL_DST: u32 = 1 << 3;
pub const OFPFW10_DL_TYPE: u32 = 1 << 4;
pub const OFPFW10_NW_PROTO: u32 = 1 << 5;
pub const OFPFW10_TP_SRC: u32 = 1 << 6;
pub const OFPFW10_TP_DST: u32 = 1 << 7;
pub const OFPFW10_NW_SRC_SHIFT: u32 = 8;
pub const OFPFW10_NW_DST_SHIFT: u32 = 14;
pub const OFPFW10_DL_VLAN_PCP: u32 = 1 << 20;
pub const OFPFW10_NW_TOS: u32 = 1 << 21;
pub const OFPFW10_ALL: u32 = (1 << 22) - 1;
/// dl_vlan value meaning "no 802.1Q header".
pub const OFP10_VLAN_NONE: u16 = 0xffff;

/// Wildcard bit count (0 exact … 32+ all wild) to netmask.
fn wcbits_to_netmask(bits: u32) -> u32 {
    let bits = bits & 0x3f;
    if bits < 32 {
        !((1u32 << bits) - 1)
    } else {
        0
    }
}

fn netmask_to_wcbits(mask: u32) -> u32 {
    mask.trailing_zeros().min(32)
}

impl Match {
    /// Decodes an `ofp10_match`; OF1.0 matches cannot be malformed.
    pub fn from_ofp10(b: &[u8; OFP10_MATCH_LEN]) -> Match {
        let ofpfw = be32(b, 0) & OFPFW10_ALL;
        let mut m = Match::catchall();
        let w = &mut m.mask;
        if ofpfw & OFPFW10_IN_PORT == 0 {
            w.in_port = u32::MAX;
        }
        if ofpfw & OFPFW10_NW_TOS == 0 {
            w.nw_tos |= IP_DSCP_MASK;
        }
        if ofpfw & OFPFW10_NW_PROTO == 0 {
            w.nw_proto = u8::MAX;
        }
        w.nw_src = wcbits_to_netmask(ofpfw >> OFPFW10_NW_SRC_SHIFT);
        w.nw_dst = wcbits_to_netmask(ofpfw >> OFPFW10_NW_DST_SHIFT);
        if ofpfw & OFPFW10_TP_SRC == 0 {
            w.tp_src = u16::MAX;
        }
        if ofpfw & OFPFW10_TP_DST == 0 {
            w.tp_dst = u16::MAX;
        }
        if ofpfw & OFPFW10_DL_SRC == 0 {
            w.dl_src = EthAddr::ONES;
        }
        if ofpfw & OFPFW10_DL_DST == 0 {
            w.dl_dst = EthAddr::ONES;
        }
        if ofpfw & OFPFW10_DL_TYPE == 0 {
            w.dl_type = u16::MAX;
        }
        if ofpfw & OFPFW10_DL_VLAN_PCP == 0 {
            w.vlans[0].tci |= VLAN_PCP_MASK | VLAN_CFI;
        }
        if ofpfw & OFPFW10_DL_VLAN == 0 {
            w.vlans[0].tci |= VLAN_VID_MASK | VLAN_CFI;
        }

        // Matching anything but in_port implies an Ethernet packet.
        let data_bits = OFPFW10_NW_TOS
            | OFPFW10_NW_PROTO
            | OFPFW10_TP_SRC
            | OFPFW10_TP_DST
            | OFPFW10_DL_SRC
            | OFPFW10_DL_DST
            | OFPFW10_DL_TYPE
            | OFPFW10_DL_VLAN
            | OFPFW10_DL_VLAN_PCP;
        if ofpfw & data_bits != data_bits
            || wcbits_to_netmask(ofpfw >> OFPFW10_NW_SRC_SHIFT) != 0
            || wcbits_to_netmask(ofpfw >> OFPFW10_NW_DST_SHIFT) != 0
        {
            m.set_default_packet_type();
        }

        let f = &mut m.flow;
        f.in_port = port_no::ofp10_to_ofp11(be16(b, 4));
        f.dl_src = EthAddr::read(b, 6);
        f.dl_dst = EthAddr::read(b, 12);
        f.dl_type = be16(b, 22);
        f.nw_tos = b[24] & IP_DSCP_MASK;
        f.nw_proto = b[25];
        f.nw_src = be32(b, 28);
        f.nw_dst = be32(b, 32);
        f.tp_src = be16(b, 36);
        f.tp_dst = be16(b, 38);

        let dl_vlan = be16(b, 18);
        if ofpfw & OFPFW10_DL_VLAN == 0 && dl_vlan == OFP10_VLAN_NONE {
            // Only packets without an 802.1Q header (whatever the PCP says, as old OVS did).
            f.vlans[0].tci = 0;
            m.mask.vlans[0].tci = 0xffff;
        } else {
            let pcp = (u16::from(b[20]) << VLAN_PCP_SHIFT) & VLAN_PCP_MASK;
            let tci = (dl_vlan & VLAN_VID_MASK) | pcp | VLAN_CFI;
            f.vlans[0].tci = tci & m.mask.vlans[0].tci;
        }
        m.zero_wildcarded();
        m
    }

    /// Encodes as an `ofp10_match`, widening anything OF1.0 cannot express.
    pub fn to_ofp10(&self) -> [u8; OFP10_MATCH_LEN] {
        let (f, w) = (&self.flow, &self.mask);
        let mut ofpfw = 0;
        if w.in_port == 0 {
            ofpfw |= OFPFW10_IN_PORT;
        }
        if w.dl_type == 0 {
            ofpfw |= OFPFW10_DL_TYPE;
        }
        if w.nw_proto == 0 {
            ofpfw |= OFPFW10_NW_PROTO;
        }
        ofpfw |= netmask_to_wcbits(w.nw_src) << OFPFW10_NW_SRC_SHIFT;
        ofpfw |= netmask_to_wcbits(w.nw_dst) << OFPFW10_NW_DST_SHIFT;
        if w.nw_tos & IP_DSCP_MASK == 0 {
            ofpfw |= OFPFW10_NW_TOS;
        }
        if w.tp_src == 0 {
            ofpfw |= OFPFW10_TP_SRC;
        }
        if w.tp_dst == 0 {
            ofpfw |= OFPFW10_TP_DST;
        }
        if w.dl_src.is_zero() {
            ofpfw |= OFPFW10_DL_SRC;
        }
        if w.dl_dst.is_zero() {
            ofpfw |= OFPFW10_DL_DST;
        }
        let (mut dl_vlan, mut dl_vlan_pcp) = (0u16, 0u8);
        let (tci, tci_mask) = (f.vlans[0].tci, w.vlans[0].tci);
        if tci_mask == 0 {
            ofpfw |= OFPFW10_DL_VLAN | OFPFW10_DL_VLAN_PCP;
        } else if tci_mask & VLAN_CFI != 0 && tci & VLAN_CFI == 0 {
            dl_vlan = OFP10_VLAN_NONE;
        } else {
            if tci_mask & VLAN_VID_MASK == 0 {
                ofpfw |= OFPFW10_DL_VLAN;
            } else {
                dl_vlan = vlan_tci_to_vid(tci);
            }
            if tci_mask & VLAN_PCP_MASK == 0 {
                ofpfw |= OFPFW10_DL_VLAN_PCP;
            } else {
                dl_vlan_pcp = vlan_tci_to_pcp(tci);
            }
        }
        let mut b = [0u8; OFP10_MATCH_LEN];
        b[0..4].copy_from_slice(&ofpfw.to_be_bytes());
        b[4..6].copy_from_slice(&port_no::to_ofp10_wire(f.in_port).to_be_bytes());
        b[6..12].copy_from_slice(&f.dl_src.0);
        b[12..18].copy_from_slice(&f.dl_dst.0);
        b[18..20].copy_from_slice(&dl_vlan.to_be_bytes());
        b[20] = dl_vlan_pcp;
        b[22..24].copy_from_slice(&f.dl_type.to_be_bytes());
        b[24] = f.nw_tos & IP_DSCP_MASK;
        b[25] = f.nw_proto;
        b[28..32].copy_from_slice(&f.nw_src.to_be_bytes());
        b[32..36].copy_from_slice(&f.nw_dst.to_be_bytes());
        b[36..38].copy_from_slice(&f.tp_src.to_be_bytes());
        b[38..40].copy_from_slice(&f.tp_dst.to_be_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::parse_hex;

    fn b40(hex: &str) -> [u8; OFP10_MATCH_LEN] {
        parse_hex(hex).unwrap().try_into().unwrap()
    }

    #[test]
    fn exact_match_with_vlan_none() {
        // From OVS's OF1.0 flow-removed test: everything exact, dl_vlan=OFP_VLAN_NONE.
        let b = b40(&[
            "00000000",
            "0003",
            "505400000005",
            "505400000006",
            "ffff",
            "0000",
            "0806",
            "0002",
            "0000",
            "c0a80001",
            "c0a80002",
            "00000000",
        ]
        .concat());
        let m = Match::from_ofp10(&b);
        assert_eq!(
            m.to_string(),
            "arp,in_port=3,vlan_tci=0x0000,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:06,\
             arp_spa=192.168.0.1,arp_tpa=192.168.0.2,arp_op=2,nw_tos=0,tp_src=0,tp_dst=0"
        );
        assert_eq!(m.to_ofp10(), b);
    }

    #[test]
    fn cidr_wildcards() {
        // nw_src /8 (24 wildcard bits), everything else wildcarded.
        let ofpfw = OFPFW10_ALL & !(0x3f << OFPFW10_NW_SRC_SHIFT) | (24 << OFPFW10_NW_SRC_SHIFT);
        let mut b = [0u8; OFP10_MATCH_LEN];
        b[0..4].copy_from_slice(&ofpfw.to_be_bytes());
        b[28..32].copy_from_slice(&0x0a01_0203u32.to_be_bytes());
        let m = Match::from_ofp10(&b);
        assert_eq!((m.flow.nw_src, m.mask.nw_src), (0x0a00_0000, 0xff00_0000));
        assert!(m.has_default_packet_type());
        let back = m.to_ofp10();
        assert_eq!(u32::from_be_bytes(back[0..4].try_into().unwrap()) >> OFPFW10_NW_SRC_SHIFT & 0x3f, 24);
        // An all-wildcard match has no packet type.
        let all = Match::from_ofp10(&b40(&format!("{:08x}{}", OFPFW10_ALL, "00".repeat(36))));
        assert!(all.is_catchall());
    }
}
