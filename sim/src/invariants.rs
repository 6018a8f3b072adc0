//! Invariants checked while a run goes on, from what crosses the switch's API: reconnection
//! backoff within [1 s, max_backoff], never two connection attempts in flight for one controller,
//! no more replies queued than the switch's read backpressure allows. (Stream order and integrity
//! are checked by the network, packet-in duplicates and bundles by the controllers, liveness after
//! a heal and `expect` lines by the world.)

use std::collections::BTreeMap;
use std::sync::Arc;

use connmgr_core::ConnId;
use ofp_proto::header::Header;
use ofp_proto::{raw, Instant, MsgType};

/// OVS `OFCONN_REPLY_MAX`: a connection is not read while this many replies wait unsent.
pub const REPLY_MAX: u32 = 100;
/// Messages read from one connection per step (OVS's `N_MSGS`).
pub const MAX_RECV_PER_STEP: u32 = 50;

/// What the checks remember.
#[derive(Debug, Default)]
pub struct Invariants {
    pub violations: Vec<(Instant, String)>,
    /// Per (switch, target): when its last transport closed (the start of BACKOFF).
    backoff_since: BTreeMap<(usize, Arc<str>), Instant>,
    /// Per (switch, target): the transport being opened or open.
    in_flight: BTreeMap<(usize, Arc<str>), ConnId>,
    /// Per (switch, transport): replies taken from the switch since its last step.
    replies: BTreeMap<(usize, ConnId), u32>,
    pub n_checked: u64,
}

impl Invariants {
    pub fn violation(&mut self, now: Instant, text: String) {
        self.violations.push((now, text));
    }

    /// The switch asked to open `conn` to `target` (`max_backoff` in seconds).
    pub fn on_connect(&mut self, now: Instant, switch: usize, conn: ConnId, target: &Arc<str>, max_backoff: u32) {
        self.n_checked += 1;
        let key = (switch, target.clone());
        if let Some(prev) = self.in_flight.insert(key.clone(), conn) {
            self.violation(now, format!("switch {switch}: {conn} opened to {target} while {prev} still is"));
        }
        if let Some(since) = self.backoff_since.remove(&key) {
            let waited = now.millis_since(since);
            let max = i64::from(max_backoff.max(1)) * 1000;
            if !(1000..=max).contains(&waited) {
                self.violation(
                    now,
                    format!(
                        "switch {switch}: reconnected to {target} after {waited} ms of backoff, outside [1000, {max}]"
                    ),
                );
            }
        }
    }

    /// The switch closed `conn`; if it was the controller's transport, BACKOFF starts.
    pub fn on_close(&mut self, now: Instant, switch: usize, conn: ConnId, target: Option<&Arc<str>>) {
        self.replies.remove(&(switch, conn));
        let Some(target) = target else { return };
        let key = (switch, target.clone());
        if self.in_flight.get(&key) == Some(&conn) {
            self.in_flight.remove(&key);
            self.backoff_since.insert(key, now);
        }
    }

    /// The switch handed out `msg` on `conn`.
    pub fn on_transmit(&mut self, switch: usize, conn: ConnId, msg: &[u8]) {
        if counts_as_reply(msg) {
            *self.replies.entry((switch, conn)).or_default() += 1;
        }
    }

    /// The switch is about to run a step: what was taken from it since the last one was queued
    /// at its end, which the read backpressure bounds.
    pub fn on_step(&mut self, now: Instant, switch: usize) {
        let limit = REPLY_MAX + MAX_RECV_PER_STEP;
        let over: Vec<((usize, ConnId), u32)> =
            self.replies.iter().filter(|((s, _), n)| *s == switch && **n > limit).map(|(k, n)| (*k, *n)).collect();
        for ((_, conn), n) in over {
            self.violation(
                now,
                format!("switch {switch}: {n} replies were queued on {conn} (backpressure allows {limit})"),
            );
        }
        self.replies.retain(|(s, _), _| *s != switch);
    }
}

/// Replies and errors count against a connection's backpressure; asynchronous messages (but flow
/// removed, which OVS counts as a reply) and our own echo requests do not.
fn counts_as_reply(msg: &[u8]) -> bool {
    let Some(h) = Header::parse(msg) else { return false };
    let Ok(r) = raw::identify(msg) else { return true };
    match r.msg_type() {
        MsgType::Hello
        | MsgType::PacketIn
        | MsgType::PortStatus
        | MsgType::RoleStatus
        | MsgType::TableStatus
        | MsgType::Requestforward
        | MsgType::FlowMonitorPaused
        | MsgType::FlowMonitorResumed => false,
        MsgType::EchoRequest | MsgType::FlowMonitorStatsReply => h.xid != 0,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_outside_its_bounds_is_caught() {
        let mut inv = Invariants::default();
        let t: Arc<str> = "tcp:10.0.0.1:6653".into();
        let ms = Instant::from_millis;
        inv.on_connect(ms(0), 0, ConnId(1), &t, 8);
        inv.on_close(ms(100), 0, ConnId(1), Some(&t));
        inv.on_connect(ms(1100), 0, ConnId(2), &t, 8);
        assert!(inv.violations.is_empty());
        inv.on_close(ms(2000), 0, ConnId(2), Some(&t));
        inv.on_connect(ms(2500), 0, ConnId(3), &t, 8);
        inv.on_connect(ms(2600), 0, ConnId(4), &t, 8);
        let texts: Vec<&str> = inv.violations.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            texts,
            [
                "switch 0: reconnected to tcp:10.0.0.1:6653 after 500 ms of backoff, outside [1000, 8000]",
                "switch 0: #4 opened to tcp:10.0.0.1:6653 while #3 still is",
            ]
        );
    }

    #[test]
    fn replies_beyond_backpressure_are_caught() {
        let mut inv = Invariants::default();
        let echo_reply = [4, 3, 0, 8, 0, 0, 0, 9];
        let packet_in_like_probe = [4, 2, 0, 8, 0, 0, 0, 0];
        for _ in 0..150 {
            inv.on_transmit(0, ConnId(1), &echo_reply);
            inv.on_transmit(0, ConnId(1), &packet_in_like_probe);
        }
        inv.on_step(Instant::ZERO, 0);
        assert!(inv.violations.is_empty());
        for _ in 0..151 {
            inv.on_transmit(0, ConnId(1), &echo_reply);
        }
        inv.on_step(Instant::ZERO, 0);
        assert_eq!(inv.violations.len(), 1);
    }
}
