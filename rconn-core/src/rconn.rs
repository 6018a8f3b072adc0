//! Rconn: a reliable OpenFlow connection with reconnect backoff, inactivity probes, admission
//! tracking, a counted transmit queue and snoop monitors (OVS `lib/rconn.c`), sans-IO.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use log::{debug, error, info, log, warn, Level};
use ofp_proto::{raw, DecodeError, Instant, Message, MsgType, OfpMsg, VersionBitmap};

use crate::counter::{CounterId, PacketCount, N_COUNTERS};
use crate::error::ConnError;
use crate::fifo::Fifo;
use crate::monitor::{MonitorId, MonitorRefused, Monitors};
use crate::name::ConnName;
use crate::vconn::{error_reply, Vconn, VconnState};
use crate::xid::XidAllocator;

/// OVS's rconn states; `name()` gives the bare uppercase names OVS prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// No target configured.
    Void,
    /// Waiting before the next connection attempt.
    Backoff,
    /// A connection attempt (transport and hello exchange) is in progress.
    Connecting,
    /// Connected and recently heard from.
    Active,
    /// Connected, an inactivity probe is out and unanswered.
    Idle,
    /// An unreliable connection ended; it is never retried.
    Disconnected,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Void => "VOID",
            State::Backoff => "BACKOFF",
            State::Connecting => "CONNECTING",
            State::Active => "ACTIVE",
            State::Idle => "IDLE",
            State::Disconnected => "DISCONNECTED",
        }
    }

    pub fn is_connected(self) -> bool {
        matches!(self, State::Active | State::Idle)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Settings OVS passes to `rconn_create`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RconnConfig {
    /// Seconds without activity before an echo request is sent; 0 disables probing, values below 5 mean 5.
    pub probe_interval: u32,
    /// Longest wait between connection attempts, in seconds; 0 means the default of 8.
    pub max_backoff: u32,
    /// DSCP value for the transport (passed on in [`Output::Connect`]).
    pub dscp: u8,
    /// Versions that may be negotiated; empty means 1.0–1.5. Versions this codec lacks are ignored.
    pub allowed_versions: VersionBitmap,
}

impl Default for RconnConfig {
    fn default() -> Self {
        RconnConfig { probe_interval: 5, max_backoff: 8, dscp: 0, allowed_versions: VersionBitmap::DEFAULT }
    }
}

/// Transport work for the caller, drained with [`Rconn::poll_output`] in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Start opening a transport to `target`. Answer with [`Rconn::handle_connected`],
    /// [`Rconn::handle_open_failed`] (it could not even start) or [`Rconn::handle_error`].
    Connect { target: Arc<str>, dscp: u8 },
    /// Write `unsent` (the HELLO_FAILED error after a failed negotiation; usually empty), then close
    /// the transport. Queued messages not yet handed out by `poll_transmit` are discarded.
    Close { error: Option<ConnError>, unsent: Bytes },
    /// Send `msg` to monitor connection `id`.
    MonitorCopy { id: MonitorId, msg: Bytes },
}

/// Something the owner of the connection may react to, drained with [`Rconn::poll_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The state changed (including BACKOFF to BACKOFF after a failed attempt).
    StateChanged { from: State, to: State },
}

/// A message received after the hello exchange.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    pub bytes: Bytes,
    /// Boxed: a decoded message is as large as the largest (nearly 900 bytes), and the receiver
    /// moves it several times on its way to a handler.
    pub msg: Result<Box<OfpMsg>, DecodeError>,
}

impl Received {
    /// For a message that did not decode, the OFPT_ERROR OVS would answer it with.
    pub fn error_reply(&self) -> Option<Bytes> {
        self.msg.as_ref().err().map(|e| error_reply(e.error, &self.bytes))
    }
}

/// Why [`Rconn::send`] did not queue a message (which is then dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Not in ACTIVE or IDLE (OVS `ENOTCONN`).
    NotConnected,
    /// The counter had already reached the queue limit (OVS `EAGAIN`).
    Overflow,
}

#[derive(Debug)]
struct Queued {
    msg: Bytes,
    counter: Option<CounterId>,
    queued_at: Instant,
}

const ONE_SEC: u64 = 1000;
/// `last_connected` and `last_disconnected` before the first time.
const NEVER: Instant = Instant::FAR_FUTURE;
/// After this long connected, any message received counts as admission.
const ADMISSION_WAIT: Duration = Duration::from_secs(30);

/// One OpenFlow connection to a controller (reliable: reconnects) or from an accepted peer (unreliable).
#[derive(Debug)]
pub struct Rconn {
    name: ConnName,
    reliable: bool,
    state: State,
    state_entered: Instant,
    vconn: Option<Vconn>,
    txq: Fifo<Queued>,
    /// What each source has in `txq`.
    counts: [PacketCount; N_COUNTERS],

    /// Current backoff in whole seconds, as OVS keeps it (0 before the first failure).
    backoff: u32,
    max_backoff: u32,
    /// A disconnection at or after this time resets the backoff; `FAR_FUTURE` prevents that.
    backoff_deadline: Instant,
    /// `NEVER` until the first connection (disconnection).
    last_connected: Instant,
    last_disconnected: Instant,
    seqno: u32,
    last_error: Option<ConnError>,

    probably_admitted: bool,
    last_admitted: Instant,
    probe_interval: u32,
    last_activity: Instant,
    dscp: u8,
    allowed_versions: VersionBitmap,
    version: Option<u8>,
    xids: XidAllocator,

    n_attempted_connections: u32,
    n_successful_connections: u32,
    /// Whole seconds of the connections before the current one, each truncated as OVS does.
    total_time_connected: u32,
    n_overflows: u64,

    monitors: Monitors,
    outputs: Fifo<Output>,
    events: Fifo<Event>,
}

impl Rconn {
    /// A new connection in VOID: no target until [`Rconn::connect`] or [`Rconn::connect_unreliably`].
    pub fn new(config: RconnConfig, now: Instant) -> Rconn {
        let max_backoff = if config.max_backoff == 0 { 8 } else { config.max_backoff };
        Rconn {
            name: ConnName::new("void", None),
            reliable: false,
            state: State::Void,
            state_entered: now,
            vconn: None,
            txq: Fifo::new(),
            counts: Default::default(),
            backoff: 0,
            max_backoff,
            backoff_deadline: Instant::ZERO,
            last_connected: NEVER,
            last_disconnected: NEVER,
            seqno: 0,
            last_error: None,
            probably_admitted: false,
            last_admitted: now,
            probe_interval: clamp_probe_interval(config.probe_interval),
            last_activity: now,
            dscp: config.dscp,
            allowed_versions: config.allowed_versions,
            version: None,
            xids: XidAllocator::new(),
            n_attempted_connections: 0,
            n_successful_connections: 0,
            total_time_connected: 0,
            n_overflows: 0,
            monitors: Monitors::default(),
            outputs: Fifo::new(),
            events: Fifo::new(),
        }
    }

    // ----- configuration -----

    /// Drops any connection, then connects to `target` and keeps reconnecting (OVS `rconn_connect`).
    /// `name` replaces the target in log lines. Unix-socket targets are never probed.
    pub fn connect(&mut self, now: Instant, target: &str, name: Option<&str>) {
        self.disconnect_and_forget(now);
        self.set_target(target, name);
        self.reliable = true;
        if target.starts_with("unix:") {
            self.probe_interval = 0;
        }
        self.start_attempt(now);
    }

    /// Drops any connection, then uses a transport that is already up (an accepted connection named
    /// `target`); when it ends, the rconn goes to DISCONNECTED for good (OVS `rconn_connect_unreliably`).
    pub fn connect_unreliably(&mut self, now: Instant, target: &str, name: Option<&str>) {
        self.disconnect_and_forget(now);
        self.set_target(target, name);
        self.reliable = false;
        self.vconn = Some(Vconn::accepted(self.name.clone(), self.allowed_versions, self.xids.next_xid()));
        self.transition(now, State::Connecting);
    }

    /// Drops the connection and forgets the target (OVS `rconn_disconnect`).
    pub fn disconnect(&mut self, now: Instant) {
        self.disconnect_and_forget(now);
    }

    /// If connected, drops the connection; a reliable rconn then reconnects (OVS `rconn_reconnect`).
    pub fn reconnect(&mut self, now: Instant) {
        if self.state.is_connected() {
            info!(target: "rconn", "{}: disconnecting", self.name);
            self.disconnect_with(now, None);
        }
    }

    /// Sets the longest backoff in seconds (at least 1); a current wait longer than that is cut short.
    pub fn set_max_backoff(&mut self, now: Instant, max_backoff: u32) {
        self.max_backoff = max_backoff.max(1);
        if self.state == State::Backoff && self.backoff > self.max_backoff {
            self.backoff = self.max_backoff;
            self.backoff_deadline = self.backoff_deadline.min(now + secs(self.max_backoff));
        }
    }

    /// Seconds of inactivity before probing; 0 disables, values below 5 mean 5.
    pub fn set_probe_interval(&mut self, probe_interval: u32) {
        self.probe_interval = clamp_probe_interval(probe_interval);
    }

    pub fn set_dscp(&mut self, dscp: u8) {
        self.dscp = dscp;
    }

    /// Numbers our hellos from `xids`; give every connection a clone of one allocator to number them
    /// across connections as OVS does. By default each rconn counts from 1 on its own.
    pub fn set_xid_allocator(&mut self, xids: XidAllocator) {
        self.xids = xids;
    }

    pub fn set_name(&mut self, name: &str) {
        self.name = ConnName::new(self.name.target(), Some(name));
    }

    // ----- transport inputs -----

    /// The transport requested by [`Output::Connect`] is up: our hello goes out.
    pub fn handle_connected(&mut self, now: Instant) {
        if self.pending_transport().is_some() {
            let xid = self.xids.next_xid();
            if let Some(v) = self.vconn.as_mut() {
                v.handle_connected(xid);
            }
            self.check_vconn(now);
        }
    }

    /// The transport requested by [`Output::Connect`] could not even be started (OVS: `vconn_open`
    /// failed). There is nothing to close.
    pub fn handle_open_failed(&mut self, now: Instant, err: ConnError) {
        if self.pending_transport().is_some() {
            warn!(target: "rconn", "{}: connection failed ({err})", self.name);
            self.vconn = None;
            self.backoff_deadline = Instant::FAR_FUTURE;
            self.disconnect_with(now, Some(err));
        }
    }

    /// The connection attempt failed, or the transport broke.
    pub fn handle_error(&mut self, now: Instant, err: ConnError) {
        if let Some(v) = self.vconn.as_mut() {
            v.handle_error(err);
            self.check_vconn(now);
        }
    }

    /// Bytes received on the transport.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        if let Some(v) = self.vconn.as_mut() {
            v.handle_bytes(data);
            if self.state == State::Connecting {
                self.check_vconn(now);
            }
        }
    }

    /// The receive buffer, to read the transport straight into (see [`Vconn::recv_buffer`]); then
    /// call [`Rconn::handle_received`]. `None` while received bytes would be discarded.
    pub fn recv_buffer(&mut self) -> Option<&mut BytesMut> {
        self.vconn.as_mut()?.recv_buffer()
    }

    /// Bytes were appended to [`Rconn::recv_buffer`]: as [`Rconn::handle_bytes`] after its copy.
    pub fn handle_received(&mut self, now: Instant) {
        if let Some(v) = self.vconn.as_mut() {
            v.handle_received();
            if self.state == State::Connecting {
                self.check_vconn(now);
            }
        }
    }

    /// The peer closed the transport. Messages already received are still returned by [`Rconn::recv`]
    /// before the disconnection takes effect.
    pub fn handle_eof(&mut self, now: Instant) {
        let Some(v) = self.vconn.as_mut() else { return };
        v.handle_eof();
        if self.state == State::Connecting {
            self.check_vconn(now);
        } else if !v.has_input() {
            self.recv(now);
        }
    }

    /// Runs whatever is due at `now`: a reconnect after backoff, a connect timeout, an inactivity
    /// probe or the disconnection after an unanswered one. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(deadline) = self.deadline() {
            if now < deadline {
                break;
            }
            match self.state {
                State::Backoff => self.start_attempt(now),
                State::Connecting => {
                    if self.logging_connection_attempts() {
                        info!(target: "rconn", "{}: connection timed out", self.name);
                    }
                    self.backoff_deadline = Instant::FAR_FUTURE;
                    self.disconnect_with(now, Some(ConnError::TIMED_OUT));
                }
                State::Active => {
                    let idle = now - self.last_activity.max(self.state_entered);
                    debug!(target: "rconn", "{}: idle {} seconds, sending inactivity probe", self.name, idle.as_secs());
                    self.transition(now, State::Idle);
                    let version = self.version.unwrap_or(1);
                    let probe = OfpMsg::new(version, 0, Message::EchoRequest(Bytes::new())).to_bytes();
                    let _ = self.send(now, probe, None);
                }
                State::Idle => {
                    let secs = (now - self.state_entered).as_secs();
                    error!(target: "rconn", "{}: no response to inactivity probe after {secs} seconds, disconnecting", self.name);
                    self.disconnect_with(now, Some(ConnError::TIMED_OUT));
                }
                State::Void | State::Disconnected => break,
            }
        }
    }

    /// When [`Rconn::handle_timeout`] next has work to do; `None` if only an input can change anything.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline()
    }

    // ----- outputs -----

    /// The next transport action.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next state change.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next bytes to write to the transport; call it while the transport can take more. A message
    /// leaves the transmit queue (and its counter) here; one that waited in the queue since an earlier
    /// instant counts as activity, as OVS counts messages sent from a backlogged queue.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Bytes> {
        let v = self.vconn.as_mut()?;
        if let Some(b) = v.poll_transmit() {
            return Some(b);
        }
        if !self.state.is_connected() {
            return None;
        }
        let q = self.txq.pop_front()?;
        if let Some(c) = q.counter {
            self.counts[c.index()].dec(q.msg.len());
        }
        if now > q.queued_at {
            self.last_activity = now;
        }
        Some(q.msg)
    }

    /// The next message received (OVS `rconn_recv`). Call it until `None` whenever the owner is ready
    /// for more; messages wait in the receive buffer meanwhile. Receiving is activity, ends IDLE and may
    /// mark the connection as admitted; a broken stream ends the connection here.
    pub fn recv(&mut self, now: Instant) -> Option<Received> {
        if !self.state.is_connected() {
            return None;
        }
        match self.vconn.as_mut()?.recv()? {
            Ok(frame) => {
                self.copy_to_monitors(&frame);
                let connected_for = now - self.last_connection().unwrap_or(now);
                if self.probably_admitted || is_admitted_msg(&frame) || connected_for >= ADMISSION_WAIT {
                    self.probably_admitted = true;
                    self.last_admitted = now;
                }
                self.last_activity = now;
                if self.state == State::Idle {
                    self.transition(now, State::Active);
                }
                let msg = OfpMsg::decode(&frame).map(Box::new);
                Some(Received { bytes: frame, msg })
            }
            Err(e) => {
                self.report_error(e);
                self.disconnect_with(now, Some(e));
                None
            }
        }
    }

    /// Queues `msg` (a whole OpenFlow message) for transmission, counted in `counter` until it is
    /// handed out by `poll_transmit` or discarded. Refused unless ACTIVE or IDLE.
    pub fn send(&mut self, now: Instant, msg: Bytes, counter: Option<CounterId>) -> Result<(), SendError> {
        if !self.state.is_connected() {
            return Err(SendError::NotConnected);
        }
        self.copy_to_monitors(&msg);
        if let Some(c) = counter {
            self.counts[c.index()].inc(msg.len());
        }
        self.txq.push_back(Queued { msg, counter, queued_at: now });
        Ok(())
    }

    /// Like [`Rconn::send`], but refuses (and counts an overflow) if `counter` already has
    /// `queue_limit` messages queued.
    pub fn send_with_limit(
        &mut self,
        now: Instant,
        msg: Bytes,
        counter: CounterId,
        queue_limit: u32,
    ) -> Result<(), SendError> {
        if self.queued(counter).n_packets < queue_limit {
            self.send(now, msg, Some(counter))
        } else {
            self.n_overflows += 1;
            Err(SendError::Overflow)
        }
    }

    /// Adds a snoop monitor that gets copies (as [`Output::MonitorCopy`]) of every message sent or
    /// received from now on; at most eight. Run the monitor's own connection as a [`Vconn`] with
    /// `set_recv_any_version`: its `send` refuses copies until its hello exchange is done, so they are
    /// dropped then, as in OVS.
    pub fn add_monitor(&mut self, id: MonitorId, name: &str) -> Result<(), MonitorRefused> {
        self.monitors.add(id, name)
    }

    /// The monitor's connection closed for `reason`; stop copying to it.
    pub fn remove_monitor(&mut self, id: MonitorId, reason: ConnError) -> bool {
        self.monitors.remove(self.name.name(), id, reason)
    }

    // ----- getters -----

    pub fn name(&self) -> &str {
        self.name.name()
    }

    /// The name and target, shared (no copy of the text).
    pub fn conn_name(&self) -> &ConnName {
        &self.name
    }

    pub fn target(&self) -> &str {
        self.name.target()
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// When the current state was entered.
    pub fn state_entered(&self) -> Instant {
        self.state_entered
    }

    pub fn is_reliable(&self) -> bool {
        self.reliable
    }

    /// Connected or trying to be (not VOID or DISCONNECTED).
    pub fn is_alive(&self) -> bool {
        !matches!(self.state, State::Void | State::Disconnected)
    }

    pub fn is_connected(&self) -> bool {
        self.state.is_connected()
    }

    /// Connected and thought to have been accepted by the peer's admission control.
    pub fn is_admitted(&self) -> bool {
        self.is_connected() && self.last_connection().is_some_and(|c| self.last_admitted >= c)
    }

    /// 0 if admitted, else whole seconds since the connection last was (OVS `rconn_failure_duration`).
    pub fn failure_duration(&self, now: Instant) -> u64 {
        if self.is_admitted() {
            0
        } else {
            (now - self.last_admitted).as_secs()
        }
    }

    /// The version most recently negotiated (kept after a disconnection), `None` if never.
    pub fn version(&self) -> Option<u8> {
        self.version
    }

    /// When the last connection completed its hello exchange.
    pub fn last_connection(&self) -> Option<Instant> {
        (self.last_connected != NEVER).then_some(self.last_connected)
    }

    pub fn last_disconnect(&self) -> Option<Instant> {
        (self.last_disconnected != NEVER).then_some(self.last_disconnected)
    }

    /// Changes on every connection and every disconnection.
    pub fn connection_seqno(&self) -> u32 {
        self.seqno
    }

    /// Why the last connection ended: `None` after an explicit disconnection or before any failure.
    pub fn last_error(&self) -> Option<ConnError> {
        self.last_error
    }

    /// Bytes received on the current connection and not yet returned by [`Rconn::recv`].
    pub fn buffered_input(&self) -> usize {
        self.vconn.as_ref().map_or(0, Vconn::buffered_input)
    }

    /// What `counter` has queued and not yet handed out by `poll_transmit`.
    pub fn queued(&self, counter: CounterId) -> PacketCount {
        self.counts[counter.index()]
    }

    /// Messages waiting in the transmit queue.
    pub fn txq_len(&self) -> usize {
        self.txq.len()
    }

    /// Current backoff in milliseconds (0 before the first failure).
    pub fn backoff(&self) -> u64 {
        u64::from(self.backoff) * ONE_SEC
    }

    /// The longest backoff, in seconds.
    pub fn max_backoff(&self) -> u32 {
        self.max_backoff
    }

    pub fn probe_interval(&self) -> u32 {
        self.probe_interval
    }

    pub fn dscp(&self) -> u8 {
        self.dscp
    }

    pub fn allowed_versions(&self) -> VersionBitmap {
        self.allowed_versions
    }

    pub fn n_attempted_connections(&self) -> u32 {
        self.n_attempted_connections
    }

    pub fn n_successful_connections(&self) -> u32 {
        self.n_successful_connections
    }

    /// Whole seconds spent in ACTIVE or IDLE, including the current connection (OVS
    /// `rconn_get_total_time_connected`).
    pub fn total_time_connected(&self, now: Instant) -> Duration {
        let current = if self.is_connected() { self.secs_in_state(now) } else { 0 };
        secs(self.total_time_connected.saturating_add(current))
    }

    /// Messages refused by `send_with_limit` because their counter was full.
    pub fn n_overflows(&self) -> u64 {
        self.n_overflows
    }

    pub fn n_monitors(&self) -> usize {
        self.monitors.len()
    }

    /// Checks the invariants the fuzz driver relies on; `Err` describes the first one broken.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let has_transport = matches!(self.state, State::Connecting | State::Active | State::Idle);
        if has_transport != self.vconn.is_some() {
            return Err(format!("state {} but transport present = {}", self.state, self.vconn.is_some()));
        }
        if self.state == State::Backoff && !(1..=self.max_backoff).contains(&self.backoff) {
            return Err(format!("backoff {} s outside [1, {}]", self.backoff, self.max_backoff));
        }
        if !self.txq.is_empty() && !self.state.is_connected() {
            return Err(format!("{} messages queued in state {}", self.txq.len(), self.state));
        }
        if self.seqno % 2 != u32::from(self.state.is_connected()) {
            return Err(format!("seqno {} in state {}", self.seqno, self.state));
        }
        if self.is_admitted() && !self.is_connected() {
            return Err("admitted while not connected".into());
        }
        Ok(())
    }

    /// Messages and bytes in the transmit queue counted by `counter`, counted afresh.
    pub(crate) fn queued_for(&self, counter: CounterId) -> PacketCount {
        let mut count = PacketCount::default();
        for q in self.txq.iter().filter(|q| q.counter == Some(counter)) {
            count.inc(q.msg.len());
        }
        count
    }

    // ----- internals -----

    /// The vconn if its transport is still being opened.
    fn pending_transport(&mut self) -> Option<&mut Vconn> {
        self.vconn.as_mut().filter(|v| v.state() == VconnState::Connecting)
    }

    fn set_target(&mut self, target: &str, name: Option<&str>) {
        self.name = ConnName::new(target, name);
    }

    fn secs_in_state(&self, now: Instant) -> u32 {
        u32::try_from((now - self.state_entered).as_secs()).unwrap_or(u32::MAX)
    }

    fn logging_connection_attempts(&self) -> bool {
        self.backoff < self.max_backoff
    }

    fn deadline(&self) -> Option<Instant> {
        let after = |ms: u64| Some(self.state_entered + Duration::from_millis(ms));
        let probe = u64::from(self.probe_interval) * ONE_SEC;
        match self.state {
            State::Void | State::Disconnected => None,
            State::Backoff => after(u64::from(self.backoff) * ONE_SEC),
            State::Connecting => after(u64::from(self.backoff.max(1)) * ONE_SEC),
            State::Active if probe == 0 => None,
            State::Active => Some(self.last_activity.max(self.state_entered) + Duration::from_millis(probe)),
            State::Idle => after(probe),
        }
    }

    /// OVS `reconnect`: opens a new transport.
    fn start_attempt(&mut self, now: Instant) {
        if self.logging_connection_attempts() {
            info!(target: "rconn", "{}: connecting...", self.name);
        }
        self.n_attempted_connections += 1;
        self.vconn = Some(Vconn::new(self.name.clone(), self.allowed_versions));
        self.outputs.push_back(Output::Connect { target: self.name.target().into(), dscp: self.dscp });
        self.backoff_deadline = now + secs(self.backoff);
        self.transition(now, State::Connecting);
    }

    /// Acts on the vconn's progress while CONNECTING (hello done or failed) and on its failure later.
    fn check_vconn(&mut self, now: Instant) {
        let Some(v) = &self.vconn else { return };
        if let Some(err) = v.error() {
            self.report_error(err);
            self.disconnect_with(now, Some(err));
        } else if self.state == State::Connecting && v.state() == VconnState::Connected {
            let level = if self.reliable { Level::Info } else { Level::Debug };
            log!(target: "rconn", level, "{}: connected", self.name);
            self.n_successful_connections += 1;
            self.version = v.version();
            self.transition(now, State::Active);
            self.last_connected = now;
        }
    }

    fn report_error(&self, err: ConnError) {
        if err == ConnError::Eof {
            // An accepted connection is expected to end some day: not worth more than a debug line.
            let level = if self.reliable { Level::Info } else { Level::Debug };
            log!(target: "rconn", level, "{}: connection closed by peer", self.name);
        } else {
            warn!(target: "rconn", "{}: connection dropped ({err})", self.name);
        }
    }

    /// OVS `disconnect`: closes the transport, then backs off (reliable) or gives up (unreliable).
    fn disconnect_with(&mut self, now: Instant, error: Option<ConnError>) {
        self.last_error = error;
        let had_transport = self.close_transport(error);
        self.flush_queue();
        if self.reliable {
            if had_transport {
                self.last_disconnected = now;
            }
            if now >= self.backoff_deadline {
                self.backoff = 1;
            } else if self.backoff < self.max_backoff / 2 {
                self.backoff = (2 * self.backoff).max(1);
                info!(target: "rconn", "{}: waiting {} seconds before reconnect", self.name, self.backoff);
            } else {
                if self.logging_connection_attempts() {
                    info!(target: "rconn", "{}: continuing to retry connections in the background but suppressing further logging", self.name);
                }
                self.backoff = self.max_backoff;
            }
            self.backoff_deadline = now + secs(self.backoff);
            self.transition(now, State::Backoff);
        } else {
            self.last_disconnected = now;
            self.transition(now, State::Disconnected);
        }
    }

    /// OVS `rconn_disconnect__`: back to VOID with no target and a fresh backoff.
    fn disconnect_and_forget(&mut self, now: Instant) {
        if self.state == State::Void {
            return;
        }
        self.close_transport(None);
        self.flush_queue();
        self.set_target("void", None);
        self.reliable = false;
        self.backoff = 0;
        self.backoff_deadline = Instant::ZERO;
        self.transition(now, State::Void);
    }

    /// Emits `Close` if there is a transport; returns whether there was one.
    fn close_transport(&mut self, error: Option<ConnError>) -> bool {
        match self.vconn.take() {
            Some(mut v) => {
                self.outputs.push_back(Output::Close { error, unsent: v.take_unsent() });
                true
            }
            None => false,
        }
    }

    /// Drops every queued message and releases its count.
    fn flush_queue(&mut self) {
        for q in self.txq.take_all() {
            if let Some(c) = q.counter {
                self.counts[c.index()].dec(q.msg.len());
            }
        }
    }

    fn copy_to_monitors(&mut self, msg: &Bytes) {
        for id in self.monitors.ids() {
            self.outputs.push_back(Output::MonitorCopy { id, msg: msg.clone() });
        }
    }

    fn transition(&mut self, now: Instant, to: State) {
        let from = self.state;
        if from.is_connected() != to.is_connected() {
            self.seqno = self.seqno.wrapping_add(1);
        }
        if to.is_connected() && !from.is_connected() {
            self.probably_admitted = false;
        }
        if from.is_connected() {
            self.total_time_connected = self.total_time_connected.saturating_add(self.secs_in_state(now));
        }
        debug!(target: "rconn", "{}: entering {}", self.name, to.name());
        self.state = to;
        self.state_entered = now;
        self.events.push_back(Event::StateChanged { from, to });
    }
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

fn clamp_probe_interval(secs: u32) -> u32 {
    if secs == 0 {
        0
    } else {
        secs.max(5)
    }
}

/// False for the messages a controller typically exchanges while still deciding whether to admit a
/// switch (OVS `is_admitted_msg`), and for anything that does not decode as a known message.
fn is_admitted_msg(frame: &[u8]) -> bool {
    use MsgType as T;
    match raw::pull(frame) {
        Ok((r, _)) => !matches!(
            r.msg_type(),
            T::Hello
                | T::Error
                | T::EchoRequest
                | T::EchoReply
                | T::FeaturesRequest
                | T::FeaturesReply
                | T::GetConfigRequest
                | T::GetConfigReply
                | T::SetConfig
                | T::QueueGetConfigRequest
                | T::QueueGetConfigReply
                | T::GetAsyncRequest
                | T::GetAsyncReply
                | T::GroupStatsRequest
                | T::GroupStatsReply
                | T::GroupDescStatsRequest
                | T::GroupDescStatsReply
                | T::GroupFeaturesStatsRequest
                | T::GroupFeaturesStatsReply
                | T::TableFeaturesStatsRequest
                | T::TableFeaturesStatsReply
                | T::TableDescRequest
                | T::TableDescReply
        ),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_small() {
        // Many of these live in a connection manager; keep the idle footprint modest.
        assert!(std::mem::size_of::<Rconn>() <= 512, "{}", std::mem::size_of::<Rconn>());
    }
}
