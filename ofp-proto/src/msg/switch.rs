//! Switch features (OFPT_FEATURES_REPLY) and switch configuration (OFPT_GET_CONFIG_REPLY, OFPT_SET_CONFIG).

use bytes::{BufMut, BytesMut};

use crate::buf::Reader;
use crate::errors::OfpErr;
use crate::header::{HEADER_LEN, MAX_MSG_LEN, OFP10_VERSION, OFP13_VERSION};
use crate::msg::port::Port;
use crate::msg::{Body, Cx};
use crate::print::put_bit_names;
use crate::raw::Raw;

/// Switch capability bits as OVS keeps them (`OFPUTIL_C_*`): the wire's shared bits, with OF1.0's
/// STP and OF1.1+'s GROUP_STATS (both wire bit 3) moved apart.
pub mod capabilities {
    pub const FLOW_STATS: u32 = 1 << 0;
    pub const TABLE_STATS: u32 = 1 << 1;
    pub const PORT_STATS: u32 = 1 << 2;
    /// OF1.0 only (wire bit 3).
    pub const STP: u32 = 1 << 3;
    /// OF1.1+ only (wire bit 3).
    pub const GROUP_STATS: u32 = 1 << 4;
    pub const IP_REASM: u32 = 1 << 5;
    pub const QUEUE_STATS: u32 = 1 << 6;
    /// OF1.0 and OF1.1 only.
    pub const ARP_MATCH_IP: u32 = 1 << 7;
    /// OF1.2+.
    pub const PORT_BLOCKED: u32 = 1 << 8;
    /// OF1.4+.
    pub const BUNDLES: u32 = 1 << 9;
    /// OF1.4+.
    pub const FLOW_MONITORING: u32 = 1 << 10;

    /// The bits whose wire position is the same as ours in `version` (`ofputil_capabilities_mask`).
    pub fn same_on_wire(version: u8) -> u32 {
        let common = FLOW_STATS | TABLE_STATS | PORT_STATS | IP_REASM | QUEUE_STATS;
        match version {
            1 | 2 => common | ARP_MATCH_IP,
            3 | 4 => common | PORT_BLOCKED,
            _ => common | PORT_BLOCKED | BUNDLES | FLOW_MONITORING,
        }
    }

    pub(crate) fn name(bit: u32) -> Option<&'static str> {
        Some(match bit {
            FLOW_STATS => "FLOW_STATS",
            TABLE_STATS => "TABLE_STATS",
            PORT_STATS => "PORT_STATS",
            IP_REASM => "IP_REASM",
            QUEUE_STATS => "QUEUE_STATS",
            ARP_MATCH_IP => "ARP_MATCH_IP",
            STP => "STP",
            GROUP_STATS => "GROUP_STATS",
            PORT_BLOCKED => "PORT_BLOCKED",
            BUNDLES => "BUNDLES",
            FLOW_MONITORING => "FLOW_MONITORING",
            _ => return None,
        })
    }
}

/// OF1.0 `OFPAT10_*` bits a features reply may advertise, with the names OVS prints, in the order
/// OVS prints them (its internal action order, which puts enqueue second).
const OF10_ACTIONS: [(u32, &str); 12] = [
    (0, "output"),
    (11, "enqueue"),
    (1, "set_vlan_vid"),
    (2, "set_vlan_pcp"),
    (3, "strip_vlan"),
    (4, "mod_dl_src"),
    (5, "mod_dl_dst"),
    (6, "mod_nw_src"),
    (7, "mod_nw_dst"),
    (8, "mod_nw_tos"),
    (9, "mod_tp_src"),
    (10, "mod_tp_dst"),
];

/// Every OF1.0 action bit OVS knows.
pub const OF10_ACTIONS_ALL: u32 = 0xfff;

const OFPC10_STP: u32 = 1 << 3;
const OFPC11_GROUP_STATS: u32 = 1 << 3;
const FEATURES_LEN: usize = 24;

/// OFPT_FEATURES_REPLY (OVS `ofputil_switch_features` plus the port list of OF1.0–1.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwitchFeatures {
    pub datapath_id: u64,
    pub n_buffers: u32,
    pub n_tables: u8,
    /// OF1.3+ only.
    pub auxiliary_id: u8,
    /// [`capabilities`] bits.
    pub capabilities: u32,
    /// OF1.0 only: `OFPAT10_*` bits (within [`OF10_ACTIONS_ALL`]).
    pub actions: u32,
    /// OF1.0–1.2 only. Encoding keeps as many as fit in one message and drops the rest, as OVS does
    /// (the controller then asks with a port description request).
    pub ports: Vec<Port>,
}

impl SwitchFeatures {
    /// The fixed part (`ofputil_pull_switch_features`), without ports.
    fn decode_fixed(cx: Cx, r: &mut Reader) -> Result<SwitchFeatures, OfpErr> {
        let datapath_id = r.u64()?;
        let n_buffers = r.u32()?;
        let n_tables = r.u8()?;
        let aux = r.u8()?;
        r.skip(2)?;
        let wire_caps = r.u32()?;
        let wire_actions = r.u32()?;
        let mut f = SwitchFeatures {
            datapath_id,
            n_buffers,
            n_tables,
            capabilities: wire_caps & capabilities::same_on_wire(cx.version),
            ..SwitchFeatures::default()
        };
        if cx.raw == Raw::Ofpt10FeaturesReply {
            if wire_caps & OFPC10_STP != 0 {
                f.capabilities |= capabilities::STP;
            }
            f.actions = wire_actions & OF10_ACTIONS_ALL;
        } else {
            if wire_caps & OFPC11_GROUP_STATS != 0 {
                f.capabilities |= capabilities::GROUP_STATS;
            }
            if cx.raw == Raw::Ofpt13FeaturesReply {
                f.auxiliary_id = aux;
            }
        }
        Ok(f)
    }

    /// OVS's `ofputil_switch_features_format`: everything but the ports.
    fn format_fixed(&self, out: &mut String) {
        out.push_str(&format!(" dpid:{:016x}\n", self.datapath_id));
        out.push_str(&format!("n_tables:{}, n_buffers:{}", self.n_tables, self.n_buffers));
        if self.auxiliary_id != 0 {
            out.push_str(&format!(", auxiliary_id:{}", self.auxiliary_id));
        }
        out.push_str("\ncapabilities: ");
        put_bit_names(out, self.capabilities, capabilities::name, ' ');
        out.push('\n');
        if self.actions != 0 {
            let names: Vec<&str> =
                OF10_ACTIONS.iter().filter(|(bit, _)| self.actions & (1 << bit) != 0).map(|(_, n)| *n).collect();
            out.push_str(&format!("actions: {}\n", names.join(" ")));
        }
    }
}

impl Body for SwitchFeatures {
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let mut f = SwitchFeatures::decode_fixed(cx, r)?;
        if cx.raw != Raw::Ofpt13FeaturesReply {
            f.ports = Port::decode_list(cx.version, r)?;
        }
        Ok(f)
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        let v = cx.version;
        let mut caps = self.capabilities & capabilities::same_on_wire(v);
        let mut actions = 0;
        if v == OFP10_VERSION {
            if self.capabilities & capabilities::STP != 0 {
                caps |= OFPC10_STP;
            }
            actions = self.actions & OF10_ACTIONS_ALL;
        } else if self.capabilities & capabilities::GROUP_STATS != 0 {
            caps |= OFPC11_GROUP_STATS;
        }
        buf.put_u64(self.datapath_id);
        buf.put_u32(self.n_buffers);
        buf.put_u8(self.n_tables);
        buf.put_u8(if v >= OFP13_VERSION { self.auxiliary_id } else { 0 });
        buf.put_u16(0);
        buf.put_u32(caps);
        buf.put_u32(actions);
        if v < OFP13_VERSION {
            let room = (MAX_MSG_LEN - HEADER_LEN - FEATURES_LEN) / Port::encoded_len(v);
            for p in self.ports.iter().take(room) {
                p.encode(v, buf);
            }
        }
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        self.format_fixed(out);
        Port::format_list(&self.ports, out);
    }

    /// OVS prints the features and the ports before the bad one.
    fn print_undecodable(cx: Cx, r: &mut Reader, err: OfpErr, out: &mut String, _verbosity: u8) -> Option<OfpErr> {
        match SwitchFeatures::decode_fixed(cx, r) {
            Ok(f) => {
                f.format_fixed(out);
                Port::format_list_prefix(cx.version, r, out)
            }
            Err(_) => Some(err),
        }
    }
}

/// What the switch does with IP fragments (`OFPC_FRAG_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FragHandling {
    #[default]
    Normal = 0,
    Drop = 1,
    Reassemble = 2,
    NxMatch = 3,
}

impl FragHandling {
    pub fn name(self) -> &'static str {
        match self {
            FragHandling::Normal => "normal",
            FragHandling::Drop => "drop",
            FragHandling::Reassemble => "reassemble",
            FragHandling::NxMatch => "nx-match",
        }
    }

    fn from_bits(b: u16) -> FragHandling {
        match b & OFPC_FRAG_MASK {
            0 => FragHandling::Normal,
            1 => FragHandling::Drop,
            2 => FragHandling::Reassemble,
            _ => FragHandling::NxMatch,
        }
    }
}

const OFPC_FRAG_MASK: u16 = 3;
const OFPC_INVALID_TTL_TO_CONTROLLER: u16 = 1 << 2;

/// OFPT_GET_CONFIG_REPLY / OFPT_SET_CONFIG (OVS `ofputil_switch_config`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwitchConfig {
    pub frag: FragHandling,
    /// OF1.0–1.2 only (deprecated in OF1.3, where it always decodes as false).
    pub invalid_ttl_to_controller: bool,
    pub miss_send_len: u16,
}

impl Body for SwitchConfig {
    /// A SET_CONFIG with flags its version does not define fails with OFPSCFC_BAD_FLAGS; a
    /// GET_CONFIG_REPLY's unknown flags are ignored (as OVS does for both).
    fn decode(cx: Cx, r: &mut Reader) -> Result<Self, OfpErr> {
        let flags = r.u16()?;
        let miss_send_len = r.u16()?;
        let ttl_known = cx.version < OFP13_VERSION;
        let valid = OFPC_FRAG_MASK | if ttl_known { OFPC_INVALID_TTL_TO_CONTROLLER } else { 0 };
        if cx.raw == Raw::OfptSetConfig && flags & !valid != 0 {
            return Err(OfpErr::OFPSCFC_BAD_FLAGS);
        }
        Ok(SwitchConfig {
            frag: FragHandling::from_bits(flags),
            invalid_ttl_to_controller: ttl_known && flags & OFPC_INVALID_TTL_TO_CONTROLLER != 0,
            miss_send_len,
        })
    }

    fn encode(&self, cx: Cx, buf: &mut BytesMut) {
        let mut flags = self.frag as u16;
        if self.invalid_ttl_to_controller && cx.version < OFP13_VERSION {
            flags |= OFPC_INVALID_TTL_TO_CONTROLLER;
        }
        buf.put_u16(flags);
        buf.put_u16(self.miss_send_len);
    }

    fn print(&self, _cx: Cx, out: &mut String, _verbosity: u8) {
        out.push_str(&format!(" frags={}", self.frag.name()));
        if self.invalid_ttl_to_controller {
            out.push_str(" invalid_ttl_to_controller");
        }
        out.push_str(&format!(" miss_send_len={}\n", self.miss_send_len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::port::{config, state};
    use crate::print::{first_line, parse_hex};
    use crate::{Message, OfpMsg};
    use bytes::Bytes;

    fn hex(s: &str) -> Vec<u8> {
        parse_hex(s).unwrap()
    }

    fn enc(m: &Message, version: u8) -> Vec<u8> {
        OfpMsg::new(version, 1, m.clone()).to_bytes().to_vec()
    }

    fn local() -> Port {
        Port {
            port_no: crate::port_no::LOCAL,
            hw_addr: [0x50, 0x54, 0, 0, 0, 1],
            name: "br0".into(),
            config: config::PORT_DOWN,
            state: state::LINK_DOWN,
            ..Port::default()
        }
    }

    #[test]
    fn features_reply_of10_with_stp_actions_and_a_port() {
        let f = SwitchFeatures {
            datapath_id: 0x5054_0000_0001,
            n_buffers: 256,
            n_tables: 2,
            auxiliary_id: 9,
            capabilities: capabilities::FLOW_STATS | capabilities::STP | capabilities::ARP_MATCH_IP,
            actions: 0x801,
            ports: vec![local()],
        };
        let want = hex(&[
            "010600500000000100005054000000010000010002000000",
            "00000089",
            "00000801",
            // ofp10_phy_port: LOCAL is 0xfffe.
            "fffe505400000001627230000000000000000000000000000000000100000001",
            "00000000000000000000000000000000",
        ]
        .concat());
        let got = enc(&Message::FeaturesReply(f.clone()), 1);
        assert_eq!(got, want);
        let back = OfpMsg::decode(&Bytes::from(got)).unwrap();
        // OF1.0 has no auxiliary id.
        assert_eq!(back.body, Message::FeaturesReply(SwitchFeatures { auxiliary_id: 0, ..f }));
        assert_eq!(first_line(&want), "OFPT_FEATURES_REPLY (xid=0x1): dpid:0000505400000001");
    }

    #[test]
    fn features_reply_group_stats_moves_to_wire_bit_3_in_of11_and_later() {
        let f = SwitchFeatures {
            datapath_id: 1,
            n_buffers: 0,
            n_tables: 254,
            auxiliary_id: 1,
            capabilities: capabilities::GROUP_STATS | capabilities::PORT_BLOCKED | capabilities::BUNDLES,
            actions: 0xfff,
            ports: vec![local()],
        };
        // OF1.3: no ports, no actions, auxiliary id kept, PORT_BLOCKED (bit 8) allowed, BUNDLES not.
        let of13 =
            hex(&["0406002000000001", "0000000000000001", "00000000", "fe010000", "00000108", "00000000"].concat());
        assert_eq!(enc(&Message::FeaturesReply(f.clone()), 4), of13);
        // OF1.4 adds BUNDLES (bit 9).
        let of14 = enc(&Message::FeaturesReply(f.clone()), 5);
        assert_eq!(&of14[24..32], &hex("0000030800000000")[..]);
        // OF1.1: GROUP_STATS only (PORT_BLOCKED is OF1.2+), one 64-byte port.
        let of11 = enc(&Message::FeaturesReply(f), 2);
        assert_eq!(of11.len(), 8 + 24 + 64);
        assert_eq!(&of11[24..32], &hex("0000000800000000")[..]);
    }

    #[test]
    fn features_reply_drops_ports_that_do_not_fit() {
        let f = SwitchFeatures { ports: vec![local(); 1400], ..SwitchFeatures::default() };
        let b = enc(&Message::FeaturesReply(f), 1);
        assert_eq!(b.len(), 8 + 24 + 1364 * 48);
        assert!(OfpMsg::decode(&Bytes::from(b)).is_ok());
    }

    #[test]
    fn a_bad_port_is_printed_after_the_good_ones_like_ovs() {
        // OF1.1 features reply: LOCAL, then a port numbered 0xff00 (outside both OF1.1 ranges).
        let b = hex(&[
            "020600a000000001000050540000000100000100020000000000008700000000",
            "fffffffe00000000505400000001000062723000000000000000000000000000000000010000000100000000",
            "000000000000000000000000000186a0000186a0",
            "0000ff00000000005054000000010000657468300000000000000000000000000000000000000000",
            "000020080000280f0000280f00000000000186a0000186a0",
        ]
        .concat());
        let text = crate::print::ofp_to_string(&b, 1);
        let want = "OFPT_FEATURES_REPLY (OF1.1) (xid=0x1): dpid:0000505400000001\nn_tables:2, n_buffers:256\n\
                    capabilities: FLOW_STATS TABLE_STATS PORT_STATS ARP_MATCH_IP\n LOCAL(br0): addr:50:54:00:00:00:01\n     \
                    config:     PORT_DOWN\n     state:      LINK_DOWN\n     speed: 100 Mbps now, 100 Mbps max\n\
                    ***decode error: OFPBAC_BAD_OUT_PORT***\n00000000  02 06 00 a0";
        assert!(text.starts_with(want), "{text}");
    }

    #[test]
    fn switch_config_flags_per_version() {
        let c = SwitchConfig { frag: FragHandling::Reassemble, invalid_ttl_to_controller: true, miss_send_len: 128 };
        assert_eq!(enc(&Message::SetConfig(c), 1), hex("0109000c0000000100060080"));
        // OF1.3 has no invalid-ttl flag.
        assert_eq!(enc(&Message::SetConfig(c), 4), hex("0409000c0000000100020080"));
        let dec = |h: &str| OfpMsg::decode(&Bytes::from(hex(h))).map(|m| m.body).map_err(|e| e.error);
        assert_eq!(dec("0109000c0000000100060080"), Ok(Message::SetConfig(c)));
        // Undefined flags: SET_CONFIG fails, GET_CONFIG_REPLY ignores them.
        assert_eq!(dec("0409000c0000000100060080"), Err(OfpErr::OFPSCFC_BAD_FLAGS));
        assert_eq!(dec("0109000c0000000100090080"), Err(OfpErr::OFPSCFC_BAD_FLAGS));
        let reply = SwitchConfig { invalid_ttl_to_controller: false, ..c };
        assert_eq!(dec("0408000c00000001ff060080"), Ok(Message::GetConfigReply(reply)));
        assert_eq!(
            first_line(&hex("0309000c0000000100070080")),
            "OFPT_SET_CONFIG (OF1.2) (xid=0x1): frags=nx-match invalid_ttl_to_controller miss_send_len=128"
        );
    }
}
