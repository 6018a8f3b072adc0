//! Property tests of flow monitors: whatever rule changes happen (reported directly or by the
//! monitoring controller's own flow mods, in batches), however slowly the controller reads, and
//! however often its monitoring pauses and resumes, the controller's view built from what it
//! receives never misses a removal of a rule it knew (nor hears of one it did not), keeps OVS's
//! order (removals only between PAUSED and the refresh, the refresh right before RESUMED), and
//! equals the owner's rules whenever everything has been read.

mod common;

use bytes::Bytes;
use common::*;
use connmgr_core::fuzzing::{expected_view, MonitorView};
use connmgr_core::{ConnId, MONITOR_PAUSE_BYTES};
use ofp_proto::actions::Action;
use ofp_proto::instructions::Instructions;
use ofp_proto::msg::flow_mod::{FlowMod, FlowModCommand};
use ofp_proto::msg::monitor::{FlowMonitor, FlowMonitorRequest, MonitorFlags};
use ofp_proto::ofmatch::Match;
use ofp_proto::{Message, OfpMsg};
use proptest::prelude::*;

const MGMT: &str = "punix:/run/openvswitch/br0.mgmt";

#[derive(Clone, Debug)]
enum Op {
    /// A change the switch reports outside any request (`own`: as the monitoring connection's,
    /// sharing the batch's xid). Adding an existing rule modifies it.
    Add {
        key: u8,
        note: u8,
        own: bool,
    },
    Remove {
        key: u8,
        own: bool,
    },
    /// Many additions by nobody, in one batch.
    Burst {
        n: u8,
        note: u8,
    },
    /// Ends the batch of direct changes.
    Flush,
    /// The monitoring controller's own flow mod: add (or modify) when `add`, else delete.
    Request {
        key: u8,
        note: u8,
        add: bool,
    },
    /// The controller reads `n` messages.
    Read {
        n: u16,
    },
    /// It reads everything, and the switch runs its steps.
    ReadAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..40, any::<u8>(), any::<bool>()).prop_map(|(key, note, own)| Op::Add { key, note, own }),
        3 => (0u8..40, any::<bool>()).prop_map(|(key, own)| Op::Remove { key, own }),
        1 => (1u8..120, any::<u8>()).prop_map(|(n, note)| Op::Burst { n, note }),
        3 => Just(Op::Flush),
        3 => (0u8..40, any::<u8>(), any::<bool>()).prop_map(|(key, note, add)| Op::Request { key, note, add }),
        3 => (1u16..200).prop_map(|n| Op::Read { n }),
        1 => Just(Op::ReadAll),
    ]
}

/// Instructions of a few hundred bytes or more: an output and an 8-byte aligned note.
fn actions(key: u16, note: u8) -> Instructions {
    let len = 6 + 8 * usize::from(note % 160);
    Instructions::apply([
        Action::Output { port: u32::from(key % 7), max_len: 0 },
        Action::Note(Bytes::from(vec![note; len])),
    ])
}

fn key_match(key: u16) -> Match {
    let mut m = Match::catchall();
    m.set_in_port(key.into());
    m
}

struct Run {
    sw: Sw,
    mon: ConnId,
    version: u8,
    view: MonitorView,
    next_cookie: u64,
    next_xid: u32,
    /// Who makes the current batch of direct changes: the monitoring connection with this xid, or
    /// nobody. A batch is one request's changes or the switch's own, never both: its one ABBREV
    /// stands for every own change, so other changes in between would be ambiguous.
    batch: Option<Option<u32>>,
}

impl Run {
    fn new(version: u8, own: bool, preloaded: u8) -> Run {
        let mut sw = Sw::new();
        sw.set_controllers(&[(MGMT, settings())]);
        let mon = sw.accept(MGMT, "unix#1", version);
        sw.peers.get_mut(&mon).unwrap().reading = false;
        let mut run = Run {
            sw,
            mon,
            version,
            view: MonitorView::new(true).with_unique_cookies(),
            next_cookie: 1,
            next_xid: 100,
            batch: None,
        };
        for key in 0..u16::from(preloaded) {
            run.direct(FlowModCommand::Add, key, 3, None);
        }
        run.sw.mgr.flow_monitor_flush(run.sw.now);
        let flags = MonitorFlags::INITIAL
            | MonitorFlags::ADD
            | MonitorFlags::REMOVED
            | MonitorFlags::MODIFY
            | MonitorFlags::INSTRUCTIONS
            | if own { MonitorFlags::ONLY_OWN } else { 0 };
        let body = Message::FlowMonitorStatsRequest(FlowMonitorRequest {
            monitors: vec![FlowMonitor::new(1, MonitorFlags(flags))],
        });
        let xid = run.xid();
        run.sw.send_msg(mon, &OfpMsg::new(version, xid, body));
        run
    }

    fn xid(&mut self) -> u32 {
        self.next_xid += 1;
        self.next_xid
    }

    fn exists(&self, key: u16) -> bool {
        self.sw.owner.rules.rules().iter().any(|r| r.match_ == key_match(key).canonical())
    }

    /// A flow mod for `key` (a new cookie for adds of new rules; modifies keep theirs).
    fn flow_mod(&mut self, command: FlowModCommand, key: u16, note: u8) -> FlowMod {
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        FlowMod {
            command,
            table_id: if command == FlowModCommand::Add { 0 } else { 0xff },
            new_cookie: if command == FlowModCommand::Add { cookie } else { u64::MAX },
            match_: key_match(key),
            instructions: actions(key, note),
            ..FlowMod::default()
        }
    }

    /// Applies a change to the owner's rules and reports it directly.
    fn direct(&mut self, command: FlowModCommand, key: u16, note: u8, by: Option<(ConnId, u32)>) {
        let fm = self.flow_mod(command, key, note);
        let Run { sw, view, .. } = self;
        sw.owner.rules.apply(&fm, by, |e| {
            if let Some((_, xid)) = by {
                view.own_change(xid, &e);
            }
            sw.mgr.flow_monitor_event(e)
        });
    }

    /// The requester of a direct change, starting a new batch if the current one is another's.
    fn batch_requester(&mut self, own: bool) -> Option<(ConnId, u32)> {
        let xid = match self.batch {
            Some(by) if by.is_some() == own => by,
            _ => {
                self.sw.mgr.flow_monitor_flush(self.sw.now);
                let by = if own { Some(self.xid()) } else { None };
                self.batch = Some(by);
                by
            }
        };
        xid.map(|x| (self.mon, x))
    }

    /// Reads up to `n` messages; true if none is left.
    fn read(&mut self, n: u16) -> bool {
        for _ in 0..n {
            let Some(m) = self.sw.mgr.poll_transmit(self.sw.now, self.mon) else { return true };
            self.view.receive(&m);
        }
        false
    }

    /// True if monitoring runs and every update went out.
    fn quiet(&self) -> bool {
        let status = self.sw.mgr.flow_monitor_status(self.mon).unwrap();
        status.paused.is_none() && status.pending_updates == 0
    }

    /// The switch runs what is due (ending any batch).
    fn settle(&mut self) {
        self.sw.run();
        self.batch = None;
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Add { key, note, own } => {
                let key = u16::from(key);
                let command = if self.exists(key) { FlowModCommand::ModifyStrict } else { FlowModCommand::Add };
                let by = self.batch_requester(own);
                self.direct(command, key, note, by);
            }
            Op::Remove { key, own } => {
                let by = self.batch_requester(own);
                self.direct(FlowModCommand::DeleteStrict, u16::from(key), 0, by);
            }
            Op::Burst { n, note } => {
                self.batch_requester(false);
                for i in 0..u16::from(n) {
                    let key = 100 + i + u16::from(note) * 4;
                    let command = if self.exists(key) { FlowModCommand::ModifyStrict } else { FlowModCommand::Add };
                    self.direct(command, key, note, None);
                }
            }
            Op::Flush => {
                self.sw.mgr.flow_monitor_flush(self.sw.now);
                self.batch = None;
            }
            Op::Request { key, note, add } => {
                let key = u16::from(key);
                let command = match (add, self.exists(key)) {
                    (false, _) => FlowModCommand::DeleteStrict,
                    (true, true) => FlowModCommand::ModifyStrict,
                    (true, false) => FlowModCommand::Add,
                };
                let fm = self.flow_mod(command, key, note);
                let xid = self.xid();
                self.sw.send_msg(self.mon, &OfpMsg::new(self.version, xid, Message::FlowMod(fm)));
                for e in self.sw.owner.reported.drain(..) {
                    self.view.own_change(xid, &e);
                }
                self.batch = None;
            }
            Op::Read { n } => {
                self.read(n);
            }
            Op::ReadAll => {
                self.read(u16::MAX);
                self.settle();
                if self.read(u16::MAX) && self.quiet() {
                    self.check_converged();
                }
            }
        }
        assert!(self.view.violations.is_empty(), "{:?}", self.view.violations);
        let status = self.sw.mgr.flow_monitor_status(self.mon).unwrap();
        assert!(status.paused.is_some() || status.unsent_bytes <= MONITOR_PAUSE_BYTES, "{status:?}");
    }

    fn check_converged(&self) {
        let want = expected_view(self.sw.owner.rules.rules(), true);
        let differ = want.iter().find(|(k, r)| self.view.rules().get(*k) != Some(*r));
        let extra = self.view.rules().keys().find(|k| !want.contains_key(*k));
        assert!(
            differ.is_none() && extra.is_none(),
            "owner has {differ:?}, view {:?}; view only: {extra:?}",
            differ.and_then(|(k, _)| self.view.rules().get(k))
        );
    }

    /// Reads and runs until nothing moves; everything must then agree.
    fn finish(mut self) -> MonitorView {
        for _ in 0..100 {
            self.read(u16::MAX);
            self.settle();
            if self.read(u16::MAX) && self.quiet() {
                break;
            }
        }
        assert!(self.view.violations.is_empty(), "{:?}", self.view.violations);
        assert!(!self.view.is_paused());
        assert_eq!(self.view.n_paused, self.view.n_resumed);
        self.check_converged();
        self.view
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_monitor_never_loses_a_removal(
        version in prop::sample::select(vec![1u8, 3, 4, 5, 6]),
        own in any::<bool>(),
        preloaded in 0u8..20,
        ops in prop::collection::vec(op(), 1..120),
    ) {
        let mut run = Run::new(version, own, preloaded);
        for op in ops {
            run.apply(op);
        }
        run.finish();
    }
}

/// The operations reach what the property is about: pauses with removals of older rules while
/// paused, refreshes, ABBREVs.
#[test]
fn the_property_reaches_pauses_and_abbrevs() {
    let mut run = Run::new(4, false, 10);
    run.apply(Op::ReadAll);
    run.apply(Op::Burst { n: 119, note: 150 });
    run.apply(Op::Flush);
    assert!(run.sw.mgr.flow_monitor_status(run.mon).unwrap().paused.is_some());
    run.apply(Op::Remove { key: 3, own: true });
    run.apply(Op::Add { key: 4, note: 9, own: false });
    run.apply(Op::Add { key: 30, note: 9, own: true });
    run.apply(Op::Flush);
    run.apply(Op::Read { n: 30 });
    run.apply(Op::ReadAll);
    run.apply(Op::Request { key: 31, note: 1, add: true });
    run.apply(Op::Add { key: 32, note: 1, own: true });
    run.apply(Op::Add { key: 33, note: 1, own: true });
    let view = run.finish();
    assert_eq!((view.n_paused, view.n_resumed), (1, 1));
    assert_eq!(view.n_abbrev, 2, "one per request, one per batch of direct changes");
    assert!(view.n_removed >= 1);
}
