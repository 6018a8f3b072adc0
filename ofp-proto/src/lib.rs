//! OpenFlow 1.0–1.5 wire codec as Open vSwitch speaks it.
//!
//! - [`framer::Framer`] splits a byte stream into messages (zero-copy `Bytes`).
//! - [`raw`] identifies a message's concrete layout and checks its length (OVS `ofp-msgs`).
//! - [`msg::OfpMsg`] decodes and encodes message bodies; decode failures carry the OpenFlow
//!   error OVS would send ([`errors::OfpErr`]).
//! - [`print`] renders messages in the words of `ovs-ofctl ofp-print`.
//! - [`view::MsgView`] parses a frame borrowed from the framer ([`Framer::frames`]) with
//!   exactly the checks and errors of [`OfpMsg::decode`], and reads fields in place.
//!
//! Views or owned messages: on a hot receive path that reads a few fields of each message and
//! moves on (packet-ins, echoes, barriers, statistics replies, flow mods to classify or count),
//! parse a [`view::MsgView`]: for the shapes a connection usually carries it costs no allocation,
//! copy or reference count (anything unusual is checked by the owned decoder). Decode an owned
//! [`OfpMsg`] when the message must outlive the receive buffer, be changed, re-encoded or printed,
//! or when it is one without a typed view (the view then carries it already decoded).
//!
//! Sans-IO: no clock, no sockets, no threads. [`Instant`] is the virtual time every core shares.

// A decoder that fuzzers and peers feed: memory safety comes from the compiler alone.
#![forbid(unsafe_code)]

pub mod actions;
pub mod buf;
pub mod errors;
pub mod flow;
pub mod framer;
pub mod fuzzing;
pub mod header;
pub mod instructions;
pub mod mf;
pub mod msg;
pub mod ofmatch;
pub mod oxs;
pub mod port_no;
pub mod print;
pub mod prop;
pub mod raw;
pub mod time;
pub mod view;

pub use errors::{ErrorMsg, OfpErr};
pub use framer::{Framer, Frames, FramingError};
pub use header::{Header, Version, VersionBitmap};
pub use msg::{DecodeError, Message, OfpMsg};
pub use raw::{MsgType, Raw};
pub use time::Instant;
