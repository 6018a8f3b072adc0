//! Sans-IO OpenFlow connection: vconn hello negotiation and the rconn reliable connection, timed
//! exactly like Open vSwitch's `lib/vconn.c` and `lib/rconn.c`.
//!
//! Nothing here reads a clock, touches a socket or spawns a thread. The caller owns the transport and
//! drives an [`Rconn`] with:
//!
//! - **inputs**: [`Rconn::connect`] (a controller target: reconnects with backoff) or
//!   [`Rconn::connect_unreliably`] (an accepted transport: never retried), [`Rconn::handle_connected`],
//!   [`Rconn::handle_open_failed`] (the transport could not even be started),
//!   [`Rconn::handle_error`] (the attempt failed or the transport broke), [`Rconn::handle_bytes`],
//!   [`Rconn::handle_eof`], [`Rconn::send`] / [`Rconn::send_with_limit`] (messages to the peer,
//!   counted per source in one of its [`CounterId`] counters) and [`Rconn::handle_timeout`] (time passing);
//! - **outputs**, drained after every input: [`Rconn::poll_output`] ([`Output::Connect`],
//!   [`Output::Close`] — write its `unsent` bytes, e.g. a HELLO_FAILED error, then close — and
//!   [`Output::MonitorCopy`] for snoop monitors), [`Rconn::poll_transmit`] (bytes to write, pulled
//!   while the transport can take them; a message leaves its counter here), [`Rconn::poll_event`]
//!   (state changes) and [`Rconn::recv`] (messages received, pulled while the owner is ready for
//!   more — the receive-side backpressure OVS's connection manager relies on);
//! - [`Rconn::poll_timeout`]: the instant at which `handle_timeout` next has work. Calling it earlier
//!   is a harmless no-op; nothing else changes between inputs, so the caller may sleep until then.
//!
//! Every decision shows up in those outputs, and in `log` lines with OVS's texts under the targets
//! `rconn`, `vconn`, `vconn_stream` and `ofp_util`. An idle connection costs no allocation per tick.
//! [`Vconn`] alone does the hello exchange and version check over one byte stream (for snoop
//! connections or test peers). Give all connections clones of one [`XidAllocator`] to number their
//! hellos across connections as OVS does.
//!
//! ```
//! use bytes::Bytes;
//! use ofp_proto::{Instant, Message, OfpMsg};
//! use rconn_core::{Output, Rconn, RconnConfig, State};
//!
//! let t0 = Instant::from_secs(100);
//! let mut rc = Rconn::new(RconnConfig::default(), t0);
//! rc.connect(t0, "tcp:192.0.2.1:6653", Some("br0<->tcp:192.0.2.1:6653"));
//!
//! // The rconn asks for a transport; the caller opens it and reports back.
//! assert!(matches!(rc.poll_output(), Some(Output::Connect { .. })));
//! rc.handle_connected(t0);
//!
//! // Our hello (OpenFlow 1.5, no bitmap for the default 1.0–1.5 set, xid 1) is the first thing to write.
//! assert_eq!(rc.poll_transmit(t0).as_deref(), Some(&[6, 0, 0, 8, 0, 0, 0, 1][..]));
//!
//! // The controller's hello arrives: OpenFlow 1.3 is negotiated.
//! let t1 = Instant::from_millis(100_020);
//! rc.handle_bytes(t1, &[4, 0, 0, 8, 0, 0, 0, 1]);
//! assert_eq!((rc.state(), rc.version()), (State::Active, Some(4)));
//!
//! // Five seconds of silence later (the default probe interval) the next deadline comes due:
//! // the rconn goes IDLE and sends an echo request.
//! assert_eq!(rc.poll_timeout(), Some(Instant::from_millis(105_020)));
//! rc.handle_timeout(Instant::from_millis(105_020));
//! assert_eq!(rc.state(), State::Idle);
//! let probe = rc.poll_transmit(Instant::from_millis(105_020)).unwrap();
//! assert_eq!(&probe[..], [4, 2, 0, 8, 0, 0, 0, 0]);
//!
//! // The reply (any message) makes it ACTIVE again; `recv` hands the message to the owner.
//! rc.handle_bytes(Instant::from_millis(105_030), &[4, 3, 0, 8, 0, 0, 0, 0]);
//! let got = rc.recv(Instant::from_millis(105_030)).unwrap();
//! assert!(matches!(got.msg.unwrap().body, Message::EchoReply(_)));
//! assert_eq!(rc.state(), State::Active);
//!
//! // Messages to the controller go through the counted transmit queue.
//! let barrier = OfpMsg::new(4, 7, Message::BarrierReply).to_bytes();
//! rc.send(Instant::from_millis(105_040), barrier.clone(), None).unwrap();
//! assert_eq!(rc.poll_transmit(Instant::from_millis(105_040)), Some(barrier));
//! ```

pub mod counter;
pub mod error;
pub mod fifo;
pub mod fuzzing;
pub mod monitor;
pub mod name;
pub mod rconn;
pub mod target;
pub mod vconn;
pub mod xid;

pub use counter::{CounterId, PacketCount, N_COUNTERS};
pub use error::ConnError;
pub use fifo::Fifo;
pub use monitor::{MonitorId, MonitorRefused, MAX_MONITORS};
pub use name::ConnName;
pub use rconn::{Event, Output, Rconn, RconnConfig, Received, SendError, State};
pub use target::{Target, TargetError, OFP_PORT};
pub use vconn::{Vconn, VconnState};
pub use xid::XidAllocator;
