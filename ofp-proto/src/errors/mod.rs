//! OpenFlow errors: OVS's `OFPERR_*` names, their (type, code) in each version's domain including the
//! Nicira/ONF experimenter encodings, and the OFPT_ERROR message.

mod table;

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::Reader;
pub use table::OfpErr;

pub const NX_VENDOR_ID: u32 = 0x0000_2320;
pub const ONF_VENDOR_ID: u32 = 0x4f4e_4600;

/// OF1.0/1.1 wrapper type for vendor errors (`NXET_VENDOR`), with code `NXVC_VENDOR_ERROR`.
const NXET_VENDOR: u16 = 0xb0c2;
const NXVC_VENDOR_ERROR: u16 = 0;
/// OF1.2+ experimenter error type.
const OFPET12_EXPERIMENTER: u16 = 0xffff;

/// An error's encoding in a range of versions: vendor 0 is standard OpenFlow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Triplet {
    pub min_version: u8,
    pub max_version: u8,
    pub vendor: u32,
    pub etype: u16,
    pub code: u16,
}

impl OfpErr {
    /// OVS's name without the `OFPERR_` prefix, e.g. `OFPBRC_BAD_TYPE`.
    pub fn name(self) -> &'static str {
        table::NAMES[self as usize]
    }

    pub fn from_name(name: &str) -> Option<OfpErr> {
        let name = name.strip_prefix("OFPERR_").unwrap_or(name);
        table::NAMES.iter().position(|n| *n == name).map(|i| table::ALL[i])
    }

    pub fn all() -> &'static [OfpErr] {
        &table::ALL
    }

    /// How this error is encoded in `version` (OF1.0's domain for versions OVS does not know),
    /// or `None` when that version's domain cannot express it.
    pub fn triplet(self, version: u8) -> Option<Triplet> {
        let version = domain_version(version);
        table::TRIPLETS[self as usize].iter().find(|t| (t.min_version..=t.max_version).contains(&version)).copied()
    }

    /// The error a (vendor, type, code) triplet means in `version`, first declared wins as in OVS.
    pub fn decode(version: u8, vendor: u32, etype: u16, code: u16) -> Option<OfpErr> {
        let version = domain_version(version);
        table::TRIPLETS
            .iter()
            .position(|ts| {
                ts.iter().any(|t| {
                    (t.min_version..=t.max_version).contains(&version)
                        && t.vendor == vendor
                        && t.etype == etype
                        && t.code == code
                })
            })
            .map(|i| table::ALL[i])
    }

    /// True for the HELLO_FAILED family, whose payload is ASCII text rather than a request.
    pub fn is_hello_failed(self) -> bool {
        matches!(self, OfpErr::OFPHFC_INCOMPATIBLE | OfpErr::OFPHFC_EPERM)
    }
}

impl fmt::Display for OfpErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for OfpErr {}

/// How a known error goes on the wire in `version`: its `type` field and its triplet. An error
/// the domain cannot express becomes NXBRC_UNENCODABLE_ERROR, as OVS does.
fn wire_form(e: OfpErr, version: u8) -> (u16, Triplet) {
    let t = e
        .triplet(version)
        .or_else(|| OfpErr::NXBRC_UNENCODABLE_ERROR.triplet(version))
        .expect("NXBRC_UNENCODABLE_ERROR is encodable in every version");
    let wire_type = match t.vendor {
        0 => t.etype,
        _ if version <= 2 => NXET_VENDOR,
        _ => OFPET12_EXPERIMENTER,
    };
    (wire_type, t)
}

/// The name of an OFPT_ERROR `type` field value in `version` (`OFPET_*`, or the Nicira and
/// experimenter wrappers of vendor errors), if it has one.
pub fn error_type_name(version: u8, wire_type: u16) -> Option<&'static str> {
    const OF10: [&str; 6] = [
        "OFPET_HELLO_FAILED",
        "OFPET_BAD_REQUEST",
        "OFPET_BAD_ACTION",
        "OFPET_FLOW_MOD_FAILED",
        "OFPET_PORT_MOD_FAILED",
        "OFPET_QUEUE_OP_FAILED",
    ];
    // OF1.1 defines the first 11, OF1.2 one more, OF1.3 two more, OF1.4 the rest.
    const OF11: [&str; 18] = [
        "OFPET_HELLO_FAILED",
        "OFPET_BAD_REQUEST",
        "OFPET_BAD_ACTION",
        "OFPET_BAD_INSTRUCTION",
        "OFPET_BAD_MATCH",
        "OFPET_FLOW_MOD_FAILED",
        "OFPET_GROUP_MOD_FAILED",
        "OFPET_PORT_MOD_FAILED",
        "OFPET_TABLE_MOD_FAILED",
        "OFPET_QUEUE_OP_FAILED",
        "OFPET_SWITCH_CONFIG_FAILED",
        "OFPET_ROLE_REQUEST_FAILED",
        "OFPET_METER_MOD_FAILED",
        "OFPET_TABLE_FEATURES_FAILED",
        "OFPET_BAD_PROPERTY",
        "OFPET_ASYNC_CONFIG_FAILED",
        "OFPET_FLOW_MONITOR_FAILED",
        "OFPET_BUNDLE_FAILED",
    ];
    let version = domain_version(version);
    let n_types = match version {
        1 => OF10.len(),
        2 => 11,
        3 => 12,
        4 => 14,
        _ => OF11.len(),
    };
    match wire_type {
        NXET_VENDOR if version <= 2 => Some("NXET_VENDOR"),
        OFPET12_EXPERIMENTER if version >= 3 => Some("OFPET_EXPERIMENTER"),
        t if usize::from(t) < n_types => Some(if version == 1 { OF10[usize::from(t)] } else { OF11[usize::from(t)] }),
        _ => None,
    }
}

/// Versions outside 1.0..=1.5 use the OF1.0 domain, as OVS does when encoding.
fn domain_version(version: u8) -> u8 {
    if (1..=6).contains(&version) {
        version
    } else {
        1
    }
}

/// What an OFPT_ERROR says: a known error, or a type/code OVS does not recognise, kept as it came
/// (its `data` then holds everything after type and code, vendor fields included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Known(OfpErr),
    Unknown { etype: u16, code: u16 },
}

/// OFPT_ERROR body: the error and its data (the offending request's first bytes, or HELLO_FAILED text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorMsg {
    pub code: ErrorCode,
    pub data: Bytes,
}

impl ErrorMsg {
    pub fn new(err: OfpErr, data: Bytes) -> Self {
        ErrorMsg { code: ErrorCode::Known(err), data }
    }

    /// An error answering `request`: carries its first 64 bytes, as `ofperr_encode_reply` does.
    pub fn reply_to(err: OfpErr, request: &[u8]) -> Self {
        let n = request.len().min(64);
        ErrorMsg::new(err, Bytes::copy_from_slice(&request[..n]))
    }

    pub fn hello_failed(err: OfpErr, text: &str) -> Self {
        ErrorMsg::new(err, Bytes::copy_from_slice(text.as_bytes()))
    }

    /// The `type` field this error has on the wire in `version` (for vendor errors, the Nicira
    /// or experimenter wrapper).
    pub fn wire_type(&self, version: u8) -> u16 {
        match self.code {
            ErrorCode::Known(e) => wire_form(e, version).0,
            ErrorCode::Unknown { etype, .. } => etype,
        }
    }

    pub fn error(&self) -> Option<OfpErr> {
        match self.code {
            ErrorCode::Known(e) => Some(e),
            ErrorCode::Unknown { .. } => None,
        }
    }

    /// Decodes the body after the 8-byte header. A body too short for its type/code is OFPBRC_BAD_LEN.
    pub fn decode(version: u8, r: &mut Reader) -> Result<Self, OfpErr> {
        let wire_type = r.u16()?;
        let wire_code = r.u16()?;
        let after_code = r.clone();
        let (vendor, etype, code) = if wire_type == NXET_VENDOR && wire_code == NXVC_VENDOR_ERROR {
            (r.u32()?, r.u16()?, r.u16()?)
        } else if wire_type == OFPET12_EXPERIMENTER {
            (r.u32()?, wire_code, 0)
        } else {
            (0, wire_type, wire_code)
        };
        match OfpErr::decode(version, vendor, etype, code) {
            Some(e) => Ok(ErrorMsg { code: ErrorCode::Known(e), data: r.rest() }),
            None => {
                let mut raw = after_code;
                Ok(ErrorMsg { code: ErrorCode::Unknown { etype: wire_type, code: wire_code }, data: raw.rest() })
            }
        }
    }

    /// Encodes the body in `version`'s domain. An error the domain cannot express becomes
    /// NXBRC_UNENCODABLE_ERROR, as OVS does. Data is cut so the whole message fits in 65535 bytes.
    pub fn encode(&self, version: u8, buf: &mut BytesMut) {
        let start = buf.len();
        match self.code {
            ErrorCode::Known(e) => {
                let (wire_type, t) = wire_form(e, version);
                buf.put_u16(wire_type);
                match wire_type {
                    NXET_VENDOR => {
                        buf.put_u16(NXVC_VENDOR_ERROR);
                        buf.put_u32(t.vendor);
                        buf.put_u16(t.etype);
                        buf.put_u16(t.code);
                    }
                    OFPET12_EXPERIMENTER => {
                        buf.put_u16(t.etype);
                        buf.put_u32(t.vendor);
                    }
                    _ => buf.put_u16(t.code),
                }
            }
            ErrorCode::Unknown { etype, code } => {
                buf.put_u16(etype);
                buf.put_u16(code);
            }
        }
        let room = (u16::MAX as usize - 8).saturating_sub(buf.len() - start);
        buf.put_slice(&self.data[..self.data.len().min(room)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(e: OfpErr, v: u8) -> Vec<u8> {
        let mut b = BytesMut::new();
        ErrorMsg::new(e, Bytes::new()).encode(v, &mut b);
        b.to_vec()
    }

    #[test]
    fn standard_errors_per_version() {
        assert_eq!(enc(OfpErr::OFPBRC_BAD_TYPE, 1), [0, 1, 0, 1]);
        // IS_SECONDARY moved from (1,5) in OF1.0/1.1 to (1,10) in OF1.2+.
        assert_eq!(enc(OfpErr::OFPBRC_IS_SECONDARY, 1), [0, 1, 0, 5]);
        assert_eq!(enc(OfpErr::OFPBRC_IS_SECONDARY, 4), [0, 1, 0, 10]);
    }

    #[test]
    fn vendor_errors_use_nicira_wrapper_before_1_2_and_experimenter_after() {
        // OFPBRC_BAD_TABLE_ID is NX1.0(1,512), OF1.1+(1,9).
        assert_eq!(enc(OfpErr::OFPBRC_BAD_TABLE_ID, 1), [0xb0, 0xc2, 0, 0, 0, 0, 0x23, 0x20, 0, 1, 2, 0]);
        assert_eq!(enc(OfpErr::OFPBRC_BAD_TABLE_ID, 2), [0, 1, 0, 9]);
        // OFPBRC_MULTIPART_REQUEST_TIMEOUT is ONF1.3(2640), OF1.4+(1,14).
        assert_eq!(enc(OfpErr::OFPBRC_MULTIPART_REQUEST_TIMEOUT, 4), [0xff, 0xff, 0x0a, 0x50, 0x4f, 0x4e, 0x46, 0]);
        assert_eq!(enc(OfpErr::OFPBRC_MULTIPART_REQUEST_TIMEOUT, 5), [0, 1, 0, 14]);
    }

    #[test]
    fn unencodable_errors_fall_back() {
        // OFPBFC_* bundle errors do not exist in OF1.0.
        let b = enc(OfpErr::OFPBFC_BAD_ID, 1);
        let mut r = Reader::new(Bytes::from(b));
        let m = ErrorMsg::decode(1, &mut r).unwrap();
        assert_eq!(m.error(), Some(OfpErr::NXBRC_UNENCODABLE_ERROR));
    }

    #[test]
    fn every_error_round_trips_in_every_version_it_exists_in() {
        for &e in OfpErr::all() {
            for v in 1..=6u8 {
                if e.triplet(v).is_none() {
                    continue;
                }
                let mut r = Reader::new(Bytes::from(enc(e, v)));
                let got = ErrorMsg::decode(v, &mut r).unwrap().error().unwrap();
                // Some triplets are shared (first declared wins); those must at least map back to the same triplet.
                let wire = |t: Option<Triplet>| t.map(|t| (t.vendor, t.etype, t.code));
                assert_eq!(wire(got.triplet(v)), wire(e.triplet(v)), "{e} in version {v}");
            }
        }
    }

    #[test]
    fn wire_types_and_their_names() {
        let bad_len = ErrorMsg::new(OfpErr::OFPBRC_BAD_LEN, Bytes::new());
        assert_eq!(bad_len.wire_type(4), 1);
        assert_eq!(error_type_name(4, 1), Some("OFPET_BAD_REQUEST"));
        // Flow-mod errors are type 3 in OF1.0, 5 after.
        let full = ErrorMsg::new(OfpErr::OFPFMFC_TABLE_FULL, Bytes::new());
        assert_eq!((full.wire_type(1), full.wire_type(4)), (3, 5));
        assert_eq!(
            (error_type_name(1, 3), error_type_name(4, 5)),
            (Some("OFPET_FLOW_MOD_FAILED"), Some("OFPET_FLOW_MOD_FAILED"))
        );
        // Nicira errors travel in the vendor wrapper before OF1.2, as experimenter errors after.
        let nx = ErrorMsg::new(OfpErr::NXBRC_NXM_INVALID, Bytes::new());
        assert_eq!((nx.wire_type(1), nx.wire_type(4)), (NXET_VENDOR, OFPET12_EXPERIMENTER));
        assert_eq!(
            (error_type_name(1, NXET_VENDOR), error_type_name(4, 0xffff)),
            (Some("NXET_VENDOR"), Some("OFPET_EXPERIMENTER"))
        );
        // Types a version does not define have no name.
        assert_eq!(
            (error_type_name(1, 6), error_type_name(3, 12), error_type_name(5, 17)),
            (None, None, Some("OFPET_BUNDLE_FAILED"))
        );
        // Each wire type agrees with the encoding.
        for v in 1..=6 {
            for e in [OfpErr::OFPBRC_BAD_LEN, OfpErr::OFPFMFC_TABLE_FULL, OfpErr::NXBRC_NXM_INVALID] {
                let m = ErrorMsg::new(e, Bytes::new());
                let mut b = BytesMut::new();
                m.encode(v, &mut b);
                assert_eq!(m.wire_type(v), u16::from_be_bytes([b[0], b[1]]));
                assert!(error_type_name(v, m.wire_type(v)).is_some(), "{e:?} v{v}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(OfpErr::from_name("OFPERR_OFPBRC_BAD_LEN"), Some(OfpErr::OFPBRC_BAD_LEN));
        assert_eq!(OfpErr::OFPHFC_INCOMPATIBLE.name(), "OFPHFC_INCOMPATIBLE");
    }
}
