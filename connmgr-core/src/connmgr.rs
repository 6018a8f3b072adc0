//! The connection manager (OVS `struct connmgr`): its state, the step that reads messages and runs
//! timers, the outputs the embedder drains, and status.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use log::info;
use ofp_proto::header::{Header, OFP10_VERSION, OFP15_VERSION};
use ofp_proto::{raw, ErrorMsg, Instant, Message, OfpErr, OfpMsg};
use rconn_core::{ConnError, Target, TargetError, XidAllocator};

use crate::fail_open::FailOpen;
use crate::ofconn::OfConn;
use crate::owner::{ConnId, ConnInfo, ConnType, NormalFlow, OpGroupId, Owner};
use crate::rng::Rng;
use crate::service::{FailMode, OfService, ServiceKind};
use crate::transport::{Loc, Transport};
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
    pub(crate) conns: BTreeMap<ConnId, Box<OfConn>>,
    pub(crate) transports: BTreeMap<ConnId, Transport>,
    /// Snoop transports (sends need their copies passed on only when there are some).
    pub(crate) n_snoops: usize,
    pub(crate) snoop_targets: BTreeSet<Arc<str>>,
    pub(crate) next_id: u64,
    pub(crate) next_op_group: u64,
    /// The next flow monitor seqno (OVS `monitor_seqno`; see the `monitor` module).
    pub(crate) monitor_seqno: u64,
    /// Some connection has flow monitor updates not flushed yet.
    pub(crate) monitor_updates_pending: bool,
    /// The primary election generation id, once one was given (never reset).
    pub(crate) election_id: Option<u64>,
    pub(crate) fail_mode: FailMode,
    pub(crate) fail_open: Option<FailOpen>,
    pub(crate) bundle_idle_timeout: Duration,
    pub(crate) n_want_packet_in_on_miss: usize,
    pub(crate) xids: XidAllocator,
    pub(crate) outputs: VecDeque<Output>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) error_rl: RateLimit,
    pub(crate) overflow_rl: RateLimit,
    pub(crate) rl: RateLimit,
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
            n_snoops: 0,
            snoop_targets: BTreeSet::new(),
            next_id: 1,
            next_op_group: 1,
            monitor_seqno: 1,
            monitor_updates_pending: false,
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

    // ----- outputs -----

    /// The next transport action.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next connection event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub(crate) fn alloc_id(&mut self) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        id
    }

    // ----- the step -----

    /// Does everything due at `now` (OVS `connmgr_run`): rconn timers, packet-in releases, reading
    /// up to 50 messages per connection (handing requests to `owner`), bundle expiry, the flow-mod
    /// log, multipart timeouts, resuming flow monitors and fail-open. Call it when
    /// [`ConnMgr::poll_timeout`] has passed, after inputs, and after `retry`.
    pub fn handle_timeout<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        self.flow_monitor_flush(now);
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
        self.run_monitors(now, owner);
        self.fail_open_run(now, owner);
        self.pump_all(now);
    }

    /// OVS `ofconn_run`.
    fn run_conn<O: Owner>(&mut self, now: Instant, id: ConnId, owner: &mut O) {
        for i in 0..2 {
            let mut released = std::mem::take(&mut self.scratch);
            if let Some(ps) = self.conns.get_mut(&id).and_then(|c| c.scheduler_mut(i)) {
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
        if self.monitor_updates_pending {
            consider(Some(Instant::ZERO));
        }
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
        self.conns.get(&conn).map(|c| c.info())
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
            if self.transports.contains_key(&c.id) {
                return Err(format!("{}: connection with a transport entry", c.id));
            }
            if c.up != c.protocol.is_some() {
                return Err(format!("{}: up {} but protocol {:?}", c.id, c.up, c.protocol));
            }
            self.check_monitors(c)?;
            for ps in c.schedulers() {
                let queued = ps.backlog().count() as u32;
                if queued != ps.stats().n_queued || queued > ps.limits().1 {
                    return Err(format!("{}: backlog {queued} vs stats {:?}", c.id, ps.stats()));
                }
            }
            if c.blocked.is_some()
                && c.rconn.is_connected()
                && c.retry
                && c.rconn.queued(crate::ofconn::REPLIES).n_packets < crate::ofconn::REPLY_MAX
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
                if let Some(t) = transport.filter(|_| !in_conn) {
                    if !matches!(self.transports.get(&t), Some(Transport::Controller(x)) if *x == svc.target) {
                        return Err(format!("{}: transport {t} not recorded", svc.target));
                    }
                }
            }
        }
        let snoops = self.transports.values().filter(|t| matches!(t, Transport::Snoop(_))).count();
        if snoops != self.n_snoops {
            return Err(format!("{snoops} snoops counted as {}", self.n_snoops));
        }
        for (id, t) in &self.transports {
            if let Transport::Snoop(s) = t {
                if !self.services.get(&s.watching).is_some_and(|x| x.is_active()) {
                    return Err(format!("snoop {id} watches {} which is gone", s.watching));
                }
            }
        }
        if let Some(id) = self.transports().find(|id| id.0 >= self.next_id) {
            return Err(format!("transport {id} not allocated yet"));
        }
        Ok(())
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
