//! A stand-in for `ofproto_core::Switch` behind [`SwitchCore`]: it speaks a line protocol instead of
//! OpenFlow, so the daemon's loop, sockets and control socket can be tested end to end by a peer that
//! reads and writes text. It keeps the real core's contract: bytes are taken by `handle_bytes` and
//! acted on by the next `handle_timeout` (50 lines per connection per step, none while 100 replies
//! wait unsent), input is refused past 64 KiB unread, and controllers reconnect with backoff.
//!
//! Protocol (one command per line, answers end in '\n'):
//! - on every new connection the core sends `hello N` (N: the connection id);
//! - `echo TEXT` → `TEXT`;
//! - `flood N` → N bytes of `abc…xyzabc…`, then '\n' (produced as the socket takes them);
//! - `after MS TEXT` → `TEXT`, MS milliseconds later (a timer through `poll_timeout`);
//! - `close` → `bye`, then the core closes the connection;
//! - anything else → `error unknown command`; a line over 4096 bytes closes the connection;
//! - a frame injected on port P with L bytes → `frame port=P len=L` on every connection.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use log::{info, warn};
use ofp_proto::Instant;
use rconn_core::{ConnError, ConnName};

use crate::config::Config;
use crate::core::{ConnId, Output, SwitchCore};
use crate::status::{ControllerStatus, CoreStatus, PortStatus};

const MAX_LINE: usize = 4096;
const MAX_INPUT: usize = 64 * 1024;
/// Lines handled per connection per step (OVS reads 50 messages per connection per run).
const LINES_PER_STEP: usize = 50;
/// Replies queued before a connection's requests wait (OVS `OFCONN_REPLY_MAX`).
const REPLY_MAX: usize = 100;
const FLOOD_CHUNK: u64 = 16 * 1024;
/// OVS's DSCP default for controller connections.
const DSCP: u8 = 48;

#[derive(Debug)]
struct Session {
    input: Vec<u8>,
    out: VecDeque<Bytes>,
    /// Flood bytes still to produce, and how many were produced (for the pattern).
    flood_left: u64,
    flood_done: u64,
}

impl Session {
    fn new(id: ConnId) -> Session {
        let hello = Bytes::from(format!("hello {}\n", id.0));
        Session { input: Vec::new(), out: VecDeque::from([hello]), flood_left: 0, flood_done: 0 }
    }

    /// Has a command it may act on now.
    fn ready(&self) -> bool {
        self.flood_left == 0 && self.out.len() < REPLY_MAX && self.input.contains(&b'\n')
    }
}

#[derive(Debug)]
enum CtlState {
    Connecting(ConnId),
    Active(ConnId),
    Backoff(Instant),
}

#[derive(Debug)]
struct Controller {
    state: CtlState,
    backoff: Duration,
    max_backoff: Duration,
    last_error: Option<ConnError>,
    last_connected: Option<Instant>,
    last_disconnected: Option<Instant>,
}

/// See the module docs.
#[derive(Debug)]
pub struct FakeCore {
    sessions: BTreeMap<ConnId, Session>,
    controllers: BTreeMap<Arc<str>, Controller>,
    ports: Vec<PortStatus>,
    outputs: VecDeque<Output>,
    timers: BTreeMap<(Instant, u64), (ConnId, Bytes)>,
    next_id: u64,
    n_timers: u64,
    frames: u64,
}

impl FakeCore {
    /// Asks for the configured listeners and snoops, and starts connecting to the controllers.
    pub fn new(now: Instant, config: &Config) -> FakeCore {
        let mut core = FakeCore {
            sessions: BTreeMap::new(),
            controllers: BTreeMap::new(),
            ports: (1..=config.ports)
                .map(|p| PortStatus { port_no: p, name: format!("p{p}"), ..PortStatus::default() })
                .collect(),
            outputs: VecDeque::new(),
            timers: BTreeMap::new(),
            next_id: 1,
            n_timers: 0,
            frames: 0,
        };
        for target in config.listeners.iter().map(|l| l.target.as_str()).chain(config.snoops.iter().map(String::as_str))
        {
            core.outputs.push_back(Output::Listen { target: target.into(), dscp: DSCP });
        }
        for c in &config.controllers {
            let target: Arc<str> = c.target.as_str().into();
            let ctl = Controller {
                state: CtlState::Backoff(now),
                backoff: Duration::ZERO,
                max_backoff: Duration::from_secs(c.max_backoff.into()),
                last_error: None,
                last_connected: None,
                last_disconnected: None,
            };
            core.controllers.insert(target.clone(), ctl);
            core.connect(&target);
        }
        core
    }

    fn alloc(&mut self) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        id
    }

    fn connect(&mut self, target: &Arc<str>) {
        let conn = self.alloc();
        if let Some(c) = self.controllers.get_mut(target) {
            info!("{target}: connecting...");
            c.state = CtlState::Connecting(conn);
            self.outputs.push_back(Output::Connect { conn, target: target.clone(), dscp: DSCP });
        }
    }

    /// The controller whose current transport is `conn`.
    fn controller_of(&mut self, conn: ConnId) -> Option<(&Arc<str>, &mut Controller)> {
        self.controllers
            .iter_mut()
            .find(|(_, c)| matches!(c.state, CtlState::Connecting(id) | CtlState::Active(id) if id == conn))
    }

    /// A controller transport failed or closed: back off (1 s, doubling up to max_backoff).
    fn disconnected(&mut self, now: Instant, conn: ConnId, err: Option<ConnError>) {
        if let Some((_, c)) = self.controller_of(conn) {
            c.backoff = (c.backoff * 2).clamp(Duration::from_secs(1), c.max_backoff.max(Duration::from_secs(1)));
            c.state = CtlState::Backoff(now + c.backoff);
            c.last_error = err.or(c.last_error);
            c.last_disconnected = Some(now);
        }
    }

    fn close(&mut self, now: Instant, conn: ConnId, error: Option<ConnError>, bye: &[u8]) {
        let Some(s) = self.sessions.remove(&conn) else { return };
        let mut unsent = BytesMut::new();
        s.out.iter().for_each(|b| unsent.extend_from_slice(b));
        unsent.extend_from_slice(bye);
        self.outputs.push_back(Output::Close { conn, error, unsent: unsent.freeze() });
        self.disconnected(now, conn, error);
    }

    /// Acts on up to LINES_PER_STEP complete lines of one session.
    fn run_session(&mut self, now: Instant, id: ConnId) {
        for _ in 0..LINES_PER_STEP {
            let Some(s) = self.sessions.get_mut(&id).filter(|s| s.ready()) else { return };
            let end = s.input.iter().position(|&b| b == b'\n').unwrap_or(0);
            let line: Vec<u8> = s.input.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            let (cmd, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
            match cmd {
                "echo" => s.out.push_back(Bytes::from(format!("{arg}\n"))),
                "flood" => match arg.parse() {
                    Ok(n) => (s.flood_left, s.flood_done) = (n, 0),
                    Err(_) => s.out.push_back(Bytes::from_static(b"error bad count\n")),
                },
                "after" => match arg.split_once(' ').map(|(ms, text)| (ms.parse::<u64>(), text)) {
                    Some((Ok(ms), text)) => {
                        self.n_timers += 1;
                        let at = now + Duration::from_millis(ms);
                        self.timers.insert((at, self.n_timers), (id, Bytes::from(format!("{text}\n"))));
                    }
                    _ => s.out.push_back(Bytes::from_static(b"error bad timer\n")),
                },
                "close" => return self.close(now, id, None, b"bye\n"),
                _ => s.out.push_back(Bytes::from_static(b"error unknown command\n")),
            }
        }
    }
}

impl SwitchCore for FakeCore {
    fn handle_accept(&mut self, _now: Instant, _listener: &str, _peer: &str) -> Option<ConnId> {
        let id = self.alloc();
        self.sessions.insert(id, Session::new(id));
        Some(id)
    }

    fn handle_listen_error(&mut self, _now: Instant, target: &str, err: ConnError) {
        warn!("failed to listen on {target}: {err}");
    }

    fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        let Some((target, c)) = self.controller_of(conn) else { return };
        (c.state, c.backoff, c.last_connected) = (CtlState::Active(conn), Duration::ZERO, Some(now));
        info!("{target}: connected");
        self.sessions.insert(conn, Session::new(conn));
    }

    fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        self.disconnected(now, conn, Some(err));
    }

    fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        if self.sessions.contains_key(&conn) {
            self.close(now, conn, Some(err), b"");
        } else {
            // A connect that failed: the transport is dropped with no session.
            self.outputs.push_back(Output::Close { conn, error: Some(err), unsent: Bytes::new() });
            self.disconnected(now, conn, Some(err));
        }
    }

    fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        let Some(s) = self.sessions.get_mut(&conn) else { return };
        s.input.extend_from_slice(data);
        let tail = s.input.iter().rposition(|&b| b == b'\n').map_or(s.input.len(), |p| s.input.len() - p - 1);
        if tail > MAX_LINE {
            self.close(now, conn, Some(ConnError::PROTOCOL), b"error line too long\n");
        }
    }

    fn recv_buffer(&mut self, _conn: ConnId) -> Option<&mut BytesMut> {
        None
    }

    fn handle_received(&mut self, _now: Instant, _conn: ConnId) {
        unreachable!("recv_buffer lends no buffer")
    }

    fn handle_eof(&mut self, now: Instant, conn: ConnId) {
        self.close(now, conn, Some(ConnError::Eof), b"");
    }

    fn conn_name(&self, _conn: ConnId) -> Option<ConnName> {
        None
    }

    fn may_read(&self, conn: ConnId) -> bool {
        self.sessions.get(&conn).is_some_and(|s| s.input.len() < MAX_INPUT)
    }

    fn poll_transmit(&mut self, _now: Instant, conn: ConnId) -> Option<Bytes> {
        let s = self.sessions.get_mut(&conn)?;
        if let Some(b) = s.out.pop_front() {
            return Some(b);
        }
        if s.flood_left == 0 {
            return None;
        }
        let n = s.flood_left.min(FLOOD_CHUNK);
        let mut chunk: Vec<u8> = (s.flood_done..s.flood_done + n).map(|i| b'a' + (i % 26) as u8).collect();
        (s.flood_left, s.flood_done) = (s.flood_left - n, s.flood_done + n);
        if s.flood_left == 0 {
            chunk.push(b'\n');
        }
        Some(Bytes::from(chunk))
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.sessions.values().any(Session::ready) {
            return Some(Instant::ZERO);
        }
        let backoffs = self.controllers.values().filter_map(|c| match c.state {
            CtlState::Backoff(t) => Some(t),
            _ => None,
        });
        self.timers.keys().map(|(t, _)| *t).chain(backoffs).min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some(e) = self.timers.first_entry().filter(|e| e.key().0 <= now) {
            let (conn, text) = e.remove();
            if let Some(s) = self.sessions.get_mut(&conn) {
                s.out.push_back(text);
            }
        }
        let due: Vec<Arc<str>> = self
            .controllers
            .iter()
            .filter(|(_, c)| matches!(c.state, CtlState::Backoff(t) if t <= now))
            .map(|(t, _)| t.clone())
            .collect();
        for target in due {
            self.connect(&target);
        }
        let ids: Vec<ConnId> = self.sessions.keys().copied().collect();
        for id in ids {
            self.run_session(now, id);
        }
    }

    fn handle_frame(&mut self, _now: Instant, port: u32, frame: Bytes) -> Result<(), String> {
        let p = self.ports.iter_mut().find(|p| p.port_no == port).ok_or_else(|| format!("no port {port}"))?;
        p.rx_packets += 1;
        p.rx_bytes += frame.len() as u64;
        self.frames += 1;
        let note = Bytes::from(format!("frame port={port} len={}\n", frame.len()));
        for s in self.sessions.values_mut() {
            s.out.push_back(note.clone());
        }
        Ok(())
    }

    fn poll_packet_out(&mut self) -> Option<(u32, Bytes)> {
        None
    }

    fn reconnect(&mut self, now: Instant) {
        let targets: Vec<Arc<str>> = self.controllers.keys().cloned().collect();
        for target in targets {
            let conn = match self.controllers.get(&target).map(|c| &c.state) {
                Some(CtlState::Active(id) | CtlState::Connecting(id)) => Some(*id),
                _ => None,
            };
            if let Some(conn) = conn {
                if self.sessions.contains_key(&conn) {
                    self.close(now, conn, None, b"");
                } else {
                    self.outputs.push_back(Output::Close { conn, error: None, unsent: Bytes::new() });
                }
            }
            self.connect(&target);
        }
    }

    fn status(&self, now: Instant) -> CoreStatus {
        let secs = |t: Option<Instant>| t.map(|t| (now - t).as_secs());
        let controllers = self
            .controllers
            .iter()
            .map(|(target, c)| {
                let active = matches!(c.state, CtlState::Active(_));
                let state = match c.state {
                    CtlState::Connecting(_) => "CONNECTING",
                    CtlState::Active(_) => "ACTIVE",
                    CtlState::Backoff(_) => "BACKOFF",
                };
                ControllerStatus {
                    target: target.to_string(),
                    role: active.then(|| "other".to_string()),
                    is_connected: active,
                    state: Some(state.to_string()),
                    last_error: c.last_error.map(|e| e.to_string()),
                    sec_since_connect: secs(c.last_connected),
                    sec_since_disconnect: secs(c.last_disconnected),
                    packet_in: BTreeMap::new(),
                }
            })
            .collect();
        let queues = [
            ("sessions", self.sessions.len() as u64),
            ("input_bytes", self.sessions.values().map(|s| s.input.len() as u64).sum()),
            ("transmit_queued", self.sessions.values().map(|s| s.out.len() as u64).sum()),
            ("timers", self.timers.len() as u64),
        ];
        CoreStatus {
            controllers,
            fail_open_active: false,
            flows: 0,
            ports: self.ports.clone(),
            upcalls: BTreeMap::from([("upcall_received".to_string(), self.frames)]),
            queues: queues.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }
}
