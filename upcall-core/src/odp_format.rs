//! Renders a flow key the way OVS's `odp_flow_key_format` does (unmasked), for the dispatcher's debug log.
//!
//! Covers the attributes a miss upcall usually carries; the rest print as OVS prints unknown or nested
//! attributes it does not expand: the name followed by the payload in hex.

use core::net::{Ipv4Addr, Ipv6Addr};
use std::fmt::{self, Write};

use crate::odp::*;

/// `Display` adapter: `format!("{}", KeyDisplay(&key))` gives e.g. `in_port(1),eth_type(0x0800),tcp(src=1,dst=2)`.
pub struct KeyDisplay<'a>(pub &'a [u8]);

fn attr_name(attr_type: u16) -> Option<&'static str> {
    Some(match attr_type {
        OVS_KEY_ATTR_UNSPEC => "unspec",
        OVS_KEY_ATTR_ENCAP => "encap",
        OVS_KEY_ATTR_PRIORITY => "skb_priority",
        OVS_KEY_ATTR_IN_PORT => "in_port",
        OVS_KEY_ATTR_ETHERNET => "eth",
        OVS_KEY_ATTR_VLAN => "vlan",
        OVS_KEY_ATTR_ETHERTYPE => "eth_type",
        OVS_KEY_ATTR_IPV4 => "ipv4",
        OVS_KEY_ATTR_IPV6 => "ipv6",
        OVS_KEY_ATTR_TCP => "tcp",
        OVS_KEY_ATTR_UDP => "udp",
        OVS_KEY_ATTR_ICMP => "icmp",
        OVS_KEY_ATTR_ICMPV6 => "icmpv6",
        OVS_KEY_ATTR_ARP => "arp",
        OVS_KEY_ATTR_ND => "nd",
        OVS_KEY_ATTR_SKB_MARK => "skb_mark",
        OVS_KEY_ATTR_TUNNEL => "tunnel",
        OVS_KEY_ATTR_SCTP => "sctp",
        OVS_KEY_ATTR_TCP_FLAGS => "tcp_flags",
        OVS_KEY_ATTR_DP_HASH => "dp_hash",
        OVS_KEY_ATTR_RECIRC_ID => "recirc_id",
        OVS_KEY_ATTR_MPLS => "mpls",
        _ => return None,
    })
}

fn write_name(f: &mut impl Write, attr_type: u16) -> fmt::Result {
    match attr_name(attr_type) {
        Some(name) => f.write_str(name),
        None => write!(f, "key{attr_type}"),
    }
}

fn write_hex(f: &mut impl Write, bytes: &[u8], sep: &str) -> fmt::Result {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// C's `%#x`: `0` stays `0`, anything else gets a `0x` prefix.
fn write_alt_hex(f: &mut impl Write, v: u32) -> fmt::Result {
    if v == 0 {
        f.write_str("0")
    } else {
        write!(f, "{v:#x}")
    }
}

fn write_eth(f: &mut impl Write, name: &str, a: &[u8]) -> fmt::Result {
    write!(f, "{name}={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", a[0], a[1], a[2], a[3], a[4], a[5])
}

fn frag_name(frag: u8) -> &'static str {
    match frag {
        OVS_FRAG_TYPE_NONE => "no",
        OVS_FRAG_TYPE_FIRST => "first",
        OVS_FRAG_TYPE_LATER => "later",
        _ => "<error>",
    }
}

fn ipv4(p: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(p[0], p[1], p[2], p[3])
}

fn be16(p: &[u8]) -> u16 {
    u16::from_be_bytes([p[0], p[1]])
}

/// Writes one attribute's payload whose length `key_attr_len` already vouched for.
fn write_payload(f: &mut impl Write, attr_type: u16, p: &[u8]) -> fmt::Result {
    match attr_type {
        OVS_KEY_ATTR_PRIORITY | OVS_KEY_ATTR_SKB_MARK | OVS_KEY_ATTR_DP_HASH | OVS_KEY_ATTR_RECIRC_ID => {
            write_alt_hex(f, u32::from_ne_bytes([p[0], p[1], p[2], p[3]]))
        }
        OVS_KEY_ATTR_IN_PORT => write!(f, "{}", u32::from_ne_bytes([p[0], p[1], p[2], p[3]])),
        OVS_KEY_ATTR_ETHERNET => {
            write_eth(f, "src", &p[..6])?;
            f.write_char(',')?;
            write_eth(f, "dst", &p[6..])
        }
        OVS_KEY_ATTR_ETHERTYPE => write!(f, "0x{:04x}", be16(p)),
        OVS_KEY_ATTR_IPV4 => {
            write!(f, "src={},dst={},proto={},tos=", ipv4(&p[..4]), ipv4(&p[4..8]), p[8])?;
            write_alt_hex(f, p[9].into())?;
            write!(f, ",ttl={},frag={}", p[10], frag_name(p[11]))
        }
        OVS_KEY_ATTR_IPV6 => {
            let src = Ipv6Addr::from(<[u8; 16]>::try_from(&p[..16]).unwrap_or_default());
            let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&p[16..32]).unwrap_or_default());
            write!(f, "src={src},dst={dst},label=")?;
            write_alt_hex(f, u32::from_be_bytes([p[32], p[33], p[34], p[35]]))?;
            write!(f, ",proto={},tclass=", p[36])?;
            write_alt_hex(f, p[37].into())?;
            write!(f, ",hlimit={},frag={}", p[38], frag_name(p[39]))
        }
        OVS_KEY_ATTR_TCP | OVS_KEY_ATTR_UDP | OVS_KEY_ATTR_SCTP => {
            write!(f, "src={},dst={}", be16(&p[..2]), be16(&p[2..]))
        }
        OVS_KEY_ATTR_ICMP | OVS_KEY_ATTR_ICMPV6 => write!(f, "type={},code={}", p[0], p[1]),
        OVS_KEY_ATTR_ARP => {
            write!(f, "sip={},tip={},op={},", ipv4(&p[..4]), ipv4(&p[4..8]), be16(&p[8..10]))?;
            write_eth(f, "sha", &p[10..16])?;
            f.write_char(',')?;
            write_eth(f, "tha", &p[16..22])
        }
        _ => write_hex(f, p, " "),
    }
}

impl fmt::Display for KeyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<empty>");
        }
        let mut attrs = KeyAttrs::new(self.0);
        let mut first = true;
        for (attr_type, payload) in attrs.by_ref() {
            if !first {
                f.write_char(',')?;
            }
            first = false;
            write_name(f, attr_type)?;
            match key_attr_len(attr_type) {
                Some(expected) if expected != payload.len() => {
                    write!(f, "(bad key length {}, expected {expected})(", payload.len())?;
                    write_hex(f, payload, " ")?;
                }
                Some(_) => {
                    f.write_char('(')?;
                    write_payload(f, attr_type, payload)?;
                }
                None => {
                    f.write_char('(')?;
                    write_hex(f, payload, " ")?;
                }
            }
            f.write_char(')')?;
        }
        let left = attrs.leftover();
        if !left.is_empty() {
            if left.len() == self.0.len() {
                f.write_str("<empty>")?;
            }
            write!(f, ",***{} leftover bytes*** (", left.len())?;
            write_hex(f, left, "")?;
            f.write_char(')')?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_a_tcp_miss_key_like_ovs() {
        let key = AttrBuilder::new()
            .put_u32(OVS_KEY_ATTR_PRIORITY, 0)
            .in_port(1)
            .ethernet([0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 2])
            .ethertype(0x0800)
            .ipv4(0x0a00_0001, 0x0a00_0002, 6, 0, 64, 0)
            .tcp(1, 2)
            .finish();
        assert_eq!(
            KeyDisplay(&key).to_string(),
            "skb_priority(0),in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),\
             ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)"
        );
    }

    #[test]
    fn formats_bad_lengths_unknown_types_and_leftovers() {
        let mut key = AttrBuilder::new().put(OVS_KEY_ATTR_UDP, &[0, 53]).put(40, &[0xde, 0xad]).finish().to_vec();
        key.extend_from_slice(&[0xff, 0x00]);
        assert_eq!(
            KeyDisplay(&key).to_string(),
            "udp(bad key length 2, expected 4)(00 35),key40(de ad),***2 leftover bytes*** (ff00)"
        );
        assert_eq!(KeyDisplay(&[]).to_string(), "<empty>");
        assert_eq!(KeyDisplay(&[1, 2]).to_string(), "<empty>,***2 leftover bytes*** (0102)");
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = KeyDisplay(&data).to_string();
        }
    }
}
