//! Transports (OVS `pvconn`/`vconn` plumbing around `ofservice_run`): routing the embedder's
//! transport inputs to the right rconn, accepting service and snoop connections, and following each
//! rconn's outputs and state changes — which is where connections come up and go away.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use log::{info, warn};
use ofp_proto::header::OFP10_VERSION;
use ofp_proto::{Instant, VersionBitmap};
use rconn_core::{ConnError, ConnName, Event as RconnEvent, MonitorId, Output as RconnOutput, Rconn, State, Vconn};

use crate::connmgr::{ConnMgr, Event, Output};
use crate::ofconn::OfConn;
use crate::owner::{ConnId, Protocol};
use crate::service::{conn_name, OfService, ServiceKind};
use crate::snoop::Snoop;

/// Unread input at which [`ConnMgr::may_read`] says stop: more than the largest OpenFlow message,
/// so a message being received can always complete.
pub const MAX_UNREAD: usize = 64 * 1024;

/// A transport without a connection: every other transport is the one of the `OfConn` with its
/// id (accepted, or a controller's once its hello exchange is done), so that thousands of idle
/// connections need no entry here.
#[derive(Debug)]
pub(crate) enum Transport {
    /// The transport of an active service's rconn while its hello exchange is under way (the
    /// rconn is in the service).
    Controller(Arc<str>),
    /// Boxed: snoops are rare.
    Snoop(Box<Snoop>),
}

/// Where an rconn is.
#[derive(Clone, Debug)]
pub(crate) enum Loc {
    Service(Arc<str>),
    Conn(ConnId),
}

impl ConnMgr {
    /// The embedder accepted a connection on `listener` from `peer` (its name, e.g.
    /// "tcp:192.0.2.7:51234"). Returns the id to report on, or `None` if it is not wanted (close it).
    pub fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId> {
        if let Some(svc) = self.services.get(listener).filter(|s| !s.is_active()) {
            let (target, conn_type, settings) = (svc.target.clone(), svc.conn_type, svc.settings);
            let id = self.alloc_id();
            let mut rconn = Rconn::new(settings.rconn_config(), now);
            rconn.set_xid_allocator(self.xids.clone());
            rconn.connect_unreliably(now, peer, Some(&conn_name(&self.name, peer)));
            let conn = OfConn::new(now, id, target, conn_type, rconn, &settings, self.seed);
            self.conns.insert(id, Box::new(conn));
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
        self.transports.insert(id, Transport::Snoop(Box::new(Snoop::new(vconn, watching))));
        self.n_snoops += 1;
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
        if let Some(buf) = self.recv_buffer(conn) {
            buf.extend_from_slice(data);
        }
        self.handle_received(now, conn);
    }

    /// `conn`'s receive buffer, for an embedder that reads the transport straight into it
    /// (appending, then calling [`ConnMgr::handle_received`]) instead of handing a copy to
    /// [`ConnMgr::handle_bytes`]. `None` while received bytes would be discarded: read into a
    /// buffer of your own and call `handle_bytes`.
    pub fn recv_buffer(&mut self, conn: ConnId) -> Option<&mut BytesMut> {
        if matches!(self.transports.get(&conn), Some(Transport::Snoop(_))) {
            let Some(Transport::Snoop(s)) = self.transports.get_mut(&conn) else { return None };
            return s.vconn.recv_buffer();
        }
        let loc = self.rconn_loc(conn)?;
        self.rconn_at(&loc)?.recv_buffer()
    }

    /// Bytes were appended to [`ConnMgr::recv_buffer`]: as [`ConnMgr::handle_bytes`] after its
    /// copy. Messages are read by the next [`ConnMgr::handle_timeout`].
    pub fn handle_received(&mut self, now: Instant, conn: ConnId) {
        if let Some(Transport::Snoop(s)) = self.transports.get_mut(&conn) {
            if let Some(err) = s.handle_received() {
                self.close_snoop(conn, Some(err));
            }
        } else if let Some(loc) = self.rconn_loc(conn) {
            if let Some(rc) = self.rconn_at(&loc) {
                rc.handle_received(now);
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

    /// Whether the embedder should read more from `conn` now: false once [`MAX_UNREAD`] bytes
    /// wait unread (the connection's requests are blocked or its replies back up), so the peer's
    /// TCP window closes instead of memory growing; and false for a transport that is gone.
    pub fn may_read(&self, conn: ConnId) -> bool {
        if let Some(c) = self.conns.get(&conn) {
            return c.rconn.buffered_input() < MAX_UNREAD;
        }
        match self.transports.get(&conn) {
            None => false,
            Some(Transport::Snoop(_)) => true,
            Some(Transport::Controller(t)) => (self.services.get(t))
                .and_then(|s| self.service_rconn(s))
                .is_some_and(|rc| rc.buffered_input() < MAX_UNREAD),
        }
    }

    /// The name of `conn` in log lines ("br0<->tcp:127.0.0.1:6653"), sharing the text with the
    /// connection; `None` once the connection manager forgot the transport.
    pub fn conn_name(&self, conn: ConnId) -> Option<ConnName> {
        if let Some(c) = self.conns.get(&conn) {
            return Some(c.rconn.conn_name().clone());
        }
        match self.transports.get(&conn)? {
            Transport::Controller(t) => {
                self.services.get(t).and_then(|s| self.service_rconn(s)).map(|rc| rc.conn_name().clone())
            }
            Transport::Snoop(s) => Some(s.vconn.conn_name().clone()),
        }
    }

    /// Every transport the embedder should be running: the connections', then the others.
    pub fn transports(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.conns.keys().chain(self.transports.keys()).copied()
    }

    pub(crate) fn close_snoop(&mut self, id: ConnId, err: Option<ConnError>) {
        let Some(Transport::Snoop(mut s)) = self.transports.remove(&id) else { return };
        self.n_snoops -= 1;
        let watching = s.watching.clone();
        if let Some(rc) = self.rconn_mut_for_service(&watching) {
            rc.remove_monitor(MonitorId(id.0), err.unwrap_or(ConnError::Eof));
        }
        self.outputs.push_back(Output::Close { conn: id, error: err, unsent: s.vconn.take_unsent() });
    }

    fn rconn_loc(&self, conn: ConnId) -> Option<Loc> {
        if self.conns.contains_key(&conn) {
            return Some(Loc::Conn(conn));
        }
        match self.transports.get(&conn)? {
            Transport::Controller(t) => Some(Loc::Service(t.clone())),
            _ => None,
        }
    }

    fn rconn_at(&mut self, loc: &Loc) -> Option<&mut Rconn> {
        match loc {
            Loc::Conn(id) => self.conns.get_mut(id).map(|c| &mut c.rconn),
            Loc::Service(t) => self.service_rconn_mut(t),
        }
    }

    pub(crate) fn service_rconn_mut(&mut self, target: &str) -> Option<&mut Rconn> {
        match &mut self.services.get_mut(target)?.kind {
            ServiceKind::Active { rconn: Some(rc), .. } => Some(rc),
            _ => None,
        }
    }

    /// An active service's rconn, wherever it is.
    pub(crate) fn service_rconn<'a>(&'a self, svc: &'a OfService) -> Option<&'a Rconn> {
        match &svc.kind {
            ServiceKind::Active { rconn: Some(rc), .. } => Some(rc),
            ServiceKind::Active { rconn: None, transport: Some(t) } => self.conns.get(t).map(|c| &c.rconn),
            _ => None,
        }
    }

    fn rconn_mut_for_service(&mut self, target: &str) -> Option<&mut Rconn> {
        match &mut self.services.get_mut(target)?.kind {
            ServiceKind::Active { rconn: Some(rc), .. } => Some(rc),
            ServiceKind::Active { rconn: None, transport: Some(t) } => {
                let t = *t;
                self.conns.get_mut(&t).map(|c| &mut c.rconn)
            }
            _ => None,
        }
    }

    /// Drains every rconn's outputs and events (walking the maps by key, without allocating: this
    /// runs after every asynchronous message).
    pub(crate) fn pump_all(&mut self, now: Instant) {
        use std::ops::Bound::{Excluded, Unbounded};
        let mut last: Option<Arc<str>> = None;
        loop {
            let next = match &last {
                None => self.services.keys().next(),
                Some(l) => self.services.range::<Arc<str>, _>((Excluded(l), Unbounded)).next().map(|(k, _)| k),
            };
            let Some(t) = next.cloned() else { break };
            if matches!(self.services[&t].kind, ServiceKind::Active { rconn: Some(_), .. }) {
                self.pump(now, Loc::Service(t.clone()));
            }
            last = Some(t);
        }
        let mut last = None;
        while let Some(id) = self.conns.range((last.map_or(Unbounded, Excluded), Unbounded)).next().map(|(k, _)| *k) {
            self.pump(now, Loc::Conn(id));
            last = Some(id);
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
                if matches!(self.transports.get(&id), Some(Transport::Controller(_))) {
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
                let (id, rconn) = (*id, *rconn.take()?);
                let conn = OfConn::new(now, id, target, svc.conn_type, rconn, &svc.settings, self.seed);
                self.conns.insert(id, Box::new(conn));
                self.transports.remove(&id);
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
                let conn = *self.destroy_conn(now, id)?;
                match self.services.get_mut(&conn.service).map(|s| &mut s.kind) {
                    Some(ServiceKind::Active { rconn: slot @ None, .. }) => {
                        *slot = Some(Box::new(conn.rconn));
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
    fn destroy_conn(&mut self, now: Instant, id: ConnId) -> Option<Box<OfConn>> {
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
