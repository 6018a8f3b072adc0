//! `Flow::extract`: parse a frame into its flow the way OVS `miniflow_extract` does (Ethernet,
//! up to two VLAN tags, LLC/SNAP, MPLS, IPv4, IPv6 with extension headers, ARP, TCP, UDP, SCTP,
//! ICMP, IGMP, ICMPv6 neighbor discovery). Truncated or malformed headers stop the parse where
//! OVS stops it; nothing here can panic.

use super::*;
use crate::buf::{be16, be32};

/// Where the transport header starts and how many bytes of it there are (padding excluded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct L4 {
    pub ofs: usize,
    pub len: usize,
}

/// A forward-only view of the frame.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// End of meaningful data (IP total length may cut off Ethernet padding).
    end: usize,
}

impl<'a> Cursor<'a> {
    fn size(&self) -> usize {
        self.end - self.pos
    }

    fn peek(&self, n: usize) -> Option<&'a [u8]> {
        (self.size() >= n).then(|| &self.data[self.pos..self.pos + n])
    }

    fn pull(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.peek(n)?;
        self.pos += n;
        Some(b)
    }
}

fn be128(b: &[u8], at: usize) -> u128 {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    u128::from_be_bytes(a)
}

impl Flow {
    /// The flow of an Ethernet frame received on OpenFlow port `in_port`.
    pub fn extract(packet: &[u8], in_port: u32) -> Flow {
        Flow::extract_typed(packet, PT_ETH, in_port)
    }

    /// Like `extract`, for a packet whose OF1.5 `packet_type` may be other than Ethernet.
    pub fn extract_typed(packet: &[u8], packet_type: u32, in_port: u32) -> Flow {
        extract(packet, packet_type, in_port).0
    }
}

const IP_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
const TCP_HEADER_LEN: usize = 20;
const ARP_ETH_HEADER_LEN: usize = 28;

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_AH: u8 = 51;
const IPPROTO_DSTOPTS: u8 = 60;

pub(crate) fn extract(packet: &[u8], packet_type: u32, in_port: u32) -> (Flow, Option<L4>) {
    let mut flow = Flow { in_port, packet_type, ..Flow::default() };
    let mut c = Cursor { data: packet, pos: 0, end: packet.len() };

    let dl_type = if packet_type == PT_ETH {
        let Some(eth) = c.peek(14) else { return (flow, None) };
        flow.dl_dst = EthAddr::read(eth, 0);
        flow.dl_src = EthAddr::read(eth, 6);
        c.pos += 12;
        for vlan in flow.vlans.iter_mut() {
            let tpid = c.peek(2).map_or(0, |b| be16(b, 0));
            if !eth_type_vlan(tpid) || c.size() < 6 {
                break;
            }
            let Some(q) = c.pull(4) else { break };
            *vlan = VlanHeader { tpid, tci: be16(q, 2) | VLAN_CFI };
        }
        let t = parse_ethertype(&mut c);
        flow.dl_type = t;
        t
    } else {
        flow.dl_type = pt_ns_type(packet_type);
        flow.dl_type
    };

    if eth_type_mpls(dl_type) {
        let mut n = 0;
        while let Some(lse) = c.pull(4) {
            let lse = be32(lse, 0);
            if n < FLOW_MAX_MPLS_LABELS {
                flow.mpls_lse[n] = lse;
            }
            n += 1;
            if lse & MPLS_BOS_MASK != 0 {
                break;
            }
        }
    }

    let (nw_tos, nw_ttl, mut nw_proto, mut nw_frag);
    if dl_type == ETH_TYPE_IP {
        let Some(nh) = c.peek(IP_HEADER_LEN) else { return (flow, None) };
        let ip_len = usize::from(nh[0] & 0x0f) * 4;
        let tot_len = usize::from(be16(nh, 2));
        let bad_len = tot_len > c.size() || ip_len > tot_len || c.size() - tot_len > usize::from(u16::MAX);
        if ip_len < IP_HEADER_LEN || c.size() < ip_len || bad_len {
            return (flow, None);
        }
        c.end = c.pos + tot_len;
        flow.nw_src = be32(nh, 12);
        flow.nw_dst = be32(nh, 16);
        nw_tos = nh[1];
        nw_ttl = nh[8];
        nw_proto = nh[9];
        let frag_off = be16(nh, 6);
        // More-fragments flag or a nonzero offset.
        nw_frag = 0;
        if frag_off & 0x3fff != 0 {
            nw_frag = FLOW_NW_FRAG_ANY;
            if frag_off & 0x1fff != 0 {
                nw_frag |= FLOW_NW_FRAG_LATER;
            }
        }
        c.pos += ip_len;
    } else if dl_type == ETH_TYPE_IPV6 {
        let Some(nh) = c.peek(IPV6_HEADER_LEN) else { return (flow, None) };
        let plen = usize::from(be16(nh, 4));
        if plen + IPV6_HEADER_LEN > c.size() || c.size() - (plen + IPV6_HEADER_LEN) > usize::from(u16::MAX) {
            return (flow, None);
        }
        c.pos += IPV6_HEADER_LEN;
        c.end = c.pos + plen;
        flow.ipv6_src = be128(nh, 8);
        flow.ipv6_dst = be128(nh, 24);
        let tc_flow = be32(nh, 0);
        nw_tos = (tc_flow >> 20) as u8;
        nw_ttl = nh[7];
        nw_proto = nh[6];
        nw_frag = 0;
        if !parse_ipv6_ext_hdrs(&mut c, &mut nw_proto, &mut nw_frag) {
            return (flow, None);
        }
        flow.ipv6_label = tc_flow & IPV6_LABEL_MASK;
    } else {
        if dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP {
            if let Some(arp) = c.pull(ARP_ETH_HEADER_LEN) {
                if be16(arp, 0) == 1 && be16(arp, 2) == ETH_TYPE_IP && arp[4] == 6 && arp[5] == 4 {
                    flow.nw_src = be32(arp, 14);
                    flow.nw_dst = be32(arp, 24);
                    let op = be16(arp, 6);
                    // Only the low 8 bits of the opcode are matchable.
                    if op <= 0xff {
                        flow.nw_proto = op as u8;
                    }
                    flow.arp_sha = EthAddr::read(arp, 8);
                    flow.arp_tha = EthAddr::read(arp, 18);
                }
            }
        }
        return (flow, None);
    }

    let l4 = L4 { ofs: c.pos, len: c.size() };
    flow.nw_frag = nw_frag;
    flow.nw_tos = nw_tos;
    flow.nw_ttl = nw_ttl;
    flow.nw_proto = nw_proto;
    if nw_frag & FLOW_NW_FRAG_LATER == 0 {
        extract_l4(&mut c, &mut flow);
    }
    (flow, Some(l4))
}

fn parse_ethertype(c: &mut Cursor) -> u16 {
    let proto = c.pull(2).map_or(0, |b| be16(b, 0));
    if proto >= ETH_TYPE_MIN {
        return proto;
    }
    let Some(llc) = c.peek(8) else { return FLOW_DL_TYPE_NONE };
    if llc[..6] != [0xaa, 0xaa, 0x03, 0, 0, 0] {
        return FLOW_DL_TYPE_NONE;
    }
    c.pos += 8;
    let t = be16(llc, 6);
    if t >= ETH_TYPE_MIN {
        t
    } else {
        FLOW_DL_TYPE_NONE
    }
}

/// Walks IPv6 extension headers to the terminal protocol; false if one is truncated.
fn parse_ipv6_ext_hdrs(c: &mut Cursor, nw_proto: &mut u8, nw_frag: &mut u8) -> bool {
    loop {
        let p = *nw_proto;
        if !matches!(p, IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH | IPPROTO_FRAGMENT) {
            return true;
        }
        let Some(h) = c.peek(8) else { return false };
        *nw_proto = h[0];
        match p {
            IPPROTO_FRAGMENT => {
                c.pos += 8;
                let offlg = be16(h, 2);
                if offlg != 0 {
                    *nw_frag = FLOW_NW_FRAG_ANY;
                    // Not the first fragment: the transport header is elsewhere.
                    if offlg & 0xfff8 != 0 {
                        *nw_frag |= FLOW_NW_FRAG_LATER;
                        *nw_proto = IPPROTO_FRAGMENT;
                        return true;
                    }
                }
            }
            IPPROTO_AH => {
                if c.pull((usize::from(h[1]) + 2) * 4).is_none() {
                    return false;
                }
            }
            _ => {
                if c.pull((usize::from(h[1]) + 1) * 8).is_none() {
                    return false;
                }
            }
        }
    }
}

fn extract_l4(c: &mut Cursor, flow: &mut Flow) {
    match flow.nw_proto {
        IPPROTO_TCP => {
            if let Some(tcp) = c.peek(TCP_HEADER_LEN) {
                let ctl = be16(tcp, 12);
                let hdr_len = usize::from(ctl >> 12) * 4;
                if hdr_len >= TCP_HEADER_LEN && c.size() >= hdr_len {
                    flow.tcp_flags = ctl & 0x0fff;
                    flow.tp_src = be16(tcp, 0);
                    flow.tp_dst = be16(tcp, 2);
                }
            }
        }
        IPPROTO_UDP | IPPROTO_SCTP => {
            let min = if flow.nw_proto == IPPROTO_UDP { 8 } else { 12 };
            if let Some(h) = c.peek(min) {
                flow.tp_src = be16(h, 0);
                flow.tp_dst = be16(h, 2);
            }
        }
        IPPROTO_ICMP | IPPROTO_IGMP => {
            if let Some(h) = c.peek(8) {
                flow.tp_src = u16::from(h[0]);
                flow.tp_dst = u16::from(h[1]);
            }
        }
        IPPROTO_ICMPV6 => {
            let Some(h) = c.pull(8) else { return };
            flow.tp_src = u16::from(h[0]);
            flow.tp_dst = u16::from(h[1]);
            let nd = h[1] == 0 && matches!(u16::from(h[0]), ND_NEIGHBOR_SOLICIT | ND_NEIGHBOR_ADVERT);
            if nd {
                parse_nd(c, flow);
            }
        }
        _ => {}
    }
}

/// Neighbor discovery target and link-layer address options; a repeated option voids them all.
fn parse_nd(c: &mut Cursor, flow: &mut Flow) {
    let Some(target) = c.pull(16) else { return };
    let mut target = be128(target, 0);
    let (mut sll, mut tll, mut opt_type) = (EthAddr::ZERO, EthAddr::ZERO, 0u8);
    while let Some(opt) = c.peek(8) {
        let opt_len = usize::from(opt[1]) * 8;
        if opt_len == 0 || opt_len > c.size() {
            break;
        }
        if opt_len == 8 && (opt[0] == 1 || opt[0] == 2) {
            let slot = if opt[0] == 1 { &mut sll } else { &mut tll };
            if !slot.is_zero() {
                target = 0;
                sll = EthAddr::ZERO;
                tll = EthAddr::ZERO;
                break;
            }
            *slot = EthAddr::read(opt, 2);
            if opt_type == 0 {
                opt_type = opt[0];
            }
        }
        c.pos += opt_len;
    }
    flow.nd_target = target;
    flow.arp_sha = sll;
    flow.arp_tha = tll;
    flow.tcp_flags = u16::from(opt_type);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        crate::print::parse_hex(s).unwrap()
    }

    #[test]
    fn tcp_over_ipv4() {
        // From OVS's packet-in test: 192.168.0.1:10031 -> 192.168.0.2:0, SYN.
        let p = hex("505400000006505400000005080045000028bd12000040063c6ac0a80001c0a80002272f00007850cc5b57af421e5002020026e80000000000000000");
        let (f, l4) = extract(&p, PT_ETH, 3);
        assert_eq!(f.dl_type, ETH_TYPE_IP);
        assert_eq!((f.nw_src, f.nw_dst), (0xc0a8_0001, 0xc0a8_0002));
        assert_eq!((f.nw_proto, f.nw_ttl, f.nw_tos, f.nw_frag), (IPPROTO_TCP, 64, 0, 0));
        assert_eq!((f.tp_src, f.tp_dst, f.tcp_flags), (10031, 0, 0x002));
        assert_eq!(f.in_port, 3);
        // 60-byte frame, 40-byte IP datagram: 20 bytes of TCP, Ethernet padding excluded.
        assert_eq!(l4, Some(L4 { ofs: 34, len: 20 }));
    }

    #[test]
    fn vlan_tags_and_arp() {
        let p =
            hex("ffffffffffff002320831c5f8100a0058100000208060001080006040001002320831c5fc0a80001000000000000c0a80002");
        let f = Flow::extract(&p, 0);
        assert_eq!(f.vlans[0], VlanHeader { tpid: 0x8100, tci: 0xb005 });
        assert_eq!(f.vlans[1], VlanHeader { tpid: 0x8100, tci: 0x1002 });
        assert_eq!(f.dl_type, ETH_TYPE_ARP);
        assert_eq!((f.nw_proto, f.nw_src, f.nw_dst), (1, 0xc0a8_0001, 0xc0a8_0002));
        assert_eq!(f.arp_sha, EthAddr([0, 0x23, 0x20, 0x83, 0x1c, 0x5f]));
    }

    #[test]
    fn truncated_headers_stop_the_parse() {
        assert_eq!(Flow::extract(&[1, 2, 3], 5), Flow { in_port: 5, ..Flow::default() });
        // IPv4 header claims more bytes than there are.
        let p = hex("0000000000010000000000020800450000ff000000004006000001020304");
        let (f, l4) = extract(&p, PT_ETH, 0);
        assert_eq!((f.dl_type, f.nw_src, l4), (ETH_TYPE_IP, 0, None));
        // 802.3 length without SNAP.
        let p = hex("000000000001000000000002002e424203000000");
        assert_eq!(Flow::extract(&p, 0).dl_type, FLOW_DL_TYPE_NONE);
    }

    #[test]
    fn ipv6_later_fragment_and_nd() {
        let mut p = hex("000000000001000000000002 86dd 60000000 0010 2c40");
        p.extend([0u8; 32]);
        p.extend(hex("06000008 00000001 0000000000000000"));
        let f = Flow::extract(&p, 0);
        assert_eq!((f.nw_proto, f.nw_frag), (IPPROTO_FRAGMENT, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER));
        assert_eq!(f.nw_ttl, 0x40);

        let mut p = hex("333300000001000000000002 86dd 60000000 0020 3aff");
        p.extend([0u8; 32]);
        p.extend(hex("87000000 00000000 fe800000000000000000000000000001 0101 0a0b0c0d0e0f"));
        let f = Flow::extract(&p, 0);
        assert!(f.is_nd());
        assert_eq!(f.nd_target, 0xfe80_0000_0000_0000_0000_0000_0000_0001);
        assert_eq!(f.arp_sha, EthAddr([0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]));
    }
}
