//! What `ofagent status` reports: the core's part ([`CoreStatus`]), the daemon's own (listeners and
//! socket counters), and the text form. `status --json` is [`Status`] serialised.

use std::collections::BTreeMap;
use std::fmt;

use ofp_proto::msg::role::Role;
use serde::{Deserialize, Serialize};

/// Everything `status` shows for the bridge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub bridge: String,
    /// 16 hex digits, as OVS's `datapath_id` column.
    pub datapath_id: String,
    pub fail_mode: String,
    /// True while the switch fails open (standalone, controllers configured, none reachable).
    pub fail_open_active: bool,
    pub controllers: Vec<ControllerStatus>,
    pub listeners: Vec<ListenerStatus>,
    /// Flows in the flow tables.
    pub flows: u64,
    pub ports: Vec<PortStatus>,
    pub upcalls: BTreeMap<String, u64>,
    pub queues: BTreeMap<String, u64>,
    pub io: IoStatus,
}

/// The core's part of [`Status`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreStatus {
    pub controllers: Vec<ControllerStatus>,
    pub fail_open_active: bool,
    pub flows: u64,
    pub ports: Vec<PortStatus>,
    /// Upcall counters under OVS's coverage names (`upcall_received`, `miss_queue_overflow`, …).
    pub upcalls: BTreeMap<String, u64>,
    /// Queue lengths and drops (packet-in queues, transmit backlogs, …), by name.
    pub queues: BTreeMap<String, u64>,
}

/// One active controller target, with the keys OVS puts in its Controller row (`role`,
/// `is_connected`, and the `status` map).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerStatus {
    pub target: String,
    /// "other", "master" or "slave" (OVS's words); absent while not connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub is_connected: bool,
    /// The rconn state: VOID, BACKOFF, CONNECTING, ACTIVE or IDLE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sec_since_connect: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sec_since_disconnect: Option<u64>,
    /// Packet-in scheduler counters (present with a controller rate limit), keyed as OVS keys them:
    /// `packet-in-{action,miss}-{backlog,bypassed,queued,dropped}`.
    #[serde(flatten)]
    pub packet_in: BTreeMap<String, u64>,
}

impl ControllerStatus {
    /// From what `connmgr_core::ConnMgr::controller_info` gives per target: OVS's status pairs
    /// (`state`, `last_error`, `sec_since_*`, `packet-in-*`) as strings. Unknown keys are ignored.
    pub fn from_ovs_pairs(
        target: &str,
        is_connected: bool,
        role: Option<Role>,
        pairs: &BTreeMap<String, String>,
    ) -> ControllerStatus {
        let num = |k: &str| pairs.get(k).and_then(|v| v.parse().ok());
        ControllerStatus {
            target: target.to_string(),
            role: role.and_then(ovs_role_name).map(str::to_string),
            is_connected,
            state: pairs.get("state").cloned(),
            last_error: pairs.get("last_error").cloned(),
            sec_since_connect: num("sec_since_connect"),
            sec_since_disconnect: num("sec_since_disconnect"),
            packet_in: pairs
                .iter()
                .filter(|(k, _)| k.starts_with("packet-in-"))
                .filter_map(|(k, v)| Some((k.clone(), v.parse().ok()?)))
                .collect(),
        }
    }
}

/// The word OVS's bridge writes in the Controller `role` column.
pub fn ovs_role_name(role: Role) -> Option<&'static str> {
    match role {
        Role::Equal => Some("other"),
        Role::Primary => Some("master"),
        Role::Secondary => Some("slave"),
        Role::NoChange => None,
    }
}

/// A passive target the daemon listens on (kept by the daemon itself: OVS reports no status for
/// passive targets).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerStatus {
    pub target: String,
    /// "service" (OpenFlow connections) or "snoop" (monitor copies of a controller connection).
    pub kind: String,
    /// The bound address, e.g. "ptcp:43121:127.0.0.1" for "ptcp:0:127.0.0.1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound: Option<String>,
    /// True while at least one accepted connection is open.
    pub is_connected: bool,
    pub n_connections: u64,
    /// "LISTENING", "FAILED" (see `last_error`) or "STARTING" (not yet asked for by the core).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortStatus {
    pub port_no: u32,
    pub name: String,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Frames that arrived while the port was down or found the upcall queues full.
    pub rx_dropped: u64,
    /// Frames for the port while it was down or while the output queue was full.
    pub tx_dropped: u64,
}

/// The daemon's socket counters. A counter the answering daemon does not have yet reads as 0, so
/// `ofagent status` works against a daemon one version older.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IoStatus {
    /// OpenFlow transports currently open (connecting, open or closing).
    pub connections: u64,
    pub accepted: u64,
    pub connects: u64,
    pub read_calls: u64,
    pub bytes_read: u64,
    /// Times a connection streaming without answers started being read in batches.
    pub read_batches: u64,
    /// Write system calls; each carries every queued message that fits (coalesced writes).
    pub write_calls: u64,
    pub bytes_written: u64,
    /// Frames the switch sent out of built-in ports (no wire behind them: counted and logged).
    pub frames_out: u64,
}

impl fmt::Display for Status {
    /// The text `ofagent status` prints: OVS's keys, one per line, under each target.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failing_open = if self.fail_open_active { ", failing open" } else { "" };
        writeln!(
            f,
            "bridge {}: datapath_id {}, fail_mode {}{failing_open}",
            self.bridge, self.datapath_id, self.fail_mode
        )?;
        for c in &self.controllers {
            writeln!(f, "controller {}", c.target)?;
            if let Some(r) = &c.role {
                writeln!(f, "    role: {r}")?;
            }
            writeln!(f, "    is_connected: {}", c.is_connected)?;
            let opt = [
                ("state", c.state.clone()),
                ("last_error", c.last_error.clone()),
                ("sec_since_connect", c.sec_since_connect.map(|v| v.to_string())),
                ("sec_since_disconnect", c.sec_since_disconnect.map(|v| v.to_string())),
            ];
            for (k, v) in opt.iter().filter_map(|(k, v)| Some((k, v.as_ref()?))) {
                writeln!(f, "    {k}: {v}")?;
            }
            for (k, v) in &c.packet_in {
                writeln!(f, "    {k}: {v}")?;
            }
        }
        for l in &self.listeners {
            writeln!(f, "listener {} ({})", l.target, l.kind)?;
            if let Some(b) = &l.bound {
                writeln!(f, "    bound: {b}")?;
            }
            writeln!(f, "    is_connected: {}", l.is_connected)?;
            writeln!(f, "    n_connections: {}", l.n_connections)?;
            writeln!(f, "    state: {}", l.state)?;
            if let Some(e) = &l.last_error {
                writeln!(f, "    last_error: {e}")?;
            }
        }
        writeln!(f, "flows: {}", self.flows)?;
        for p in &self.ports {
            let port = match p.port_no {
                ofp_proto::port_no::LOCAL => "LOCAL".to_string(),
                n => n.to_string(),
            };
            writeln!(
                f,
                "port {port} ({}): rx_packets={} rx_bytes={} rx_dropped={} tx_packets={} tx_bytes={} tx_dropped={}",
                p.name, p.rx_packets, p.rx_bytes, p.rx_dropped, p.tx_packets, p.tx_bytes, p.tx_dropped
            )?;
        }
        let pairs = |m: &BTreeMap<String, u64>| m.iter().map(|(k, v)| format!(" {k}={v}")).collect::<String>();
        writeln!(f, "upcalls:{}", pairs(&self.upcalls))?;
        writeln!(f, "queues:{}", pairs(&self.queues))?;
        let io = &self.io;
        writeln!(
            f,
            "io: connections={} accepted={} connects={} read_calls={} bytes_read={} read_batches={} write_calls={} bytes_written={} \
             frames_out={}",
            io.connections,
            io.accepted,
            io.connects,
            io.read_calls,
            io.bytes_read,
            io.read_batches,
            io.write_calls,
            io.bytes_written,
            io.frames_out
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_counters_a_daemon_does_not_have_yet_read_as_zero() {
        // What a daemon of the previous version answers: no `read_batches`.
        let older = r#"{"connections":1,"accepted":2,"connects":0,"read_calls":5,"bytes_read":90,
                        "write_calls":3,"bytes_written":40,"frames_out":0}"#;
        let io: IoStatus = serde_json::from_str(older).unwrap();
        assert_eq!((io.read_calls, io.read_batches, io.bytes_written), (5, 0, 40));
    }

    #[test]
    fn controller_status_from_connmgr_pairs() {
        let pairs: BTreeMap<String, String> = [
            ("state", "ACTIVE"),
            ("sec_since_connect", "12"),
            ("last_error", "Connection refused"),
            ("packet-in-miss-queued", "7"),
            ("packet-in-action-dropped", "0"),
            ("something-else", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = ControllerStatus::from_ovs_pairs("tcp:127.0.0.1:6653", true, Some(Role::Primary), &pairs);
        assert_eq!(s.role.as_deref(), Some("master"));
        assert_eq!(s.state.as_deref(), Some("ACTIVE"));
        assert_eq!(s.sec_since_connect, Some(12));
        assert_eq!(s.sec_since_disconnect, None);
        assert_eq!(s.last_error.as_deref(), Some("Connection refused"));
        let pin: Vec<_> = s.packet_in.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(pin, [("packet-in-action-dropped", 0), ("packet-in-miss-queued", 7)]);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["packet-in-miss-queued"], 7);
        assert_eq!(json["is_connected"], true);
        assert!(json.get("sec_since_disconnect").is_none());
        assert_eq!(serde_json::from_value::<ControllerStatus>(json).unwrap(), s);
    }

    #[test]
    fn roles_use_ovs_database_words() {
        assert_eq!(ovs_role_name(Role::Equal), Some("other"));
        assert_eq!(ovs_role_name(Role::Primary), Some("master"));
        assert_eq!(ovs_role_name(Role::Secondary), Some("slave"));
        assert_eq!(ovs_role_name(Role::NoChange), None);
    }
}
