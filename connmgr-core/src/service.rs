//! Controller configuration (OVS `struct ofproto_controller`) and services (OVS `struct
//! ofservice`): an active target owns one reliable rconn, a passive target accepts connections.

use std::sync::Arc;

use ofp_proto::{Instant, VersionBitmap};
use rconn_core::{Rconn, RconnConfig, Target};

use crate::owner::{ConnId, ConnType};

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
