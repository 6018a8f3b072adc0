//! The daemon's one mio event loop. It moves bytes and events between sockets (OpenFlow transports,
//! listeners, the control socket, the signal pipe) and the core, and holds no protocol logic: every
//! decision comes from the core's outputs, every input goes through [`feed`].
//!
//! Fairness: per iteration each connection reads at most `READ_BUDGET` bytes (none while the core
//! refuses more with `may_read`) and writes at most `WRITE_BUDGET`; each listener accepts at most
//! `ACCEPT_BUDGET` connections. Leftover work makes the next poll return at once. A peer that does
//! not read only fills its own buffer: the core's queue for it stops being drained, nothing else waits.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, IoSlice, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use log::{debug, info, warn};
use mio::net::UnixListener;
use mio::{Events, Interest, Poll, Token};
use ofp_proto::Instant;
use rconn_core::{ConnError, ConnName, Fifo};

use crate::config::{dpid_string, Config};
use crate::control::{self, ControlClient, Request, Response};
use crate::core::{feed, ConnId, Fed, Input, Output, SwitchCore};
use crate::net::{self, Listener, Stream};
use crate::reading::{Lowat, Reading, BATCH_LOWAT};
use crate::signals::{self, Signals};
use crate::stamp::Stamp;
use crate::status::{IoStatus, ListenerStatus, Status};

/// The largest read (see `Reading::read_size`).
const READ_CHUNK: usize = 1 << crate::reading::MAX_READ_SHIFT;
const READ_BUDGET: usize = 256 * 1024;
const WRITE_BUDGET: usize = 1024 * 1024;
/// Bytes taken from the core and not yet written, per connection: beyond this the core keeps them.
const WRITE_HIGH_WATER: u32 = 256 * 1024;
/// Buffers handed to one `writev`.
const MAX_IOV: usize = 64;
const ACCEPT_BUDGET: usize = 16;
const MAX_CONTROL_CLIENTS: usize = 16;
/// How long a connection the core closed may take to flush its last bytes.
const LINGER: Duration = Duration::from_secs(1);

const SIGNAL: Token = Token(0);
const CONTROL: Token = Token(1);

/// The core's clock: milliseconds since the daemon started.
#[derive(Clone, Copy, Debug)]
pub struct Clock(std::time::Instant);

impl Clock {
    pub fn start() -> Clock {
        Clock(std::time::Instant::now())
    }

    pub fn now(&self) -> Instant {
        Instant::from_millis(self.0.elapsed().as_millis() as u64)
    }
}

#[derive(Clone, Debug)]
/// What a token other than a connection's stands for (connections' tokens encode their id, so
/// that thousands of idle connections need no entry here).
enum Slot {
    Listener(Arc<str>),
    Client,
}

/// Set in the tokens of OpenFlow connections, whose other bits are the connection's id.
const CONN_TOKEN: usize = 1 << (usize::BITS - 2);

fn conn_token(id: ConnId) -> Token {
    Token(CONN_TOKEN | id.0 as usize)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Connecting,
    Open,
    /// The core closed it (then): the last bytes go out until `LINGER` later.
    Closing(Stamp),
}

#[derive(Debug)]
struct Conn {
    stream: Stream,
    phase: Phase,
    writable: bool,
    /// Read sizes, and batching of a peer that streams without waiting for answers (TCP only).
    reading: Reading,
    /// EOF or an error was reported: nothing more is read.
    read_done: bool,
    /// An error was reported: nothing more is written either.
    broken: bool,
    /// Bytes taken from the core, in order, not yet written.
    out: Fifo<Bytes>,
    out_len: u32,
    /// The last write pass stopped on its budget with more to write.
    write_pending: bool,
    /// The `id` of the listener that accepted it; 0 for a controller connection.
    listener: u32,
    /// OVS's connection name, for log lines: "br0<->tcp:127.0.0.1:6653".
    name: ConnName,
}

impl Conn {
    fn new(stream: Stream, phase: Phase, listener: u32, name: ConnName) -> Conn {
        Conn {
            name,
            stream,
            phase,
            writable: false,
            reading: Reading::default(),
            read_done: false,
            broken: false,
            out: Fifo::new(),
            out_len: 0,
            write_pending: false,
            listener,
        }
    }

    fn wants_read(&self) -> bool {
        self.phase == Phase::Open && self.reading.readable && !self.read_done && !self.broken
    }

    fn push(&mut self, b: Bytes) {
        self.out_len += b.len() as u32;
        self.out.push_back(b);
    }

    /// One `writev` of as many queued buffers as it takes; `Ok(0)` when blocked or empty.
    fn write_once(&mut self, io: &mut IoStatus) -> io::Result<usize> {
        if self.out.is_empty() || !self.writable {
            return Ok(0);
        }
        let iov: Vec<IoSlice<'_>> = self.out.iter().take(MAX_IOV).map(|b| IoSlice::new(b)).collect();
        let n = loop {
            match self.stream.write_vectored(&iov) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.writable = false;
                    return Ok(0);
                }
                Err(e) => return Err(e),
            }
        };
        io.write_calls += 1;
        io.bytes_written += n as u64;
        self.out_len -= n as u32;
        let mut left = n;
        while left > 0 {
            let front = self.out.front_mut().expect("written bytes were queued");
            if front.len() <= left {
                left -= front.len();
                self.out.pop_front();
            } else {
                front.advance(left);
                left = 0;
            }
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct ListenerSlot {
    /// Stable across re-listening; connections name their listener by it.
    id: u32,
    kind: &'static str,
    listener: Option<(Listener, Token)>,
    ready: bool,
    state: &'static str,
    last_error: Option<String>,
}

impl ListenerSlot {
    fn new(id: u32, kind: &'static str) -> ListenerSlot {
        ListenerSlot { id, kind, listener: None, ready: false, state: "STARTING", last_error: None }
    }
}

/// The daemon: the core, its sockets, the control socket and the signal pipe.
pub struct EventLoop<C> {
    core: C,
    clock: Clock,
    poll: Poll,
    slots: HashMap<Token, Slot>,
    next_token: usize,
    /// Boxed: a map node holds many, and most are idle.
    conns: BTreeMap<ConnId, Box<Conn>>,
    listeners: BTreeMap<Arc<str>, ListenerSlot>,
    control: UnixListener,
    control_path: PathBuf,
    control_ready: bool,
    clients: BTreeMap<Token, ControlClient>,
    client_events: Vec<Token>,
    signals: Signals,
    stop: Option<i32>,
    io: IoStatus,
    bridge: String,
    datapath_id: u64,
    fail_mode: String,
    scratch: Vec<u8>,
}

impl<C: SwitchCore> EventLoop<C> {
    /// Binds the control socket and installs the signal handlers; the core's first outputs (listen,
    /// connect) are acted on by [`EventLoop::run`].
    pub fn new(core: C, clock: Clock, config: &Config) -> io::Result<EventLoop<C>> {
        let poll = Poll::new()?;
        let mut signals = Signals::install()?;
        poll.registry().register(&mut signals.receiver, SIGNAL, Interest::READABLE)?;
        let path = config.control_socket.clone();
        let mut control = control::bind(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: cannot bind control socket: {e}", path.display())))?;
        poll.registry().register(&mut control, CONTROL, Interest::READABLE)?;
        let targets = config.listeners.iter().map(|l| (l.target.as_str(), "service"));
        let listeners: BTreeMap<Arc<str>, ListenerSlot> = (targets
            .chain(config.snoops.iter().map(|s| (s.as_str(), "snoop"))))
        .zip(1..)
        .map(|((target, kind), id)| (target.into(), ListenerSlot::new(id, kind)))
        .collect();
        Ok(EventLoop {
            core,
            clock,
            poll,
            slots: HashMap::new(),
            next_token: 2,
            conns: BTreeMap::new(),
            listeners,
            control,
            control_path: path,
            control_ready: false,
            clients: BTreeMap::new(),
            client_events: Vec::new(),
            signals,
            stop: None,
            io: IoStatus::default(),
            bridge: config.bridge.clone(),
            datapath_id: config.datapath_id,
            fail_mode: config.fail_mode.to_string(),
            scratch: vec![0; READ_CHUNK],
        })
    }

    /// Runs until SIGINT or SIGTERM; returns the signal after closing every connection.
    pub fn run(mut self) -> io::Result<i32> {
        self.after_input(self.clock.now());
        info!("{}: ready, control socket {}", self.bridge, self.control_path.display());
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.wait_time();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in events.iter() {
                self.note(ev);
            }
            if let Some(sig) = self.stop {
                info!("{}: exiting on {}", self.bridge, signals::name(sig));
                self.shutdown();
                return Ok(sig);
            }
            self.step();
        }
    }

    fn token(&mut self, slot: Slot) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        self.slots.insert(t, slot);
        t
    }

    /// Records what an event says is ready; the work happens in `step`.
    fn note(&mut self, ev: &mio::event::Event) {
        match ev.token() {
            SIGNAL => self.stop = self.signals.drain().first().copied().or(self.stop),
            CONTROL => self.control_ready = true,
            t if t.0 & CONN_TOKEN != 0 => {
                if let Some(c) = self.conns.get_mut(&ConnId((t.0 & !CONN_TOKEN) as u64)) {
                    c.reading.readable |= ev.is_readable() || ev.is_read_closed() || ev.is_error();
                    c.reading.peer_closed |= ev.is_read_closed() || ev.is_error();
                    c.writable |= ev.is_writable() || ev.is_write_closed() || ev.is_error();
                }
            }
            t => match self.slots.get(&t) {
                Some(Slot::Listener(target)) => {
                    if let Some(l) = self.listeners.get_mut(target) {
                        l.ready = true;
                    }
                }
                Some(Slot::Client) => self.client_events.push(t),
                None => {}
            },
        }
    }

    /// How long the next poll may sleep: not at all with work left over, else until the core's
    /// next deadline or a closing connection's linger deadline.
    fn wait_time(&self) -> Option<Duration> {
        let busy = self.control_ready
            || self.listeners.values().any(|l| l.ready)
            || self.conns.iter().any(|(id, c)| (c.wants_read() && self.core.may_read(*id)) || c.write_pending);
        if busy {
            return Some(Duration::ZERO);
        }
        let now = self.clock.now();
        let closing = self.conns.values().filter_map(|c| match c.phase {
            Phase::Closing(since) => Some(since.instant(now) + LINGER),
            _ => None,
        });
        // Only a connection still being read has a batch to end (a closing one may linger a second).
        let reading = self.conns.values().filter(|c| c.phase == Phase::Open && !c.read_done && !c.broken);
        let batches = reading.filter_map(|c| c.reading.deadline(now));
        (self.core.poll_timeout().into_iter().chain(closing).chain(batches).min())
            .map(|t| t.saturating_duration_since(now))
    }

    fn step(&mut self) {
        let now = self.clock.now();
        self.finish_connects(now);
        self.accept(now);
        self.read(now);
        self.serve_control(now);
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.input(now, Input::Timeout);
        }
        self.write(now);
        self.after_input(now);
        self.reap(now);
    }

    /// Connections whose non-blocking connect finished, one way or the other.
    fn finish_connects(&mut self, now: Instant) {
        let mut done = Vec::new();
        for (id, c) in self.conns.iter_mut().filter(|(_, c)| c.phase == Phase::Connecting) {
            if !(c.reading.readable || c.writable) {
                continue;
            }
            match c.stream.take_error() {
                Ok(None) if c.stream.is_connected() => {
                    debug!("{}: transport connected", c.name);
                    c.phase = Phase::Open;
                    done.push(Input::Connected(*id));
                }
                Ok(None) => (c.reading.readable, c.writable) = (false, false),
                Ok(Some(e)) | Err(e) => {
                    debug!("{}: connect failed: {e}", c.name);
                    (c.broken, c.read_done) = (true, true);
                    done.push(Input::Error(*id, ConnError::from_io(&e)));
                }
            }
        }
        for input in done {
            self.input(now, input);
        }
    }

    fn accept(&mut self, now: Instant) {
        let ready: Vec<Arc<str>> = self.listeners.iter().filter(|(_, l)| l.ready).map(|(t, _)| t.clone()).collect();
        for target in ready {
            for _ in 0..ACCEPT_BUDGET {
                let Some(slot) = self.listeners.get_mut(&target) else { break };
                let listener_id = slot.id;
                let Some((listener, _)) = &slot.listener else { break };
                let (mut stream, peer) = match listener.accept() {
                    Ok(x) => x,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        if e.kind() != io::ErrorKind::WouldBlock {
                            warn!("{target}: accept failed: {e}");
                        }
                        slot.ready = false;
                        break;
                    }
                };
                // Outputs for the connection (a close, bytes to write) wait until it is in `conns`.
                let Fed::Accepted(Some(id)) =
                    feed(&mut self.core, now, Input::Accept { listener: &target, peer: &peer })
                else {
                    debug!("{target}: connection from {peer} refused by the core");
                    continue;
                };
                let name = self.name_of(id, &peer);
                if let Err(e) = self.poll.registry().register(
                    stream.source(),
                    conn_token(id),
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    warn!("{name}: cannot poll connection: {e}");
                    self.input(now, Input::Error(id, ConnError::from_io(&e)));
                    continue;
                }
                debug!("{name}: accepted on {target}");
                self.io.accepted += 1;
                self.conns.insert(id, Box::new(Conn::new(stream, Phase::Open, listener_id, name)));
                self.after_input(now);
            }
        }
    }

    /// Reads each connection while the core takes more (`may_read`), up to its budget. Each read
    /// goes to the core at once, and what the core asks for then is done before the next read
    /// (a connection it closed is read no further).
    fn read(&mut self, now: Instant) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            if let Some(c) = self.conns.get_mut(&id) {
                // A batch's deadline: read whatever came, reported or not.
                c.reading.readable |= c.reading.due(now);
            }
            let mut budget = READ_BUDGET;
            while budget > 0 {
                let Some(c) = self.conns.get_mut(&id).filter(|c| c.wants_read()) else { break };
                if !self.core.may_read(id) {
                    break;
                }
                let want = c.reading.read_size().min(budget);
                // Straight into the core's receive buffer when it lends one, else through scratch.
                let (read, direct) = match self.core.recv_buffer(id) {
                    Some(buf) => (c.stream.read_buf(buf, want), true),
                    None => (c.stream.read(&mut self.scratch[..want]), false),
                };
                match read {
                    Ok(0) => {
                        debug!("{}: connection closed by peer", c.name);
                        c.read_done = true;
                        self.input(now, Input::Eof(id));
                    }
                    Ok(n) => {
                        self.io.read_calls += 1;
                        self.io.bytes_read += n as u64;
                        budget -= n;
                        c.reading.note_read(n, want);
                        if n < want && !c.reading.peer_closed {
                            // The socket is drained (edge-triggered polling reports the next
                            // arrival), so the read that would only say so is not made.
                            c.reading.readable = false;
                        }
                        let input = if direct { Input::Received(id) } else { Input::Bytes(id, &self.scratch[..n]) };
                        feed(&mut self.core, now, input);
                        self.after_input(now);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        c.reading.readable = false;
                        c.reading.note_drained();
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        debug!("{}: read failed: {e}", c.name);
                        (c.broken, c.read_done) = (true, true);
                        self.input(now, Input::Error(id, ConnError::from_io(&e)));
                    }
                }
            }
        }
    }

    /// Hands one input to the core, then does what it asks for.
    fn input(&mut self, now: Instant, input: Input<'_>) -> Fed {
        let fed = feed(&mut self.core, now, input);
        self.after_input(now);
        fed
    }

    /// Everything an input may have produced, drained: transport work, then frames leaving ports.
    fn after_input(&mut self, now: Instant) {
        self.pump_outputs(now);
        while let Some((port, frame)) = self.core.poll_packet_out() {
            self.io.frames_out += 1;
            debug!("{}: port {port}: sent {}-byte frame", self.bridge, frame.len());
        }
    }

    /// Takes what the core has for each open connection (up to the high-water mark) and writes it,
    /// many messages per system call; closing connections flush what they hold.
    fn write(&mut self, now: Instant) {
        let EventLoop { core, conns, io, .. } = self;
        for (id, c) in conns.iter_mut().filter(|(_, c)| c.phase != Phase::Connecting && !c.broken) {
            let mut written = 0;
            c.write_pending = false;
            while c.writable {
                if c.phase == Phase::Open {
                    while c.out_len < WRITE_HIGH_WATER {
                        match feed(core, now, Input::Transmit(*id)) {
                            Fed::Transmit(Some(b)) => c.push(b),
                            _ => break,
                        }
                    }
                }
                match c.write_once(io) {
                    Ok(0) => break,
                    Ok(n) => written += n,
                    Err(e) => {
                        debug!("{}: write failed: {e}", c.name);
                        (c.broken, c.read_done) = (true, true);
                        if c.phase == Phase::Open {
                            feed(core, now, Input::Error(*id, ConnError::from_io(&e)));
                        }
                        break;
                    }
                }
                if written >= WRITE_BUDGET {
                    c.write_pending = c.writable;
                    break;
                }
            }
            if c.phase == Phase::Open && !c.broken {
                let replied = written > 0 || c.out_len > 0;
                let lowat = match c.reading.after_iteration(now, replied) {
                    Lowat::Raise => Some(BATCH_LOWAT),
                    Lowat::Lower if c.reading.lowat_raised => Some(1),
                    _ => None,
                };
                if let Some(bytes) = lowat {
                    match c.stream.set_recv_lowat(bytes) {
                        Ok(set) => {
                            c.reading.lowat_raised = set && bytes > 1;
                            io.read_batches += u64::from(c.reading.lowat_raised);
                        }
                        Err(e) => {
                            debug!("{}: cannot set the receive low-water mark: {e}", c.name);
                            c.reading.lowat_raised = false;
                        }
                    }
                    if !c.reading.lowat_raised {
                        // Not batching after all (a Unix socket, or the option failed).
                        c.reading = Reading::default();
                    }
                }
            }
        }
    }

    /// Acts on the core's transport requests until it has none.
    fn pump_outputs(&mut self, now: Instant) {
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Connect { conn, target, dscp } => self.connect(now, conn, &target, dscp),
                Output::Close { conn, error, unsent } => {
                    let Some(c) = self.conns.get_mut(&conn) else { continue };
                    debug!("{}: closing ({})", c.name, error.map_or("requested".into(), |e| e.to_string()));
                    if !unsent.is_empty() {
                        c.push(unsent);
                    }
                    c.phase = Phase::Closing(Stamp::of(now));
                }
                Output::Listen { target, dscp } => self.listen(now, target, dscp),
                Output::Unlisten { target } => {
                    if let Some(slot) = self.listeners.get_mut(&target) {
                        if let Some((mut l, token)) = slot.listener.take() {
                            let _ = self.poll.registry().deregister(l.source());
                            self.slots.remove(&token);
                        }
                        (slot.state, slot.ready) = ("STOPPED", false);
                    }
                }
            }
        }
    }

    /// The core's name for a new connection to or from `peer`, else one made the same way.
    fn name_of(&self, conn: ConnId, peer: &str) -> ConnName {
        self.core.conn_name(conn).unwrap_or_else(|| ConnName::new(peer, Some(&format!("{}<->{peer}", self.bridge))))
    }

    fn connect(&mut self, now: Instant, conn: ConnId, target: &str, dscp: u8) {
        let started = net::connect(target, dscp).and_then(|mut s| {
            self.poll
                .registry()
                .register(s.source(), conn_token(conn), Interest::READABLE | Interest::WRITABLE)
                .map(|()| s)
        });
        match started {
            Ok(stream) => {
                let name = self.name_of(conn, target);
                debug!("{name}: transport connecting");
                self.io.connects += 1;
                self.conns.insert(conn, Box::new(Conn::new(stream, Phase::Connecting, 0, name)));
            }
            Err(e) => {
                debug!("{}<->{target}: connect failed: {e}", self.bridge);
                feed(&mut self.core, now, Input::OpenFailed(conn, ConnError::from_io(&e)));
            }
        }
    }

    fn listen(&mut self, now: Instant, target: Arc<str>, dscp: u8) {
        let token = self.token(Slot::Listener(target.clone()));
        let started = net::listen(&target, dscp)
            .and_then(|mut l| self.poll.registry().register(l.source(), token, Interest::READABLE).map(|()| l));
        let id = self.listeners.values().map(|l| l.id).max().unwrap_or(0) + 1;
        let slot = self.listeners.entry(target.clone()).or_insert_with(|| ListenerSlot::new(id, "service"));
        match started {
            Ok(l) => {
                match l.bound_name().filter(|b| **b != *target) {
                    Some(bound) => info!("{}: listening on {target} ({bound})", self.bridge),
                    None => info!("{}: listening on {target}", self.bridge),
                }
                (slot.state, slot.last_error, slot.ready) = ("LISTENING", None, true);
                slot.listener = Some((l, token));
            }
            Err(e) => {
                warn!("{}: {target}: cannot listen: {e}", self.bridge);
                (slot.state, slot.last_error) = ("FAILED", Some(e.to_string()));
                self.slots.remove(&token);
                feed(&mut self.core, now, Input::ListenError { target: &target, err: ConnError::from_io(&e) });
            }
        }
    }

    /// Drops closing connections that are flushed, broken or out of time.
    fn reap(&mut self, now: Instant) {
        let done: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.phase, Phase::Closing(since) if c.out.is_empty() || c.broken || since.age(now) >= LINGER))
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            if let Some(mut c) = self.conns.remove(&id) {
                c.stream.shutdown();
                let _ = self.poll.registry().deregister(c.stream.source());
            }
        }
    }

    /// Accepts control clients (at most `MAX_CONTROL_CLIENTS` at once; more are closed at once).
    fn accept_control(&mut self) {
        let mut more = true;
        for _ in 0..ACCEPT_BUDGET {
            let mut stream = match self.control.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if e.kind() != io::ErrorKind::WouldBlock {
                        warn!("{}: control socket accept failed: {e}", self.bridge);
                    }
                    more = false;
                    break;
                }
            };
            if self.clients.len() >= MAX_CONTROL_CLIENTS {
                continue;
            }
            let token = self.token(Slot::Client);
            if self.poll.registry().register(&mut stream, token, Interest::READABLE | Interest::WRITABLE).is_ok() {
                self.clients.insert(token, ControlClient::new(stream));
                self.client_events.push(token);
            } else {
                self.slots.remove(&token);
            }
        }
        self.control_ready = more;
    }

    /// Reads requests from control clients that had events, answers them, and drops the answered.
    fn serve_control(&mut self, now: Instant) {
        if self.control_ready {
            self.accept_control();
        }
        let tokens = std::mem::take(&mut self.client_events);
        for token in tokens {
            let Some(mut client) = self.clients.remove(&token) else { continue };
            let keep = match client.read() {
                Ok(Some(req)) => {
                    let response = match req {
                        Ok(req) => self.handle_request(now, req),
                        Err(e) => Response::Error(e),
                    };
                    client.respond(&response);
                    client.write()
                }
                Ok(None) => client.write(),
                Err(e) => Err(e),
            };
            if let Ok(false) = keep {
                self.clients.insert(token, client);
            } else {
                let _ = self.poll.registry().deregister(&mut client.stream);
                self.slots.remove(&token);
            }
        }
    }

    fn handle_request(&mut self, now: Instant, req: Request) -> Response {
        match req {
            Request::Status => Response::Status(Box::new(self.status(now))),
            Request::Inject { port, frame } => match ofp_proto::print::parse_hex(&frame) {
                None => Response::Error(format!("\"{frame}\" is not a frame in hex")),
                Some(frame) => match self.input(now, Input::Frame { port, frame: Bytes::from(frame) }) {
                    Fed::Frame(Err(e)) => Response::Error(e),
                    _ => Response::Done,
                },
            },
            Request::Reconnect => {
                self.input(now, Input::Reconnect);
                Response::Done
            }
        }
    }

    fn status(&self, now: Instant) -> Status {
        let core = self.core.status(now);
        let listeners = self
            .listeners
            .iter()
            .map(|(target, l)| {
                let n = self.conns.values().filter(|c| c.listener == l.id).count() as u64;
                ListenerStatus {
                    target: target.to_string(),
                    kind: l.kind.to_string(),
                    bound: l.listener.as_ref().and_then(|(l, _)| l.bound_name()),
                    is_connected: n > 0,
                    n_connections: n,
                    state: l.state.to_string(),
                    last_error: l.last_error.clone(),
                }
            })
            .collect();
        Status {
            bridge: self.bridge.clone(),
            datapath_id: dpid_string(self.datapath_id),
            fail_mode: self.fail_mode.clone(),
            fail_open_active: core.fail_open_active,
            controllers: core.controllers,
            listeners,
            flows: core.flows,
            ports: core.ports,
            upcalls: core.upcalls,
            queues: core.queues,
            io: IoStatus { connections: self.conns.len() as u64, ..self.io.clone() },
        }
    }

    /// Writes what each connection holds (and what the core has queued for it) once, without
    /// waiting, then closes every socket. The control socket and `punix:` files are removed.
    fn shutdown(&mut self) {
        self.write(self.clock.now());
        for c in self.conns.values() {
            c.stream.shutdown();
        }
        self.conns.clear();
        self.listeners.clear();
        let _ = std::fs::remove_file(&self.control_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_stays_small() {
        // Every idle connection holds one (boxed): the memory-per-connection figure counts it. The
        // mio stream is 8 bytes in release builds and more with debug assertions.
        let size = std::mem::size_of::<Conn>() - std::mem::size_of::<Stream>();
        assert!(size <= 64, "{size}");
    }
}
