//! OFPT_PACKET_IN (OF1.0, OF1.1, OF1.2, OF1.3–1.5) and NXT_PACKET_IN / NXT_PACKET_IN2 (OVS
//! `ofputil_decode_packet_in`, `ofputil_encode_packet_in_private`, packet-in text). The packet
//! stays a slice of the received message.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::actions::{decode_actions, encode_actions, format_actions, packet_in_reason_name, ActionList};
use crate::actions::{OFPR_ACTION, OFPR_NO_MATCH};
use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::flow::packet_to_string;
use crate::header::{OFP13_VERSION, OFP14_VERSION};
use crate::msg::{Body, Cx};
use crate::ofmatch::{nxm, Match, OFP_DEFAULT_PRIORITY};
use crate::port_no;
use crate::prop::{self, PropType};
use crate::raw::Raw;

/// Table-miss via an explicit table-miss flow (OVS internal reason; OF1.3+ say no_match).
pub const OFPR_EXPLICIT_MISS: u8 = 6;
/// Table-miss without a table-miss flow (OVS internal reason; sent as no_match).
pub const OFPR_IMPLICIT_MISS: u8 = 7;

const NXPINT_PACKET: u16 = 0;
const NXPINT_FULL_LEN: u16 = 1;
const NXPINT_BUFFER_ID: u16 = 2;
const NXPINT_TABLE_ID: u16 = 3;
const NXPINT_COOKIE: u16 = 4;
const NXPINT_REASON: u16 = 5;
const NXPINT_METADATA: u16 = 6;
const NXPINT_USERDATA: u16 = 7;
const NXPINT_CONTINUATION: u16 = 8;

const NXCPT_BRIDGE: u16 = 0x8000;
const NXCPT_STACK: u16 = 0x8001;
const NXCPT_MIRRORS: u16 = 0x8002;
const NXCPT_CONNTRACKED: u16 = 0x8003;
const NXCPT_TABLE_ID: u16 = 0x8004;
const NXCPT_COOKIE: u16 = 0x8005;
const NXCPT_ACTIONS: u16 = 0x8006;
const NXCPT_ACTION_SET: u16 = 0x8007;
const NXCPT_ODP_PORT: u16 = 0x8008;

/// Largest NXCPT_STACK entry (OVS `union mf_subvalue`).
const MAX_STACK_ENTRY: usize = 128;

/// The NXT_PACKET_IN2 continuation of a paused pipeline (`controller(pause)`): the switch's
/// private state for an NXT_RESUME (OVS `ofputil_packet_in_private` minus the public part).
/// Zero / empty members are absent on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Continuation {
    /// NXCPT_BRIDGE: the bridge's UUID, as its 16 wire bytes.
    pub bridge: [u8; 16],
    /// NXCPT_STACK entries (at most 128 bytes each), top of the stack first.
    pub stack: Vec<Bytes>,
    /// NXCPT_MIRRORS: mirrors already output to.
    pub mirrors: u32,
    /// NXCPT_CONNTRACKED.
    pub conntracked: bool,
    /// The actions still to run: one group per NXCPT_ACTIONS, each in the flow (table, cookie)
    /// that NXCPT_TABLE_ID / NXCPT_COOKIE set before it (OVS's `unroll_xlate`).
    pub actions: Vec<ContinuationActions>,
    /// NXCPT_ACTION_SET: the action set accumulated so far.
    pub action_set: ActionList,
    /// NXCPT_ODP_PORT: the datapath input port.
    pub odp_port: u32,
}

/// One NXCPT_ACTIONS group of a continuation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContinuationActions {
    pub table_id: u8,
    pub cookie: u64,
    pub actions: ActionList,
}

impl Continuation {
    /// Decodes the nested properties of NXPINT_CONTINUATION (OVS
    /// `ofputil_decode_packet_in_private`, loose: unknown properties are skipped). `None` when
    /// it says nothing.
    pub fn decode(props: Bytes, version: u8) -> Result<Option<Box<Continuation>>, OfpErr> {
        let mut c = Continuation::default();
        let (mut table_id, mut cookie) = (0u8, 0u64);
        let mut props = Reader::new(props);
        while !props.is_empty() {
            let mut p = prop::pull(&mut props, 0xffff)?;
            let PropType::Std(ptype) = p.ptype else { continue };
            match ptype {
                NXCPT_BRIDGE => c.bridge = p.body[..].try_into().map_err(|_| OfpErr::OFPBPC_BAD_LEN)?,
                NXCPT_STACK if p.body.len() > MAX_STACK_ENTRY => return Err(OfpErr::OFPBPC_BAD_LEN),
                NXCPT_STACK => c.stack.push(p.body),
                NXCPT_MIRRORS => c.mirrors = p.u32()?,
                NXCPT_CONNTRACKED => c.conntracked = true,
                NXCPT_TABLE_ID => table_id = p.u8()?,
                NXCPT_COOKIE => cookie = p.u64()?,
                NXCPT_ACTIONS => {
                    let actions = decode_actions(&p.nested()?, version)?;
                    c.actions.push(ContinuationActions { table_id, cookie, actions });
                }
                NXCPT_ACTION_SET => c.action_set.extend(decode_actions(&p.nested()?, version)?),
                NXCPT_ODP_PORT => c.odp_port = p.u32()?,
                _ => {}
            }
        }
        Ok((c != Continuation::default()).then(|| Box::new(c)))
    }

    /// Appends the nested properties in OVS's order (table id and cookie only when they change,
    /// starting from 0).
    pub fn encode(&self, version: u8, buf: &mut BytesMut) {
        if self.bridge != [0; 16] {
            prop::put(buf, NXCPT_BRIDGE, &self.bridge);
        }
        for entry in &self.stack {
            prop::put(buf, NXCPT_STACK, entry);
        }
        if self.mirrors != 0 {
            prop::put_u32(buf, NXCPT_MIRRORS, self.mirrors);
        }
        if self.conntracked {
            prop::put(buf, NXCPT_CONNTRACKED, &[]);
        }
        let (mut table_id, mut cookie) = (0u8, 0u64);
        for g in &self.actions {
            if g.table_id != table_id {
                prop::put_u8(buf, NXCPT_TABLE_ID, g.table_id);
                table_id = g.table_id;
            }
            if g.cookie != cookie {
                prop::put_u64(buf, NXCPT_COOKIE, g.cookie);
                cookie = g.cookie;
            }
            let mut acts = BytesMut::new();
            encode_actions(&g.actions, version, &mut acts);
            prop::put_nested(buf, NXCPT_ACTIONS, &acts);
        }
        if !self.action_set.is_empty() {
            let mut acts = BytesMut::new();
            encode_actions(&self.action_set, version, &mut acts);
            prop::put_nested(buf, NXCPT_ACTION_SET, &acts);
        }
        if self.odp_port != 0 {
            prop::put_u32(buf, NXCPT_ODP_PORT, self.odp_port);
        }
    }

    /// OVS's " continuation.*=" lines.
    pub fn format(&self, out: &mut String) {
        if self.bridge != [0; 16] {
            // OVS prints the UUID's four 32-bit words in host (little-endian) order.
            let w = |i: usize| u32::from_le_bytes(self.bridge[i * 4..i * 4 + 4].try_into().unwrap_or_default());
            let _ = writeln!(
                out,
                " continuation.bridge={:08x}-{:04x}-{:04x}-{:04x}-{:04x}{:08x}",
                w(0),
                w(1) >> 16,
                w(1) & 0xffff,
                w(2) >> 16,
                w(2) & 0xffff,
                w(3)
            );
        }
        if !self.stack.is_empty() {
            out.push_str(" continuation.stack=(top)");
            for entry in &self.stack {
                out.push(' ');
                match entry.iter().position(|&b| b != 0) {
                    None => out.push('0'),
                    Some(i) => {
                        let _ = write!(out, "0x{:x}", entry[i]);
                        for b in &entry[i + 1..] {
                            let _ = write!(out, "{b:02x}");
                        }
                    }
                }
            }
            out.push_str(" (bottom)\n");
        }
        if self.mirrors != 0 {
            let _ = writeln!(out, " continuation.mirrors=0x{:x}", self.mirrors);
        }
        if self.conntracked {
            out.push_str(" continuation.conntracked=true\n");
        }
        if !self.actions.is_empty() {
            out.push_str(" continuation.actions=");
            for (i, g) in self.actions.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "unroll_xlate(table={}, cookie={})", g.table_id, g.cookie);
                if !g.actions.is_empty() {
                    out.push(',');
                    format_actions(&g.actions, out);
                }
            }
            out.push('\n');
        }
        if !self.action_set.is_empty() {
            out.push_str(" continuation.action_set=");
            format_actions(&self.action_set, out);
            out.push('\n');
        }
        if self.odp_port != 0 {
            let _ = writeln!(out, " continuation.odp_port={}", self.odp_port);
        }
    }
}

/// A packet sent to the controller (OVS `struct ofputil_packet_in` plus buffer id and length).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketIn {
    /// OFPR_* (or an OVS internal miss reason, mapped when encoded).
    pub reason: u8,
    pub table_id: u8,
    /// Cookie of the flow that sent it; u64::MAX when the message cannot say (OF1.0–1.2).
    pub cookie: u64,
    /// Pipeline metadata as a match: in_port, metadata, registers, tunnel id, …
    pub metadata: Match,
    /// Length of the whole packet (the data may be truncated).
    pub total_len: u32,
    /// u32::MAX: unbuffered.
    pub buffer_id: u32,
    /// The packet (or its first bytes), a slice of the message it came in.
    pub data: Bytes,
    /// NXT_PACKET_IN2 userdata from a controller(userdata=…) action.
    pub userdata: Bytes,
    /// NXT_PACKET_IN2 continuation of a paused pipeline (rare, so boxed).
    pub continuation: Option<Box<Continuation>>,
}

impl Default for PacketIn {
    fn default() -> Self {
        PacketIn {
            reason: OFPR_NO_MATCH,
            table_id: 0,
            cookie: u64::MAX,
            metadata: Match::catchall(),
            total_len: 0,
            buffer_id: u32::MAX,
            data: Bytes::new(),
            userdata: Bytes::new(),
            continuation: None,
        }
    }
}

impl PacketIn {
    /// The input port (from the metadata).
    pub fn in_port(&self) -> u32 {
        self.metadata.flow.in_port
    }

    /// The reason as `version` can express it (OVS `encode_packet_in_reason`).
    pub fn wire_reason(&self, version: u8) -> u8 {
        use crate::actions::{OFPR_ACTION_SET, OFPR_GROUP, OFPR_PACKET_OUT};
        match self.reason {
            OFPR_ACTION_SET | OFPR_GROUP | OFPR_PACKET_OUT if version < OFP14_VERSION => OFPR_ACTION,
            OFPR_EXPLICIT_MISS if version < OFP13_VERSION => OFPR_ACTION,
            OFPR_EXPLICIT_MISS | OFPR_IMPLICIT_MISS => OFPR_NO_MATCH,
            r => r,
        }
    }

    fn decode_in2(r: &mut Reader, version: u8) -> Result<PacketIn, OfpErr> {
        let mut pin = PacketIn::default();
        while !r.is_empty() {
            let mut p = prop::pull(r, 0xffff)?;
            // Decoded loosely (unknown properties skipped), as OVS's monitor and ofp-print do.
            let PropType::Std(ptype) = p.ptype else { continue };
            match ptype {
                NXPINT_PACKET => pin.data = p.body,
                NXPINT_FULL_LEN => pin.total_len = p.u32()?,
                NXPINT_BUFFER_ID => pin.buffer_id = p.u32()?,
                NXPINT_TABLE_ID => pin.table_id = p.u8()?,
                NXPINT_COOKIE => pin.cookie = p.u64()?,
                NXPINT_REASON => pin.reason = p.u8()?,
                NXPINT_METADATA => pin.metadata = nxm::decode_raw(&p.body, false, false, None)?,
                NXPINT_USERDATA => pin.userdata = p.body,
                NXPINT_CONTINUATION => pin.continuation = Continuation::decode(p.nested()?, version)?,
                _ => {}
            }
        }
        if pin.data.is_empty() {
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        let data_len = pin.data.len() as u32;
        if pin.total_len == 0 {
            pin.total_len = data_len;
        } else if pin.total_len < data_len {
            return Err(OfpErr::OFPBRC_BAD_LEN);
        }
        Ok(pin)
    }
}

impl Body for PacketIn {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let mut pin = PacketIn::default();
        match cx.raw {
            Raw::Ofpt12PacketIn | Raw::Ofpt13PacketIn => {
                pin.buffer_id = r.u32()?;
                pin.total_len = r.u16()?.into();
                pin.reason = r.u8()?;
                pin.table_id = r.u8()?;
                if cx.raw == Raw::Ofpt13PacketIn {
                    pin.cookie = r.u64()?;
                }
                nxm::pull_oxm_match_into(r, false, false, &mut pin.metadata)?;
                r.skip(2)?;
            }
            Raw::Ofpt10PacketIn => {
                pin.buffer_id = r.u32()?;
                pin.total_len = r.u16()?.into();
                pin.metadata.set_in_port(port_no::ofp10_to_ofp11(r.u16()?));
                pin.reason = r.u8()?;
                r.skip(1)?;
            }
            Raw::Ofpt11PacketIn => {
                pin.buffer_id = r.u32()?;
                let in_port = port_no::from_ofp11(r.u32()?)?;
                r.skip(4)?;
                pin.metadata.set_in_port(in_port);
                pin.total_len = r.u16()?.into();
                pin.reason = r.u8()?;
                pin.table_id = r.u8()?;
            }
            Raw::NxtPacketIn => {
                pin.buffer_id = r.u32()?;
                pin.total_len = r.u16()?.into();
                pin.reason = r.u8()?;
                pin.table_id = r.u8()?;
                pin.cookie = r.u64()?;
                let match_len = usize::from(r.u16()?);
                r.skip(6)?;
                nxm::pull_nx_match_into(r, match_len, false, None, &mut pin.metadata)?;
                r.skip(2)?;
            }
            _ => return PacketIn::decode_in2(r, cx.version),
        }
        pin.data = r.rest();
        Ok(pin)
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        let version = cx.version;
        let reason = self.wire_reason(version);
        let total_len = self.total_len as u16;
        match cx.raw {
            Raw::Ofpt10PacketIn => {
                buf.put_u32(self.buffer_id);
                buf.put_u16(total_len);
                buf.put_u16(port_no::to_ofp10_wire(self.in_port()));
                buf.put_u8(reason);
                buf.put_u8(0);
            }
            Raw::Ofpt11PacketIn => {
                buf.put_u32(self.buffer_id);
                buf.put_u32(self.in_port());
                buf.put_u32(self.in_port());
                buf.put_u16(total_len);
                buf.put_u8(reason);
                buf.put_u8(self.table_id);
            }
            Raw::Ofpt12PacketIn | Raw::Ofpt13PacketIn => {
                buf.put_u32(self.buffer_id);
                buf.put_u16(total_len);
                buf.put_u8(reason);
                buf.put_u8(self.table_id);
                if cx.raw == Raw::Ofpt13PacketIn {
                    buf.put_u64(self.cookie);
                }
                nxm::put_oxm_match(buf, &self.metadata, version);
                buf.put_u16(0);
            }
            Raw::NxtPacketIn => {
                let start = buf.len();
                buf.put_u32(self.buffer_id);
                buf.put_u16(total_len);
                buf.put_u8(reason);
                buf.put_u8(self.table_id);
                buf.put_u64(self.cookie);
                buf.put_u16(0);
                buf.put_bytes(0, 6);
                let len = nxm::put_nx_match(buf, &self.metadata, 0, 0);
                buf[start + 16..start + 18].copy_from_slice(&(len as u16).to_be_bytes());
                buf.put_u16(0);
            }
            _ => {
                prop::put(buf, NXPINT_PACKET, &self.data);
                if self.total_len as usize != self.data.len() {
                    prop::put_u32(buf, NXPINT_FULL_LEN, self.total_len);
                }
                if self.buffer_id != u32::MAX {
                    prop::put_u32(buf, NXPINT_BUFFER_ID, self.buffer_id);
                }
                prop::put_u8(buf, NXPINT_TABLE_ID, self.table_id);
                if self.cookie != u64::MAX {
                    prop::put_u64(buf, NXPINT_COOKIE, self.cookie);
                }
                prop::put_u8(buf, NXPINT_REASON, reason);
                let mut md = BytesMut::new();
                nxm::put_raw(&mut md, version, &self.metadata, 0, 0);
                prop::put(buf, NXPINT_METADATA, &md);
                if let Some(c) = &self.continuation {
                    let mut inner = BytesMut::new();
                    c.encode(version, &mut inner);
                    // OVS leaves out a continuation that says nothing.
                    if !inner.is_empty() {
                        prop::put_nested(buf, NXPINT_CONTINUATION, &inner);
                    }
                }
                if !self.userdata.is_empty() {
                    prop::put(buf, NXPINT_USERDATA, &self.userdata);
                }
                return;
            }
        }
        buf.put_slice(&self.data);
    }

    fn print(&self, _cx: Cx, out: &mut String, verbosity: u8) {
        if self.table_id != 0 {
            let _ = write!(out, " table_id={}", self.table_id);
        }
        if self.cookie != u64::MAX {
            let _ = write!(out, " cookie=0x{:x}", self.cookie);
        }
        let _ = write!(out, " total_len={} ", self.total_len);
        self.metadata.format(OFP_DEFAULT_PRIORITY, out);
        let reason = packet_in_reason_name(self.reason);
        let _ = write!(out, " (via {reason}) data_len={}", self.data.len());
        let data_len = self.data.len() as u32;
        if self.buffer_id == u32::MAX {
            out.push_str(" (unbuffered)");
            if self.total_len != data_len {
                out.push_str(" (***total_len != data_len***)");
            }
        } else {
            let _ = write!(out, " buffer=0x{:08x}", self.buffer_id);
            if self.total_len < data_len {
                out.push_str(" (***total_len < data_len***)");
            }
        }
        out.push('\n');
        if !self.userdata.is_empty() {
            let hex: Vec<String> = self.userdata.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(out, " userdata={}", hex.join("."));
        }
        if let Some(c) = &self.continuation {
            c.format(out);
        }
        if verbosity > 0 {
            out.push_str(&packet_to_string(&self.data, self.metadata.flow.packet_type));
            out.push('\n');
        }
        if verbosity > 2 {
            crate::print::hex_dump(&self.data, 0, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Message, OfpMsg};
    use crate::print::{ofp_to_string, parse_hex};

    fn pin(hex: &str) -> (OfpMsg, PacketIn) {
        let frame = Bytes::from(parse_hex(hex).unwrap());
        let msg = OfpMsg::decode(&frame).unwrap();
        let Message::PacketIn(p) = msg.body.clone() else { panic!("not a packet-in") };
        assert_eq!(msg.to_bytes(), frame, "re-encoding");
        (msg, p)
    }

    #[test]
    fn of13_packet_in_with_oxm_metadata() {
        let hex = "040a005400000000ffffff00002a000001020304050607080001000c80000004fffffffe000000000000\
                   ffffffffffff00232083c15f8035000108000604000300232083c15f0000000000232083c15f00000000";
        let (msg, p) = pin(hex);
        assert_eq!((p.buffer_id, p.total_len, p.reason, p.cookie), (0xffffff00, 42, 0, 0x0102030405060708));
        assert_eq!(p.in_port(), port_no::LOCAL);
        assert_eq!(p.data.len(), 42);
        // The packet is a view into the message, not a copy.
        let frame = Bytes::from(parse_hex(hex).unwrap());
        let m2 = OfpMsg::decode(&frame).unwrap();
        let Message::PacketIn(p2) = m2.body else { panic!() };
        assert_eq!(p2.data.as_ptr(), frame[frame.len() - 42..].as_ptr());
        let text = ofp_to_string(&msg.to_bytes(), 1);
        assert_eq!(
            text,
            "OFPT_PACKET_IN (OF1.3) (xid=0x0): cookie=0x102030405060708 total_len=42 in_port=LOCAL (via no_match) \
             data_len=42 buffer=0xffffff00\nrarp,vlan_tci=0x0000,dl_src=00:23:20:83:c1:5f,dl_dst=ff:ff:ff:ff:ff:ff,\
             arp_spa=0.0.0.0,arp_tpa=0.0.0.0,arp_op=3,arp_sha=00:23:20:83:c1:5f,arp_tha=00:23:20:83:c1:5f\n"
        );
    }

    #[test]
    fn packet_in2_properties() {
        let p = PacketIn {
            reason: OFPR_ACTION,
            table_id: 3,
            cookie: 9,
            total_len: 64,
            data: Bytes::from_static(&[0xaa; 10]),
            userdata: Bytes::from_static(&[1, 2]),
            ..PacketIn::default()
        };
        let mut m = p.clone();
        m.metadata.set_reg_masked(0, 5, u32::MAX);
        let msg = OfpMsg::new(4, 7, Message::PacketIn(m.clone())).with_raw(Raw::NxtPacketIn2);
        let b = msg.to_bytes();
        let back = OfpMsg::decode(&b).unwrap();
        assert_eq!(back.body, Message::PacketIn(m));
        assert!(ofp_to_string(&b, 0).starts_with(
            "NXT_PACKET_IN2 (OF1.3) (xid=0x7): table_id=3 cookie=0x9 total_len=64 reg0=0x5 (via action) data_len=10 \
             (unbuffered) (***total_len != data_len***)\n userdata=01.02\n"
        ));
    }

    #[test]
    fn packet_in2_errors() {
        let hdr = |props: &str| {
            let props = props.replace(' ', "");
            let len = 16 + props.len() / 2;
            Bytes::from(parse_hex(&format!("0104{len:04x}0000000000002320 0000001e{props}").replace(' ', "")).unwrap())
        };
        let err = |b: &Bytes| OfpMsg::decode(b).unwrap_err().error;
        // No packet property.
        assert_eq!(err(&hdr("0003 0005 01 000000")), OfpErr::OFPBRC_BAD_LEN);
        // Full length shorter than the data.
        assert_eq!(err(&hdr("0000 0006 aabb 0000 0001 0008 00000001")), OfpErr::OFPBRC_BAD_LEN);
        // A property running past the message.
        assert_eq!(err(&hdr("0000 0010 aabb 0000")), OfpErr::OFPBPC_BAD_LEN);
        // Unknown properties are skipped.
        assert!(OfpMsg::decode(&hdr("0000 0006 aabb 0000 0063 0004 00000000")).is_ok());
    }

    #[test]
    fn packet_in2_continuation_exact_bytes_and_text() {
        let hex = "04040070 00000005 00002320 0000001e \
                   0000 0006 aabb 0000 \
                   0003 0005 00 000000 \
                   0005 0005 00 000000 \
                   0006 000c 80000004 00000001 00000000 \
                   0008 0038 00000000 \
                     8002 0008 00000030 \
                     8003 0004 00000000 \
                     8004 0005 03 000000 \
                     8006 0018 00000000 0000 0010 00000003 0000 000000000000"
            .replace([' ', '\\', '\n'], "");
        let frame = Bytes::from(parse_hex(&hex).unwrap());
        let msg = OfpMsg::decode(&frame).unwrap();
        let Message::PacketIn(p) = &msg.body else { panic!() };
        let want = Continuation {
            mirrors: 0x30,
            conntracked: true,
            actions: vec![ContinuationActions {
                table_id: 3,
                cookie: 0,
                actions: [crate::actions::Action::Output { port: 3, max_len: 0 }].into_iter().collect(),
            }],
            ..Continuation::default()
        };
        assert_eq!(p.continuation.as_deref(), Some(&want));
        assert_eq!(msg.to_bytes(), frame);
        assert_eq!(
            ofp_to_string(&frame, 0),
            "NXT_PACKET_IN2 (OF1.3) (xid=0x5): total_len=2 in_port=1 (via no_match) data_len=2 (unbuffered)\n \
             continuation.mirrors=0x30\n continuation.conntracked=true\n \
             continuation.actions=unroll_xlate(table=3, cookie=0),output:3\n"
        );
    }

    #[test]
    fn packet_in2_continuation_errors() {
        let msg = |inner: &str| {
            let inner = inner.replace(' ', "");
            let cont = format!("0008{:04x}00000000{inner}", 8 + inner.len() / 2);
            let props = format!("00000006aabb0000{cont}");
            let len = 16 + props.len() / 2;
            Bytes::from(parse_hex(&format!("0404{len:04x}0000000000002320 0000001e{props}").replace(' ', "")).unwrap())
        };
        let err = |b: &Bytes| OfpMsg::decode(b).unwrap_err().error;
        // A bridge UUID must be 16 bytes.
        assert_eq!(err(&msg("8000 0013 000102030405060708090a0b0c0d0e 0000000000")), OfpErr::OFPBPC_BAD_LEN);
        // Stack entries hold at most 128 bytes.
        let big = format!("8001 0085 {} 000000", "00".repeat(129));
        assert_eq!(err(&msg(&big)), OfpErr::OFPBPC_BAD_LEN);
        // Mirrors is exactly 32 bits.
        assert_eq!(err(&msg("8002 0006 0000 0000")), OfpErr::OFPBPC_BAD_LEN);
        // Continuation actions are decoded: an unknown action type is an error.
        assert_eq!(err(&msg("8006 0010 00000000 0063 0008 00000000")), OfpErr::OFPBAC_BAD_TYPE);
        // Unknown continuation properties are skipped; a continuation of only those is none.
        let b = msg("8063 0004 00000000");
        let Message::PacketIn(p) = OfpMsg::decode(&b).unwrap().body else { panic!() };
        assert_eq!(p.continuation, None);
    }
}
