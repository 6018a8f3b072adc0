//! Flow monitors as OVS speaks them (`ofp-monitor.c`): monitor requests and flow-update replies in
//! their three wire forms — NXST_FLOW_MONITOR (OF1.0–1.2, NXM match, action lists), ONFST_FLOW_MONITOR
//! (OF1.3, ONF experimenter 1870, OXM match, instructions) and OFPMP_FLOW_MONITOR (OF1.4+) — plus the
//! messages that stand for a cancel, "paused" and "resumed" in each version, and their
//! `ovs-ofctl ofp-print` text.
//!
//! How each notion travels, by version:
//!
//! | what            | OF1.0–1.2                  | OF1.3                       | OF1.4+                                  |
//! |-----------------|----------------------------|-----------------------------|-----------------------------------------|
//! | add a monitor   | NXST_FLOW_MONITOR request  | ONFST_FLOW_MONITOR request  | OFPMP_FLOW_MONITOR request, command add |
//! | cancel          | NXT_FLOW_MONITOR_CANCEL    | ONFT_FLOW_MONITOR_CANCEL    | OFPMP_FLOW_MONITOR request, command delete |
//! | flow updates    | NXST_FLOW_MONITOR reply    | ONFST_FLOW_MONITOR reply    | OFPMP_FLOW_MONITOR reply                |
//! | paused/resumed  | NXT_FLOW_MONITOR_PAUSED/RESUMED | ONFT_FLOW_MONITOR_PAUSED/RESUMED | reply with a PAUSED/RESUMED event |
//!
//! [`cancel_message`], [`paused_message`] and [`resumed_message`] pick the right one.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::actions::{decode_actions, encode_actions, format_instructions};
use crate::buf::{patch_len16, round_up8, Reader};
use crate::errors::OfpErr;
use crate::header::OFP14_VERSION;
use crate::instructions::Instructions;
use crate::msg::flow_mod::OFPG_ANY;
use crate::msg::flow_removed::flow_removed_reason_name;
use crate::msg::multipart::{EntryTooLong, MultipartBuilder};
use crate::msg::{Body, Cx, Message, OfpMsg};
use crate::ofmatch::{nxm, ofp11, Match, OFP_DEFAULT_PRIORITY};
use crate::port_no;
use crate::print::{hex_alt, put_bit_names};
use crate::raw::{MsgType, Raw};

/// What a monitor reports and includes, in OVS's internal (OpenFlow 1.4) bit space.
///
/// The Nicira/ONF wire bits differ: their "delete" is `REMOVED`, "actions" is `INSTRUCTIONS`, and
/// their "own" (bit 5) is mapped onto `ONLY_OWN` (bit 6), as OVS maps it. `NO_ABBREV` has no
/// Nicira/ONF bit, and OVS rejects it in OF1.4 requests too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MonitorFlags(pub u16);

impl MonitorFlags {
    pub const INITIAL: u16 = 1 << 0;
    pub const ADD: u16 = 1 << 1;
    pub const REMOVED: u16 = 1 << 2;
    pub const MODIFY: u16 = 1 << 3;
    pub const INSTRUCTIONS: u16 = 1 << 4;
    pub const NO_ABBREV: u16 = 1 << 5;
    pub const ONLY_OWN: u16 = 1 << 6;

    /// The flags OVS accepts in a request; at least one of `ADD`, `REMOVED`, `MODIFY` must be set.
    const ALLOWED: u16 = Self::INITIAL | Self::ADD | Self::REMOVED | Self::MODIFY | Self::INSTRUCTIONS | Self::ONLY_OWN;
    const EVENTS: u16 = Self::ADD | Self::REMOVED | Self::MODIFY;
    /// Nicira/ONF "own", which OVS reads as `ONLY_OWN`.
    const NX_OWN: u16 = 1 << 5;

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }

    /// OVS's check of a request's flags, in the bit space of the form (Nicira/ONF or OF1.4).
    fn check(wire: u16, nx: bool) -> Result<(), OfpErr> {
        let allowed = if nx { Self::ALLOWED & !Self::ONLY_OWN | Self::NX_OWN } else { Self::ALLOWED };
        if wire & Self::EVENTS == 0 || wire & !allowed != 0 {
            return Err(OfpErr::OFPMOFC_BAD_FLAGS);
        }
        Ok(())
    }

    fn from_nx(wire: u16) -> MonitorFlags {
        let own = if wire & Self::NX_OWN != 0 { Self::ONLY_OWN } else { 0 };
        MonitorFlags(wire & 0x1f | own)
    }

    /// Nicira/ONF bits; `NO_ABBREV` and unknown bits are dropped, as OVS drops them.
    fn to_nx(self) -> u16 {
        let own = if self.has(Self::ONLY_OWN) { Self::NX_OWN } else { 0 };
        self.0 & 0x1f | own
    }

    fn name(bit: u32) -> Option<&'static str> {
        Some(match bit as u16 {
            Self::INITIAL => "initial",
            Self::ADD => "add",
            Self::REMOVED => "delete",
            Self::MODIFY => "modify",
            Self::INSTRUCTIONS => "actions",
            Self::NO_ABBREV => "no-abbrev",
            Self::ONLY_OWN => "own",
            _ => return None,
        })
    }
}

/// What an OF1.4+ monitor request entry asks for (`OFPFMC_*`). Nicira/ONF requests always add.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MonitorCommand {
    Add,
    /// Replace an existing monitor with the same id.
    Modify,
    /// Cancel the monitor with this id; OVS reads only the id and the match of such an entry.
    Delete,
    /// A command OVS neither names nor rejects: its decoder accepts it, its printer shows the
    /// entry like an add, and ovs-vswitchd ignores the entry.
    Other(u8),
}

impl MonitorCommand {
    fn from_wire(c: u8) -> MonitorCommand {
        match c {
            0 => MonitorCommand::Add,
            1 => MonitorCommand::Modify,
            2 => MonitorCommand::Delete,
            c => MonitorCommand::Other(c),
        }
    }

    fn to_wire(self) -> u8 {
        match self {
            MonitorCommand::Add => 0,
            MonitorCommand::Modify => 1,
            MonitorCommand::Delete => 2,
            MonitorCommand::Other(c) => c,
        }
    }
}

/// The three wire forms of monitor requests and replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// NXST_FLOW_MONITOR, OF1.0–1.2: NXM match, action lists.
    Nx,
    /// ONFST_FLOW_MONITOR, OF1.3: OXM match, instructions, Nicira event numbers.
    Onf,
    /// OFPMP_FLOW_MONITOR, OF1.4+.
    Of14,
}

impl Form {
    fn of(raw: Raw) -> Form {
        match raw {
            Raw::NxstFlowMonitorRequest | Raw::NxstFlowMonitorReply => Form::Nx,
            Raw::Onfst13FlowMonitorRequest | Raw::Onfst13FlowMonitorReply => Form::Onf,
            _ => Form::Of14,
        }
    }
}

/// One monitor of a request (OVS `struct ofputil_flow_monitor_request`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowMonitor {
    /// Controller-chosen id, unique among the connection's monitors.
    pub id: u32,
    /// Always `Add` in Nicira/ONF requests (they have no command field).
    pub command: MonitorCommand,
    pub flags: MonitorFlags,
    /// Only flows that output to this port (OF1.1+ numbering; `port_no::ANY`: any port).
    pub out_port: u32,
    /// Only flows that output to this group (`OFPG_ANY`: any); OF1.4+ only.
    pub out_group: u32,
    /// One table, or 0xff for all.
    pub table_id: u8,
    pub match_: Match,
}

impl FlowMonitor {
    /// A monitor added with `flags` on every flow of every table.
    pub fn new(id: u32, flags: MonitorFlags) -> FlowMonitor {
        FlowMonitor {
            id,
            command: MonitorCommand::Add,
            flags,
            out_port: port_no::ANY,
            out_group: OFPG_ANY,
            table_id: 0xff,
            match_: Match::catchall(),
        }
    }

    /// An OF1.4+ entry that cancels monitor `id`: zeros besides the id and command, as OVS writes
    /// it, and an empty OXM match. (OVS 3.1's own encoder leaves the match out, and then its
    /// decoder rejects the entry with OFPBMC_BAD_LEN; the match keeps it acceptable to OVS.)
    pub fn delete(id: u32) -> FlowMonitor {
        FlowMonitor {
            command: MonitorCommand::Delete,
            flags: MonitorFlags(0),
            out_port: 0,
            out_group: 0,
            table_id: 0,
            ..FlowMonitor::new(id, MonitorFlags(0))
        }
    }

    /// Decodes one entry of a request in the form of `raw` (OVS
    /// `ofputil_decode_flow_monitor_request`).
    pub fn decode(raw: Raw, r: &mut Reader) -> Result<FlowMonitor, OfpErr> {
        if r.remaining() < 16 {
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        let mut m = FlowMonitor::new(r.u32()?, MonitorFlags(0));
        match Form::of(raw) {
            Form::Nx => {
                let flags = r.u16()?;
                let out_port = r.u16()?;
                let match_len = usize::from(r.u16()?);
                m.table_id = r.u8()?;
                let zeros: [u8; 5] = r.array()?;
                MonitorFlags::check(flags, true)?;
                if zeros != [0; 5] {
                    return Err(OfpErr::NXBRC_MUST_BE_ZERO);
                }
                m.flags = MonitorFlags::from_nx(flags);
                m.out_port = port_no::ofp10_to_ofp11(out_port);
                m.match_ = nxm::pull_nx_match(r, match_len, true, None)?;
            }
            Form::Onf => {
                let flags = r.u16()?;
                // The match carries its own length; OVS ignores this one.
                let _match_len = r.u16()?;
                let out_port = r.u32()?;
                m.table_id = r.u8()?;
                let zeros: [u8; 3] = r.array()?;
                MonitorFlags::check(flags, true)?;
                if zeros != [0; 3] {
                    return Err(OfpErr::NXBRC_MUST_BE_ZERO);
                }
                m.flags = MonitorFlags::from_nx(flags);
                m.out_port = port_no::from_ofp11(out_port)?;
                m.match_ = ofp11::pull_ofp11_match(r)?.0;
            }
            Form::Of14 => {
                let out_port = r.u32()?;
                m.out_group = r.u32()?;
                m.flags = MonitorFlags(r.u16()?);
                m.table_id = r.u8()?;
                m.command = MonitorCommand::from_wire(r.u8()?);
                if m.command == MonitorCommand::Delete {
                    // OVS checks nothing but the match of a delete; the rest is kept as sent.
                    m.out_port = out_port;
                } else {
                    MonitorFlags::check(m.flags.0, false)?;
                    m.out_port = port_no::from_ofp11(out_port)?;
                }
                m.match_ = ofp11::pull_ofp11_match(r)?.0;
            }
        }
        Ok(m)
    }

    /// Appends this entry in the form of `raw` (OVS `ofputil_append_flow_monitor_request`, except
    /// that OF1.4+ entries keep their command). Nicira/ONF forms have no command, out_group or
    /// `NO_ABBREV`: those are not sent.
    pub fn encode(&self, raw: Raw, version: u8, buf: &mut BytesMut) {
        let start = buf.len();
        buf.put_u32(self.id);
        match Form::of(raw) {
            Form::Nx => {
                buf.put_u16(self.flags.to_nx());
                buf.put_u16(port_no::to_ofp10_wire(self.out_port));
                buf.put_u16(0);
                buf.put_u8(self.table_id);
                buf.put_bytes(0, 5);
                let len = nxm::put_nx_match(buf, &self.match_, 0, 0);
                buf[start + 8..start + 10].copy_from_slice(&(len as u16).to_be_bytes());
            }
            Form::Onf => {
                buf.put_u16(self.flags.to_nx());
                buf.put_u16(0);
                buf.put_u32(self.out_port);
                buf.put_u8(self.table_id);
                buf.put_bytes(0, 3);
                let len = nxm::put_oxm_match(buf, &self.match_, version);
                buf[start + 6..start + 8].copy_from_slice(&(len as u16).to_be_bytes());
            }
            Form::Of14 => {
                buf.put_u32(self.out_port);
                buf.put_u32(self.out_group);
                buf.put_u16(self.flags.0);
                buf.put_u8(self.table_id);
                buf.put_u8(self.command.to_wire());
                nxm::put_oxm_match(buf, &self.match_, version);
            }
        }
    }

    /// OVS `ofputil_flow_monitor_request_format`: "\n id=… flags=…" and the selection.
    pub fn format(&self, out: &mut String) {
        let _ = write!(out, "\n id={}", self.id);
        if self.command == MonitorCommand::Delete {
            out.push_str(" command=delete");
            return;
        }
        out.push_str(" flags=");
        put_bit_names(out, self.flags.0.into(), MonitorFlags::name, ',');
        if self.out_port != port_no::ANY {
            out.push_str(" out_port=");
            port_no::format_port(self.out_port, out);
        }
        if self.out_group != 0 && self.out_group != OFPG_ANY {
            // OVS prints the group signed.
            let _ = write!(out, " out_group={}", self.out_group as i32);
        }
        if self.table_id != 0xff {
            let _ = write!(out, " table={}", self.table_id);
        }
        out.push(' ');
        self.match_.format(OFP_DEFAULT_PRIORITY, out);
        if out.ends_with(' ') {
            out.pop();
        }
    }
}

/// Decodes every entry of a list body with `one`.
fn decode_all<T>(r: &mut Reader, mut one: impl FnMut(&mut Reader) -> Result<T, OfpErr>) -> Result<Vec<T>, OfpErr> {
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(one(r)?);
    }
    Ok(v)
}

/// What OVS's printer does with a list body: prints entries until one fails, then reports it.
fn print_prefix<T>(
    r: &mut Reader,
    mut one: impl FnMut(&mut Reader) -> Result<T, OfpErr>,
    format: impl Fn(&T, &mut String),
    out: &mut String,
) -> Option<OfpErr> {
    while !r.is_empty() {
        match one(r) {
            Ok(e) => format(&e, out),
            Err(e) => return Some(e),
        }
    }
    None
}

/// A monitor request: one or more monitors to add, modify or delete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowMonitorRequest {
    pub monitors: Vec<FlowMonitor>,
}

impl FlowMonitorRequest {
    /// The request as messages of at most 65535 bytes each (all but the last flagged "more"),
    /// in the form OVS uses for `version`. Fails only for a monitor too big for one message.
    pub fn encode_requests(&self, version: u8, xid: u32) -> Result<Vec<Bytes>, EntryTooLong> {
        let raw = Raw::for_type(MsgType::FlowMonitorStatsRequest, version).unwrap_or(Raw::Ofpst14FlowMonitorRequest);
        let mut b = MultipartBuilder::new(raw, version, xid);
        for m in &self.monitors {
            b.append_with(|buf| m.encode(raw, version, buf))?;
        }
        Ok(b.finish())
    }
}

impl Body for FlowMonitorRequest {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        Ok(FlowMonitorRequest { monitors: decode_all(r, |r| FlowMonitor::decode(cx.raw, r))? })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        for m in &self.monitors {
            m.encode(cx.raw, cx.version, buf);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        for m in &self.monitors {
            m.format(out);
        }
    }

    fn print_undecodable(cx: Cx, r: &mut Reader, _err: OfpErr, out: &mut String, _verbosity: u8) -> Option<OfpErr> {
        print_prefix(r, |r| FlowMonitor::decode(cx.raw, r), FlowMonitor::format, out)
    }
}

/// What happened to the flow of a full update (OVS `OFPFME_INITIAL`..`OFPFME_MODIFIED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowUpdateEvent {
    /// The flow matched when the monitor was created. Nicira/ONF forms send it as "added".
    Initial,
    Added,
    /// Nicira/ONF "deleted".
    Removed,
    Modified,
}

/// The flow a full update describes (the full-update fields of OVS `struct ofputil_flow_update`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowUpdateFull {
    pub event: FlowUpdateEvent,
    /// `OFPRR_*` for `Removed`, else 0. Nicira/ONF carry 16 bits, OF1.4+ only the low 8.
    pub reason: u16,
    pub priority: u16,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub table_id: u8,
    pub cookie: u64,
    pub match_: Match,
    /// Empty unless the monitor asked for actions. Nicira forms (OF1.0–1.2) carry an action list:
    /// only `apply` is sent, and only apply actions decode (as in OVS).
    pub instructions: Instructions,
}

impl Default for FlowUpdateFull {
    fn default() -> Self {
        FlowUpdateFull {
            event: FlowUpdateEvent::Added,
            reason: 0,
            priority: OFP_DEFAULT_PRIORITY,
            idle_timeout: 0,
            hard_timeout: 0,
            table_id: 0,
            cookie: 0,
            match_: Match::catchall(),
            instructions: Instructions::default(),
        }
    }
}

/// One entry of a monitor reply, version independent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowUpdate {
    Full(Box<FlowUpdateFull>),
    /// The change was the receiving controller's own request with this xid.
    Abbrev {
        xid: u32,
    },
    /// OF1.4+ only: monitoring paused (the switch's buffer for updates filled up). Before OF1.4
    /// this is a message of its own; see [`paused_message`].
    Paused,
    /// OF1.4+ only: monitoring resumed (after the updates that were held back). See
    /// [`resumed_message`].
    Resumed,
}

/// Nicira/ONF event numbers.
const NXFME_ADDED: u16 = 0;
const NXFME_DELETED: u16 = 1;
const NXFME_MODIFIED: u16 = 2;
const NXFME_ABBREV: u16 = 3;
/// OF1.4+ event numbers.
const OFPFME_INITIAL: u16 = 0;
const OFPFME_ADDED: u16 = 1;
const OFPFME_REMOVED: u16 = 2;
const OFPFME_MODIFIED: u16 = 3;
const OFPFME_ABBREV: u16 = 4;
const OFPFME_PAUSED: u16 = 5;
const OFPFME_RESUMED: u16 = 6;

/// Length of a full update's fixed part, and of abbreviated and paused/resumed updates.
const FULL_LEN: usize = 24;
const SHORT_LEN: usize = 8;

impl FlowUpdate {
    /// Whether a reply in `version` can carry this update (paused/resumed need OF1.4+).
    pub fn fits_version(&self, version: u8) -> bool {
        !matches!(self, FlowUpdate::Paused | FlowUpdate::Resumed) || version >= OFP14_VERSION
    }

    /// Decodes one update of a reply in the form of `raw` (OVS `ofputil_decode_flow_update`).
    pub fn decode(raw: Raw, version: u8, r: &mut Reader) -> Result<FlowUpdate, OfpErr> {
        let bad_len = Err(OfpErr::OFPBRC_BAD_LEN);
        if r.remaining() < 4 {
            return bad_len;
        }
        let length = usize::from(r.peek_u16()?);
        if length > r.remaining() || !length.is_multiple_of(8) {
            return bad_len;
        }
        let event = u16::from_be_bytes([r.peek_rest()[2], r.peek_rest()[3]]);
        let form = Form::of(raw);
        let nx = form != Form::Of14;
        let full_event = match (nx, event) {
            (true, NXFME_ADDED) | (false, OFPFME_ADDED) => FlowUpdateEvent::Added,
            (true, NXFME_DELETED) | (false, OFPFME_REMOVED) => FlowUpdateEvent::Removed,
            (true, NXFME_MODIFIED) | (false, OFPFME_MODIFIED) => FlowUpdateEvent::Modified,
            (false, OFPFME_INITIAL) => FlowUpdateEvent::Initial,
            (true, NXFME_ABBREV) | (false, OFPFME_ABBREV) => {
                if length != SHORT_LEN {
                    return bad_len;
                }
                r.skip(4)?;
                return Ok(FlowUpdate::Abbrev { xid: r.u32()? });
            }
            (false, OFPFME_PAUSED | OFPFME_RESUMED) => {
                if length != SHORT_LEN {
                    return bad_len;
                }
                r.skip(SHORT_LEN)?;
                return Ok(if event == OFPFME_PAUSED { FlowUpdate::Paused } else { FlowUpdate::Resumed });
            }
            _ => return Err(OfpErr::NXBRC_FM_BAD_EVENT),
        };
        if length < FULL_LEN {
            return bad_len;
        }
        r.skip(4)?;
        let mut f = FlowUpdateFull { event: full_event, ..FlowUpdateFull::default() };
        let mut match_len = 0;
        if nx {
            f.reason = r.u16()?;
            f.priority = r.u16()?;
            f.idle_timeout = r.u16()?;
            f.hard_timeout = r.u16()?;
            match_len = usize::from(r.u16()?);
            f.table_id = r.u8()?;
            r.skip(1)?;
            f.cookie = r.u64()?;
            if FULL_LEN + match_len > length {
                return bad_len;
            }
        } else {
            f.table_id = r.u8()?;
            f.reason = r.u8()?.into();
            f.idle_timeout = r.u16()?;
            f.hard_timeout = r.u16()?;
            f.priority = r.u16()?;
            r.skip(4)?;
            f.cookie = r.u64()?;
        }
        if form == Form::Nx {
            f.match_ = nxm::pull_nx_match(r, match_len, true, None)?;
            let actions = r.bytes(length - FULL_LEN - round_up8(match_len))?;
            f.instructions = Instructions::apply(decode_actions(&actions, version)?);
        } else {
            // The match is read from the rest of the message, not just this entry (as OVS); if it
            // runs past the entry, the instructions' length comes out negative.
            let (m, padded) = ofp11::pull_ofp11_match(r)?;
            f.match_ = m;
            let len = (length - FULL_LEN).checked_sub(padded).ok_or(OfpErr::OFPBIC_BAD_LEN)?;
            f.instructions = Instructions::decode(&r.bytes(len)?, version)?;
        }
        Ok(FlowUpdate::Full(Box::new(f)))
    }

    /// Appends this update in the form of `raw` (OVS `ofputil_append_flow_update`). Nicira/ONF
    /// forms send `Initial` as "added" and cannot carry `Paused`/`Resumed`: those are not written.
    pub fn encode(&self, raw: Raw, version: u8, buf: &mut BytesMut) {
        let start = buf.len();
        let form = Form::of(raw);
        let nx = form != Form::Of14;
        match self {
            FlowUpdate::Abbrev { xid } => {
                buf.put_u16(SHORT_LEN as u16);
                buf.put_u16(if nx { NXFME_ABBREV } else { OFPFME_ABBREV });
                buf.put_u32(*xid);
            }
            FlowUpdate::Paused | FlowUpdate::Resumed => {
                if nx {
                    return;
                }
                buf.put_u16(SHORT_LEN as u16);
                buf.put_u16(if *self == FlowUpdate::Paused { OFPFME_PAUSED } else { OFPFME_RESUMED });
                buf.put_u32(0);
            }
            FlowUpdate::Full(f) => {
                buf.put_u16(0);
                let event = match (nx, f.event) {
                    (true, FlowUpdateEvent::Initial | FlowUpdateEvent::Added) => NXFME_ADDED,
                    (true, FlowUpdateEvent::Removed) => NXFME_DELETED,
                    (true, FlowUpdateEvent::Modified) => NXFME_MODIFIED,
                    (false, FlowUpdateEvent::Initial) => OFPFME_INITIAL,
                    (false, FlowUpdateEvent::Added) => OFPFME_ADDED,
                    (false, FlowUpdateEvent::Removed) => OFPFME_REMOVED,
                    (false, FlowUpdateEvent::Modified) => OFPFME_MODIFIED,
                };
                buf.put_u16(event);
                if nx {
                    buf.put_u16(f.reason);
                    buf.put_u16(f.priority);
                    buf.put_u16(f.idle_timeout);
                    buf.put_u16(f.hard_timeout);
                    buf.put_u16(0);
                    buf.put_u8(f.table_id);
                    buf.put_u8(0);
                    buf.put_u64(f.cookie);
                    let len = if form == Form::Nx {
                        let len = nxm::put_nx_match(buf, &f.match_, 0, 0);
                        encode_actions(&f.instructions.apply, version, buf);
                        len
                    } else {
                        let len = nxm::put_oxm_match(buf, &f.match_, version);
                        f.instructions.encode(version, buf);
                        len
                    };
                    buf[start + 12..start + 14].copy_from_slice(&(len as u16).to_be_bytes());
                } else {
                    buf.put_u8(f.table_id);
                    buf.put_u8(f.reason as u8);
                    buf.put_u16(f.idle_timeout);
                    buf.put_u16(f.hard_timeout);
                    buf.put_u16(f.priority);
                    buf.put_u32(0);
                    buf.put_u64(f.cookie);
                    nxm::put_oxm_match(buf, &f.match_, version);
                    f.instructions.encode(version, buf);
                }
                patch_len16(buf, start, start);
            }
        }
    }

    /// OVS `ofputil_flow_update_format`: "\n event=…" and the flow.
    pub fn format(&self, out: &mut String) {
        out.push_str("\n event=");
        let f = match self {
            FlowUpdate::Abbrev { xid } => {
                let _ = write!(out, "ABBREV xid=0x{xid:x}");
                return;
            }
            FlowUpdate::Paused | FlowUpdate::Resumed => {
                out.push_str(if *self == FlowUpdate::Paused { "PAUSED" } else { "RESUMED" });
                return;
            }
            FlowUpdate::Full(f) => f,
        };
        match f.event {
            FlowUpdateEvent::Initial => out.push_str("INITIAL"),
            FlowUpdateEvent::Added => out.push_str("ADDED"),
            FlowUpdateEvent::Modified => out.push_str("MODIFIED"),
            FlowUpdateEvent::Removed => {
                let reason = u8::try_from(f.reason).map_or_else(|_| f.reason.to_string(), flow_removed_reason_name);
                let _ = write!(out, "DELETED reason={reason}");
            }
        }
        let _ = write!(out, " table={}", f.table_id);
        if f.idle_timeout != 0 {
            let _ = write!(out, " idle_timeout={}", f.idle_timeout);
        }
        if f.hard_timeout != 0 {
            let _ = write!(out, " hard_timeout={}", f.hard_timeout);
        }
        let _ = write!(out, " cookie={} ", hex_alt(f.cookie));
        f.match_.format(OFP_DEFAULT_PRIORITY, out);
        if !f.instructions.is_empty() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            out.push_str("actions=");
            format_instructions(&f.instructions, out);
        }
    }
}

/// A monitor reply: flow updates, in answer to a request (its xid) or unsolicited (xid 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowMonitorReply {
    pub updates: Vec<FlowUpdate>,
}

impl FlowMonitorReply {
    /// The updates as OVS sends them in `version` (`ofputil_start_flow_update`,
    /// `ofputil_append_flow_update`): messages of at most 65535 bytes, all but the last flagged
    /// "more", never an update split. Updates the version cannot carry
    /// ([`FlowUpdate::fits_version`]) are left out. Fails only for an update too big for one message.
    pub fn encode_replies(&self, version: u8, xid: u32) -> Result<Vec<Bytes>, EntryTooLong> {
        let raw = Raw::for_type(MsgType::FlowMonitorStatsReply, version).unwrap_or(Raw::Ofpst14FlowMonitorReply);
        let mut b = MultipartBuilder::new(raw, version, xid);
        for u in self.updates.iter().filter(|u| u.fits_version(version)) {
            b.append_with(|buf| u.encode(raw, version, buf))?;
        }
        Ok(b.finish())
    }
}

impl Body for FlowMonitorReply {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        Ok(FlowMonitorReply { updates: decode_all(r, |r| FlowUpdate::decode(cx.raw, cx.version, r))? })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        for u in &self.updates {
            u.encode(cx.raw, cx.version, buf);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        for u in &self.updates {
            u.format(out);
        }
    }

    fn print_undecodable(cx: Cx, r: &mut Reader, _err: OfpErr, out: &mut String, _verbosity: u8) -> Option<OfpErr> {
        print_prefix(r, |r| FlowUpdate::decode(cx.raw, cx.version, r), FlowUpdate::format, out)
    }
}

/// The message that cancels monitor `id` in `version` (OVS `ofputil_encode_flow_monitor_cancel`,
/// plus the match OF1.4+ entries need: see [`FlowMonitor::delete`]). `None` outside OF1.0–1.5.
pub fn cancel_message(version: u8, xid: u32, id: u32) -> Option<OfpMsg> {
    let body = if version >= OFP14_VERSION {
        Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors: vec![FlowMonitor::delete(id)] })
    } else {
        Message::FlowMonitorCancel(id)
    };
    OfpMsg::try_new(version, xid, body)
}

/// The message that tells a controller its flow monitoring paused, as OVS sends it in `version`
/// (xid 0; OVS `ofputil_encode_flow_monitor_pause`): NXT/ONFT_FLOW_MONITOR_PAUSED up to OF1.3, an
/// OFPMP_FLOW_MONITOR reply holding one [`FlowUpdate::Paused`] from OF1.4. `None` outside OF1.0–1.5.
pub fn paused_message(version: u8) -> Option<OfpMsg> {
    pause_event_message(version, FlowUpdate::Paused, Message::FlowMonitorPaused)
}

/// Like [`paused_message`], for "resumed" (OVS sends it after the updates that were held back).
pub fn resumed_message(version: u8) -> Option<OfpMsg> {
    pause_event_message(version, FlowUpdate::Resumed, Message::FlowMonitorResumed)
}

fn pause_event_message(version: u8, update: FlowUpdate, before_of14: Message) -> Option<OfpMsg> {
    let body = if version >= OFP14_VERSION {
        Message::FlowMonitorStatsReply(FlowMonitorReply { updates: vec![update] })
    } else {
        before_of14
    };
    OfpMsg::try_new(version, 0, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;
    use crate::print::{ofp_to_string, parse_hex};
    use crate::raw::OFPSF_REPLY_MORE;

    const ALL_FLAGS: u16 = MonitorFlags::INITIAL
        | MonitorFlags::ADD
        | MonitorFlags::REMOVED
        | MonitorFlags::MODIFY
        | MonitorFlags::INSTRUCTIONS
        | MonitorFlags::ONLY_OWN;

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }

    /// `msg` encodes to exactly `want`, and `want` decodes to exactly `msg`.
    fn assert_wire(msg: &OfpMsg, want: &str) {
        let want = hex(want);
        assert_eq!(msg.to_bytes().to_vec(), want, "encoding {msg:?}");
        assert_eq!(&OfpMsg::decode(&Bytes::from(want)).unwrap(), msg);
    }

    fn in_port(p: u32) -> Match {
        let mut m = Match::catchall();
        m.set_in_port(p);
        m
    }

    fn arp() -> Match {
        let mut m = Match::catchall();
        m.set_default_packet_type();
        m.set_dl_type(0x0806);
        m
    }

    fn request(version: u8, xid: u32, monitors: Vec<FlowMonitor>) -> OfpMsg {
        OfpMsg::new(version, xid, Message::FlowMonitorStatsRequest(FlowMonitorRequest { monitors }))
    }

    fn reply(version: u8, xid: u32, updates: Vec<FlowUpdate>) -> OfpMsg {
        OfpMsg::new(version, xid, Message::FlowMonitorStatsReply(FlowMonitorReply { updates }))
    }

    #[test]
    fn nx_request_of10_two_monitors() {
        // OVS's "FLOW_MONITOR request" ofp-print test.
        let a =
            FlowMonitor { out_port: port_no::LOCAL, table_id: 1, ..FlowMonitor::new(16384, MonitorFlags(ALL_FLAGS)) };
        let b = FlowMonitor {
            table_id: 2,
            match_: in_port(1),
            ..FlowMonitor::new(8192, MonitorFlags(MonitorFlags::REMOVED))
        };
        let msg = request(1, 4, vec![a, b]);
        assert_eq!(msg.raw, Raw::NxstFlowMonitorRequest);
        assert_wire(
            &msg,
            "0110004000000004ffff000000002320000000020000000000004000003ffffe0000010000000000\
             000020000004ffff00060200000000000000000200010000",
        );
        assert_eq!(
            ofp_to_string(&msg.to_bytes(), 1),
            "NXST_FLOW_MONITOR request (xid=0x4):\n id=16384 flags=initial,add,delete,modify,actions,own \
             out_port=LOCAL table=1\n id=8192 flags=delete table=2 in_port=1\n"
        );
    }

    #[test]
    fn nx_request_of12_uses_of11_header() {
        let m = FlowMonitor { out_port: 3, ..FlowMonitor::new(1, MonitorFlags(MonitorFlags::ADD)) };
        assert_wire(
            &request(3, 9, vec![m]),
            "0312002800000009ffff0000000000000000232000000002\
             00000001000200030000ff0000000000",
        );
    }

    #[test]
    fn onf_request_of13() {
        // ovs-ofctl monitor -O OpenFlow13, from the captured sessions.
        let msg = request(4, 2, vec![FlowMonitor::new(0, MonitorFlags(ALL_FLAGS))]);
        assert_eq!(msg.raw, Raw::Onfst13FlowMonitorRequest);
        assert_wire(
            &msg,
            "0412003000000002ffff0000000000004f4e46000000074e00000000003f0004ffffffffff0000000001000400000000",
        );
        // match_len counts the OXM header and fields, without padding.
        let m = FlowMonitor { match_: in_port(1), out_port: 7, table_id: 0, ..FlowMonitor::new(5, MonitorFlags(2)) };
        assert_wire(
            &request(4, 3, vec![m]),
            "0412003800000003ffff0000000000004f4e46000000074e\
             000000050002000c0000000700000000\
             0001000c800000040000000100000000",
        );
    }

    #[test]
    fn of14_and_of15_requests() {
        let flags = MonitorFlags(ALL_FLAGS & !MonitorFlags::INITIAL);
        // ovs-ofctl monitor -O OpenFlow14, from the captured sessions.
        let msg = request(5, 2, vec![FlowMonitor::new(0, flags)]);
        assert_eq!(msg.raw, Raw::Ofpst14FlowMonitorRequest);
        assert_wire(&msg, "0512002800000002001000000000000000000000ffffffffffffffff005eff000001000400000000");
        let m = FlowMonitor {
            command: MonitorCommand::Modify,
            out_port: port_no::CONTROLLER,
            out_group: 3,
            table_id: 4,
            match_: in_port(1),
            ..FlowMonitor::new(7, MonitorFlags(MonitorFlags::MODIFY))
        };
        let msg = request(6, 1, vec![m, FlowMonitor::delete(8)]);
        assert_wire(
            &msg,
            "0612004800000001001000000000000000000007fffffffd000000030008040100\
             01000c800000040000000100000000\
             00000008000000000000000000000002\
             0001000400000000",
        );
        assert_eq!(
            ofp_to_string(&msg.to_bytes(), 1),
            "OFPST_FLOW_MONITOR request (OF1.5) (xid=0x1):\n id=7 flags=modify out_port=CONTROLLER out_group=3 \
             table=4 in_port=1\n id=8 command=delete\n"
        );
    }

    #[test]
    fn nicira_flag_bits_map_to_of14_bits() {
        assert_eq!(MonitorFlags::from_nx(0x3f), MonitorFlags(ALL_FLAGS));
        assert_eq!(MonitorFlags(ALL_FLAGS | MonitorFlags::NO_ABBREV).to_nx(), 0x3f);
        assert_eq!(MonitorFlags(MonitorFlags::ONLY_OWN).to_nx(), 0x20);
    }

    #[test]
    fn nx_reply_of10() {
        // OVS's "FLOW_MONITOR reply" ofp-print test.
        let full = FlowUpdateFull {
            event: FlowUpdateEvent::Removed,
            reason: 5,
            idle_timeout: 5,
            hard_timeout: 16,
            table_id: 1,
            cookie: 0x1234_5678_9abc_def0,
            match_: in_port(1),
            ..FlowUpdateFull::default()
        };
        let msg = reply(1, 4, vec![FlowUpdate::Full(Box::new(full)), FlowUpdate::Abbrev { xid: 100_000 }]);
        assert_wire(
            &msg,
            "0111004000000004ffff000000002320000000020000000000200001000580000005001000060100123456789abcdef0\
             0000000200010000000800030001 86a0",
        );
        assert_eq!(
            ofp_to_string(&msg.to_bytes(), 1),
            "NXST_FLOW_MONITOR reply (xid=0x4):\n event=DELETED reason=eviction table=1 idle_timeout=5 \
             hard_timeout=16 cookie=0x123456789abcdef0 in_port=1\n event=ABBREV xid=0x186a0\n"
        );
    }

    fn modified_arp_output3() -> FlowUpdate {
        FlowUpdate::Full(Box::new(FlowUpdateFull {
            event: FlowUpdateEvent::Modified,
            priority: 77,
            match_: arp(),
            instructions: Instructions::apply([Action::Output { port: 3, max_len: 0 }]),
            ..FlowUpdateFull::default()
        }))
    }

    #[test]
    fn onf_and_of14_replies_as_ovs_vswitchd_sent_them() {
        // The same modification reported to an OF1.3 and an OF1.4 monitor (captured sessions).
        assert_wire(
            &reply(4, 0, vec![modified_arp_output3()]),
            "0413005800000000ffff0000000000004f4e46000000074e004000020000004d00000000000a000000000000000000\
             000001000a80000a020806000000000000000400180000000000000010000000030000000000000000",
        );
        let msg = reply(5, 0, vec![modified_arp_output3()]);
        assert_wire(
            &msg,
            "0513005000000000001000000000000000400003000000000000004d0000000000000000000000000001000a80000a\
             020806000000000000000400180000000000000010000000030000000000000000",
        );
        assert_eq!(
            ofp_to_string(&msg.to_bytes(), 1),
            "OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=MODIFIED table=0 cookie=0 arp actions=output:3\n"
        );
    }

    #[test]
    fn nicira_forms_send_initial_as_added() {
        let initial = |v| {
            let mut f = FlowUpdateFull { event: FlowUpdateEvent::Initial, ..FlowUpdateFull::default() };
            f.table_id = v;
            reply(v, 1, vec![FlowUpdate::Full(Box::new(f))])
        };
        for v in 1..=4 {
            let back = OfpMsg::decode(&initial(v).to_bytes()).unwrap();
            let Message::FlowMonitorStatsReply(r) = back.body else { panic!() };
            let FlowUpdate::Full(f) = &r.updates[0] else { panic!() };
            assert_eq!(f.event, FlowUpdateEvent::Added, "OF version {v}");
        }
        assert_eq!(&initial(5).to_bytes()[16..20], &[0, 32, 0, 0], "OF1.4 keeps INITIAL (event 0)");
    }

    #[test]
    fn cancel_in_every_version() {
        let bytes = |v| cancel_message(v, 3, 16_920_640).unwrap().to_bytes().to_vec();
        assert_eq!(bytes(1), hex("0104001400000003000023200000001501023040"));
        assert_eq!(bytes(3), hex("0304001400000003000023200000001501023040"));
        assert_eq!(bytes(4), hex("04040014000000034f4e46000000074e01023040"));
        let of14 = "0512002800000003001000000000000001023040000000000000000000000002 0001000400000000";
        assert_eq!(bytes(5), hex(of14));
        assert_eq!(
            ofp_to_string(&bytes(5), 1),
            "OFPST_FLOW_MONITOR request (OF1.4) (xid=0x3):\n id=16920640 command=delete\n"
        );
        assert_eq!(ofp_to_string(&bytes(4), 1), "ONFT_FLOW_MONITOR_CANCEL (OF1.3) (xid=0x3): id=16920640\n");
        assert!(cancel_message(7, 3, 1).is_none());
    }

    #[test]
    fn paused_and_resumed_in_every_version() {
        let bytes = |m: Option<OfpMsg>| m.unwrap().to_bytes().to_vec();
        assert_eq!(bytes(paused_message(1)), hex("01040010000000000000232000000016"));
        assert_eq!(bytes(resumed_message(2)), hex("02040010000000000000232000000017"));
        assert_eq!(bytes(paused_message(4)), hex("04040010000000004f4e46000000074f"));
        assert_eq!(bytes(resumed_message(4)), hex("04040010000000004f4e460000000750"));
        assert_eq!(bytes(paused_message(5)), hex("051300180000000000100000000000000008000500000000"));
        assert_eq!(bytes(resumed_message(6)), hex("061300180000000000100000000000000008000600000000"));
        assert_eq!(
            ofp_to_string(&bytes(paused_message(5)), 1),
            "OFPST_FLOW_MONITOR reply (OF1.4) (xid=0x0):\n event=PAUSED\n"
        );
        assert!(paused_message(0).is_none());
    }

    #[test]
    fn paused_and_resumed_updates_only_travel_in_of14_replies() {
        assert!(!FlowUpdate::Paused.fits_version(4));
        assert!(FlowUpdate::Resumed.fits_version(5));
        assert!(FlowUpdate::Abbrev { xid: 1 }.fits_version(1));
        let r =
            FlowMonitorReply { updates: vec![FlowUpdate::Paused, FlowUpdate::Abbrev { xid: 9 }, FlowUpdate::Resumed] };
        let msgs = r.encode_replies(4, 0).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(&msgs[0][24..], &hex("0008000300000009")[..]);
        let msgs = r.encode_replies(5, 0).unwrap();
        assert_eq!(&msgs[0][16..], &hex("000800050000000000080004000000090008000600000000")[..]);
    }

    #[test]
    fn long_update_lists_split_under_64k() {
        for version in [1, 4, 5] {
            let updates: Vec<FlowUpdate> = (0..3000u16)
                .map(|i| {
                    FlowUpdate::Full(Box::new(FlowUpdateFull {
                        priority: i,
                        match_: in_port(i.into()),
                        instructions: Instructions::apply([Action::Output { port: 1, max_len: 0 }]),
                        ..FlowUpdateFull::default()
                    }))
                })
                .collect();
            let r = FlowMonitorReply { updates };
            let msgs = r.encode_replies(version, 0).unwrap();
            assert!(msgs.len() > 1);
            let mut back = vec![];
            for (i, m) in msgs.iter().enumerate() {
                assert!(m.len() <= crate::header::MAX_MSG_LEN);
                let d = OfpMsg::decode(m).unwrap();
                assert_eq!(d.stats_flags, if i + 1 < msgs.len() { OFPSF_REPLY_MORE } else { 0 });
                let Message::FlowMonitorStatsReply(part) = d.body else { panic!() };
                back.extend(part.updates);
            }
            assert_eq!(back, r.updates, "OF version {version}");
        }
    }

    #[test]
    fn long_requests_split_with_req_more() {
        let monitors: Vec<FlowMonitor> =
            (0..5000).map(|i| FlowMonitor::new(i, MonitorFlags(MonitorFlags::ADD))).collect();
        let req = FlowMonitorRequest { monitors };
        let msgs = req.encode_requests(5, 8).unwrap();
        assert_eq!(msgs.len(), 2, "5000 * 24 bytes need two messages");
        let mut back = vec![];
        for m in &msgs {
            let Message::FlowMonitorStatsRequest(part) = OfpMsg::decode(m).unwrap().body else { panic!() };
            back.extend(part.monitors);
        }
        assert_eq!(back, req.monitors);
    }

    /// The hand-built corpus shared with tests/monitor_interop.rs: each message fails to decode
    /// with exactly the error OVS 3.1 reports for it (or decodes, for "ok").
    #[test]
    fn hand_built_corpus_errors() {
        let corpus = include_str!("../../tests/data/flow_monitor_cases.txt");
        let mut n = 0;
        for line in corpus.lines().filter(|l| !l.starts_with('#')) {
            let mut it = line.split(' ');
            let (name, want, h) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            let got = match OfpMsg::decode(&Bytes::from(hex(h))) {
                Ok(m) => {
                    // Non-canonical input re-encodes canonically, and that decodes to the same value.
                    assert_eq!(OfpMsg::decode(&m.to_bytes()).unwrap(), m, "{name}");
                    "ok"
                }
                Err(e) => e.error.name(),
            };
            assert_eq!(got, want, "{name}");
            n += 1;
        }
        assert!(n > 50, "corpus went missing: {n}");
    }

    #[test]
    fn printer_shows_entries_before_a_bad_one() {
        let b = hex("0111002800000005ffff00000000232000000002000000000008000300000abc0008000900000000");
        assert_eq!(
            ofp_to_string(&b, 1).lines().take(3).collect::<Vec<_>>(),
            ["NXST_FLOW_MONITOR reply (xid=0x5):", " event=ABBREV xid=0xabc", "***decode error: NXBRC_FM_BAD_EVENT***"]
        );
    }
}
