//! NXM (`nx_match`) and OXM TLVs: decoding with OVS's exact errors and encoding in OVS's field
//! order (`nx_pull_raw`, `nx_put_raw`).
//!
//! A TLV is a 32-bit header (class:16, field:7, hasmask:1, length:8), a 32-bit experimenter id
//! when class is 0xffff (counted in length), the value, and the mask when hasmask is set.

use bytes::{BufMut, BytesMut};

use crate::buf::{pad8, round_up8, Reader};
use crate::errors::OfpErr;
use crate::flow::*;
use crate::mf::{self, MfId, OXM_CLASS_EXPERIMENTER, OXM_CLASS_NXM1};
use crate::ofmatch::Match;

/// `ofp11_match_header.type` for OXM.
pub const OFPMT_OXM: u16 = 1;
pub const OFPMT_STANDARD: u16 = 0;

/// NXM_NX_COOKIE (class 1, field 30): the flow-mod/flow-stats cookie pseudo-field.
const COOKIE_FIELD: u8 = 30;

/// A decoded TLV header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Hdr {
    class: u16,
    field: u8,
    hasmask: bool,
    length: u8,
    experimenter: u32,
}

impl Hdr {
    fn exp_len(&self) -> usize {
        if self.class == OXM_CLASS_EXPERIMENTER {
            4
        } else {
            0
        }
    }

    fn payload_len(&self) -> usize {
        usize::from(self.length) - self.exp_len()
    }

    /// The header in the 64-bit form `mf` looks fields up by.
    fn to_u64(self) -> u64 {
        u64::from(self.class) << 48
            | u64::from(self.field) << 41
            | u64::from(self.hasmask) << 40
            | u64::from(self.length) << 32
            | u64::from(self.experimenter)
    }

    fn is_cookie(&self) -> bool {
        self.class == OXM_CLASS_NXM1 && self.field == COOKIE_FIELD && self.length == if self.hasmask { 16 } else { 8 }
    }
}

/// What an entry turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    Field { id: MfId, value: u128, mask: u128, masked: bool },
    Cookie { value: u64, mask: u64 },
}

#[inline(always)]
fn be_uint(b: &[u8]) -> u128 {
    // Most fields are 1, 2, 4, 6, 8 or 16 bytes wide: read those without a byte loop on u128.
    match *b {
        [x] => x.into(),
        [x, y] => u16::from_be_bytes([x, y]).into(),
        [x, y, z, w] => u32::from_be_bytes([x, y, z, w]).into(),
        [a, b, c, d, e, f] => u64::from_be_bytes([0, 0, a, b, c, d, e, f]).into(),
        _ => match (<[u8; 8]>::try_from(b), <[u8; 16]>::try_from(b)) {
            (Ok(a), _) => u64::from_be_bytes(a).into(),
            (_, Ok(a)) => u128::from_be_bytes(a),
            _ => b.iter().fold(0u128, |acc, &x| acc << 8 | u128::from(x)),
        },
    }
}

fn pull<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (h, t) = b.split_at(n);
    *b = t;
    Some(h)
}

/// Reads one header (OVS `nx_pull_header__` before the field lookup).
fn pull_header(b: &mut &[u8]) -> Result<Hdr, OfpErr> {
    let bad = Err(OfpErr::OFPBMC_BAD_LEN);
    if b.len() < 4 {
        return bad;
    }
    let w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let mut h = Hdr {
        class: (w >> 16) as u16,
        field: ((w >> 9) & 0x7f) as u8,
        hasmask: w & 0x100 != 0,
        length: w as u8,
        experimenter: 0,
    };
    if h.class == OXM_CLASS_EXPERIMENTER {
        if b.len() < 8 {
            return bad;
        }
        h.experimenter = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    }
    if usize::from(h.length) < h.exp_len() {
        return bad;
    }
    *b = &b[4 + h.exp_len()..];
    Ok(h)
}

/// Reads one entry (OVS `nx_pull_entry__`). In a match an unknown field is reported as
/// OFPBMC_BAD_FIELD only after its payload is consumed (so loose decoding can skip it); in an
/// action it is OFPBAC_BAD_SET_TYPE, or OFPBAC_BAD_SET_LEN for a known field of the wrong length.
/// `allow_mask` false turns a masked entry into OFPBMC_BAD_MASK.
#[inline]
pub(crate) fn pull_entry(
    b: &mut &[u8],
    allow_cookie: bool,
    is_action: bool,
    allow_mask: bool,
) -> Result<Entry, OfpErr> {
    match pull_basic_entry(b, allow_mask) {
        Some(e) => Ok(e),
        None => pull_any_entry(b, allow_cookie, is_action, allow_mask),
    }
}

/// `pull_entry` for any header.
fn pull_any_entry(b: &mut &[u8], allow_cookie: bool, is_action: bool, allow_mask: bool) -> Result<Entry, OfpErr> {
    let h = pull_header(b)?;
    // Fields OVS knows but `Flow` does not model are unknown here.
    let id = MfId::from_header(h.to_u64()).filter(|id| id.in_flow());
    let cookie = id.is_none() && allow_cookie && h.is_cookie();
    let mut unknown = None;
    if id.is_none() && !cookie {
        if is_action {
            let known_code = MfId::from_code(h.class, h.field, h.experimenter).is_some_and(MfId::in_flow);
            return Err(if known_code && h.length > 0 {
                OfpErr::OFPBAC_BAD_SET_LEN
            } else {
                OfpErr::OFPBAC_BAD_SET_TYPE
            });
        }
        unknown = Some(OfpErr::OFPBMC_BAD_FIELD);
    }
    let payload = pull(b, h.payload_len()).ok_or(OfpErr::OFPBMC_BAD_LEN)?;
    let width = if h.hasmask { payload.len() / 2 } else { payload.len() };
    let (value, mask) = payload.split_at(width);
    if h.hasmask && value.iter().zip(mask).any(|(v, m)| v & !m != 0) {
        return Err(OfpErr::OFPBMC_BAD_WILDCARDS);
    }
    if h.hasmask && !allow_mask {
        return Err(OfpErr::OFPBMC_BAD_MASK);
    }
    if let Some(e) = unknown {
        return Err(e);
    }
    let value_n = be_uint(value);
    let mask_n = if h.hasmask { be_uint(&mask[..width]) } else { mf::ones(width) };
    Ok(match id {
        Some(id) => Entry::Field { id, value: value_n, mask: mask_n, masked: h.hasmask },
        None => Entry::Cookie { value: value_n as u64, mask: mask_n as u64 },
    })
}

/// `pull_entry`'s common case in one step: an OXM basic-class entry of a field `Flow` models, of
/// exactly the field's length (twice it when masked), with a mask that allows its value. `None`
/// (leaving `b` alone) for anything else, which the general path decodes or rejects.
// Always inlined: returned through memory, the entry's halves stall the caller's loads.
#[inline(always)]
fn pull_basic_entry(b: &mut &[u8], allow_mask: bool) -> Option<Entry> {
    let h = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    let masked = h & 0x100 != 0;
    if h >> 16 != u32::from(mf::OXM_CLASS_BASIC) || (masked && !allow_mask) {
        return None;
    }
    let id = MfId::from_code(mf::OXM_CLASS_BASIC, ((h >> 9) & 0x7f) as u8, 0).filter(|id| id.in_flow())?;
    let width = id.field().n_bytes;
    let len = if masked { 2 * width } else { width };
    if h & 0xff != len as u32 {
        return None;
    }
    let (value, mask) = b.get(4..4 + len)?.split_at(width);
    if masked && value.iter().zip(mask).any(|(v, m)| v & !m != 0) {
        return None;
    }
    *b = &b[4 + len..];
    let mask_n = if masked { be_uint(mask) } else { mf::ones(width) };
    Some(Entry::Field { id, value: be_uint(value), mask: mask_n, masked })
}

/// Decodes `bytes` of TLVs into a match (OVS `nx_pull_raw`). `strict` rejects unknown fields and
/// unmet prerequisites; loose decoding (packet-in metadata) skips them. `cookie` receives an
/// NXM_NX_COOKIE entry if given (NXM flow mods and stats requests).
pub fn decode_raw(
    bytes: &[u8],
    strict: bool,
    pipeline_only: bool,
    cookie: Option<&mut (u64, u64)>,
) -> Result<Match, OfpErr> {
    let mut m = Match::catchall();
    decode_raw_into(bytes, strict, pipeline_only, cookie, &mut m)?;
    Ok(m)
}

/// `decode_raw` into `m` (which must start as a catch-all): a `Match` is large, and decoding
/// messages in place saves copying it.
pub(crate) fn decode_raw_into(
    mut bytes: &[u8],
    strict: bool,
    pipeline_only: bool,
    mut cookie: Option<&mut (u64, u64)>,
    m: &mut Match,
) -> Result<(), OfpErr> {
    if let Some(c) = cookie.as_deref_mut() {
        *c = (0, 0);
    }
    while !bytes.is_empty() {
        let entry = match pull_entry(&mut bytes, cookie.is_some(), false, true) {
            Err(OfpErr::OFPBMC_BAD_FIELD) if !strict => continue,
            e => e?,
        };
        match entry {
            Entry::Cookie { value, mask } => {
                let c = cookie.as_deref_mut().ok_or(OfpErr::OFPBMC_BAD_FIELD)?;
                if c.1 != 0 {
                    return Err(OfpErr::OFPBMC_DUP_FIELD);
                }
                *c = (value, mask);
            }
            Entry::Field { id, value, mask, .. } => {
                if !mf::is_mask_valid(id, mask) {
                    return Err(OfpErr::OFPBMC_BAD_MASK);
                }
                if !mf::is_value_valid(id, value) {
                    return Err(OfpErr::OFPBMC_BAD_VALUE);
                }
                if strict && !mf::prereqs_ok(id, &m.flow) {
                    return Err(OfpErr::OFPBMC_BAD_PREREQ);
                }
                if !mf::is_all_wild(id, m) {
                    return Err(OfpErr::OFPBMC_DUP_FIELD);
                }
                if pipeline_only && !is_pipeline_field(id) {
                    return Err(OfpErr::OFPBRC_PIPELINE_FIELDS_ONLY);
                }
                m.set(id, value, mask);
                if id.field().prereqs != mf::Prereq::None {
                    m.set_default_packet_type();
                }
            }
        }
    }
    Ok(())
}

/// Fields a packet-out's OF1.5 match may carry (OVS `mf_is_pipeline_field`).
pub fn is_pipeline_field(id: MfId) -> bool {
    use MfId::*;
    matches!(id, TunId | Metadata | InPort | InPortOxm | PacketType) || (MfId::Reg0..=MfId::Xreg7).contains(&id)
}

/// Pulls an `nx_match` of `match_len` bytes plus its padding to 8 (OVS `nx_pull_match`).
pub fn pull_nx_match(
    r: &mut Reader,
    match_len: usize,
    strict: bool,
    cookie: Option<&mut (u64, u64)>,
) -> Result<Match, OfpErr> {
    let mut m = Match::catchall();
    pull_nx_match_into(r, match_len, strict, cookie, &mut m)?;
    Ok(m)
}

/// `pull_nx_match` into `m`, a catch-all (see `decode_raw_into`).
pub(crate) fn pull_nx_match_into(
    r: &mut Reader,
    match_len: usize,
    strict: bool,
    cookie: Option<&mut (u64, u64)>,
    m: &mut Match,
) -> Result<(), OfpErr> {
    let padded = round_up8(match_len);
    if r.remaining() < padded {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    decode_raw_into(&r.peek_rest()[..match_len], strict, false, cookie, m)?;
    r.skip(padded)
}

/// Pulls an OXM match: `ofp11_match_header` (type OXM), TLVs, padding to 8 (OVS
/// `oxm_pull_match`). Returns the match and the padded length consumed.
pub fn pull_oxm_match(r: &mut Reader, strict: bool, pipeline_only: bool) -> Result<(Match, usize), OfpErr> {
    let mut m = Match::catchall();
    let len = pull_oxm_match_into(r, strict, pipeline_only, &mut m)?;
    Ok((m, len))
}

/// `pull_oxm_match` into `m`, a catch-all (see `decode_raw_into`); the padded length consumed.
pub(crate) fn pull_oxm_match_into(
    r: &mut Reader,
    strict: bool,
    pipeline_only: bool,
    m: &mut Match,
) -> Result<usize, OfpErr> {
    let rest = r.peek_rest();
    if rest.len() < 4 {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    let mtype = u16::from_be_bytes([rest[0], rest[1]]);
    let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
    if len < 4 {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    if mtype != OFPMT_OXM {
        return Err(OfpErr::OFPBMC_BAD_TYPE);
    }
    let padded = round_up8(len);
    if rest.len() < padded {
        return Err(OfpErr::OFPBMC_BAD_LEN);
    }
    decode_raw_into(&rest[4..len], strict, pipeline_only, None, m)?;
    r.skip(padded)?;
    Ok(padded)
}

/// Appends one entry: header (NXM/OXM per `version`, 0 for NXM), value, optional mask.
pub(crate) fn put_entry(buf: &mut BytesMut, id: MfId, version: u8, value: u128, mask: Option<u128>) {
    let f = id.field();
    // Every field `Flow` models has a code point.
    let Some(h) = id.header(version) else { return };
    let h = if mask.is_some() { mf::make_wild(h) } else { h };
    buf.put_slice(&h.to_be_bytes()[..mf::header_wire_len(h)]);
    buf.put_slice(&value.to_be_bytes()[16 - f.n_bytes..]);
    if let Some(m) = mask {
        buf.put_slice(&m.to_be_bytes()[16 - f.n_bytes..]);
    }
}

/// Encoder state: whether an entry implying Ethernet was written (OVS `nxm_put_ctx`).
struct Put<'a> {
    buf: &'a mut BytesMut,
    version: u8,
    implied_ethernet: bool,
}

impl Put<'_> {
    fn exact(&mut self, id: MfId, value: u128) {
        put_entry(self.buf, id, self.version, value, None);
        self.implied_ethernet |= id.field().prereqs != mf::Prereq::None;
    }

    /// Writes nothing for an all-zero mask, an exact entry for all-ones, else a masked entry.
    fn masked(&mut self, id: MfId, value: u128, mask: u128) {
        if mask == 0 {
            return;
        }
        if mask == mf::ones(id.field().n_bytes) {
            self.exact(id, value);
        } else {
            put_entry(self.buf, id, self.version, value, Some(mask));
            self.implied_ethernet |= id.field().prereqs != mf::Prereq::None;
        }
    }

    fn field(&mut self, id: MfId, m: &Match) {
        let (v, mask) = m.get(id);
        self.masked(id, v, mask);
    }
}

/// Appends the TLVs for `m` in OVS's order (OVS `nx_put_raw`); `version` 0 means NXM. Returns
/// the bytes written (no padding).
pub fn put_raw(buf: &mut BytesMut, version: u8, m: &Match, cookie: u64, cookie_mask: u64) -> usize {
    let start = buf.len();
    let (f, w) = (&m.flow, &m.mask);
    let mut p = Put { buf, version, implied_ethernet: false };
    let dl_type = f.dl_type();

    if w.packet_type != 0 && !m.has_default_packet_type() {
        p.masked(MfId::PacketType, f.packet_type.into(), w.packet_type.into());
    }
    p.field(MfId::DpHash, m);
    if w.in_port != 0 {
        let id = if version != 0 { MfId::InPortOxm } else { MfId::InPort };
        p.exact(id, mf::get(id, f));
    }
    p.field(MfId::EthSrc, m);
    p.field(MfId::EthDst, m);
    p.field(MfId::EthType, m);
    if version != 0 {
        let vid_mask = VLAN_VID_MASK | VLAN_CFI;
        let vid = f.vlans[0].tci & vid_mask;
        let mask = w.vlans[0].tci & vid_mask;
        if mask == vid_mask {
            p.exact(MfId::VlanVid, vid.into());
        } else {
            p.masked(MfId::VlanVid, vid.into(), mask.into());
        }
        // OVS puts VLAN_PCP whenever VLAN_VID is nonzero, even without the CFI bit (a match only
        // NXM's VLAN_TCI can make, e.g. 0x0a00/0xffff); such a match fails VLAN_PCP's prerequisite
        // (a VLAN present) when decoded. Without the CFI bit it is left out here, so what is sent
        // decodes.
        if vid & VLAN_CFI != 0 && vlan_tci_to_pcp(w.vlans[0].tci) != 0 {
            p.exact(MfId::VlanPcp, vlan_tci_to_pcp(f.vlans[0].tci).into());
        }
    } else {
        p.field(MfId::VlanTci, m);
    }
    if eth_type_mpls(dl_type) {
        let lse = w.mpls_lse[0];
        for (id, bits) in [
            (MfId::MplsTc, MPLS_TC_MASK),
            (MfId::MplsBos, MPLS_BOS_MASK),
            (MfId::MplsTtl, MPLS_TTL_MASK),
            (MfId::MplsLabel, MPLS_LABEL_MASK),
        ] {
            if lse & bits != 0 {
                p.exact(id, mf::get(id, f));
            }
        }
    }
    if f.is_ip_any() {
        put_ip(&mut p, m);
    } else if dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP {
        if w.nw_proto != 0 {
            p.exact(MfId::ArpOp, f.nw_proto.into());
        }
        for id in [MfId::ArpSpa, MfId::ArpTpa, MfId::ArpSha, MfId::ArpTha] {
            p.field(id, m);
        }
    }
    p.field(MfId::TunId, m);
    if version < crate::header::OFP15_VERSION {
        for i in 0..FLOW_N_REGS {
            p.masked(MfId::reg(i).unwrap_or(MfId::Reg0), f.regs[i].into(), w.regs[i].into());
        }
    } else {
        for i in 0..FLOW_N_REGS / 2 {
            p.field(MfId::xreg(i).unwrap_or(MfId::Xreg0), m);
        }
    }
    p.field(MfId::PktMark, m);
    p.field(MfId::Metadata, m);

    let implied_ethernet = p.implied_ethernet;
    if cookie_mask != 0 {
        let masked = cookie_mask != u64::MAX;
        buf.put_u32(
            u32::from(OXM_CLASS_NXM1) << 16
                | u32::from(COOKIE_FIELD) << 9
                | u32::from(masked) << 8
                | if masked { 16 } else { 8 },
        );
        buf.put_u64(cookie & cookie_mask);
        if masked {
            buf.put_u64(cookie_mask);
        }
    }
    if m.has_default_packet_type() && !implied_ethernet {
        // The implicit Ethernet packet type goes first, as OVS inserts it.
        let mut pt = BytesMut::with_capacity(8);
        put_entry(&mut pt, MfId::PacketType, version, PT_ETH.into(), None);
        let tail = buf.split_off(start);
        buf.put_slice(&pt);
        buf.put_slice(&tail);
    }
    buf.len() - start
}

/// OVS `nxm_put_ip`.
fn put_ip(p: &mut Put, m: &Match) {
    let (f, w) = (&m.flow, &m.mask);
    if f.dl_type() == ETH_TYPE_IP {
        p.field(MfId::Ipv4Src, m);
        p.field(MfId::Ipv4Dst, m);
    } else {
        p.field(MfId::Ipv6Src, m);
        p.field(MfId::Ipv6Dst, m);
    }
    let frag_mask = w.nw_frag & FLOW_NW_FRAG_MASK;
    let frag_mask = if frag_mask == FLOW_NW_FRAG_MASK { u8::MAX } else { frag_mask };
    p.masked(MfId::IpFrag, (f.nw_frag & FLOW_NW_FRAG_MASK).into(), frag_mask.into());
    if w.nw_tos & IP_DSCP_MASK != 0 {
        if p.version != 0 {
            p.exact(MfId::IpDscpShifted, (f.nw_tos >> 2).into());
        } else {
            p.exact(MfId::IpDscp, (f.nw_tos & IP_DSCP_MASK).into());
        }
    }
    if w.nw_tos & IP_ECN_MASK != 0 {
        p.exact(MfId::IpEcn, (f.nw_tos & IP_ECN_MASK).into());
    }
    if w.nw_ttl != 0 {
        p.exact(MfId::IpTtl, f.nw_ttl.into());
    }
    p.field(MfId::Ipv6Label, m);
    if w.nw_proto == 0 {
        return;
    }
    p.exact(MfId::IpProto, f.nw_proto.into());
    match f.nw_proto {
        IPPROTO_TCP => {
            p.masked(MfId::TcpSrc, f.tp_src.into(), w.tp_src.into());
            p.masked(MfId::TcpDst, f.tp_dst.into(), w.tp_dst.into());
            p.masked(MfId::TcpFlags, f.tcp_flags.into(), w.tcp_flags.into());
        }
        IPPROTO_UDP => {
            p.masked(MfId::UdpSrc, f.tp_src.into(), w.tp_src.into());
            p.masked(MfId::UdpDst, f.tp_dst.into(), w.tp_dst.into());
        }
        IPPROTO_SCTP => {
            p.masked(MfId::SctpSrc, f.tp_src.into(), w.tp_src.into());
            p.masked(MfId::SctpDst, f.tp_dst.into(), w.tp_dst.into());
        }
        _ if f.is_icmpv4() || f.is_icmpv6() => {
            let (t, c) =
                if f.is_icmpv4() { (MfId::Icmpv4Type, MfId::Icmpv4Code) } else { (MfId::Icmpv6Type, MfId::Icmpv6Code) };
            if w.tp_src != 0 {
                p.exact(t, (f.tp_src as u8).into());
            }
            if w.tp_dst != 0 {
                p.exact(c, (f.tp_dst as u8).into());
            }
            if f.is_nd() {
                p.field(MfId::NdTarget, m);
                if f.tp_src == ND_NEIGHBOR_SOLICIT {
                    p.masked(MfId::NdSll, f.arp_sha.to_u64().into(), w.arp_sha.to_u64().into());
                }
                if f.tp_src == ND_NEIGHBOR_ADVERT {
                    p.masked(MfId::NdTll, f.arp_tha.to_u64().into(), w.arp_tha.to_u64().into());
                }
            }
        }
        _ => {}
    }
}

/// Appends an `nx_match` and its padding (OVS `nx_put_match`); returns the unpadded length.
pub fn put_nx_match(buf: &mut BytesMut, m: &Match, cookie: u64, cookie_mask: u64) -> usize {
    let start = buf.len();
    let len = put_raw(buf, 0, m, cookie, cookie_mask);
    pad8(buf, start);
    len
}

/// Appends `ofp11_match_header` + OXM TLVs + padding (OVS `oxm_put_match`); returns the length in
/// the header (unpadded).
pub fn put_oxm_match(buf: &mut BytesMut, m: &Match, version: u8) -> usize {
    let start = buf.len();
    buf.put_u16(OFPMT_OXM);
    buf.put_u16(0);
    let len = 4 + put_raw(buf, version, m, 0, 0);
    buf[start + 2..start + 4].copy_from_slice(&(len as u16).to_be_bytes());
    pad8(buf, start);
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port_no;
    use crate::print::parse_hex;
    use bytes::Bytes;

    fn dec(hex: &str, strict: bool) -> Result<Match, OfpErr> {
        decode_raw(&parse_hex(hex).unwrap(), strict, false, None)
    }

    fn oxm(m: &Match, version: u8) -> String {
        let mut b = BytesMut::new();
        put_raw(&mut b, version, m, 0, 0);
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn decodes_masked_and_exact_entries() {
        // eth_type=0x0800, ipv4_dst=10.0.0.0/8, ip_proto=6, tcp_dst=80
        let m = dec("80000a020800 800019080a000000ff000000 80001401 06 80001c020050", true).unwrap();
        assert_eq!(m.to_string(), "tcp,nw_dst=10.0.0.0/8,tp_dst=80");
        assert!(m.has_default_packet_type());
    }

    #[test]
    fn decode_errors_are_ovs_errors() {
        // Truncated header, truncated payload.
        assert_eq!(dec("800000", true), Err(OfpErr::OFPBMC_BAD_LEN));
        assert_eq!(dec("80000a0208", true), Err(OfpErr::OFPBMC_BAD_LEN));
        // Experimenter header shorter than its experimenter id.
        assert_eq!(dec("ffff0002 00002320", true), Err(OfpErr::OFPBMC_BAD_LEN));
        // Unknown field: strict rejects, loose skips.
        assert_eq!(dec("80007e0100", true), Err(OfpErr::OFPBMC_BAD_FIELD));
        assert_eq!(dec("80007e0100", false), Ok(Match::catchall()));
        // Known field with the wrong length.
        assert_eq!(dec("80000a03080000", true), Err(OfpErr::OFPBMC_BAD_FIELD));
        // Prerequisite missing, then satisfied.
        assert_eq!(dec("80001401 06", true), Err(OfpErr::OFPBMC_BAD_PREREQ));
        assert!(dec("80001401 06", false).is_ok());
        // Same field twice.
        assert_eq!(dec("80000a020800 80000a020800", true), Err(OfpErr::OFPBMC_DUP_FIELD));
        // Value bit outside mask; mask on an unmaskable field; bad value.
        assert_eq!(dec("8000170800000001ff000000", true), Err(OfpErr::OFPBMC_BAD_WILDCARDS));
        assert_eq!(dec("80000a020800 80002b04000100ff", true), Err(OfpErr::OFPBMC_BAD_MASK));
        assert_eq!(dec("80000a020800 80001201 04", true), Err(OfpErr::OFPBMC_BAD_VALUE));
        // in_port in the unmappable OF1.1 range.
        assert_eq!(dec("80000004 0000ff00", true), Err(OfpErr::OFPBMC_BAD_VALUE));
    }

    #[test]
    fn encodes_in_ovs_order_per_version() {
        let mut m = Match::catchall();
        m.set_dl_type(ETH_TYPE_IP);
        m.set_default_packet_type();
        m.set_in_port(port_no::LOCAL);
        m.set_nw_dst_masked(0x0a00_0000, 0xff00_0000);
        m.set_tun_id_masked(5, u64::MAX);
        assert_eq!(oxm(&m, 4), "80000004fffffffe80000a020800800019080a000000ff00000080004c080000000000000005");
        assert_eq!(oxm(&m, 3), "80000004fffffffe80000a020800800019080a000000ff000000000120080000000000000005");
        assert_eq!(oxm(&m, 0), "00000002fffe000006020800000011080a000000ff000000000120080000000000000005");
        // OF1.5 registers go out as 64-bit packet registers.
        let mut r = Match::catchall();
        r.set_reg_masked(1, 7, u32::MAX);
        assert_eq!(oxm(&r, 6), "80010110000000000000000700000000ffffffff");
    }

    #[test]
    fn vlan_pcp_goes_out_only_with_a_vlan_present() {
        // vlan_tci=0x0a00 exactly (NXM_OF_VLAN_TCI): VLAN_VID 0x0a00 alone, which decodes.
        let nxm = dec("00000802 0a00", true).unwrap();
        assert_eq!(oxm(&nxm, 4), "80000c020a00");
        let mut again = dec(&oxm(&nxm, 4), true).unwrap();
        assert_eq!(oxm(&again, 4), "80000c020a00");
        // With the CFI bit (a VLAN present): VLAN_VID and VLAN_PCP, as OVS puts them.
        again.set_dl_tci_masked(0xb00a, 0xffff);
        assert_eq!(oxm(&again, 4), "80000c02100a80000e0105");
    }

    #[test]
    fn implicit_packet_type_is_inserted_first() {
        let mut m = Match::catchall();
        m.set_default_packet_type();
        m.set_in_port(1);
        assert_eq!(oxm(&m, 6), "80005804000000008000000400000001");
    }

    #[test]
    fn oxm_match_header() {
        let mut b = BytesMut::new();
        let mut m = Match::catchall();
        m.set_in_port(1);
        assert_eq!(put_oxm_match(&mut b, &m, 4), 12);
        assert_eq!(&b[..], &parse_hex("0001000c800000040000000100000000").unwrap()[..]);
        let mut r = Reader::new(Bytes::from(b.to_vec()));
        assert_eq!(pull_oxm_match(&mut r, true, false), Ok((m, 16)));
        let mut r = Reader::new(Bytes::from_static(&[0, 0, 0, 4, 0, 0, 0, 0]));
        assert_eq!(pull_oxm_match(&mut r, true, false), Err(OfpErr::OFPBMC_BAD_TYPE));
        let mut r = Reader::new(Bytes::from_static(&[0, 1, 0, 12, 0, 0, 0, 0]));
        assert_eq!(pull_oxm_match(&mut r, true, false), Err(OfpErr::OFPBMC_BAD_LEN));
    }

    #[test]
    fn the_basic_entry_shortcut_agrees_with_the_general_path() {
        // Every OXM basic field, masked or not, every length up to 34, values that fit their mask
        // or not, with and without masks allowed.
        for field in 0..128u32 {
            for masked in [false, true] {
                for len in 0..=34u32 {
                    for fill in [0x00u8, 0x0f, 0xff] {
                        let mut e = (0x8000_0000 | field << 9 | u32::from(masked) << 8 | len).to_be_bytes().to_vec();
                        e.extend((0..len).map(|i| if i % 3 == 0 { fill } else { 0xf0 }));
                        e.push(0xee);
                        for (allow_cookie, is_action, allow_mask) in [(false, false, true), (true, true, false)] {
                            let (mut fast, mut general) = (&e[..], &e[..]);
                            let got = pull_entry(&mut fast, allow_cookie, is_action, allow_mask);
                            let want = pull_any_entry(&mut general, allow_cookie, is_action, allow_mask);
                            assert_eq!(got, want, "{e:02x?}");
                            if want.is_ok() {
                                assert_eq!(fast, general, "{e:02x?}");
                            }
                        }
                    }
                }
            }
        }
    }
}
