//! `ofagent run --record FILE`: a [`SwitchCore`] wrapper that writes every input the core is given,
//! what it returned and what was drained from it, in the record format `ofsim replay` reads
//! (`ofproto_core::timeline`).

use std::io::{self, Write};

use bytes::{Bytes, BytesMut};
use ofp_proto::Instant;
use ofproto_core::timeline::{self, Entry, Fed, Recorded, Setup};
use rconn_core::{ConnError, ConnName};

use crate::core::{ConnId, Output, SwitchCore};
use crate::status::CoreStatus;

/// `core`, with everything that passes through it written to `out`.
pub struct Recording<C> {
    core: C,
    out: Option<Box<dyn Write>>,
    /// The time of the latest input: outputs drained after it are written with it.
    now: Instant,
}

impl<C: SwitchCore> Recording<C> {
    /// Starts the record with the `setup` the core was built from at `start`.
    pub fn new(core: C, start: Instant, setup: &Setup, mut out: Box<dyn Write>) -> io::Result<Recording<C>> {
        writeln!(out, "{}", Entry::Setup(start, setup))?;
        Ok(Recording { core, out: Some(out), now: start })
    }

    fn write(&mut self, entry: Entry<'_>) {
        let Some(out) = &mut self.out else { return };
        if let Err(e) = writeln!(out, "{entry}") {
            // A record with a hole would not replay: stop recording rather than write a wrong one.
            log::error!("record: {e}; recording stopped");
            self.out = None;
        }
    }

    fn input(&mut self, now: Instant, input: timeline::Input) {
        self.now = now;
        self.write(Entry::Input(now, &input));
    }

    fn fed(&mut self, fed: Fed) {
        self.write(Entry::Fed(self.now, &fed));
    }

    fn recorded(&mut self, r: Recorded) {
        self.write(Entry::Recorded(self.now, &r));
    }

    fn flush(&mut self) {
        if let Some(Err(e)) = self.out.as_mut().map(|o| o.flush()) {
            log::error!("record: {e}; recording stopped");
            self.out = None;
        }
    }
}

impl<C> Drop for Recording<C> {
    fn drop(&mut self) {
        if let Some(out) = &mut self.out {
            let _ = out.flush();
        }
    }
}

impl<C: SwitchCore> SwitchCore for Recording<C> {
    fn handle_accept(&mut self, now: Instant, listener: &str, peer: &str) -> Option<ConnId> {
        self.input(now, timeline::Input::Accept { listener: listener.into(), peer: peer.into() });
        let conn = self.core.handle_accept(now, listener, peer);
        self.fed(Fed::Accepted(conn));
        conn
    }

    fn handle_listen_error(&mut self, now: Instant, target: &str, err: ConnError) {
        self.input(now, timeline::Input::ListenError { target: target.into(), err });
        self.core.handle_listen_error(now, target, err)
    }

    fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        self.input(now, timeline::Input::Connected(conn));
        self.core.handle_connected(now, conn)
    }

    fn handle_open_failed(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        self.input(now, timeline::Input::OpenFailed(conn, err));
        self.core.handle_open_failed(now, conn, err)
    }

    fn handle_error(&mut self, now: Instant, conn: ConnId, err: ConnError) {
        self.input(now, timeline::Input::Error(conn, err));
        self.core.handle_error(now, conn, err)
    }

    fn handle_bytes(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        self.input(now, timeline::Input::Bytes(conn, Bytes::copy_from_slice(data)));
        self.core.handle_bytes(now, conn, data)
    }

    /// None: the daemon then hands every read over as `handle_bytes`, which the record holds.
    fn recv_buffer(&mut self, _conn: ConnId) -> Option<&mut BytesMut> {
        None
    }

    fn handle_received(&mut self, _now: Instant, _conn: ConnId) {
        unreachable!("recv_buffer lends no buffer while recording")
    }

    fn handle_eof(&mut self, now: Instant, conn: ConnId) {
        self.input(now, timeline::Input::Eof(conn));
        self.core.handle_eof(now, conn)
    }

    fn may_read(&self, conn: ConnId) -> bool {
        self.core.may_read(conn)
    }

    fn conn_name(&self, conn: ConnId) -> Option<ConnName> {
        self.core.conn_name(conn)
    }

    fn poll_transmit(&mut self, now: Instant, conn: ConnId) -> Option<Bytes> {
        self.input(now, timeline::Input::Transmit(conn));
        let data = self.core.poll_transmit(now, conn);
        self.fed(Fed::Transmit(data.clone()));
        data
    }

    fn poll_output(&mut self) -> Option<Output> {
        let out = self.core.poll_output()?;
        self.recorded(Recorded::Output(out.clone()));
        Some(out)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.input(now, timeline::Input::Timeout);
        self.core.handle_timeout(now);
        // Timers run about once per loop iteration: often enough that a killed daemon leaves
        // nearly all of its record behind.
        self.flush();
    }

    fn handle_frame(&mut self, now: Instant, port: u32, frame: Bytes) -> Result<(), String> {
        self.input(now, timeline::Input::Frame { port, frame: frame.clone() });
        let r = self.core.handle_frame(now, port, frame);
        self.fed(Fed::Frame(r.clone()));
        r
    }

    fn poll_packet_out(&mut self) -> Option<(u32, Bytes)> {
        let (port, frame) = self.core.poll_packet_out()?;
        self.recorded(Recorded::PacketOut { port, frame: frame.clone() });
        Some((port, frame))
    }

    fn reconnect(&mut self, now: Instant) {
        self.input(now, timeline::Input::Reconnect);
        self.core.reconnect(now)
    }

    fn status(&self, now: Instant) -> CoreStatus {
        self.core.status(now)
    }
}
