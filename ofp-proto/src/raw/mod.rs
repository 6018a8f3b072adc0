//! Message identification (OVS `ofp-msgs`): which concrete layout (`Raw`) a message is, from its
//! version, type, multipart type and experimenter id/subtype; length checks; header encoding.

mod table;

use std::sync::OnceLock;

use bytes::{BufMut, BytesMut};
use hashbrown::HashMap;

use crate::buf::{be16, be32};
use crate::errors::{OfpErr, NX_VENDOR_ID, ONF_VENDOR_ID};
use crate::header::{Header, OFP10_VERSION};
pub use table::{MsgType, Raw};

const OFPT_VENDOR: u8 = 4;
const OFPT10_STATS_REQUEST: u8 = 16;
const OFPT10_STATS_REPLY: u8 = 17;
const OFPT11_STATS_REQUEST: u8 = 18;
const OFPT11_STATS_REPLY: u8 = 19;
const OFPST_VENDOR: u16 = 0xffff;

/// Multipart flag: more replies follow.
pub const OFPSF_REPLY_MORE: u16 = 1;

/// How a message is numbered on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Standard message, `number` is the header type.
    Ofpt,
    /// Standard multipart (stats) message, `number` is the multipart type.
    Ofpst,
    /// Nicira experimenter message, `number` is the subtype.
    Nxt,
    /// Nicira experimenter multipart message.
    Nxst,
    /// ONF experimenter message.
    Onft,
    /// ONF experimenter multipart message.
    Onfst,
}

impl Family {
    pub fn is_stat(self) -> bool {
        matches!(self, Family::Ofpst | Family::Nxst | Family::Onfst)
    }

    fn vendor(self) -> u32 {
        match self {
            Family::Nxt | Family::Nxst => NX_VENDOR_ID,
            Family::Onft | Family::Onfst => ONF_VENDOR_ID,
            Family::Ofpt | Family::Ofpst => 0,
        }
    }
}

/// Static facts about one `Raw`.
#[derive(Debug)]
pub struct RawInfo {
    pub raw: Raw,
    /// The name `ovs-ofctl ofp-print` prints, e.g. `OFPST_FLOW request`.
    pub name: &'static str,
    pub family: Family,
    pub min_version: u8,
    pub max_version: u8,
    pub number: u32,
    /// Fixed body size after the headers.
    pub min_body: u16,
    /// 0: body is exactly `min_body`; 1: any length ≥ `min_body`; n: `min_body` plus a multiple of n.
    pub extra_multiple: u16,
    pub msg_type: MsgType,
}

impl Raw {
    #[inline]
    pub fn info(self) -> &'static RawInfo {
        &table::RAW_INFO[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    #[inline]
    pub fn msg_type(self) -> MsgType {
        self.info().msg_type
    }

    pub fn is_stat(self) -> bool {
        self.info().family.is_stat()
    }

    /// True for multipart requests (the family's name ends in "request").
    pub fn is_stat_request(self) -> bool {
        self.is_stat() && self.info().name.ends_with("request")
    }

    pub fn supports_version(self, version: u8) -> bool {
        let i = self.info();
        (i.min_version..=i.max_version).contains(&version)
    }

    /// Every raw that means `t` in `version`, standard forms first, then ONF, then Nicira.
    pub fn candidates(t: MsgType, version: u8) -> impl Iterator<Item = Raw> {
        let rank = |f: Family| match f {
            Family::Ofpt | Family::Ofpst => 0,
            Family::Onft | Family::Onfst => 1,
            Family::Nxt | Family::Nxst => 2,
        };
        let mut v: smallvec::SmallVec<[Raw; 4]> = table::RAW_INFO
            .iter()
            .filter(|i| i.msg_type == t && (i.min_version..=i.max_version).contains(&version))
            .map(|i| i.raw)
            .collect();
        v.sort_by_key(|r| rank(r.info().family));
        v.into_iter()
    }

    /// The raw OVS would use to send a `t` in `version`, if that version can carry it.
    pub fn for_type(t: MsgType, version: u8) -> Option<Raw> {
        Raw::candidates(t, version).next()
    }

    /// Length of the headers before the body: 8, 12/16 for multipart, 16/24 for experimenter forms.
    #[inline]
    pub fn hdrs_len(self, version: u8) -> usize {
        match self.info().family {
            Family::Ofpt => 8,
            Family::Nxt | Family::Onft => 16,
            Family::Ofpst if version == OFP10_VERSION => 12,
            Family::Ofpst => 16,
            Family::Nxst | Family::Onfst => 24,
        }
    }

    /// Writes the header(s) for this raw with a zero length; `finish_msg` patches it.
    /// Returns the message's start offset in `buf`.
    pub fn put_headers(self, version: u8, xid: u32, stats_flags: u16, buf: &mut BytesMut) -> usize {
        let info = self.info();
        let start = buf.len();
        let stats_type = |request: bool| match (version == OFP10_VERSION, request) {
            (true, true) => OFPT10_STATS_REQUEST,
            (true, false) => OFPT10_STATS_REPLY,
            (false, true) => OFPT11_STATS_REQUEST,
            (false, false) => OFPT11_STATS_REPLY,
        };
        match info.family {
            Family::Ofpt => Header { version, msg_type: info.number as u8, length: 0, xid }.put(buf),
            Family::Nxt | Family::Onft => {
                Header { version, msg_type: OFPT_VENDOR, length: 0, xid }.put(buf);
                buf.put_u32(info.family.vendor());
                buf.put_u32(info.number);
            }
            Family::Ofpst | Family::Nxst | Family::Onfst => {
                let msg_type = stats_type(self.is_stat_request());
                Header { version, msg_type, length: 0, xid }.put(buf);
                let vendor = info.family != Family::Ofpst;
                buf.put_u16(if vendor { OFPST_VENDOR } else { info.number as u16 });
                buf.put_u16(stats_flags);
                if version != OFP10_VERSION {
                    buf.put_u32(0);
                }
                if vendor {
                    buf.put_u32(info.family.vendor());
                    buf.put_u32(info.number);
                    if version == OFP10_VERSION {
                        buf.put_u32(0);
                    }
                }
            }
        }
        start
    }
}

/// Every layout OVS knows, in OVS's declaration order.
pub fn all_raw_info() -> &'static [RawInfo] {
    &table::RAW_INFO
}

/// Patches the length of the message that starts at `start` (capped at 65535).
pub fn finish_msg(buf: &mut BytesMut, start: usize) {
    crate::buf::patch_len16(buf, start + 2, start);
}

/// The identifying fields of a message's headers (OVS `struct ofphdrs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Hdrs {
    version: u8,
    msg_type: u8,
    stat: u16,
    vendor: u32,
    subtype: u32,
}

/// What `pull` needs of a message that one load identifies.
#[derive(Clone, Copy, Debug)]
struct Quick {
    raw: Raw,
    hdrs_len: u8,
    min_len: u16,
    /// As `RawInfo::extra_multiple`.
    extra_multiple: u16,
}

impl Quick {
    const fn of(info: &RawInfo, hdrs_len: u8) -> Quick {
        Quick { raw: info.raw, hdrs_len, min_len: hdrs_len as u16 + info.min_body, extra_multiple: info.extra_multiple }
    }
}

/// What a standard message's version and type say: its layout, or that it is multipart.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Unknown,
    Msg(Quick),
    Stats { request: bool },
}

/// Standard messages of OpenFlow 1.0–1.5 by version and type, and their standard multipart
/// messages by version, request or reply, and multipart type (below 32): most of what a
/// connection carries, identified and length-checked in one or two loads. Built at compile time.
struct QuickIndex {
    ofpt: [[Slot; 32]; 6],
    ofpst: [[[Option<Quick>; 32]; 2]; 6],
}

static QUICK: QuickIndex = {
    let mut q = QuickIndex { ofpt: [[Slot::Unknown; 32]; 6], ofpst: [[[None; 32]; 2]; 6] };
    let mut v = 0;
    while v < 6 {
        let (request, reply) = if v + 1 == OFP10_VERSION as usize {
            (OFPT10_STATS_REQUEST, OFPT10_STATS_REPLY)
        } else {
            (OFPT11_STATS_REQUEST, OFPT11_STATS_REPLY)
        };
        q.ofpt[v][request as usize] = Slot::Stats { request: true };
        q.ofpt[v][reply as usize] = Slot::Stats { request: false };
        v += 1;
    }
    let mut i = 0;
    while i < table::RAW_INFO.len() {
        let info = &table::RAW_INFO[i];
        let mut version = info.min_version;
        while version >= 1 && version <= 6 && version <= info.max_version {
            let v = version as usize - 1;
            let hdrs_len = match info.family {
                Family::Ofpst if version == OFP10_VERSION => 12,
                Family::Ofpst => 16,
                _ => 8,
            };
            let quick = Quick::of(info, hdrs_len);
            let n = info.number as usize;
            match info.family {
                Family::Ofpt if n < 32 => {
                    assert!(matches!(q.ofpt[v][n], Slot::Unknown), "a standard message numbered as multipart");
                    q.ofpt[v][n] = Slot::Msg(quick);
                }
                Family::Ofpst if n < 32 => q.ofpst[v][is_request_name(info.name) as usize][n] = Some(quick),
                _ => {}
            }
            version += 1;
        }
        i += 1;
    }
    q
};

/// The name of a multipart request ends in "request" (const `str::ends_with`).
const fn is_request_name(name: &str) -> bool {
    let (name, suffix) = (name.as_bytes(), b"request");
    if name.len() < suffix.len() {
        return false;
    }
    let mut i = 0;
    while i < suffix.len() {
        if name[name.len() - suffix.len() + i] != suffix[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The quick identification of `msg`, if it has one (`msg` holds at least its headers).
#[inline]
fn quick(msg: &[u8]) -> Option<Quick> {
    let &[version, msg_type, _, _, _, _, _, _] = msg.first_chunk::<8>()?;
    let v = usize::from(version).wrapping_sub(1);
    let q = match *QUICK.ofpt.get(v)?.get(usize::from(msg_type))? {
        Slot::Msg(q) => q,
        Slot::Stats { request } => {
            let stat = usize::from(u16::from_be_bytes(*msg.get(8..)?.first_chunk::<2>()?));
            (*QUICK.ofpst[v][usize::from(request)].get(stat)?)?
        }
        Slot::Unknown => return None,
    };
    (msg.len() >= usize::from(q.hdrs_len)).then_some(q)
}

fn index() -> &'static HashMap<Hdrs, Raw> {
    static INDEX: OnceLock<HashMap<Hdrs, Raw>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        for info in table::RAW_INFO.iter() {
            for version in info.min_version..=info.max_version {
                let st = |req| match (version == OFP10_VERSION, req) {
                    (true, true) => OFPT10_STATS_REQUEST,
                    (true, false) => OFPT10_STATS_REPLY,
                    (false, true) => OFPT11_STATS_REQUEST,
                    (false, false) => OFPT11_STATS_REPLY,
                };
                let req = info.raw.is_stat_request();
                let n = info.number;
                let h = match info.family {
                    Family::Ofpt => Hdrs { version, msg_type: n as u8, stat: 0, vendor: 0, subtype: 0 },
                    Family::Ofpst => Hdrs { version, msg_type: st(req), stat: n as u16, vendor: 0, subtype: 0 },
                    Family::Nxt | Family::Onft => {
                        Hdrs { version, msg_type: OFPT_VENDOR, stat: 0, vendor: info.family.vendor(), subtype: n }
                    }
                    Family::Nxst | Family::Onfst => Hdrs {
                        version,
                        msg_type: st(req),
                        stat: OFPST_VENDOR,
                        vendor: info.family.vendor(),
                        subtype: n,
                    },
                };
                m.insert(h, info.raw);
            }
        }
        m
    })
}

fn decode_hdrs(msg: &[u8]) -> Result<Hdrs, OfpErr> {
    let bad_len = Err(OfpErr::OFPBRC_BAD_LEN);
    if msg.len() < 8 {
        return bad_len;
    }
    let mut h = Hdrs { version: msg[0], msg_type: msg[1], stat: 0, vendor: 0, subtype: 0 };
    let is10 = h.version == OFP10_VERSION;
    if h.msg_type == OFPT_VENDOR {
        if msg.len() < 16 {
            return bad_len;
        }
        h.vendor = be32(msg, 8);
        if h.vendor != NX_VENDOR_ID && h.vendor != ONF_VENDOR_ID {
            return Err(OfpErr::OFPBRC_BAD_VENDOR);
        }
        h.subtype = be32(msg, 12);
    } else if (is10 && matches!(h.msg_type, OFPT10_STATS_REQUEST | OFPT10_STATS_REPLY))
        || (!is10 && matches!(h.msg_type, OFPT11_STATS_REQUEST | OFPT11_STATS_REPLY))
    {
        let stats_len = if is10 { 12 } else { 16 };
        if msg.len() < stats_len {
            return bad_len;
        }
        h.stat = be16(msg, 8);
        if h.stat == OFPST_VENDOR {
            // OVS reads the vendor once the vendor-stats header (16 bytes in OF1.0, 24 in OF1.1+) is
            // there, then needs the full Nicira OF1.0 header (24 bytes) for the subtype.
            let vendor_at = stats_len;
            if msg.len() < if is10 { 16 } else { 24 } {
                return bad_len;
            }
            h.vendor = be32(msg, vendor_at);
            let ok = h.vendor == NX_VENDOR_ID || (!is10 && h.vendor == ONF_VENDOR_ID);
            if !ok {
                return Err(OfpErr::OFPBRC_BAD_VENDOR);
            }
            if msg.len() < 24 {
                return bad_len;
            }
            h.subtype = be32(msg, vendor_at + 4);
        }
    }
    Ok(h)
}

/// Which raw a message is, without length checks (OVS `ofpraw_decode_partial`): works on a
/// truncated message as long as its identifying headers are present.
#[inline]
pub fn identify(msg: &[u8]) -> Result<Raw, OfpErr> {
    if let Some(q) = quick(msg) {
        return Ok(q.raw);
    }
    let h = decode_hdrs(msg)?;
    match index().get(&h) {
        Some(r) => Ok(*r),
        None if h.vendor != 0 => Err(OfpErr::OFPBRC_BAD_SUBTYPE),
        None if h.stat != 0 || is_stats_type(h) => Err(OfpErr::OFPBRC_BAD_STAT),
        None => Err(OfpErr::OFPBRC_BAD_TYPE),
    }
}

fn is_stats_type(h: Hdrs) -> bool {
    if h.version == OFP10_VERSION {
        matches!(h.msg_type, OFPT10_STATS_REQUEST | OFPT10_STATS_REPLY)
    } else {
        matches!(h.msg_type, OFPT11_STATS_REQUEST | OFPT11_STATS_REPLY)
    }
}

/// Identifies a whole message and checks its length against the raw's layout (OVS `ofpraw_pull`).
/// Returns the raw and the offset where the body starts. `msg` must be exactly one message.
#[inline]
pub fn pull(msg: &[u8]) -> Result<(Raw, usize), OfpErr> {
    match quick(msg) {
        Some(q) if length_ok(msg.len(), q) => Ok((q.raw, usize::from(q.hdrs_len))),
        Some(_) => Err(OfpErr::OFPBRC_BAD_LEN),
        None => pull_general(msg),
    }
}

/// `pull` for the messages one load identifies, when their length is right (`None` for
/// anything else, which `pull` identifies or rejects).
#[inline]
pub(crate) fn pull_quick_ok(msg: &[u8]) -> Option<(Raw, usize)> {
    let q = quick(msg)?;
    length_ok(msg.len(), q).then_some((q.raw, usize::from(q.hdrs_len)))
}

/// `pull` for what one load does not identify: experimenter messages, newer versions, errors.
#[inline(never)]
fn pull_general(msg: &[u8]) -> Result<(Raw, usize), OfpErr> {
    let raw = identify(msg)?;
    let hdrs_len = raw.hdrs_len(msg[0]);
    if length_ok(msg.len(), Quick::of(raw.info(), hdrs_len as u8)) {
        Ok((raw, hdrs_len))
    } else {
        Err(OfpErr::OFPBRC_BAD_LEN)
    }
}

/// A message of `len` bytes has a length `q`'s layout allows.
#[inline]
fn length_ok(len: usize, q: Quick) -> bool {
    let min_len = usize::from(q.min_len);
    match q.extra_multiple {
        0 => len == min_len,
        1 => len >= min_len,
        // Most multiples are powers of two: no division on the hot path.
        m if m.is_power_of_two() => len >= min_len && (len - min_len) & usize::from(m - 1) == 0,
        m => len >= min_len && (len - min_len).is_multiple_of(usize::from(m)),
    }
}

/// The multipart flags of a stats message (0 for other messages or short input).
pub fn stats_flags(msg: &[u8]) -> u16 {
    match identify(msg) {
        Ok(r) if r.is_stat() && msg.len() >= 12 => be16(msg, 10),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        crate::print::parse_hex(s).unwrap()
    }

    #[test]
    fn identifies_standard_stats_and_vendor_messages() {
        assert_eq!(pull(&hex("0100000800000000")), Ok((Raw::OfptHello, 8)));
        // OF1.3 multipart port-desc request.
        assert_eq!(pull(&hex("0412001000000002000d000000000000")), Ok((Raw::Ofpst10PortDescRequest, 16)));
        // NXT_SET_CONTROLLER_ID.
        let m = hex("01040018000000030000232000000014000000000000007b");
        assert_eq!(pull(&m), Ok((Raw::NxtSetControllerId, 16)));
        assert_eq!(Raw::NxtSetControllerId.name(), "NXT_SET_CONTROLLER_ID");
        assert_eq!(Raw::Ofpst10PortDescRequest.name(), "OFPST_PORT_DESC request");
    }

    #[test]
    fn unknown_things_get_ovs_errors() {
        assert_eq!(identify(&hex("0463000800000000")), Err(OfpErr::OFPBRC_BAD_TYPE));
        assert_eq!(identify(&hex("04120010000000000063000000000000")), Err(OfpErr::OFPBRC_BAD_STAT));
        assert_eq!(identify(&hex("04040010000000000000123400000001")), Err(OfpErr::OFPBRC_BAD_VENDOR));
        assert_eq!(identify(&hex("04040010000000000000232000009999")), Err(OfpErr::OFPBRC_BAD_SUBTYPE));
        // Features request must be exactly 8 bytes.
        assert_eq!(pull(&hex("040500090000000000")), Err(OfpErr::OFPBRC_BAD_LEN));
        assert_eq!(identify(&hex("0405")), Err(OfpErr::OFPBRC_BAD_LEN));
    }

    #[test]
    fn headers_round_trip_for_every_raw_and_version() {
        for info in table::RAW_INFO.iter() {
            for version in info.min_version..=info.max_version.min(6) {
                let mut b = BytesMut::new();
                let start = info.raw.put_headers(version, 0x1234, 0, &mut b);
                b.put_bytes(0, usize::from(info.min_body));
                finish_msg(&mut b, start);
                assert_eq!(b.len(), info.raw.hdrs_len(version) + usize::from(info.min_body));
                assert_eq!(pull(&b), Ok((info.raw, info.raw.hdrs_len(version))), "{:?} v{version}", info.raw);
            }
        }
    }

    /// The one-step identification names what the general index names, with its lengths.
    #[test]
    fn quick_identification_agrees_with_the_index() {
        let mut quick_ones = 0;
        for version in 1..=7u8 {
            for msg_type in 0..=255u8 {
                for stat in 0..40u16 {
                    let mut msg = vec![version, msg_type, 0, 32, 0, 0, 0, 0];
                    msg.extend(stat.to_be_bytes());
                    msg.resize(32, 0);
                    let Some(q) = quick(&msg) else { continue };
                    quick_ones += 1;
                    let h = decode_hdrs(&msg).unwrap();
                    assert_eq!(index().get(&h), Some(&q.raw), "{msg:02x?}");
                    let info = q.raw.info();
                    assert_eq!(usize::from(q.hdrs_len), q.raw.hdrs_len(version));
                    assert_eq!(
                        (q.min_len, q.extra_multiple),
                        (u16::from(q.hdrs_len) + info.min_body, info.extra_multiple)
                    );
                }
            }
        }
        assert!(quick_ones > 1000, "{quick_ones}");
    }

    #[test]
    fn default_raw_prefers_standard_forms() {
        assert_eq!(Raw::for_type(MsgType::FlowMod, 1), Some(Raw::Ofpt10FlowMod));
        assert_eq!(Raw::for_type(MsgType::RoleRequest, 1), Some(Raw::NxtRoleRequest));
        assert_eq!(Raw::for_type(MsgType::RoleRequest, 4), Some(Raw::Ofpt12RoleRequest));
        assert_eq!(Raw::for_type(MsgType::RoleStatus, 4), Some(Raw::Onft13RoleStatus));
        assert_eq!(Raw::for_type(MsgType::BundleControl, 4), Some(Raw::Onft13BundleControl));
        assert_eq!(Raw::for_type(MsgType::BundleControl, 5), Some(Raw::Ofpt14BundleControl));
        assert_eq!(Raw::for_type(MsgType::RoleStatus, 3), None);
    }
}
