//! Sans-IO OpenFlow connection manager (OVS `connmgr.c`, `pinsched.c`, `bundles.c`, `fail-open.c`).
//!
//! One [`ConnMgr`] owns the controller services (active targets with one reliable rconn each, passive
//! targets accepting service connections), the OpenFlow connections on them, roles and the primary
//! election, asynchronous message routing with packet-in rate limiting, bundles and fail-open.
//! Nothing here reads a clock, touches a socket or draws a random number: time comes in as `now`,
//! randomness from [`Config::seed`], bytes as slices, and the work goes out as values to drain.
//!
//! # Driving a `ConnMgr`
//!
//! - **configuration**: [`ConnMgr::set_controllers`] (targets in OVS syntax with
//!   [`ControllerSettings`]), [`ConnMgr::set_fail_mode`], [`ConnMgr::set_snoops`],
//!   [`ConnMgr::set_bundle_idle_timeout`];
//! - **transports**, each a [`ConnId`] never reused: [`Output::Connect`] asks the embedder to open one
//!   to an active target, [`Output::Listen`] to listen on a passive one (report connections with
//!   [`ConnMgr::handle_accept`]); report progress with `handle_connected`, `handle_open_failed`,
//!   `handle_error`, `handle_bytes`, `handle_eof`; write what [`ConnMgr::poll_transmit`] hands out
//!   while the transport can take it; [`Output::Close`] closes one;
//! - **the step**: [`ConnMgr::handle_timeout`] reads messages (50 per connection per step, none while
//!   100 replies wait unsent) and hands requests to the owner, and runs every timer; call it once
//!   [`ConnMgr::poll_timeout`] has passed (after inputs it is usually "now");
//! - **events**: [`ConnMgr::poll_event`] reports connections coming up and going away.
//!
//! ```
//! use std::collections::BTreeMap;
//! use bytes::Bytes;
//! use connmgr_core::*;
//! use ofp_proto::{Instant, Message, OfpMsg};
//!
//! /// An owner that handles every request without replying.
//! struct Tables;
//! impl Owner for Tables {
//!     fn handle_request(&mut self, _: Instant, _: &Request<'_>, _: &mut Replies) -> Disposition {
//!         Disposition::Handled
//!     }
//!     fn commit_bundle(&mut self, _: Instant, _: &ConnInfo, _: u16, _: &[BundleEntry], _: &mut Replies)
//!         -> Result<BundleCommit, BundleFailure> { Ok(BundleCommit::Committed) }
//!     fn flush(&mut self, _: Instant) {}
//!     fn add_normal_flow(&mut self, _: Instant, _: NormalFlow) {}
//!     fn delete_normal_flow(&mut self, _: Instant, _: NormalFlow) {}
//!     fn fail_open_packet_in(&mut self, _: Instant, _: Bytes) -> Option<AsyncPacketIn> { None }
//! }
//!
//! let (mut mgr, mut tables, now) = (ConnMgr::new(Config { name: "br0".into(), seed: 7 }), Tables, Instant::from_secs(5));
//! let controllers = BTreeMap::from([("tcp:192.0.2.1:6653".to_string(), ControllerSettings::default())]);
//! mgr.set_controllers(now, &controllers, &mut tables);
//!
//! // The embedder opens the transport it is asked for and says when it is up: our hello goes out.
//! let Some(Output::Connect { conn, .. }) = mgr.poll_output() else { panic!() };
//! mgr.handle_connected(now, conn);
//! assert_eq!(mgr.poll_transmit(now, conn).unwrap()[..2], [6, 0]);
//!
//! // The controller's hello (OpenFlow 1.3) and an echo request arrive; the next step answers it.
//! mgr.handle_bytes(now, conn, &[4, 0, 0, 8, 0, 0, 0, 1, 4, 2, 0, 8, 0, 0, 0, 9]);
//! assert!(matches!(mgr.poll_event(), Some(Event::Connected { version: 4, .. })));
//! assert!(mgr.poll_timeout().is_some_and(|t| t <= now));
//! mgr.handle_timeout(now, &mut tables);
//! assert_eq!(mgr.poll_transmit(now, conn).unwrap(), OfpMsg::new(4, 9, Message::EchoReply(Bytes::new())).to_bytes());
//! ```
//!
//! # How an owner plugs in
//!
//! The owner of the flow tables implements [`Owner`] and passes `&mut self` (or the field holding
//! its tables) into the `ConnMgr` calls that need it — so it can hold the `ConnMgr` and its tables
//! side by side:
//!
//! - requests connection management does not answer itself reach [`Owner::handle_request`], which
//!   replies through [`Replies`] and returns a [`Disposition`]: handled, postponed (kept as the
//!   connection's blocked message until [`ConnMgr::retry`]), or an error to send back;
//! - an owner that completes work later starts an operation group with
//!   [`Replies::start_op_group`] and reports it with [`ConnMgr::op_group_completed`]: barriers and
//!   role/protocol changes on that connection wait for it;
//! - bundles are checked per message with [`Owner::check_bundle_entry`] and applied as one group
//!   with [`Owner::commit_bundle`] (which may postpone the commit like a request);
//! - asynchronous messages go out with [`ConnMgr::send_async`] (or [`Replies::notify`] while
//!   handling a request, to keep them ordered before later replies);
//! - connection management asks for [`Owner::flush`] and its [`NormalFlow`]s as OVS does.
//!
//! See `CONTRACT.md` beside this crate for the summary, and [`owner`] for which requests go where.
//!
//! # Flow monitors
//!
//! Connection management keeps each connection's monitors (see [`monitor`]): it answers flow
//! monitor requests and cancels in every form (NXST 1.0–1.2, ONFST 1.3, OFPMP 1.4+ with add,
//! modify and delete entries) with OVS's errors, and builds their initial replies from the rules
//! [`Owner::flow_monitor_rules`] returns. The owner reports every change to a visible rule —
//! through [`Replies::flow_monitor_event`] while handling a request or a bundle commit, through
//! [`ConnMgr::flow_monitor_event`] otherwise (expiry, completions, flushes), ending such a batch
//! with [`ConnMgr::flow_monitor_flush`] — and stores the seqno each add or modify returns on the
//! rule. Connections with more than 128 KiB of monitor messages unsent pause and, once they are
//! all sent, resume at a step with refresh updates and RESUMED.

mod assembler;
pub mod async_msg;
mod bundle;
pub mod connmgr;
mod fail_open;
mod flow_mod_log;
pub mod fuzzing;
mod handler;
mod lazy_map;
pub mod monitor;
mod ofconn;
pub mod owner;
pub mod pinsched;
mod rng;
pub mod service;
mod snoop;
pub mod status;
pub mod token_bucket;
mod transport;
mod vlog;

pub use async_msg::{AsyncFlowRemoved, AsyncMsg, AsyncPacketIn, AsyncRequestForward, PortChange};
pub use connmgr::{Config, ConnMgr, Event, MemoryUsage, Output, BUNDLE_IDLE_TIMEOUT_DEFAULT};
pub use monitor::{FlowMonitorStatus, RuleEvent, RuleEventKind, RuleQuery, RuleSnapshot, MONITOR_PAUSE_BYTES};
pub use owner::{
    BundleCommit, BundleEntry, BundleFailure, ConnId, ConnInfo, ConnType, Disposition, FlowModKind, NormalFlow,
    OpGroupId, Owner, Part, Parts, Protocol, Replies, Request, Role, FAIL_OPEN_PRIORITY,
};
pub use service::{ControllerSettings, FailMode};
pub use status::ControllerInfo;
pub use transport::MAX_UNREAD;
