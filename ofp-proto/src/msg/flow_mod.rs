//! OFPT_FLOW_MOD (OF1.0 `ofp10_flow_mod`, OF1.1+ `ofp11_flow_mod`) and NXT_FLOW_MOD, decoded and
//! validated as OVS `ofputil_decode_flow_mod` does, encoded as `ofputil_encode_flow_mod`, printed
//! as `ofputil_flow_mod_format`.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::actions::{check_instructions, CheckParams};
use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::header::{OFP10_VERSION, OFP11_VERSION, OFP12_VERSION, OFP13_VERSION, OFP14_VERSION};
use crate::instructions::Instructions;
use crate::msg::{Body, Cx};
use crate::ofmatch::ofp10::{OFP10_MATCH_LEN, OFPFW10_ALL};
use crate::ofmatch::{nxm, ofp11, Match};
use crate::port_no;
use crate::raw::Raw;

/// "Any group" in out_group.
pub const OFPG_ANY: u32 = 0xffff_ffff;
/// Table id meaning "all tables" (deletes) / "unspecified".
pub const OFPTT_ALL: u8 = 0xff;
/// "No buffered packet".
pub const NO_BUFFER: u32 = u32::MAX;

/// OFPFC_* commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FlowModCommand {
    Add = 0,
    Modify = 1,
    ModifyStrict = 2,
    Delete = 3,
    DeleteStrict = 4,
}

impl FlowModCommand {
    pub fn from_wire(v: u16) -> Option<FlowModCommand> {
        use FlowModCommand::*;
        Some(match v {
            0 => Add,
            1 => Modify,
            2 => ModifyStrict,
            3 => Delete,
            4 => DeleteStrict,
            _ => return None,
        })
    }

    pub fn is_delete(self) -> bool {
        matches!(self, FlowModCommand::Delete | FlowModCommand::DeleteStrict)
    }

    pub fn is_modify(self) -> bool {
        matches!(self, FlowModCommand::Modify | FlowModCommand::ModifyStrict)
    }

    /// OVS's text: ADD, MOD, MOD_STRICT, DEL, DEL_STRICT.
    pub fn name(self) -> &'static str {
        use FlowModCommand::*;
        match self {
            Add => "ADD",
            Modify => "MOD",
            ModifyStrict => "MOD_STRICT",
            Delete => "DEL",
            DeleteStrict => "DEL_STRICT",
        }
    }
}

/// Flow flags in OVS's version-independent form (`enum ofputil_flow_mod_flags`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlowModFlags(pub u16);

impl FlowModFlags {
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    pub const NO_PKT_COUNTS: u16 = 1 << 1;
    pub const NO_BYT_COUNTS: u16 = 1 << 2;
    pub const CHECK_OVERLAP: u16 = 1 << 3;
    pub const RESET_COUNTS: u16 = 1 << 4;
    /// OF1.0 emergency flow (never accepted).
    pub const EMERG: u16 = 1 << 5;

    pub fn has(self, flag: u16) -> bool {
        self.0 & flag != 0
    }

    /// (internal flag, wire bit, first version, last version)
    const TABLE: [(u16, u16, u8, u8); 6] = [
        (Self::SEND_FLOW_REM, 1 << 0, OFP10_VERSION, u8::MAX),
        (Self::CHECK_OVERLAP, 1 << 1, OFP10_VERSION, u8::MAX),
        (Self::EMERG, 1 << 2, OFP10_VERSION, OFP10_VERSION),
        (Self::RESET_COUNTS, 1 << 2, OFP12_VERSION, u8::MAX),
        (Self::NO_PKT_COUNTS, 1 << 3, OFP13_VERSION, u8::MAX),
        (Self::NO_BYT_COUNTS, 1 << 4, OFP13_VERSION, u8::MAX),
    ];

    /// Decodes wire flags (OVS `ofputil_decode_flow_mod_flags`); `add` marks an OFPFC_ADD, which
    /// in OF1.0/1.1 always resets counters. Unknown bits: OFPFMFC_BAD_FLAGS.
    pub fn decode(raw: u16, add: bool, version: u8) -> Result<FlowModFlags, OfpErr> {
        let mut left = raw;
        let mut flags = 0;
        for (flag, bit, lo, hi) in Self::TABLE {
            if raw & bit != 0 && (lo..=hi).contains(&version) {
                left &= !bit;
                flags |= flag;
            }
        }
        if (version == OFP10_VERSION || version == OFP11_VERSION) && add {
            flags |= Self::RESET_COUNTS;
        }
        if left != 0 {
            return Err(OfpErr::OFPFMFC_BAD_FLAGS);
        }
        Ok(FlowModFlags(flags))
    }

    pub fn encode(self, version: u8) -> u16 {
        Self::TABLE
            .iter()
            .filter(|(flag, _, lo, hi)| self.has(*flag) && (*lo..=*hi).contains(&version))
            .fold(0, |acc, (_, bit, _, _)| acc | bit)
    }

    /// The names OVS prints for the set flags, in its order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (Self::SEND_FLOW_REM, "send_flow_rem"),
            (Self::CHECK_OVERLAP, "check_overlap"),
            (Self::RESET_COUNTS, "reset_counts"),
            (Self::NO_PKT_COUNTS, "no_packet_counts"),
            (Self::NO_BYT_COUNTS, "no_byte_counts"),
        ]
        .into_iter()
        .filter(move |(flag, _)| self.has(*flag))
        .map(|(_, name)| name)
    }

    /// OVS `ofputil_flow_mod_flags_format`: each set flag's name and a space.
    pub fn format(self, out: &mut String) {
        for name in self.names() {
            out.push_str(name);
            out.push(' ');
        }
    }
}

/// A flow table modification, version independent (OVS `struct ofputil_flow_mod`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowMod {
    pub command: FlowModCommand,
    /// Modify/delete only flows whose cookie matches `cookie` under `cookie_mask`.
    pub cookie: u64,
    pub cookie_mask: u64,
    /// Cookie for added (or, when `modify_cookie`, modified) flows; u64::MAX: unchanged.
    pub new_cookie: u64,
    /// OF1.0/NXM modifies change the cookie to `new_cookie`; OF1.1+ ones never do.
    pub modify_cookie: bool,
    /// 255: unspecified (add to table 0, modify/delete in all tables).
    pub table_id: u8,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub priority: u16,
    pub buffer_id: u32,
    /// For deletes: only flows that output here (OFPP_ANY: any).
    pub out_port: u32,
    pub out_group: u32,
    pub flags: FlowModFlags,
    /// OF1.4+ eviction importance (adds only).
    pub importance: u16,
    pub match_: Match,
    pub instructions: Instructions,
}

impl Default for FlowMod {
    fn default() -> Self {
        FlowMod {
            command: FlowModCommand::Add,
            cookie: 0,
            cookie_mask: 0,
            new_cookie: 0,
            modify_cookie: false,
            table_id: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            priority: crate::ofmatch::OFP_DEFAULT_PRIORITY,
            buffer_id: NO_BUFFER,
            out_port: port_no::ANY,
            out_group: OFPG_ANY,
            flags: FlowModFlags::default(),
            importance: 0,
            match_: Match::catchall(),
            instructions: Instructions::default(),
        }
    }
}

/// How a switch decodes flow mods on one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowModOpts {
    /// NXT_FLOW_MOD_TABLE_ID enabled: OF1.0/NXM commands carry the table id in the high byte.
    pub table_id_ext: bool,
    pub max_ports: u32,
    /// Number of tables (255: unchecked).
    pub n_tables: u8,
}

impl Default for FlowModOpts {
    /// What `ovs-ofctl ofp-print` decodes with.
    fn default() -> Self {
        FlowModOpts { table_id_ext: true, max_ports: port_no::MAX_PHYSICAL, n_tables: 255 }
    }
}

fn cmd_err(v: u16) -> Result<FlowModCommand, OfpErr> {
    FlowModCommand::from_wire(v).ok_or(OfpErr::OFPFMFC_BAD_COMMAND)
}

impl FlowMod {
    /// The fields OF1.0 and NXM flow mods share, from the cookie to the flags.
    fn put_of10_fields(&self, buf: &mut BytesMut, tid_command: u16, flags: u16) {
        buf.put_u64(self.new_cookie);
        buf.put_u16(tid_command);
        buf.put_u16(self.idle_timeout);
        buf.put_u16(self.hard_timeout);
        buf.put_u16(self.priority);
        buf.put_u32(self.buffer_id);
        buf.put_u16(port_no::to_ofp10_wire(self.out_port));
        buf.put_u16(flags);
    }

    /// Decodes and validates a flow mod as a switch with `opts` would.
    pub fn decode_with(cx: Cx, r: &mut Reader, opts: &FlowModOpts) -> Result<FlowMod, OfpErr> {
        FlowMod::decode_memo(cx, r, opts, None)
    }

    /// [`FlowMod::decode_with`], taking the instructions from `memo` when their bytes are the ones
    /// it last decoded (and remembering them there otherwise).
    fn decode_memo(
        cx: Cx,
        r: &mut Reader,
        opts: &FlowModOpts,
        memo: Option<&mut InstructionsMemo>,
    ) -> Result<FlowMod, OfpErr> {
        let mut fm = FlowMod::default();
        FlowMod::decode_memo_into(cx, r, opts, memo, &mut fm)?;
        Ok(fm)
    }

    /// [`FlowMod::decode_memo`] into `fm`, which must start as `FlowMod::default()`.
    fn decode_memo_into(
        cx: Cx,
        r: &mut Reader,
        opts: &FlowModOpts,
        memo: Option<&mut InstructionsMemo>,
        fm: &mut FlowMod,
    ) -> Result<(), OfpErr> {
        let version = cx.version;
        let raw_flags;
        if cx.raw == Raw::Ofpt11FlowMod {
            let cookie = r.u64()?;
            let cookie_mask = r.u64()?;
            let table_id = r.u8()?;
            let command = r.u8()?;
            fm.idle_timeout = r.u16()?;
            fm.hard_timeout = r.u16()?;
            fm.priority = r.u16()?;
            fm.buffer_id = r.u32()?;
            let out_port = r.u32()?;
            let out_group = r.u32()?;
            raw_flags = r.u16()?;
            let importance = r.u16()?;
            ofp11::pull_ofp11_match_into(r, &mut fm.match_)?;

            let add = command == FlowModCommand::Add as u8;
            let modify = matches!(command, 1 | 2);
            let delete = matches!(command, 3 | 4);
            if add || (version == OFP11_VERSION && modify && cookie_mask == 0) {
                fm.new_cookie = cookie;
            } else {
                fm.cookie = cookie;
                fm.cookie_mask = cookie_mask;
                fm.new_cookie = u64::MAX;
            }
            // OF1.1 never allows table 255; OF1.2+ only for deletes.
            if table_id == OFPTT_ALL && (version == OFP11_VERSION || !delete) {
                return Err(OfpErr::OFPFMFC_BAD_TABLE_ID);
            }
            fm.table_id = table_id;
            fm.importance = if version >= OFP14_VERSION && add { importance } else { 0 };
            fm.out_port = port_no::from_ofp11(out_port)?;
            fm.out_group = if delete { out_group } else { OFPG_ANY };
            fm.command = cmd_err(command.into())?;
        } else {
            let command;
            if cx.raw == Raw::Ofpt10FlowMod {
                let m: [u8; OFP10_MATCH_LEN] = r.array()?;
                fm.match_ = Match::from_ofp10(&m);
                fm.match_.normalize();
                fm.new_cookie = r.u64()?;
                command = r.u16()?;
                fm.idle_timeout = r.u16()?;
                fm.hard_timeout = r.u16()?;
                let priority = r.u16()?;
                // OF1.0 exact-match flows always have the highest priority.
                let wildcards = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
                fm.priority = if wildcards & OFPFW10_ALL != 0 { priority } else { u16::MAX };
                fm.buffer_id = r.u32()?;
                fm.out_port = port_no::ofp10_to_ofp11(r.u16()?);
                raw_flags = r.u16()?;
            } else {
                fm.new_cookie = r.u64()?;
                command = r.u16()?;
                fm.idle_timeout = r.u16()?;
                fm.hard_timeout = r.u16()?;
                fm.priority = r.u16()?;
                fm.buffer_id = r.u32()?;
                fm.out_port = port_no::ofp10_to_ofp11(r.u16()?);
                raw_flags = r.u16()?;
                let match_len = usize::from(r.u16()?);
                r.skip(6)?;
                let mut cookie = (0, 0);
                nxm::pull_nx_match_into(r, match_len, true, Some(&mut cookie), &mut fm.match_)?;
                (fm.cookie, fm.cookie_mask) = cookie;
                if command & 0xff == FlowModCommand::Add as u16 && fm.cookie_mask != 0 {
                    return Err(OfpErr::NXBRC_NXM_INVALID);
                }
            }
            fm.modify_cookie = fm.new_cookie != u64::MAX;
            if opts.table_id_ext {
                fm.command = cmd_err(command & 0xff)?;
                fm.table_id = (command >> 8) as u8;
            } else {
                fm.command = cmd_err(command)?;
                fm.table_id = OFPTT_ALL;
            }
        }

        fm.instructions = match memo {
            // Compared in place: taking the bytes costs reference counting, a hit needs none.
            Some(m) if m.version == version && m.wire == r.peek_rest() => m.instructions.clone(),
            Some(m) => {
                let wire = r.rest();
                let decoded = Instructions::decode(&wire, version)?;
                *m = InstructionsMemo { version, wire, instructions: decoded.clone() };
                decoded
            }
            None => Instructions::decode(&r.rest(), version)?,
        };
        fm.flags = FlowModFlags::decode(raw_flags, fm.command == FlowModCommand::Add, version)?;
        if fm.flags.has(FlowModFlags::EMERG) {
            // OVS has no emergency flow cache.
            return Err(if fm.hard_timeout != 0 || fm.idle_timeout != 0 {
                OfpErr::OFPFMFC_BAD_EMERG_TIMEOUT
            } else {
                OfpErr::OFPFMFC_TABLE_FULL
            });
        }
        let cp = CheckParams { max_ports: opts.max_ports, table_id: fm.table_id, n_tables: opts.n_tables };
        check_instructions(&mut fm.instructions, &fm.match_, version, &cp)
    }

    /// Encodes for `raw` in `version`. OF1.0 and NXM flow mods carry the table id in the command's
    /// high byte (the NXT_FLOW_MOD_TABLE_ID form, which `decode` assumes).
    pub fn encode_raw(&self, raw: Raw, version: u8, buf: &mut BytesMut) {
        let flags = self.flags.encode(version);
        let tid_command = u16::from(self.command as u8) | u16::from(self.table_id) << 8;
        match raw {
            Raw::Ofpt11FlowMod => {
                let add = self.command == FlowModCommand::Add;
                let keep_new = add || (version == OFP11_VERSION && self.command.is_modify() && self.cookie_mask == 0);
                buf.put_u64(if keep_new { self.new_cookie } else { self.cookie & self.cookie_mask });
                buf.put_u64(self.cookie_mask);
                let table_ok = self.table_id != OFPTT_ALL || (version > OFP11_VERSION && self.command.is_delete());
                buf.put_u8(if table_ok { self.table_id } else { 0 });
                buf.put_u8(self.command as u8);
                buf.put_u16(self.idle_timeout);
                buf.put_u16(self.hard_timeout);
                buf.put_u16(self.priority);
                buf.put_u32(self.buffer_id);
                buf.put_u32(self.out_port);
                buf.put_u32(self.out_group);
                buf.put_u16(flags);
                buf.put_u16(if version >= OFP14_VERSION && add { self.importance } else { 0 });
                ofp11::put_ofp11_match(buf, &self.match_, version);
            }
            Raw::Ofpt10FlowMod => {
                buf.put_slice(&self.match_.to_ofp10());
                self.put_of10_fields(buf, tid_command, flags);
            }
            _ => {
                let start = buf.len();
                self.put_of10_fields(buf, tid_command, flags);
                buf.put_u16(0);
                buf.put_bytes(0, 6);
                let len = nxm::put_nx_match(buf, &self.match_, self.cookie, self.cookie_mask);
                buf[start + 24..start + 26].copy_from_slice(&(len as u16).to_be_bytes());
            }
        }
        self.instructions.encode(version, buf);
    }
}

/// The instructions a [`FlowModDecoder`] decoded last, with their bytes.
#[derive(Clone, Debug, Default)]
struct InstructionsMemo {
    version: u8,
    wire: Bytes,
    instructions: Instructions,
}

/// Decodes a run of flow mods with the same options ([`FlowMod::decode_with`]), decoding
/// instructions only when their bytes differ from the previous flow mod's: a batch or bundle of
/// flow mods usually repeats its actions.
#[derive(Clone, Debug)]
pub struct FlowModDecoder {
    opts: FlowModOpts,
    memo: InstructionsMemo,
}

impl FlowModDecoder {
    pub fn new(opts: FlowModOpts) -> FlowModDecoder {
        FlowModDecoder { opts, memo: InstructionsMemo::default() }
    }

    /// Decodes the body of a flow mod (`r` past its headers), exactly as `decode_with` does.
    pub fn decode(&mut self, cx: Cx, r: &mut Reader) -> Result<FlowMod, OfpErr> {
        FlowMod::decode_memo(cx, r, &self.opts, Some(&mut self.memo))
    }

    /// [`FlowModDecoder::decode`] into `fm`, whatever it held: a caller decoding many flow mods
    /// one at a time keeps one (nearly 900 bytes) instead of moving each decoded one around.
    /// After an error `fm` holds what was decoded up to it.
    pub fn decode_into(&mut self, cx: Cx, r: &mut Reader, fm: &mut FlowMod) -> Result<(), OfpErr> {
        *fm = FlowMod::default();
        FlowMod::decode_memo_into(cx, r, &self.opts, Some(&mut self.memo), fm)
    }
}

impl Body for FlowMod {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        FlowMod::decode_with(cx, r, &FlowModOpts::default())
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        self.encode_raw(cx.raw, cx.version, buf)
    }

    fn print(&self, cx: Cx, out: &mut String, _verbosity: u8) {
        out.push(' ');
        out.push_str(self.command.name());
        if self.table_id != 0 {
            let _ = write!(out, " table:{}", self.table_id);
        }
        out.push(' ');
        self.match_.format(self.priority, out);
        if !out.ends_with(' ') {
            out.push(' ');
        }
        if self.new_cookie != 0 && self.new_cookie != u64::MAX {
            let _ = write!(out, "cookie:0x{:x} ", self.new_cookie);
        }
        if self.cookie_mask != 0 {
            let _ = write!(out, "cookie:0x{:x}/0x{:x} ", self.cookie, self.cookie_mask);
        }
        if self.idle_timeout != 0 {
            let _ = write!(out, "idle:{} ", self.idle_timeout);
        }
        if self.hard_timeout != 0 {
            let _ = write!(out, "hard:{} ", self.hard_timeout);
        }
        if self.importance != 0 {
            let _ = write!(out, "importance:{} ", self.importance);
        }
        if self.buffer_id != NO_BUFFER {
            let _ = write!(out, "buf:0x{:x} ", self.buffer_id);
        }
        if self.out_port != port_no::ANY {
            out.push_str("out_port:");
            port_no::format_port(self.out_port, out);
            out.push(' ');
        }
        let mut flags = self.flags;
        if cx.version == OFP10_VERSION || cx.version == OFP11_VERSION {
            // OF1.0/1.1 have no such flag; every add resets counters.
            flags.0 &= !FlowModFlags::RESET_COUNTS;
        }
        flags.format(out);
        out.push_str("actions=");
        crate::actions::format_instructions(&self.instructions, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Message, OfpMsg};
    use crate::print::{first_line, parse_hex};
    use bytes::Bytes;

    fn decode(hex: &str) -> Result<OfpMsg, OfpErr> {
        OfpMsg::decode(&Bytes::from(parse_hex(hex).unwrap())).map_err(|e| e.error)
    }

    #[test]
    fn of13_add_round_trips() {
        // ovs-ofctl -O OpenFlow13 add-flow: priority=5,tcp,nw_src=10.0.0.0/8,tp_dst=80,
        // actions=set_field:1.2.3.4->ip_dst,output:3,controller:100
        let hex =
            "040e009000000001000000000000000000000000000000000000000000000005ffffffffffffffffffffffff000000000001\
                   002180000a020800800017080a000000ff000000800014010680001c02005000000000000000000400380000000000190010\
                   8000180401020304000000000000001000000003000000000000000000000010fffffffd0064000000000000";
        let msg = decode(hex).unwrap();
        let Message::FlowMod(fm) = &msg.body else { panic!() };
        assert_eq!(fm.command, FlowModCommand::Add);
        assert_eq!(fm.priority, 5);
        assert_eq!(fm.flags, FlowModFlags::default());
        assert_eq!(msg.to_bytes(), Bytes::from(parse_hex(hex).unwrap()));
        assert_eq!(
            first_line(&parse_hex(hex).unwrap()),
            "OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD priority=5,tcp,nw_src=10.0.0.0/8,tp_dst=80 \
             actions=set_field:1.2.3.4->ip_dst,output:3,CONTROLLER:100"
        );
    }

    #[test]
    fn validation_errors() {
        let hdr = |v: u8, body: &str| {
            let len = 8 + body.replace(' ', "").len() / 2;
            format!("{v:02x}0e{len:04x}00000001{}", body.replace(' ', ""))
        };
        let of13 = |table: &str, cmd: &str, flags: &str| {
            hdr(4, &format!("0000000000000000 0000000000000000 {table} {cmd} 0000 0000 8000 ffffffff ffffffff ffffffff {flags} 0000 0001 0004 00000000"))
        };
        assert_eq!(decode(&of13("00", "05", "0000")).unwrap_err(), OfpErr::OFPFMFC_BAD_COMMAND);
        assert_eq!(decode(&of13("ff", "00", "0000")).unwrap_err(), OfpErr::OFPFMFC_BAD_TABLE_ID);
        assert!(decode(&of13("ff", "03", "0000")).is_ok());
        assert_eq!(decode(&of13("00", "00", "0020")).unwrap_err(), OfpErr::OFPFMFC_BAD_FLAGS);
        // OF1.1 forbids table 255 even for deletes.
        let of11 = hdr(
            2,
            &format!(
                "0000000000000000 0000000000000000 ff 03 0000 0000 8000 ffffffff ffffffff ffffffff 0000 0000 {}",
                hex_catchall_ofp11()
            ),
        );
        assert_eq!(decode(&of11).unwrap_err(), OfpErr::OFPFMFC_BAD_TABLE_ID);
        // OF1.0 emergency flag.
        let of10 = |flags: &str, idle: &str| {
            hdr(1, &format!("003fffff{} 0000000000000000 0000 {idle} 0000 8000 ffffffff ffff {flags}", "00".repeat(36)))
        };
        assert_eq!(decode(&of10("0004", "0000")).unwrap_err(), OfpErr::OFPFMFC_TABLE_FULL);
        assert_eq!(decode(&of10("0004", "0005")).unwrap_err(), OfpErr::OFPFMFC_BAD_EMERG_TIMEOUT);
        // An add with a cookie mask in NXM.
        let nx = "01040048 00000001 00002320 0000000d 0000000000000000 0000 0000 0000 8000 ffffffff ffff 0000 0014 \
                  000000000000 00013d10 0000000000000001 ffffffffffffffff 00000000"
            .replace(' ', "");
        assert_eq!(decode(&nx).unwrap_err(), OfpErr::NXBRC_NXM_INVALID);
    }

    fn hex_catchall_ofp11() -> String {
        Match::catchall().to_ofp11().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn of10_table_id_extension() {
        // Command 0x0103: delete in table 1 when the extension is on, a bad command when off.
        let hex = format!(
            "010e0048000000020038 20ff{} 0000000000000000 0103 0000 0000 8000 ffffffff ffff 0000",
            "00".repeat(36)
        )
        .replace(' ', "");
        let b = Bytes::from(parse_hex(&hex).unwrap());
        let cx = Cx { version: 1, raw: Raw::Ofpt10FlowMod };
        let mut r = Reader::new(b.slice(8..));
        let fm = FlowMod::decode_with(cx, &mut r, &FlowModOpts::default()).unwrap();
        assert_eq!((fm.command, fm.table_id), (FlowModCommand::Delete, 1));
        let mut r = Reader::new(b.slice(8..));
        let off = FlowModOpts { table_id_ext: false, ..FlowModOpts::default() };
        assert_eq!(FlowMod::decode_with(cx, &mut r, &off), Err(OfpErr::OFPFMFC_BAD_COMMAND));
    }

    #[test]
    fn a_decoder_reuses_instructions_only_for_the_same_bytes_and_still_checks_them() {
        use crate::actions::{Action, SetField};
        use crate::flow::ETH_TYPE_IP;
        use crate::mf::MfId;
        let ip = |nw_dst: u32| {
            let mut m = Match::catchall();
            m.set_dl_type(ETH_TYPE_IP);
            m.set_nw_dst_masked(nw_dst, u32::MAX);
            m
        };
        let output = |port| Instructions::apply([Action::Output { port, max_len: 0 }]);
        let set_ip = Instructions::apply([Action::SetField(SetField::new(MfId::Ipv4Dst, 0x0102_0304))]);
        let fm = |match_, instructions| FlowMod { match_, instructions, ..FlowMod::default() };
        let fms = [
            (4, fm(ip(1), output(1))),
            (4, fm(ip(2), output(1))),
            (4, fm(ip(3), output(2))),
            (4, fm(ip(4), set_ip.clone())),
            // Same instruction bytes, but the match lacks what set_field needs: still an error.
            (4, fm(Match::catchall(), set_ip.clone())),
            (4, fm(ip(5), set_ip)),
            // Same bytes in another version.
            (5, fm(ip(6), output(2))),
            (4, fm(ip(7), output(2))),
        ];
        let opts = FlowModOpts { max_ports: 16, ..FlowModOpts::default() };
        let mut decoder = FlowModDecoder::new(opts);
        // Another decoder into one reused flow mod, which an error leaves half decoded.
        let (mut into, mut slot) = (FlowModDecoder::new(opts), FlowMod::default());
        let mut results = Vec::new();
        for (version, fm) in fms {
            let bytes = OfpMsg::new(version, 1, Message::FlowMod(fm)).to_bytes();
            let cx = Cx { version, raw: Raw::Ofpt11FlowMod };
            let once = FlowMod::decode_with(cx, &mut Reader::new(bytes.slice(8..)), &opts);
            let memo = decoder.decode(cx, &mut Reader::new(bytes.slice(8..)));
            assert_eq!(memo, once);
            let in_slot = into.decode_into(cx, &mut Reader::new(bytes.slice(8..)), &mut slot);
            assert_eq!(in_slot.map(|()| &slot), once.as_ref().map_err(|e| *e));
            results.push(memo.map(|fm| fm.instructions));
        }
        assert_eq!(results[4], Err(OfpErr::OFPBAC_MATCH_INCONSISTENT));
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 7);
    }
}
