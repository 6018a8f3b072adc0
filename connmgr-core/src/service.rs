//! Controller configuration (OVS `struct ofproto_controller`) and services (OVS `struct
//! ofservice`): an active target owns one reliable rconn, a passive target accepts connections;
//! `set_controllers` adds, removes and reconfigures them as OVS does.

use std::collections::BTreeMap;
use std::sync::Arc;

use log::{info, warn};
use ofp_proto::{Instant, VersionBitmap};
use rconn_core::{Rconn, RconnConfig, Target, TargetError};

use crate::connmgr::{ConnMgr, Output};
use crate::owner::{ConnId, ConnType, Owner};
use crate::transport::{Loc, Transport};

/// OVS's default DSCP for controller connections (`DSCP_DEFAULT`, CS6).
pub const DSCP_DEFAULT: u8 = 48;
/// Default and bounds of `controller_queue_size` (packet-ins queued per connection).
pub const QUEUE_SIZE_DEFAULT: u32 = 100;
pub const QUEUE_SIZE_MIN: u32 = 1;
pub const QUEUE_SIZE_MAX: u32 = 512;

/// One configured controller target's settings, with OVS's (bridge.c) defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControllerSettings {
    /// `None`: primary for active targets, service for passive ones.
    pub conn_type: Option<ConnType>,
    /// Longest reconnection backoff in seconds.
    pub max_backoff: u32,
    /// Seconds of silence before an inactivity probe; 0 disables, 1–4 mean 5.
    pub probe_interval: u32,
    /// Whether connections start with the default asynchronous configuration (else all off).
    pub enable_async_msgs: bool,
    pub allowed_versions: VersionBitmap,
    /// Packet-ins queued for transmission at most (1..=512, else the default 100).
    pub controller_queue_size: u32,
    /// Packet-ins per second; 0 disables rate limiting.
    pub rate_limit: u32,
    /// Packet-ins sent in a burst (0: a quarter of the rate).
    pub burst_limit: u32,
    pub dscp: u8,
}

impl Default for ControllerSettings {
    fn default() -> Self {
        ControllerSettings {
            conn_type: None,
            max_backoff: 8,
            probe_interval: 5,
            enable_async_msgs: true,
            allowed_versions: VersionBitmap::DEFAULT,
            controller_queue_size: QUEUE_SIZE_DEFAULT,
            rate_limit: 0,
            burst_limit: 0,
            dscp: DSCP_DEFAULT,
        }
    }
}

impl ControllerSettings {
    /// The queue size in effect (OVS `bridge_get_controller_queue_size`).
    pub fn queue_size(&self) -> u32 {
        if (QUEUE_SIZE_MIN..=QUEUE_SIZE_MAX).contains(&self.controller_queue_size) {
            self.controller_queue_size
        } else {
            QUEUE_SIZE_DEFAULT
        }
    }

    /// The probe interval an rconn gets (OVS `ofconn_reconfigure`).
    pub fn effective_probe_interval(&self) -> u32 {
        if self.probe_interval == 0 {
            0
        } else {
            self.probe_interval.max(5)
        }
    }

    pub(crate) fn rconn_config(&self) -> RconnConfig {
        RconnConfig {
            probe_interval: self.probe_interval,
            max_backoff: self.max_backoff,
            dscp: self.dscp,
            allowed_versions: self.allowed_versions,
        }
    }
}

/// What the switch does when it cannot reach its controllers (OVS `enum ofproto_fail_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FailMode {
    /// Forward nothing without a controller (the connection manager's default).
    #[default]
    Secure,
    /// Act as a learning switch (NORMAL) without controllers, and fail open when they are lost.
    Standalone,
}

#[derive(Debug)]
pub(crate) enum ServiceKind {
    /// An active target's reliable rconn: here while no connection is up on it, otherwise in the
    /// `OfConn` whose id is `transport`.
    Active { rconn: Option<Box<Rconn>>, transport: Option<ConnId> },
    /// A passive target: the embedder listens and reports accepted transports.
    Passive,
}

#[derive(Debug)]
pub(crate) struct OfService {
    pub target: Arc<str>,
    pub conn_type: ConnType,
    pub settings: ControllerSettings,
    pub kind: ServiceKind,
}

impl OfService {
    /// A service for `target`; an active one starts connecting at once.
    pub fn new(now: Instant, mgr_name: &str, target: &str, parsed: &Target, settings: ControllerSettings) -> OfService {
        let passive = parsed.is_passive();
        let default_type = if passive { ConnType::Service } else { ConnType::Primary };
        let kind = if passive {
            ServiceKind::Passive
        } else {
            let mut rconn = Box::new(Rconn::new(settings.rconn_config(), now));
            rconn.connect(now, target, Some(&conn_name(mgr_name, target)));
            ServiceKind::Active { rconn: Some(rconn), transport: None }
        };
        OfService { target: target.into(), conn_type: settings.conn_type.unwrap_or(default_type), settings, kind }
    }

    pub fn is_active(&self) -> bool {
        matches!(self.kind, ServiceKind::Active { .. })
    }
}

/// OVS `ofconn_make_name`: "BRIDGE<->TARGET".
pub(crate) fn conn_name(mgr_name: &str, target: &str) -> String {
    format!("{mgr_name}<->{target}")
}

impl ConnMgr {
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
