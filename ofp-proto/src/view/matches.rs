//! Match views: an OXM match's TLVs (iterated in place), or an OF1.0/OF1.1 fixed match, and the
//! conservative "surely valid" checks the message views run instead of building a `Match`.

use crate::errors::OfpErr;
use crate::flow::Flow;
use crate::mf::{self, MfId};
use crate::ofmatch::nxm::{self, Entry, OFPMT_OXM, OFPMT_STANDARD};
use crate::ofmatch::ofp10::OFP10_MATCH_LEN;
use crate::ofmatch::ofp11::OFP11_MATCH_LEN;
use crate::ofmatch::Match;
use crate::port_no;
use crate::view::oxm;

/// A match inside a message, borrowed from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchView<'a> {
    /// OXM TLVs (after the `ofp11_match_header`, before the padding).
    Oxm(&'a [u8]),
    /// An OF1.0 `ofp10_match` of a flow mod (normalized as OVS does when it materialises).
    Ofp10(&'a [u8; OFP10_MATCH_LEN]),
    /// An OF1.1 standard `ofp11_match`, header included.
    Ofp11(&'a [u8; OFP11_MATCH_LEN]),
}

/// One matched field of an OXM match: the value and mask as `u128` (see [`crate::mf`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchField {
    pub id: MfId,
    pub value: u128,
    pub mask: u128,
    /// The TLV carried a mask.
    pub masked: bool,
}

/// The fields of an OXM match in wire order; fields this codec does not model are skipped (as a
/// packet-in's loose decoding skips them).
#[derive(Clone, Debug)]
pub struct MatchFields<'a> {
    rest: &'a [u8],
}

impl Iterator for MatchFields<'_> {
    type Item = MatchField;

    #[inline]
    fn next(&mut self) -> Option<MatchField> {
        while !self.rest.is_empty() {
            match nxm::pull_entry(&mut self.rest, false, false, true) {
                Ok(Entry::Field { id, value, mask, masked }) => return Some(MatchField { id, value, mask, masked }),
                Err(OfpErr::OFPBMC_BAD_FIELD) => continue,
                // Unreachable in a view that parsed; stop rather than loop.
                Ok(Entry::Cookie { .. }) | Err(_) => break,
            }
        }
        self.rest = &[];
        None
    }

    /// Plain entries counted from their headers alone, the rest by decoding them.
    #[inline]
    fn count(self) -> usize {
        match oxm::count_plain(self.rest) {
            (n, []) => n,
            (n, rest) => n + MatchFields { rest }.fold(0, |n, _| n + 1),
        }
    }
}

impl<'a> MatchView<'a> {
    /// The fields of an OXM match (empty for the fixed OF1.0/OF1.1 forms: use `to_match`).
    #[inline]
    pub fn fields(&self) -> MatchFields<'a> {
        match *self {
            MatchView::Oxm(b) => MatchFields { rest: b },
            MatchView::Ofp10(_) | MatchView::Ofp11(_) => MatchFields { rest: &[] },
        }
    }

    /// The last entry for `id` in an OXM match (value, mask).
    #[inline]
    pub fn get(&self, id: MfId) -> Option<(u128, u128)> {
        self.fields().filter(|f| f.id == id).last().map(|f| (f.value, f.mask))
    }

    /// The input port the match leaves in its flow (0 when it does not match one), as the owned
    /// decode's `match.flow.in_port`.
    #[inline]
    pub fn in_port(&self) -> u32 {
        match *self {
            MatchView::Oxm(_) => self.fields().fold(0, |port, f| match f.mask {
                0 if in_port_of(f.id, 0).is_some() => 0,
                _ => in_port_of(f.id, f.value).unwrap_or(port),
            }),
            MatchView::Ofp10(_) | MatchView::Ofp11(_) => self.to_match().map_or(0, |m| m.flow.in_port),
        }
    }

    /// The owned match, as the message's owned decode builds it.
    #[inline]
    pub fn to_match(&self) -> Result<Match, OfpErr> {
        match *self {
            MatchView::Oxm(b) => nxm::decode_raw(b, false, false, None),
            MatchView::Ofp10(b) => {
                let mut m = Match::from_ofp10(b);
                m.normalize();
                Ok(m)
            }
            MatchView::Ofp11(b) => Match::from_ofp11(b),
        }
    }

    /// The match of an OF1.1+ message at the front of `b` (`ofp11_match_header` first) and the
    /// padded length it takes, by its layout only.
    #[inline]
    pub(crate) fn ofp11_layout(b: &'a [u8]) -> Option<(MatchView<'a>, usize)> {
        let mtype = u16::from_be_bytes([*b.first()?, *b.get(1)?]);
        let len = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
        match mtype {
            OFPMT_OXM if len >= 4 => {
                let padded = crate::buf::round_up8(len);
                b.get(..padded)?;
                Some((MatchView::Oxm(&b[4..len]), padded))
            }
            OFPMT_STANDARD if len == OFP11_MATCH_LEN => {
                Some((MatchView::Ofp11(b.get(..OFP11_MATCH_LEN)?.try_into().ok()?), OFP11_MATCH_LEN))
            }
            _ => None,
        }
    }

    /// True only if the owned decode surely accepts this match (`strict`: as flow mods and flow
    /// statistics decode it; else loosely, as packet-in metadata). False means "not sure": the
    /// caller then asks the owned decoder, which also gives the exact error.
    #[inline]
    pub(crate) fn surely_valid(&self, strict: bool) -> bool {
        match *self {
            MatchView::Oxm(b) if strict => oxm::fast_check::<true>(b).is_some() || oxm_ok::<true>(b).is_some(),
            MatchView::Oxm(b) => oxm::fast_check::<false>(b).is_some() || oxm_ok::<false>(b).is_some(),
            MatchView::Ofp10(_) => true,
            MatchView::Ofp11(_) => false,
        }
    }

    /// For a packet-in's loose OXM metadata: `Some(in_port)` only if the owned decode surely
    /// accepts it (the input port comes with the check, which reads every entry anyway).
    #[inline]
    pub(crate) fn loose_in_port(&self) -> Option<u32> {
        match *self {
            MatchView::Oxm(b) => oxm::fast_check::<false>(b).or_else(|| oxm_ok::<false>(b)),
            MatchView::Ofp10(_) | MatchView::Ofp11(_) => None,
        }
    }
}

/// The flow's input port an exact entry of `id` with `value` sets, if `id` is an input port field.
#[inline]
fn in_port_of(id: MfId, value: u128) -> Option<u32> {
    match id {
        MfId::InPort => Some(port_no::ofp10_to_ofp11(value as u16)),
        MfId::InPortOxm => Some(port_no::from_ofp11(value as u32).unwrap_or(port_no::ANY)),
        _ => None,
    }
}

/// The owned decoder surely accepts the OXM TLVs `b` (`strict`: as flow mods and flow statistics
/// decode them, else loosely, as packet-in metadata), judged without building a `Match`: every
/// entry is well formed with a valid, nonzero mask and a valid value, no two entries touch the
/// same member of the match (so the owned decoder's duplicate check cannot fire), and, when
/// strict, the fields before each entry give it its prerequisites. For those the flow values the
/// entries leave are exactly what the owned decoder's match would hold, so the prerequisite
/// check is the owned decoder's own, on a flow alone. Anything else (masked-out entries, two
/// entries on one member such as VLAN VID and PCP, unknown fields when strict) is left to the
/// owned decoder.
/// Returns the input port the match sets (0 if none) when it is surely valid. (Out of line: the
/// fast check judges the common matches.)
#[inline(never)]
pub(super) fn oxm_ok<const STRICT: bool>(mut b: &[u8]) -> Option<u32> {
    let strict = STRICT;
    let mut touched = 0u64;
    let mut in_port = 0;
    let mut flow = Flow::default();
    while !b.is_empty() {
        let (id, value, mask, masked) = match nxm::pull_entry(&mut b, false, false, true) {
            Ok(Entry::Field { id, value, mask, masked }) => (id, value, mask, masked),
            Err(OfpErr::OFPBMC_BAD_FIELD) if !strict => continue,
            Ok(Entry::Cookie { .. }) | Err(_) => return None,
        };
        // An unmasked entry's mask is all-ones, always valid.
        if mask == 0 || (masked && !mf::is_mask_valid(id, mask)) || !mf::is_value_valid(id, value) {
            return None;
        }
        if touched & members(id) != 0 || (strict && !mf::prereqs_ok(id, &flow)) {
            return None;
        }
        in_port = in_port_of(id, value).unwrap_or(in_port);
        if strict {
            mf::set_flow_value(id, value & mask, &mut flow);
        }
        // A field with prerequisites also sets the match's default packet type.
        touched |= members(id) | if id.field().prereqs != mf::Prereq::None { PACKET_TYPE } else { 0 };
    }
    Some(in_port)
}

pub(super) const PACKET_TYPE: u64 = 1 << 17;

/// The members of a `Match` (as bits) that setting or testing a field reads or writes, by field
/// id: registers are bits 0–15 (an extended register is two of them), the other flow members one
/// bit each. Fields sharing a member (VLAN TCI, VID and PCP; the transport ports and ICMP
/// type/code; …) share its bit. A field `Flow` does not model claims every member, so it is never
/// judged alone. (A table: this is on every entry's path.)
static MEMBERS: [u64; 256] = {
    let mut t = [u64::MAX; 256];
    let mut i = 0;
    while i < 256 {
        if let Some(bit) = member_bit(i as u8) {
            t[i] = bit;
        }
        i += 1;
    }
    t
};

#[inline]
fn members(id: MfId) -> u64 {
    MEMBERS[id as usize]
}

pub(super) const fn member_bit(id: u8) -> Option<u64> {
    use MfId::*;
    if id >= Reg0 as u8 && id <= Reg15 as u8 {
        return Some(1 << (id - Reg0 as u8));
    }
    if id >= Xreg0 as u8 && id <= Xreg7 as u8 {
        return Some(3 << (2 * (id - Xreg0 as u8)));
    }
    let groups: [(&[MfId], u64); 26] = [
        (&[DpHash], 16),
        (&[PacketType], 17),
        (&[TunId], 18),
        (&[Metadata], 19),
        (&[InPort, InPortOxm], 20),
        (&[PktMark], 21),
        (&[EthSrc], 22),
        (&[EthDst], 23),
        (&[EthType], 24),
        (&[VlanTci, VlanVid, VlanPcp], 25),
        (&[MplsLabel, MplsTc, MplsBos, MplsTtl], 26),
        (&[Ipv4Src, ArpSpa], 27),
        (&[Ipv4Dst, ArpTpa], 28),
        (&[Ipv6Src], 29),
        (&[Ipv6Dst], 30),
        (&[Ipv6Label], 31),
        (&[IpProto, ArpOp], 32),
        (&[IpDscp, IpDscpShifted, IpEcn], 33),
        (&[IpTtl], 34),
        (&[IpFrag], 35),
        (&[ArpSha, NdSll], 36),
        (&[ArpTha, NdTll], 37),
        (&[TcpSrc, UdpSrc, SctpSrc, Icmpv4Type, Icmpv6Type], 38),
        (&[TcpDst, UdpDst, SctpDst, Icmpv4Code, Icmpv6Code], 39),
        (&[TcpFlags], 40),
        (&[NdTarget], 41),
    ];
    let mut g = 0;
    while g < groups.len() {
        let (fields, bit) = groups[g];
        let mut f = 0;
        while f < fields.len() {
            if fields[f] as u8 == id {
                return Some(1 << bit);
            }
            f += 1;
        }
        g += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the match checks rely on: a field whose members no earlier entry touched is still
    /// all-wild (so the owned duplicate check passes), and setting it leaves the earlier field's
    /// flow value alone (so the flow the strict check keeps is the owned match's).
    #[test]
    fn fields_on_disjoint_members_do_not_interact() {
        let modelled: Vec<MfId> = MfId::all().filter(|id| id.in_flow()).collect();
        for &a in &modelled {
            for &b in &modelled {
                let mut m = Match::catchall();
                let ones_a = mf::ones(a.field().n_bytes);
                assert!(m.set(a, ones_a & 0x0101_0101_0101_0101_0101_0101_0101_0101, ones_a));
                let mut touched = members(a);
                if a.field().prereqs != mf::Prereq::None {
                    m.set_default_packet_type();
                    touched |= PACKET_TYPE;
                }
                if touched & members(b) != 0 {
                    continue;
                }
                assert!(mf::is_all_wild(b, &m), "{a:?} then {b:?}");
                let before = mf::get(a, &m.flow);
                assert!(m.set(b, 0, mf::ones(b.field().n_bytes)));
                assert_eq!(mf::get(a, &m.flow), before, "{a:?} then {b:?}");
            }
        }
    }

    #[test]
    fn the_strict_check_starts_from_a_catch_all_flow() {
        assert_eq!(Match::catchall().flow, Flow::default());
    }
}
