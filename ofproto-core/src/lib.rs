//! Flow tables with asynchronous operations (OVS `ofproto.c` with the asynchronous flow mods of
//! seed 002), as a sans-IO state machine, and [`Switch`]: the whole switch (connection
//! management, these tables, ports and a software packet path, the upcall dispatcher) as one
//! deterministic state machine — see the [`switch`] module.
//!
//! [`OfProto`] holds N flow tables of rules (match, priority, cookie, timeouts, flags,
//! instructions, counters). Connection management hands it OpenFlow requests through
//! connmgr-core's [`connmgr_core::Owner`] interface; the packet path looks rules up in it
//! ([`OfProto::lookup`], [`OfProto::credit`]); and it programs a [`Datapath`] whose operations
//! complete later.
//!
//! # Flow tables
//!
//! - [`Config`]: 255 tables by default, 0–253 visible and 254 internal (hidden and read-only), as
//!   ovs-vswitchd has them; table id 255 means "all tables" in requests.
//! - Each table's classifier does tuple space search (one hash index per distinct mask, visited in
//!   order of the highest priority it holds): the highest-priority matching rule wins, the oldest
//!   among equals.
//! - Flow mods follow OVS 3.1 (see [`OfProto::flow_mod`]): an add replaces a rule with the same
//!   match and priority (keeping its counters unless RESET_COUNTS) or checks for overlap
//!   (OFPFMFC_OVERLAP); modify/modify-strict select by cookie mask and add when nothing matches if
//!   the flow mod carries a new cookie (OF1.0, NXM); delete/delete-strict also filter by out_port
//!   and out_group; table 254 refuses changes (OFPBRC_EPERM), unknown tables OFPBRC_BAD_TABLE_ID,
//!   a buffer id OFPBRC_BUFFER_UNKNOWN.
//! - Idle and hard timeouts fire at exact deadlines ([`OfProto::poll_timeout`],
//!   [`OfProto::handle_timeout`]); flow removed messages go to connection management.
//! - Hidden rules (priority above 65535: fail-open) match packets but are never shown, counted,
//!   changed or reported to OpenFlow.
//!
//! # Asynchronous operations
//!
//! Every change is an operation in an operation group tied to its request. The tables change first
//! and the datapath is asked after; a failed add is removed (or the rule it replaced restored), a
//! failed modify gets its old state back; removals cannot fail. A request touching a rule with an
//! operation pending, an add identical to a pending removal, and any flow mod while 50 groups are in
//! flight are postponed ([`Refusal::Postpone`], `Disposition::Postponed`) and retried when a group
//! completes. A group's first error goes to its requester when the group completes; success sends
//! nothing. A flush stops all request processing until nothing is pending. Bundles commit as one
//! atomic group. See `opgroup.rs` for the rules.
//!
//! # Flow monitors
//!
//! Connection management keeps the monitors; the tables report every change to a visible rule
//! once it took effect — when its operation group finishes, as OVS 2.x did — so monitors never
//! hear of a change that is rolled back afterwards (a failed add, modify or bundle reports
//! nothing). Each group's changes are one batch: `Added` for a new rule or an add that replaced
//! one, `Modified` when a modify changed the actions or the cookie (with the old instructions
//! when the actions changed), `Removed` with OVS's `OFPRR_*` reason (delete, idle or hard timeout;
//! a flush or a NORMAL-flow delete is a delete). A request's batch names it (connection and xid,
//! for its ABBREV update) unless the group failed; the switch's own changes name nobody. Changes
//! finished while `ConnMgr` handles the request go into its `Replies`; the others wait in the
//! tables for [`OfProto::forward_events`], which stores the seqnos `ConnMgr` stamps on the rules.
//! [`Owner::flow_monitor_rules`](connmgr_core::Owner::flow_monitor_rules) shows the rules as
//! monitors know them: without pending adds, with pending modifies and removals not yet applied.
//!
//! # Composing a switch
//!
//! [`Switch`] owns a `ConnMgr`, an `OfProto<D>` and its port/packet state `P`, and implements
//! [`SwitchRequests`] for `P` (another embedder can compose its own the same way). For each
//! `ConnMgr` call that takes an owner it passes both halves:
//!
//! ```
//! use connmgr_core::{Config as MgrConfig, ConnMgr};
//! use ofp_proto::Instant;
//! use ofproto_core::{Config, NoSwitch, OfProto, TestDatapath, WithSwitch};
//!
//! let mut mgr = ConnMgr::new(MgrConfig { name: "br0".into(), seed: 1 });
//! let mut tables = OfProto::new(Config::default(), TestDatapath::new());
//! let mut ports = NoSwitch; // the Switch's port and packet state goes here
//! let now = Instant::from_secs(1);
//! mgr.handle_timeout(now, &mut WithSwitch { tables: &mut tables, switch: &mut ports });
//! tables.handle_timeout(now);
//! tables.forward_events(now, &mut mgr); // monitor updates, flow removed, completions, retries
//! assert_eq!(tables.n_visible_tables(), 254);
//! ```
//!
//! [`WithSwitch`] answers flow mods, flow/aggregate/table statistics, table features, bundle checks
//! and commits, flushes and NORMAL flows itself and hands every other request (features, config,
//! port mods, packet outs, port/desc statistics, …) to `P`, with the tables at hand. After any call
//! into the tables (`handle_timeout`, `run`, `complete`) and after any `ConnMgr` call that takes
//! them as owner, call [`OfProto::forward_events`] (or drain [`OfProto::poll_event`] and
//! [`OfProto::forward_monitor_events`] into a [`MonitorSink`] of your own). Asynchronous messages
//! and rule changes caused while `ConnMgr` is handling a request go into that request's
//! `Replies`, so they precede the replies to later requests. Groups whose completions the
//! datapath delivers while `ConnMgr` handles some other request finish at the next such call
//! ([`OfProto::poll_timeout`] says so), so their changes never join that request's batch; a flow
//! mod or bundle commit arriving while changes still wait to be forwarded is postponed until
//! `forward_events` has sent them (it asks `ConnMgr` to retry).

//! # Where this differs from OVS 3.1
//!
//! - Asynchronous operations are seed 002's (OVS 1.2–2.3), which OVS 3.1 no longer has: flow and
//!   aggregate statistics wait (are postponed) while a selected rule has an operation pending, and
//!   flow removed messages for deletions go out when the datapath confirms them.
//! - A bundle commit that would have to wait (a flush, or a rule it touches with an operation
//!   pending) is postponed whole, like a request, and offered again on retry. A datapath failure reported after the commit was answered undoes the whole
//!   bundle and is reported (through the op group) against the commit request, not the entry.
//! - Rules created and deleted within one bundle never reach the datapath or flow monitors, and a
//!   rule a bundle changes several times is reported once, with its final state.
//! - Flow monitors hear of a change when the datapath confirmed it (OVS 2.x), and a group's rules
//!   stay busy until all its operations completed (OVS 1.9–2.3; seed 002 freed them one by one).
//!   A group that failed reports what did take effect in full to everyone, its requester included
//!   (no ABBREV: OVS 2.x). If a compensation undoing a failed bundle in the datapath fails, the
//!   bundle's change stays and is reported then (an add or modify as such, a delete as `Removed`
//!   with reason delete).
//! - Among equal-priority rules matching a packet, the oldest wins (OVS leaves it undefined).
//! - Timeouts fire exactly at `modified + hard` / `used + idle` (OVS sweeps once a second and
//!   removes up to a second late).
//! - Modifies and replacing adds change the rule in place (same [`RuleId`]); OVS makes a new rule
//!   object. Nothing of this shows on the wire.
//! - Not implemented: eviction and table size limits (OFPFMFC_TABLE_FULL only from the datapath),
//!   changing table features (OFPTFFC_EPERM), OVS's cookie index (cookie-masked requests scan),
//!   learned-cookie bookkeeping, groups and meters (out_group filters work on group actions),
//!   NO_PKT/NO_BYT_COUNTS (kept and reported, counters still counted — as OVS does).
//! - Error replies quote the request's first 64 bytes (the project's rule; `ConnMgr` builds them).

mod classifier;
pub mod datapath;
mod flow_mod;
mod flush;
pub mod fuzzing;
mod hash;
mod minimatch;
mod monitor;
mod ofproto;
mod opgroup;
mod owner;
mod rule;
mod stats;
pub mod switch;
pub mod timeline;

pub use datapath::{Datapath, DpCall, OpId, OpResult, TestDatapath};
pub use flow_mod::{BundleRefusal, Progress, Refusal, Requester};
pub use monitor::MonitorSink;
pub use ofproto::{ActionCheck, Config, Event, OfProto, MAX_PENDING_GROUPS};
pub use owner::{fail_open_packet_in, NoSwitch, SwitchRequests, WithSwitch};
pub use rule::{Rule, RuleId, RuleState, MAX_OPENFLOW_PRIORITY};
pub use stats::flow_stats_of;
pub use switch::{NoSuchPort, Switch, SwitchStatus};
