//! Rewriting frames in place, as the datapath's set and VLAN actions do (OVS `packets.c`:
//! `packet_set_*`, `eth_push_vlan`, `eth_pop_vlan`): where each header sits, the header writes,
//! and checksums kept right by incremental update (RFC 1624), so a bad checksum stays bad.
//! A header the frame does not have (or has truncated) is left alone; nothing here can panic.

use ofp_proto::flow::{eth_type_vlan, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_MIN, ETH_TYPE_RARP};
use ofp_proto::flow::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};

const ETH_HEADER_LEN: usize = 14;
const VLAN_HEADER_LEN: usize = 4;
const LLC_SNAP_LEN: usize = 8;
const IPV4_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
const ARP_ETH_IPV4_LEN: usize = 28;

/// Where a frame's network and transport headers start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    pub dl_type: u16,
    pub l3: usize,
    /// The transport header and its protocol: absent for non-first fragments and for transport
    /// headers the frame does not hold.
    pub l4: Option<(usize, u8)>,
}

fn be16(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(p.get(at..at + 2)?.try_into().ok()?))
}

fn put16(p: &mut [u8], at: usize, v: u16) {
    if let Some(s) = p.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

impl Layout {
    /// Parses as far as OVS's flow extraction would: Ethernet, up to two VLAN tags, LLC/SNAP,
    /// IPv4 or IPv6 (with extension headers), then the transport header's offset.
    pub fn parse(p: &[u8]) -> Option<Layout> {
        if p.len() < ETH_HEADER_LEN {
            return None;
        }
        let mut at = 12;
        for _ in 0..2 {
            match be16(p, at) {
                Some(t) if eth_type_vlan(t) && p.len() >= at + VLAN_HEADER_LEN + 2 => at += VLAN_HEADER_LEN,
                _ => break,
            }
        }
        let mut dl_type = be16(p, at)?;
        at += 2;
        if dl_type < ETH_TYPE_MIN {
            // 802.2 LLC with a SNAP header carries an Ethertype; anything else has none.
            let snap = p.get(at..at + LLC_SNAP_LEN)?;
            if snap[..6] != [0xaa, 0xaa, 0x03, 0, 0, 0] {
                return None;
            }
            dl_type = u16::from_be_bytes([snap[6], snap[7]]);
            at += LLC_SNAP_LEN;
        }
        let l4 = match dl_type {
            ETH_TYPE_IP => ipv4_l4(p, at),
            ETH_TYPE_IPV6 => ipv6_l4(p, at),
            _ => None,
        };
        Some(Layout { dl_type, l3: at, l4 })
    }
}

fn ipv4_l4(p: &[u8], l3: usize) -> Option<(usize, u8)> {
    let h = p.get(l3..l3 + IPV4_HEADER_LEN)?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let frag_offset = u16::from_be_bytes([h[6], h[7]]) & 0x1fff;
    (h[0] >> 4 == 4 && ihl >= IPV4_HEADER_LEN && frag_offset == 0 && p.len() >= l3 + ihl).then_some((l3 + ihl, h[9]))
}

fn ipv6_l4(p: &[u8], l3: usize) -> Option<(usize, u8)> {
    let h = p.get(l3..l3 + IPV6_HEADER_LEN)?;
    let (mut next, mut at) = (h[6], l3 + IPV6_HEADER_LEN);
    // Hop-by-hop, routing, destination options, fragment and AH headers, at most a few.
    for _ in 0..8 {
        let e = p.get(at..at + 8)?;
        match next {
            0 | 43 | 60 => at += (usize::from(e[1]) + 1) * 8,
            51 => at += (usize::from(e[1]) + 2) * 4,
            44 => {
                if u16::from_be_bytes([e[2], e[3]]) & 0xfff8 != 0 {
                    return None;
                }
                at += 8;
            }
            proto => return Some((at, proto)),
        }
        next = e[0];
    }
    None
}

/// The one's-complement checksum `csum` after 16-bit word `old` became `new` (RFC 1624).
fn csum_replace16(csum: u16, old: u16, new: u16) -> u16 {
    let sum = u32::from(!csum) + u32::from(!old) + u32::from(new);
    let sum = (sum & 0xffff) + (sum >> 16);
    !(((sum & 0xffff) + (sum >> 16)) as u16)
}

/// [`csum_replace16`] for a change of `old` to `new` spread over whole 16-bit words.
fn csum_replace(mut csum: u16, old: &[u8], new: &[u8]) -> u16 {
    for (o, n) in old.chunks_exact(2).zip(new.chunks_exact(2)) {
        csum = csum_replace16(csum, u16::from_be_bytes([o[0], o[1]]), u16::from_be_bytes([n[0], n[1]]));
    }
    csum
}

/// Where a transport protocol keeps its checksum (UDP's may be 0: none, and stays so).
fn l4_csum_offset(proto: u8) -> Option<usize> {
    match proto {
        IPPROTO_TCP => Some(16),
        IPPROTO_UDP => Some(6),
        IPPROTO_ICMPV6 => Some(2),
        _ => None,
    }
}

/// Writes `new` over the bytes at `at` and folds the change into the checksum at `csum_at` (and,
/// for a pseudo-header field, into the transport checksum).
fn write_field(p: &mut [u8], at: usize, new: &[u8], csum_at: Option<usize>, l4: Option<(usize, u8)>) {
    let Some(old) = p.get(at..at + new.len()).map(<[u8]>::to_vec) else { return };
    if old == new {
        return;
    }
    p[at..at + new.len()].copy_from_slice(new);
    // Checksums cover 16-bit words from the start of their header, and headers start at even
    // offsets of an Ethernet frame: pad an odd field with its neighbour.
    let (start, end) = (at & !1, (at + new.len() + 1) & !1);
    let mut before = p.get(start..end).map(<[u8]>::to_vec).unwrap_or_default();
    if before.is_empty() {
        return;
    }
    before[at - start..at - start + new.len()].copy_from_slice(&old);
    let after = p[start..end].to_vec();
    if let Some(c) = csum_at.and_then(|c| be16(p, c).map(|v| (c, v))) {
        put16(p, c.0, csum_replace(c.1, &before, &after));
    }
    if let Some((l4_at, proto)) = l4 {
        let Some(c) = l4_csum_offset(proto).map(|o| l4_at + o) else { return };
        let Some(v) = be16(p, c) else { return };
        if proto == IPPROTO_UDP && v == 0 {
            return;
        }
        let mut v = csum_replace(v, &before, &after);
        if proto == IPPROTO_UDP && v == 0 {
            v = 0xffff;
        }
        put16(p, c, v);
    }
}

pub(crate) fn set_eth(p: &mut [u8], src: [u8; 6], dst: [u8; 6]) {
    if p.len() >= 12 {
        p[..6].copy_from_slice(&dst);
        p[6..12].copy_from_slice(&src);
    }
}

/// Inserts an 802.1Q header (`tci` as it goes on the wire) after the Ethernet addresses.
pub(crate) fn push_vlan(p: &mut Vec<u8>, tpid: u16, tci: u16) {
    if p.len() >= 12 {
        let mut tag = [0u8; 4];
        tag[..2].copy_from_slice(&tpid.to_be_bytes());
        tag[2..].copy_from_slice(&tci.to_be_bytes());
        p.splice(12..12, tag);
    }
}

/// Removes the outermost 802.1Q header, if there is one.
pub(crate) fn pop_vlan(p: &mut Vec<u8>) {
    if p.len() >= ETH_HEADER_LEN + VLAN_HEADER_LEN && be16(p, 12).is_some_and(eth_type_vlan) {
        p.drain(12..16);
    }
}

/// `struct ovs_key_ipv4`'s writable fields.
pub(crate) fn set_ipv4(p: &mut [u8], src: u32, dst: u32, tos: u8, ttl: u8) {
    let Some(l) = Layout::parse(p).filter(|l| l.dl_type == ETH_TYPE_IP) else { return };
    if p.len() < l.l3 + IPV4_HEADER_LEN || p[l.l3] >> 4 != 4 {
        return;
    }
    let csum = Some(l.l3 + 10);
    let tcp_udp = l.l4.filter(|(_, proto)| matches!(*proto, IPPROTO_TCP | IPPROTO_UDP));
    write_field(p, l.l3 + 12, &src.to_be_bytes(), csum, tcp_udp);
    write_field(p, l.l3 + 16, &dst.to_be_bytes(), csum, tcp_udp);
    write_field(p, l.l3 + 1, &[tos], csum, None);
    write_field(p, l.l3 + 8, &[ttl], csum, None);
}

/// `struct ovs_key_ipv6`'s writable fields.
pub(crate) fn set_ipv6(p: &mut [u8], src: u128, dst: u128, label: u32, tclass: u8, hlimit: u8) {
    let Some(l) = Layout::parse(p).filter(|l| l.dl_type == ETH_TYPE_IPV6) else { return };
    if p.len() < l.l3 + IPV6_HEADER_LEN || p[l.l3] >> 4 != 6 {
        return;
    }
    let pseudo = l.l4.filter(|(_, proto)| matches!(*proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_ICMPV6));
    write_field(p, l.l3 + 8, &src.to_be_bytes(), None, pseudo);
    write_field(p, l.l3 + 24, &dst.to_be_bytes(), None, pseudo);
    let h = &mut p[l.l3..l.l3 + 4];
    let word = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let word = (word & 0xf000_0000) | u32::from(tclass) << 20 | (label & 0x000f_ffff);
    h.copy_from_slice(&word.to_be_bytes());
    p[l.l3 + 7] = hlimit;
}

/// TCP, UDP or SCTP ports (`proto` says which).
pub(crate) fn set_ports(p: &mut [u8], proto: u8, src: u16, dst: u16) {
    let Some((at, actual)) = Layout::parse(p).and_then(|l| l.l4) else { return };
    let header = match proto {
        IPPROTO_TCP => 20,
        IPPROTO_UDP => 8,
        IPPROTO_SCTP => 12,
        _ => return,
    };
    if actual != proto || p.len() < at + header {
        return;
    }
    if proto == IPPROTO_SCTP {
        return set_sctp_ports(p, at, src, dst);
    }
    let csum = l4_csum_offset(proto).map(|o| at + o);
    let udp_none = proto == IPPROTO_UDP && be16(p, at + 6) == Some(0);
    let csum = if udp_none { None } else { csum };
    write_field(p, at, &src.to_be_bytes(), csum, None);
    write_field(p, at + 2, &dst.to_be_bytes(), csum, None);
    if proto == IPPROTO_UDP && !udp_none && be16(p, at + 6) == Some(0) {
        put16(p, at + 6, 0xffff);
    }
}

/// SCTP's CRC32c covers the whole packet, so it is recomputed; a wrong one stays wrong by the same
/// difference (OVS `packet_set_sctp_port`).
fn set_sctp_ports(p: &mut [u8], at: usize, src: u16, dst: u16) {
    let seg = &mut p[at..];
    let old: [u8; 4] = seg[8..12].try_into().expect("length checked");
    seg[8..12].fill(0);
    let old_correct = crc32c(seg).to_le_bytes();
    seg[..2].copy_from_slice(&src.to_be_bytes());
    seg[2..4].copy_from_slice(&dst.to_be_bytes());
    let new = crc32c(seg).to_le_bytes();
    for i in 0..4 {
        seg[8 + i] = old[i] ^ old_correct[i] ^ new[i];
    }
}

/// CRC32c (Castagnoli), as SCTP uses it.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
        }
    }
    !crc
}

/// ICMP or ICMPv6 type and code (`proto` says which).
pub(crate) fn set_icmp(p: &mut [u8], proto: u8, icmp_type: u8, code: u8) {
    let Some((at, actual)) = Layout::parse(p).and_then(|l| l.l4) else { return };
    if actual != proto || !matches!(proto, IPPROTO_ICMP | IPPROTO_ICMPV6) || p.len() < at + 4 {
        return;
    }
    write_field(p, at, &[icmp_type, code], Some(at + 2), None);
}

/// `struct ovs_key_arp`'s fields, for an Ethernet/IPv4 ARP or RARP packet.
pub(crate) fn set_arp(p: &mut [u8], op: u16, spa: u32, tpa: u32, sha: [u8; 6], tha: [u8; 6]) {
    let Some(l) = Layout::parse(p).filter(|l| matches!(l.dl_type, ETH_TYPE_ARP | ETH_TYPE_RARP)) else { return };
    let Some(a) = p.get_mut(l.l3..l.l3 + ARP_ETH_IPV4_LEN) else { return };
    a[6..8].copy_from_slice(&op.to_be_bytes());
    a[8..14].copy_from_slice(&sha);
    a[14..18].copy_from_slice(&spa.to_be_bytes());
    a[18..24].copy_from_slice(&tha);
    a[24..28].copy_from_slice(&tpa.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full one's-complement sum, to check incremental updates against.
    fn checksum(words: &[u8]) -> u16 {
        let mut sum: u32 =
            words.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// An Ethernet/IPv4/UDP or TCP frame with correct checksums.
    fn frame(proto: u8, payload: &[u8]) -> Vec<u8> {
        let l4_len = if proto == IPPROTO_TCP { 20 } else { 8 } + payload.len();
        let mut p = vec![0x50, 0x54, 0, 0, 0, 2, 0x50, 0x54, 0, 0, 0, 1, 0x08, 0x00];
        let total = (20 + l4_len) as u16;
        p.extend_from_slice(&[0x45, 0x00]);
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        let ip_csum = checksum(&p[14..34]);
        p[24..26].copy_from_slice(&ip_csum.to_be_bytes());
        let mut l4 = vec![0x12, 0x34, 0x00, 0x50];
        if proto == IPPROTO_TCP {
            l4.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
        } else {
            l4.extend_from_slice(&(l4_len as u16).to_be_bytes());
            l4.extend_from_slice(&[0, 0]);
        }
        l4.extend_from_slice(payload);
        let mut pseudo = p[26..34].to_vec();
        pseudo.extend_from_slice(&[0, proto]);
        pseudo.extend_from_slice(&(l4_len as u16).to_be_bytes());
        pseudo.extend_from_slice(&l4);
        let c = checksum(&pseudo);
        let at = if proto == IPPROTO_TCP { 16 } else { 6 };
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(&l4);
        p
    }

    fn l4_ok(p: &[u8], proto: u8) -> bool {
        let mut pseudo = p[26..34].to_vec();
        pseudo.extend_from_slice(&[0, proto]);
        pseudo.extend_from_slice(&((p.len() - 34) as u16).to_be_bytes());
        pseudo.extend_from_slice(&p[34..]);
        checksum(&pseudo) == 0
    }

    #[test]
    fn ipv4_rewrites_keep_every_checksum_right() {
        for proto in [IPPROTO_TCP, IPPROTO_UDP] {
            let mut p = frame(proto, b"hello");
            assert!(checksum(&p[14..34]) == 0 && l4_ok(&p, proto));
            set_ipv4(&mut p, 0xc0a8_0001, 0x0a00_0002, 0xb8, 63);
            assert_eq!(&p[26..30], &[192, 168, 0, 1]);
            assert_eq!((p[15], p[22]), (0xb8, 63));
            assert_eq!(checksum(&p[14..34]), 0, "IP checksum");
            assert!(l4_ok(&p, proto), "transport checksum");
            set_ports(&mut p, proto, 4000, 53);
            assert_eq!(&p[34..38], &[0x0f, 0xa0, 0, 53]);
            assert!(l4_ok(&p, proto));
        }
    }

    #[test]
    fn udp_without_checksum_stays_without() {
        let mut p = frame(IPPROTO_UDP, b"x");
        p[40..42].copy_from_slice(&[0, 0]);
        set_ipv4(&mut p, 1, 2, 0, 9);
        set_ports(&mut p, IPPROTO_UDP, 1, 2);
        assert_eq!(&p[40..42], &[0, 0]);
    }

    #[test]
    fn vlan_push_and_pop() {
        let orig = frame(IPPROTO_UDP, b"");
        let mut p = orig.clone();
        push_vlan(&mut p, 0x8100, 0x2005);
        assert_eq!(&p[12..18], &[0x81, 0x00, 0x20, 0x05, 0x08, 0x00]);
        assert_eq!(Layout::parse(&p).map(|l| (l.dl_type, l.l3)), Some((ETH_TYPE_IP, 18)));
        set_ports(&mut p, IPPROTO_UDP, 7, 8);
        pop_vlan(&mut p);
        let mut expect = orig.clone();
        set_ports(&mut expect, IPPROTO_UDP, 7, 8);
        assert_eq!(p, expect);
        pop_vlan(&mut p);
        assert_eq!(p, expect, "no tag: nothing popped");
    }

    #[test]
    fn later_fragments_have_no_transport_header() {
        let mut p = frame(IPPROTO_TCP, b"");
        p[20..22].copy_from_slice(&[0x00, 0x10]);
        assert_eq!(Layout::parse(&p).unwrap().l4, None);
        let before = p.clone();
        set_ports(&mut p, IPPROTO_TCP, 1, 1);
        assert_eq!(p, before);
    }

    #[test]
    fn sctp_crc_is_recomputed_and_a_wrong_one_stays_wrong() {
        let mut p = frame(IPPROTO_UDP, &[0; 8]);
        p[23] = IPPROTO_SCTP;
        let sctp = 34;
        p[sctp + 8..sctp + 12].fill(0);
        let good = crc32c(&p[sctp..]).to_le_bytes();
        p[sctp + 8..sctp + 12].copy_from_slice(&good);
        set_ports(&mut p, IPPROTO_SCTP, 9, 10);
        let mut check = p[sctp..].to_vec();
        check[8..12].fill(0);
        assert_eq!(&p[sctp + 8..sctp + 12], &crc32c(&check).to_le_bytes());
        p[sctp + 8] ^= 1;
        set_ports(&mut p, IPPROTO_SCTP, 11, 12);
        let mut check = p[sctp..].to_vec();
        check[8..12].fill(0);
        assert_eq!(p[sctp + 8] ^ 1, crc32c(&check).to_le_bytes()[0]);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn short_and_odd_frames_never_panic() {
        for len in 0..80 {
            let mut p: Vec<u8> = (0..len as u8).collect();
            if len > 13 {
                p[12..14].copy_from_slice(&[0x08, 0x00]);
            }
            set_eth(&mut p, [1; 6], [2; 6]);
            set_ipv4(&mut p, 1, 2, 3, 4);
            set_ipv6(&mut p, 1, 2, 3, 4, 5);
            set_ports(&mut p, IPPROTO_TCP, 1, 2);
            set_icmp(&mut p, IPPROTO_ICMP, 1, 2);
            set_arp(&mut p, 1, 2, 3, [4; 6], [5; 6]);
            push_vlan(&mut p, 0x8100, 1);
            pop_vlan(&mut p);
        }
    }
}
