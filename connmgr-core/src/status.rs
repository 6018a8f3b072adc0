//! What `ovs-vsctl list controller` shows (OVS `connmgr_get_controller_info`): per active
//! controller target, whether it is connected, its role, and OVS's status keys.

use std::collections::BTreeMap;

use ofp_proto::Instant;

use crate::connmgr::ConnMgr;
use crate::owner::Role;
use crate::service::ServiceKind;

/// One active controller's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerInfo {
    pub is_connected: bool,
    /// The connection's role; `None` while there is no connection.
    pub role: Option<Role>,
    /// `state`, `last_error`, `sec_since_connect`, `sec_since_disconnect`, and with a rate limit
    /// `packet-in-{action,miss}-{backlog,bypassed,queued,dropped}`.
    pub pairs: BTreeMap<String, String>,
}

impl ConnMgr {
    /// Status of every active controller target (passive ones have none, as in OVS).
    pub fn controller_info(&self, now: Instant) -> BTreeMap<String, ControllerInfo> {
        let mut info = BTreeMap::new();
        for svc in self.services.values() {
            let Some(rc) = self.service_rconn(svc) else { continue };
            let conn = match svc.kind {
                ServiceKind::Active { transport: Some(t), .. } => self.conns.get(&t),
                _ => None,
            };
            let mut pairs = BTreeMap::new();
            if let Some(e) = rc.last_error() {
                pairs.insert("last_error".to_string(), e.to_string());
            }
            pairs.insert("state".to_string(), rc.state().name().to_string());
            if let Some(t) = rc.last_connection() {
                pairs.insert("sec_since_connect".to_string(), (now - t).as_secs().to_string());
            }
            if let Some(t) = rc.last_disconnect() {
                pairs.insert("sec_since_disconnect".to_string(), (now - t).as_secs().to_string());
            }
            for (i, name) in ["action", "miss"].iter().enumerate() {
                if let Some(s) = conn.and_then(|c| c.scheduler(i)).map(|ps| ps.stats()) {
                    pairs.insert(format!("packet-in-{name}-backlog"), s.n_queued.to_string());
                    pairs.insert(format!("packet-in-{name}-bypassed"), s.n_normal.to_string());
                    pairs.insert(format!("packet-in-{name}-queued"), s.n_limited.to_string());
                    pairs.insert(format!("packet-in-{name}-dropped"), s.n_queue_dropped.to_string());
                }
            }
            let ci = ControllerInfo { is_connected: rc.is_connected(), role: conn.map(|c| c.role), pairs };
            info.insert(svc.target.to_string(), ci);
        }
        info
    }
}
