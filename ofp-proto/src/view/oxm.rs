//! One-lookup facts about OXM basic-class fields, for the match views' hot path: the check that a
//! common OpenFlow 1.2+ match surely decodes, and counting a match's fields.
//!
//! The check (`fast_check`) accepts a subset of what the general one (`matches::oxm_ok`) accepts,
//! with the same input port: basic-class entries of fields whose prerequisites depend only on the
//! Ethernet type and IP protocol, so that a few fact bits stand in for the `Flow` the general
//! check keeps, and one table lookup per entry gives the rest. Anything else returns `None` and
//! goes to the general check.

use crate::flow::{
    eth_type_mpls, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_RARP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP,
    IPPROTO_TCP, IPPROTO_UDP,
};
use crate::mf::{self, MfId, Prereq, ValueRule};
use crate::port_no;
use crate::view::matches::{member_bit, PACKET_TYPE};

/// What the hot path knows of one OXM basic-class field number. (A cache line each: the entry's
/// address is then a shift of the header, not a multiplication, on the chain of loads.)
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Basic {
    /// The whole header of an exact entry, and of a masked one, of a field `fast_check` judges
    /// itself; 0 (which no basic-class header is) for the others. (One compare checks the class,
    /// the mask bit and the length.)
    exact: u32,
    masked: u32,
    /// The header of an exact entry of a field `Flow` models, 0 for numbers naming no such field.
    plain: u32,
    /// Check-state bits (see `IPV4`) that must be clear: the match members the field reads or
    /// writes (see `matches::member_bit`); with `strict`, also the facts its prerequisites need,
    /// which must be set (`all`).
    loose: u64,
    strict: u64,
    all: u64,
    /// The members, and the default packet type a field with prerequisites also sets.
    marks: u64,
    /// Value bits that make an entry invalid (`ValueRule::Clear`; such fast fields are at most
    /// 4 bytes wide).
    invalid: u32,
    /// What an entry's value (1, 2 or 4 bytes) matters for.
    value: Value,
    /// The field's width in bytes.
    width: u8,
    maskable: bool,
}

/// What the check state knows of the flow, as bits above the members (which use bits 0–41): the
/// Ethernet type's class (`IP` for either version), the IP protocol (or ARP opcode) if a
/// prerequisite names it. (The flow is always Ethernet: the fast check leaves the packet type
/// alone.) A prerequisite is then a set of facts that must all hold.
const IP: u64 = 1 << 48;
const IPV4: u64 = 1 << 49;
const IPV6: u64 = 1 << 50;
const ARP: u64 = 1 << 51;
const MPLS: u64 = 1 << 52;
const TCP: u64 = 1 << 53;
const UDP: u64 = 1 << 54;
const SCTP: u64 = 1 << 55;
const ICMP: u64 = 1 << 56;
const ICMPV6: u64 = 1 << 57;

/// The facts an Ethernet type establishes.
#[inline]
fn eth_facts(dl_type: u16) -> u64 {
    match dl_type {
        ETH_TYPE_IP => IP | IPV4,
        ETH_TYPE_IPV6 => IP | IPV6,
        ETH_TYPE_ARP | ETH_TYPE_RARP => ARP,
        t if eth_type_mpls(t) => MPLS,
        _ => 0,
    }
}

/// The facts an IP protocol establishes.
#[inline]
fn proto_facts(nw_proto: u8) -> u64 {
    match nw_proto {
        IPPROTO_TCP => TCP,
        IPPROTO_UDP => UDP,
        IPPROTO_SCTP => SCTP,
        IPPROTO_ICMP => ICMP,
        IPPROTO_ICMPV6 => ICMPV6,
        _ => 0,
    }
}

/// The facts `prereq` needs (OVS `mf_are_prereqs_ok` on an Ethernet flow without fragment bits),
/// `None` for the prerequisites the fast check leaves to the general one.
const fn prereq_facts(prereq: Prereq) -> Option<u64> {
    Some(match prereq {
        Prereq::None | Prereq::Ethernet => 0,
        Prereq::Arp => ARP,
        Prereq::Ipv4 => IPV4,
        Prereq::Ipv6 => IPV6,
        Prereq::IpAny => IP,
        Prereq::Tcp => IP | TCP,
        Prereq::Udp => IP | UDP,
        Prereq::Sctp => IP | SCTP,
        Prereq::Icmpv4 => IPV4 | ICMP,
        Prereq::Icmpv6 => IPV6 | ICMPV6,
        Prereq::Mpls => MPLS,
        _ => return None,
    })
}

/// What an entry's value matters for: nothing, only its validity (`Basic::invalid`, which the
/// others also check), what later entries' checks read (the Ethernet type, the IP protocol or
/// the ARP opcode, which share a member), or the input port the view reports.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    Ignored,
    Checked,
    EthType,
    NwProto,
    InPort,
}

const OXM_CLASS_BASIC: u32 = mf::OXM_CLASS_BASIC as u32;

/// [`Basic`] by field number (7 bits).
static BASIC: [Basic; 128] = {
    let none = Basic {
        exact: 0,
        masked: 0,
        plain: 0,
        loose: 0,
        strict: 0,
        all: 0,
        marks: 0,
        invalid: 0,
        value: Value::Ignored,
        width: 0,
        maskable: false,
    };
    let mut t = [none; 128];
    let mut f = 0;
    while f < 128 {
        if let Some(id) = MfId::basic(f as u8) {
            if id.in_flow() {
                let field = id.field();
                let width = field.n_bytes;
                let members = match member_bit(id as u8) {
                    Some(bit) => bit,
                    None => u64::MAX,
                };
                // Prerequisites on the Ethernet type and IP protocol only; the packet type (which
                // moves the Ethernet type) and the fragment bits (which the transport
                // prerequisites read) are left to the general check.
                let (prereq_fast, all) = match prereq_facts(field.prereqs) {
                    Some(facts) => (true, facts),
                    None => (false, 0),
                };
                let (rule_fast, invalid) = match mf::value_rule(id) {
                    ValueRule::Any => (true, 0),
                    ValueRule::Clear(bits) => (width <= 4, bits as u32),
                    ValueRule::Ofp11Port => (matches!(id, MfId::InPortOxm), 0),
                };
                let value = match id {
                    MfId::EthType => Value::EthType,
                    MfId::IpProto | MfId::ArpOp => Value::NwProto,
                    MfId::InPortOxm => Value::InPort,
                    _ if invalid != 0 => Value::Checked,
                    _ => Value::Ignored,
                };
                // Fields whose value is read are 1, 2 or 4 bytes wide.
                let read_ok = matches!(value, Value::Ignored) || matches!(width, 1 | 2 | 4);
                let fast = prereq_fast
                    && rule_fast
                    && read_ok
                    && members != u64::MAX
                    && !matches!(id, MfId::PacketType | MfId::IpFrag)
                    && width <= 16;
                let marks = members | if matches!(field.prereqs, Prereq::None) { 0 } else { PACKET_TYPE };
                let header = OXM_CLASS_BASIC << 16 | (f as u32) << 9;
                t[f] = Basic {
                    exact: if fast { header | width as u32 } else { 0 },
                    masked: if fast { header | 0x100 | (2 * width as u32) } else { 0 },
                    plain: header | width as u32,
                    loose: members,
                    strict: members | all,
                    all,
                    marks,
                    invalid,
                    value,
                    width: width as u8,
                    maskable: field.maskable,
                };
            }
        }
        f += 1;
    }
    t
};

/// The big-endian value of a 1, 2 or 4 byte field.
#[inline]
fn read_small(b: &[u8]) -> Option<u32> {
    Some(match *b {
        [x] => x.into(),
        [x, y] => u16::from_be_bytes([x, y]).into(),
        [x, y, z, w] => u32::from_be_bytes([x, y, z, w]),
        _ => return None,
    })
}

/// `Some(in_port)` (0 if none) only if the owned decoder surely accepts the OXM TLVs `b`
/// (`STRICT`: as flow mods decode them, else as packet-in metadata): every entry is a fast field
/// of its exact length, with a nonzero mask that covers its value (all ones if the field is not
/// maskable), a valid value, no member another entry touched, and (strict) its prerequisites met
/// by the entries before it. Exactly the judgment of `matches::oxm_ok` on such matches (tested
/// below on every field, alone, in pairs and after every prerequisite).
#[inline]
pub(super) fn fast_check<const STRICT: bool>(mut b: &[u8]) -> Option<u32> {
    // The input port alone: most packet-ins' metadata, judged as the loop below would.
    if !STRICT && b.len() == 8 && b[..4] == [0x80, 0x00, 0x00, 0x04] {
        let port = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        return port_no::from_ofp11(port).is_ok().then_some(port);
    }
    let mut state = State { bits: 0, in_port: 0 };
    while let Some(&h) = b.first_chunk::<4>() {
        let h = u32::from_be_bytes(h);
        let f = &BASIC[(h >> 9) as usize & 0x7f];
        // A member an earlier entry touched, or (strict) a fact the prerequisites need missing.
        let clash = if STRICT { (state.bits ^ f.all) & f.strict } else { state.bits & f.loose };
        let (entry, rest) = b.split_at_checked(4 + (h & 0xff) as usize)?;
        if clash != 0 {
            return None;
        }
        if h == f.exact {
            if f.value != Value::Ignored && !state.take(f, read_small(&entry[4..])?, u32::MAX) {
                return None;
            }
        } else {
            let (value, mask) = (h == f.masked).then(|| masked_value(f, &entry[4..])).flatten()?;
            if !state.take(f, value, mask) {
                return None;
            }
        }
        state.bits |= f.marks;
        b = rest;
    }
    b.is_empty().then_some(state.in_port)
}

/// What `fast_check` keeps of the entries it has read.
struct State {
    /// The members touched and the facts established (see `IP`).
    bits: u64,
    in_port: u32,
}

impl State {
    /// Checks the value of an entry of `f` (1, 2 or 4 bytes), masked with `mask`, and keeps what
    /// it sets; false if the value is invalid. (Members are set once: what a field sets was not
    /// set before.)
    #[inline]
    fn take(&mut self, f: &Basic, value: u32, mask: u32) -> bool {
        if value & f.invalid != 0 {
            return false;
        }
        match f.value {
            Value::Ignored | Value::Checked => {}
            Value::EthType => self.bits |= eth_facts((value & mask) as u16),
            Value::NwProto => self.bits |= proto_facts((value & mask) as u8),
            // A valid OXM input port is its own OF1.1 number (and the field is not maskable).
            Value::InPort if port_no::from_ofp11(value).is_ok() => self.in_port = value,
            Value::InPort => return false,
        }
        true
    }
}

/// The value and mask (of twice the width of `f`) of a masked entry of `f` (zero if its value
/// does not matter), if the mask is nonzero and covers the value, and is all ones for a field
/// that is not maskable. (Out of line, and not touching the check state, which can then stay
/// in registers.)
#[cold]
fn masked_value(f: &Basic, value_mask: &[u8]) -> Option<(u32, u32)> {
    let (value, mask) = value_mask.split_at(usize::from(f.width));
    let covered = value.iter().zip(mask).all(|(v, m)| v & !m == 0);
    let mask_ok = if f.maskable { mask.iter().any(|&m| m != 0) } else { mask.iter().all(|&m| m == 0xff) };
    if !covered || !mask_ok {
        return None;
    }
    match f.value {
        Value::Ignored => Some((0, 0)),
        _ => Some((read_small(value)?, read_small(mask)?)),
    }
}

/// How many entries at the front of `b` are unmasked basic-class entries of modelled fields, of
/// their exact length (ones `MatchFields` surely yields), and the bytes after them.
#[inline]
pub(super) fn count_plain(mut b: &[u8]) -> (usize, &[u8]) {
    let mut n = 0;
    while let Some(&h) = b.first_chunk::<4>() {
        let h = u32::from_be_bytes(h);
        if h != BASIC[(h >> 9) as usize & 0x7f].plain {
            break;
        }
        // The header's own length moves on (not the table's width: a shorter chain of loads).
        let Some(rest) = b.get(4 + (h & 0xff) as usize..) else { break };
        b = rest;
        n += 1;
    }
    (n, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::matches::oxm_ok;

    /// Entries of every basic-class field number, exact and masked, with a few values and masks
    /// (all wild, all ones, patterns, values the mask does not cover).
    fn entries() -> Vec<Vec<u8>> {
        let mut out = vec![];
        for field in 0..128u8 {
            let width = match MfId::basic(field) {
                Some(id) => id.field().n_bytes,
                None => 4,
            };
            let values: [&dyn Fn(usize) -> u8; 5] =
                [&|_| 0, &|_| 0xff, &|i| i as u8, &|i| if i == 0 { 0x08 } else { 0x06 }, &|_| 0x11];
            for v in values {
                let value: Vec<u8> = (0..width).map(v).collect();
                let mut e = vec![0x80, 0x00, field << 1, width as u8];
                e.extend(&value);
                out.push(e);
                for m in [0x00u8, 0xff, 0xf0] {
                    let mut e = vec![0x80, 0x00, (field << 1) | 1, 2 * width as u8];
                    e.extend(&value);
                    e.extend(std::iter::repeat_n(m, width));
                    out.push(e);
                }
            }
        }
        // Wrong lengths and other classes.
        out.push(vec![0x80, 0x00, 0x00, 0x05, 0, 0, 0, 1, 0]);
        out.push(vec![0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]);
        out.push(vec![0x80, 0x00, 0x00, 0x04, 0, 0]);
        out
    }

    fn agrees(b: &[u8]) {
        if let Some(p) = fast_check::<true>(b) {
            assert_eq!(oxm_ok::<true>(b), Some(p), "strict {b:02x?}");
        }
        if let Some(p) = fast_check::<false>(b) {
            assert_eq!(oxm_ok::<false>(b), Some(p), "loose {b:02x?}");
        }
        let (n, rest) = count_plain(b);
        let mut fields = crate::view::MatchView::Oxm(b).fields();
        assert_eq!(fields.by_ref().take(n).count(), n, "{b:02x?}");
        assert!(crate::view::MatchView::Oxm(&b[b.len() - rest.len()..]).fields().eq(fields), "{b:02x?}");
    }

    /// Whatever the fast check accepts, the general one accepts with the same input port, alone
    /// and after every other entry (which sets up, or spoils, prerequisites and members).
    #[test]
    fn fast_check_is_the_general_check_on_what_it_accepts() {
        let entries = entries();
        let (mut accepted, mut general) = (0, 0);
        for a in &entries {
            agrees(a);
            for b in &entries {
                let ab = [&a[..], &b[..]].concat();
                agrees(&ab);
                accepted += usize::from(fast_check::<true>(&ab).is_some());
                general += usize::from(oxm_ok::<true>(&ab).is_some());
            }
        }
        // What it leaves to the general check is the uncommon: packet types, fragments, VLAN PCP, ND.
        assert!(accepted * 5 > general * 4, "the fast check accepts {accepted} of {general} pairs");
    }

    /// After each Ethernet type and IP protocol prerequisites name, every entry is judged as
    /// the general check judges it.
    #[test]
    fn fast_prerequisites_are_the_general_ones() {
        let eth_types = [0x0800u16, 0x86dd, 0x0806, 0x8035, 0x8847, 0x8848, 0x1234];
        let protos = [1u8, 6, 17, 58, 132, 99];
        let mut prefixes = vec![];
        for t in eth_types {
            let eth = [&[0x80, 0x00, 0x0a, 2][..], &t.to_be_bytes()].concat();
            prefixes.push(eth.clone());
            for p in protos {
                prefixes.push([&eth[..], &[0x80, 0x00, 0x14, 1, p]].concat());
                // The ARP opcode shares the protocol's member.
                prefixes.push([&eth[..], &[0x80, 0x00, 0x2a, 2, 0, p]].concat());
            }
        }
        let mut accepted = 0;
        for prefix in &prefixes {
            for e in entries() {
                let b = [&prefix[..], &e[..]].concat();
                agrees(&b);
                accepted += usize::from(fast_check::<true>(&b).is_some());
            }
        }
        assert!(accepted > 3000, "{accepted}");
    }

    #[test]
    fn common_matches_take_the_fast_path() {
        // in_port=3, eth_type=IPv4, ip_proto=TCP, tcp_dst=80.
        let b =
            [0x80, 0, 0x00, 4, 0, 0, 0, 3, 0x80, 0, 0x0a, 2, 0x08, 0x00, 0x80, 0, 0x14, 1, 6, 0x80, 0, 0x1c, 2, 0, 80];
        assert_eq!(fast_check::<true>(&b), Some(3));
        assert_eq!(count_plain(&b), (4, &[][..]));
        // tcp_dst before its prerequisites: not sure.
        let b = [0x80, 0, 0x1c, 2, 0, 80, 0x80, 0, 0x0a, 2, 0x08, 0x00, 0x80, 0, 0x14, 1, 6];
        assert_eq!(fast_check::<true>(&b), None);
        assert_eq!(fast_check::<false>(&b), Some(0));
    }
}
