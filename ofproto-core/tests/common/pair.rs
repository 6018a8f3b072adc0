//! A two-sided harness for the whole `Switch` (quinn-proto's `Pair`): the switch, and scripted
//! controllers joined to it in memory, in virtual time. Every output the switch produces is also
//! written to a transcript, so two runs can be compared byte for byte.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;

use bytes::Bytes;
use connmgr_core::{ConnId, ControllerSettings, Output};
use ofp_proto::msg::Hello;
use ofp_proto::{Framer, Instant, Message, OfpMsg, VersionBitmap};
use ofproto_core::switch::Config;
use ofproto_core::Switch;

/// The controller end of one connection.
#[derive(Default)]
pub struct Ctl {
    framer: Framer,
    pub inbox: VecDeque<OfpMsg>,
    /// Every message received, as bytes.
    pub raw: Vec<Bytes>,
}

pub struct Pair {
    pub sw: Switch,
    pub now: Instant,
    pub ctls: BTreeMap<ConnId, Ctl>,
    /// Transports the switch asked to open, in order, not yet taken by `connect`.
    pub connects: VecDeque<(ConnId, String)>,
    /// Every other transport output (listen, unlisten, close).
    pub outputs: Vec<Output>,
    /// Frames that left the switch, in order.
    pub frames: Vec<(u32, Bytes)>,
    pub transcript: String,
}

/// A controller target with probes off (no echo traffic in transcripts) unless a test wants them.
pub fn quiet() -> ControllerSettings {
    ControllerSettings { probe_interval: 0, ..ControllerSettings::default() }
}

pub fn config(n_ports: u16) -> Config {
    Config { n_ports, datapath_id: 0x0000_5254_0000_0001, seed: 7, ..Config::default() }
}

impl Pair {
    /// A switch built from `cfg` at t = 1000 s.
    pub fn new(cfg: &Config) -> Pair {
        let now = Instant::from_secs(1000);
        let sw = Switch::new(now, cfg);
        assert!(sw.config_errors().is_empty(), "{:?}", sw.config_errors());
        let mut p = Pair {
            sw,
            now,
            ctls: BTreeMap::new(),
            connects: VecDeque::new(),
            outputs: Vec::new(),
            frames: Vec::new(),
            transcript: String::new(),
        };
        p.run();
        p
    }

    /// Drains every output of the switch.
    fn drain(&mut self) {
        while let Some(o) = self.sw.poll_output() {
            let _ = writeln!(self.transcript, "{} output {o:?}", self.now);
            match o {
                Output::Connect { conn, target, .. } => self.connects.push_back((conn, target.to_string())),
                Output::Close { conn, .. } => {
                    self.ctls.remove(&conn);
                    self.outputs.push(o);
                }
                other => self.outputs.push(other),
            }
        }
        let ids: Vec<ConnId> = self.ctls.keys().copied().collect();
        for id in ids {
            while let Some(b) = self.sw.poll_transmit(self.now, id) {
                let _ = writeln!(self.transcript, "{} tx {id} {}", self.now, hex(&b));
                let c = self.ctls.get_mut(&id).expect("known");
                c.framer.push(&b);
            }
            let c = self.ctls.get_mut(&id).expect("known");
            while let Some(frame) = c.framer.next_frame().expect("the switch frames its messages") {
                c.inbox.push_back(OfpMsg::decode(&frame).expect("the switch sends what decodes"));
                c.raw.push(frame);
            }
        }
        while let Some((port, f)) = self.sw.poll_packet_out() {
            let _ = writeln!(self.transcript, "{} frame port {port} {}", self.now, hex(&f));
            self.frames.push((port, f));
        }
        while let Some(e) = self.sw.poll_conn_event() {
            let _ = writeln!(self.transcript, "{} event {e:?}", self.now);
        }
    }

    /// Runs the switch until nothing is due at `now`.
    pub fn run(&mut self) {
        for _ in 0..1000 {
            self.drain();
            match self.sw.poll_timeout() {
                Some(t) if t <= self.now => self.sw.handle_timeout(self.now),
                _ => return,
            }
        }
        panic!("the switch does not settle");
    }

    /// Lets `ms` milliseconds pass, stopping at every instant the switch has work.
    pub fn advance(&mut self, ms: u64) {
        let end = Instant::from_millis(self.now.as_millis() + ms);
        loop {
            self.run();
            match self.sw.poll_timeout() {
                Some(t) if t <= end && t > self.now => self.now = t,
                _ => break,
            }
        }
        self.now = end;
        self.run();
    }

    /// Brings up the switch's next requested transport and completes the hello exchange in
    /// `version`.
    pub fn connect(&mut self, version: u8) -> ConnId {
        let (conn, _) = self.connects.pop_front().expect("the switch asked for a connection");
        self.ctls.insert(conn, Ctl::default());
        self.sw.handle_connected(self.now, conn);
        self.hello(conn, version);
        conn
    }

    /// A connection accepted on passive target `listener`, with the hello exchange done.
    pub fn accept(&mut self, listener: &str, version: u8) -> ConnId {
        let conn = self.sw.handle_accept(self.now, listener, "tcp:127.0.0.1:40000").expect("accepted");
        self.ctls.insert(conn, Ctl::default());
        self.hello(conn, version);
        conn
    }

    fn hello(&mut self, conn: ConnId, version: u8) {
        let hello = OfpMsg::new(version, 0x1000, Message::Hello(Hello::new(VersionBitmap::single(version))));
        self.send(conn, &hello);
        let c = self.ctls.get_mut(&conn).unwrap();
        let m = c.inbox.pop_front().expect("the switch's hello");
        assert!(matches!(m.body, Message::Hello(_)), "{m:?}");
        c.raw.remove(0);
    }

    pub fn send_bytes(&mut self, conn: ConnId, b: &[u8]) {
        let _ = writeln!(self.transcript, "{} rx {conn} {}", self.now, hex(b));
        self.sw.handle_bytes(self.now, conn, b);
        self.run();
    }

    pub fn send(&mut self, conn: ConnId, m: &OfpMsg) {
        self.send_bytes(conn, &m.to_bytes());
    }

    /// Sends `body` in the connection's `version` with `xid` and returns everything received
    /// since the last call.
    pub fn request(&mut self, conn: ConnId, version: u8, xid: u32, body: Message) -> Vec<OfpMsg> {
        self.send(conn, &OfpMsg::new(version, xid, body));
        self.recv(conn)
    }

    pub fn recv(&mut self, conn: ConnId) -> Vec<OfpMsg> {
        self.ctls.get_mut(&conn).map(|c| c.inbox.drain(..).collect()).unwrap_or_default()
    }

    /// Every message `conn` received, as bytes, since the last call.
    pub fn recv_raw(&mut self, conn: ConnId) -> Vec<Bytes> {
        let c = self.ctls.get_mut(&conn).expect("known connection");
        c.inbox.clear();
        std::mem::take(&mut c.raw)
    }

    /// A frame arriving on `port`, forwarded by the next step.
    pub fn frame(&mut self, port: u32, f: &[u8]) {
        let _ = writeln!(self.transcript, "{} frame in {port} {}", self.now, hex(f));
        self.sw.handle_frame(self.now, port, Bytes::copy_from_slice(f)).expect("port exists");
        self.run();
    }

    /// The frames that left since the last call.
    pub fn take_frames(&mut self) -> Vec<(u32, Bytes)> {
        std::mem::take(&mut self.frames)
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
