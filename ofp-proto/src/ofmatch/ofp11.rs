//! OF1.1 `ofp11_match` (88-byte "standard" match with inverted masks) and the OF1.1+ match
//! dispatcher that also takes OXM (OVS `ofputil_pull_ofp11_match`, `ofputil_put_ofp11_match`).

use bytes::{BufMut, BytesMut};

use crate::buf::{be16, be32, be64, Reader};
use crate::errors::OfpErr;
use crate::flow::*;
use crate::header::OFP11_VERSION;
use crate::ofmatch::nxm::{self, OFPMT_OXM, OFPMT_STANDARD};
use crate::ofmatch::Match;
use crate::port_no;

pub const OFP11_MATCH_LEN: usize = 88;

pub const OFPFW11_IN_PORT: u32 = 1 << 0;
pub const OFPFW11_DL_VLAN: u32 = 1 << 1;
pub const OFPFW11_DL_VLAN_PCP: u32 = 1 << 2;
pub const OFPFW11_DL_TYPE: u32 = 1 << 3;
pub const OFPFW11_NW_TOS: u32 = 1 << 4;
pub const OFPFW11_NW_PROTO: u32 = 1 << 5;
pub const OFPFW11_TP_SRC: u32 = 1 << 6;
pub const OFPFW11_TP_DST: u32 = 1 << 7;
pub const OFPFW11_MPLS_LABEL: u32 = 1 << 8;
pub const OFPFW11_MPLS_TC: u32 = 1 << 9;
/// dl_vlan: any tagged packet.
pub const OFPVID11_ANY: u16 = 0xfffe;
/// dl_vlan: untagged packets only.
pub const OFPVID11_NONE: u16 = 0xffff;

fn not_mac(a: EthAddr) -> EthAddr {
    EthAddr(a.0.map(|x| !x))
}

impl Match {
    /// Decodes an `ofp11_match` (header included), with OVS's OFPBMC_BAD_VALUE/BAD_FIELD checks.
    pub fn from_ofp11(b: &[u8; OFP11_MATCH_LEN]) -> Result<Match, OfpErr> {
        let wc = be32(b, 8) & 0xffff;
        let mut m = Match::catchall();
        if wc & OFPFW11_IN_PORT == 0 {
            let p = port_no::from_ofp11(be32(b, 4)).map_err(|_| OfpErr::OFPBMC_BAD_VALUE)?;
            m.set_in_port(p);
        }
        let src_mask = not_mac(EthAddr::read(b, 18));
        let dst_mask = not_mac(EthAddr::read(b, 30));
        if !src_mask.is_zero() || !dst_mask.is_zero() {
            m.set_dl_src_masked(EthAddr::read(b, 12), src_mask);
            m.set_dl_dst_masked(EthAddr::read(b, 24), dst_mask);
            m.set_default_packet_type();
        }
        if wc & OFPFW11_DL_VLAN == 0 {
            let dl_vlan = be16(b, 36);
            if dl_vlan == OFPVID11_NONE {
                m.set_dl_tci_masked(0, 0xffff);
            } else {
                if dl_vlan == OFPVID11_ANY {
                    m.set_dl_tci_masked(VLAN_CFI, VLAN_CFI);
                } else if dl_vlan < 4096 {
                    m.set_dl_tci_masked(VLAN_CFI | dl_vlan, VLAN_CFI | VLAN_VID_MASK);
                } else {
                    return Err(OfpErr::OFPBMC_BAD_VALUE);
                }
                if wc & OFPFW11_DL_VLAN_PCP == 0 {
                    let pcp = b[38];
                    if pcp > 7 {
                        return Err(OfpErr::OFPBMC_BAD_VALUE);
                    }
                    m.flow.vlans[0].tci |= u16::from(pcp) << VLAN_PCP_SHIFT;
                    m.mask.vlans[0].tci |= VLAN_PCP_MASK;
                }
            }
            m.set_default_packet_type();
        }
        if wc & OFPFW11_DL_TYPE == 0 {
            m.set_dl_type(be16(b, 40));
            m.set_default_packet_type();
        }
        let ipv4 = m.flow.dl_type == ETH_TYPE_IP;
        let arp = m.flow.dl_type == ETH_TYPE_ARP || m.flow.dl_type == ETH_TYPE_RARP;
        if ipv4 && wc & OFPFW11_NW_TOS == 0 {
            let tos = b[42];
            if tos & !IP_DSCP_MASK != 0 {
                return Err(OfpErr::OFPBMC_BAD_VALUE);
            }
            m.mask.nw_tos |= IP_DSCP_MASK;
            m.flow.nw_tos = (m.flow.nw_tos & !IP_DSCP_MASK) | tos;
        }
        if ipv4 || arp {
            if wc & OFPFW11_NW_PROTO == 0 {
                m.set_nw_proto(b[43]);
            }
            m.set_nw_src_masked(be32(b, 44), !be32(b, 48));
            m.set_nw_dst_masked(be32(b, 52), !be32(b, 56));
        }
        let tp_all = OFPFW11_TP_SRC | OFPFW11_TP_DST;
        if ipv4 && wc & tp_all != tp_all {
            let (tp_src, tp_dst) = (be16(b, 60), be16(b, 62));
            match m.flow.nw_proto {
                IPPROTO_ICMP => {
                    if wc & OFPFW11_TP_SRC == 0 {
                        if tp_src >= 0x100 {
                            return Err(OfpErr::OFPBMC_BAD_FIELD);
                        }
                        m.set_tp_src_masked(tp_src, u16::MAX);
                    }
                    if wc & OFPFW11_TP_DST == 0 {
                        if tp_dst >= 0x100 {
                            return Err(OfpErr::OFPBMC_BAD_FIELD);
                        }
                        m.set_tp_dst_masked(tp_dst, u16::MAX);
                    }
                }
                IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP => {
                    if wc & OFPFW11_TP_SRC == 0 {
                        m.set_tp_src_masked(tp_src, u16::MAX);
                    }
                    if wc & OFPFW11_TP_DST == 0 {
                        m.set_tp_dst_masked(tp_dst, u16::MAX);
                    }
                }
                // OF1.1 says to ignore transport ports for other protocols.
                _ => {}
            }
        }
        if eth_type_mpls(m.flow.dl_type) {
            if wc & OFPFW11_MPLS_LABEL == 0 {
                m.mask.mpls_lse[0] |= MPLS_LABEL_MASK;
                let lse = &mut m.flow.mpls_lse[0];
                *lse = (*lse & !MPLS_LABEL_MASK) | ((be32(b, 64) << MPLS_LABEL_SHIFT) & MPLS_LABEL_MASK);
            }
            if wc & OFPFW11_MPLS_TC == 0 {
                m.mask.mpls_lse[0] |= MPLS_TC_MASK;
                let lse = &mut m.flow.mpls_lse[0];
                *lse = (*lse & !MPLS_TC_MASK) | ((u32::from(b[68]) << MPLS_TC_SHIFT) & MPLS_TC_MASK);
            }
        }
        m.set_metadata_masked(be64(b, 72), !be64(b, 80));
        Ok(m)
    }

    /// Encodes as an `ofp11_match` (header included).
    pub fn to_ofp11(&self) -> [u8; OFP11_MATCH_LEN] {
        let (f, w) = (&self.flow, &self.mask);
        let mut b = [0u8; OFP11_MATCH_LEN];
        let mut wc = 0;
        b[0..2].copy_from_slice(&OFPMT_STANDARD.to_be_bytes());
        b[2..4].copy_from_slice(&(OFP11_MATCH_LEN as u16).to_be_bytes());
        if w.in_port == 0 {
            wc |= OFPFW11_IN_PORT;
        } else {
            b[4..8].copy_from_slice(&f.in_port.to_be_bytes());
        }
        b[12..18].copy_from_slice(&f.dl_src.0);
        b[18..24].copy_from_slice(&not_mac(w.dl_src).0);
        b[24..30].copy_from_slice(&f.dl_dst.0);
        b[30..36].copy_from_slice(&not_mac(w.dl_dst).0);
        let (tci, tci_mask) = (f.vlans[0].tci, w.vlans[0].tci);
        if tci_mask == 0 {
            wc |= OFPFW11_DL_VLAN | OFPFW11_DL_VLAN_PCP;
        } else if tci_mask & VLAN_CFI != 0 && tci & VLAN_CFI == 0 {
            b[36..38].copy_from_slice(&OFPVID11_NONE.to_be_bytes());
            wc |= OFPFW11_DL_VLAN_PCP;
        } else {
            let vid = if tci_mask & VLAN_VID_MASK == 0 { OFPVID11_ANY } else { vlan_tci_to_vid(tci) };
            b[36..38].copy_from_slice(&vid.to_be_bytes());
            if tci_mask & VLAN_PCP_MASK == 0 {
                wc |= OFPFW11_DL_VLAN_PCP;
            } else {
                b[38] = vlan_tci_to_pcp(tci);
            }
        }
        if w.dl_type == 0 {
            wc |= OFPFW11_DL_TYPE;
        } else {
            b[40..42].copy_from_slice(&f.dl_type.to_be_bytes());
        }
        if w.nw_tos & IP_DSCP_MASK == 0 {
            wc |= OFPFW11_NW_TOS;
        } else {
            b[42] = f.nw_tos & IP_DSCP_MASK;
        }
        if w.nw_proto == 0 {
            wc |= OFPFW11_NW_PROTO;
        } else {
            b[43] = f.nw_proto;
        }
        b[44..48].copy_from_slice(&f.nw_src.to_be_bytes());
        b[48..52].copy_from_slice(&(!w.nw_src).to_be_bytes());
        b[52..56].copy_from_slice(&f.nw_dst.to_be_bytes());
        b[56..60].copy_from_slice(&(!w.nw_dst).to_be_bytes());
        if w.tp_src == 0 {
            wc |= OFPFW11_TP_SRC;
        } else {
            b[60..62].copy_from_slice(&f.tp_src.to_be_bytes());
        }
        if w.tp_dst == 0 {
            wc |= OFPFW11_TP_DST;
        } else {
            b[62..64].copy_from_slice(&f.tp_dst.to_be_bytes());
        }
        if w.mpls_lse[0] & MPLS_LABEL_MASK == 0 {
            wc |= OFPFW11_MPLS_LABEL;
        } else {
            b[64..68].copy_from_slice(&mpls_lse_to_label(f.mpls_lse[0]).to_be_bytes());
        }
        if w.mpls_lse[0] & MPLS_TC_MASK == 0 {
            wc |= OFPFW11_MPLS_TC;
        } else {
            b[68] = mpls_lse_to_tc(f.mpls_lse[0]);
        }
        b[72..80].copy_from_slice(&f.metadata.to_be_bytes());
        b[80..88].copy_from_slice(&(!w.metadata).to_be_bytes());
        b[8..12].copy_from_slice(&wc.to_be_bytes());
        b
    }
}

/// Pulls an OF1.1+ match, standard or OXM (strict), returning it and the bytes consumed
/// including padding (OVS `ofputil_pull_ofp11_match`).
pub fn pull_ofp11_match(r: &mut Reader) -> Result<(Match, usize), OfpErr> {
    let mut m = Match::catchall();
    let len = pull_ofp11_match_into(r, &mut m)?;
    Ok((m, len))
}

/// `pull_ofp11_match` into `m`, a catch-all (see `nxm::decode_raw_into`).
pub(crate) fn pull_ofp11_match_into(r: &mut Reader, m: &mut Match) -> Result<usize, OfpErr> {
    let rest = r.peek_rest();
    if rest.len() < 4 {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
    match u16::from_be_bytes([rest[0], rest[1]]) {
        OFPMT_STANDARD => {
            if len != OFP11_MATCH_LEN || rest.len() < OFP11_MATCH_LEN {
                return Err(OfpErr::OFPBMC_BAD_LEN);
            }
            let b: [u8; OFP11_MATCH_LEN] = r.array()?;
            *m = Match::from_ofp11(&b)?;
            Ok(OFP11_MATCH_LEN)
        }
        OFPMT_OXM => nxm::pull_oxm_match_into(r, true, false, m),
        _ => Err(OfpErr::OFPBMC_BAD_TYPE),
    }
}

/// Appends the match OVS would put in a `version` (OF1.1+) message: standard for OF1.1, OXM
/// after. Returns the unpadded length.
pub fn put_ofp11_match(buf: &mut BytesMut, m: &Match, version: u8) -> usize {
    if version == OFP11_VERSION {
        buf.put_slice(&m.to_ofp11());
        OFP11_MATCH_LEN
    } else {
        nxm::put_oxm_match(buf, m, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::parse_hex;

    #[test]
    fn ofp11_vector_match() {
        // From OVS's OF1.1 flow-mod test: arp,arp_spa=192.168.128.0/24.
        let b = parse_hex(
            "0000005800000000000003f7000000000000ffffffffffff000000000000ffffffffffff000000000806\
             0000c0a88000000000ff00000000ffffffff0000000000000000000000000000000000000000ffffffffffffffff",
        )
        .unwrap();
        let m = Match::from_ofp11(&b.clone().try_into().unwrap()).unwrap();
        assert_eq!(m.to_string(), "arp,arp_spa=192.168.128.0/24");
        assert_eq!(&m.to_ofp11()[..], &b[..]);
    }

    #[test]
    fn ofp11_bad_values() {
        let mut b = Match::catchall().to_ofp11();
        b[8..12].copy_from_slice(&(OFPFW11_ALL_BUT_VLAN).to_be_bytes());
        b[36..38].copy_from_slice(&5000u16.to_be_bytes());
        assert_eq!(Match::from_ofp11(&b), Err(OfpErr::OFPBMC_BAD_VALUE));
        let mut b = Match::catchall().to_ofp11();
        b[8..12].copy_from_slice(&0x3feu32.to_be_bytes());
        b[4..8].copy_from_slice(&0x1_0000u32.to_be_bytes());
        assert_eq!(Match::from_ofp11(&b), Err(OfpErr::OFPBMC_BAD_VALUE));
    }

    const OFPFW11_ALL_BUT_VLAN: u32 = 0x3ff & !OFPFW11_DL_VLAN;
}
