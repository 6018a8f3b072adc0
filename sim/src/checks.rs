//! The world's checks that look at several parts at once: `expect` lines, liveness after a heal,
//! and the end-of-run accounts (flow-monitor views against the switch's flows, packet-ins received
//! against the switch's counters).

use std::time::Duration;

use ofp_proto::Instant;

use crate::agent::{RuleKey, SwitchAgent};
use crate::world::{format_secs, role_name, World};

impl<A: SwitchAgent> World<A> {
    /// How long after a heal every controller may take to be connected again: a whole backoff,
    /// a second (the gap between SYN retransmissions a connection attempt may miss), a probe
    /// interval (to notice a connection the network dropped silently), and two round trips.
    pub(crate) fn liveness_allowance(&self) -> Duration {
        let mut worst = Duration::ZERO;
        for sw in &self.switches {
            for s in sw.controllers.values() {
                let d = Duration::from_secs(u64::from(s.max_backoff) + u64::from(s.effective_probe_interval()) + 1);
                worst = worst.max(d);
            }
        }
        worst + self.net.max_round_trip() * 2
    }

    pub(crate) fn check_liveness(&mut self, healed: Instant) {
        let mut failures = Vec::new();
        for sw in &self.switches {
            for target in sw.controllers.keys() {
                let Some(&c) = self.ctl_targets.get(target) else { continue };
                let state =
                    sw.agent.status(self.now).controllers.get(target).map(|c| c.state.clone()).unwrap_or_default();
                let stream = sw.current.get(target.as_str()).and_then(|conn| sw.conns.get(conn)).map(|(id, _)| *id);
                let ctl_up =
                    stream.and_then(|id| self.controllers[c].sessions.get(&id)).is_some_and(|s| s.version.is_some());
                if !(matches!(state.as_str(), "ACTIVE" | "IDLE") && ctl_up) {
                    failures.push(format!(
                        "liveness: {} is {state} to {} (controller side {}) {} after the heal at {healed}",
                        sw.name,
                        self.controllers[c].name,
                        if ctl_up { "up" } else { "not up" },
                        format_secs(self.now.saturating_duration_since(healed))
                    ));
                }
            }
        }
        if failures.is_empty() {
            self.note(|_| format!("liveness: every controller connected again since the heal at {healed}"));
        }
        for f in failures {
            self.violation(f);
        }
    }

    pub(crate) fn expect(&mut self, switch: &str, controller: Option<&str>, checks: &[(String, String)]) {
        let s = self.sw_names[switch];
        let status = self.switches[s].agent.status(self.now);
        let mut failed = Vec::new();
        for (key, want) in checks {
            let got = match (key.as_str(), controller) {
                ("flows", _) => status.flows.to_string(),
                ("sessions", Some(c)) => {
                    let c = self.ctl_names[c];
                    let n =
                        self.controllers[c].sessions.values().filter(|x| x.switch == s && x.version.is_some()).count();
                    n.to_string()
                }
                (k, Some(c)) => {
                    let target = self.controllers[self.ctl_names[c]].target();
                    let cs = status.controllers.get(&target);
                    match k {
                        "state" => cs.map_or("none".into(), |x| x.state.clone()),
                        "role" => cs.and_then(|x| x.role).map_or("none".into(), role_name),
                        _ => cs.map_or("no".into(), |x| {
                            if x.state == "ACTIVE" || x.state == "IDLE" { "yes" } else { "no" }.into()
                        }),
                    }
                }
                (k, None) => format!("({k} needs a controller)"),
            };
            if &got != want {
                failed.push(format!("{key}={want} (is {got})"));
            }
        }
        let what = format!("{switch}{}", controller.map(|c| format!(" {c}")).unwrap_or_default());
        if failed.is_empty() {
            self.note(|_| format!("expect {what}: ok"));
        } else {
            self.violation(format!("expect {what}: {}", failed.join(", ")));
        }
    }

    /// At the end: what each quiet monitoring connection was told must be the switch's flows (a
    /// flow it still shows lost its REMOVED; a flow it lacks lost its ADDED or refresh).
    pub(crate) fn check_monitors(&mut self) {
        let mut found = Vec::new();
        for c in &self.controllers {
            for (id, sess) in &c.sessions {
                let Some(view) = sess.monitor_view.as_ref().filter(|_| !sess.paused && sess.version.is_some()) else {
                    continue;
                };
                let Some(st) = self.net.streams.get(id) else { continue };
                let quiet = st.switch_open
                    && st.ctl_open
                    && st.pipes.iter().all(|p| p.is_idle() && !p.has_unread())
                    && sess.vconn.state() == rconn_core::VconnState::Connected;
                if !quiet {
                    continue;
                }
                let rules = self.switches[sess.switch].agent.rules();
                let stale: Vec<&RuleKey> = view.difference(&rules).collect();
                let missing: Vec<&RuleKey> = rules.difference(view).collect();
                for (what, list) in [
                    ("shows flows the switch no longer has (a lost REMOVED)", stale),
                    ("lacks flows the switch has", missing),
                ] {
                    if let Some(first) = list.first() {
                        found.push(format!(
                            "{}'s monitors on {} {what}: {} of them, first table {} {}",
                            c.name,
                            sess.label,
                            list.len(),
                            first.0,
                            first.2
                        ));
                    }
                }
                self.inv.n_checked += 1;
            }
        }
        for v in found {
            self.violation(v);
        }
    }

    /// At the end: on each quiet rate-limited connection, every packet-in the switch routed to it
    /// was received once, is still queued, or was counted dropped (by the rate limiter or for a
    /// full transmit queue).
    pub(crate) fn check_packet_ins(&mut self) {
        let mut found = Vec::new();
        for sw in &self.switches {
            let status = sw.agent.status(self.now);
            for (target, cs) in &status.controllers {
                let (Some(p), Some(&conn)) = (cs.pins, sw.current.get(target.as_str())) else { continue };
                let Some(&(id, _)) = sw.conns.get(&conn) else { continue };
                let Some(c) = self.ctl_targets.get(target).copied() else { continue };
                let (Some(st), Some(sess)) = (self.net.streams.get(&id), self.controllers[c].sessions.get(&id)) else {
                    continue;
                };
                if !(st.switch_open && st.ctl_open && st.pipes.iter().all(|p| p.is_idle() && !p.has_unread())) {
                    continue;
                }
                let overflow = sw.agent.packet_in_overflow(conn);
                let accounted = (p.bypassed + p.queued).checked_sub(p.dropped + p.backlog + overflow);
                if accounted != Some(sess.n_packet_ins) {
                    found.push(format!(
                        "{}: {} packet-ins received, but the switch counts {} bypassed + {} queued - {} dropped - {} waiting - {} overflowed",
                        sess.label, sess.n_packet_ins, p.bypassed, p.queued, p.dropped, p.backlog, overflow
                    ));
                }
                self.inv.n_checked += 1;
            }
        }
        for v in found {
            self.violation(v);
        }
    }
}
