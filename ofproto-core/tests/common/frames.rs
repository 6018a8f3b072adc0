//! Frames for the switch tests: Ethernet/IPv4 with TCP or UDP and correct checksums, ARP, and
//! checksum verification of what comes out.

pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;

pub fn mac(n: u8) -> [u8; 6] {
    [0x50, 0x54, 0x00, 0x00, 0x00, n]
}

/// The one's-complement sum of `b` (odd length padded), as a checksum.
pub fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn l4_checksum(src: [u8; 4], dst: [u8; 4], proto: u8, seg: &[u8]) -> u16 {
    let mut pseudo = src.to_vec();
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&[0, proto]);
    pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(seg);
    checksum(&pseudo)
}

/// Ethernet + IPv4 (TTL 64) + TCP or UDP with `payload`, every checksum right.
pub fn ip_frame(
    src: [u8; 6],
    dst: [u8; 6],
    ip_src: [u8; 4],
    ip_dst: [u8; 4],
    proto: u8,
    ports: (u16, u16),
    payload: &[u8],
) -> Vec<u8> {
    let mut seg = Vec::new();
    seg.extend_from_slice(&ports.0.to_be_bytes());
    seg.extend_from_slice(&ports.1.to_be_bytes());
    if proto == IPPROTO_TCP {
        seg.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0x00, 0, 0, 0, 0]);
    } else {
        seg.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        seg.extend_from_slice(&[0, 0]);
    }
    seg.extend_from_slice(payload);
    let c = l4_checksum(ip_src, ip_dst, proto, &seg);
    let at = if proto == IPPROTO_TCP { 16 } else { 6 };
    seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&((20 + seg.len()) as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0]);
    ip.extend_from_slice(&ip_src);
    ip.extend_from_slice(&ip_dst);
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&seg);
    f
}

/// A TCP frame from host `a` to host `b` (addresses 10.0.0.a / 10.0.0.b).
pub fn tcp(a: u8, b: u8, payload: &[u8]) -> Vec<u8> {
    ip_frame(mac(a), mac(b), [10, 0, 0, a], [10, 0, 0, b], IPPROTO_TCP, (1234, 80), payload)
}

/// An ARP request from host `a` for 10.0.0.`b`, broadcast.
pub fn arp_request(a: u8, b: u8) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&mac(a));
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&mac(a));
    f.extend_from_slice(&[10, 0, 0, a]);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&[10, 0, 0, b]);
    f.resize(60, 0);
    f
}

/// True if an untagged IPv4 frame's IP and TCP/UDP checksums are right.
pub fn checksums_ok(f: &[u8]) -> bool {
    let ihl = usize::from(f[14] & 0x0f) * 4;
    let ip = &f[14..14 + ihl];
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let seg = &f[14 + ihl..14 + total];
    let (src, dst) = (ip[12..16].try_into().unwrap(), ip[16..20].try_into().unwrap());
    checksum(ip) == 0 && l4_checksum(src, dst, ip[9], seg) == 0
}
