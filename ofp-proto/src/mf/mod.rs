//! The match fields OVS knows (OVS `meta-flow`): one table, generated from OVS's meta-flow.h, of
//! every field's names, width, maskability, notation, prerequisites, writability and NXM/OXM code
//! points; lookups by name and by header; field sets (`MfBitmap`); and, for the fields `Flow`
//! models, what a field means for a `Flow` or `Match` (`access`).
//!
//! Field values travel as `u128` holding the field's `n_bytes` big-endian bytes as an integer
//! (an Ethernet address is a 48-bit number, an IPv6 address a 128-bit one).
//!
//! A header in its 64-bit form is class(16) field(7) hasmask(1) length(8), then the experimenter
//! id for experimenter OXM (class 0xffff), else 0.

mod access;
mod bitmap;
#[rustfmt::skip]
mod fields;

pub use access::{
    aliases, format, format_packet_type, frag_name, get, get_masked, is_all_wild, is_mask_valid, is_value_valid,
    prereqs_ok, set, set_flow_value, set_value, set_wild,
};
pub(crate) use access::{value_rule, ValueRule};
pub use bitmap::MfBitmap;
pub use fields::MfId;

use fields::{BY_CODE, FIELDS};

/// How a field's value is spelled (OVS `enum mf_string`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfString {
    Decimal,
    Hex,
    CtState,
    Ethernet,
    Ipv4,
    Ipv6,
    /// 16-bit OpenFlow port (reserved ports by name).
    OfpPort,
    /// 32-bit OpenFlow port.
    OfpPortOxm,
    Frag,
    TunnelFlags,
    TcpFlags,
    PacketType,
}

/// What a match must establish before a field may be matched (OVS `enum mf_prereqs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prereq {
    None,
    Ethernet,
    Arp,
    Ipv4,
    Ipv6,
    VlanVid,
    Mpls,
    IpAny,
    Tcp,
    Udp,
    Sctp,
    Icmpv4,
    Icmpv6,
    Nd,
    NdSolicit,
    NdAdvert,
    Nsh,
    CtValid,
}

/// NXM/OXM classes.
pub const OXM_CLASS_NXM0: u16 = 0x0000;
pub const OXM_CLASS_NXM1: u16 = 0x0001;
pub const OXM_CLASS_BASIC: u16 = 0x8000;
/// OF1.5 packet registers.
pub const OXM_CLASS_PKT_REGS: u16 = 0x8001;
pub const OXM_CLASS_EXPERIMENTER: u16 = 0xffff;
pub const ONF_EXPERIMENTER: u32 = 0x4f4e_4600;
pub const NX_EXPERIMENTER: u32 = 0x0000_2320;

/// One NXM/OXM code point for a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OxmHeader {
    pub name: &'static str,
    pub class: u16,
    pub field: u8,
    /// Experimenter id for class 0xffff, else 0.
    pub experimenter: u32,
    /// First OpenFlow version that uses this code point when encoding OXM (0: NXM/extension).
    pub version: u8,
}

impl OxmHeader {
    pub fn is_experimenter(&self) -> bool {
        self.class == OXM_CLASS_EXPERIMENTER
    }
}

/// Static facts about one field.
#[derive(Debug)]
pub struct MfField {
    pub id: MfId,
    /// OVS's name, e.g. "eth_src" (the one `set_field` prints).
    pub name: &'static str,
    /// Alternative name, e.g. "dl_src".
    pub extra_name: Option<&'static str>,
    pub n_bytes: usize,
    pub n_bits: u32,
    /// Variable width (tunnel metadata): any header length names the field.
    pub variable: bool,
    /// Arbitrary bitwise masks allowed.
    pub maskable: bool,
    pub string: MfString,
    pub prereqs: Prereq,
    /// Settable with set_field.
    pub writable: bool,
    /// Code points, in increasing `version` order.
    pub headers: &'static [OxmHeader],
}

impl MfId {
    #[inline]
    pub const fn field(self) -> &'static MfField {
        &FIELDS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.field().name
    }

    /// Every field, in OVS's order.
    pub fn all() -> impl Iterator<Item = MfId> {
        FIELDS.iter().map(|f| f.id)
    }

    /// NXM_NX_REG`n` for n < 16.
    pub fn reg(n: usize) -> Option<MfId> {
        (n < 16).then(|| FIELDS[MfId::Reg0 as usize + n].id)
    }

    /// OF1.5 extended register `n` (n < 8).
    pub fn xreg(n: usize) -> Option<MfId> {
        (n < 8).then(|| FIELDS[MfId::Xreg0 as usize + n].id)
    }

    /// The field named `name` (OVS name or its alias).
    pub fn from_name(name: &str) -> Option<MfId> {
        FIELDS.iter().find(|f| f.name == name || f.extra_name == Some(name)).map(|f| f.id)
    }

    /// The OXM basic-class field numbered `field` (const: tables built at compile time use it).
    pub(crate) const fn basic(field: u8) -> Option<MfId> {
        BY_FIELD[2][field as usize & 0x7f]
    }

    /// The field an NXM/OXM code point names, whatever the header's length.
    #[inline]
    pub fn from_code(class: u16, field: u8, experimenter: u32) -> Option<MfId> {
        let direct = match class {
            OXM_CLASS_NXM0 => &BY_FIELD[0],
            OXM_CLASS_NXM1 => &BY_FIELD[1],
            OXM_CLASS_BASIC => &BY_FIELD[2],
            _ => {
                let key = (class, field, experimenter);
                let i = BY_CODE.binary_search_by_key(&key, |&(c, f, e, _)| (c, f, e)).ok()?;
                return Some(BY_CODE[i].3);
            }
        };
        direct.get(usize::from(field)).copied().flatten().filter(|_| experimenter == 0)
    }

    /// The field a 64-bit header names if its length fits the field, ignoring its mask bit
    /// (OVS `nxm_field_by_header`: a masked header's length is halved first, rounding down).
    #[inline]
    pub fn from_header(header: u64) -> Option<MfId> {
        let h = if header_hasmask(header) { make_exact(header) } else { header };
        let id = MfId::from_code(header_class(h), header_field(h), h as u32)?;
        let f = id.field();
        // OVS compares the length's top bit with the rest of the header.
        let fits = header_length(h) == f.length(header_class(h) == OXM_CLASS_EXPERIMENTER)
            || (f.variable && header_length(h) < 0x80);
        fits.then_some(id)
    }

    /// The code point OVS uses for this field in OXM `version` (0 for NXM): the last one whose
    /// version is at most `version`, else the first (OVS `nxm_field_by_mf_id`); `None` for the
    /// few fields that have no code point.
    pub fn preferred(self, version: u8) -> Option<&'static OxmHeader> {
        let hs = self.field().headers;
        hs.iter().rev().find(|h| h.version <= version).or(hs.first())
    }

    /// The 64-bit header OVS writes for this field in `version` (OVS `mf_oxm_header`).
    pub fn header(self, version: u8) -> Option<u64> {
        let h = self.preferred(version)?;
        let length = self.field().length(h.is_experimenter());
        Some(u64::from(h.class) << 48 | u64::from(h.field) << 41 | u64::from(length) << 32 | u64::from(h.experimenter))
    }

    /// The header name OVS prints in `load:` and `move:` (`nxm_field_by_mf_id(id, 0)`).
    pub fn nxm_name(self) -> &'static str {
        self.preferred(0).map_or(self.name(), |h| h.name)
    }

    /// All-ones value for this field's width.
    pub fn all_ones(self) -> u128 {
        ones(self.field().n_bytes)
    }
}

/// The fields of the NXM0, NXM1 and OXM basic classes (most of what matches carry) by field
/// number, so that decoding a match looks each entry up in one step.
static BY_FIELD: [[Option<MfId>; 128]; 3] = {
    let mut t = [[None; 128]; 3];
    let mut i = 0;
    while i < BY_CODE.len() {
        let (class, field, _, id) = BY_CODE[i];
        let row = match class {
            OXM_CLASS_NXM0 => 0,
            OXM_CLASS_NXM1 => 1,
            OXM_CLASS_BASIC => 2,
            _ => 3,
        };
        if row < 3 {
            t[row][field as usize] = Some(id);
        }
        i += 1;
    }
    t
};

impl MfField {
    /// The header length byte of an unmasked entry (the experimenter id counts).
    #[inline]
    fn length(&self, experimenter: bool) -> u8 {
        (self.n_bytes + if experimenter { 4 } else { 0 }) as u8
    }
}

#[inline]
pub fn ones(n_bytes: usize) -> u128 {
    match ONES.get(n_bytes) {
        Some(&m) => m,
        None => u128::MAX,
    }
}

/// `ones(n)` for n ≤ 16: a load instead of a 128-bit shift on every match entry's path.
static ONES: [u128; 17] = {
    let mut t = [0u128; 17];
    let mut n = 1;
    while n < 17 {
        t[n] = t[n - 1] << 8 | 0xff;
        n += 1;
    }
    t
};

#[inline]
pub(crate) fn header_class(h: u64) -> u16 {
    (h >> 48) as u16
}

#[inline]
pub(crate) fn header_field(h: u64) -> u8 {
    ((h >> 41) & 0x7f) as u8
}

#[inline]
pub(crate) fn header_hasmask(h: u64) -> bool {
    (h >> 40) & 1 != 0
}

#[inline]
pub(crate) fn header_length(h: u64) -> u8 {
    (h >> 32) as u8
}

pub(crate) fn is_experimenter(h: u64) -> bool {
    header_class(h) == OXM_CLASS_EXPERIMENTER
}

/// Bytes the header itself takes on the wire: 8 for experimenter OXM, else 4.
pub(crate) fn header_wire_len(h: u64) -> usize {
    if is_experimenter(h) {
        8
    } else {
        4
    }
}

fn experimenter_len(h: u64) -> u8 {
    if is_experimenter(h) {
        4
    } else {
        0
    }
}

/// The same header with its mask bit set and its length doubled (OVS `nxm_make_wild_header`).
pub(crate) fn make_wild(h: u64) -> u64 {
    let payload = u64::from(header_length(h) - experimenter_len(h));
    let len = (payload * 2 + u64::from(experimenter_len(h))) & 0xff;
    (h & !0x0000_01ff_0000_0000) | 1 << 40 | len << 32
}

/// The same header without its mask bit, length halved (OVS `nxm_make_exact_header`).
#[inline]
fn make_exact(h: u64) -> u64 {
    let payload = u64::from(header_length(h).wrapping_sub(experimenter_len(h)));
    let len = (payload / 2 + u64::from(experimenter_len(h))) & 0xff;
    h & !0x0000_01ff_0000_0000 | len << 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_id() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.id as usize, i, "{}", f.name);
            assert!(f.headers.windows(2).all(|w| w[0].version <= w[1].version), "{}", f.name);
        }
        assert_eq!(FIELDS.len(), 183);
        assert_eq!(MfId::reg(15), Some(MfId::Reg15));
        assert_eq!(MfId::reg(16), None);
        assert_eq!(MfId::xreg(7), Some(MfId::Xreg7));
        assert_eq!(MfId::Reg7.field().name, "reg7");
        assert_eq!(MfId::from_name("dl_src"), Some(MfId::EthSrc));
        assert_eq!(MfId::from_name("tunnel_id"), Some(MfId::TunId));
        assert_eq!(MfId::from_name("ct_state"), Some(MfId::CtState));
    }

    #[test]
    fn code_index_covers_every_code_point() {
        assert!(BY_CODE.windows(2).all(|w| (w[0].0, w[0].1, w[0].2) < (w[1].0, w[1].1, w[1].2)));
        let n: usize = FIELDS.iter().map(|f| f.headers.len()).sum();
        assert_eq!(BY_CODE.len(), n);
        for f in &FIELDS {
            for h in f.headers {
                assert_eq!(MfId::from_code(h.class, h.field, h.experimenter), Some(f.id), "{}", h.name);
            }
        }
        assert_eq!(MfId::from_code(0x8000, 127, 0), None);
        assert_eq!(MfId::from_code(0x8000, 200, 0), None);
        assert_eq!(MfId::from_code(0x8000, 11, 5), None);
    }

    #[test]
    fn headers_by_version_follow_ovs() {
        assert_eq!(MfId::TunId.preferred(3).map(|h| h.name), Some("NXM_NX_TUN_ID"));
        assert_eq!(MfId::TunId.preferred(4).map(|h| h.name), Some("OXM_OF_TUNNEL_ID"));
        assert_eq!(MfId::TcpFlags.preferred(0).map(|h| h.name), Some("NXM_NX_TCP_FLAGS"));
        assert_eq!(MfId::TcpFlags.preferred(5).map(|h| h.name), Some("ONFOXM_ET_TCP_FLAGS"));
        assert_eq!(MfId::TcpFlags.preferred(6).map(|h| h.name), Some("OXM_OF_TCP_FLAGS"));
        // OVS lists OXM before NXM code points of equal version, so NXM wins when encoding.
        assert_eq!(MfId::DpHash.preferred(0).map(|h| h.name), Some("NXM_NX_DP_HASH"));
        assert_eq!(MfId::DpHash.preferred(6).map(|h| h.name), Some("NXM_NX_DP_HASH"));
        assert_eq!(MfId::Metadata.nxm_name(), "OXM_OF_METADATA");
        assert_eq!(MfId::TunTtl.preferred(4), None);
        assert_eq!(MfId::TcpFlags.header(0), Some(0x0001_4402_0000_0000));
        assert_eq!(MfId::TcpFlags.header(4), Some(0xffff_5406_4f4e_4600));
        assert_eq!(MfId::TcpFlags.header(6), Some(0x8000_5402_0000_0000));
        assert_eq!(MfId::EthSrc.header(1), Some(0x0000_0406_0000_0000));
        assert_eq!(MfId::EthSrc.header(3), Some(0x8000_0806_0000_0000));
        assert_eq!(make_wild(0xffff_5406_4f4e_4600), 0xffff_5508_4f4e_4600);
        assert_eq!(make_wild(0x8000_0806_0000_0000), 0x8000_090c_0000_0000);
    }

    #[test]
    fn headers_find_fields_like_ovs() {
        let f = |h: u64| MfId::from_header(h);
        // NXM_OF_IN_PORT, OXM_OF_IN_PORT (the 32-bit OF1.1+ port field), OXM_OF_ETH_DST masked.
        assert_eq!(f(0x0000_0002_0000_0000), Some(MfId::InPort));
        assert_eq!(f(0x8000_0004_0000_0000), Some(MfId::InPortOxm));
        assert_eq!(f(0x8000_070c_0000_0000), Some(MfId::EthDst));
        // NXM_OF_ETH_DST names the same field.
        assert_eq!(f(0x0000_0206_0000_0000), Some(MfId::EthDst));
        // Wrong length, unknown field.
        assert_eq!(f(0x8000_0605_0000_0000), None);
        assert_eq!(f(0x8000_7e04_0000_0000), None);
        // Experimenter OXM: NX dp_hash masked, ONF TCP flags; tunnel metadata takes any length.
        assert_eq!(f(0xffff_010c_0000_2320), Some(MfId::DpHash));
        assert_eq!(f(0xffff_5406_4f4e_4600), Some(MfId::TcpFlags));
        assert_eq!(f(0x0001_5008_0000_0000), Some(MfId::TunMetadata0));
        // A masked header's length rounds down when halved.
        assert_eq!(f(0x8000_1502_0000_0000), Some(MfId::IpProto));
        assert_eq!(f(0x8000_1503_0000_0000), Some(MfId::IpProto));
        assert_eq!(f(0x8000_1708_0000_0000), Some(MfId::Ipv4Src));
        assert_eq!(f(0x8000_1605_0000_0000), None);
        assert_eq!(MfId::from_code(0x8000, 11, 0), Some(MfId::Ipv4Src));
    }
}
