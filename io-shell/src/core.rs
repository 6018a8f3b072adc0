//! The surface the daemon drives: [`SwitchCore`] (implemented by `ofproto_core::Switch` in
//! `switch_core.rs` and by the fake core), and [`feed`], the one function every input to the core
//! passes through (the record/replay hook).

use bytes::{Bytes, BytesMut};
use ofp_proto::Instant;
use rconn_core::{ConnError, ConnName};

pub use connmgr_core::{ConnId, Output};

use crate::status::CoreStatus;

/// The switch as one sans-IO state machine, as the daemon sees it: connmgr's transport API, the
/// datapath's input, the operator's requests and status. Every method that takes `now` is an input.
pub trait SwitchCore {
    /// A connection arrived on `listener` (a target from [`Output::Listen`]) from `peer`
    /// ("tcp:IP:PORT", "unix:PATH" or "unix#N"). `None`: not wanted, close it.
    fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId>;
    /// Listening on `target` failed.
    fn handle_listen_error(&mut self, now: Instant, target: &str, err: ConnError);
    /// The transport asked for by [`Output::Connect`] is up.
    fn handle_connected(&mut self, now: Instant, conn: ConnId);
    /// The transport asked for by [`Output::Connect`] could not even be started.
    fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError);
    /// The connection attempt failed or the transport broke.
    fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError);
    fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]);
    /// `conn`'s receive buffer, for reading the socket straight into it instead of handing the
    /// core a copy: append the bytes, then [`SwitchCore::handle_received`]. `None`: read into a
    /// buffer of your own and call [`SwitchCore::handle_bytes`].
    fn recv_buffer(&mut self, conn: ConnId) -> Option<&mut BytesMut>;
    /// Bytes were appended to `conn`'s [`SwitchCore::recv_buffer`].
    fn handle_received(&mut self, now: Instant, conn: ConnId);
    /// The peer closed its side.
    fn handle_eof(&mut self, now: Instant, conn: ConnId);
    /// Whether the core takes more bytes from `conn` now. False while it holds enough unread input;
    /// the daemon then leaves the socket unread, so the peer's TCP window closes instead of the
    /// daemon's memory growing.
    fn may_read(&self, conn: ConnId) -> bool;
    /// The core's log name for `conn` ("br0<->tcp:127.0.0.1:6653"), shared rather than copied;
    /// `None` if it has none.
    fn conn_name(&self, conn: ConnId) -> Option<ConnName>;
    /// The next bytes to write on `conn`; called while the socket can take more.
    fn poll_transmit(&mut self, now: Instant, conn: ConnId) -> Option<Bytes>;
    fn poll_output(&mut self) -> Option<Output>;
    /// When `handle_timeout` next has work (a past instant means "now").
    fn poll_timeout(&self) -> Option<Instant>;
    /// Runs everything due: reads received messages, timers, packet-in releases.
    fn handle_timeout(&mut self, now: Instant);
    /// A frame arrived on built-in datapath port `port`.
    fn handle_frame(&mut self, now: Instant, port: u32, frame: Bytes) -> Result<(), String>;
    /// The next frame leaving a built-in port: (port, frame).
    fn poll_packet_out(&mut self) -> Option<(u32, Bytes)>;
    /// Drop and re-establish every controller connection (OVS `ofproto_reconnect_controllers`).
    fn reconnect(&mut self, now: Instant);
    fn status(&self, now: Instant) -> CoreStatus;
}

/// An input to the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    Accept {
        listener: &'a str,
        peer: &'a str,
    },
    ListenError {
        target: &'a str,
        err: ConnError,
    },
    Connected(ConnId),
    OpenFailed(ConnId, ConnError),
    Error(ConnId, ConnError),
    Bytes(ConnId, &'a [u8]),
    /// Bytes were read straight into the connection's `recv_buffer`.
    Received(ConnId),
    Eof(ConnId),
    /// Pulling bytes to write changes the core (a reply leaving its queue may let reading resume).
    Transmit(ConnId),
    Timeout,
    Frame {
        port: u32,
        frame: Bytes,
    },
    Reconnect,
}

/// What an input returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Fed {
    Nothing,
    Accepted(Option<ConnId>),
    Transmit(Option<Bytes>),
    Frame(Result<(), String>),
}

/// Hands one input to the core. Everything the core is told goes through here, so recording a run
/// (`--record`) is one line in this function.
pub fn feed<C: SwitchCore>(core: &mut C, now: Instant, input: Input<'_>) -> Fed {
    match input {
        Input::Accept { listener, peer } => return Fed::Accepted(core.handle_accept(now, listener, peer)),
        Input::ListenError { target, err } => core.handle_listen_error(now, target, err),
        Input::Connected(c) => core.handle_connected(now, c),
        Input::OpenFailed(c, err) => core.handle_open_failed(now, c, err),
        Input::Error(c, err) => core.handle_error(now, c, err),
        Input::Bytes(c, data) => core.handle_bytes(now, c, data),
        Input::Received(c) => core.handle_received(now, c),
        Input::Eof(c) => core.handle_eof(now, c),
        Input::Transmit(c) => return Fed::Transmit(core.poll_transmit(now, c)),
        Input::Timeout => core.handle_timeout(now),
        Input::Frame { port, frame } => return Fed::Frame(core.handle_frame(now, port, frame)),
        Input::Reconnect => core.reconnect(now),
    }
    Fed::Nothing
}
