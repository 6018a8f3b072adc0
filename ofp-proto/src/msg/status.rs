//! Switch-initiated status messages: requestforward (a forwarded group or meter mod) and table status.

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::{pad8, Reader};
use crate::errors::OfpErr;
use crate::header::{Header, HEADER_LEN};
use crate::msg::{Body, Cx};
use crate::print::put_bit_names;
use crate::prop::{self, PropType};
use crate::raw::{self, MsgType};

/// What kind of request a requestforward carries (`OFPRFR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ForwardReason {
    GroupMod = 0,
    MeterMod = 1,
}

impl ForwardReason {
    /// The word `ovs-ofctl` prints.
    pub fn name(self) -> &'static str {
        match self {
            ForwardReason::GroupMod => "group_mod",
            ForwardReason::MeterMod => "meter_mod",
        }
    }
}

/// OFPT_REQUESTFORWARD (and its ONF 1.3 / NXT 1.0–1.2 forms): a group or meter mod that another
/// controller sent, kept as its bytes. Decoding checks the inner message as OVS does up to its
/// type, and validates meter mods fully; group mod bodies are not checked (this codec keeps group
/// mods opaque).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestForward {
    pub reason: ForwardReason,
    /// The forwarded message, header included, exactly as long as its header says.
    pub request: Bytes,
}

impl Body for RequestForward {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let body = r.rest();
        let inner = Header::parse(&body).ok_or(OfpErr::OFPBFC_MSG_BAD_LEN)?;
        let len = usize::from(inner.length);
        if len < HEADER_LEN || len > body.len() {
            return Err(OfpErr::OFPBFC_MSG_BAD_LEN);
        }
        if inner.version != cx.version {
            return Err(OfpErr::OFPBRC_BAD_VERSION);
        }
        let request = body.slice(..len);
        let (inner_raw, hdrs_len) = raw::pull(&request)?;
        let reason = match inner_raw.msg_type() {
            MsgType::GroupMod => ForwardReason::GroupMod,
            MsgType::MeterMod => {
                MeterMod::parse(&request[hdrs_len..])?;
                ForwardReason::MeterMod
            }
            _ => return Err(OfpErr::OFPBFC_MSG_UNSUP),
        };
        Ok(RequestForward { reason, request })
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        let at = buf.len();
        buf.put_slice(&self.request);
        pad8(buf, at);
    }

    /// OVS prints the forwarded group mod on the following lines; that is left out here.
    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(" reason=");
        out.push_str(self.reason.name());
        match self.reason {
            ForwardReason::GroupMod => {}
            ForwardReason::MeterMod => {
                let mm = raw::pull(&self.request).and_then(|(_, hdrs)| MeterMod::parse(&self.request[hdrs..]));
                if let Ok(mm) = mm {
                    mm.format(out);
                }
            }
        }
    }
}

const OFPMC13_DELETE: u16 = 2;
const OFPMF13_KBPS: u16 = 1;
const OFPMF13_PKTPS: u16 = 2;
const OFPMF13_BURST: u16 = 4;
const OFPMF13_STATS: u16 = 8;
const OFPMBT13_DROP: u16 = 1;
const OFPMBT13_DSCP_REMARK: u16 = 2;
const METER_BAND_LEN: usize = 16;

/// A meter mod read only to validate and print a forwarded one (`ofputil_decode_meter_mod`).
struct MeterMod {
    command: u16,
    flags: u16,
    meter_id: u32,
    /// (type, rate, burst_size, prec_level).
    bands: Vec<(u16, u32, u32, u8)>,
}

impl MeterMod {
    fn parse(body: &[u8]) -> Result<MeterMod, OfpErr> {
        let mut r = Reader::new(Bytes::copy_from_slice(body));
        let command = r.u16()?;
        let flags = r.u16()?;
        let meter_id = r.u32()?;
        if command > OFPMC13_DELETE {
            return Err(OfpErr::OFPMMFC_BAD_COMMAND);
        }
        let mut mm = MeterMod { command, flags: 0, meter_id, bands: Vec::new() };
        if command == OFPMC13_DELETE {
            return Ok(mm);
        }
        if flags & OFPMF13_KBPS != 0 && flags & OFPMF13_PKTPS != 0 {
            return Err(OfpErr::OFPMMFC_BAD_FLAGS);
        }
        mm.flags = flags;
        while r.remaining() >= METER_BAND_LEN {
            let btype = r.u16()?;
            if usize::from(r.u16()?) != METER_BAND_LEN {
                return Err(OfpErr::OFPBRC_BAD_LEN);
            }
            if btype != OFPMBT13_DROP && btype != OFPMBT13_DSCP_REMARK {
                return Err(OfpErr::OFPMMFC_BAD_BAND);
            }
            let (rate, burst) = (r.u32()?, r.u32()?);
            let prec = r.u8()?;
            r.skip(3)?;
            mm.bands.push((btype, rate, burst, if btype == OFPMBT13_DSCP_REMARK { prec } else { 0 }));
        }
        if !r.is_empty() {
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        Ok(mm)
    }

    /// OVS's `ofputil_format_meter_mod`.
    fn format(&self, out: &mut String) {
        match self.command {
            0 => out.push_str(" ADD "),
            1 => out.push_str(" MOD "),
            2 => out.push_str(" DEL "),
            c => out.push_str(&format!(" cmd:{c} ")),
        }
        match self.meter_id {
            id if id <= 0xffff_0000 => out.push_str(&format!("meter={id}")),
            0xffff_fffd => out.push_str("meter=slowpath"),
            0xffff_fffe => out.push_str("meter=controller"),
            0xffff_ffff => out.push_str("meter=all"),
            _ => out.push_str("meter=unknown"),
        }
        out.push(' ');
        for (bit, name) in
            [(OFPMF13_KBPS, "kbps "), (OFPMF13_PKTPS, "pktps "), (OFPMF13_BURST, "burst "), (OFPMF13_STATS, "stats ")]
        {
            if self.flags & bit != 0 {
                out.push_str(name);
            }
        }
        let other = self.flags & !0xf;
        if other != 0 {
            out.push_str(&format!("flags:0x{other:x} "));
        }
        out.push_str("bands=");
        for &(btype, rate, burst, prec) in &self.bands {
            match btype {
                OFPMBT13_DROP => out.push_str("\ntype=drop"),
                _ => out.push_str("\ntype=dscp_remark"),
            }
            out.push_str(&format!(" rate={rate}"));
            if self.flags & OFPMF13_BURST != 0 {
                out.push_str(&format!(" burst_size={burst}"));
            }
            if btype == OFPMBT13_DSCP_REMARK {
                out.push_str(&format!(" prec_level={prec}"));
            }
        }
        out.push('\n');
    }
}

/// Why a table status was sent (`OFPTR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableReason {
    VacancyDown = 3,
    VacancyUp = 4,
}

impl TableReason {
    /// The word `ovs-ofctl` prints.
    pub fn name(self) -> &'static str {
        match self {
            TableReason::VacancyDown => "VACANCY_DOWN",
            TableReason::VacancyUp => "VACANCY_UP",
        }
    }
}

const OFPTC14_EVICTION: u32 = 1 << 2;
const OFPTC14_VACANCY_EVENTS: u32 = 1 << 3;
const OFPTMPT14_EVICTION: u16 = 2;
const OFPTMPT14_VACANCY: u16 = 3;
const TABLE_DESC_LEN: usize = 8;
const VACANCY_PROP_LEN: usize = 8;

/// One table's description as OF1.4+ carries it (OVS `ofputil_table_desc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TableDesc {
    pub table_id: u8,
    pub eviction: bool,
    /// Vacancy events enabled.
    pub vacancy: bool,
    /// `OFPTMPEF14_*` bits; `None` (all-ones on the wire) is the default.
    pub eviction_flags: Option<u32>,
    /// Thresholds and current vacancy, in percent.
    pub vacancy_down: u8,
    pub vacancy_up: u8,
    pub vacancy_now: u8,
}

impl TableDesc {
    /// Decodes one description (`ofputil_decode_table_desc`); unknown properties are ignored.
    /// An absent description is OFPBRC_BAD_LEN (OVS reports it with an invalid error code).
    pub fn decode(r: &mut Reader) -> Result<TableDesc, OfpErr> {
        if r.remaining() < TABLE_DESC_LEN {
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        let len = usize::from(r.u16()?);
        let table_id = r.u8()?;
        r.skip(1)?;
        let config = r.u32()?;
        if len < TABLE_DESC_LEN || len - TABLE_DESC_LEN > r.remaining() {
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        let mut td = TableDesc {
            table_id,
            eviction: config & OFPTC14_EVICTION != 0,
            vacancy: config & OFPTC14_VACANCY_EVENTS != 0,
            ..TableDesc::default()
        };
        let mut props = r.sub(len - TABLE_DESC_LEN)?;
        while !props.is_empty() {
            let mut p = prop::pull(&mut props, 0xffff)?;
            match p.ptype {
                PropType::Std(OFPTMPT14_EVICTION) => {
                    td.eviction_flags = Some(p.u32()?).filter(|f| *f != u32::MAX);
                }
                PropType::Std(OFPTMPT14_VACANCY) => {
                    if p.len != VACANCY_PROP_LEN {
                        return Err(OfpErr::OFPBPC_BAD_LEN);
                    }
                    [td.vacancy_down, td.vacancy_up, td.vacancy_now] = p.payload.array()?;
                }
                t => prop::unknown(true, t)?,
            }
        }
        Ok(td)
    }

    /// Encodes as OVS does for a table status: both the eviction and the vacancy property.
    pub fn encode(&self, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u16(0);
        buf.put_u8(self.table_id);
        buf.put_u8(0);
        let config =
            if self.eviction { OFPTC14_EVICTION } else { 0 } | if self.vacancy { OFPTC14_VACANCY_EVENTS } else { 0 };
        buf.put_u32(config);
        prop::put_u32(buf, OFPTMPT14_EVICTION, self.eviction_flags.unwrap_or(u32::MAX));
        let at = prop::start(buf, OFPTMPT14_VACANCY);
        buf.put_slice(&[self.vacancy_down, self.vacancy_up, self.vacancy_now, 0]);
        prop::finish(buf, at);
        crate::buf::patch_len16(buf, start, start);
    }

    /// OVS's `ofputil_table_desc_format`.
    pub fn format(&self, out: &mut String) {
        let on_off = |b| if b { "on" } else { "off" };
        out.push_str(&format!("\n  table {}:\n", self.table_id));
        out.push_str(&format!("   eviction={} eviction_flags=", on_off(self.eviction)));
        match self.eviction_flags {
            Some(f) => {
                let name = |b| match b {
                    1 => Some("OTHER"),
                    2 => Some("IMPORTANCE"),
                    4 => Some("LIFETIME"),
                    _ => None,
                };
                put_bit_names(out, f, name, '|');
            }
            None => out.push_str("(default)"),
        }
        out.push_str(&format!("\n   vacancy={}", on_off(self.vacancy)));
        if self.vacancy {
            out.push_str(&format!(
                " vacancy_down={}% vacancy_up={}% vacancy={}%",
                self.vacancy_down, self.vacancy_up, self.vacancy_now
            ));
        }
        out.push('\n');
    }
}

/// OFPT_TABLE_STATUS (OF1.4+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableStatus {
    pub reason: TableReason,
    pub desc: TableDesc,
}

impl Body for TableStatus {
    fn decode(_cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let reason = match r.u8()? {
            3 => TableReason::VacancyDown,
            4 => TableReason::VacancyUp,
            _ => return Err(OfpErr::OFPBPC_BAD_VALUE),
        };
        r.skip(7)?;
        Ok(TableStatus { reason, desc: TableDesc::decode(r)? })
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        buf.put_u8(self.reason as u8);
        buf.put_bytes(0, 7);
        self.desc.encode(buf);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(" reason=");
        out.push_str(self.reason.name());
        out.push_str("\ntable_desc:-");
        self.desc.format(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::{ofp_to_string, parse_hex};
    use crate::{Message, OfpMsg};

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }

    fn dec(b: &[u8]) -> Result<Message, OfpErr> {
        OfpMsg::decode(&Bytes::copy_from_slice(b)).map(|m| m.body).map_err(|e| e.error)
    }

    /// An OF1.4 requestforward around `inner` (hex).
    fn wrap(inner: &str) -> Vec<u8> {
        hex(&[format!("0520{:04x}00000002", 8 + inner.len() / 2), inner.to_string()].concat())
    }

    #[test]
    fn requestforward_of_a_meter_mod() {
        // OFPT_METER_MOD: ADD, no flags, meter 1, no bands.
        let inner = hex("051d0010000000020000000000000001");
        let rf = RequestForward { reason: ForwardReason::MeterMod, request: Bytes::from(inner) };
        let b = OfpMsg::new(5, 2, Message::Requestforward(rf.clone())).to_bytes();
        assert_eq!(b.to_vec(), wrap("051d0010000000020000000000000001"));
        assert_eq!(dec(&b), Ok(Message::Requestforward(rf)));
        assert_eq!(
            ofp_to_string(&b, 1),
            "OFPT_REQUESTFORWARD (OF1.4) (xid=0x2): reason=meter_mod ADD meter=1 bands=\n"
        );
        // ONF form in OF1.3: MOD, kbps|burst, meter 7, one DSCP-remark band.
        let onf = hex(&[
            "0404003000000009",
            "4f4e46000000092e",
            "041d002000000009000100050000000700020010000003e80000006403000000",
        ]
        .concat());
        let Ok(Message::Requestforward(rf)) = dec(&onf) else { panic!() };
        assert_eq!((rf.reason, rf.request.len()), (ForwardReason::MeterMod, 32));
        assert_eq!(
            ofp_to_string(&onf, 1),
            "ONFT_REQUESTFORWARD (OF1.3) (xid=0x9): reason=meter_mod MOD meter=7 kbps burst bands=\ntype=dscp_remark \
             rate=1000 burst_size=100 prec_level=3\n"
        );
    }

    #[test]
    fn requestforward_of_a_group_mod_is_not_checked_past_its_type() {
        // OFPT_GROUP_MOD (OF1.4): ADD, type all, group 1, no buckets.
        let b = wrap("050f0010000000020000000000000001");
        let Ok(Message::Requestforward(rf)) = dec(&b) else { panic!() };
        assert_eq!(rf.reason, ForwardReason::GroupMod);
        assert_eq!(
            ofp_to_string(&b, 1).lines().next(),
            Some("OFPT_REQUESTFORWARD (OF1.4) (xid=0x2): reason=group_mod")
        );
    }

    #[test]
    fn requestforward_errors() {
        // Inner length beyond the outer message, or below a header.
        assert_eq!(dec(&wrap("051d0020000000020000000000000001")), Err(OfpErr::OFPBFC_MSG_BAD_LEN));
        assert_eq!(dec(&wrap("051d0004000000020000000000000001")), Err(OfpErr::OFPBFC_MSG_BAD_LEN));
        // Version mismatch; a type that cannot be forwarded.
        assert_eq!(dec(&wrap("041d0010000000020000000000000001")), Err(OfpErr::OFPBRC_BAD_VERSION));
        assert_eq!(dec(&wrap("05020010000000020000000000000000")), Err(OfpErr::OFPBFC_MSG_UNSUP));
        // The inner message's own decode errors.
        assert_eq!(dec(&wrap("051d000c000000020000000000000000")), Err(OfpErr::OFPBRC_BAD_LEN));
        assert_eq!(dec(&wrap("051d0010000000020003000000000001")), Err(OfpErr::OFPMMFC_BAD_COMMAND));
        assert_eq!(dec(&wrap("051d0010000000020000000300000001")), Err(OfpErr::OFPMMFC_BAD_FLAGS));
        let band = |b: &str| wrap(&["051d002000000002", "0000000000000001", b].concat());
        assert_eq!(dec(&band("00030010000000010000000000000000")), Err(OfpErr::OFPMMFC_BAD_BAND));
        assert_eq!(dec(&band("00010008000000010000000000000000")), Err(OfpErr::OFPBRC_BAD_LEN));
        assert!(dec(&band("00010010000000010000000000000000")).is_ok());
    }

    #[test]
    fn table_status_round_trip_and_text() {
        let ts = TableStatus {
            reason: TableReason::VacancyUp,
            desc: TableDesc {
                table_id: 3,
                eviction: false,
                vacancy: true,
                eviction_flags: Some(3),
                vacancy_down: 5,
                vacancy_up: 10,
                vacancy_now: 1,
            },
        };
        // Status header, then the descriptor (length 24, table 3, VACANCY_EVENTS) with its eviction
        // and vacancy properties.
        let want =
            hex(&["051f002800000000", "0400000000000000", "0018030000000008", "0002000800000003", "00030008050a0100"]
                .concat());
        let b = OfpMsg::new(5, 0, Message::TableStatus(ts)).to_bytes();
        assert_eq!(b.to_vec(), want);
        assert_eq!(dec(&want), Ok(Message::TableStatus(ts)));
        assert_eq!(
            ofp_to_string(&want, 1),
            "OFPT_TABLE_STATUS (OF1.4) (xid=0x0): reason=VACANCY_UP\ntable_desc:-\n  table 3:\n   eviction=off \
             eviction_flags=OTHER|IMPORTANCE\n   vacancy=on vacancy_down=5% vacancy_up=10% vacancy=1%\n"
        );
    }

    #[test]
    fn table_status_errors() {
        assert_eq!(dec(&hex("051f0010000000000500000000000000")), Err(OfpErr::OFPBPC_BAD_VALUE));
        assert_eq!(dec(&hex("051f0010000000000300000000000000")), Err(OfpErr::OFPBRC_BAD_LEN));
        // Descriptor length past the end; vacancy property of the wrong length.
        assert_eq!(dec(&hex("051f0018000000000300000000000000001000000000000c")), Err(OfpErr::OFPBRC_BAD_LEN));
        let bad_vac =
            hex(&["051f002800000000", "0300000000000000", "0018000000000008", "0003000c0a0b0c000000000000000000"]
                .concat());
        assert_eq!(dec(&bad_vac), Err(OfpErr::OFPBPC_BAD_LEN));
        // Without properties: default eviction flags, zero thresholds.
        let Ok(Message::TableStatus(t)) = dec(&hex("051f0018000000000300000000000000000800000000000c")) else {
            panic!()
        };
        assert_eq!(t.desc, TableDesc { eviction: true, vacancy: true, ..TableDesc::default() });
    }
}
