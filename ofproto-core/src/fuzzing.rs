//! Test support: drives a whole [`Switch`] with arbitrary operation sequences — transports
//! opening, failing and closing, controllers sending plausible or arbitrary messages, frames on
//! any port, link changes, time, a datapath that holds back or fails operations — checking after
//! every step that the switch settles and that every frame it received is accounted for. `run` is
//! the body of the cargo-fuzz target; a proptest calls it too.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{BufMut, Bytes, BytesMut};
use connmgr_core::{ConnId, ConnType, ControllerSettings, FailMode, Output};
use ofp_proto::actions::{Action, Controller, SetField};
use ofp_proto::flow::{EthAddr, ETH_TYPE_IP};
use ofp_proto::instructions::Instructions;
use ofp_proto::mf::MfId;
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand, FlowModFlags};
use ofp_proto::msg::flow_stats::FlowStatsRequest;
use ofp_proto::msg::port::{PortDescRequest, PortMod};
use ofp_proto::msg::stats::PortStatsRequest;
use ofp_proto::msg::switch::{FragHandling, SwitchConfig};
use ofp_proto::msg::{Hello, PacketOut};
use ofp_proto::ofmatch::Match;
use ofp_proto::{port_no, raw, Instant, Message, MsgType, OfpErr, OfpMsg, Raw, VersionBitmap};
use rconn_core::ConnError;

use crate::datapath::Datapath;
use crate::switch::{Config, Switch};

const ACTIVE: &str = "tcp:192.0.2.1:6653";
const PASSIVE: &str = "ptcp:6653";

/// Reads a byte, 0 once the input is used up.
fn byte(data: &mut &[u8]) -> u8 {
    let (&b, rest) = data.split_first().unwrap_or((&0, &[]));
    *data = rest;
    b
}

fn pick<T: Copy>(items: &[T], b: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[usize::from(b) % items.len()])
}

/// A frame of kind `k`: TCP, UDP, ARP, VLAN-tagged, IPv4 fragment, or junk of length `n`.
fn frame(k: u8, a: u8, n: u8) -> Bytes {
    let (src, dst) = ([0x50, 0x54, 0, 0, 0, a % 5], [0x50, 0x54, 0, 0, 0, (a / 5) % 5]);
    let mut f = BytesMut::new();
    f.put_slice(if k % 8 == 2 { &[0xff; 6] } else { &dst });
    f.put_slice(&src);
    if k % 8 == 3 {
        f.put_slice(&[0x81, 0x00, 0x20 | (a & 0x0f), a]);
    }
    match k % 8 {
        2 => {
            f.put_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
            f.put_slice(&src);
            f.put_slice(&[10, 0, 0, a, 0, 0, 0, 0, 0, 0, 10, 0, 0, n]);
        }
        6 => f.put_slice(&vec![a; usize::from(n)]),
        7 => return Bytes::copy_from_slice(&vec![k ^ a; usize::from(n % 20)]),
        _ => {
            let proto = if k % 8 == 1 { 17 } else { 6 };
            let frag: u16 = if k % 8 == 4 {
                0x2000
            } else if k % 8 == 5 {
                0x0010
            } else {
                0
            };
            f.put_slice(&[0x08, 0x00, 0x45, 0]);
            f.put_u16(40 + u16::from(n % 32));
            f.put_u16(1);
            f.put_u16(frag);
            f.put_slice(&[n % 4, proto, 0, 0, 10, 0, 0, a, 10, 0, 0, n]);
            f.put_u16(u16::from(a));
            f.put_u16(80);
            f.put_slice(&[0; 16]);
            f.put_slice(&vec![n; usize::from(n % 32)]);
        }
    }
    f.freeze()
}

fn action(k: u8, a: u8) -> Action {
    let port = match a % 8 {
        0 => port_no::FLOOD,
        1 => port_no::ALL,
        2 => port_no::NORMAL,
        3 => port_no::CONTROLLER,
        4 => port_no::IN_PORT,
        5 => port_no::TABLE,
        6 => port_no::LOCAL,
        _ => u32::from(a % 6),
    };
    match k % 12 {
        0..=3 => Action::Output { port, max_len: u16::from(a) },
        4 => Action::Controller(Controller {
            max_len: u16::from(a),
            controller_id: u16::from(a % 2),
            ..Controller::default()
        }),
        5 => Action::SetField(SetField::new(MfId::EthDst, EthAddr::from_u64(u64::from(a)).to_u64().into())),
        6 => Action::SetField(SetField::new(MfId::Ipv4Src, u128::from(a))),
        7 => Action::DecTtl { cnt_ids: [0].into_iter().collect(), cnt_ids_form: false },
        8 => Action::PushVlan { ethertype: 0x8100 },
        9 => Action::StripVlan { pop_vlan: true },
        10 => Action::Resubmit { in_port: port_no::IN_PORT, table_id: a % 3, with_ct_orig: false, plain: false },
        _ => Action::Group(u32::from(a)),
    }
}

/// A raw message of type `t` with `body` after its headers (for messages the codec keeps opaque).
fn raw_msg(t: MsgType, version: u8, body: &[u8]) -> Option<Bytes> {
    let r: Raw = Raw::for_type(t, version)?;
    let mut b = BytesMut::new();
    let start = r.put_headers(version, 7, 0, &mut b);
    b.put_slice(body);
    raw::finish_msg(&mut b, start);
    Some(b.freeze())
}

/// A switch and what the driver has seen of it.
struct Driver {
    sw: Switch,
    now: Instant,
    n_ports: u16,
    pending: Vec<ConnId>,
    open: BTreeSet<ConnId>,
    versions: BTreeMap<ConnId, u8>,
    frames_out: u64,
    transcript_hash: u64,
}

impl Driver {
    fn new(setup: u8, seed: u8) -> Driver {
        let n_ports = u16::from(setup % 4) + 1;
        let settings = ControllerSettings {
            probe_interval: if setup & 4 != 0 { 5 } else { 0 },
            rate_limit: if setup & 8 != 0 { 3 } else { 0 },
            controller_queue_size: 4,
            ..ControllerSettings::default()
        };
        let passive = ControllerSettings { conn_type: Some(ConnType::Primary), ..settings };
        let cfg = Config {
            n_ports,
            seed: u64::from(seed),
            fail_mode: if setup & 16 != 0 { FailMode::Standalone } else { FailMode::Secure },
            datapath_delay_ms: if setup & 32 != 0 { 25 } else { 0 },
            n_handlers: usize::from(setup >> 6) + 1,
            controllers: BTreeMap::from([(ACTIVE.to_string(), settings), (PASSIVE.to_string(), passive)]),
            ..Config::default()
        };
        let now = Instant::from_secs(1000);
        Driver {
            sw: Switch::new(now, &cfg),
            now,
            n_ports,
            pending: Vec::new(),
            open: BTreeSet::new(),
            versions: BTreeMap::new(),
            frames_out: 0,
            transcript_hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn record(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.transcript_hash = (self.transcript_hash ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn drain(&mut self) {
        while let Some(o) = self.sw.poll_output() {
            self.record(format!("{o:?}").as_bytes());
            match o {
                Output::Connect { conn, .. } => self.pending.push(conn),
                Output::Close { conn, .. } => {
                    self.pending.retain(|c| *c != conn);
                    self.open.remove(&conn);
                }
                Output::Listen { .. } | Output::Unlisten { .. } => {}
            }
        }
        for conn in self.open.clone() {
            while let Some(b) = self.sw.poll_transmit(self.now, conn) {
                self.record(&b);
            }
        }
        while let Some((port, f)) = self.sw.poll_packet_out() {
            assert!(
                port == port_no::LOCAL || (1..=u32::from(self.n_ports)).contains(&port),
                "frame out of port {port}"
            );
            self.frames_out += 1;
            self.record(&port.to_be_bytes());
            self.record(&f);
        }
        while let Some(e) = self.sw.poll_conn_event() {
            self.record(format!("{e:?}").as_bytes());
        }
    }

    /// Runs what is due and checks the invariants.
    fn settle(&mut self) {
        for _ in 0..1000 {
            self.drain();
            match self.sw.poll_timeout() {
                Some(t) if t <= self.now => self.sw.handle_timeout(self.now),
                _ => return self.check(),
            }
        }
        panic!("livelock: work still due after 1000 steps");
    }

    /// Every frame received is dropped on arrival, dropped by a full queue, executed (sent or
    /// not) or had no actions (dropped, or only shown to controllers); every frame that left was
    /// counted on its port.
    fn check(&self) {
        let st = self.sw.status(self.now);
        let u = &st.upcalls;
        let executed = u["frames_forwarded"] + u["frames_unsent"];
        assert_eq!(u["miss_executed"], executed);
        assert_eq!(
            u["frames_received"],
            u["frames_port_down"] + u["miss_queue_overflow"] + executed + u["miss_no_actions"],
            "{u:?}"
        );
        assert_eq!(u["upcall_received"], u["frames_received"] - u["frames_port_down"]);
        assert_eq!(u["miss_receive_error"] + u["miss_no_port"] + u["upcall_bad"], 0);
        assert_eq!(st.queues["handler_queue"] + st.queues["upcalls_in_flight"], 0, "handlers ran dry");
        let tx: u64 = st.ports.iter().map(|p| p.counters.tx_packets).sum();
        assert_eq!(tx, self.frames_out + st.queues["frames_out_queue"]);
        assert!(st.flows as usize <= self.sw.tables().n_rules());
        let dp = self.sw.datapath();
        if self.sw.tables().n_pending_groups() > 0 {
            assert!(dp.is_clogged() || dp.poll_timeout().is_some(), "operations pending with nothing to complete them");
        }
    }

    fn message(&self, conn: ConnId, kind: u8, a: u8, b: u8) -> Bytes {
        let v = self.versions.get(&conn).copied().unwrap_or(4);
        let port = u32::from(a % (self.n_ports as u8 + 2));
        let msg = |body| OfpMsg::try_new(v, u32::from(a), body).map(|m| m.to_bytes());
        let mut m = Match::catchall();
        if a & 1 != 0 {
            m.set_in_port(u32::from(b % 4));
        }
        if a & 2 != 0 {
            m.set_dl_type(ETH_TYPE_IP);
        }
        let bytes = match kind % 16 {
            0 => msg(Message::FeaturesRequest),
            1 => msg(Message::BarrierRequest),
            2..=5 => {
                let command =
                    [FlowModCommand::Add, FlowModCommand::Modify, FlowModCommand::Delete, FlowModCommand::DeleteStrict]
                        [usize::from(kind % 4)];
                let mut ins = Instructions::apply((0..b % 4).map(|i| action(a.wrapping_add(i), b.wrapping_mul(i + 1))));
                if b & 0x40 != 0 {
                    ins.goto_table = Some(1 + b % 2);
                }
                msg(Message::FlowMod(FlowMod {
                    command,
                    match_: m,
                    priority: u16::from(b),
                    table_id: if b & 0x80 != 0 { a % 3 } else { 0 },
                    idle_timeout: u16::from(a % 3),
                    hard_timeout: u16::from(b % 5),
                    flags: FlowModFlags(if a & 4 != 0 { FlowModFlags::SEND_FLOW_REM } else { 0 }),
                    instructions: ins,
                    ..FlowMod::default()
                }))
            }
            6 => {
                let actions = (0..b % 3).map(|i| action(a ^ i, b.wrapping_add(i))).collect();
                let in_port = [port_no::CONTROLLER, port_no::LOCAL, 1, 2, port_no::ANY][usize::from(b % 5)];
                msg(Message::PacketOut(PacketOut::new(in_port, actions, frame(a, b, a))))
            }
            7 => {
                let hw = [0xaa, 0x55, 0xaa, 0x55, 0, (port & 0xff) as u8];
                let pm = PortMod {
                    port_no: port,
                    hw_addr: if b & 1 != 0 { [0; 6] } else { hw },
                    config: u32::from(a),
                    mask: u32::from(b),
                    advertise: 0,
                };
                msg(Message::PortMod(pm))
            }
            8 => {
                let frag = [FragHandling::Normal, FragHandling::Drop, FragHandling::Reassemble, FragHandling::NxMatch]
                    [usize::from(b % 4)];
                msg(Message::SetConfig(SwitchConfig {
                    frag,
                    invalid_ttl_to_controller: false,
                    miss_send_len: u16::from(a),
                }))
            }
            9 => msg(Message::PortStatsRequest(PortStatsRequest {
                port_no: if b & 1 != 0 { port_no::ANY } else { u32::from(a % 4) },
            })),
            10 => msg(Message::PortDescStatsRequest(PortDescRequest {
                port_no: if b & 1 != 0 { port_no::ANY } else { port },
            })),
            11 => msg(Message::FlowStatsRequest(FlowStatsRequest::default())),
            12 => msg(Message::DescStatsRequest),
            13 => {
                let t =
                    [MsgType::GroupMod, MsgType::MeterMod, MsgType::QueueStatsRequest, MsgType::QueueGetConfigRequest]
                        [usize::from(b % 4)];
                raw_msg(t, v, &[0, a % 4, b % 5, 0, 0xff, 0xff, a, b])
            }
            14 => msg(Message::GetConfigRequest),
            _ => Some(Bytes::from(vec![v, a % 40, 0, 8 + b % 16, 0, 0, 0, a])),
        };
        bytes.unwrap_or_default()
    }

    fn step(&mut self, data: &mut &[u8]) {
        let op = byte(data);
        let (a, b) = (byte(data), byte(data));
        match op % 16 {
            0 => {
                if let Some(conn) = self.pending.pop() {
                    self.open.insert(conn);
                    self.sw.handle_connected(self.now, conn);
                }
            }
            1 => {
                if let Some(conn) = self.pending.pop() {
                    self.sw.handle_open_failed(self.now, conn, ConnError::CONNECTION_REFUSED);
                }
            }
            2 => {
                let listener = if a & 1 != 0 { PASSIVE } else { "ptcp:9" };
                if let Some(conn) = self.sw.handle_accept(self.now, listener, "tcp:192.0.2.9:4000") {
                    self.open.insert(conn);
                }
            }
            3 => {
                let open: Vec<ConnId> = self.open.iter().copied().collect();
                if let Some(conn) = pick(&open, a) {
                    let v = b % 6 + 1;
                    let hello = OfpMsg::new(v, 1, Message::Hello(Hello::new(VersionBitmap::single(v))));
                    self.versions.insert(conn, v);
                    self.sw.handle_bytes(self.now, conn, &hello.to_bytes());
                }
            }
            4..=6 => {
                let open: Vec<ConnId> = self.open.iter().copied().collect();
                if let Some(conn) = pick(&open, a) {
                    let m = self.message(conn, b, byte(data), byte(data));
                    // Sometimes in two pieces, to exercise reassembly.
                    let cut = usize::from(op >> 4) % (m.len() + 1);
                    self.sw.handle_bytes(self.now, conn, &m[..cut]);
                    self.sw.handle_bytes(self.now, conn, &m[cut..]);
                }
            }
            7 => {
                let open: Vec<ConnId> = self.open.iter().copied().collect();
                if let Some(conn) = pick(&open, a) {
                    match b % 3 {
                        0 => self.sw.handle_eof(self.now, conn),
                        1 => self.sw.handle_error(self.now, conn, ConnError::CONNECTION_RESET),
                        _ => {
                            let junk: Vec<u8> = (0..b).map(|i| i ^ a).collect();
                            self.sw.handle_bytes(self.now, conn, &junk);
                        }
                    }
                }
            }
            8..=10 => {
                let port = if a % 8 == 7 { port_no::LOCAL } else { u32::from(a % 8) };
                let known = port == port_no::LOCAL || (1..=u32::from(self.n_ports)).contains(&port);
                assert_eq!(self.sw.handle_frame(self.now, port, frame(b, a, byte(data))).is_ok(), known);
            }
            11 => {
                let ms = [0, 1, 10, 100, 999, 1000, 2000, 5000][usize::from(a % 8)] + u64::from(b);
                self.now = Instant::from_millis(self.now.as_millis() + ms);
            }
            12 => {
                let port = if a % 8 == 7 { port_no::LOCAL } else { u32::from(a % 8) };
                let _ = self.sw.set_port_link(self.now, port, b & 1 != 0);
            }
            13 => {
                let dp = self.sw.datapath_mut();
                match a % 4 {
                    0 => dp.clog(),
                    1 => dp.unclog(),
                    2 => dp.release(usize::from(b % 4)),
                    _ => dp.fail_priority(u32::from(b), OfpErr::OFPFMFC_TABLE_FULL),
                }
            }
            14 => self.sw.reconnect(self.now),
            _ => {
                let mode = if a & 1 != 0 { FailMode::Standalone } else { FailMode::Secure };
                self.sw.set_fail_mode(self.now, mode);
            }
        }
        self.settle();
    }
}

/// Drives a `Switch` through the operations `data` encodes, checking invariants after each, and
/// checks that the same input gives the same transcript twice.
pub fn run(data: &[u8]) {
    let (setup, seed) = (data.first().copied().unwrap_or(0), data.get(1).copied().unwrap_or(0));
    let transcript = |mut d: &[u8]| {
        let mut driver = Driver::new(setup, seed);
        driver.settle();
        while !d.is_empty() {
            driver.step(&mut d);
        }
        driver.transcript_hash
    };
    let body = data.get(2..).unwrap_or_default();
    assert_eq!(transcript(body), transcript(body), "same input, different behaviour");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripted_input_reaches_forwarding_and_controllers() {
        // Connect the active controller, hello in OF1.0, add a flow to ALL, then frames on p1
        // and p2.
        let script: &[u8] = &[0, 0, 0, 3, 0, 0, 4, 0, 4, 0, 1, 8, 1, 0, 9, 9, 2, 1, 7];
        let mut d = script;
        let mut driver = Driver::new(0x13, 1);
        driver.settle();
        while !d.is_empty() {
            driver.step(&mut d);
        }
        let st = driver.sw.status(driver.now);
        assert_eq!((st.upcalls["frames_received"], st.upcalls["frames_forwarded"]), (2, 2));
        assert_eq!(driver.frames_out, 8, "each frame to the 3 other ports and LOCAL");
        assert_eq!(driver.sw.connmgr().conn_ids().count(), 1);
        run(script);
    }
}
