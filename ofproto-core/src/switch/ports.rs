//! The built-in ports: 1..N named p1..pN and LOCAL named after the bridge (as OVS names its
//! internal port), their OpenFlow descriptions (config and state bits, OVS `ofputil_phy_port`),
//! their counters, and the datapath port numbers they map to (LOCAL is datapath port 0, as in OVS).

use ofp_proto::msg::port::{config, state, Port, PortName};
use ofp_proto::msg::stats::{PortStats, Rfc2819Stats};
use ofp_proto::{port_no, Instant};

/// Traffic counters of one port (what OVS's dummy netdev counts, plus drops).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// Frames that arrived while the port was down, or that the upcall queues had no room for.
    pub rx_dropped: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames sent to the port while it was down, or that the output queue had no room for.
    pub tx_dropped: u64,
}

impl PortCounters {
    pub(crate) fn rx(&mut self, len: usize) {
        self.rx_packets += 1;
        self.rx_bytes += len as u64;
    }

    pub(crate) fn tx(&mut self, len: usize) {
        self.tx_packets += 1;
        self.tx_bytes += len as u64;
    }
}

/// One port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SwitchPort {
    pub desc: Port,
    /// When the port was added: port statistics durations count from here.
    pub created: Instant,
}

impl SwitchPort {
    /// Administratively up and with a link: frames pass.
    pub fn is_up(&self) -> bool {
        self.desc.config & config::PORT_DOWN == 0 && self.desc.state & state::LINK_DOWN == 0
    }
}

/// OVS `normalize_state`: LIVE exactly while the port is up.
fn normalize_state(cfg: u32, st: u32) -> u32 {
    if cfg & config::PORT_DOWN != 0 || st & state::LINK_DOWN != 0 {
        st & !state::LIVE
    } else {
        st | state::LIVE
    }
}

/// Every port of the switch, in port-number order with LOCAL last.
#[derive(Clone, Debug)]
pub(crate) struct PortTable {
    ports: Vec<SwitchPort>,
}

/// The Ethernet address of port `n` (OVS's dummy netdevs use aa:55:aa:55:00:xx).
fn port_mac(n: u32) -> [u8; 6] {
    let [_, _, hi, lo] = n.to_be_bytes();
    [0xaa, 0x55, 0xaa, 0x55, hi, lo]
}

/// The bridge's own address: the low 48 bits of the datapath id, as OVS derives the datapath id
/// from the bridge address; a locally administered fallback when that is not a unicast address.
fn local_mac(dpid: u64) -> [u8; 6] {
    let b = dpid.to_be_bytes();
    let mac = [b[2], b[3], b[4], b[5], b[6], b[7]];
    if mac == [0; 6] || mac[0] & 1 != 0 {
        [0xaa, 0x55, 0xaa, 0x55, 0xff, 0xfe]
    } else {
        mac
    }
}

fn new_port(port_no: u32, name: &str, hw_addr: [u8; 6], now: Instant) -> SwitchPort {
    // What OVS reports for a port of its dummy datapath: netdev-dummy has no features, so no
    // current, advertised, supported or peer features and speeds of 0.
    let desc = Port { port_no, hw_addr, name: PortName::from(name), config: 0, state: state::LIVE, ..Port::default() };
    SwitchPort { desc, created: now }
}

impl PortTable {
    /// Ports 1..=`n` named p1..pN and LOCAL named `bridge`, all up.
    pub fn new(bridge: &str, dpid: u64, n: u16, now: Instant) -> PortTable {
        let mut ports: Vec<SwitchPort> =
            (1..=u32::from(n)).map(|i| new_port(i, &format!("p{i}"), port_mac(i), now)).collect();
        ports.push(new_port(port_no::LOCAL, bridge, local_mac(dpid), now));
        PortTable { ports }
    }

    /// Where port `port` is in `iter()` order (and in the counters kept beside the table).
    pub fn index(&self, port: u32) -> Option<usize> {
        let n = self.ports.len() - 1;
        match port {
            port_no::LOCAL => Some(n),
            p if p >= 1 && (p as usize) <= n => Some(p as usize - 1),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.ports.len()
    }

    pub fn get(&self, port: u32) -> Option<&SwitchPort> {
        self.index(port).map(|i| &self.ports[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &SwitchPort> {
        self.ports.iter()
    }

    /// The datapath port number of OpenFlow port `port`.
    pub fn odp_port(&self, port: u32) -> Option<u32> {
        self.index(port).map(|_| if port == port_no::LOCAL { 0 } else { port })
    }

    /// The OpenFlow port of datapath port `odp`.
    pub fn of_port(&self, odp: u32) -> Option<u32> {
        let p = if odp == 0 { port_no::LOCAL } else { odp };
        self.index(p).map(|_| p)
    }

    /// Changes port `port`'s config bits under `mask` to `cfg` (OVS `update_port_config`): returns
    /// the description before and after if anything changed.
    pub fn modify_config(&mut self, port: u32, cfg: u32, mask: u32) -> Option<(Port, Port)> {
        let i = self.index(port)?;
        let p = &mut self.ports[i];
        let toggle = (cfg ^ p.desc.config) & mask;
        if toggle == 0 {
            return None;
        }
        let old = p.desc.clone();
        p.desc.config ^= toggle;
        p.desc.state = normalize_state(p.desc.config, p.desc.state);
        Some((old, p.desc.clone()))
    }

    /// Sets port `port`'s link (carrier): returns the description before and after if it changed.
    pub fn set_link(&mut self, port: u32, up: bool) -> Option<(Port, Port)> {
        let i = self.index(port)?;
        let p = &mut self.ports[i];
        let st = if up { p.desc.state & !state::LINK_DOWN } else { p.desc.state | state::LINK_DOWN };
        let st = normalize_state(p.desc.config, st);
        if st == p.desc.state {
            return None;
        }
        let old = p.desc.clone();
        p.desc.state = st;
        Some((old, p.desc.clone()))
    }

    /// Port `port`'s statistics at `now` as OVS reports a dummy port's: the counters it keeps,
    /// every other counter unknown (all ones), durations from the port's creation.
    pub fn stats(&self, port: u32, c: &PortCounters, now: Instant) -> Option<PortStats> {
        let p = self.get(port)?;
        let ms = now.as_millis().saturating_sub(p.created.as_millis());
        let unknown = Rfc2819Stats {
            rx_1_to_64_packets: u64::MAX,
            rx_65_to_127_packets: u64::MAX,
            rx_128_to_255_packets: u64::MAX,
            rx_256_to_511_packets: u64::MAX,
            rx_512_to_1023_packets: u64::MAX,
            rx_1024_to_1522_packets: u64::MAX,
            rx_1523_to_max_packets: u64::MAX,
            tx_1_to_64_packets: u64::MAX,
            tx_65_to_127_packets: u64::MAX,
            tx_128_to_255_packets: u64::MAX,
            tx_256_to_511_packets: u64::MAX,
            tx_512_to_1023_packets: u64::MAX,
            tx_1024_to_1522_packets: u64::MAX,
            tx_1523_to_max_packets: u64::MAX,
            tx_multicast_packets: u64::MAX,
            rx_broadcast_packets: u64::MAX,
            tx_broadcast_packets: u64::MAX,
            rx_undersized_errors: u64::MAX,
            rx_oversize_errors: u64::MAX,
            rx_fragmented_errors: u64::MAX,
            rx_jabber_errors: u64::MAX,
        };
        Some(PortStats {
            duration_sec: u32::try_from(ms / 1000).unwrap_or(u32::MAX),
            duration_nsec: (ms % 1000) as u32 * 1_000_000,
            rx_packets: c.rx_packets,
            tx_packets: c.tx_packets,
            rx_bytes: c.rx_bytes,
            tx_bytes: c.tx_bytes,
            rx_dropped: c.rx_dropped,
            tx_dropped: c.tx_dropped,
            rfc2819: Some(unknown),
            ..PortStats::unknown(port)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_names_and_datapath_ports() {
        let t = PortTable::new("br0", 0x0000_5254_0000_0001, 3, Instant::ZERO);
        let names: Vec<String> = t.iter().map(|p| p.desc.name.to_string_lossy()).collect();
        assert_eq!(names, ["p1", "p2", "p3", "br0"]);
        assert_eq!(t.get(port_no::LOCAL).unwrap().desc.hw_addr, [0x52, 0x54, 0, 0, 0, 1]);
        assert_eq!(t.get(2).unwrap().desc.hw_addr, [0xaa, 0x55, 0xaa, 0x55, 0, 2]);
        assert_eq!(
            (t.odp_port(port_no::LOCAL), t.odp_port(3), t.odp_port(4), t.odp_port(0)),
            (Some(0), Some(3), None, None)
        );
        assert_eq!((t.of_port(0), t.of_port(1), t.of_port(9)), (Some(port_no::LOCAL), Some(1), None));
        assert!(t.iter().all(|p| p.desc.state == state::LIVE && p.is_up()));
    }

    #[test]
    fn config_and_link_changes_keep_live_normalized() {
        let mut t = PortTable::new("br0", 1, 2, Instant::ZERO);
        assert_eq!(
            t.modify_config(1, config::NO_FLOOD, config::NO_FLOOD).map(|(_, n)| n.config),
            Some(config::NO_FLOOD)
        );
        assert_eq!(t.modify_config(1, config::NO_FLOOD, config::NO_FLOOD), None);
        let (old, new) = t.modify_config(1, config::PORT_DOWN, config::PORT_DOWN).unwrap();
        assert_eq!((old.state, new.state), (state::LIVE, 0));
        assert!(!t.get(1).unwrap().is_up());
        let (_, new) = t.set_link(2, false).unwrap();
        assert_eq!(new.state, state::LINK_DOWN);
        assert_eq!(t.set_link(2, false), None);
        assert_eq!(t.set_link(2, true).map(|(_, n)| n.state), Some(state::LIVE));
        assert_eq!(t.modify_config(7, 1, 1), None);
    }

    #[test]
    fn stats_durations_come_from_injected_time() {
        let t = PortTable::new("br0", 1, 1, Instant::from_millis(1_000));
        let c = PortCounters { rx_packets: 3, rx_bytes: 180, tx_dropped: 1, ..PortCounters::default() };
        let s = t.stats(1, &c, Instant::from_millis(3_500)).unwrap();
        assert_eq!((s.duration_sec, s.duration_nsec), (2, 500_000_000));
        assert_eq!((s.rx_packets, s.rx_bytes, s.tx_dropped, s.rx_errors), (3, 180, 1, u64::MAX));
        assert_eq!(t.stats(port_no::LOCAL, &c, Instant::from_millis(1_000)).unwrap().port_no, port_no::LOCAL);
    }
}
