//! The match fields OVS knows, as far as table features and table statistics need them: which
//! NXM/OXM header names which field (OVS `nxm_field_by_header`), which header OVS writes for a field
//! in a version (`mf_oxm_header`), field sets as bitmaps over OVS's field ids, and OVS's way of
//! printing a set of field names ("eth_{src,dst,type}", "reg0...reg15").

#[rustfmt::skip]
mod fields;

use std::fmt::Write;

/// One OVS field (a row of `fields::FIELDS`).
#[derive(Debug)]
pub(crate) struct MfField {
    pub name: &'static str,
    /// Variable-length (tunnel metadata): any header length matches.
    pub variable: bool,
    /// Arbitrary bitwise masks allowed.
    pub maskable: bool,
    /// Settable with set_field.
    pub writable: bool,
    /// Headers naming this field, sorted by the version they are preferred from (0: any version).
    pub headers: &'static [NxmHeader],
}

/// A field header in OVS's 64-bit form: class(16) field(7) hasmask(1) length(8), then the
/// experimenter id for experimenter OXM (class 0xffff), else 0.
#[derive(Debug)]
pub(crate) struct NxmHeader {
    pub header: u64,
    pub version: u8,
}

/// OVS's field id: an index into the field table, which is also OVS's order for printing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MfId(pub u8);

pub(crate) const N_FIELDS: usize = fields::FIELDS.len();

pub(crate) const OXM_CLASS_BASIC: u16 = 0x8000;
pub(crate) const OXM_CLASS_EXPERIMENTER: u16 = 0xffff;

pub(crate) fn header_class(h: u64) -> u16 {
    (h >> 48) as u16
}

pub(crate) fn header_field(h: u64) -> u8 {
    ((h >> 41) & 0x7f) as u8
}

pub(crate) fn header_hasmask(h: u64) -> bool {
    (h >> 40) & 1 != 0
}

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
fn make_exact(h: u64) -> u64 {
    let payload = u64::from(header_length(h).wrapping_sub(experimenter_len(h)));
    let len = (payload / 2 + u64::from(experimenter_len(h))) & 0xff;
    h & !0x0000_01ff_0000_0000 | len << 32
}

/// Header without its length bits as OVS compares them (only the low 7 length bits are dropped).
fn no_len(h: u64) -> u64 {
    h & 0xffff_ff80_ffff_ffff
}

impl MfId {
    pub(crate) fn field(self) -> &'static MfField {
        &fields::FIELDS[usize::from(self.0)]
    }

    pub fn name(self) -> &'static str {
        self.field().name
    }

    /// The field `header` names, ignoring its mask bit (OVS `nxm_field_by_header` for matches).
    pub fn from_header(header: u64) -> Option<MfId> {
        let h = if header_hasmask(header) { make_exact(header) } else { header };
        fields::FIELDS.iter().enumerate().find_map(|(i, f)| {
            let nf = f.headers.iter().find(|n| no_len(n.header) == no_len(h))?;
            (header_length(h) == header_length(nf.header) || f.variable).then_some(MfId(i as u8))
        })
    }

    /// The header OVS writes for this field in `version` (0: OVS's preferred legacy form),
    /// or `None` if the field has none (OVS `mf_oxm_header`).
    pub fn header(self, version: u8) -> Option<u64> {
        self.preferred(version).map(|n| n.header)
    }

    /// The header entry `header` picks, with the version it is preferred from.
    pub(crate) fn preferred(self, version: u8) -> Option<&'static NxmHeader> {
        let hs = self.field().headers;
        let first = hs.first()?;
        Some(hs.iter().skip(1).fold(first, |f, n| if version >= n.version { n } else { f }))
    }

    /// Every field, in OVS's order.
    pub fn all() -> impl Iterator<Item = MfId> {
        (0..N_FIELDS as u8).map(MfId)
    }

    /// The field named `name` (OVS's field names, e.g. "eth_src").
    pub(crate) fn by_name(name: &str) -> Option<MfId> {
        fields::FIELDS.iter().position(|f| f.name == name).map(|i| MfId(i as u8))
    }

    /// `by_name` for names this crate spells out itself (checked by a unit test).
    pub(crate) fn named(name: &str) -> MfId {
        MfId::by_name(name).unwrap_or_else(|| panic!("OVS has no field named {name}"))
    }
}

/// A set of OVS fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MfBitmap([u64; N_FIELDS.div_ceil(64)]);

impl MfBitmap {
    pub fn new() -> MfBitmap {
        MfBitmap::default()
    }

    pub fn from_ids(ids: impl IntoIterator<Item = MfId>) -> MfBitmap {
        let mut b = MfBitmap::new();
        for id in ids {
            b.insert(id);
        }
        b
    }

    /// Fields with any NXM/OXM header (OVS `oxm_matchable_fields`).
    pub fn oxm_matchable() -> MfBitmap {
        MfBitmap::all_where(|_| true)
    }

    /// Matchable fields that take arbitrary masks (OVS `oxm_maskable_fields`).
    pub fn oxm_maskable() -> MfBitmap {
        MfBitmap::all_where(|f| f.maskable)
    }

    /// Matchable fields that set_field can write (OVS `oxm_writable_fields`).
    pub fn oxm_writable() -> MfBitmap {
        MfBitmap::all_where(|f| f.writable)
    }

    fn all_where(pred: impl Fn(&MfField) -> bool) -> MfBitmap {
        MfBitmap::from_ids(MfId::all().filter(|id| id.header(0).is_some() && pred(id.field())))
    }

    pub fn insert(&mut self, id: MfId) {
        self.0[usize::from(id.0) / 64] |= 1 << (id.0 % 64);
    }

    pub fn contains(&self, id: MfId) -> bool {
        self.0[usize::from(id.0) / 64] & (1 << (id.0 % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    pub fn union(&self, o: &MfBitmap) -> MfBitmap {
        MfBitmap(std::array::from_fn(|i| self.0[i] | o.0[i]))
    }

    pub fn intersect(&self, o: &MfBitmap) -> MfBitmap {
        MfBitmap(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }

    /// Every field not in `self`.
    pub fn complement(&self) -> MfBitmap {
        MfBitmap::from_ids(MfId::all().filter(|id| !self.contains(*id)))
    }

    pub fn iter(&self) -> impl Iterator<Item = MfId> + '_ {
        MfId::all().filter(|id| self.contains(*id))
    }

    /// OVS's text for a field set: " name name ...", abbreviated like OVS (`print_mf_bitmap`).
    pub fn format(&self, out: &mut String) {
        let names: Vec<&str> = self.iter().map(MfId::name).collect();
        if !names.is_empty() {
            out.push(' ');
            print_names(out, &names, 0);
        }
    }
}

/// Length of the longest common prefix of `a` and `b` that ends in '_', 0 if none.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            break;
        }
        if *x == b'_' {
            n = i + 1;
        }
    }
    n
}

/// How many names at the start share a further '_'-terminated prefix with the first, and the
/// length of the prefix the first two share. OVS counts every later name sharing any prefix with
/// the first, not necessarily the first two's, and this keeps that.
fn common_prefix_run(ids: &[&str], prefix_len: usize) -> (usize, usize) {
    if ids.len() < 2 {
        return (ids.len(), 0);
    }
    let tail = |s: &str| s.as_bytes().get(prefix_len..).unwrap_or(&[]).to_vec();
    let first = tail(ids[0]);
    let extra = common_prefix(&first, &tail(ids[1]));
    if extra == 0 {
        return (1, 0);
    }
    let run = 2 + ids[2..].iter().take_while(|s| common_prefix(&first, &tail(s)) != 0).count();
    (run, extra)
}

/// "reg0" then "reg1": the same but for a decimal suffix one larger.
fn sequential(a: &str, b: &str) -> bool {
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let (sa, sb) = (&a[common..], &b[common..]);
    if sa.is_empty() && sb.is_empty() {
        return false;
    }
    let digits = |s: &str| !s.is_empty() && s.len() < 10 && s.bytes().all(|c| c.is_ascii_digit());
    digits(sa) && digits(sb) && sa.parse::<u64>().ok().map(|x| x + 1) == sb.parse::<u64>().ok()
}

fn sequential_suffix_run(ids: &[&str]) -> usize {
    let mut i = 1;
    while i < ids.len() && sequential(ids[i - 1], ids[i]) {
        i += 1;
    }
    // "x0...x1" is no shorter than "x0 x1".
    if i == 2 {
        1
    } else {
        i
    }
}

/// OVS `print_names`: names without their first `prefix_len` bytes, grouped by common prefix
/// ("eth_{src,dst}") or sequential suffix ("reg0...reg3").
fn print_names(out: &mut String, mut ids: &[&str], prefix_len: usize) {
    let mut group = 0;
    while !ids.is_empty() {
        if group > 0 {
            out.push(if prefix_len > 0 { ',' } else { ' ' });
        }
        group += 1;
        let (prefix_run, extra) = common_prefix_run(ids, prefix_len);
        let suffix_run = sequential_suffix_run(ids);
        let run = prefix_run.max(suffix_run);
        let cut = |s: &str, n: usize| s.get(n..).unwrap_or("").to_string();
        if suffix_run >= prefix_run {
            out.push_str(&cut(ids[0], prefix_len));
            if run > 1 {
                let _ = write!(out, "...{}", cut(ids[run - 1], prefix_len));
            }
        } else {
            out.push_str(ids[0].get(prefix_len..prefix_len + extra).unwrap_or(""));
            out.push('{');
            print_names(out, &ids[..run], prefix_len + extra);
            out.push('}');
        }
        ids = &ids[run..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(names: &[&str]) -> String {
        let mut s = String::new();
        MfBitmap::from_ids(names.iter().map(|n| MfId::named(n))).format(&mut s);
        s
    }

    #[test]
    fn headers_find_fields_like_ovs() {
        // NXM_OF_IN_PORT, OXM_OF_IN_PORT (the 32-bit OF1.1+ port field), OXM_OF_ETH_DST masked.
        assert_eq!(MfId::from_header(0x0000_0002_0000_0000).map(MfId::name), Some("in_port"));
        assert_eq!(MfId::from_header(0x8000_0004_0000_0000).map(MfId::name), Some("in_port_oxm"));
        assert_eq!(MfId::from_header(0x8000_070c_0000_0000).map(MfId::name), Some("eth_dst"));
        // NXM_OF_ETH_DST names the same field.
        assert_eq!(MfId::from_header(0x0000_0206_0000_0000).map(MfId::name), Some("eth_dst"));
        // Wrong length, unknown field.
        assert_eq!(MfId::from_header(0x8000_0605_0000_0000), None);
        assert_eq!(MfId::from_header(0x8000_7e04_0000_0000), None);
        // Experimenter OXM: ONF TCP flags; tunnel metadata takes any length.
        assert_eq!(MfId::from_header(0xffff_5406_4f4e_4600).map(MfId::name), Some("tcp_flags"));
        assert_eq!(MfId::from_header(0x0001_5008_0000_0000).map(MfId::name), Some("tun_metadata0"));
    }

    #[test]
    fn preferred_header_depends_on_version() {
        let tcp_flags = MfId::named("tcp_flags");
        assert_eq!(tcp_flags.header(0), Some(0x0001_4402_0000_0000));
        assert_eq!(tcp_flags.header(4), Some(0xffff_5406_4f4e_4600));
        assert_eq!(tcp_flags.header(6), Some(0x8000_5402_0000_0000));
        assert_eq!(MfId::named("eth_src").header(1), Some(0x0000_0406_0000_0000));
        assert_eq!(MfId::named("eth_src").header(3), Some(0x8000_0806_0000_0000));
        assert_eq!(make_wild(0xffff_5406_4f4e_4600), 0xffff_5508_4f4e_4600);
        assert_eq!(make_wild(0x8000_0806_0000_0000), 0x8000_090c_0000_0000);
    }

    #[test]
    fn names_print_like_ovs() {
        assert_eq!(
            fmt(&["in_port", "eth_src", "eth_dst", "eth_type", "vlan_vid", "vlan_pcp", "ip_src", "ip_dst"]),
            " in_port eth_{src,dst,type} vlan_{vid,pcp} ip_{src,dst}"
        );
        assert_eq!(fmt(&["reg0", "reg1", "reg2", "reg3"]), " reg0...reg3");
        assert_eq!(fmt(&["reg0", "reg1"]), " reg0 reg1");
        assert_eq!(fmt(&["tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst"]), " tun_{src,dst,ipv6_{src,dst}}");
    }

    #[test]
    fn field_sets_match_ovs_counts() {
        assert_eq!(N_FIELDS, 183);
        assert_eq!(MfBitmap::oxm_matchable().iter().count(), 178);
        assert!(MfBitmap::oxm_maskable().iter().all(|id| id.field().maskable));
        assert!(!MfBitmap::oxm_writable().contains(MfId::named("dp_hash")));
    }
}
