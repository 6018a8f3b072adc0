//! ODP flow-key attributes (`OVS_KEY_ATTR_*`): a bounds-checked netlink attribute walker and an encoder.
//!
//! Netlink attributes are `u16 len` (header included) + `u16 type` in host byte order, payload padded to 4
//! bytes. The walker stops, like OVS's `NL_ATTR_FOR_EACH`, at the first header that does not fit; what is left
//! is reported by [`KeyAttrs::leftover`] instead of being read.

use bytes::{BufMut, Bytes, BytesMut};

/// Netlink attribute header length (`NLA_HDRLEN`).
pub const NLA_HDRLEN: usize = 4;
/// Netlink attribute alignment (`NLA_ALIGNTO`).
pub const NLA_ALIGNTO: usize = 4;
/// The type bits of `nla_type` (`NLA_TYPE_MASK`: without `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER`).
pub const NLA_TYPE_MASK: u16 = 0x3fff;

pub const OVS_KEY_ATTR_UNSPEC: u16 = 0;
pub const OVS_KEY_ATTR_ENCAP: u16 = 1;
pub const OVS_KEY_ATTR_PRIORITY: u16 = 2;
pub const OVS_KEY_ATTR_IN_PORT: u16 = 3;
pub const OVS_KEY_ATTR_ETHERNET: u16 = 4;
pub const OVS_KEY_ATTR_VLAN: u16 = 5;
pub const OVS_KEY_ATTR_ETHERTYPE: u16 = 6;
pub const OVS_KEY_ATTR_IPV4: u16 = 7;
pub const OVS_KEY_ATTR_IPV6: u16 = 8;
pub const OVS_KEY_ATTR_TCP: u16 = 9;
pub const OVS_KEY_ATTR_UDP: u16 = 10;
pub const OVS_KEY_ATTR_ICMP: u16 = 11;
pub const OVS_KEY_ATTR_ICMPV6: u16 = 12;
pub const OVS_KEY_ATTR_ARP: u16 = 13;
pub const OVS_KEY_ATTR_ND: u16 = 14;
pub const OVS_KEY_ATTR_SKB_MARK: u16 = 15;
pub const OVS_KEY_ATTR_TUNNEL: u16 = 16;
pub const OVS_KEY_ATTR_SCTP: u16 = 17;
pub const OVS_KEY_ATTR_TCP_FLAGS: u16 = 18;
pub const OVS_KEY_ATTR_DP_HASH: u16 = 19;
pub const OVS_KEY_ATTR_RECIRC_ID: u16 = 20;
pub const OVS_KEY_ATTR_MPLS: u16 = 21;

/// `OVS_ACTION_ATTR_OUTPUT` (u32 datapath port), the one action the test harness and benchmarks emit.
pub const OVS_ACTION_ATTR_OUTPUT: u16 = 1;

/// `OVS_FRAG_TYPE_*` values of the `frag` byte in the IPv4/IPv6 keys.
pub const OVS_FRAG_TYPE_NONE: u8 = 0;
pub const OVS_FRAG_TYPE_FIRST: u8 = 1;
pub const OVS_FRAG_TYPE_LATER: u8 = 2;

/// Fixed payload size of a key attribute, `None` when variable or nested (OVS `ovs_flow_key_attr_lens`).
pub fn key_attr_len(attr_type: u16) -> Option<usize> {
    Some(match attr_type {
        OVS_KEY_ATTR_PRIORITY | OVS_KEY_ATTR_IN_PORT | OVS_KEY_ATTR_SKB_MARK => 4,
        OVS_KEY_ATTR_DP_HASH | OVS_KEY_ATTR_RECIRC_ID => 4,
        OVS_KEY_ATTR_ETHERNET => 12,
        OVS_KEY_ATTR_VLAN | OVS_KEY_ATTR_ETHERTYPE | OVS_KEY_ATTR_TCP_FLAGS => 2,
        OVS_KEY_ATTR_IPV4 => 12,
        OVS_KEY_ATTR_IPV6 => 40,
        OVS_KEY_ATTR_TCP | OVS_KEY_ATTR_UDP | OVS_KEY_ATTR_SCTP => 4,
        OVS_KEY_ATTR_ICMP | OVS_KEY_ATTR_ICMPV6 => 2,
        OVS_KEY_ATTR_ARP => 24,
        OVS_KEY_ATTR_ND => 28,
        _ => return None,
    })
}

fn nla_align(len: usize) -> usize {
    len.saturating_add(NLA_ALIGNTO - 1) & !(NLA_ALIGNTO - 1)
}

/// Iterates `(type, payload)` over a run of netlink attributes without ever reading out of bounds.
#[derive(Clone, Debug)]
pub struct KeyAttrs<'a> {
    rest: &'a [u8],
}

impl<'a> KeyAttrs<'a> {
    pub fn new(attrs: &'a [u8]) -> Self {
        KeyAttrs { rest: attrs }
    }

    /// Bytes not consumed by the attributes walked so far; after the iterator ends, a non-empty result means
    /// the run ended in a truncated or malformed header.
    pub fn leftover(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for KeyAttrs<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let hdr = self.rest.get(..NLA_HDRLEN)?;
        let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
        let attr_type = u16::from_ne_bytes([hdr[2], hdr[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || len > self.rest.len() {
            return None;
        }
        let payload = &self.rest[NLA_HDRLEN..len];
        // The last attribute's padding may be missing, as OVS tolerates.
        self.rest = &self.rest[nla_align(len).min(self.rest.len())..];
        Some((attr_type, payload))
    }
}

/// The payload of the first attribute of `attr_type` in `attrs`.
pub fn find_attr(attrs: &[u8], attr_type: u16) -> Option<&[u8]> {
    KeyAttrs::new(attrs).find(|&(t, _)| t == attr_type).map(|(_, p)| p)
}

/// The datapath input port (`OVS_KEY_ATTR_IN_PORT`, host-order u32) of a flow key, if well formed.
pub fn key_in_port(key: &[u8]) -> Option<u32> {
    let p = find_attr(key, OVS_KEY_ATTR_IN_PORT)?;
    Some(u32::from_ne_bytes(p.try_into().ok()?))
}

/// Builds a run of netlink attributes (a flow key or an action list).
#[derive(Clone, Debug, Default)]
pub struct AttrBuilder {
    buf: BytesMut,
}

impl AttrBuilder {
    pub fn new() -> Self {
        AttrBuilder::default()
    }

    /// Appends one attribute. Payloads too long for a u16 length are truncated to the largest that fits,
    /// so the result always parses.
    pub fn put(&mut self, attr_type: u16, payload: &[u8]) -> &mut Self {
        let payload = &payload[..payload.len().min(usize::from(u16::MAX) - NLA_HDRLEN)];
        let len = NLA_HDRLEN + payload.len();
        self.buf.put_slice(&(len as u16).to_ne_bytes());
        self.buf.put_slice(&attr_type.to_ne_bytes());
        self.buf.put_slice(payload);
        self.buf.put_bytes(0, nla_align(len) - len);
        self
    }

    pub fn put_u32(&mut self, attr_type: u16, value: u32) -> &mut Self {
        self.put(attr_type, &value.to_ne_bytes())
    }

    pub fn in_port(&mut self, odp_port: u32) -> &mut Self {
        self.put_u32(OVS_KEY_ATTR_IN_PORT, odp_port)
    }

    pub fn ethernet(&mut self, src: [u8; 6], dst: [u8; 6]) -> &mut Self {
        let mut p = [0u8; 12];
        p[..6].copy_from_slice(&src);
        p[6..].copy_from_slice(&dst);
        self.put(OVS_KEY_ATTR_ETHERNET, &p)
    }

    pub fn ethertype(&mut self, eth_type: u16) -> &mut Self {
        self.put(OVS_KEY_ATTR_ETHERTYPE, &eth_type.to_be_bytes())
    }

    /// `struct ovs_key_ipv4`: addresses as big-endian u32s.
    pub fn ipv4(&mut self, src: u32, dst: u32, proto: u8, tos: u8, ttl: u8, frag: u8) -> &mut Self {
        let mut p = [0u8; 12];
        p[..4].copy_from_slice(&src.to_be_bytes());
        p[4..8].copy_from_slice(&dst.to_be_bytes());
        p[8..].copy_from_slice(&[proto, tos, ttl, frag]);
        self.put(OVS_KEY_ATTR_IPV4, &p)
    }

    /// `struct ovs_key_tcp`/`udp`/`sctp` for `attr_type`: ports big-endian.
    pub fn l4_ports(&mut self, attr_type: u16, src: u16, dst: u16) -> &mut Self {
        let mut p = [0u8; 4];
        p[..2].copy_from_slice(&src.to_be_bytes());
        p[2..].copy_from_slice(&dst.to_be_bytes());
        self.put(attr_type, &p)
    }

    pub fn tcp(&mut self, src: u16, dst: u16) -> &mut Self {
        self.l4_ports(OVS_KEY_ATTR_TCP, src, dst)
    }

    pub fn udp(&mut self, src: u16, dst: u16) -> &mut Self {
        self.l4_ports(OVS_KEY_ATTR_UDP, src, dst)
    }

    /// `OVS_ACTION_ATTR_OUTPUT` to a datapath port (for action lists).
    pub fn output(&mut self, odp_port: u32) -> &mut Self {
        self.put_u32(OVS_ACTION_ATTR_OUTPUT, odp_port)
    }

    pub fn finish(&mut self) -> Bytes {
        self.buf.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn builder_round_trips_and_pads() {
        let key = AttrBuilder::new().in_port(7).ethertype(0x0800).tcp(80, 443).put(30, &[1, 2, 3]).finish();
        // 8 + 8 (2-byte payload padded) + 8 + 8 (3-byte payload padded)
        assert_eq!(key.len(), 32);
        let attrs: Vec<_> = KeyAttrs::new(&key).collect();
        assert_eq!(
            attrs,
            vec![
                (OVS_KEY_ATTR_IN_PORT, &7u32.to_ne_bytes()[..]),
                (OVS_KEY_ATTR_ETHERTYPE, &[0x08, 0x00][..]),
                (OVS_KEY_ATTR_TCP, &[0, 80, 1, 187][..]),
                (30, &[1, 2, 3][..]),
            ]
        );
        assert_eq!(key_in_port(&key), Some(7));
    }

    #[test]
    fn walker_stops_at_bad_headers() {
        let good = AttrBuilder::new().in_port(1).finish();
        for bad_len in [0u16, 3, 200] {
            let mut key = good.to_vec();
            key.extend_from_slice(&bad_len.to_ne_bytes());
            key.extend_from_slice(&OVS_KEY_ATTR_TCP.to_ne_bytes());
            key.extend_from_slice(&[9, 9, 9, 9]);
            let mut it = KeyAttrs::new(&key);
            assert_eq!(it.next(), Some((OVS_KEY_ATTR_IN_PORT, &1u32.to_ne_bytes()[..])));
            assert_eq!(it.next(), None, "len {bad_len}");
            assert_eq!(it.leftover().len(), 8);
        }
        // A truncated header is left over too.
        let mut it = KeyAttrs::new(&[8, 0]);
        assert_eq!(it.next(), None);
        assert_eq!(it.leftover(), &[8, 0]);
    }

    #[test]
    fn type_flags_are_masked_and_missing_final_padding_is_tolerated() {
        let mut key = Vec::new();
        key.extend_from_slice(&5u16.to_ne_bytes());
        key.extend_from_slice(&(OVS_KEY_ATTR_ENCAP | 0x8000).to_ne_bytes());
        key.push(0xab);
        let attrs: Vec<_> = KeyAttrs::new(&key).collect();
        assert_eq!(attrs, vec![(OVS_KEY_ATTR_ENCAP, &[0xab][..])]);
    }

    #[test]
    fn in_port_needs_exactly_four_bytes() {
        let key = AttrBuilder::new().put(OVS_KEY_ATTR_IN_PORT, &[1, 0]).finish();
        assert_eq!(key_in_port(&key), None);
    }

    proptest! {
        #[test]
        fn walker_never_panics_and_stops_only_at_a_bad_header(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut it = KeyAttrs::new(&data);
            let mut consumed = 0;
            for (_, p) in it.by_ref() {
                consumed += NLA_HDRLEN + p.len();
            }
            let rest = it.leftover();
            prop_assert!(consumed + rest.len() <= data.len());
            if rest.len() >= NLA_HDRLEN {
                let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
                prop_assert!(len < NLA_HDRLEN || len > rest.len());
            }
        }

        #[test]
        fn builder_output_parses_back(attrs in proptest::collection::vec((0u16..64, proptest::collection::vec(any::<u8>(), 0..48)), 0..8)) {
            let mut b = AttrBuilder::new();
            for (t, p) in &attrs {
                b.put(*t, p);
            }
            let key = b.finish();
            let mut it = KeyAttrs::new(&key);
            let parsed: Vec<(u16, Vec<u8>)> = it.by_ref().map(|(t, p)| (t, p.to_vec())).collect();
            prop_assert_eq!(parsed, attrs);
            prop_assert!(it.leftover().is_empty());
        }
    }
}
