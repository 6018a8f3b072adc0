//! Controller roles: role request/reply (OF1.2+ standard, NXT for any version) and role status
//! (OF1.4+ standard, ONF experimenter 1911 in OF1.3).

use bytes::{BufMut, Bytes, BytesMut};

use crate::buf::{pad8, Reader};
use crate::errors::OfpErr;
use crate::msg::{Body, Cx};
use crate::raw::Raw;

/// A controller role (`OFPCR12_ROLE_*`; the NXT encoding is one less and has no NoChange).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    NoChange = 0,
    Equal = 1,
    Primary = 2,
    Secondary = 3,
}

impl Role {
    pub fn from_wire(v: u32) -> Option<Role> {
        Some(match v {
            0 => Role::NoChange,
            1 => Role::Equal,
            2 => Role::Primary,
            3 => Role::Secondary,
            _ => return None,
        })
    }

    /// The word `ovs-ofctl` prints.
    pub fn name(self) -> &'static str {
        match self {
            Role::NoChange => "nochange",
            Role::Equal => "equal",
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

/// ROLE_REQUEST / ROLE_REPLY (OVS `ofputil_role_request`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleMsg {
    pub role: Role,
    /// OF1.2+ only. A request has one unless its role is NoChange; a reply has one unless it is
    /// all-ones. `None` encodes as all-ones.
    pub generation_id: Option<u64>,
}

fn is_nxt(raw: Raw) -> bool {
    matches!(raw, Raw::NxtRoleRequest | Raw::NxtRoleReply)
}

fn put_role_and_generation(role: Role, generation_id: Option<u64>, out: &mut String) {
    out.push_str(" role=");
    out.push_str(role.name());
    match generation_id {
        Some(g) if g != u64::MAX => out.push_str(&format!(" generation_id={g}")),
        _ => {}
    }
}

impl Body for RoleMsg {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let wire = r.u32()?;
        if is_nxt(cx.raw) {
            // nx_role: OTHER, PRIMARY, SECONDARY = 0, 1, 2.
            return match wire {
                0..=2 => Ok(RoleMsg { role: Role::from_wire(wire + 1).expect("1..=3"), generation_id: None }),
                _ => Err(OfpErr::OFPRRFC_BAD_ROLE),
            };
        }
        let role = Role::from_wire(wire).ok_or(OfpErr::OFPRRFC_BAD_ROLE)?;
        r.skip(4)?;
        let g = r.u64()?;
        let has = if cx.raw == Raw::Ofpt12RoleRequest { role != Role::NoChange } else { g != u64::MAX };
        Ok(RoleMsg { role, generation_id: has.then_some(g) })
    }

    /// In an NXT message NoChange, which that format cannot say, goes out as 0xffffffff as it
    /// would from OVS's arithmetic. A NoChange request's generation id, which means nothing, goes
    /// out as all-ones.
    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        if is_nxt(cx.raw) {
            buf.put_u32((self.role as u32).wrapping_sub(1));
        } else {
            let ignored = cx.raw == Raw::Ofpt12RoleRequest && self.role == Role::NoChange;
            buf.put_u32(self.role as u32);
            buf.put_u32(0);
            buf.put_u64(if ignored { u64::MAX } else { self.generation_id.unwrap_or(u64::MAX) });
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        put_role_and_generation(self.role, self.generation_id, out);
    }
}

/// Why a role status was sent (`OFPCRR_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoleReason {
    PrimaryRequest,
    Config,
    Experimenter,
    Unknown(u8),
}

impl RoleReason {
    pub fn from_wire(v: u8) -> RoleReason {
        match v {
            0 => RoleReason::PrimaryRequest,
            1 => RoleReason::Config,
            2 => RoleReason::Experimenter,
            v => RoleReason::Unknown(v),
        }
    }

    /// The word `ovs-ofctl` prints.
    pub fn name(self) -> &'static str {
        match self {
            RoleReason::PrimaryRequest => "primary_request",
            RoleReason::Config => "configuration_changed",
            RoleReason::Experimenter => "experimenter_data_changed",
            RoleReason::Unknown(_) => "(unknown)",
        }
    }

    pub fn wire(self) -> u8 {
        match self {
            RoleReason::PrimaryRequest => 0,
            RoleReason::Config => 1,
            RoleReason::Experimenter => 2,
            RoleReason::Unknown(v) => v,
        }
    }
}

/// OFPT_ROLE_STATUS / ONFT_ROLE_STATUS (OVS `ofputil_role_status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleStatus {
    pub role: Role,
    pub reason: RoleReason,
    pub generation_id: u64,
    /// The properties after the fixed part, unparsed (OVS ignores them and sends none).
    pub properties: Bytes,
}

impl Body for RoleStatus {
    fn decode(_cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let role = Role::from_wire(r.u32()?).ok_or(OfpErr::OFPRRFC_BAD_ROLE)?;
        let reason = RoleReason::from_wire(r.u8()?);
        r.skip(3)?;
        let generation_id = r.u64()?;
        Ok(RoleStatus { role, reason, generation_id, properties: r.rest() })
    }

    fn encode(&self, _cx: Cx, buf: &mut BytesMut) {
        buf.put_u32(self.role as u32);
        buf.put_u8(self.reason.wire());
        buf.put_bytes(0, 3);
        buf.put_u64(self.generation_id);
        let at = buf.len();
        buf.put_slice(&self.properties);
        pad8(buf, at);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        put_role_and_generation(self.role, Some(self.generation_id), out);
        out.push_str(" reason=");
        out.push_str(self.reason.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::{first_line, parse_hex};
    use crate::{Message, OfpMsg};

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }

    fn dec(h: &str) -> Result<Message, OfpErr> {
        OfpMsg::decode(&Bytes::from(hex(h))).map(|m| m.body).map_err(|e| e.error)
    }

    fn enc(version: u8, m: Message) -> Vec<u8> {
        OfpMsg::new(version, 5, m).to_bytes().to_vec()
    }

    #[test]
    fn of12_role_request_and_reply() {
        let rq = RoleMsg { role: Role::Primary, generation_id: Some(1) };
        let b = hex("041800180000000500000002000000000000000000000001");
        assert_eq!(enc(4, Message::RoleRequest(rq)), b);
        assert_eq!(dec("041800180000000500000002000000000000000000000001"), Ok(Message::RoleRequest(rq)));
        // NoChange requests carry no generation id, whatever the field says.
        let nc = dec("041800180000000500000000000000000000000000000007").unwrap();
        assert_eq!(nc, Message::RoleRequest(RoleMsg { role: Role::NoChange, generation_id: None }));
        // A reply's all-ones generation id means none.
        let rp = dec("04190018000000050000000300000000ffffffffffffffff").unwrap();
        assert_eq!(rp, Message::RoleReply(RoleMsg { role: Role::Secondary, generation_id: None }));
        let none = RoleMsg { role: Role::Secondary, generation_id: None };
        assert_eq!(enc(4, Message::RoleReply(none)), hex("04190018000000050000000300000000ffffffffffffffff"));
        assert_eq!(dec("041800180000000500000004000000000000000000000001"), Err(OfpErr::OFPRRFC_BAD_ROLE));
    }

    #[test]
    fn nxt_role_request_uses_nx_role_numbers() {
        let rq = RoleMsg { role: Role::Secondary, generation_id: None };
        let want = hex("0104001400000005000023200000000a00000002");
        assert_eq!(enc(1, Message::RoleRequest(rq)), want);
        assert_eq!(
            dec("0104001400000005000023200000000a00000000").unwrap(),
            Message::RoleRequest(RoleMsg { role: Role::Equal, generation_id: None })
        );
        assert_eq!(dec("0104001400000005000023200000000a00000003"), Err(OfpErr::OFPRRFC_BAD_ROLE));
        assert_eq!(
            first_line(&hex("0104001400000002000023200000000b00000001")),
            "NXT_ROLE_REPLY (xid=0x2): role=primary"
        );
    }

    #[test]
    fn role_status_standard_and_onf() {
        let rs =
            RoleStatus { role: Role::Primary, reason: RoleReason::Config, generation_id: 16, properties: Bytes::new() };
        let of14 = hex("051e00180000000500000002010000000000000000000010");
        assert_eq!(enc(5, Message::RoleStatus(rs.clone())), of14);
        let onf = hex("040400200000000a4f4e46000000077700000002010000000000000000000010");
        assert_eq!(
            dec("040400200000000a4f4e46000000077700000002010000000000000000000010"),
            Ok(Message::RoleStatus(rs))
        );
        assert_eq!(
            first_line(&onf),
            "ONFT_ROLE_STATUS (OF1.3) (xid=0xa): role=primary generation_id=16 reason=configuration_changed"
        );
        // Properties are kept as they came; unknown reasons print as OVS prints them.
        let with_prop = dec("051e0020000000050000000309000000ffffffffffffffffffff000800002320").unwrap();
        let Message::RoleStatus(s) = with_prop else { panic!() };
        assert_eq!((s.role, s.reason, s.properties.len()), (Role::Secondary, RoleReason::Unknown(9), 8));
        assert_eq!(
            first_line(&hex("051e0020000000050000000309000000ffffffffffffffffffff000800002320")),
            "OFPT_ROLE_STATUS (OF1.4) (xid=0x5): role=secondary reason=(unknown)"
        );
        assert_eq!(dec("051e00180000000500000007010000000000000000000010"), Err(OfpErr::OFPRRFC_BAD_ROLE));
    }
}
