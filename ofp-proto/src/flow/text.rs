//! Value spellings shared by match, action and packet text, as OVS writes them: IPv4/IPv6 with
//! CIDR or full masks (glibc `inet_ntop` style), Ethernet masks, `ds_put_hex`, and flag sets.

use std::fmt::Write;

use super::EthAddr;

pub fn ipv4(ip: u32, out: &mut String) {
    let b = ip.to_be_bytes();
    let _ = write!(out, "{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
}

pub fn is_cidr32(mask: u32) -> bool {
    mask.leading_ones() + mask.trailing_zeros() == 32
}

/// OVS `ip_format_masked`: "a.b.c.d", "/n" for CIDR masks, "/m.m.m.m" otherwise.
pub fn ipv4_masked(ip: u32, mask: u32, out: &mut String) {
    ipv4(ip, out);
    if mask != u32::MAX {
        if is_cidr32(mask) {
            let _ = write!(out, "/{}", mask.leading_ones());
        } else {
            out.push('/');
            ipv4(mask, out);
        }
    }
}

/// IPv6 text exactly as glibc `inet_ntop` writes it: longest run (two or more) of zero groups
/// compressed, first run on ties, and an embedded IPv4 tail for IPv4-compatible (::a.b.c.d) and
/// IPv4-mapped (::ffff:a.b.c.d) addresses.
pub fn ipv6(addr: u128, out: &mut String) {
    let bytes = addr.to_be_bytes();
    let words: [u16; 8] = std::array::from_fn(|i| u16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]]));
    // (start, length) of zero-group runs.
    type Run = Option<(usize, usize)>;
    let (mut best, mut cur): (Run, Run) = (None, None);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            cur = Some(cur.map_or((i, 1), |(b, l)| (b, l + 1)));
        } else if let Some(c) = cur.take() {
            if best.is_none_or(|b| c.1 > b.1) {
                best = Some(c);
            }
        }
    }
    if let Some(c) = cur {
        if best.is_none_or(|b| c.1 > b.1) {
            best = Some(c);
        }
    }
    let best = best.filter(|b| b.1 >= 2);
    let mut i = 0;
    while i < 8 {
        if let Some((b, l)) = best {
            if i >= b && i < b + l {
                if i == b {
                    out.push(':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            out.push(':');
        }
        let v4_tail = i == 6 && best.is_some_and(|(b, l)| b == 0 && (l == 6 || (l == 5 && words[5] == 0xffff)));
        if v4_tail {
            let _ = write!(out, "{}.{}.{}.{}", bytes[12], bytes[13], bytes[14], bytes[15]);
            return;
        }
        let _ = write!(out, "{:x}", words[i]);
        i += 1;
    }
    if best.is_some_and(|(b, l)| b + l == 8) {
        out.push(':');
    }
}

pub fn is_cidr128(mask: u128) -> bool {
    mask.leading_ones() + mask.trailing_zeros() == 128
}

/// OVS `ipv6_format_masked`.
pub fn ipv6_masked(addr: u128, mask: u128, out: &mut String) {
    ipv6(addr, out);
    if mask != u128::MAX {
        if is_cidr128(mask) {
            let _ = write!(out, "/{}", mask.leading_ones());
        } else {
            out.push('/');
            ipv6(mask, out);
        }
    }
}

/// OVS `eth_format_masked`.
pub fn eth_masked(eth: EthAddr, mask: EthAddr, out: &mut String) {
    let _ = write!(out, "{eth}");
    if mask != EthAddr::ONES {
        let _ = write!(out, "/{mask}");
    }
}

/// OVS `ds_put_hex`: big-endian bytes as "0x..." without leading zero bytes, or "0".
pub fn hex_bytes(bytes: &[u8], out: &mut String) {
    match bytes.iter().position(|&b| b != 0) {
        None => out.push('0'),
        Some(i) => {
            let _ = write!(out, "{:#x}", bytes[i]);
            for b in &bytes[i + 1..] {
                let _ = write!(out, "{b:02x}");
            }
        }
    }
}

pub fn tcp_flag_name(bit: u32) -> Option<&'static str> {
    Some(match bit {
        0x001 => "fin",
        0x002 => "syn",
        0x004 => "rst",
        0x008 => "psh",
        0x010 => "ack",
        0x020 => "urg",
        0x040 => "ece",
        0x080 => "cwr",
        0x100 => "ns",
        0x200 => "[200]",
        0x400 => "[400]",
        0x800 => "[800]",
        _ => return None,
    })
}

/// OVS `format_flags_masked` (without the name): "+syn-ack" style when partially masked.
pub fn flags_masked(names: fn(u32) -> Option<&'static str>, bits: u32, mut mask: u32, max: u32, out: &mut String) {
    if mask == max {
        // OVS `format_flags` prints as `ofp_print_bit_names` does.
        crate::print::put_bit_names(out, bits, names, '|');
    } else if mask == 0 {
        out.push_str("0/0");
    } else {
        while mask != 0 {
            let bit = mask & mask.wrapping_neg();
            out.push(if bits & bit != 0 { '+' } else { '-' });
            out.push_str(names(bit).unwrap_or("[Unknown]"));
            mask &= !bit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let mut o = String::new();
        ipv6(s.parse::<core::net::Ipv6Addr>().unwrap().into(), &mut o);
        o
    }

    #[test]
    fn ipv6_like_glibc() {
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("2001:db8::1"), "2001:db8::1");
        assert_eq!(v6("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
        assert_eq!(v6("2001:0:0:1:0:0:1:1"), "2001::1:0:0:1:1");
        assert_eq!(v6("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(v6("fe80::"), "fe80::");
        assert_eq!(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(v6("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(v6("ffff:ffff:ffff:ffff::"), "ffff:ffff:ffff:ffff::");
    }

    #[test]
    fn masks_and_hex() {
        let mut o = String::new();
        ipv4_masked(0x0a00_0000, 0xff00_0000, &mut o);
        o.push(' ');
        ipv4_masked(0x0a00_0001, 0xff00_00ff, &mut o);
        o.push(' ');
        hex_bytes(&[0, 0, 1, 0x23], &mut o);
        o.push(' ');
        hex_bytes(&[0, 0], &mut o);
        assert_eq!(o, "10.0.0.0/8 10.0.0.1/255.0.0.255 0x123 0");
    }

    #[test]
    fn tcp_flag_sets() {
        let mut o = String::new();
        crate::print::put_bit_names(&mut o, 0x014, tcp_flag_name, '|');
        o.push(' ');
        flags_masked(tcp_flag_name, 0x002, 0x012, 0x0fff, &mut o);
        o.push(' ');
        flags_masked(tcp_flag_name, 0x1001, 0x0fff, 0x0fff, &mut o);
        assert_eq!(o, "rst|ack +syn-ack fin|0x1000");
    }
}
