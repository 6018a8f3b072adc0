//! `Match`: flow values plus wildcard masks (OVS `struct match`), its semantics (matching,
//! canonical form, prerequisites, OF1.0/1.1 normalization) and OVS's text (`match_format`).
//! Wire codecs live in the submodules: `ofp10` (ofp10_match), `ofp11` (ofp11_match and the OF1.1+
//! match dispatcher), `nxm` (NXM and OXM TLVs).

pub mod nxm;
pub mod ofp10;
pub mod ofp11;

use std::fmt;
use std::fmt::Write;

use crate::errors::OfpErr;
use crate::flow::text;
use crate::flow::*;
use crate::mf::{self, MfId};
use crate::port_no;
use crate::print::hex_alt;

/// Priority OVS leaves out of match text.
pub const OFP_DEFAULT_PRIORITY: u16 = 0x8000;

/// A flow match: `flow` holds the values (zero wherever `mask` is zero, in canonical form) and
/// `mask` has a 1 for every bit that must match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Match {
    pub flow: Flow,
    pub mask: Flow,
}

impl Match {
    /// Matches every packet.
    pub fn catchall() -> Match {
        Match::default()
    }

    /// True if `pkt` has the matched values in every masked bit.
    pub fn matches(&self, pkt: &Flow) -> bool {
        pkt.and(&self.mask) == self.flow.and(&self.mask)
    }

    pub fn is_catchall(&self) -> bool {
        self.mask.is_zero()
    }

    /// Zeroes value bits the mask wildcards (OVS `match_zero_wildcarded_fields`), the form in
    /// which two equivalent matches compare equal.
    pub fn zero_wildcarded(&mut self) {
        self.flow = self.flow.and(&self.mask);
    }

    /// True if this match is in canonical form (no value bit outside the mask).
    pub fn is_canonical(&self) -> bool {
        self.flow.is_within(&self.mask)
    }

    /// The canonical copy of this match.
    pub fn canonical(&self) -> Match {
        let mut m = *self;
        m.zero_wildcarded();
        m
    }

    /// Matches `value` under `mask` in field `id` (OVS `mf_set`); false if the field cannot take
    /// a partial mask.
    pub fn set(&mut self, id: MfId, value: u128, mask: u128) -> bool {
        mf::set(id, value, mask, self)
    }

    /// Matches field `id` exactly.
    pub fn set_exact(&mut self, id: MfId, value: u128) {
        mf::set_value(id, value, self)
    }

    /// The (value, mask) this match has for field `id`.
    pub fn get(&self, id: MfId) -> (u128, u128) {
        mf::get_masked(id, self)
    }

    /// Matches input port `port` (OF1.1+ numbering, see `port_no`).
    pub fn set_in_port(&mut self, port: u32) {
        self.flow.in_port = port;
        self.mask.in_port = u32::MAX;
    }

    pub fn set_dl_type(&mut self, dl_type: u16) {
        self.flow.dl_type = dl_type;
        self.mask.dl_type = u16::MAX;
    }

    pub fn set_nw_proto(&mut self, proto: u8) {
        self.flow.nw_proto = proto;
        self.mask.nw_proto = u8::MAX;
    }

    pub fn set_dl_src_masked(&mut self, addr: EthAddr, mask: EthAddr) {
        self.flow.dl_src = addr.and(mask);
        self.mask.dl_src = mask;
    }

    pub fn set_dl_dst_masked(&mut self, addr: EthAddr, mask: EthAddr) {
        self.flow.dl_dst = addr.and(mask);
        self.mask.dl_dst = mask;
    }

    pub fn set_nw_src_masked(&mut self, ip: u32, mask: u32) {
        self.flow.nw_src = ip & mask;
        self.mask.nw_src = mask;
    }

    pub fn set_nw_dst_masked(&mut self, ip: u32, mask: u32) {
        self.flow.nw_dst = ip & mask;
        self.mask.nw_dst = mask;
    }

    pub fn set_tp_src_masked(&mut self, port: u16, mask: u16) {
        self.flow.tp_src = port & mask;
        self.mask.tp_src = mask;
    }

    pub fn set_tp_dst_masked(&mut self, port: u16, mask: u16) {
        self.flow.tp_dst = port & mask;
        self.mask.tp_dst = mask;
    }

    pub fn set_metadata_masked(&mut self, metadata: u64, mask: u64) {
        self.flow.metadata = metadata & mask;
        self.mask.metadata = mask;
    }

    pub fn set_reg_masked(&mut self, reg: usize, value: u32, mask: u32) {
        self.flow.regs[reg] = value & mask;
        self.mask.regs[reg] = mask;
    }

    pub fn set_tun_id_masked(&mut self, tun_id: u64, mask: u64) {
        self.flow.tun_id = tun_id & mask;
        self.mask.tun_id = mask;
    }

    /// NXM-style TCI match: CFI means "tagged".
    pub fn set_dl_tci_masked(&mut self, tci: u16, mask: u16) {
        self.flow.vlans[0].tci = tci & mask;
        self.mask.vlans[0].tci = mask;
    }

    /// OXM-style VID match (OFPVID_PRESENT is the CFI bit); keeps any PCP match.
    pub fn set_vlan_vid_masked(&mut self, vid: u16, mask: u16) {
        let mask = mask & (VLAN_VID_MASK | VLAN_CFI);
        let vid_mask = VLAN_VID_MASK | VLAN_CFI;
        self.flow.vlans[0].tci = (self.flow.vlans[0].tci & !vid_mask) | (vid & mask);
        self.mask.vlans[0].tci = mask | (self.mask.vlans[0].tci & VLAN_PCP_MASK);
    }

    /// Matches a PCP, which implies a VLAN header.
    pub fn set_vlan_pcp(&mut self, pcp: u8) {
        let tci = &mut self.flow.vlans[0].tci;
        *tci = (*tci & !VLAN_PCP_MASK) | (u16::from(pcp & 7) << VLAN_PCP_SHIFT) | VLAN_CFI;
        self.mask.vlans[0].tci |= VLAN_CFI | VLAN_PCP_MASK;
    }

    /// Stops matching the VID (OVS `match_set_any_vid`).
    pub fn set_any_vid(&mut self) {
        if self.mask.vlans[0].tci & VLAN_PCP_MASK != 0 {
            self.mask.vlans[0].tci &= !VLAN_VID_MASK;
            self.flow.vlans[0].tci &= !VLAN_VID_MASK;
        } else {
            self.set_dl_tci_masked(0, 0);
        }
    }

    /// Stops matching the PCP (OVS `match_set_any_pcp`).
    pub fn set_any_pcp(&mut self) {
        if self.mask.vlans[0].tci & VLAN_VID_MASK != 0 {
            self.mask.vlans[0].tci &= !VLAN_PCP_MASK;
            self.flow.vlans[0].tci &= !VLAN_PCP_MASK;
        } else {
            self.set_dl_tci_masked(0, 0);
        }
    }

    pub fn set_packet_type(&mut self, packet_type: u32) {
        self.flow.packet_type = packet_type;
        self.mask.packet_type = u32::MAX;
    }

    /// Matches Ethernet packets unless the packet type is already matched (OVS
    /// `match_set_default_packet_type`); implied by any field that has prerequisites.
    pub fn set_default_packet_type(&mut self) {
        if self.mask.packet_type == 0 {
            self.set_packet_type(PT_ETH);
        }
    }

    pub fn has_default_packet_type(&self) -> bool {
        self.flow.packet_type == PT_ETH && self.mask.packet_type == u32::MAX
    }

    /// Every matched field has its prerequisites in this match (what NXM/OXM decoding enforces
    /// entry by entry, with OFPBMC_BAD_PREREQ).
    pub fn check_prereqs(&self) -> Result<(), OfpErr> {
        for id in MfId::all() {
            if !mf::is_all_wild(id, self) && !mf::aliases(id).iter().any(|&a| mf::prereqs_ok(a, &self.flow)) {
                return Err(OfpErr::OFPBMC_BAD_PREREQ);
            }
        }
        Ok(())
    }

    /// OVS `ofputil_normalize_match`: wildcards fields the match's protocol makes meaningless
    /// (e.g. nw_tos of an ARP flow), as done to OF1.0 flow mods. Returns true if it changed.
    pub fn normalize(&mut self) -> bool {
        const ETHER: u16 = 1 << 0;
        const NW_ADDR: u16 = 1 << 1;
        const TP_ADDR: u16 = 1 << 2;
        const NW_PROTO: u16 = 1 << 3;
        const IPVX: u16 = 1 << 4;
        const ARP_SHA: u16 = 1 << 5;
        const ARP_THA: u16 = 1 << 6;
        const IPV6: u16 = 1 << 7;
        const ND_TARGET: u16 = 1 << 8;
        const MPLS: u16 = 1 << 9;
        let f = &self.flow;
        let (mut may, dl_type) = if self.mask.packet_type == 0 || self.has_default_packet_type() {
            (ETHER, f.dl_type)
        } else if self.mask.packet_type == u32::MAX && pt_ns(f.packet_type) == OFPHTN_ETHERTYPE {
            (0, pt_ns_type(f.packet_type))
        } else {
            (0, 0)
        };
        match dl_type {
            ETH_TYPE_IP => {
                may |= NW_PROTO | IPVX | NW_ADDR;
                if matches!(f.nw_proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP | IPPROTO_ICMP) {
                    may |= TP_ADDR;
                }
            }
            ETH_TYPE_IPV6 => {
                may |= NW_PROTO | IPVX | IPV6;
                if matches!(f.nw_proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP) {
                    may |= TP_ADDR;
                } else if f.nw_proto == IPPROTO_ICMPV6 {
                    may |= TP_ADDR;
                    if f.tp_src == ND_NEIGHBOR_SOLICIT {
                        may |= ND_TARGET | ARP_SHA;
                    } else if f.tp_src == ND_NEIGHBOR_ADVERT {
                        may |= ND_TARGET | ARP_THA;
                    }
                }
            }
            ETH_TYPE_ARP | ETH_TYPE_RARP => may |= NW_PROTO | NW_ADDR | ARP_SHA | ARP_THA,
            t if eth_type_mpls(t) => may |= MPLS,
            _ => {}
        }
        let mut w = self.mask;
        if may & ETHER == 0 {
            w.dl_src = EthAddr::ZERO;
            w.dl_dst = EthAddr::ZERO;
        }
        if may & NW_ADDR == 0 {
            w.nw_src = 0;
            w.nw_dst = 0;
        }
        if may & TP_ADDR == 0 {
            w.tp_src = 0;
            w.tp_dst = 0;
        }
        if may & NW_PROTO == 0 {
            w.nw_proto = 0;
        }
        if may & IPVX == 0 {
            w.nw_tos = 0;
            w.nw_ttl = 0;
        }
        if may & ARP_SHA == 0 {
            w.arp_sha = EthAddr::ZERO;
        }
        if may & ARP_THA == 0 {
            w.arp_tha = EthAddr::ZERO;
        }
        if may & IPV6 == 0 {
            w.ipv6_src = 0;
            w.ipv6_dst = 0;
            w.ipv6_label = 0;
        }
        if may & ND_TARGET == 0 {
            w.nd_target = 0;
        }
        if may & MPLS == 0 {
            w.mpls_lse = [0; FLOW_MAX_MPLS_LABELS];
        }
        if w == self.mask {
            return false;
        }
        self.mask = w;
        self.zero_wildcarded();
        true
    }

    /// The match as OVS `match_format` writes it, with "priority=N," first unless `priority` is
    /// OFP_DEFAULT_PRIORITY.
    pub fn format(&self, priority: u16, out: &mut String) {
        format_match(self, priority, out)
    }

    pub fn to_text(&self, priority: u16) -> String {
        let mut s = String::new();
        self.format(priority, &mut s);
        s
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text(OFP_DEFAULT_PRIORITY))
    }
}

fn put_u32_masked(s: &mut String, name: &str, v: u32, m: u32) {
    put_u64_masked(s, name, v.into(), m.into(), u32::MAX.into())
}

/// OVS `format_uint32_masked`/`format_be64_masked`: C-style `%#x` value, mask unless exact.
fn put_u64_masked(s: &mut String, name: &str, v: u64, m: u64, exact: u64) {
    if m != 0 {
        let _ = write!(s, "{name}={}", hex_alt(v));
        if m != exact {
            let _ = write!(s, "/{}", hex_alt(m));
        }
        s.push(',');
    }
}

fn put_be16_masked(s: &mut String, name: &str, v: u16, m: u16) {
    if m != 0 {
        if m == u16::MAX {
            let _ = write!(s, "{name}={v},");
        } else {
            let _ = write!(s, "{name}={v:#x}/{m:#x},");
        }
    }
}

fn put_be32_masked(s: &mut String, name: &str, v: u32, m: u32) {
    if m != 0 {
        if m == u32::MAX {
            let _ = write!(s, "{name}={v},");
        } else {
            let _ = write!(s, "{name}=0x{v:08x}/0x{m:08x},");
        }
    }
}

fn put_eth_masked(s: &mut String, name: &str, v: EthAddr, m: EthAddr) {
    if !m.is_zero() {
        let _ = write!(s, "{name}=");
        text::eth_masked(v, m, s);
        s.push(',');
    }
}

fn put_ip_masked(s: &mut String, name: &str, v: u32, m: u32) {
    if m != 0 {
        let _ = write!(s, "{name}=");
        text::ipv4_masked(v, m, s);
        s.push(',');
    }
}

fn put_ipv6_masked(s: &mut String, name: &str, v: u128, m: u128) {
    if m != 0 {
        let _ = write!(s, "{name}=");
        text::ipv6_masked(v, m, s);
        s.push(',');
    }
}

/// OVS `match_format`, field by field in OVS's order.
fn format_match(m: &Match, priority: u16, s: &mut String) {
    let (f, w) = (&m.flow, &m.mask);
    let start = s.len();
    if priority != OFP_DEFAULT_PRIORITY {
        let _ = write!(s, "priority={priority},");
    }
    put_u32_masked(s, "pkt_mark", f.pkt_mark, w.pkt_mark);
    put_u32_masked(s, "dp_hash", f.dp_hash, w.dp_hash);

    let mut dl_type = f.dl_type;
    if w.packet_type != 0 && !m.has_default_packet_type() {
        mf::format_packet_type(f.packet_type, w.packet_type, s);
        s.push(',');
        if pt_ns(f.packet_type) == OFPHTN_ETHERTYPE {
            dl_type = pt_ns_type(f.packet_type);
        }
    }

    let (mut skip_type, mut skip_proto) = (false, false);
    if w.dl_type != 0 {
        skip_type = true;
        let proto_name = |v4: bool| -> Option<&'static str> {
            Some(match (v4, f.nw_proto) {
                (true, IPPROTO_ICMP) => "icmp",
                (true, IPPROTO_TCP) => "tcp",
                (true, IPPROTO_UDP) => "udp",
                (true, IPPROTO_SCTP) => "sctp",
                (false, IPPROTO_ICMPV6) => "icmp6",
                (false, IPPROTO_TCP) => "tcp6",
                (false, IPPROTO_UDP) => "udp6",
                (false, IPPROTO_SCTP) => "sctp6",
                _ => return None,
            })
        };
        match dl_type {
            ETH_TYPE_IP | ETH_TYPE_IPV6 => {
                let v4 = dl_type == ETH_TYPE_IP;
                let named = if w.nw_proto != 0 { proto_name(v4) } else { None };
                skip_proto = named.is_some();
                s.push_str(named.unwrap_or(if v4 { "ip" } else { "ipv6" }));
                s.push(',');
            }
            ETH_TYPE_ARP => s.push_str("arp,"),
            ETH_TYPE_RARP => s.push_str("rarp,"),
            ETH_TYPE_MPLS => s.push_str("mpls,"),
            ETH_TYPE_MPLS_MCAST => s.push_str("mplsm,"),
            _ => skip_type = false,
        }
    }
    for i in 0..FLOW_N_REGS {
        put_u32_masked(s, &format!("reg{i}"), f.regs[i], w.regs[i]);
    }
    put_u64_masked(s, "tun_id", f.tun_id, w.tun_id, u64::MAX);
    put_u64_masked(s, "metadata", f.metadata, w.metadata, u64::MAX);
    if w.in_port != 0 {
        s.push_str("in_port=");
        port_no::format_port(f.in_port, s);
        s.push(',');
    }
    for i in 0..FLOW_MAX_VLAN_HEADERS {
        let mask = w.vlans[i].tci;
        if mask == 0 {
            break;
        }
        let sfx = if i == 0 { String::new() } else { i.to_string() };
        let tci = f.vlans[i].tci;
        let vid_mask = mask & VLAN_VID_MASK;
        let pcp_mask = mask & VLAN_PCP_MASK;
        let cfi = mask & VLAN_CFI != 0;
        if cfi
            && tci & VLAN_CFI != 0
            && (vid_mask == 0 || vid_mask == VLAN_VID_MASK)
            && (pcp_mask == 0 || pcp_mask == VLAN_PCP_MASK)
            && (vid_mask != 0 || pcp_mask != 0)
        {
            if vid_mask != 0 {
                let _ = write!(s, "dl_vlan{sfx}={},", vlan_tci_to_vid(tci));
            }
            if pcp_mask != 0 {
                let _ = write!(s, "dl_vlan_pcp{sfx}={},", vlan_tci_to_pcp(tci));
            }
        } else if mask == 0xffff {
            let _ = write!(s, "vlan_tci{sfx}=0x{tci:04x},");
        } else {
            let _ = write!(s, "vlan_tci{sfx}=0x{tci:04x}/0x{mask:04x},");
        }
    }
    put_eth_masked(s, "dl_src", f.dl_src, w.dl_src);
    put_eth_masked(s, "dl_dst", f.dl_dst, w.dl_dst);
    if !skip_type && w.dl_type != 0 {
        let _ = write!(s, "dl_type=0x{dl_type:04x},");
    }
    let arp = dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP;
    if dl_type == ETH_TYPE_IPV6 {
        put_ipv6_masked(s, "ipv6_src", f.ipv6_src, w.ipv6_src);
        put_ipv6_masked(s, "ipv6_dst", f.ipv6_dst, w.ipv6_dst);
        if w.ipv6_label != 0 {
            if w.ipv6_label == u32::MAX {
                let _ = write!(s, "ipv6_label=0x{:05x},", f.ipv6_label);
            } else {
                let _ = write!(s, "ipv6_label=0x{:05x}/0x{:05x},", f.ipv6_label, w.ipv6_label);
            }
        }
    } else if arp {
        put_ip_masked(s, "arp_spa", f.nw_src, w.nw_src);
        put_ip_masked(s, "arp_tpa", f.nw_dst, w.nw_dst);
    } else {
        put_ip_masked(s, "nw_src", f.nw_src, w.nw_src);
        put_ip_masked(s, "nw_dst", f.nw_dst, w.nw_dst);
    }
    if !skip_proto && w.nw_proto != 0 {
        let _ = write!(s, "{}={},", if arp { "arp_op" } else { "nw_proto" }, f.nw_proto);
    }
    if arp {
        put_eth_masked(s, "arp_sha", f.arp_sha, w.arp_sha);
        put_eth_masked(s, "arp_tha", f.arp_tha, w.arp_tha);
    }
    if w.nw_tos & IP_DSCP_MASK != 0 {
        let _ = write!(s, "nw_tos={},", f.nw_tos & IP_DSCP_MASK);
    }
    if w.nw_tos & IP_ECN_MASK != 0 {
        let _ = write!(s, "nw_ecn={},", f.nw_tos & IP_ECN_MASK);
    }
    if w.nw_ttl != 0 {
        let _ = write!(s, "nw_ttl={},", f.nw_ttl);
    }
    let lse = (f.mpls_lse[0], w.mpls_lse[0]);
    if lse.1 & MPLS_LABEL_MASK != 0 {
        let _ = write!(s, "mpls_label={},", mpls_lse_to_label(lse.0));
    }
    if lse.1 & MPLS_TC_MASK != 0 {
        let _ = write!(s, "mpls_tc={},", mpls_lse_to_tc(lse.0));
    }
    if lse.1 & MPLS_TTL_MASK != 0 {
        let _ = write!(s, "mpls_ttl={},", mpls_lse_to_ttl(lse.0));
    }
    if lse.1 & MPLS_BOS_MASK != 0 {
        let _ = write!(s, "mpls_bos={},", mpls_lse_to_bos(lse.0));
    }
    put_be32_masked(s, "mpls_lse1", f.mpls_lse[1], w.mpls_lse[1]);
    put_be32_masked(s, "mpls_lse2", f.mpls_lse[2], w.mpls_lse[2]);
    let frag_mask = w.nw_frag & FLOW_NW_FRAG_MASK;
    if frag_mask != 0 {
        let _ = write!(s, "nw_frag={},", mf::frag_name(f.nw_frag, frag_mask));
    }
    if dl_type == ETH_TYPE_IP && f.nw_proto == IPPROTO_ICMP {
        put_be16_masked(s, "icmp_type", f.tp_src, w.tp_src);
        put_be16_masked(s, "icmp_code", f.tp_dst, w.tp_dst);
    } else if dl_type == ETH_TYPE_IPV6 && f.nw_proto == IPPROTO_ICMPV6 {
        put_be16_masked(s, "icmp_type", f.tp_src, w.tp_src);
        put_be16_masked(s, "icmp_code", f.tp_dst, w.tp_dst);
        put_ipv6_masked(s, "nd_target", f.nd_target, w.nd_target);
        put_eth_masked(s, "nd_sll", f.arp_sha, w.arp_sha);
        put_eth_masked(s, "nd_tll", f.arp_tha, w.arp_tha);
        put_be16_masked(s, "nd_options_type", f.tcp_flags, w.tcp_flags);
    } else {
        put_be16_masked(s, "tp_src", f.tp_src, w.tp_src);
        put_be16_masked(s, "tp_dst", f.tp_dst, w.tp_dst);
    }
    if f.is_ip_any() && f.nw_proto == IPPROTO_TCP && w.tcp_flags != 0 {
        s.push_str("tcp_flags=");
        text::flags_masked(text::tcp_flag_name, u32::from(f.tcp_flags), u32::from(w.tcp_flags & 0x0fff), 0x0fff, s);
        // OVS leaves no separator after the flags, relying on the final chomp.
    }
    if s.len() > start && s.ends_with(',') {
        s.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_match() -> Match {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_proto(IPPROTO_TCP);
        m.set_in_port(1);
        m.set_nw_src_masked(0x0a00_0001, 0xff00_0000);
        m.set_tp_dst_masked(80, 0xffff);
        m
    }

    #[test]
    fn format_like_ovs() {
        assert_eq!(tcp_match().to_text(100), "priority=100,tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80");
        assert_eq!(Match::catchall().to_text(OFP_DEFAULT_PRIORITY), "");
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IPV6);
        m.set_nw_proto(IPPROTO_ICMPV6);
        m.set_tp_src_masked(135, 0xffff);
        m.set_dl_tci_masked(0, 0x1fff);
        assert_eq!(m.to_string(), "icmp6,vlan_tci=0x0000/0x1fff,icmp_type=135");
        let mut m = Match::catchall();
        m.set_vlan_vid_masked(0x1000 | 10, 0x1fff);
        m.set_vlan_pcp(3);
        m.set_dl_type(0x88b5);
        m.set_reg_masked(2, 5, 0xff);
        assert_eq!(m.to_string(), "reg2=0x5/0xff,dl_vlan=10,dl_vlan_pcp=3,dl_type=0x88b5");
    }

    #[test]
    fn matching_and_canonical_form() {
        let m = tcp_match();
        let mut pkt = Flow { dl_type: ETH_TYPE_IP, nw_proto: IPPROTO_TCP, in_port: 1, ..Flow::default() };
        pkt.nw_src = 0x0a01_0203;
        pkt.tp_dst = 80;
        pkt.tp_src = 1234;
        assert!(m.matches(&pkt));
        pkt.nw_src = 0x0b00_0000;
        assert!(!m.matches(&pkt));
        let mut loose = m;
        loose.flow.nw_src = 0x0a01_0203;
        assert_ne!(loose, m);
        assert_eq!(loose.canonical(), m);
        assert!(m.is_canonical() && !loose.is_canonical());
        // One stray bit anywhere, even in a register or the last member, is enough.
        let mut in_reg = m.flow;
        in_reg.regs[3] = 4;
        for stray in [in_reg, Flow { arp_tha: EthAddr([0, 0, 0, 0, 0, 1]), ..m.flow }] {
            assert!(!Match { flow: stray, mask: m.mask }.is_canonical(), "{stray:?}");
        }
    }

    #[test]
    fn prerequisites() {
        let mut m = Match::catchall();
        m.set_tp_dst_masked(80, 0xffff);
        assert_eq!(m.check_prereqs(), Err(OfpErr::OFPBMC_BAD_PREREQ));
        assert!(tcp_match().check_prereqs().is_ok());
        let mut m = Match::catchall();
        m.set_vlan_pcp(2);
        assert!(m.check_prereqs().is_ok());
    }

    #[test]
    fn normalization_drops_meaningless_fields() {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_ARP);
        m.set_tp_src_masked(5, 0xffff);
        m.mask.nw_tos = IP_DSCP_MASK;
        assert!(m.normalize());
        assert_eq!(m.mask.tp_src, 0);
        assert_eq!(m.mask.nw_tos, 0);
        assert!(!m.normalize());
    }
}
