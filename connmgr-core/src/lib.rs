//! Sans-IO OpenFlow connection manager (OVS `connmgr.c`, `pinsched.c`, `bundles.c`, `fail-open.c`).
//!
//! One `ConnMgr` owns the controller services (active targets with one reliable rconn each, passive
//! targets accepting service connections), the OpenFlow connections on them, roles and the primary
//! election, asynchronous message routing with packet-in rate limiting, bundles and fail-open.
//!
//! # How an owner plugs in
//!
//! The owner of the flow tables implements [`Owner`] and passes `&mut self` (or the field holding
//! its tables) into the `ConnMgr` calls that need it — so it can hold the `ConnMgr` and its tables
//! side by side:
//!
//! - requests connection management does not answer itself reach [`Owner::handle_request`], which
//!   replies through [`Replies`] and returns a [`Disposition`]: handled, postponed (kept as the
//!   connection's blocked message until `ConnMgr::retry`), or an error to send back;
//! - an owner that completes work later starts an operation group with
//!   [`Replies::start_op_group`] and reports it with `ConnMgr::op_group_completed`: barriers and
//!   role/protocol changes on that connection wait for it;
//! - bundles are checked per message with [`Owner::check_bundle_entry`] and applied as one group
//!   with [`Owner::commit_bundle`];
//! - asynchronous messages go out with `ConnMgr::send_async` (or [`Replies::notify`] while handling
//!   a request, to keep them ordered before later replies);
//! - connection management asks for [`Owner::flush`] and its [`NormalFlow`]s as OVS does.
//!
//! See `CONTRACT.md` beside this crate for the summary.

mod assembler;
pub mod async_msg;
mod bundle;
pub mod connmgr;
mod fail_open;
mod flow_mod_log;
pub mod fuzzing;
mod handler;
mod ofconn;
pub mod owner;
pub mod pinsched;
mod rng;
pub mod service;
mod snoop;
pub mod status;
pub mod token_bucket;
mod vlog;

pub use async_msg::{AsyncFlowRemoved, AsyncMsg, AsyncPacketIn, AsyncRequestForward, PortChange};
pub use connmgr::{Config, ConnMgr, Event, MemoryUsage, Output, BUNDLE_IDLE_TIMEOUT_DEFAULT};
pub use owner::{
    BundleEntry, BundleFailure, ConnId, ConnInfo, ConnType, Disposition, FlowModKind, NormalFlow, OpGroupId, Owner,
    Part, Protocol, Replies, Request, Role, FAIL_OPEN_PRIORITY,
};
pub use service::{ControllerSettings, FailMode};
pub use status::ControllerInfo;
