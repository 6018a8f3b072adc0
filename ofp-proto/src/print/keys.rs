//! A message's key fields as plain values (for `ofagent ofp-print --json`, which serialises them):
//! the common ones, then what matters about each message type, names spelled as `ovs-ofctl`
//! prints them. Ports are in OVS's notation ("3", "LOCAL"), matches and actions in OVS's text.

use crate::actions::{format_actions, format_instructions, packet_in_reason_name};
use crate::errors::{error_type_name, ErrorCode};
use crate::flow::EthAddr;
use crate::msg::async_cfg::{AsyncMsgType, N_TYPES};
use crate::msg::bundle::bundle_flag_name;
use crate::msg::flow_mod::{FlowMod, NO_BUFFER, OFPG_ANY};
use crate::msg::flow_removed::flow_removed_reason_name;
use crate::msg::flow_stats::FlowStatsRequest;
use crate::msg::port::{config, Port};
use crate::msg::switch::capabilities;
use crate::msg::{Message, OfpMsg};
use crate::ofmatch::{Match, OFP_DEFAULT_PRIORITY};
use crate::port_no;
use crate::raw::{self, OFPSF_REPLY_MORE};

/// One key field's value: what a JSON value can hold, without depending on a JSON library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValue {
    Str(String),
    Int(u64),
    Bool(bool),
    List(Vec<KeyValue>),
}

/// The key fields of `msg`, in a fixed order: `name` (e.g. "OFPT_PACKET_IN"), `version` (the
/// wire version), `xid`, `more` for multipart messages, then the body's own fields. Fields a
/// message leaves unset (no buffer, an unknown cookie, …) are left out.
pub fn key_fields(msg: &OfpMsg) -> Vec<(&'static str, KeyValue)> {
    let mut k = Keys(vec![("name", text(msg.raw.name())), ("version", int(msg.version)), ("xid", int(msg.xid))]);
    if msg.raw.is_stat() {
        k.push("more", KeyValue::Bool(msg.stats_flags & OFPSF_REPLY_MORE != 0));
    }
    let v = msg.version;
    use Message as M;
    match &msg.body {
        M::Hello(h) => k.push("version_bitmap", KeyValue::List(h.versions.iter().map(int).collect())),
        M::Error(e) => {
            let wire_type = e.wire_type(v);
            k.push("error_type", text(&error_type_name(v, wire_type).map_or(wire_type.to_string(), String::from)));
            k.push(
                "error_code",
                match e.code {
                    ErrorCode::Known(err) => text(err.name()),
                    ErrorCode::Unknown { code, .. } => text(&code.to_string()),
                },
            );
            match e.error() {
                Some(err) if err.is_hello_failed() => k.push("text", text(&String::from_utf8_lossy(&e.data))),
                _ => {
                    if let Ok(raw) = raw::identify(&e.data) {
                        k.push("request", text(raw.name()));
                    }
                }
            }
        }
        M::EchoRequest(b) | M::EchoReply(b) => k.push("payload_len", count(b.len())),
        M::FeaturesReply(f) => {
            k.push("datapath_id", text(&format!("{:016x}", f.datapath_id)));
            k.push("n_buffers", int(f.n_buffers));
            k.push("n_tables", int(f.n_tables));
            if v >= 4 {
                k.push("auxiliary_id", int(f.auxiliary_id));
            }
            k.push("capabilities", bit_names(f.capabilities, capabilities::name));
            if v <= 3 {
                k.push("ports", port_list(&f.ports));
            }
        }
        M::GetConfigReply(c) | M::SetConfig(c) => {
            k.push("frags", text(c.frag.name()));
            k.push("miss_send_len", int(c.miss_send_len));
            k.push("invalid_ttl_to_controller", KeyValue::Bool(c.invalid_ttl_to_controller));
        }
        M::PacketIn(p) => {
            k.push("reason", text(&packet_in_reason_name(p.wire_reason(v))));
            k.push("in_port", port(p.in_port()));
            k.push("total_len", int(p.total_len));
            k.push("table_id", int(p.table_id));
            if p.cookie != u64::MAX {
                k.push("cookie", KeyValue::Int(p.cookie));
            }
            if p.buffer_id != NO_BUFFER {
                k.push("buffer_id", int(p.buffer_id));
            }
            k.push("data_len", count(p.data.len()));
            k.push("metadata", match_text(&p.metadata));
        }
        M::FlowRemoved(r) => {
            k.push("reason", text(&flow_removed_reason_name(r.reason)));
            if r.table_id != 255 {
                k.push("table_id", int(r.table_id));
            }
            k.push("priority", int(r.priority));
            k.push("match", match_text(&r.match_));
            k.push("cookie", KeyValue::Int(r.cookie));
            k.push("duration_sec", int(r.duration_sec));
            k.push("idle_timeout", int(r.idle_timeout));
            k.push("hard_timeout", int(r.hard_timeout));
            k.push("packet_count", KeyValue::Int(r.packet_count));
            k.push("byte_count", KeyValue::Int(r.byte_count));
        }
        M::PortStatus(s) => {
            k.push("reason", text(s.reason.name()));
            k.push_port_desc(&s.desc);
        }
        M::PacketOut(p) => {
            k.push("in_port", port(p.in_port()));
            if p.buffer_id != NO_BUFFER {
                k.push("buffer_id", int(p.buffer_id));
            }
            let mut actions = String::new();
            format_actions(&p.actions, &mut actions);
            k.push("actions", KeyValue::Str(actions));
            k.push("data_len", count(p.data.len()));
        }
        M::FlowMod(fm) => k.push_flow_mod(fm),
        M::PortMod(pm) => {
            k.push("port", port(pm.port_no));
            k.push("hw_addr", text(&EthAddr(pm.hw_addr).to_string()));
            k.push("config", bit_names(pm.config, config::name));
            k.push("mask", bit_names(pm.mask, config::name));
        }
        M::RoleRequest(r) | M::RoleReply(r) => {
            k.push("role", text(r.role.name()));
            if let Some(g) = r.generation_id.filter(|g| *g != u64::MAX) {
                k.push("generation_id", KeyValue::Int(g));
            }
        }
        M::RoleStatus(s) => {
            k.push("role", text(s.role.name()));
            k.push("reason", text(s.reason.name()));
            k.push("generation_id", KeyValue::Int(s.generation_id));
        }
        M::GetAsyncReply(c) => {
            for t in AsyncMsgType::ALL {
                k.push(ASYNC_KEYS[0][t as usize], async_reasons(t, c.primary[t as usize]));
                k.push(ASYNC_KEYS[1][t as usize], async_reasons(t, c.secondary[t as usize]));
            }
        }
        M::SetAsyncConfig(u) => {
            for t in AsyncMsgType::ALL {
                if let Some(m) = u.primary[t as usize] {
                    k.push(ASYNC_KEYS[0][t as usize], async_reasons(t, m));
                }
                if let Some(m) = u.secondary[t as usize] {
                    k.push(ASYNC_KEYS[1][t as usize], async_reasons(t, m));
                }
            }
        }
        M::Requestforward(f) => {
            k.push("reason", text(f.reason.name()));
            k.push_embedded(&f.request);
        }
        M::TableStatus(s) => {
            k.push("reason", text(s.reason.name()));
            k.push("table_id", int(s.desc.table_id));
        }
        M::BundleControl(b) => {
            k.push("bundle_id", int(b.bundle_id));
            k.push("bundle_type", text(&b.ctrl_type.name().map_or(b.ctrl_type.0.to_string(), String::from)));
            k.push("flags", bit_names(b.flags.into(), bundle_flag_name));
        }
        M::BundleAddMessage(b) => {
            k.push("bundle_id", int(b.bundle_id));
            k.push("flags", bit_names(b.flags.into(), bundle_flag_name));
            k.push_embedded(&b.msg);
        }
        M::DescStatsReply(d) => {
            k.push("mfr_desc", text(&d.mfr_desc));
            k.push("hw_desc", text(&d.hw_desc));
            k.push("sw_desc", text(&d.sw_desc));
            k.push("serial_num", text(&d.serial_num));
            k.push("dp_desc", text(&d.dp_desc));
        }
        M::FlowStatsRequest(r) | M::AggregateStatsRequest(r) => k.push_flow_stats_request(r),
        M::FlowStatsReply(r) => k.push("flow_count", count(r.entries.len())),
        M::AggregateStatsReply(a) => {
            if a.packet_count != u64::MAX {
                k.push("packet_count", KeyValue::Int(a.packet_count));
            }
            if a.byte_count != u64::MAX {
                k.push("byte_count", KeyValue::Int(a.byte_count));
            }
            k.push("flow_count", int(a.flow_count));
        }
        M::TableStatsReply(r) => k.push("table_count", count(r.tables.len())),
        M::PortStatsRequest(r) => k.push("port", port(r.port_no)),
        M::PortStatsReply(r) => k.push("ports", KeyValue::List(r.ports.iter().map(|p| port(p.port_no)).collect())),
        M::TableFeaturesStatsRequest(t) | M::TableFeaturesStatsReply(t) => k.push("table_count", count(t.tables.len())),
        M::PortDescStatsRequest(r) => k.push("port", port(r.port_no)),
        M::PortDescStatsReply(r) => k.push("ports", port_list(&r.ports)),
        M::FlowMonitorCancel(id) => k.push("id", int(*id)),
        M::SetFlowFormat(f) => k.push("format", text(f.name())),
        M::FlowModTableId(on) => k.push("enable", KeyValue::Bool(*on)),
        M::SetPacketInFormat(f) => k.push("format", text(f.name())),
        M::SetControllerId(id) => k.push("controller_id", int(*id)),
        M::FeaturesRequest
        | M::GetConfigRequest
        | M::BarrierRequest
        | M::BarrierReply
        | M::GetAsyncRequest
        | M::DescStatsRequest
        | M::TableStatsRequest
        | M::FlowMonitorStatsRequest(_)
        | M::FlowMonitorStatsReply(_)
        | M::FlowMonitorPaused
        | M::FlowMonitorResumed
        | M::FlowAge
        | M::Other(..) => {}
    }
    k.0
}

/// The async-config keys, by role (primary, secondary) and message type.
const ASYNC_KEYS: [[&str; N_TYPES]; 2] = [
    [
        "primary_packet_in",
        "primary_port_status",
        "primary_flow_removed",
        "primary_role_status",
        "primary_table_status",
        "primary_requestforward",
    ],
    [
        "secondary_packet_in",
        "secondary_port_status",
        "secondary_flow_removed",
        "secondary_role_status",
        "secondary_table_status",
        "secondary_requestforward",
    ],
];

struct Keys(Vec<(&'static str, KeyValue)>);

impl Keys {
    fn push(&mut self, key: &'static str, value: KeyValue) {
        self.0.push((key, value));
    }

    fn push_flow_mod(&mut self, fm: &FlowMod) {
        self.push("command", text(fm.command.name()));
        self.push("table_id", int(fm.table_id));
        self.push("priority", int(fm.priority));
        self.push("match", match_text(&fm.match_));
        let mut actions = String::new();
        format_instructions(&fm.instructions, &mut actions);
        self.push("actions", KeyValue::Str(actions));
        if fm.new_cookie != u64::MAX {
            self.push("cookie", KeyValue::Int(fm.new_cookie));
        }
        if fm.cookie_mask != 0 {
            self.push("cookie_match", KeyValue::Int(fm.cookie));
            self.push("cookie_mask", KeyValue::Int(fm.cookie_mask));
        }
        self.push("idle_timeout", int(fm.idle_timeout));
        self.push("hard_timeout", int(fm.hard_timeout));
        if fm.importance != 0 {
            self.push("importance", int(fm.importance));
        }
        if fm.buffer_id != NO_BUFFER {
            self.push("buffer_id", int(fm.buffer_id));
        }
        if fm.out_port != port_no::ANY {
            self.push("out_port", port(fm.out_port));
        }
        if fm.out_group != OFPG_ANY {
            self.push("out_group", int(fm.out_group));
        }
        self.push("flags", KeyValue::List(fm.flags.names().map(text).collect()));
    }

    fn push_flow_stats_request(&mut self, r: &FlowStatsRequest) {
        self.push("table_id", int(r.table_id));
        self.push("match", match_text(&r.match_));
        if r.out_port != port_no::ANY {
            self.push("out_port", port(r.out_port));
        }
        if r.out_group != OFPG_ANY {
            self.push("out_group", int(r.out_group));
        }
        if r.cookie_mask != 0 {
            self.push("cookie", KeyValue::Int(r.cookie));
            self.push("cookie_mask", KeyValue::Int(r.cookie_mask));
        }
    }

    fn push_port_desc(&mut self, p: &Port) {
        self.push("port", port(p.port_no));
        self.push("port_name", text(&p.name.to_string_lossy()));
        self.push("hw_addr", text(&EthAddr(p.hw_addr).to_string()));
        self.push("config", bit_names(p.config, config::name));
    }

    /// The name and xid of a message carried inside another (bundle add, requestforward).
    fn push_embedded(&mut self, inner: &[u8]) {
        if let Ok(raw) = raw::identify(inner) {
            self.push("inner_name", text(raw.name()));
            self.push("inner_xid", int(crate::buf::be32(inner, 4)));
        }
    }
}

fn text(s: &str) -> KeyValue {
    KeyValue::Str(s.to_string())
}

fn int(v: impl Into<u64>) -> KeyValue {
    KeyValue::Int(v.into())
}

fn count(n: usize) -> KeyValue {
    KeyValue::Int(n as u64)
}

fn port(p: u32) -> KeyValue {
    let mut s = String::new();
    port_no::format_port(p, &mut s);
    KeyValue::Str(s)
}

fn port_list(ports: &[Port]) -> KeyValue {
    KeyValue::List(ports.iter().map(|p| port(p.port_no)).collect())
}

fn match_text(m: &Match) -> KeyValue {
    KeyValue::Str(m.to_text(OFP_DEFAULT_PRIORITY))
}

/// The names of the set bits, lowest first; bits without a name as one hex number.
fn bit_names(bits: u32, name: impl Fn(u32) -> Option<&'static str>) -> KeyValue {
    let mut out: Vec<KeyValue> =
        (0..32).map(|i| 1u32 << i).filter(|b| bits & b != 0).filter_map(|b| name(b).map(text)).collect();
    let unnamed = (0..32).map(|i| 1u32 << i).filter(|b| bits & b != 0 && name(*b).is_none()).fold(0, |a, b| a | b);
    if unnamed != 0 {
        out.push(KeyValue::Str(format!("{unnamed:#x}")));
    }
    KeyValue::List(out)
}

fn async_reasons(t: AsyncMsgType, mask: u32) -> KeyValue {
    let names = (0..32).filter(|b| mask & (1 << b) != 0).map(|b| t.reason_name(b)).filter(|n| !n.is_empty());
    KeyValue::List(names.map(KeyValue::Str).collect())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::actions::{Action, OFPR_ACTION};
    use crate::errors::{ErrorMsg, OfpErr};
    use crate::flow::ETH_TYPE_IP;
    use crate::header::VersionBitmap;
    use crate::instructions::Instructions;
    use crate::mf::MfId;
    use crate::msg::bundle::{BundleAdd, BundleCtrl, BundleCtrlType, OFPBF_ATOMIC, OFPBF_ORDERED};
    use crate::msg::flow_mod::FlowModFlags;
    use crate::msg::packet_in::PacketIn;
    use crate::msg::port::{PortReason, PortStatus};
    use crate::msg::role::{Role, RoleMsg};
    use crate::msg::stats::{PortStats, PortStatsReply};
    use crate::msg::{AsyncConfig, Hello, PacketOut};
    use crate::print::parse_hex;

    use KeyValue::{Bool, Int, List, Str};

    /// The key fields of `msg` as the daemon gets them: from the bytes on the wire.
    fn keys(msg: OfpMsg) -> Vec<(&'static str, KeyValue)> {
        key_fields(&OfpMsg::decode(&msg.to_bytes()).unwrap())
    }

    fn s(v: &str) -> KeyValue {
        Str(v.to_string())
    }

    fn strs(v: &[&str]) -> KeyValue {
        List(v.iter().map(|x| s(x)).collect())
    }

    fn common(name: &str, version: u8, xid: u32) -> Vec<(&'static str, KeyValue)> {
        vec![("name", s(name)), ("version", Int(version.into())), ("xid", Int(xid.into()))]
    }

    fn with(
        mut head: Vec<(&'static str, KeyValue)>,
        rest: Vec<(&'static str, KeyValue)>,
    ) -> Vec<(&'static str, KeyValue)> {
        head.extend(rest);
        head
    }

    #[test]
    fn packet_in() {
        let mut p = PacketIn {
            reason: OFPR_ACTION,
            table_id: 2,
            cookie: 5,
            data: Bytes::from_static(&[0xab; 10]),
            total_len: 64,
            ..PacketIn::default()
        };
        p.metadata.set_in_port(port_no::LOCAL);
        p.metadata.set(MfId::TunId, 0x99, u64::MAX.into());
        let want = vec![
            ("reason", s("action")),
            ("in_port", s("LOCAL")),
            ("total_len", Int(64)),
            ("table_id", Int(2)),
            ("cookie", Int(5)),
            ("data_len", Int(10)),
            ("metadata", s("tun_id=0x99,in_port=LOCAL")),
        ];
        assert_eq!(
            keys(OfpMsg::new(4, 0x11, Message::PacketIn(p.clone()))),
            with(common("OFPT_PACKET_IN", 4, 0x11), want)
        );
        // OF1.0 cannot say table or cookie; a buffered packet has a buffer id.
        p.buffer_id = 7;
        p.metadata = Match::catchall();
        p.metadata.set_in_port(3);
        let want = vec![
            ("reason", s("action")),
            ("in_port", s("3")),
            ("total_len", Int(64)),
            ("table_id", Int(0)),
            ("buffer_id", Int(7)),
            ("data_len", Int(10)),
            ("metadata", s("in_port=3")),
        ];
        assert_eq!(keys(OfpMsg::new(1, 2, Message::PacketIn(p))), with(common("OFPT_PACKET_IN", 1, 2), want));
    }

    #[test]
    fn flow_mod() {
        let mut m = Match::catchall();
        m.set_in_port(1);
        m.set_dl_type(ETH_TYPE_IP);
        m.set_nw_dst_masked(0x0a00_0001, u32::MAX);
        m.set_default_packet_type();
        let fm = FlowMod {
            table_id: 1,
            priority: 100,
            idle_timeout: 60,
            new_cookie: 7,
            flags: FlowModFlags(FlowModFlags::SEND_FLOW_REM | FlowModFlags::CHECK_OVERLAP),
            match_: m,
            instructions: Instructions::apply([Action::Output { port: 2, max_len: 0 }]),
            ..FlowMod::default()
        };
        let want = vec![
            ("command", s("ADD")),
            ("table_id", Int(1)),
            ("priority", Int(100)),
            ("match", s("ip,in_port=1,nw_dst=10.0.0.1")),
            ("actions", s("output:2")),
            ("cookie", Int(7)),
            ("idle_timeout", Int(60)),
            ("hard_timeout", Int(0)),
            ("flags", strs(&["send_flow_rem", "check_overlap"])),
        ];
        assert_eq!(keys(OfpMsg::new(4, 3, Message::FlowMod(fm))), with(common("OFPT_FLOW_MOD", 4, 3), want));
    }

    #[test]
    fn errors_name_type_and_code() {
        let echo = OfpMsg::new(4, 9, Message::EchoRequest(Bytes::new())).to_bytes();
        let e = ErrorMsg::reply_to(OfpErr::OFPBRC_BAD_TYPE, &echo);
        let want = vec![
            ("error_type", s("OFPET_BAD_REQUEST")),
            ("error_code", s("OFPBRC_BAD_TYPE")),
            ("request", s("OFPT_ECHO_REQUEST")),
        ];
        assert_eq!(keys(OfpMsg::new(4, 9, Message::Error(e))), with(common("OFPT_ERROR", 4, 9), want));
        let e = ErrorMsg::hello_failed(OfpErr::OFPHFC_INCOMPATIBLE, "no common version");
        let want = vec![
            ("error_type", s("OFPET_HELLO_FAILED")),
            ("error_code", s("OFPHFC_INCOMPATIBLE")),
            ("text", s("no common version")),
        ];
        assert_eq!(keys(OfpMsg::new(1, 0, Message::Error(e))), with(common("OFPT_ERROR", 1, 0), want));
        // A type/code OVS does not know: numbers.
        let unknown = parse_hex("04010010000000050063000700000000").unwrap();
        let want = vec![("error_type", s("99")), ("error_code", s("7"))];
        assert_eq!(key_fields(&OfpMsg::decode(&Bytes::from(unknown)).unwrap()), with(common("OFPT_ERROR", 4, 5), want));
    }

    #[test]
    fn control_messages() {
        let hello = Message::Hello(Hello::new(VersionBitmap(1 << 1 | 1 << 4)));
        assert_eq!(
            keys(OfpMsg::new(4, 1, hello)),
            with(common("OFPT_HELLO", 4, 1), vec![("version_bitmap", List(vec![Int(1), Int(4)]))])
        );
        let role = Message::RoleRequest(RoleMsg { role: Role::Primary, generation_id: Some(16) });
        let want = vec![("role", s("primary")), ("generation_id", Int(16))];
        assert_eq!(keys(OfpMsg::new(4, 2, role)), with(common("OFPT_ROLE_REQUEST", 4, 2), want));
        let echo = Message::EchoReply(Bytes::from_static(b"abc"));
        assert_eq!(keys(OfpMsg::new(6, 3, echo)), with(common("OFPT_ECHO_REPLY", 6, 3), vec![("payload_len", Int(3))]));
        assert_eq!(keys(OfpMsg::new(5, 4, Message::BarrierReply)), common("OFPT_BARRIER_REPLY", 5, 4));
        let port = Port { port_no: 3, hw_addr: [0x50, 0x54, 0, 0, 0, 1], name: "eth0".into(), ..Port::default() };
        let status = Message::PortStatus(PortStatus { reason: PortReason::Add, desc: port });
        let want = vec![
            ("reason", s("ADD")),
            ("port", s("3")),
            ("port_name", s("eth0")),
            ("hw_addr", s("50:54:00:00:00:01")),
            ("config", List(vec![])),
        ];
        assert_eq!(keys(OfpMsg::new(5, 0, status)), with(common("OFPT_PORT_STATUS", 5, 0), want));
        // OF1.3 carries only the packet-in reasons it defines.
        let reply = Message::GetAsyncReply(AsyncConfig::default_for(4));
        let want = vec![
            ("primary_packet_in", strs(&["no_match", "action"])),
            ("secondary_packet_in", strs(&[])),
            ("primary_port_status", strs(&["add", "delete", "modify"])),
            ("secondary_port_status", strs(&["add", "delete", "modify"])),
            ("primary_flow_removed", strs(&["idle", "hard", "delete", "group_delete"])),
            ("secondary_flow_removed", strs(&[])),
            ("primary_role_status", strs(&[])),
            ("secondary_role_status", strs(&[])),
            ("primary_table_status", strs(&[])),
            ("secondary_table_status", strs(&[])),
            ("primary_requestforward", strs(&[])),
            ("secondary_requestforward", strs(&[])),
        ];
        assert_eq!(keys(OfpMsg::new(4, 8, reply)), with(common("OFPT_GET_ASYNC_REPLY", 4, 8), want));
    }

    #[test]
    fn bundles_name_their_contents() {
        let ctrl = BundleCtrl::new(9, BundleCtrlType::OPEN_REQUEST, OFPBF_ATOMIC | OFPBF_ORDERED);
        let want =
            vec![("bundle_id", Int(9)), ("bundle_type", s("OPEN_REQUEST")), ("flags", strs(&["atomic", "ordered"]))];
        assert_eq!(
            keys(OfpMsg::new(5, 1, Message::BundleControl(ctrl))),
            with(common("OFPT_BUNDLE_CONTROL", 5, 1), want)
        );
        let po = PacketOut::new(
            port_no::CONTROLLER,
            [Action::Output { port: 1, max_len: 0 }].into_iter().collect(),
            Bytes::new(),
        );
        let add = BundleAdd::wrap(9, 0x10, OfpMsg::new(4, 6, Message::PacketOut(po))).unwrap();
        let want = vec![
            ("bundle_id", Int(9)),
            ("flags", strs(&["0x10"])),
            ("inner_name", s("OFPT_PACKET_OUT")),
            ("inner_xid", Int(6)),
        ];
        assert_eq!(keys(add), with(common("ONFT_BUNDLE_ADD_MESSAGE", 4, 6), want));
    }

    #[test]
    fn multipart_replies_say_more() {
        let reply = PortStatsReply { ports: vec![PortStats::unknown(1), PortStats::unknown(port_no::LOCAL)] };
        let msg = OfpMsg::new(4, 12, Message::PortStatsReply(reply)).with_stats_flags(OFPSF_REPLY_MORE);
        let want = vec![("more", Bool(true)), ("ports", strs(&["1", "LOCAL"]))];
        assert_eq!(keys(msg), with(common("OFPST_PORT reply", 4, 12), want));
    }

    #[test]
    fn opaque_messages_have_the_common_fields() {
        // OFPT_GROUP_MOD (OF1.3), kept opaque.
        let group_mod = parse_hex("040f0010000000210000000000000001").unwrap();
        let msg = OfpMsg::decode(&Bytes::from(group_mod)).unwrap();
        assert!(matches!(msg.body, Message::Other(..)));
        assert_eq!(key_fields(&msg), common("OFPT_GROUP_MOD", 4, 0x21));
    }
}
