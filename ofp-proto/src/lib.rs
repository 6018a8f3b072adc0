//! OpenFlow 1.0–1.5 wire codec as Open vSwitch speaks it.
//!
//! - [`framer::Framer`] splits a byte stream into messages (zero-copy `Bytes`).
//! - [`raw`] identifies a message's concrete layout and checks its length (OVS `ofp-msgs`).
//! - [`msg::OfpMsg`] decodes and encodes message bodies; decode failures carry the OpenFlow
//!   error OVS would send ([`errors::OfpErr`]).
//! - [`print`] renders messages in the words of `ovs-ofctl ofp-print`.
//!
//! Sans-IO: no clock, no sockets, no threads. [`Instant`] is the virtual time every core shares.

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
pub use framer::{Framer, FramingError};
pub use header::{Header, Version, VersionBitmap};
pub use msg::{DecodeError, Message, OfpMsg};
pub use raw::{MsgType, Raw};
pub use time::Instant;
