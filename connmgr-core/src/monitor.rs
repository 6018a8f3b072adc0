//! Flow monitors (OVS `ofmonitor_*` in `connmgr.c` and the monitor requests of `ofproto.c`): each
//! connection's monitors, added, modified and cancelled by its requests and answered with an initial
//! reply; rule changes the owner reports, stamped from one sequence counter and turned into full or
//! abbreviated updates per connection; and pausing a connection whose unsent updates pass 128 KiB,
//! resuming it with refresh updates once every one of them is sent.
//!
//! # The sequence counter
//!
//! `ConnMgr` owns OVS's `monitor_seqno`: it starts at 1 (0 means "never"), every reported add or
//! modify takes the next value, and so does every pause. The owner stores what
//! [`ConnMgr::flow_monitor_event`] (or [`Replies::flow_monitor_event`](crate::Replies)) returns on
//! the rule — as `add_seqno` and `modify_seqno` for an add, as `modify_seqno` for a modify — and
//! hands them back in [`RuleSnapshot`]s. Comparing them with the seqno taken at a pause tells
//! which rules changed while the connection was paused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use hashbrown::hash_map::Entry;
use hashbrown::HashMap;
use log::warn;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::OFPG_ANY;
use ofp_proto::msg::monitor::{
    paused_message, resumed_message, FlowMonitor, FlowMonitorReply, FlowUpdate, FlowUpdateEvent, FlowUpdateFull,
    MonitorCommand, MonitorFlags,
};
use ofp_proto::ofmatch::Match;
use ofp_proto::{port_no, Instant, Message, OfpErr};
use rconn_core::PacketCount;

use crate::connmgr::ConnMgr;
use crate::ofconn::{OfConn, MONITOR_UPDATES};
use crate::owner::{ConnId, Owner, Part};

/// Unsent monitor bytes on a connection above which its monitoring pauses (OVS `ofmonitor_flush`).
pub const MONITOR_PAUSE_BYTES: u64 = 128 * 1024;

/// A rule as flow monitors report it: the fields of OVS `ofputil_flow_update` plus the rule's
/// seqnos. Hidden rules (priority above 65535) never appear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSnapshot {
    pub table_id: u8,
    pub priority: u16,
    pub match_: Match,
    pub cookie: u64,
    pub idle_timeout: u16,
    pub hard_timeout: u16,
    pub instructions: Arc<Instructions>,
    /// The seqno stamped on the rule's add (0 if never reported).
    pub add_seqno: u64,
    /// The seqno stamped on the rule's latest add or modify.
    pub modify_seqno: u64,
}

/// What happened to a rule (OVS `enum ofp_flow_update_event`, the events a rule change can be).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleEventKind {
    /// A new rule, or one an add replaced.
    Added,
    /// A modify changed its actions or cookie (OVS reports nothing for a modify that changed
    /// neither).
    Modified,
    /// With the `OFPRR_*` reason.
    Removed { reason: u8 },
}

/// A change to a visible rule that took effect, for flow monitors (OVS `ofmonitor_report`).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleEvent {
    pub kind: RuleEventKind,
    /// The rule after the change (as it was, for a removal, seqnos included).
    pub rule: RuleSnapshot,
    /// The instructions before a modify (or replacing add) that changed them, so a monitor on an
    /// out_port hears about a rule that stopped outputting there.
    pub old_instructions: Option<Arc<Instructions>>,
    /// The connection whose request made the change (none for expiry, flushes, fail-open) and
    /// that request's xid: that connection gets one ABBREV update per batch with this xid instead
    /// of full updates, unless its matching monitors asked for their own changes.
    pub conn: Option<ConnId>,
    pub xid: u32,
}

/// What [`Owner::flow_monitor_rules`] is asked for: one monitor's table and match, and the seqno
/// the rules must have changed after (0: every rule, for an initial reply).
#[derive(Clone, Copy, Debug)]
pub struct RuleQuery<'a> {
    /// 0xff: every table.
    pub table_id: u8,
    pub match_: &'a Match,
    pub since: u64,
}

/// One connection's flow monitoring, for status pages, tests and invariant checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowMonitorStatus {
    /// Its monitors' ids, in order.
    pub monitors: Vec<u32>,
    /// The seqno taken when monitoring paused, while paused.
    pub paused: Option<u64>,
    /// Monitor messages (updates and PAUSED) queued and not yet handed to the transport.
    pub unsent_msgs: u32,
    pub unsent_bytes: u64,
    /// Updates of the current batch, not yet flushed into messages.
    pub pending_updates: usize,
}

/// Takes the next seqno for an add or modify (OVS `ofmonitor_report`), writing it into the event's
/// snapshot; removals take none (0).
pub(crate) fn stamp(next: &mut u64, event: &mut RuleEvent) -> u64 {
    let r = &mut event.rule;
    match event.kind {
        RuleEventKind::Added => r.add_seqno = *next,
        RuleEventKind::Modified => {}
        RuleEventKind::Removed { .. } => return 0,
    }
    r.modify_seqno = *next;
    *next += 1;
    r.modify_seqno
}

/// One connection's monitors and monitor output (the monitor fields of OVS `struct ofconn`).
#[derive(Debug, Default)]
pub(crate) struct ConnMonitors {
    monitors: BTreeMap<u32, FlowMonitor>,
    /// The current batch's updates (OVS `ofconn->updates`).
    updates: Vec<FlowUpdate>,
    /// The current batch already has the connection's ABBREV.
    sent_abbrev: bool,
    /// The seqno taken at the pause, while paused (OVS `monitor_paused`, 0 there when running).
    paused: Option<u64>,
}

impl ConnMonitors {
    /// OVS `ofmonitor_create`.
    fn create(&mut self, m: &FlowMonitor) -> Result<(), OfpErr> {
        if self.monitors.contains_key(&m.id) {
            return Err(OfpErr::OFPMOFC_MONITOR_EXISTS);
        }
        self.monitors.insert(m.id, m.clone());
        Ok(())
    }

    fn delete(&mut self, id: u32) -> Result<(), OfpErr> {
        self.monitors.remove(&id).map(|_| ()).ok_or(OfpErr::OFPMOFC_UNKNOWN_MONITOR)
    }

    /// OVS `ofmonitor_may_resume`: paused, and every monitor message went out (`unsent` counts
    /// what is still queued).
    pub fn may_resume(&self, unsent: PacketCount) -> bool {
        self.paused.is_some() && unsent.n_packets == 0
    }

    pub fn has_pending(&self) -> bool {
        !self.updates.is_empty()
    }

    pub fn status(&self, unsent: PacketCount) -> FlowMonitorStatus {
        FlowMonitorStatus {
            monitors: self.monitors.keys().copied().collect(),
            paused: self.paused,
            unsent_msgs: unsent.n_packets,
            unsent_bytes: u64::from(unsent.n_bytes),
            pending_updates: self.updates.len(),
        }
    }

    /// OR of the flags of the monitors `event` concerns (the loop in OVS `ofmonitor_report`).
    fn flags_for(&self, event: &RuleEvent, update: u16) -> u16 {
        let r = &event.rule;
        self.monitors
            .values()
            .filter(|m| m.flags.has(update) && in_table(m, r.table_id) && is_loose_match(&r.match_, &m.match_))
            .filter(|m| {
                let port = out_port(m);
                has_out_port(&r.instructions, port)
                    || event.old_instructions.as_ref().is_some_and(|old| port.is_some_and(|p| old.outputs_to_port(p)))
            })
            .filter(|m| has_out_group(&r.instructions, m.out_group))
            .fold(0, |flags, m| flags | m.flags.0)
    }

    /// Queues what `event` means for this connection (OVS `ofmonitor_report`, one connection).
    /// Returns true if something was queued.
    fn report(&mut self, id: ConnId, event: &RuleEvent) -> bool {
        let (update, removed) = match event.kind {
            RuleEventKind::Added => (MonitorFlags::ADD, false),
            RuleEventKind::Modified => (MonitorFlags::MODIFY, false),
            RuleEventKind::Removed { .. } => (MonitorFlags::REMOVED, true),
        };
        // While paused only removals of rules added before the pause go out: the refresh at the
        // resume covers everything else.
        if self.paused.is_some_and(|p| !removed || event.rule.add_seqno > p) {
            return false;
        }
        let flags = self.flags_for(event, update);
        if flags == 0 {
            return false;
        }
        if self.updates.is_empty() {
            self.sent_abbrev = false;
        }
        if flags & MonitorFlags::ONLY_OWN != 0 || event.conn != Some(id) || self.paused.is_some() {
            let (ev, reason) = match event.kind {
                RuleEventKind::Added => (FlowUpdateEvent::Added, 0),
                RuleEventKind::Modified => (FlowUpdateEvent::Modified, 0),
                RuleEventKind::Removed { reason } => (FlowUpdateEvent::Removed, reason.into()),
            };
            self.updates.push(full_update(ev, reason, &event.rule, flags & MonitorFlags::INSTRUCTIONS != 0));
        } else if !self.sent_abbrev {
            self.updates.push(FlowUpdate::Abbrev { xid: event.xid });
            self.sent_abbrev = true;
        }
        true
    }
}

/// True if the monitor watches `table`.
fn in_table(m: &FlowMonitor, table: u8) -> bool {
    m.table_id == 0xff || m.table_id == table
}

/// OVS `cls_rule_is_loose_match`: `rule` matches every bit `criteria` matches, with its values.
pub(crate) fn is_loose_match(rule: &Match, criteria: &Match) -> bool {
    rule.mask.and(&criteria.mask) == criteria.mask && rule.flow.and(&criteria.mask) == criteria.flow.and(&criteria.mask)
}

/// The monitor's out_port (`None`: a port number in the range no action can name).
fn out_port(m: &FlowMonitor) -> Option<u32> {
    port_no::from_ofp11(m.out_port).ok()
}

/// OVS `ofproto_rule_has_out_port`.
fn has_out_port(ins: &Instructions, port: Option<u32>) -> bool {
    port.is_some_and(|p| p == port_no::ANY || ins.outputs_to_port(p))
}

/// OVS `ofproto_rule_has_out_group`.
fn has_out_group(ins: &Instructions, group: u32) -> bool {
    group == OFPG_ANY || ins.outputs_to_group(group)
}

/// A full update for `r`, with its instructions if a monitor asked for them.
fn full_update(event: FlowUpdateEvent, reason: u16, r: &RuleSnapshot, instructions: bool) -> FlowUpdate {
    FlowUpdate::Full(Box::new(FlowUpdateFull {
        event,
        reason,
        priority: r.priority,
        idle_timeout: r.idle_timeout,
        hard_timeout: r.hard_timeout,
        table_id: r.table_id,
        cookie: r.cookie,
        match_: r.match_,
        instructions: if instructions { (*r.instructions).clone() } else { Instructions::default() },
    }))
}

/// The refresh updates for `monitors` (OVS `ofproto_collect_ofmonitor_refresh_rules` and
/// `ofmonitor_compose_refresh_updates`): with `since` 0 the initial updates of the monitors that
/// ask for them, else the rules added or modified after `since`. Each rule is reported once, in
/// the order first found, with the flags of every monitor that selected it.
fn refresh_updates<'a, O: Owner>(
    now: Instant,
    owner: &mut O,
    monitors: impl Iterator<Item = &'a FlowMonitor>,
    since: u64,
) -> Vec<FlowUpdate> {
    let mut rules: Vec<(RuleSnapshot, u16)> = Vec::new();
    let mut index: HashMap<(u8, u16, Match), usize> = HashMap::new();
    for m in monitors {
        if since == 0 && !m.flags.has(MonitorFlags::INITIAL) {
            continue;
        }
        let query = RuleQuery { table_id: m.table_id, match_: &m.match_, since };
        for r in owner.flow_monitor_rules(now, &query) {
            let selected = in_table(m, r.table_id)
                && is_loose_match(&r.match_, &m.match_)
                && has_out_port(&r.instructions, out_port(m))
                && has_out_group(&r.instructions, m.out_group);
            let update = if !selected {
                continue;
            } else if since == 0 {
                MonitorFlags::INITIAL
            } else if r.add_seqno > since {
                MonitorFlags::ADD | MonitorFlags::MODIFY
            } else if r.modify_seqno > since {
                MonitorFlags::MODIFY
            } else {
                continue;
            };
            if since != 0 && m.flags.0 & update == 0 {
                continue;
            }
            let flags = update | m.flags.0 & MonitorFlags::INSTRUCTIONS;
            match index.entry((r.table_id, r.priority, r.match_)) {
                Entry::Occupied(e) => rules[*e.get()].1 |= flags,
                Entry::Vacant(e) => {
                    e.insert(rules.len());
                    rules.push((r, flags));
                }
            }
        }
    }
    rules
        .iter()
        .map(|(r, flags)| {
            let event = if flags & MonitorFlags::INITIAL != 0 {
                FlowUpdateEvent::Initial
            } else if flags & MonitorFlags::ADD != 0 {
                FlowUpdateEvent::Added
            } else {
                FlowUpdateEvent::Modified
            };
            full_update(event, 0, r, flags & MonitorFlags::INSTRUCTIONS != 0)
        })
        .collect()
}

/// `c`'s monitors, created by the first use: most connections never monitor flows.
fn mons(c: &mut OfConn) -> &mut ConnMonitors {
    c.monitors.get_or_insert_default()
}

/// Queues `updates` on `c` as replies (initial replies, refreshes), in messages with `xid`.
fn send_update_replies(now: Instant, c: &mut OfConn, version: u8, xid: u32, updates: Vec<FlowUpdate>) {
    match (FlowMonitorReply { updates }).encode_replies(version, xid) {
        Ok(msgs) => msgs.into_iter().for_each(|m| c.send_reply(now, m)),
        Err(_) => warn!(target: "connmgr", "{}: flow update too long to send", c.rconn.name()),
    }
}

impl ConnMgr {
    /// OVS `handle_flow_monitor_request`: every entry of every part in order (add, modify, delete;
    /// other commands ignored). The first failure is sent quoting the part that holds it, and the
    /// monitors this request added or modified are dropped again (deletions stay done); otherwise
    /// one reply (with the request's xid, possibly split) carries the initial updates.
    pub(crate) fn handle_flow_monitor_request<O: Owner>(
        &mut self,
        now: Instant,
        id: ConnId,
        parts: &[Part],
        owner: &mut O,
    ) {
        let n_tables = owner.n_tables();
        let Some(c) = self.conns.get_mut(&id) else { return };
        let mut created = Vec::new();
        let mut failure = None;
        'parts: for part in parts {
            let Message::FlowMonitorStatsRequest(req) = &part.msg.body else { continue };
            for m in &req.monitors {
                let result = if m.table_id != 0xff && m.table_id >= n_tables {
                    Err(OfpErr::OFPBRC_BAD_TABLE_ID)
                } else {
                    match m.command {
                        MonitorCommand::Add => mons(c).create(m).map(|()| created.push(m.id)),
                        MonitorCommand::Modify => {
                            let mons = mons(c);
                            mons.delete(m.id).and_then(|()| mons.create(m)).map(|()| created.push(m.id))
                        }
                        MonitorCommand::Delete => mons(c).delete(m.id),
                        MonitorCommand::Other(_) => Ok(()),
                    }
                };
                if let Err(e) = result {
                    failure = Some((e, part.bytes.clone()));
                    break 'parts;
                }
            }
        }
        if let Some((err, quoted)) = failure {
            for m in &created {
                mons(c).monitors.remove(m);
            }
            self.send_error(now, id, err, &quoted);
            return;
        }
        let last = &parts[parts.len() - 1].msg;
        let mut seen = BTreeSet::new();
        created.retain(|m| seen.insert(*m));
        let monitors = created.iter().filter_map(|m| c.monitors.as_ref()?.monitors.get(m));
        let updates = refresh_updates(now, owner, monitors, 0);
        send_update_replies(now, c, last.version, last.xid, updates);
    }

    /// NXT/ONFT_FLOW_MONITOR_CANCEL (OVS `handle_flow_monitor_cancel`).
    pub(crate) fn handle_flow_monitor_cancel(&mut self, id: ConnId, monitor: u32) -> Result<(), OfpErr> {
        self.conns.get_mut(&id).map_or(Ok(()), |c| mons(c).delete(monitor))
    }

    /// Reports a change to a visible rule to the flow monitors (OVS `ofmonitor_report`): adds and
    /// modifies take the next seqno (returned, for the owner to store on the rule; 0 for a
    /// removal), and each connection whose monitors select the rule gets an update in the current
    /// batch. End the batch with [`ConnMgr::flow_monitor_flush`]; changes made while handling a
    /// request go through [`Replies::flow_monitor_event`](crate::Replies) instead, and are flushed
    /// with it. Hidden rules are never reported.
    ///
    /// A batch holds the changes of one request (`event.conn`/`event.xid` the same throughout) or
    /// the switch's own (an expiry, a flush), as OVS flushes after each: the requester's single
    /// ABBREV stands for all its changes in the batch, in the place of the first.
    pub fn flow_monitor_event(&mut self, mut event: RuleEvent) -> u64 {
        let seqno = stamp(&mut self.monitor_seqno, &mut event);
        self.queue_rule_event(&event);
        seqno
    }

    /// Queues a stamped event's updates.
    pub(crate) fn queue_rule_event(&mut self, event: &RuleEvent) {
        for c in self.conns.values_mut() {
            let Some(m) = c.monitors.as_mut() else { continue };
            if !m.monitors.is_empty() && m.report(c.id, event) {
                self.monitor_updates_pending = true;
            }
        }
    }

    /// Ends a batch of rule changes (OVS `ofmonitor_flush`): each connection's updates go out as
    /// flow monitor replies with xid 0, and a connection with more than 128 KiB of monitor messages
    /// unsent pauses (PAUSED in its version; only removals of rules added before the pause are
    /// reported until every monitor message went out and the refresh is sent). Updates still
    /// pending at the next [`ConnMgr::handle_timeout`] are flushed there.
    pub fn flow_monitor_flush(&mut self, now: Instant) {
        if !std::mem::take(&mut self.monitor_updates_pending) {
            return;
        }
        let ConnMgr { conns, monitor_seqno, .. } = self;
        for c in conns.values_mut() {
            let Some(m) = c.monitors.as_mut().filter(|m| m.has_pending()) else { continue };
            let updates = std::mem::take(&mut m.updates);
            let counter = Some(MONITOR_UPDATES);
            let version = c.version();
            match (FlowMonitorReply { updates }).encode_replies(version, 0) {
                Ok(msgs) => msgs.into_iter().for_each(|m| {
                    let _ = c.rconn.send(now, m, counter);
                }),
                Err(_) => warn!(target: "connmgr", "{}: flow update too long to send", c.rconn.name()),
            }
            if mons(c).paused.is_none() && u64::from(c.rconn.queued(MONITOR_UPDATES).n_bytes) > MONITOR_PAUSE_BYTES {
                mons(c).paused = Some(*monitor_seqno);
                *monitor_seqno += 1;
                if let Some(m) = paused_message(version) {
                    let _ = c.rconn.send(now, m.to_bytes(), counter);
                }
            }
        }
        if self.n_snoops > 0 {
            self.pump_all(now);
        }
    }

    /// OVS `ofmonitor_run`: resumes every paused connection whose monitor messages all went out.
    pub(crate) fn run_monitors<O: Owner>(&mut self, now: Instant, owner: &mut O) {
        let ready: Vec<ConnId> = self.conns.values().filter(|c| c.may_resume_monitors()).map(|c| c.id).collect();
        for id in ready {
            self.resume_monitors(now, id, owner);
        }
    }

    /// OVS `ofmonitor_resume`: refresh updates for the rules added or modified since the pause,
    /// then RESUMED, sent as replies.
    fn resume_monitors<O: Owner>(&mut self, now: Instant, id: ConnId, owner: &mut O) {
        let Some(c) = self.conns.get(&id) else { return };
        let Some(m) = c.monitors.as_deref() else { return };
        let Some(since) = m.paused else { return };
        let updates = refresh_updates(now, owner, m.monitors.values(), since);
        let Some(c) = self.conns.get_mut(&id) else { return };
        let version = c.version();
        if !updates.is_empty() {
            send_update_replies(now, c, version, 0, updates);
        }
        if let Some(m) = resumed_message(version) {
            c.send_reply(now, m.to_bytes());
        }
        mons(c).paused = None;
    }

    /// True if some connection has a flow monitor: only then does a rule event reach anyone.
    pub fn has_flow_monitors(&self) -> bool {
        self.conns.values().any(|c| c.monitors.as_ref().is_some_and(|m| !m.monitors.is_empty()))
    }

    /// The next seqno a rule add or modify (or a pause) will take.
    pub fn monitor_seqno(&self) -> u64 {
        self.monitor_seqno
    }

    /// A connection's flow monitoring, while it exists.
    pub fn flow_monitor_status(&self, conn: ConnId) -> Option<FlowMonitorStatus> {
        self.conns.get(&conn).map(|c| {
            c.monitors.as_deref().map_or_else(FlowMonitorStatus::default, |m| m.status(c.rconn.queued(MONITOR_UPDATES)))
        })
    }

    /// The monitor bookkeeping [`ConnMgr::check_invariants`] checks for one connection.
    pub(crate) fn check_monitors(&self, c: &OfConn) -> Result<(), String> {
        let Some(m) = c.monitors.as_deref() else { return Ok(()) };
        if m.has_pending() && !self.monitor_updates_pending {
            return Err(format!("{}: updates pending but not flagged", c.id));
        }
        match m.paused {
            Some(p) if p == 0 || p >= self.monitor_seqno => {
                return Err(format!("{}: paused at {p}, next seqno {}", c.id, self.monitor_seqno));
            }
            Some(_) if c.may_resume_monitors() && self.poll_timeout().is_none() => {
                return Err(format!("{}: may resume but no wakeup", c.id));
            }
            None if u64::from(c.rconn.queued(MONITOR_UPDATES).n_bytes) > MONITOR_PAUSE_BYTES => {
                let unsent = c.rconn.queued(MONITOR_UPDATES).n_bytes;
                return Err(format!("{}: {unsent} monitor bytes unsent without a pause", c.id));
            }
            _ => {}
        }
        Ok(())
    }
}
