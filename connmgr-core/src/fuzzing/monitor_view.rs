//! A controller's picture of the flow tables, built only from the flow monitor messages it receives
//! (initial, full and abbreviated updates, PAUSED and RESUMED in every version), with checks of
//! what the switch promises about their order. Tests, the fuzz driver and simulations feed it every
//! message a connection receives and compare its rules with the owner's.

use hashbrown::HashMap;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::monitor::{FlowUpdate, FlowUpdateEvent, FlowUpdateFull};
use ofp_proto::ofmatch::Match;
use ofp_proto::{Message, OfpMsg};

use crate::monitor::{RuleEvent, RuleEventKind, RuleSnapshot};

/// A rule's identity in a flow table: table, priority, match.
pub type RuleKey = (u8, u16, Match);

/// What the controller knows of a rule (instructions only if its monitors asked for them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewRule {
    pub cookie: u64,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub instructions: Instructions,
}

impl ViewRule {
    /// `r` as a monitor with (`instructions`) or without actions sees it.
    pub fn of(r: &RuleSnapshot, instructions: bool) -> ViewRule {
        ViewRule {
            cookie: r.cookie,
            idle_timeout: r.idle_timeout,
            hard_timeout: r.hard_timeout,
            instructions: if instructions { (*r.instructions).clone() } else { Instructions::default() },
        }
    }
}

/// Where the connection's monitoring stands, as its messages tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    /// After PAUSED: only removals (and replies to requests) until the refresh.
    Paused,
    /// The refresh started: only more of it, then RESUMED.
    Refreshing,
}

/// One connection's view. Rules are keyed by [`RuleKey`].
#[derive(Debug)]
pub struct MonitorView {
    rules: HashMap<RuleKey, ViewRule>,
    /// What the controller's own requests did, by xid, for resolving ABBREV updates.
    own: HashMap<u32, Vec<RuleEvent>>,
    instructions: bool,
    unique_cookies: bool,
    phase: Phase,
    /// Everything found wrong, in order.
    pub violations: Vec<String>,
    pub n_paused: usize,
    pub n_resumed: usize,
    pub n_removed: usize,
    pub n_abbrev: usize,
}

impl MonitorView {
    /// A view for monitors that ask for actions (`instructions`) or not.
    pub fn new(instructions: bool) -> MonitorView {
        MonitorView {
            rules: HashMap::new(),
            own: HashMap::new(),
            instructions,
            unique_cookies: false,
            phase: Phase::Running,
            violations: Vec::new(),
            n_paused: 0,
            n_resumed: 0,
            n_removed: 0,
            n_abbrev: 0,
        }
    }

    /// Promises that every rule instance has a cookie of its own that modifies never change, and
    /// that adds never replace a rule: then a full update for a key held with another cookie, or
    /// a removal of a rule the view does not hold, means a removal was lost (or invented), and is a
    /// violation.
    pub fn with_unique_cookies(mut self) -> MonitorView {
        self.unique_cookies = true;
        self
    }

    /// Notes what the controller's own request `xid` did (the controller knows), so an ABBREV
    /// update with that xid stands for it.
    pub fn own_change(&mut self, xid: u32, event: &RuleEvent) {
        self.own.entry(xid).or_default().push(event.clone());
    }

    pub fn rules(&self) -> &HashMap<RuleKey, ViewRule> {
        &self.rules
    }

    /// True between PAUSED and RESUMED.
    pub fn is_paused(&self) -> bool {
        self.phase != Phase::Running
    }

    /// Takes one message the switch sent on the connection (any message; others are ignored).
    pub fn receive(&mut self, bytes: &[u8]) {
        let Ok(msg) = OfpMsg::decode(&bytes::Bytes::copy_from_slice(bytes)) else { return };
        match msg.body {
            Message::FlowMonitorPaused => self.paused(),
            Message::FlowMonitorResumed => self.resumed(),
            Message::FlowMonitorStatsReply(r) => self.reply(msg.xid, r.updates),
            _ if self.phase == Phase::Refreshing => self.violation(format!("{} inside a refresh", msg.raw.name())),
            _ => {}
        }
    }

    fn violation(&mut self, what: String) {
        self.violations.push(what);
    }

    fn paused(&mut self) {
        if self.phase != Phase::Running {
            self.violation("PAUSED while paused".into());
        }
        self.phase = Phase::Paused;
        self.n_paused += 1;
    }

    fn resumed(&mut self) {
        if self.phase == Phase::Running {
            self.violation("RESUMED while running".into());
        }
        self.phase = Phase::Running;
        self.n_resumed += 1;
    }

    fn reply(&mut self, xid: u32, updates: Vec<FlowUpdate>) {
        // Updates go out with xid 0; a reply with another xid answers a monitor request. (So a
        // test must not use xid 0 for its monitor requests.)
        let unsolicited = xid == 0;
        let changes = updates.iter().any(|u| matches!(u, FlowUpdate::Full(f) if f.event != FlowUpdateEvent::Removed));
        let removals = updates.iter().any(|u| matches!(u, FlowUpdate::Full(f) if f.event == FlowUpdateEvent::Removed));
        if unsolicited {
            match self.phase {
                Phase::Paused if changes && removals => self.violation("refresh mixed with removals".into()),
                Phase::Paused if changes => self.phase = Phase::Refreshing,
                Phase::Refreshing if removals => self.violation("removal inside a refresh".into()),
                _ => {}
            }
        } else if self.phase == Phase::Refreshing {
            self.violation(format!("reply to xid {xid:#x} inside a refresh"));
        }
        for u in updates {
            match u {
                FlowUpdate::Full(f) => self.full(*f),
                FlowUpdate::Abbrev { xid } => self.abbrev(xid),
                FlowUpdate::Paused => self.paused(),
                FlowUpdate::Resumed => self.resumed(),
            }
        }
    }

    fn full(&mut self, f: FlowUpdateFull) {
        let key = (f.table_id, f.priority, f.match_);
        let rule = ViewRule {
            cookie: f.cookie,
            idle_timeout: f.idle_timeout,
            hard_timeout: f.hard_timeout,
            instructions: f.instructions,
        };
        match f.event {
            FlowUpdateEvent::Removed => {
                self.n_removed += 1;
                let held = self.rules.remove(&key);
                if self.unique_cookies && held.as_ref().map(|r| r.cookie) != Some(rule.cookie) {
                    self.violation(format!("removal of cookie {:#x} at {key:?}, holding {held:?}", rule.cookie));
                }
            }
            _ => {
                if let Some(old) = self.rules.insert(key, rule) {
                    if self.unique_cookies && old.cookie != f.cookie {
                        self.violation(format!("cookie {:#x} at {key:?} replaced without a removal", old.cookie));
                    }
                }
            }
        }
    }

    fn abbrev(&mut self, xid: u32) {
        self.n_abbrev += 1;
        if self.phase != Phase::Running {
            self.violation(format!("ABBREV {xid:#x} while paused"));
        }
        let Some(events) = self.own.remove(&xid) else {
            self.violation(format!("ABBREV for unknown xid {xid:#x}"));
            return;
        };
        for e in events {
            let r = &e.rule;
            let key = (r.table_id, r.priority, r.match_);
            match e.kind {
                RuleEventKind::Removed { .. } => {
                    self.rules.remove(&key);
                }
                _ => {
                    self.rules.insert(key, ViewRule::of(r, self.instructions));
                }
            }
        }
    }
}

/// The rules of `table` a catch-all monitor (with or without actions) would show, keyed like a
/// view's, for comparing with [`MonitorView::rules`].
pub fn expected_view(rules: &[RuleSnapshot], instructions: bool) -> HashMap<RuleKey, ViewRule> {
    rules.iter().map(|r| ((r.table_id, r.priority, r.match_), ViewRule::of(r, instructions))).collect()
}
