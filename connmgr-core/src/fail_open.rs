//! Fail-open (OVS `ofproto/fail-open.c`): in standalone mode with primary controllers configured,
//! when none has admitted the switch for three of the longest probe intervals, flows are flushed and
//! a NORMAL flow takes over; while a controller is connected but has not admitted us, a bogus
//! packet-in goes out every 2 s; the first message from an admitted primary ends it.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use log::{info, warn};
use ofp_proto::Instant;

use crate::connmgr::ConnMgr;
use crate::owner::{ConnType, NormalFlow, Owner};
use crate::service::{FailMode, ServiceKind};

const BOGUS_PACKET_IN_INTERVAL: Duration = Duration::from_secs(2);
/// Seconds between "still in fail-open mode" lines, at least.
const RELOG_SECS: u64 = 60;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FailOpen {
    /// Seconds of disconnection when fail-open started or was last logged; 0 when not failing open.
    last_disconn_secs: u64,
    next_bogus_packet_in: Option<Instant>,
    /// When the disconnection next reaches a length that matters (the trigger, or a re-log).
    next_check: Option<Instant>,
}

impl FailOpen {
    pub fn is_active(&self) -> bool {
        self.last_disconn_secs != 0
    }

    pub fn next_wakeup(&self) -> Option<Instant> {
        self.next_bogus_packet_in.into_iter().chain(self.next_check).min()
    }
}

/// An Ethernet RARP request from `mac` (OVS `compose_rarp`).
pub(crate) fn rarp_frame(mac: [u8; 6]) -> Bytes {
    let mut b = BytesMut::with_capacity(42);
    b.put_slice(&[0xff; 6]);
    b.put_slice(&mac);
    b.put_u16(0x8035);
    b.put_u16(1); // Ethernet
    b.put_u16(0x0800); // IPv4
    b.put_u8(6);
    b.put_u8(4);
    b.put_u16(3); // reverse request
    b.put_slice(&mac);
    b.put_u32(0);
    b.put_slice(&mac);
    b.put_u32(0);
    b.freeze()
}

impl ConnMgr {
    /// Whether the switch is failing open now.
    pub fn is_fail_open_active(&self) -> bool {
        self.fail_open.as_ref().is_some_and(FailOpen::is_active)
    }

    /// OVS `update_fail_open`: fail-open exists only in standalone mode with primary controllers.
    pub(crate) fn update_fail_open<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        if self.has_controllers() && self.fail_mode == FailMode::Standalone {
            self.fail_open.get_or_insert_with(FailOpen::default);
        } else if let Some(fo) = self.fail_open.take() {
            if fo.is_active() {
                self.fail_open_recover(now, owner);
            }
        }
    }

    /// Seconds after which fail-open starts: three times the longest primary probe interval.
    fn fail_open_trigger(&self) -> u64 {
        if !self.has_controllers() {
            return u64::MAX;
        }
        let max_probe = self
            .services
            .values()
            .filter(|s| s.conn_type == ConnType::Primary)
            .map(|s| u64::from(s.settings.probe_interval))
            .max()
            .unwrap_or(0);
        max_probe * 3
    }

    /// Seconds since every active primary controller was last thought to admit the switch; 0 with
    /// none configured (OVS `connmgr_failure_duration`).
    fn failure_duration(&self, now: Instant) -> u64 {
        self.services
            .values()
            .filter(|s| s.conn_type == ConnType::Primary)
            .filter_map(|s| self.service_rconn(s))
            .map(|rc| rc.failure_duration(now))
            .min()
            .unwrap_or(0)
    }

    /// OVS `connmgr_is_any_controller_connected`.
    fn any_controller_connected(&self) -> bool {
        self.services.values().filter(|s| s.conn_type == ConnType::Primary).any(|s| match &s.kind {
            ServiceKind::Active { transport: Some(t), .. } => self.conns.contains_key(t),
            ServiceKind::Active { .. } => false,
            ServiceKind::Passive => self.conns.values().any(|c| c.service == s.target),
        })
    }

    /// OVS `connmgr_is_any_controller_admitted`.
    fn any_controller_admitted(&self) -> bool {
        self.conns.values().any(|c| c.conn_type == ConnType::Primary && c.rconn.is_admitted())
    }

    /// OVS `fail_open_run`.
    pub(crate) fn fail_open_run<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        let Some(fo) = &self.fail_open else { return };
        let disconn = self.failure_duration(now);
        let trigger = self.fail_open_trigger();
        let active = fo.is_active();
        let last = fo.last_disconn_secs;
        if disconn > 0 && disconn >= trigger {
            if !active {
                warn!(target: "fail_open",
                    "Could not connect to controller (or switch failed controller's post-connection admission \
                     control policy) for {disconn} seconds, failing open"
                );
                self.set_fail_open(|fo| fo.last_disconn_secs = disconn);
                self.flush_flows(now, owner);
            } else if disconn > last + RELOG_SECS {
                info!(target: "fail_open", "Still in fail-open mode after {disconn} seconds disconnected from controller");
                self.set_fail_open(|fo| fo.last_disconn_secs = disconn);
            }
        }

        if self.is_fail_open_active() {
            if self.any_controller_connected() {
                let next = self.fail_open.as_ref().and_then(|fo| fo.next_bogus_packet_in);
                let expired = next.is_some_and(|t| now >= t);
                if expired {
                    self.send_bogus_packet_in(now, owner);
                }
                if expired || next.is_none() {
                    self.set_fail_open(|fo| fo.next_bogus_packet_in = Some(now + BOGUS_PACKET_IN_INTERVAL));
                }
            } else {
                self.set_fail_open(|fo| fo.next_bogus_packet_in = None);
            }
        }

        let next_check = self.fail_open_next_check(now, disconn, trigger);
        self.set_fail_open(|fo| fo.next_check = next_check);
    }

    /// When the failure duration next crosses the trigger (or, failing open, the re-log point),
    /// unlike OVS, which only looks when something else wakes it.
    fn fail_open_next_check(&self, now: Instant, disconn: u64, trigger: u64) -> Option<Instant> {
        if trigger == u64::MAX || (disconn == 0 && self.any_controller_admitted()) {
            return None;
        }
        let target = match &self.fail_open {
            Some(fo) if fo.is_active() => fo.last_disconn_secs + RELOG_SECS + 1,
            _ => trigger.max(1),
        };
        // The duration is in whole seconds from an instant the rconns do not expose: find the
        // millisecond it reaches `target` by bisection (it grows with time).
        let (mut lo, mut hi) = (0, target.saturating_sub(disconn).max(1) * 1000);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.failure_duration(now + Duration::from_millis(mid)) >= target {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(now + Duration::from_millis(lo.max(1)))
    }

    fn set_fail_open(&mut self, f: impl FnOnce(&mut FailOpen)) {
        if let Some(fo) = &mut self.fail_open {
            f(fo);
        }
    }

    /// OVS `send_bogus_packet_ins`: a RARP from a random Nicira address, as a packet-in the owner
    /// builds.
    fn send_bogus_packet_in<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        let r = self.rng.next_u64().to_be_bytes();
        let mac = [0x00, 0x23, 0x20, r[0] | 0x80, r[1], r[2]];
        if let Some(pin) = owner.fail_open_packet_in(now, rarp_frame(mac)) {
            self.route_packet_in(now, &pin);
        }
    }

    /// OVS `fail_open_maybe_recover`: a message arrived; if an admitted primary exists, stop.
    pub(crate) fn fail_open_maybe_recover<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        if self.is_fail_open_active() && self.any_controller_admitted() {
            self.fail_open_recover(now, owner);
        }
    }

    fn fail_open_recover<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        warn!(target: "fail_open", "No longer in fail-open mode");
        self.set_fail_open(|fo| {
            fo.last_disconn_secs = 0;
            fo.next_bogus_packet_in = None;
        });
        owner.delete_normal_flow(now, NormalFlow::FailOpen);
    }

    /// OVS `fail_open_flushed`: after a flush, the NORMAL flow goes back in if failing open.
    pub(crate) fn fail_open_flushed<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        if self.failure_duration(now) >= self.fail_open_trigger() {
            owner.add_normal_flow(now, NormalFlow::FailOpen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rarp_is_ovs_compose_rarp() {
        let f = rarp_frame([0x00, 0x23, 0x20, 0x81, 0x02, 0x03]);
        let hex: String = f.iter().map(|b| format!("{b:02x}")).collect();
        let want = concat!(
            "ffffffffffff",
            "002320810203",
            "8035", // broadcast from the address, RARP
            "0001",
            "0800",
            "06",
            "04",
            "0003", // Ethernet/IPv4, reverse request
            "002320810203",
            "00000000",
            "002320810203",
            "00000000",
        );
        assert_eq!(hex, want);
    }
}
