//! The connection manager (OVS `struct connmgr`): services and connections, transports, the step
//! that reads messages and runs timers, and the outputs the embedder drains.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use log::{info, warn};
use ofp_proto::header::{Header, OFP10_VERSION, OFP15_VERSION};
use ofp_proto::{raw, ErrorMsg, Instant, Message, OfpErr, OfpMsg, VersionBitmap};
use rconn_core::{ConnError, Event as RconnEvent, MonitorId, Output as RconnOutput, Rconn, State, Target, TargetError};
use rconn_core::{Vconn, XidAllocator};

use crate::fail_open::FailOpen;
use crate::ofconn::OfConn;
use crate::owner::{ConnId, ConnInfo, ConnType, NormalFlow, OpGroupId, Owner, Protocol};
use crate::rng::Rng;
use crate::service::{conn_name, ControllerSettings, FailMode, OfService, ServiceKind};
use crate::snoop::Snoop;
use crate::vlog::RateLimit;

/// How often idle bundles are looked for (OVS `BUNDLE_EXPIRY_INTERVAL`).
pub const BUNDLE_EXPIRY_INTERVAL: Duration = Duration::from_secs(1);
/// How long a bundle may stay idle by default (OVS `BUNDLE_IDLE_TIMEOUT_DEFAULT`).
pub const BUNDLE_IDLE_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);

/// How a `ConnMgr` is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The bridge name, in log lines and connection names ("br0<->tcp:10.0.0.1:6653").
    pub name: String,
    /// Seeds everything random (pinsched tie-breaks, fail-open MAC addresses).
    pub seed: u64,
}

/// Transport work for the embedder, drained with [`ConnMgr::poll_output`] in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Open a transport to the active target; report on it as `conn` (`handle_connected`, …).
    Connect { conn: ConnId, target: Arc<str>, dscp: u8 },
    /// Write `unsent` (e.g. a HELLO_FAILED error), then close `conn`'s transport. Nothing more
    /// comes from or goes to it.
    Close { conn: ConnId, error: Option<ConnError>, unsent: Bytes },
    /// Listen on a passive target (a service or a snoop); report connections with `handle_accept`.
    Listen { target: Arc<str>, dscp: u8 },
    /// Stop listening (connections already accepted stay).
    Unlisten { target: Arc<str> },
}

/// Connection changes for the embedder and the owner, drained with [`ConnMgr::poll_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An OpenFlow connection finished its hello exchange.
    Connected { conn: ConnId, target: Arc<str>, conn_type: ConnType, version: u8 },
    /// That connection went away with all its state; its `ConnId` is never used again.
    Disconnected { conn: ConnId },
}

/// What a transport carries.
#[derive(Debug)]
pub(crate) enum Transport {
    /// The current transport of an active service's rconn (in the `OfConn` of the same id once the
    /// connection is up, in the service before).
    Controller(Arc<str>),
    /// An accepted connection: its `OfConn` (same id) holds its rconn.
    Accepted,
    Snoop(Snoop),
}

/// Where an rconn is.
#[derive(Clone, Debug)]
pub(crate) enum Loc {
    Service(Arc<str>),
    Conn(ConnId),
}

/// OVS `memory_report` figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    pub ofconns: usize,
    /// Messages queued for transmission plus packet-ins waiting in rate limiters.
    pub packets: usize,
}

/// The connection manager. See the crate docs for how it is driven.
#[derive(Debug)]
pub struct ConnMgr {
    pub(crate) name: String,
    pub(crate) seed: u64,
    pub(crate) rng: Rng,
    pub(crate) services: BTreeMap<Arc<str>, OfService>,
    pub(crate) conns: BTreeMap<ConnId, OfConn>,
    pub(crate) transports: BTreeMap<ConnId, Transport>,
    snoop_targets: BTreeSet<Arc<str>>,
    next_id: u64,
    pub(crate) next_op_group: u64,
    /// The primary election generation id, once one was given (never reset).
    pub(crate) election_id: Option<u64>,
    pub(crate) fail_mode: FailMode,
    pub(crate) fail_open: Option<FailOpen>,
    pub(crate) bundle_idle_timeout: Duration,
    n_want_packet_in_on_miss: usize,
    xids: XidAllocator,
    outputs: VecDeque<Output>,
    events: VecDeque<Event>,
    pub(crate) error_rl: RateLimit,
    pub(crate) overflow_rl: RateLimit,
    rl: RateLimit,
    pub(crate) scratch: Vec<Bytes>,
}

impl ConnMgr {
    pub fn new(config: Config) -> ConnMgr {
        ConnMgr {
            name: config.name,
            seed: config.seed,
            rng: Rng::new(config.seed),
            services: BTreeMap::new(),
            conns: BTreeMap::new(),
            transports: BTreeMap::new(),
            snoop_targets: BTreeSet::new(),
            next_id: 1,
            next_op_group: 1,
            election_id: None,
            fail_mode: FailMode::Secure,
            fail_open: None,
            bundle_idle_timeout: BUNDLE_IDLE_TIMEOUT_DEFAULT,
            n_want_packet_in_on_miss: 0,
            xids: XidAllocator::new(),
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            error_rl: RateLimit::new(10, 10),
            overflow_rl: RateLimit::new(5, 5),
            rl: RateLimit::new(1, 5),
            scratch: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    // ----- configuration -----

    /// Makes the set of services the given targets (OVS `connmgr_set_controllers`): new targets are
    /// added, missing ones removed with their connections, others reconfigured — recreated if their
    /// allowed versions or connection type changed. Flows are flushed through `owner` when whether
    /// any primary controller is configured changes. Targets that do not parse are refused.
    pub fn set_controllers<O: Owner>(
        &mut self,
        now: Instant,
        controllers: &BTreeMap<String, ControllerSettings>,
        owner: &mut O,
    ) -> Vec<TargetError> {
        let had_controllers = self.has_controllers();
        let mut errors = Vec::new();
        for (target, settings) in controllers {
            if !self.services.contains_key(target.as_str()) {
                if let Err(e) = self.create_service(now, target, *settings) {
                    errors.push(e);
                }
            }
        }
        let targets: Vec<Arc<str>> = self.services.keys().cloned().collect();
        for target in targets {
            let Some(svc) = self.services.get(&target) else { continue };
            match controllers.get(&*target) {
                None => {
                    info!(target: "connmgr", "{}: removed {} controller \"{target}\"", self.name, svc.conn_type.name());
                    self.destroy_service(now, &target);
                }
                Some(s) if needs_reinit(svc, s) => {
                    info!(target: "connmgr",
                        "{}: Changes to controller \"{target}\" expects re-initialization: Re-initializing now.",
                        self.name
                    );
                    self.destroy_service(now, &target);
                    let _ = self.create_service(now, &target, *s);
                }
                Some(s) => self.reconfigure_service(now, &target, *s),
            }
        }
        self.update_fail_open(now, owner);
        if had_controllers != self.has_controllers() {
            self.flush_flows(now, owner);
        }
        self.pump_all(now);
        errors
    }

    /// Secure or standalone (OVS `connmgr_set_fail_mode`); with no controller configured, a change
    /// flushes the flows (standalone then adds its NORMAL flow).
    pub fn set_fail_mode<O: Owner>(&mut self, now: Instant, mode: FailMode, owner: &mut O) {
        if self.fail_mode != mode {
            self.fail_mode = mode;
            self.update_fail_open(now, owner);
            if !self.has_controllers() {
                self.flush_flows(now, owner);
            }
        }
    }

    pub fn fail_mode(&self) -> FailMode {
        self.fail_mode
    }

    /// The passive targets snoop connections are accepted on (OVS `connmgr_set_snoops`). Targets that
    /// do not parse as passive are refused.
    pub fn set_snoops(&mut self, targets: &BTreeSet<String>) -> Vec<TargetError> {
        let mut errors = Vec::new();
        let mut wanted = BTreeSet::new();
        for t in targets {
            match Target::parse(t) {
                Ok(p) if p.is_passive() => {
                    wanted.insert(Arc::<str>::from(t.as_str()));
                }
                Ok(_) => errors.push(TargetError::UnknownScheme(t.clone())),
                Err(e) => errors.push(e),
            }
        }
        for gone in self.snoop_targets.difference(&wanted) {
            self.outputs.push_back(Output::Unlisten { target: gone.clone() });
        }
        for new in wanted.difference(&self.snoop_targets) {
            self.outputs.push_back(Output::Listen { target: new.clone(), dscp: 0 });
        }
        self.snoop_targets = wanted;
        errors
    }

    /// How long a bundle may stay idle, in seconds; 0 restores the default of 10 s.
    pub fn set_bundle_idle_timeout(&mut self, secs: u32) {
        self.bundle_idle_timeout =
            if secs == 0 { BUNDLE_IDLE_TIMEOUT_DEFAULT } else { Duration::from_secs(u64::from(secs)) };
    }

    /// Drops every connection; controllers reconnect (OVS `connmgr_reconnect`).
    pub fn reconnect(&mut self, now: Instant) {
        for c in self.conns.values_mut() {
            c.rconn.reconnect(now);
        }
        self.pump_all(now);
    }

    /// True if any primary controller is configured, connected or not.
    pub fn has_controllers(&self) -> bool {
        self.services.values().any(|s| s.conn_type == ConnType::Primary)
    }

    fn create_service(&mut self, now: Instant, target: &str, settings: ControllerSettings) -> Result<(), TargetError> {
        let parsed = Target::parse(target).inspect_err(|_| {
            warn!(target: "connmgr", "{}: unsupported controller \"{target}\"", self.name);
        })?;
        let mut svc = OfService::new(now, &self.name, target, &parsed, settings);
        match &mut svc.kind {
            ServiceKind::Active { rconn: Some(rc), .. } => rc.set_xid_allocator(self.xids.clone()),
            _ => self.outputs.push_back(Output::Listen { target: svc.target.clone(), dscp: settings.dscp }),
        }
        info!(target: "connmgr", "{}: added {} controller \"{target}\"", self.name, svc.conn_type.name());
        let key = svc.target.clone();
        self.services.insert(key.clone(), svc);
        self.pump(now, Loc::Service(key));
        Ok(())
    }

    /// Closes the service's connections and snoops and forgets it.
    fn destroy_service(&mut self, now: Instant, target: &Arc<str>) {
        for id in self.conns_of(target) {
            if let Some(c) = self.conns.get_mut(&id) {
                c.rconn.disconnect(now);
            }
            self.pump(now, Loc::Conn(id));
        }
        if let Some(rc) = self.service_rconn_mut(target) {
            rc.disconnect(now);
            self.pump(now, Loc::Service(target.clone()));
        }
        let snoops: Vec<ConnId> = self
            .transports
            .iter()
            .filter(|(_, t)| matches!(t, Transport::Snoop(s) if s.watching == *target))
            .map(|(id, _)| *id)
            .collect();
        for id in snoops {
            self.close_snoop(id, None);
        }
        if let Some(svc) = self.services.remove(target) {
            if !svc.is_active() {
                self.outputs.push_back(Output::Unlisten { target: svc.target });
            }
        }
    }

    /// OVS `ofservice_reconfigure` and `ofconn_reconfigure` for each of its connections. Unlike OVS,
    /// an active service's rconn gets its new settings even while it is not connected.
    fn reconfigure_service(&mut self, now: Instant, target: &Arc<str>, s: ControllerSettings) {
        let Some(svc) = self.services.get_mut(target) else { return };
        svc.settings = s;
        if let ServiceKind::Active { rconn: Some(rc), .. } = &mut svc.kind {
            reconfigure_rconn(now, rc, &s);
        }
        for id in self.conns_of(target) {
            let seed = self.seed;
            let Some(c) = self.conns.get_mut(&id) else { continue };
            reconfigure_rconn(now, &mut c.rconn, &s);
            c.queue_size = s.queue_size();
            c.enable_async_msgs = s.enable_async_msgs;
            c.set_rate_limit(s.rate_limit, s.burst_limit, seed);
            self.pump(now, Loc::Conn(id));
        }
    }

    pub(crate) fn conns_of(&self, target: &Arc<str>) -> Vec<ConnId> {
        self.conns.values().filter(|c| c.service == *target).map(|c| c.id).collect()
    }

    /// Deletes all flows through the owner, then re-adds connection management's own.
    pub(crate) fn flush_flows<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        owner.flush(now);
        self.flushed(now, owner);
    }

    /// To call after the owner deleted every flow on its own initiative (OVS `connmgr_flushed`):
    /// re-adds the fail-open flow if failing open, and the standalone NORMAL flow when standalone
    /// with no primary controller configured.
    pub fn flushed<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        if self.fail_open.is_some() {
            self.fail_open_flushed(now, owner);
        }
        if !self.has_controllers() && self.fail_mode == FailMode::Standalone {
            owner.add_normal_flow(now, NormalFlow::Standalone);
        }
    }

    // ----- transports -----

    /// The embedder accepted a connection on `listener` from `peer` (its name, e.g.
    /// "tcp:192.0.2.7:51234"). Returns the id to report on, or `None` if it is not wanted (close it).
    pub fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId> {
        if let Some(svc) = self.services.get(listener).filter(|s| !s.is_active()) {
            let (target, conn_type, settings) = (svc.target.clone(), svc.conn_type, svc.settings);
            let id = self.alloc_id();
            let mut rconn = Box::new(Rconn::new(settings.rconn_config(), now));
            rconn.set_xid_allocator(self.xids.clone());
            rconn.connect_unreliably(now, peer, Some(&conn_name(&self.name, peer)));
            let conn = OfConn::new(now, id, target, conn_type, rconn, &settings, self.seed);
            self.conns.insert(id, conn);
            self.transports.insert(id, Transport::Accepted);
            self.update_want_packet_in_on_miss(id);
            self.pump(now, Loc::Conn(id));
            return Some(id);
        }
        if self.snoop_targets.contains(listener) {
            return self.add_snooper(now, peer);
        }
        None
    }

    /// OVS `add_snooper`: attaches to the active service whose connection has the most important
    /// role (primary, then equal, then secondary, then none).
    fn add_snooper(&mut self, now: Instant, peer: &str) -> Option<ConnId> {
        let preference = |svc: &OfService| match svc.kind {
            ServiceKind::Active { transport: Some(t), .. } => match self.conns.get(&t).map(|c| c.role) {
                Some(crate::Role::Primary) => 3,
                Some(crate::Role::Equal) => 2,
                Some(crate::Role::Secondary) => 1,
                _ => 0,
            },
            _ => 0,
        };
        let mut best: Option<(&OfService, i32)> = None;
        for svc in self.services.values().filter(|s| s.is_active()) {
            let p = preference(svc);
            if best.is_none_or(|(_, bp)| p > bp) {
                best = Some((svc, p));
            }
        }
        let Some((svc, _)) = best else {
            if self.rl.allow(now, "connmgr", log::Level::Info) {
                info!(target: "connmgr", "no controller connection to snoop");
            }
            return None;
        };
        let watching = svc.target.clone();
        let id = self.alloc_id();
        let rconn = self.rconn_mut_for_service(&watching)?;
        rconn.add_monitor(MonitorId(id.0), peer).ok()?;
        let vconn = Vconn::accepted(peer.into(), VersionBitmap::DEFAULT, self.xids.next_xid());
        self.transports.insert(id, Transport::Snoop(Snoop::new(vconn, watching)));
        Some(id)
    }

    /// The embedder could not listen on `target`: the service is forgotten (a later
    /// `set_controllers` tries again, as OVS retries `pvconn_open`).
    pub fn handle_listen_error(&mut self, now: Instant, target: &str, err: ConnError) {
        warn!(target: "connmgr", "{}: failed to listen on {target}: {err}", self.name);
        if let Some(svc) = self.services.get(target).filter(|s| !s.is_active()) {
            let key = svc.target.clone();
            for id in self.conns_of(&key) {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.rconn.disconnect(now);
                }
                self.pump(now, Loc::Conn(id));
            }
            self.services.remove(&key);
        }
        self.snoop_targets.remove(target);
    }

    /// The transport requested by [`Output::Connect`] is up.
    pub fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        if let Some(loc) = self.rconn_loc(conn) {
            if let Some(rc) = self.rconn_at(&loc) {
                rc.handle_connected(now);
            }
            self.pump(now, loc);
        }
    }

    /// The transport requested by [`Output::Connect`] could not even be started.
    pub fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        if let Some(loc) = self.rconn_loc(conn) {
            if let Some(rc) = self.rconn_at(&loc) {
                rc.handle_open_failed(now, err);
            }
            self.pump(now, loc);
        }
    }

    /// The transport failed.
    pub fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        if matches!(self.transports.get(&conn), Some(Transport::Snoop(_))) {
            self.close_snoop(conn, Some(err));
        } else if let Some(loc) = self.rconn_loc(conn) {
            if let Some(rc) = self.rconn_at(&loc) {
                rc.handle_error(now, err);
            }
            self.pump(now, loc);
        }
    }

    /// Bytes arrived on a transport. Messages are read by the next [`ConnMgr::handle_timeout`].
    pub fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        if let Some(Transport::Snoop(s)) = self.transports.get_mut(&conn) {
            if let Some(err) = s.handle_bytes(data) {
                self.close_snoop(conn, Some(err));
            }
        } else if let Some(loc) = self.rconn_loc(conn) {
            if let Some(rc) = self.rconn_at(&loc) {
                rc.handle_bytes(now, data);
            }
            if let Some(c) = self.conns.get_mut(&conn) {
                c.input_pending = true;
            }
            self.pump(now, loc);
        }
    }

    /// The peer closed the transport.
    pub fn handle_eof(&mut self, now: Instant, conn: ConnId) {
        if matches!(self.transports.get(&conn), Some(Transport::Snoop(_))) {
            self.close_snoop(conn, Some(ConnError::Eof));
        } else if let Some(loc) = self.rconn_loc(conn) {
            if let Some(rc) = self.rconn_at(&loc) {
                rc.handle_eof(now);
            }
            if let Some(c) = self.conns.get_mut(&conn) {
                c.input_pending = true;
            }
            self.pump(now, loc);
        }
    }

    /// The next bytes to write on `conn`'s transport; call while it can take more. A reply leaves
    /// its connection's count here, which may let reading resume.
    pub fn poll_transmit(&mut self, now: Instant, conn: ConnId) -> Option<Bytes> {
        if let Some(Transport::Snoop(s)) = self.transports.get_mut(&conn) {
            return s.poll_transmit();
        }
        let loc = self.rconn_loc(conn)?;
        self.rconn_at(&loc)?.poll_transmit(now)
    }

    /// Every transport the embedder should be running.
    pub fn transports(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.transports.keys().copied()
    }

    /// The next transport action.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next connection event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn close_snoop(&mut self, id: ConnId, err: Option<ConnError>) {
        let Some(Transport::Snoop(mut s)) = self.transports.remove(&id) else { return };
        let watching = s.watching.clone();
        if let Some(rc) = self.rconn_mut_for_service(&watching) {
            rc.remove_monitor(MonitorId(id.0), err.unwrap_or(ConnError::Eof));
        }
        self.outputs.push_back(Output::Close { conn: id, error: err, unsent: s.vconn.take_unsent() });
    }

    fn alloc_id(&mut self) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        id
    }

    // ----- the step -----

    /// Does everything due at `now` (OVS `connmgr_run`): rconn timers, packet-in releases, reading
    /// up to 50 messages per connection (handing requests to `owner`), bundle expiry, the flow-mod
    /// log, multipart timeouts and fail-open. Call it when [`ConnMgr::poll_timeout`] has passed,
    /// after inputs, and after `retry`.
    pub fn handle_timeout<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        let waiting: Vec<Arc<str>> = self
            .services
            .iter()
            .filter(|(_, s)| matches!(s.kind, ServiceKind::Active { rconn: Some(_), .. }))
            .map(|(t, _)| t.clone())
            .collect();
        for target in waiting {
            if let Some(rc) = self.service_rconn_mut(&target) {
                rc.handle_timeout(now);
            }
            self.pump(now, Loc::Service(target));
        }
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            self.run_conn(now, id, owner);
        }
        self.fail_open_run(now, owner);
        self.pump_all(now);
    }

    /// OVS `ofconn_run`.
    fn run_conn<O: Owner>(&mut self, now: Instant, id: ConnId, owner: &mut O) {
        for i in 0..2 {
            let mut released = std::mem::take(&mut self.scratch);
            if let Some(ps) = self.conns.get_mut(&id).and_then(|c| c.schedulers[i].as_mut()) {
                ps.run(now, &mut released);
            }
            for pin in released.drain(..) {
                self.send_packet_in_now(now, id, pin);
            }
            self.scratch = released;
        }
        if let Some(c) = self.conns.get_mut(&id) {
            c.rconn.handle_timeout(now);
        }
        self.pump(now, Loc::Conn(id));

        self.read_messages(now, id, owner);
        self.pump(now, Loc::Conn(id));

        let timeout = self.bundle_idle_timeout;
        let Some(c) = self.conns.get_mut(&id) else { return };
        if now >= c.next_bundle_check {
            c.next_bundle_check = now + BUNDLE_EXPIRY_INTERVAL;
            for request in c.bundles.expire(now, timeout) {
                self.send_error(now, id, OfpErr::OFPBFC_TIMEOUT, &request);
            }
        }
        let Some(c) = self.conns.get_mut(&id) else { return };
        if c.flow_mods.next_report().is_some_and(|t| now >= t) {
            if let Some(s) = c.flow_mods.take_summary(now) {
                info!(target: "connmgr", "{}: {s}", c.rconn.name());
            }
        }
        for (err, request) in c.assembler.expire(now) {
            c.send(now, error_reply(err, &request));
        }
    }

    /// The earliest instant at which [`ConnMgr::handle_timeout`] has work; `None` if only an input
    /// can change anything. An instant in the past means "now".
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut consider = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for svc in self.services.values() {
            if let ServiceKind::Active { rconn: Some(rc), .. } = &svc.kind {
                consider(rc.poll_timeout());
            }
        }
        for c in self.conns.values() {
            consider(c.rconn.poll_timeout());
            if c.wants_to_read() {
                consider(Some(Instant::ZERO));
            }
            consider(c.next_wakeup());
        }
        consider(self.fail_open.as_ref().and_then(|f| f.next_wakeup()));
        t
    }

    // ----- requests from the owner -----

    /// Offers every blocked request again (OVS `connmgr_retry`), at the next step.
    pub fn retry(&mut self) {
        for c in self.conns.values_mut() {
            c.retry = true;
        }
    }

    /// An operation group the owner started for `conn` finished. A failure is sent as an error
    /// quoting the request that started it. Blocked requests are retried. Ignored if the connection
    /// is gone.
    pub fn op_group_completed(&mut self, now: Instant, conn: ConnId, group: OpGroupId, result: Result<(), OfpErr>) {
        let Some(request) = self.conns.get_mut(&conn).and_then(|c| c.op_groups.remove(&group.0)) else { return };
        if let Err(e) = result {
            self.send_error(now, conn, e, &request);
        }
        self.retry();
        self.pump_all(now);
    }

    /// Sends an OFPT_ERROR answering `request` on `conn`, counted as a reply (OVS
    /// `ofconn_send_error`, with its rate-limited log line), quoting its first 64 bytes.
    pub(crate) fn send_error(&mut self, now: Instant, id: ConnId, err: OfpErr, request: &Bytes) {
        let Some(c) = self.conns.get_mut(&id) else { return };
        if self.error_rl.allow(now, "connmgr", log::Level::Info) {
            let head = &request[..request.len().min(64)];
            let type_name = raw::identify(head).map_or("invalid", |r| r.name());
            info!(target: "connmgr", "{}: sending {err} error reply to {type_name} message", c.rconn.name());
        }
        c.send_reply(now, error_reply(err, request));
    }

    // ----- status -----

    /// The owner's view of a connection, while it exists.
    pub fn conn_info(&self, conn: ConnId) -> Option<ConnInfo> {
        self.conns.get(&conn).map(OfConn::info)
    }

    /// Every connection's id, in creation order.
    pub fn conn_ids(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.conns.keys().copied()
    }

    /// True if a table miss should produce a packet-in for some controller: one with controller id
    /// 0 speaks OpenFlow below 1.3 (OVS `connmgr_wants_packet_in_on_miss`).
    pub fn wants_packet_in_on_miss(&self) -> bool {
        self.n_want_packet_in_on_miss > 0
    }

    /// Packet-ins dropped on `conn` because its queue limit was reached.
    pub fn n_packet_in_overflow(&self, conn: ConnId) -> Option<u64> {
        self.conns.get(&conn).map(|c| c.n_queue_overflow)
    }

    /// OVS `connmgr_get_memory_usage`.
    pub fn memory_usage(&self) -> MemoryUsage {
        MemoryUsage {
            ofconns: self.conns.len(),
            packets: self.conns.values().map(|c| c.rconn.txq_len() + c.n_scheduled() as usize).sum(),
        }
    }

    pub(crate) fn update_want_packet_in_on_miss(&mut self, id: ConnId) {
        let Some(c) = self.conns.get_mut(&id) else { return };
        let want = c.computes_want_packet_in_on_miss();
        if want != c.want_packet_in_on_miss {
            c.want_packet_in_on_miss = want;
            if want {
                self.n_want_packet_in_on_miss += 1;
            } else {
                self.n_want_packet_in_on_miss -= 1;
            }
        }
    }

    /// Checks the bookkeeping the fuzz driver relies on; `Err` describes the first thing wrong.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let wanted = self.conns.values().filter(|c| c.want_packet_in_on_miss).count();
        if wanted != self.n_want_packet_in_on_miss {
            return Err(format!(
                "want_packet_in_on_miss count {} for {wanted} connections",
                self.n_want_packet_in_on_miss
            ));
        }
        for c in self.conns.values() {
            if c.want_packet_in_on_miss != c.computes_want_packet_in_on_miss() {
                return Err(format!("{}: stale want_packet_in_on_miss", c.id));
            }
            if !matches!(self.transports.get(&c.id), Some(Transport::Controller(_) | Transport::Accepted)) {
                return Err(format!("{}: connection without its transport", c.id));
            }
            if c.up != c.protocol.is_some() {
                return Err(format!("{}: up {} but protocol {:?}", c.id, c.up, c.protocol));
            }
            for ps in c.schedulers.iter().flatten() {
                let queued = ps.backlog().count() as u32;
                if queued != ps.stats().n_queued || queued > ps.limits().1 {
                    return Err(format!("{}: backlog {queued} vs stats {:?}", c.id, ps.stats()));
                }
            }
            if c.blocked.is_some()
                && c.rconn.is_connected()
                && c.retry
                && c.reply_counter.n_packets() < crate::ofconn::REPLY_MAX
            {
                // Fine: it is offered at the next step, which poll_timeout must announce.
                if self.poll_timeout().is_none() {
                    return Err(format!("{}: blocked message ready but no wakeup", c.id));
                }
            }
        }
        for svc in self.services.values() {
            if let ServiceKind::Active { rconn, transport } = &svc.kind {
                let in_conn = transport.is_some_and(|t| self.conns.get(&t).is_some_and(|c| c.service == svc.target));
                if rconn.is_some() == in_conn {
                    return Err(format!(
                        "{}: rconn in the service {} and in a connection {in_conn}",
                        svc.target,
                        rconn.is_some()
                    ));
                }
                if let Some(t) = transport {
                    if !matches!(self.transports.get(t), Some(Transport::Controller(x)) if *x == svc.target) {
                        return Err(format!("{}: transport {t} not recorded", svc.target));
                    }
                }
            }
        }
        for (id, t) in &self.transports {
            match t {
                Transport::Snoop(s) if !self.services.get(&s.watching).is_some_and(|x| x.is_active()) => {
                    return Err(format!("snoop {id} watches {} which is gone", s.watching));
                }
                Transport::Accepted if !self.conns.contains_key(id) => {
                    return Err(format!("accepted transport {id} without its connection"));
                }
                _ => {}
            }
            if id.0 >= self.next_id {
                return Err(format!("transport {id} not allocated yet"));
            }
        }
        Ok(())
    }

    // ----- rconn plumbing -----

    fn rconn_loc(&self, conn: ConnId) -> Option<Loc> {
        if self.conns.contains_key(&conn) {
            return Some(Loc::Conn(conn));
        }
        match self.transports.get(&conn)? {
            Transport::Controller(t) => Some(Loc::Service(t.clone())),
            _ => None,
        }
    }

    pub(crate) fn rconn_at(&mut self, loc: &Loc) -> Option<&mut Rconn> {
        match loc {
            Loc::Conn(id) => self.conns.get_mut(id).map(|c| &mut *c.rconn),
            Loc::Service(t) => self.service_rconn_mut(t),
        }
    }

    fn service_rconn_mut(&mut self, target: &str) -> Option<&mut Rconn> {
        match &mut self.services.get_mut(target)?.kind {
            ServiceKind::Active { rconn: Some(rc), .. } => Some(rc),
            _ => None,
        }
    }

    /// An active service's rconn, wherever it is.
    pub(crate) fn service_rconn<'a>(&'a self, svc: &'a OfService) -> Option<&'a Rconn> {
        match &svc.kind {
            ServiceKind::Active { rconn: Some(rc), .. } => Some(rc),
            ServiceKind::Active { rconn: None, transport: Some(t) } => self.conns.get(t).map(|c| &*c.rconn),
            _ => None,
        }
    }

    fn rconn_mut_for_service(&mut self, target: &str) -> Option<&mut Rconn> {
        match &mut self.services.get_mut(target)?.kind {
            ServiceKind::Active { rconn: Some(rc), .. } => Some(rc),
            ServiceKind::Active { rconn: None, transport: Some(t) } => {
                let t = *t;
                self.conns.get_mut(&t).map(|c| &mut *c.rconn)
            }
            _ => None,
        }
    }

    /// Drains every rconn's outputs and events.
    pub(crate) fn pump_all(&mut self, now: Instant) {
        let active: Vec<Arc<str>> = self
            .services
            .iter()
            .filter(|(_, s)| matches!(s.kind, ServiceKind::Active { rconn: Some(_), .. }))
            .map(|(t, _)| t.clone())
            .collect();
        for t in active {
            self.pump(now, Loc::Service(t));
        }
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            self.pump(now, Loc::Conn(id));
        }
    }

    /// Drains one rconn's outputs and events, following it when a connection takes it or gives it
    /// back.
    pub(crate) fn pump(&mut self, now: Instant, mut loc: Loc) {
        loop {
            let Some(rc) = self.rconn_at(&loc) else { return };
            if let Some(out) = rc.poll_output() {
                self.rconn_output(&loc, out);
            } else if let Some(RconnEvent::StateChanged { from, to }) = rc.poll_event() {
                match self.rconn_event(now, loc, from, to) {
                    Some(l) => loc = l,
                    None => return,
                }
            } else {
                return;
            }
        }
    }

    fn service_of(&self, loc: &Loc) -> Option<Arc<str>> {
        match loc {
            Loc::Service(t) => Some(t.clone()),
            Loc::Conn(id) => self.conns.get(id).map(|c| c.service.clone()),
        }
    }

    fn rconn_output(&mut self, loc: &Loc, out: RconnOutput) {
        match out {
            RconnOutput::Connect { target, dscp } => {
                let id = self.alloc_id();
                let Some(svc_target) = self.service_of(loc) else { return };
                if let Some(ServiceKind::Active { transport, .. }) =
                    self.services.get_mut(&svc_target).map(|s| &mut s.kind)
                {
                    *transport = Some(id);
                }
                self.transports.insert(id, Transport::Controller(svc_target));
                self.outputs.push_back(Output::Connect { conn: id, target, dscp });
            }
            RconnOutput::Close { error, unsent } => {
                let id = match loc {
                    Loc::Conn(id) => Some(*id),
                    Loc::Service(t) => match self.services.get(t).map(|s| &s.kind) {
                        Some(ServiceKind::Active { transport, .. }) => *transport,
                        _ => None,
                    },
                };
                let Some(id) = id else { return };
                if let Some(t) = self.service_of(loc) {
                    if let Some(ServiceKind::Active { transport, .. }) = self.services.get_mut(&t).map(|s| &mut s.kind)
                    {
                        if *transport == Some(id) {
                            *transport = None;
                        }
                    }
                }
                if matches!(self.transports.get(&id), Some(Transport::Controller(_) | Transport::Accepted)) {
                    self.transports.remove(&id);
                }
                self.outputs.push_back(Output::Close { conn: id, error, unsent });
            }
            RconnOutput::MonitorCopy { id, msg } => {
                if let Some(Transport::Snoop(s)) = self.transports.get_mut(&ConnId(id.0)) {
                    s.copy(msg);
                }
            }
        }
    }

    /// Reacts to an rconn state change; returns where the rconn is afterwards (`None`: dropped).
    fn rconn_event(&mut self, now: Instant, loc: Loc, from: State, to: State) -> Option<Loc> {
        let came_up = to.is_connected() && !from.is_connected();
        match loc {
            Loc::Service(target) => {
                if !came_up {
                    return Some(Loc::Service(target));
                }
                let svc = self.services.get_mut(&target)?;
                let ServiceKind::Active { rconn, transport: Some(id) } = &mut svc.kind else {
                    return Some(Loc::Service(target));
                };
                let (id, rconn) = (*id, rconn.take()?);
                let conn = OfConn::new(now, id, target, svc.conn_type, rconn, &svc.settings, self.seed);
                self.conns.insert(id, conn);
                self.connection_up(id);
                Some(Loc::Conn(id))
            }
            Loc::Conn(id) => {
                if came_up {
                    self.connection_up(id);
                }
                // A controller's rconn goes from connected to BACKOFF or VOID, never straight to
                // CONNECTING; an accepted one starts in CONNECTING and ends in DISCONNECTED or VOID.
                if to.is_connected() || to == State::Connecting {
                    return Some(Loc::Conn(id));
                }
                let conn = self.destroy_conn(now, id)?;
                match self.services.get_mut(&conn.service).map(|s| &mut s.kind) {
                    Some(ServiceKind::Active { rconn: slot @ None, .. }) => {
                        *slot = Some(conn.rconn);
                        Some(Loc::Service(conn.service))
                    }
                    _ => None,
                }
            }
        }
    }

    /// The hello exchange on `id` completed.
    fn connection_up(&mut self, id: ConnId) {
        let Some(c) = self.conns.get_mut(&id) else { return };
        let version = c.rconn.version().unwrap_or(OFP10_VERSION);
        c.protocol = Protocol::from_version(version);
        c.up = true;
        c.input_pending = true;
        self.events.push_back(Event::Connected {
            conn: id,
            target: c.service.clone(),
            conn_type: c.conn_type,
            version,
        });
        self.update_want_packet_in_on_miss(id);
    }

    /// OVS `ofconn_destroy`: logs pending flow-mod counts and forgets the connection.
    fn destroy_conn(&mut self, now: Instant, id: ConnId) -> Option<OfConn> {
        let mut c = self.conns.remove(&id)?;
        if let Some(s) = c.flow_mods.take_summary(now) {
            info!(target: "connmgr", "{}: {s}", c.rconn.name());
        }
        if c.want_packet_in_on_miss {
            self.n_want_packet_in_on_miss -= 1;
        }
        if c.up {
            self.events.push_back(Event::Disconnected { conn: id });
        }
        Some(c)
    }
}

/// The OFPT_ERROR answering `request`: in its version (OF1.0's domain for versions OVS does not
/// know) with its xid, quoting its first 64 bytes. (The project's rule; OVS 3.1 quotes as much of
/// the request as fits.)
pub(crate) fn error_reply(err: OfpErr, request: &[u8]) -> Bytes {
    let (version, xid) = Header::parse(request).map_or((OFP10_VERSION, 0), |h| (h.version, h.xid));
    let version = if (OFP10_VERSION..=OFP15_VERSION).contains(&version) { version } else { OFP10_VERSION };
    OfpMsg::new(version, xid, Message::Error(ErrorMsg::reply_to(err, request))).to_bytes()
}

/// A change OVS cannot apply in place: the allowed versions (and, here, the connection type).
fn needs_reinit(svc: &OfService, s: &ControllerSettings) -> bool {
    let default_type = if svc.is_active() { ConnType::Primary } else { ConnType::Service };
    svc.settings.allowed_versions != s.allowed_versions || svc.conn_type != s.conn_type.unwrap_or(default_type)
}

/// The rconn part of OVS `ofconn_reconfigure`: a DSCP change reconnects.
fn reconfigure_rconn(now: Instant, rc: &mut Rconn, s: &ControllerSettings) {
    rc.set_max_backoff(now, s.max_backoff);
    rc.set_probe_interval(s.effective_probe_interval());
    if s.dscp != rc.dscp() {
        rc.set_dscp(s.dscp);
        rc.reconnect(now);
    }
}
