//! The real switch behind [`SwitchCore`]: `ofproto_core::Switch` built from the daemon's
//! [`Config`], and the thin adapter from its API and status to the daemon's.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{Bytes, BytesMut};
use connmgr_core::{ControllerSettings, FailMode as MgrFailMode};
use ofp_proto::Instant;
use ofproto_core::switch::Config as SwitchConfig;
use ofproto_core::{Datapath, Switch};
use rconn_core::{ConnError, ConnName};

use crate::config::{Config, FailMode, Remote};
use crate::core::{ConnId, Output, SwitchCore};
use crate::status::{ControllerStatus, CoreStatus, PortStatus};

/// The `Switch` configuration for the daemon's: every controller and listener keyed by its target
/// (as OVS keys its Controller rows), the snoops, fail mode, bundle idle timeout, ports and
/// datapath id, and `seed` for everything random.
pub fn switch_config(config: &Config, seed: u64) -> SwitchConfig {
    let controllers: BTreeMap<String, ControllerSettings> =
        config.controllers.iter().chain(&config.listeners).map(|r| (r.target.clone(), settings(r))).collect();
    SwitchConfig {
        bridge: config.bridge.clone(),
        datapath_id: config.datapath_id,
        // The configuration caps ports at 0xfeff.
        n_ports: u16::try_from(config.ports).unwrap_or(u16::MAX),
        fail_mode: match config.fail_mode {
            FailMode::Standalone => MgrFailMode::Standalone,
            FailMode::Secure => MgrFailMode::Secure,
        },
        controllers,
        snoops: config.snoops.iter().cloned().collect::<BTreeSet<_>>(),
        bundle_idle_timeout: config.bundle_idle_timeout,
        seed,
        ..SwitchConfig::default()
    }
}

fn settings(r: &Remote) -> ControllerSettings {
    ControllerSettings {
        max_backoff: r.max_backoff,
        probe_interval: r.probe_interval,
        enable_async_msgs: r.enable_async_messages,
        allowed_versions: r.allowed_versions,
        controller_queue_size: r.controller_queue_size,
        rate_limit: r.controller_rate_limit,
        burst_limit: r.controller_burst_limit,
        ..ControllerSettings::default()
    }
}

impl<D: Datapath> SwitchCore for Switch<D> {
    fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId> {
        Switch::handle_accept(self, now, listener, peer)
    }

    fn handle_listen_error(&mut self, now: Instant, target: &str, err: ConnError) {
        Switch::handle_listen_error(self, now, target, err)
    }

    fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        Switch::handle_connected(self, now, conn)
    }

    fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        Switch::handle_open_failed(self, now, conn, err)
    }

    fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        Switch::handle_error(self, now, conn, err)
    }

    fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        Switch::handle_bytes(self, now, conn, data)
    }

    fn recv_buffer(&mut self, conn: ConnId) -> Option<&mut BytesMut> {
        Switch::recv_buffer(self, conn)
    }

    fn handle_received(&mut self, now: Instant, conn: ConnId) {
        Switch::handle_received(self, now, conn)
    }

    fn handle_eof(&mut self, now: Instant, conn: ConnId) {
        Switch::handle_eof(self, now, conn)
    }

    fn may_read(&self, conn: ConnId) -> bool {
        Switch::may_read(self, conn)
    }

    fn conn_name(&self, conn: ConnId) -> Option<ConnName> {
        Switch::conn_name(self, conn)
    }

    fn poll_transmit(&mut self, now: Instant, conn: ConnId) -> Option<Bytes> {
        Switch::poll_transmit(self, now, conn)
    }

    fn poll_output(&mut self) -> Option<Output> {
        Switch::poll_output(self)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Switch::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        Switch::handle_timeout(self, now)
    }

    fn handle_frame(&mut self, now: Instant, port: u32, frame: Bytes) -> Result<(), String> {
        Switch::handle_frame(self, now, port, frame).map_err(|e| e.to_string())
    }

    fn poll_packet_out(&mut self) -> Option<(u32, Bytes)> {
        Switch::poll_packet_out(self)
    }

    fn reconnect(&mut self, now: Instant) {
        Switch::reconnect(self, now)
    }

    fn status(&self, now: Instant) -> CoreStatus {
        let s = Switch::status(self, now);
        CoreStatus {
            controllers: (s.controllers.iter())
                .map(|(target, c)| ControllerStatus::from_ovs_pairs(target, c.is_connected, c.role, &c.pairs))
                .collect(),
            fail_open_active: s.fail_open_active,
            flows: s.flows,
            ports: (s.ports.iter())
                .map(|p| PortStatus {
                    port_no: p.port_no,
                    name: p.name.clone(),
                    rx_packets: p.counters.rx_packets,
                    tx_packets: p.counters.tx_packets,
                    rx_bytes: p.counters.rx_bytes,
                    tx_bytes: p.counters.tx_bytes,
                    rx_dropped: p.counters.rx_dropped,
                    tx_dropped: p.counters.tx_dropped,
                })
                .collect(),
            upcalls: s.upcalls,
            queues: s.queues,
        }
    }
}

#[cfg(test)]
mod tests {
    use ofp_proto::{Version, VersionBitmap};

    use super::*;
    use crate::cli::{FailModeArg, RunArgs};
    use crate::config::{resolve, Raw};

    #[test]
    fn every_target_becomes_a_controller_with_its_settings() {
        let args = RunArgs {
            control_socket: Some("/nonexistent/x.ctl".into()),
            bridge: Some("brq".into()),
            datapath_id: Some("0x2a".into()),
            controllers: vec!["tcp:192.0.2.1:6653".into()],
            listeners: vec!["ptcp:6699:127.0.0.1".into(), "punix:/tmp/x.mgmt".into()],
            snoops: vec!["punix:/tmp/x.snoop".into()],
            protocols: Some("OpenFlow13".into()),
            inactivity_probe: Some(9000),
            max_backoff: Some(3000),
            controller_rate_limit: Some(400),
            controller_queue_size: Some(7),
            fail_mode: Some(FailModeArg::Secure),
            bundle_idle_timeout: Some(20),
            ports: Some(6),
            ..RunArgs::default()
        };
        let c = switch_config(&resolve(Raw::default(), &args).unwrap(), 77);
        assert_eq!((c.bridge.as_str(), c.datapath_id, c.n_ports), ("brq", 0x2a, 6));
        assert_eq!((c.fail_mode, c.bundle_idle_timeout, c.seed), (MgrFailMode::Secure, 20, 77));
        assert_eq!(c.snoops.iter().collect::<Vec<_>>(), ["punix:/tmp/x.snoop"]);
        let targets: Vec<&str> = c.controllers.keys().map(String::as_str).collect();
        assert_eq!(targets, ["ptcp:6699:127.0.0.1", "punix:/tmp/x.mgmt", "tcp:192.0.2.1:6653"]);
        let want = ControllerSettings {
            conn_type: None,
            max_backoff: 3,
            probe_interval: 9,
            enable_async_msgs: true,
            allowed_versions: VersionBitmap::from_versions([Version::Of13]),
            controller_queue_size: 7,
            rate_limit: 400,
            burst_limit: 100,
            dscp: ControllerSettings::default().dscp,
        };
        assert!(c.controllers.values().all(|s| *s == want), "{:?}", c.controllers);
    }
}
