//! Sans-IO miss-upcall dispatcher: OVS `ofproto-dpif-upcall.c` as of late 2013 (one dispatcher, N handlers,
//! queues to the main thread), rebuilt as step functions over owned values.
//!
//! # Pieces
//! - [`Udpif`] is the dispatcher plus every queue: per-handler upcall queues, and the main thread's queues of
//!   sample upcalls, drop keys, flow-miss batches and fail-open packet-ins. Each holds at most 512 entries
//!   (packet-ins 1024); whatever does not fit is dropped and counted in [`Counters`].
//! - [`handle_miss_upcalls`] is one handler step: a [`HandlerBatch`] in, a [`HandlerOutput`] out. It needs a
//!   [`Xlate`] (flow receive, lookup and translation, implemented above this crate) and a [`DpifOperate`]
//!   (the datapath's execute side). It touches nothing else, so it may run on a handler thread.
//! - Flow keys are ODP netlink attributes: [`odp`] walks and builds them, [`KeyDisplay`] prints them.
//!
//! # Driving it
//! ```text
//! let mut udpif = Udpif::new(secret, n_handlers);           // secret: the caller's random u32
//! // Receive: one round per datapath readiness.
//! udpif.recv_upcalls(now, &mut dpif);                        // or handle_upcall(now, u)… then end_recv_round()
//! // Handlers: single-threaded …
//! udpif.run_handlers(now, &mut xlate, &mut dpif);
//! // … or on threads: hand each batch to its handler's thread, feed the output back.
//! while let Some(batch) = udpif.poll_handler_batch() { send_to_thread(batch.handler, batch) }
//! udpif.handle_batch_done(now, output_from_thread);
//! // Main thread: drain.
//! while let Some(u) = udpif.upcall_next() { /* sFlow, flow sample, IPFIX */ }
//! while let Some(fmb) = udpif.flow_miss_batch_next() { /* install flows */ }
//! while let Some(k) = udpif.drop_key_next() { dpif.operate(&[k.flow_put()]) }
//! while let Some(pin) = udpif.packet_in_next() { /* send NO_MATCH packet-in */ }
//! // Flow table or port changes:
//! udpif.revalidate();
//! ```
//! A handler is woken (its queue becomes eligible for [`Udpif::poll_handler_batch`]) when its queue reaches
//! 50 upcalls or at the end of a receive round; once awake it is served batches of up to 50, one at a time,
//! until its queue is empty. Misses hash (with the injected secret) over the in_port and TCP/UDP port
//! attributes of their key, so every packet of one L4 flow goes to one handler, and each handler's batches
//! execute in order: packets of a flow leave in arrival order.
//!
//! [`fuzzing::run`] drives arbitrary operation sequences through all of this and checks the invariants
//! (every upcall accounted for exactly once, queue bounds, per-flow order).

mod counters;
mod datapath;
pub mod fuzzing;
mod handler;
mod hash;
pub mod odp;
mod odp_format;
mod queue;
mod ratelimit;
mod udpif;
mod upcall;

pub use counters::Counters;
pub use datapath::{DpifOp, DpifOperate, DpifRecv, ReceiveError, Received, Xlate, Xlated};
pub use handler::{
    handle_miss_upcalls, DropKey, FlowMiss, FlowMissBatch, HandlerBatch, HandlerCounts, HandlerOutput, MissStats,
    PacketIn, FLOW_MISS_MAX_BATCH, OFPR_NO_MATCH,
};
pub use hash::{mhash_add, mhash_finish, upcall_hash, BuildFlowHasher, FlowHasher};
pub use odp_format::KeyDisplay;
pub use queue::MAX_QUEUE_LENGTH;
pub use ratelimit::{RateLimit, Verdict};
pub use udpif::{Dispatch, Udpif, MAX_N_HANDLERS, MAX_PACKET_IN_QUEUE};
pub use upcall::{
    classify_upcall, cookie, BadUpcall, DpifUpcall, Upcall, UpcallType, DPIF_UC_ACTION, DPIF_UC_MISS,
    USER_ACTION_COOKIE_FLOW_SAMPLE, USER_ACTION_COOKIE_IPFIX, USER_ACTION_COOKIE_SFLOW, USER_ACTION_COOKIE_SLOW_PATH,
};

/// The `log` target of every line this crate logs (OVS's vlog module name).
pub const LOG_TARGET: &str = "ofproto_dpif_upcall";
