//! OFPT_PACKET_OUT (OF1.0, OF1.1–1.4, OF1.5 with a pipeline-field match), as OVS
//! `ofputil_decode_packet_out` / `ofputil_encode_packet_out` / packet-out text. The packet stays a
//! slice of the received message.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::actions::{decode_actions, encode_actions, format_actions, ActionList};
use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::flow::{packet_to_string, PT_ETH};
use crate::msg::{Body, Cx};
use crate::ofmatch::{nxm, Match, OFP_DEFAULT_PRIORITY};
use crate::port_no;
use crate::raw::Raw;

/// A packet the controller wants sent (OVS `struct ofputil_packet_out`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketOut {
    /// u32::MAX: the packet is in `data`.
    pub buffer_id: u32,
    /// The packet's pipeline metadata: in_port always, and in OF1.5 metadata, registers, tunnel
    /// id and packet type.
    pub metadata: Match,
    pub actions: ActionList,
    /// The packet (unbuffered only), a slice of the message it came in.
    pub data: Bytes,
}

impl PacketOut {
    /// An unbuffered packet-out from `in_port` (OFPP_CONTROLLER if none).
    pub fn new(in_port: u32, actions: ActionList, data: Bytes) -> PacketOut {
        let mut metadata = Match::catchall();
        metadata.set_packet_type(PT_ETH);
        metadata.set_in_port(in_port);
        PacketOut { buffer_id: u32::MAX, metadata, actions, data }
    }

    pub fn in_port(&self) -> u32 {
        self.metadata.flow.in_port
    }
}

/// Pulls `len` bytes of actions (OVS `ofpacts_pull_openflow_actions`).
pub(crate) fn pull_actions(r: &mut Reader, len: usize, version: u8) -> Result<ActionList, OfpErr> {
    if !len.is_multiple_of(8) || len > r.remaining() {
        return Err(OfpErr::OFPBRC_BAD_LEN);
    }
    decode_actions(&r.bytes(len)?, version)
}

impl Body for PacketOut {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let version = cx.version;
        let buffer_id = r.u32()?;
        let mut metadata = Match::catchall();
        let actions_len;
        if cx.raw == Raw::Ofpt15PacketOut {
            actions_len = usize::from(r.u16()?);
            r.skip(2)?;
            nxm::pull_oxm_match_into(r, false, true, &mut metadata)?;
            if metadata.mask.in_port == 0 {
                return Err(OfpErr::OFPBRC_BAD_PORT);
            }
        } else {
            let in_port = if cx.raw == Raw::Ofpt11PacketOut {
                port_no::from_ofp11(r.u32()?)?
            } else {
                port_no::ofp10_to_ofp11(r.u16()?)
            };
            actions_len = usize::from(r.u16()?);
            if cx.raw == Raw::Ofpt11PacketOut {
                r.skip(6)?;
            }
            metadata.set_packet_type(PT_ETH);
            metadata.set_in_port(in_port);
        }
        let actions = pull_actions(r, actions_len, version)?;
        let in_port = metadata.flow.in_port;
        if in_port >= port_no::MAX_PHYSICAL && !matches!(in_port, port_no::LOCAL | port_no::ANY | port_no::CONTROLLER) {
            return Err(OfpErr::OFPBRC_BAD_PORT);
        }
        let data = if buffer_id == u32::MAX { r.rest() } else { Bytes::new() };
        Ok(PacketOut { buffer_id, metadata, actions, data })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        let version = cx.version;
        let start = buf.len();
        buf.put_u32(self.buffer_id);
        let len_at = match cx.raw {
            Raw::Ofpt15PacketOut => {
                buf.put_u32(0);
                nxm::put_oxm_match(buf, &self.metadata, version);
                start + 4
            }
            Raw::Ofpt11PacketOut => {
                buf.put_u32(self.in_port());
                buf.put_u16(0);
                buf.put_bytes(0, 6);
                start + 8
            }
            _ => {
                buf.put_u16(port_no::to_ofp10_wire(self.in_port()));
                buf.put_u16(0);
                start + 6
            }
        };
        let actions_start = buf.len();
        encode_actions(&self.actions, version, buf);
        let actions_len = (buf.len() - actions_start) as u16;
        buf[len_at..len_at + 2].copy_from_slice(&actions_len.to_be_bytes());
        if self.buffer_id == u32::MAX {
            buf.put_slice(&self.data);
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, verbosity: u8) {
        out.push(' ');
        self.metadata.format(OFP_DEFAULT_PRIORITY, out);
        out.push_str(" actions=");
        format_actions(&self.actions, out);
        if self.buffer_id == u32::MAX {
            let _ = write!(out, " data_len={}", self.data.len());
            if verbosity > 0 && !self.data.is_empty() {
                out.push('\n');
                out.push_str(&packet_to_string(&self.data, self.metadata.flow.packet_type));
                out.push('\n');
            }
            if verbosity > 2 {
                crate::print::hex_dump(&self.data, 0, out);
            }
        } else {
            let _ = write!(out, " buffer=0x{:08x}", self.buffer_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;
    use crate::msg::{Message, OfpMsg};
    use crate::print::{first_line, parse_hex};

    fn msg(version: u8, po: PacketOut) -> Bytes {
        OfpMsg::new(version, 1, Message::PacketOut(po)).to_bytes()
    }

    #[test]
    fn encodes_each_version_exactly() {
        let po = PacketOut::new(
            port_no::CONTROLLER,
            ActionList::from_vec(vec![Action::Output { port: 2, max_len: 0 }]),
            Bytes::from_static(&[0xab; 4]),
        );
        let hex = |b: Bytes| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(msg(1, po.clone())),
            "010d001c00000001ffffffff".to_owned() + "fffd0008" + "0000000800020000" + "abababab"
        );
        assert_eq!(
            hex(msg(4, po.clone())),
            "040d002c00000001ffffffff".to_owned()
                + "fffffffd0010000000000000"
                + "00000010000000020000000000000000"
                + "abababab"
        );
        // OF1.5 carries in_port in an OXM match, after the Ethernet packet type that OVS puts first
        // when no other field implies it.
        assert_eq!(
            hex(msg(6, po.clone())),
            "060d003c00000001ffffffff00100000".to_owned()
                + "00010014800058040000000080000004fffffffd00000000"
                + "00000010000000020000000000000000abababab"
        );
        for v in 1..=6 {
            let b = msg(v, po.clone());
            let back = OfpMsg::decode(&b).unwrap();
            assert_eq!(back.body, Message::PacketOut(po.clone()), "version {v}");
        }
        assert_eq!(
            first_line(&msg(4, po)),
            "OFPT_PACKET_OUT (OF1.3) (xid=0x1): in_port=CONTROLLER actions=output:2 data_len=4"
        );
    }

    #[test]
    fn bad_ports_and_lengths() {
        let err = |h: &str| OfpMsg::decode(&Bytes::from(parse_hex(h).unwrap())).unwrap_err().error;
        // in_port 0xff05 is not a switch port.
        assert_eq!(err("010d001000000001ffffffffff050000"), OfpErr::OFPBRC_BAD_PORT);
        // actions_len not a multiple of 8, then past the end.
        assert_eq!(err("010d001000000001ffffffff00010004"), OfpErr::OFPBRC_BAD_LEN);
        assert_eq!(err("010d001000000001ffffffff00010008"), OfpErr::OFPBRC_BAD_LEN);
        // OF1.5 without in_port.
        assert_eq!(err("060d001800000001ffffffff000000000001000400000000"), OfpErr::OFPBRC_BAD_PORT);
        // OF1.5 match with a non-pipeline field.
        assert_eq!(
            err("060d002800000001ffffffff00000000000100128000000400000001 80000c02 1000 000000000000"
                .replace(' ', "")
                .as_str()),
            OfpErr::OFPBRC_PIPELINE_FIELDS_ONLY
        );
    }
}
