//! Test support: drives an `Rconn` with arbitrary (time, event, bytes) sequences and asserts its
//! invariants after every step. `run` is the body of the cargo-fuzz target; the proptests use `Driver`.

use bytes::Bytes;
use ofp_proto::msg::Hello;
use ofp_proto::{Instant, Message, OfpMsg, VersionBitmap};

use crate::{ConnError, CounterId, Event, MonitorId, Output, Rconn, RconnConfig, State, N_COUNTERS};

/// One input to the connection, in terms a fuzzer can reach easily.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Time passes by this many milliseconds.
    Advance(u32),
    /// `handle_timeout` at the current time.
    Timeout,
    /// Jump to `poll_timeout` (if any) and run `handle_timeout` there.
    RunToDeadline,
    Connect,
    Accept,
    Connected,
    OpenFailed,
    Error,
    Eof,
    /// The peer's hello: header version, and a bitmap element when nonzero.
    PeerHello {
        version: u8,
        bitmap: u32,
    },
    /// A message from the peer: a kind (echo request/reply, barrier, features, packet-out…) in a version.
    PeerMsg {
        kind: u8,
        version: u8,
    },
    /// Arbitrary bytes from the peer.
    PeerBytes(Vec<u8>),
    /// Queue a message of `len` extra bytes on counter `counter` (0..3; 3 means none).
    Send {
        counter: u8,
        len: u8,
    },
    SendWithLimit {
        counter: u8,
        limit: u8,
    },
    /// Hand out up to this many transmits.
    Transmit(u8),
    /// Receive up to this many messages.
    Recv(u8),
    SetMaxBackoff(u8),
    SetProbeInterval(u8),
    Disconnect,
    Reconnect,
    AddMonitor(u8),
    RemoveMonitor(u8),
}

impl Op {
    /// Reads one op from the front of `data`; `None` when `data` is used up.
    pub fn decode(data: &mut &[u8]) -> Option<Op> {
        let (&code, rest) = data.split_first()?;
        *data = rest;
        let mut byte = || -> u8 {
            let (&b, rest) = data.split_first().unwrap_or((&0, &[]));
            *data = rest;
            b
        };
        Some(match code % 23 {
            0 => Op::Advance(u32::from(byte()) * 97),
            1 => Op::Timeout,
            2 => Op::RunToDeadline,
            3 => Op::Connect,
            4 => Op::Accept,
            5 => Op::Connected,
            6 => Op::OpenFailed,
            7 => Op::Error,
            8 => Op::Eof,
            9 => {
                let version = byte();
                let bitmap = u32::from_be_bytes([byte(), byte(), byte(), byte()]);
                Op::PeerHello { version, bitmap }
            }
            10 => Op::PeerMsg { kind: byte(), version: byte() },
            11 => {
                let n = usize::from(byte() % 40).min(data.len());
                let (b, rest) = data.split_at(n);
                *data = rest;
                Op::PeerBytes(b.to_vec())
            }
            12 => Op::Send { counter: byte(), len: byte() },
            13 => Op::SendWithLimit { counter: byte(), limit: byte() },
            14 => Op::Transmit(byte()),
            15 => Op::Recv(byte()),
            16 => Op::SetMaxBackoff(byte()),
            17 => Op::SetProbeInterval(byte()),
            18 => Op::Disconnect,
            19 => Op::Reconnect,
            20 => Op::AddMonitor(byte()),
            21 => Op::RemoveMonitor(byte()),
            _ => Op::Advance(u32::from(byte()) * 1000),
        })
    }
}

/// What the driver believes about the transport, from the outputs it has seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    None,
    Opening,
    Up,
}

/// An `Rconn` plus the caller's view of it; every step checks that the two agree.
#[derive(Debug)]
pub struct Driver {
    pub rc: Rconn,
    pub now: Instant,
    transport: Transport,
    monitors: Vec<MonitorId>,
    state: State,
}

impl Driver {
    pub fn new(config: RconnConfig) -> Driver {
        let now = Instant::from_secs(1000);
        Driver {
            rc: Rconn::new(config, now),
            now,
            transport: Transport::None,
            monitors: Vec::new(),
            state: State::Void,
        }
    }

    /// Applies `op`, drains the outputs a caller must drain, and checks every invariant.
    pub fn step(&mut self, op: &Op) {
        let now = self.now;
        self.early_timeout_is_a_no_op();
        match op {
            Op::Advance(ms) => self.now = now + std::time::Duration::from_millis(u64::from(*ms)),
            Op::Timeout => self.timeout(),
            Op::RunToDeadline => {
                if let Some(t) = self.rc.poll_timeout() {
                    self.now = self.now.max(t);
                    self.timeout();
                }
            }
            Op::Connect => self.rc.connect(now, "tcp:192.0.2.1:6653", Some("fuzz")),
            Op::Accept => {
                self.rc.connect_unreliably(now, "tcp:192.0.2.2:40000", None);
                self.drain();
                self.transport = Transport::Up;
            }
            Op::Connected => {
                if self.transport == Transport::Opening {
                    self.transport = Transport::Up;
                }
                self.rc.handle_connected(now);
            }
            Op::OpenFailed => {
                if self.transport == Transport::Opening {
                    self.transport = Transport::None;
                }
                self.rc.handle_open_failed(now, ConnError::CONNECTION_REFUSED);
            }
            Op::Error => self.rc.handle_error(now, ConnError::CONNECTION_RESET),
            Op::Eof => self.rc.handle_eof(now),
            Op::PeerHello { version, bitmap } => {
                let hello = Hello { has_bitmap: *bitmap != 0, ..Hello::new(VersionBitmap(*bitmap)) };
                let msg = OfpMsg { version: (*version).max(1), ..OfpMsg::new(1, 0, Message::Hello(hello)) };
                self.rc.handle_bytes(now, &msg.to_bytes());
            }
            Op::PeerMsg { kind, version } => {
                let v = match *version % 8 {
                    0 => self.rc.version().unwrap_or(4),
                    v => v,
                };
                self.rc.handle_bytes(now, &peer_msg(*kind, v));
            }
            Op::PeerBytes(b) => self.rc.handle_bytes(now, b),
            Op::Send { counter, len } => {
                let msg = Bytes::from(vec![self.rc.version().unwrap_or(1); 8 + usize::from(*len)]);
                let counter = (*counter % 4 < 3).then(|| CounterId::nth(*counter % 4));
                let _ = self.rc.send(now, msg, counter);
            }
            Op::SendWithLimit { counter, limit } => {
                let c = CounterId::nth(*counter % 3);
                let msg = Bytes::from(vec![4; 16]);
                let before = self.rc.n_overflows();
                let full = self.rc.queued(c).n_packets >= u32::from(*limit % 8);
                let _ = self.rc.send_with_limit(now, msg, c, u32::from(*limit % 8));
                assert_eq!(self.rc.n_overflows(), before + u64::from(full), "overflow not counted");
            }
            Op::Transmit(n) => {
                for _ in 0..*n {
                    if self.rc.poll_transmit(now).is_none() {
                        break;
                    }
                }
            }
            Op::Recv(n) => {
                for _ in 0..*n {
                    if self.rc.recv(now).is_none() {
                        break;
                    }
                }
            }
            Op::SetMaxBackoff(s) => self.rc.set_max_backoff(now, u32::from(*s % 20)),
            Op::SetProbeInterval(s) => self.rc.set_probe_interval(u32::from(*s % 12)),
            Op::Disconnect => self.rc.disconnect(now),
            Op::Reconnect => self.rc.reconnect(now),
            Op::AddMonitor(id) => {
                let id = MonitorId(u64::from(*id % 12));
                let expect_ok = self.monitors.len() < crate::MAX_MONITORS && !self.monitors.contains(&id);
                assert_eq!(self.rc.add_monitor(id, "snoop").is_ok(), expect_ok, "monitor admission");
                if expect_ok {
                    self.monitors.push(id);
                }
            }
            Op::RemoveMonitor(id) => {
                let id = MonitorId(u64::from(*id % 12));
                let known = self.monitors.contains(&id);
                assert_eq!(self.rc.remove_monitor(id, ConnError::Eof), known);
                self.monitors.retain(|m| *m != id);
            }
        }
        self.drain();
        self.check();
    }

    /// `handle_timeout` before the deadline must change nothing at all.
    fn early_timeout_is_a_no_op(&mut self) {
        if self.rc.poll_timeout().is_some_and(|t| t <= self.now) {
            return;
        }
        let before = (self.rc.state(), self.rc.poll_timeout(), self.rc.backoff(), self.rc.txq_len());
        self.rc.handle_timeout(self.now);
        let after = (self.rc.state(), self.rc.poll_timeout(), self.rc.backoff(), self.rc.txq_len());
        assert_eq!(before, after, "early handle_timeout changed the connection");
        assert!(self.rc.poll_output().is_none() && self.rc.poll_event().is_none(), "early handle_timeout had output");
    }

    fn timeout(&mut self) {
        self.rc.handle_timeout(self.now);
        self.drain();
        if let Some(t) = self.rc.poll_timeout() {
            assert!(t > self.now, "poll_timeout {t} not after handle_timeout({})", self.now);
        }
    }

    /// Drains outputs and events as a caller must, checking that connect attempts never overlap.
    fn drain(&mut self) {
        while let Some(o) = self.rc.poll_output() {
            match o {
                Output::Connect { .. } => {
                    assert_eq!(self.transport, Transport::None, "second connect attempt while one is open");
                    self.transport = Transport::Opening;
                }
                Output::Close { .. } => {
                    assert_ne!(self.transport, Transport::None, "close without a transport");
                    self.transport = Transport::None;
                }
                Output::MonitorCopy { id, .. } => assert!(self.monitors.contains(&id), "copy to unknown monitor"),
            }
        }
        while let Some(Event::StateChanged { from, to }) = self.rc.poll_event() {
            assert_eq!(from, self.state, "state change chain broken");
            self.state = to;
        }
    }

    fn check(&self) {
        assert_eq!(self.state, self.rc.state(), "events do not end in the current state");
        if let Err(e) = self.rc.check_invariants() {
            panic!("invariant broken: {e}");
        }
        let has_transport = matches!(self.rc.state(), State::Connecting | State::Active | State::Idle);
        assert_eq!(has_transport, self.transport != Transport::None, "caller's transport view disagrees");
        for c in (0..N_COUNTERS as u8).map(CounterId::nth) {
            assert_eq!(self.rc.queued_for(c), self.rc.queued(c), "counter differs from the queue");
        }
        if self.rc.state() == State::Backoff {
            let wait = self.rc.poll_timeout().map(|t| t - self.rc.state_entered());
            let max = std::time::Duration::from_secs(u64::from(self.rc.max_backoff()));
            assert!(wait.is_some_and(|w| w >= std::time::Duration::from_secs(1) && w <= max), "backoff wait {wait:?}");
        }
    }
}

/// A message from the peer in `version`: a handful of kinds that move the state machine differently.
fn peer_msg(kind: u8, version: u8) -> Bytes {
    let body = match kind % 6 {
        0 => Message::EchoRequest(Bytes::new()),
        1 => Message::EchoReply(Bytes::from_static(b"pong")),
        2 => Message::BarrierRequest,
        3 => Message::FeaturesRequest,
        4 => Message::Hello(Hello::new(VersionBitmap::DEFAULT)),
        // A message type no version defines: not admitting, answered by the owner with an error.
        _ => return Bytes::from(vec![version, 0xee, 0, 8, 0, 0, 0, kind]),
    };
    OfpMsg::try_new(version, u32::from(kind), body)
        .map_or_else(|| Bytes::from(vec![version, 0, 0, 8, 0, 0, 0, 0]), |m| m.to_bytes())
}

/// Runs the ops encoded in `data` against a fresh connection, asserting the invariants after each.
pub fn run(data: &[u8]) {
    let mut cursor = data;
    let cfg = match cursor.split_first() {
        Some((&b, rest)) => {
            cursor = rest;
            RconnConfig {
                probe_interval: u32::from(b % 8),
                max_backoff: u32::from(b / 8 % 10),
                ..RconnConfig::default()
            }
        }
        None => RconnConfig::default(),
    };
    let mut d = Driver::new(cfg);
    while let Some(op) = Op::decode(&mut cursor) {
        d.step(&op);
    }
}
