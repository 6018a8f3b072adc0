//! Asynchronous message configuration: which reasons of which asynchronous messages a controller
//! gets, per role. Fixed masks (OF1.3 SET_ASYNC/GET_ASYNC_REPLY, NXT_SET_ASYNC_CONFIG) and TLV
//! properties (OF1.4+ SET_ASYNC/GET_ASYNC_REPLY, NXT_SET_ASYNC_CONFIG2), decoded as OVS's
//! `ofputil_decode_set_async_config` does.
//!
//! `loose` (OVS's flag for tolerating what a decoder does not understand) follows the message:
//! replies are read loosely, as a controller reads a switch's answer, and requests strictly, as the
//! switch reads a controller's request. That is how both `ovs-ofctl` and `ovs-vswitchd` call it.

use bytes::{BufMut, BytesMut};

use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::header::{OFP12_VERSION, OFP13_VERSION, OFP14_VERSION};
use crate::msg::{Body, Cx};
use crate::prop::{self, PropType};
use crate::raw::Raw;

/// The asynchronous messages a configuration covers (OVS `enum ofputil_async_msg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsyncMsgType {
    PacketIn = 0,
    PortStatus = 1,
    FlowRemoved = 2,
    RoleStatus = 3,
    TableStatus = 4,
    RequestForward = 5,
}

/// Number of [`AsyncMsgType`]s.
pub const N_TYPES: usize = 6;

/// Packet-in reason bit numbers as OVS keeps them: OpenFlow's `OFPR_*` and two internal ones.
pub mod packet_in_reason {
    pub const NO_MATCH: u32 = 0;
    pub const ACTION: u32 = 1;
    pub const INVALID_TTL: u32 = 2;
    pub const ACTION_SET: u32 = 3;
    pub const GROUP: u32 = 4;
    pub const PACKET_OUT: u32 = 5;
    /// A table-miss flow sent the packet (on the wire: NO_MATCH).
    pub const EXPLICIT_MISS: u32 = 6;
    /// No flow matched and the OF1.0–1.2 miss behaviour sent the packet (on the wire: NO_MATCH).
    pub const IMPLICIT_MISS: u32 = 7;
}

impl AsyncMsgType {
    pub const ALL: [AsyncMsgType; N_TYPES] = [
        AsyncMsgType::PacketIn,
        AsyncMsgType::PortStatus,
        AsyncMsgType::FlowRemoved,
        AsyncMsgType::RoleStatus,
        AsyncMsgType::TableStatus,
        AsyncMsgType::RequestForward,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AsyncMsgType::PacketIn => "PACKET_IN",
            AsyncMsgType::PortStatus => "PORT_STATUS",
            AsyncMsgType::FlowRemoved => "FLOW_REMOVED",
            AsyncMsgType::RoleStatus => "ROLE_STATUS",
            AsyncMsgType::TableStatus => "TABLE_STATUS",
            AsyncMsgType::RequestForward => "REQUESTFORWARD",
        }
    }

    /// The reason bits a `version` message may set for this type; anything else is OFPACFC_INVALID.
    pub fn allowed(self, version: u8) -> u32 {
        match self {
            AsyncMsgType::PacketIn if version >= OFP14_VERSION => 0x3f,
            AsyncMsgType::PacketIn => 0x7,
            AsyncMsgType::PortStatus => 0x7,
            AsyncMsgType::FlowRemoved => 0x3f,
            AsyncMsgType::RoleStatus => 0x7,
            AsyncMsgType::TableStatus => 0x18,
            AsyncMsgType::RequestForward => 0x3,
        }
    }

    /// The word `ovs-ofctl` prints for reason bit `reason` (empty for OVS's internal packet-in reasons).
    pub fn reason_name(self, reason: u32) -> String {
        let known: &[&str] = match self {
            AsyncMsgType::PacketIn => {
                &["no_match", "action", "invalid_ttl", "action_set", "group", "packet_out", "", ""]
            }
            AsyncMsgType::PortStatus => &["add", "delete", "modify"],
            AsyncMsgType::FlowRemoved => &["idle", "hard", "delete", "group_delete", "meter_delete", "eviction"],
            AsyncMsgType::RoleStatus => &["primary_request", "configuration_changed", "experimenter_data_changed"],
            AsyncMsgType::TableStatus => &["", "", "", "vacancy_down", "vacancy_up"],
            AsyncMsgType::RequestForward => &["group_mod_request", "meter_mod_request"],
        };
        match known.get(reason as usize) {
            Some(s) if !s.is_empty() || self == AsyncMsgType::PacketIn => s.to_string(),
            _ => reason.to_string(),
        }
    }

    /// OFPACPT_* property type: the secondary ("slave") property is even, the primary one odd.
    fn prop_type(self, primary: bool) -> u16 {
        self as u16 * 2 + u16::from(primary)
    }
}

/// A connection's full asynchronous configuration (OVS `ofputil_async_cfg`): one reason bitmap per
/// message type for primary/equal controllers and one for secondaries, indexed by [`AsyncMsgType`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsyncConfig {
    pub primary: [u32; N_TYPES],
    pub secondary: [u32; N_TYPES],
}

impl AsyncConfig {
    /// What a new connection starts with in `version` (OVS `ofputil_async_cfg_default`): all
    /// packet-in reasons except invalid TTL for primaries, port status for everyone, and the
    /// version's flow-removed reasons for primaries.
    pub fn default_for(version: u8) -> AsyncConfig {
        use packet_in_reason::*;
        let mut pin = 0x3f & !(1 << INVALID_TTL) | 1 << EXPLICIT_MISS;
        if version <= OFP12_VERSION {
            pin |= 1 << IMPLICIT_MISS;
        }
        let mut c = AsyncConfig::default();
        c.primary[AsyncMsgType::PacketIn as usize] = pin;
        c.primary[AsyncMsgType::PortStatus as usize] = 0x7;
        c.secondary[AsyncMsgType::PortStatus as usize] = 0x7;
        c.primary[AsyncMsgType::FlowRemoved as usize] = match version {
            v if v >= OFP14_VERSION => 0x3f,
            OFP13_VERSION => 0xf,
            _ => 0x7,
        };
        c
    }

    /// Whether a controller gets a `t` message for `reason` (a bit number): secondaries use the
    /// secondary masks, primary and equal controllers the primary ones (OVS `ofconn_wants`).
    pub fn wants(&self, secondary: bool, t: AsyncMsgType, reason: u32) -> bool {
        reason < 32 && self.masks(!secondary)[t as usize] & (1 << reason) != 0
    }

    fn masks(&self, primary: bool) -> &[u32; N_TYPES] {
        if primary {
            &self.primary
        } else {
            &self.secondary
        }
    }

    /// The "primary:/secondary:" table `ovs-ofctl` prints.
    pub fn format(&self, out: &mut String) {
        for primary in [true, false] {
            out.push_str(if primary { "\n primary:\n" } else { "\n secondary:\n" });
            for t in AsyncMsgType::ALL {
                out.push_str(&format!("{:>16}:", t.name()));
                let mask = self.masks(primary)[t as usize];
                for bit in (0..32).filter(|b| mask & (1 << b) != 0) {
                    let name = t.reason_name(bit);
                    if !name.is_empty() {
                        out.push(' ');
                        out.push_str(&name);
                    }
                }
                if mask == 0 {
                    out.push_str(" (off)");
                }
                out.push('\n');
            }
        }
    }
}

/// A SET_ASYNC request: the masks it sets, per role and message type. The fixed-mask forms set
/// every entry (those of role status, table status and requestforward to 0, as OVS does); the
/// property forms set the entries they carry and leave the rest to the connection's current config.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsyncUpdate {
    pub primary: [Option<u32>; N_TYPES],
    pub secondary: [Option<u32>; N_TYPES],
}

impl AsyncUpdate {
    /// The configuration after this request, starting from `basis`.
    pub fn apply(&self, basis: &AsyncConfig) -> AsyncConfig {
        let mut c = *basis;
        for i in 0..N_TYPES {
            c.primary[i] = self.primary[i].unwrap_or(c.primary[i]);
            c.secondary[i] = self.secondary[i].unwrap_or(c.secondary[i]);
        }
        c
    }

    fn set(&mut self, t: AsyncMsgType, primary: bool, mask: u32) {
        let a = if primary { &mut self.primary } else { &mut self.secondary };
        a[t as usize] = Some(mask);
    }

    fn get(&self, t: AsyncMsgType, primary: bool) -> Option<u32> {
        (if primary { &self.primary } else { &self.secondary })[t as usize]
    }
}

impl From<AsyncConfig> for AsyncUpdate {
    /// A request that sets everything to `c`.
    fn from(c: AsyncConfig) -> AsyncUpdate {
        AsyncUpdate { primary: c.primary.map(Some), secondary: c.secondary.map(Some) }
    }
}

/// Message types the fixed-mask forms carry, each as a [primary, secondary] pair.
const LEGACY_TYPES: [AsyncMsgType; 3] = [AsyncMsgType::PacketIn, AsyncMsgType::PortStatus, AsyncMsgType::FlowRemoved];

fn is_tlv(raw: Raw) -> bool {
    matches!(raw, Raw::Ofpt14SetAsync | Raw::Ofpt14GetAsyncReply | Raw::NxtSetAsyncConfig2)
}

/// One mask as OVS accepts it (`decode_async_mask`): bits the version does not allow are an error
/// unless `loose` (then dropped); NO_MATCH also enables OVS's internal miss reasons.
fn decode_mask(mut mask: u32, t: AsyncMsgType, version: u8, loose: bool) -> Result<u32, OfpErr> {
    let allowed = t.allowed(version);
    if mask & !allowed != 0 {
        if !loose {
            return Err(OfpErr::OFPACFC_INVALID);
        }
        mask &= allowed;
    }
    if t == AsyncMsgType::PacketIn && mask & (1 << packet_in_reason::NO_MATCH) != 0 {
        mask |= 1 << packet_in_reason::EXPLICIT_MISS;
        if version < OFP13_VERSION {
            mask |= 1 << packet_in_reason::IMPLICIT_MISS;
        }
    }
    Ok(mask)
}

/// Decodes either form into the entries it sets.
fn decode_update(cx: Cx, r: &mut Reader, loose: bool) -> Result<AsyncUpdate, OfpErr> {
    let mut u = AsyncUpdate::default();
    if !is_tlv(cx.raw) {
        // Fixed masks are always read loosely, and leave the other types off.
        for t in LEGACY_TYPES {
            for primary in [true, false] {
                u.set(t, primary, decode_mask(r.u32()?, t, cx.version, true)?);
            }
        }
        for t in &AsyncMsgType::ALL[LEGACY_TYPES.len()..] {
            u.set(*t, true, 0);
            u.set(*t, false, 0);
        }
        return Ok(u);
    }
    while !r.is_empty() {
        let mut p = prop::pull(r, 0xfffe)?;
        let known = match p.ptype {
            PropType::Std(n) => AsyncMsgType::ALL.get(usize::from(n / 2)).map(|t| (*t, n % 2 == 1)),
            PropType::Exp { .. } => None,
        };
        match known {
            Some((t, primary)) => u.set(t, primary, decode_mask(p.u32()?, t, cx.version, loose)?),
            // Async config has its own error for unknown standard properties.
            None => prop::unknown(loose, p.ptype).map_err(|e| match e {
                OfpErr::OFPBPC_BAD_TYPE => OfpErr::OFPACFC_UNSUPPORTED,
                e => e,
            })?,
        }
    }
    Ok(u)
}

/// Encodes the entries of `u` that are set (fixed-mask forms: all three pairs, unset ones as 0),
/// each limited to what `version` allows.
fn encode_update(u: &AsyncUpdate, cx: Cx, buf: &mut BytesMut) {
    if is_tlv(cx.raw) {
        for t in AsyncMsgType::ALL {
            for primary in [false, true] {
                if let Some(m) = u.get(t, primary) {
                    prop::put_u32(buf, t.prop_type(primary), m & t.allowed(cx.version));
                }
            }
        }
    } else {
        for t in LEGACY_TYPES {
            for primary in [true, false] {
                buf.put_u32(u.get(t, primary).unwrap_or(0) & t.allowed(cx.version));
            }
        }
    }
}

impl Body for AsyncConfig {
    /// GET_ASYNC_REPLY, read loosely; properties it lacks are 0.
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        Ok(decode_update(cx, r, true)?.apply(&AsyncConfig::default()))
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        encode_update(&AsyncUpdate::from(*self), cx, buf);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        self.format(out);
    }
}

impl Body for AsyncUpdate {
    /// SET_ASYNC / NXT_SET_ASYNC_CONFIG(2), read strictly.
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        decode_update(cx, r, false)
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        encode_update(self, cx, buf);
    }

    /// What the request sets, shown over an all-off configuration as `ovs-ofctl` does.
    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        self.apply(&AsyncConfig::default()).format(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::{ofp_to_string, parse_hex};
    use crate::{Message, OfpMsg};
    use bytes::Bytes;

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }

    fn dec(h: &[u8]) -> Result<Message, OfpErr> {
        OfpMsg::decode(&Bytes::copy_from_slice(h)).map(|m| m.body).map_err(|e| e.error)
    }

    const PI: usize = AsyncMsgType::PacketIn as usize;
    const PS: usize = AsyncMsgType::PortStatus as usize;
    const FR: usize = AsyncMsgType::FlowRemoved as usize;
    const RS: usize = AsyncMsgType::RoleStatus as usize;
    const TS: usize = AsyncMsgType::TableStatus as usize;

    #[test]
    fn defaults_match_ovs() {
        let d10 = AsyncConfig::default_for(1);
        assert_eq!(d10.primary, [0xfb, 7, 7, 0, 0, 0]);
        assert_eq!(d10.secondary, [0, 7, 0, 0, 0, 0]);
        assert_eq!(AsyncConfig::default_for(3).primary[PI], 0xfb);
        assert_eq!(AsyncConfig::default_for(4).primary, [0x7b, 7, 0xf, 0, 0, 0]);
        assert_eq!(AsyncConfig::default_for(6).primary, [0x7b, 7, 0x3f, 0, 0, 0]);
        let d = AsyncConfig::default_for(4);
        assert!(d.wants(false, AsyncMsgType::PacketIn, packet_in_reason::EXPLICIT_MISS));
        assert!(!d.wants(false, AsyncMsgType::PacketIn, packet_in_reason::INVALID_TTL));
        assert!(!d.wants(true, AsyncMsgType::PacketIn, packet_in_reason::NO_MATCH));
        assert!(d.wants(true, AsyncMsgType::PortStatus, 2));
        assert!(!d.wants(false, AsyncMsgType::FlowRemoved, 40));
    }

    #[test]
    fn of13_fixed_masks() {
        // packet_in {0x1005, 0x1007}, port_status {3, 7}, flow_removed {0, 3}: the 0x1000 bits
        // are dropped (fixed masks are read loosely) and NO_MATCH adds EXPLICIT_MISS.
        let b = hex("041c002000000000000010050000100700000003000000070000000000000003");
        let Ok(Message::SetAsyncConfig(u)) = dec(&b) else { panic!() };
        assert_eq!(u.primary, [Some(0x45), Some(3), Some(0), Some(0), Some(0), Some(0)]);
        assert_eq!(u.secondary, [Some(0x47), Some(7), Some(3), Some(0), Some(0), Some(0)]);
        // Encoding drops the internal bits again.
        let m = OfpMsg::new(4, 0, Message::SetAsyncConfig(u));
        assert_eq!(m.to_bytes().to_vec(), hex("041c002000000000000000050000000700000003000000070000000000000003"));
        // OF1.0 NXT form: IMPLICIT_MISS too.
        let nx = hex("01040028000000000000232000000013000000010000000000000000000000000000000000000000");
        let Ok(Message::SetAsyncConfig(u)) = dec(&nx) else { panic!() };
        assert_eq!(u.primary[PI], Some(0xc1));
    }

    #[test]
    fn of14_properties_set_only_what_they_carry() {
        // OFPACPT_PACKET_IN_MASTER (1) = 0x2b, OFPACPT_TABLE_STATUS_SLAVE (8) = 0x18.
        let b = hex(&["051c001800000002", "000100080000002b", "0008000800000018"].concat());
        let Ok(Message::SetAsyncConfig(u)) = dec(&b) else { panic!() };
        let mut want = AsyncUpdate::default();
        want.primary[PI] = Some(0x2b | 1 << packet_in_reason::EXPLICIT_MISS);
        want.secondary[TS] = Some(0x18);
        assert_eq!(u, want);
        let basis = AsyncConfig::default_for(5);
        let after = u.apply(&basis);
        assert_eq!(after.primary, [0x6b, 7, 0x3f, 0, 0, 0]);
        assert_eq!(after.secondary, [0, 7, 0, 0, 0x18, 0]);
        // Encoding writes the set entries, secondary before primary, in type order.
        let out = OfpMsg::new(5, 2, Message::SetAsyncConfig(u)).to_bytes();
        assert_eq!(out.to_vec(), b);
    }

    #[test]
    fn of14_errors_like_ovs() {
        let msg = |t: u8, props: &str| {
            hex(&[format!("05{t:02x}{:04x}00000002", 8 + props.len() / 2), props.to_string()].concat())
        };
        // Secondary PACKET_IN 0x40 is not an OF1.4 reason.
        assert_eq!(dec(&msg(0x1c, "0000000800000040")), Err(OfpErr::OFPACFC_INVALID));
        // Unknown standard property: OFPACFC_UNSUPPORTED; experimenter: OFPBPC_BAD_EXP_TYPE.
        assert_eq!(dec(&msg(0x1c, "000c000800000001")), Err(OfpErr::OFPACFC_UNSUPPORTED));
        assert_eq!(dec(&msg(0x1c, "fffe000c000023200000000100000000")), Err(OfpErr::OFPBPC_BAD_EXP_TYPE));
        assert_eq!(dec(&msg(0x1c, "ffff000c000000000000000100000000")), Err(OfpErr::OFPBPC_BAD_EXPERIMENTER));
        // A mask property must hold exactly 4 bytes; lengths must fit.
        assert_eq!(dec(&msg(0x1c, "0001000c000000010000000000000000")), Err(OfpErr::OFPBPC_BAD_LEN));
        assert_eq!(dec(&msg(0x1c, "0001001000000001")), Err(OfpErr::OFPBPC_BAD_LEN));
        // The same in a reply is read loosely: bad bits dropped, unknown properties ignored.
        let reply = msg(0x1b, "0000000800000041000c000800000001fffe000c000023200000000100000000");
        let Ok(Message::GetAsyncReply(c)) = dec(&reply) else { panic!() };
        assert_eq!(c.secondary[PI], 0x41);
        assert_eq!(c.primary, [0; 6]);
    }

    #[test]
    fn get_async_reply_of14_carries_every_property() {
        let c = AsyncConfig::default_for(5);
        let b = OfpMsg::new(5, 1, Message::GetAsyncReply(c)).to_bytes();
        assert_eq!(b.len(), 8 + 12 * 8);
        let want: String = [
            "051b006800000001",
            "0000000800000000",
            "000100080000003b", // primary packet-in: internal EXPLICIT_MISS dropped
            "0002000800000007",
            "0003000800000007",
            "0004000800000000",
            "000500080000003f",
            "0006000800000000",
            "0007000800000000",
            "0008000800000000",
            "0009000800000000",
            "000a000800000000",
            "000b000800000000",
        ]
        .concat();
        assert_eq!(b.to_vec(), hex(&want));
        let Ok(Message::GetAsyncReply(back)) = dec(&b) else { panic!() };
        assert_eq!(back, c);
        assert_eq!((back.primary[FR], back.secondary[RS], back.secondary[PS]), (0x3f, 0, 7));
    }

    #[test]
    fn prints_the_table() {
        let b = hex("041b002000000021000000030000000000000007000000070000000f00000000");
        assert_eq!(
            ofp_to_string(&b, 1),
            "OFPT_GET_ASYNC_REPLY (OF1.3) (xid=0x21):\n primary:\n       PACKET_IN: no_match action\n     \
             PORT_STATUS: add delete modify\n    FLOW_REMOVED: idle hard delete group_delete\n     ROLE_STATUS: \
             (off)\n    TABLE_STATUS: (off)\n  REQUESTFORWARD: (off)\n\n secondary:\n       PACKET_IN: (off)\n     \
             PORT_STATUS: add delete modify\n    FLOW_REMOVED: (off)\n     ROLE_STATUS: (off)\n    TABLE_STATUS: \
             (off)\n  REQUESTFORWARD: (off)\n"
        );
        assert_eq!(AsyncMsgType::TableStatus.reason_name(0), "0");
        assert_eq!(AsyncMsgType::FlowRemoved.reason_name(6), "6");
        assert_eq!(AsyncMsgType::PacketIn.reason_name(6), "");
        assert_eq!(AsyncMsgType::PacketIn.reason_name(9), "9");
    }
}
