//! A connection's flow-mod activity log (OVS `ofconn_report_flow_mod`/`ofconn_log_flow_mods`): the
//! first summary 10 s after activity starts, later ones at most every 70 s.

use std::time::Duration;

use ofp_proto::Instant;

use crate::owner::FlowModKind;

const FIRST_DELAY: Duration = Duration::from_secs(10);
const BACKOFF: Duration = Duration::from_secs(60);

/// Boxed and created by the first flow mod: most connections never send one.
#[derive(Clone, Debug, Default)]
pub struct FlowModLog(Option<Box<Log>>);

#[derive(Clone, Debug, Default)]
struct Log {
    n_add: u32,
    n_delete: u32,
    n_modify: u32,
    first_op: Instant,
    last_op: Instant,
    /// When to log the counts; `None` when nothing is pending.
    next_report: Option<Instant>,
    /// The earliest time of the next report after this one.
    backoff: Option<Instant>,
}

impl FlowModLog {
    /// Counts `n` flow mods of `kind` done at `now` (a bundle commit reports its flow mods at once).
    pub fn report(&mut self, now: Instant, kind: FlowModKind, n: u32) {
        self.0.get_or_insert_default().report(now, kind, n);
    }

    pub fn next_report(&self) -> Option<Instant> {
        self.0.as_ref().and_then(|l| l.next_report)
    }

    /// The summary line to log at `now` (after the "NAME: " prefix), if there is anything to say;
    /// either way nothing is pending afterwards.
    pub fn take_summary(&mut self, now: Instant) -> Option<String> {
        self.0.as_mut().and_then(|l| l.take_summary(now))
    }
}

impl Log {
    fn report(&mut self, now: Instant, kind: FlowModKind, n: u32) {
        match kind {
            FlowModKind::Add => self.n_add += n,
            FlowModKind::Modify => self.n_modify += n,
            FlowModKind::Delete => self.n_delete += n,
        }
        if self.next_report.is_none() {
            self.first_op = now;
            let next = self.backoff.map_or(now + FIRST_DELAY, |b| b.max(now + FIRST_DELAY));
            self.next_report = Some(next);
            self.backoff = Some(next + BACKOFF);
        }
        self.last_op = now;
    }

    fn take_summary(&mut self, now: Instant) -> Option<String> {
        self.next_report = None;
        let n = self.n_add + self.n_delete + self.n_modify;
        if n == 0 {
            return None;
        }
        let ago = now.saturating_duration_since(self.first_op).as_secs();
        let interval = self.last_op.saturating_duration_since(self.first_op).as_secs();
        let mut s = format!("{n} flow_mods ");
        if interval == ago {
            s.push_str(&format!("in the last {ago} s"));
        } else if interval > 0 {
            s.push_str(&format!("in the {interval} s starting {ago} s ago"));
        } else {
            s.push_str(&format!("{ago} s ago"));
        }
        let mut parts = Vec::new();
        if self.n_add > 0 {
            parts.push(format!("{} adds", self.n_add));
        }
        if self.n_delete > 0 {
            parts.push(format!("{} deletes", self.n_delete));
        }
        if self.n_modify > 0 {
            parts.push(format!("{} modifications", self.n_modify));
        }
        s.push_str(&format!(" ({})", parts.join(", ")));
        (self.n_add, self.n_delete, self.n_modify) = (0, 0, 0);
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn wording_and_schedule_follow_ovs() {
        let mut l = FlowModLog::default();
        l.report(t(1000), FlowModKind::Add, 1);
        l.report(t(1500), FlowModKind::Add, 1);
        l.report(t(4000), FlowModKind::Delete, 1);
        assert_eq!(l.next_report(), Some(t(11_000)));
        assert_eq!(l.take_summary(t(11_000)).unwrap(), "3 flow_mods in the 3 s starting 10 s ago (2 adds, 1 deletes)");
        assert_eq!(l.next_report(), None);
        // Next activity is reported no sooner than 60 s after the last report was due.
        l.report(t(20_000), FlowModKind::Modify, 1);
        assert_eq!(l.next_report(), Some(t(71_000)));
        assert_eq!(l.take_summary(t(71_000)).unwrap(), "1 flow_mods 51 s ago (1 modifications)");
        // Long after the backoff, 10 s again; "in the last" when the activity spans the whole time.
        l.report(t(200_000), FlowModKind::Add, 1);
        l.report(t(210_000), FlowModKind::Delete, 1);
        assert_eq!(l.next_report(), Some(t(210_000)));
        assert_eq!(l.take_summary(t(210_000)).unwrap(), "2 flow_mods in the last 10 s (1 adds, 1 deletes)");
        assert_eq!(l.take_summary(t(300_000)), None);
    }
}
