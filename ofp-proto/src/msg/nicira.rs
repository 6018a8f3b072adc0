//! Small Nicira extension messages: NXT_SET_FLOW_FORMAT and NXT_SET_PACKET_IN_FORMAT.

use bytes::{BufMut, BytesMut};

use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::msg::{Body, Cx};

const NXFF_OPENFLOW10: u32 = 0;
const NXFF_NXM: u32 = 2;

/// NXT_SET_FLOW_FORMAT (OF1.0 only). OVS prints an unknown format and rejects it only when handling
/// the request (OFPBRC_EPERM), so decoding keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowFormat {
    OpenFlow10,
    Nxm,
    Unknown(u32),
}

impl FlowFormat {
    pub fn from_wire(v: u32) -> FlowFormat {
        match v {
            NXFF_OPENFLOW10 => FlowFormat::OpenFlow10,
            NXFF_NXM => FlowFormat::Nxm,
            v => FlowFormat::Unknown(v),
        }
    }

    /// The word `ovs-ofctl` prints.
    pub fn name(self) -> &'static str {
        match self {
            FlowFormat::OpenFlow10 => "openflow10",
            FlowFormat::Nxm => "nxm",
            FlowFormat::Unknown(_) => "(unknown)",
        }
    }

    pub fn wire(self) -> u32 {
        match self {
            FlowFormat::OpenFlow10 => NXFF_OPENFLOW10,
            FlowFormat::Nxm => NXFF_NXM,
            FlowFormat::Unknown(v) => v,
        }
    }
}

impl Body for FlowFormat {
    fn decode(_cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        Ok(FlowFormat::from_wire(r.u32()?))
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        buf.put_u32(self.wire());
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(" format=");
        out.push_str(self.name());
    }
}

/// NXT_SET_PACKET_IN_FORMAT: which packet-in message the connection gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PacketInFormat {
    /// OFPT_PACKET_IN of the connection's version.
    #[default]
    Standard = 0,
    /// NXT_PACKET_IN.
    Nxt = 1,
    /// NXT_PACKET_IN2.
    Nxt2 = 2,
}

impl PacketInFormat {
    pub fn name(self) -> &'static str {
        match self {
            PacketInFormat::Standard => "standard",
            PacketInFormat::Nxt => "nxt_packet_in",
            PacketInFormat::Nxt2 => "nxt_packet_in2",
        }
    }
}

impl Body for PacketInFormat {
    /// Any other format is OFPBRC_EPERM, as in OVS.
    fn decode(_cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        match r.u32()? {
            0 => Ok(PacketInFormat::Standard),
            1 => Ok(PacketInFormat::Nxt),
            2 => Ok(PacketInFormat::Nxt2),
            _ => Err(OfpErr::OFPBRC_EPERM),
        }
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        buf.put_u32(*self as u32);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(" format=");
        out.push_str(self.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::{first_line, parse_hex};
    use crate::{Message, OfpMsg};
    use bytes::Bytes;

    fn dec(h: &str) -> Result<Message, OfpErr> {
        OfpMsg::decode(&Bytes::from(parse_hex(h).unwrap())).map(|m| m.body).map_err(|e| e.error)
    }

    #[test]
    fn flow_format() {
        let b = OfpMsg::new(1, 3, Message::SetFlowFormat(FlowFormat::Nxm)).to_bytes();
        assert_eq!(b.to_vec(), parse_hex("0104001400000003000023200000000c00000002").unwrap());
        assert_eq!(dec("0104001400000003000023200000000c00000000"), Ok(Message::SetFlowFormat(FlowFormat::OpenFlow10)));
        assert_eq!(dec("0104001400000003000023200000000c00000001"), Ok(Message::SetFlowFormat(FlowFormat::Unknown(1))));
        let s = first_line(&parse_hex("0104001400000003000023200000000c00000001").unwrap());
        assert_eq!(s, "NXT_SET_FLOW_FORMAT (xid=0x3): format=(unknown)");
    }

    #[test]
    fn packet_in_format() {
        let b = OfpMsg::new(4, 5, Message::SetPacketInFormat(PacketInFormat::Nxt2)).to_bytes();
        assert_eq!(b.to_vec(), parse_hex("0404001400000005000023200000001000000002").unwrap());
        assert_eq!(
            dec("0104001400000005000023200000001000000001"),
            Ok(Message::SetPacketInFormat(PacketInFormat::Nxt))
        );
        assert_eq!(dec("0104001400000005000023200000001000000003"), Err(OfpErr::OFPBRC_EPERM));
    }
}
