//! Sets of fields as bitmaps over OVS's field ids (OVS `struct mf_bitmap`), and OVS's way of
//! printing a set of field names ("eth_{src,dst,type}", "reg0...reg15").

use std::fmt::Write;

use super::{MfField, MfId, FIELDS};

const N_FIELDS: usize = FIELDS.len();

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
        MfBitmap::from_ids(MfId::all().filter(|id| id.preferred(0).is_some() && pred(id.field())))
    }

    pub fn insert(&mut self, id: MfId) {
        self.0[id as usize / 64] |= 1 << (id as usize % 64);
    }

    pub fn contains(&self, id: MfId) -> bool {
        self.0[id as usize / 64] & (1 << (id as usize % 64)) != 0
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
        MfBitmap::from_ids(names.iter().map(|n| MfId::from_name(n).unwrap())).format(&mut s);
        s
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
        assert!(!MfBitmap::oxm_writable().contains(MfId::DpHash));
    }
}
