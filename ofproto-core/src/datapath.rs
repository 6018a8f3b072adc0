//! The datapath the flow tables program (OVS `ofproto_class`'s rule life cycle, seed 002): every
//! change is an operation with an id that completes later, successfully or with an OpenFlow error,
//! and a test datapath whose completions can be held back (OVS's `ofproto/clog`, `ofproto/unclog`)
//! or delayed in virtual time (slow hardware).

use std::collections::VecDeque;

use ofp_proto::{Instant, OfpErr};

use crate::rule::Rule;

/// One datapath operation, from submission until its completion is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub u64);

/// A datapath operation's outcome. Removals cannot fail (a reported failure is logged and ignored).
pub type OpResult = Result<(), OfpErr>;

/// Hardware or software that holds the flow tables' rules.
///
/// The tables change optimistically before asking: when `install` is called the rule is already in
/// its table, when `modify` is called it already has its new state, when `remove` is called it is
/// already out of its table. Each call starts operation `op`, which the datapath completes later
/// with `OfProto::complete`, or right away by handing the result out of [`Datapath::poll_completion`]
/// (the tables drain it after every batch of calls). A failed install or modify is rolled back.
pub trait Datapath {
    /// Adds `rule`, new to the datapath.
    fn install(&mut self, op: OpId, rule: &Rule);
    /// Changes `rule`'s actions (or what else changed: a replacing add has new timeouts and cookie).
    fn modify(&mut self, op: OpId, rule: &Rule);
    /// Takes `rule` out.
    fn remove(&mut self, op: OpId, rule: &Rule);
    /// A completion the datapath already has. Called until `None` after each batch of operations.
    fn poll_completion(&mut self) -> Option<(OpId, OpResult)> {
        None
    }

    /// The current time, given before the tables work at `now` (a datapath whose operations take
    /// time stamps them with it and makes the due completions ready).
    fn handle_timeout(&mut self, _now: Instant) {}

    /// When a completion held for later becomes ready (then call `handle_timeout` and
    /// `OfProto::run`).
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// What the test datapath was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpCall {
    Install,
    Modify,
    Remove,
}

/// A datapath that completes everything successfully, at once unless clogged (OVS `clogged` in
/// ofproto-dpif) or delayed. Tests can make chosen operations fail and see every call made. It is
/// also the switch's built-in datapath ([`TestDatapath::builtin`]): the software packet path reads
/// the tables directly, so programming it only has to answer, at once or after a delay.
#[derive(Clone, Debug, Default)]
pub struct TestDatapath {
    clogged: bool,
    /// Completions held while clogged, in submission order.
    held: VecDeque<(OpId, OpResult)>,
    ready: VecDeque<(OpId, OpResult)>,
    /// Every call: (operation, kind, table, priority); not kept by the built-in datapath.
    pub calls: Vec<(OpId, DpCall, u8, u32)>,
    quiet: bool,
    /// Installs and modifies of rules with this priority fail with this error.
    fail: Vec<(u32, OfpErr)>,
    /// How long each operation takes, in milliseconds of virtual time.
    delay_ms: u64,
    now: Instant,
    /// Completions not due yet, in submission (and so deadline) order.
    delayed: VecDeque<(Instant, OpId, OpResult)>,
}

impl TestDatapath {
    pub fn new() -> TestDatapath {
        TestDatapath::default()
    }

    /// The switch's built-in datapath: every operation succeeds `delay_ms` milliseconds after it
    /// was submitted (at once for 0), and calls are not recorded.
    pub fn builtin(delay_ms: u64) -> TestDatapath {
        TestDatapath { quiet: true, delay_ms, ..TestDatapath::default() }
    }

    pub fn delay_ms(&self) -> u64 {
        self.delay_ms
    }

    /// Holds completions until `unclog` (or `release`).
    pub fn clog(&mut self) {
        self.clogged = true;
    }

    /// Stops holding completions and makes the held ones ready, in order (the tables pick them up
    /// on their next call, e.g. `OfProto::run`).
    pub fn unclog(&mut self) {
        self.clogged = false;
        self.ready.extend(self.held.drain(..));
    }

    pub fn is_clogged(&self) -> bool {
        self.clogged
    }

    /// Makes the first `n` held completions ready, staying clogged.
    pub fn release(&mut self, n: usize) {
        for _ in 0..n.min(self.held.len()) {
            let c = self.held.pop_front().expect("counted");
            self.ready.push_back(c);
        }
    }

    /// Operations submitted and not yet completed (held while clogged).
    pub fn held(&self) -> impl Iterator<Item = OpId> + '_ {
        self.held.iter().map(|(op, _)| *op)
    }

    /// Takes the held completions out, for a test to report with `OfProto::complete` itself (in any
    /// order, or with other results).
    pub fn take_held(&mut self) -> Vec<(OpId, OpResult)> {
        self.held.drain(..).collect()
    }

    /// From now on, installs and modifies of rules with `priority` fail with `error`.
    pub fn fail_priority(&mut self, priority: u32, error: OfpErr) {
        self.fail.retain(|(p, _)| *p != priority);
        self.fail.push((priority, error));
    }

    fn submit(&mut self, op: OpId, call: DpCall, rule: &Rule) {
        if !self.quiet {
            self.calls.push((op, call, rule.table_id(), rule.priority()));
        }
        let result = match self.fail.iter().find(|(p, _)| *p == rule.priority()) {
            Some((_, e)) if call != DpCall::Remove => Err(*e),
            _ => Ok(()),
        };
        if self.delay_ms > 0 {
            self.delayed.push_back((Instant::from_millis(self.now.as_millis() + self.delay_ms), op, result));
        } else {
            self.complete_later(op, result);
        }
    }

    fn complete_later(&mut self, op: OpId, result: OpResult) {
        if self.clogged {
            self.held.push_back((op, result));
        } else {
            self.ready.push_back((op, result));
        }
    }
}

impl Datapath for TestDatapath {
    fn install(&mut self, op: OpId, rule: &Rule) {
        self.submit(op, DpCall::Install, rule);
    }

    fn modify(&mut self, op: OpId, rule: &Rule) {
        self.submit(op, DpCall::Modify, rule);
    }

    fn remove(&mut self, op: OpId, rule: &Rule) {
        self.submit(op, DpCall::Remove, rule);
    }

    fn poll_completion(&mut self) -> Option<(OpId, OpResult)> {
        self.ready.pop_front()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        while let Some(&(due, op, result)) = self.delayed.front() {
            if due > self.now {
                break;
            }
            self.delayed.pop_front();
            self.complete_later(op, result);
        }
    }

    /// Completions made ready by `unclog` or `release` are due at once.
    fn poll_timeout(&self) -> Option<Instant> {
        if !self.ready.is_empty() {
            return Some(Instant::ZERO);
        }
        self.delayed.front().map(|(due, _, _)| *due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, OfProto};
    use ofp_proto::msg::flow_mod::FlowMod;

    #[test]
    fn builtin_datapath_completes_after_its_delay_and_records_nothing() {
        let mut dp = TestDatapath::builtin(30);
        dp.handle_timeout(Instant::from_millis(1_000));
        let mut tables = OfProto::new(Config::default(), dp);
        let fm = FlowMod { new_cookie: 0, ..FlowMod::default() };
        assert_eq!(tables.flow_mod(Instant::from_millis(1_000), &fm, None), Ok(crate::Progress::Pending));
        assert_eq!(tables.datapath().poll_timeout(), Some(Instant::from_millis(1_030)));
        tables.datapath_mut().handle_timeout(Instant::from_millis(1_029));
        tables.run(Instant::from_millis(1_029));
        assert_eq!(tables.n_pending_groups(), 1);
        tables.datapath_mut().handle_timeout(Instant::from_millis(1_030));
        tables.run(Instant::from_millis(1_030));
        assert_eq!(tables.n_pending_groups(), 0);
        assert_eq!(tables.datapath().poll_timeout(), None);
        assert!(tables.datapath().calls.is_empty());
    }
}
