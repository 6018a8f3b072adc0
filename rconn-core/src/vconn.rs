//! Vconn: OpenFlow hello negotiation and the per-message version check over one byte stream
//! (OVS `lib/vconn.c`), sans-IO.

use bytes::{Bytes, BytesMut};
use log::{debug, error, log_enabled, warn, Level};
use ofp_proto::buf::Reader;
use ofp_proto::header::{Header, HEADER_LEN};
use ofp_proto::msg::hello::HelloJunk;
use ofp_proto::msg::Hello;
use ofp_proto::print::{hex_dump, ofp_to_string};
use ofp_proto::{raw, ErrorMsg, Framer, Message, MsgType, OfpErr, OfpMsg, VersionBitmap};

use crate::error::ConnError;
use crate::fifo::Fifo;
use crate::name::ConnName;

/// OVS's `enum vconn_state`. `SendHello` and `SendError` are passed through within one call here,
/// because queuing bytes for the caller never blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VconnState {
    /// The transport is not up yet.
    Connecting,
    SendHello,
    /// Our hello is queued; waiting for the peer's.
    RecvHello,
    Connected,
    SendError,
    Disconnected,
}

/// The connection is not (or no longer) in a state that can carry messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotConnected;

/// One OpenFlow connection's protocol layer: sends our hello as soon as the transport is up,
/// negotiates the version from the peer's hello, then hands out whole messages in that version.
#[derive(Debug)]
pub struct Vconn {
    /// Log lines name the target.
    name: ConnName,
    state: VconnState,
    error: Option<ConnError>,
    allowed: VersionBitmap,
    peer_versions: VersionBitmap,
    version: Option<u8>,
    recv_any_version: bool,
    framer: Framer,
    eof: bool,
    out: Fifo<Bytes>,
}

impl Vconn {
    /// A connection whose transport is still being opened. `name` (the target, e.g. `tcp:10.0.0.1:6653`)
    /// appears in log lines. An empty `allowed` set means OVS's default, OpenFlow 1.0 to 1.5; versions
    /// this codec does not implement are ignored.
    pub fn new(name: ConnName, allowed: VersionBitmap) -> Vconn {
        let allowed = allowed.intersect(VersionBitmap::DEFAULT);
        let allowed = if allowed.is_empty() { VersionBitmap::DEFAULT } else { allowed };
        Vconn {
            name,
            state: VconnState::Connecting,
            error: None,
            allowed,
            peer_versions: VersionBitmap(0),
            version: None,
            recv_any_version: false,
            framer: Framer::new(),
            eof: false,
            out: Fifo::new(),
        }
    }

    /// A connection on a transport that is already up (an accepted one): our hello is queued at once.
    pub fn accepted(name: ConnName, allowed: VersionBitmap, hello_xid: u32) -> Vconn {
        let mut v = Vconn::new(name, allowed);
        v.handle_connected(hello_xid);
        v
    }

    /// Deliver messages of any version without a version check (OVS `vconn_set_recv_any_version`),
    /// as for snoop connections.
    pub fn set_recv_any_version(&mut self) {
        self.recv_any_version = true;
    }

    /// The transport came up: queue our hello, numbered `hello_xid` (OVS takes the next of its
    /// process-wide transaction ids).
    pub fn handle_connected(&mut self, hello_xid: u32) {
        if self.state != VconnState::Connecting {
            return;
        }
        self.state = VconnState::SendHello;
        let hello = Hello::new(self.allowed);
        let hello = OfpMsg::new(hello.header_version(), hello_xid, Message::Hello(hello));
        self.out.push_back(hello.to_bytes());
        self.state = VconnState::RecvHello;
        self.recv_hello();
    }

    /// The transport failed (while connecting, or later).
    pub fn handle_error(&mut self, err: ConnError) {
        if self.state != VconnState::Disconnected {
            self.fail(err);
        }
    }

    /// Bytes arrived from the peer. Before the hello exchange is complete they are processed at once;
    /// afterwards they wait for [`Vconn::recv`].
    pub fn handle_bytes(&mut self, data: &[u8]) {
        if let Some(buf) = self.recv_buffer() {
            buf.extend_from_slice(data);
            self.handle_received();
        }
    }

    /// The receive buffer, for a caller that reads the transport straight into it (appending to
    /// it, then calling [`Vconn::handle_received`]) instead of passing a copy to
    /// [`Vconn::handle_bytes`]. `None` while received bytes would be discarded.
    pub fn recv_buffer(&mut self) -> Option<&mut BytesMut> {
        matches!(self.state, VconnState::RecvHello | VconnState::Connected).then(|| self.framer.buffer_mut())
    }

    /// Bytes were appended to [`Vconn::recv_buffer`]: as [`Vconn::handle_bytes`] after its copy.
    pub fn handle_received(&mut self) {
        if self.state == VconnState::RecvHello {
            self.recv_hello();
        }
    }

    /// The peer closed its side. Complete messages already received are still delivered.
    pub fn handle_eof(&mut self) {
        if matches!(self.state, VconnState::RecvHello | VconnState::Connected) {
            self.eof = true;
            if self.state == VconnState::RecvHello {
                self.recv_hello();
            }
        }
    }

    /// The next message received after the hello exchange, or the error that ended the connection
    /// (`Eof` for a normal close), reported once. A message in another version than the negotiated one
    /// is answered with OFPBRC_BAD_VERSION and suppressed, unless it is a hello, error or echo.
    pub fn recv(&mut self) -> Option<Result<Bytes, ConnError>> {
        while self.state == VconnState::Connected {
            match self.next_frame() {
                Ok(Some(frame)) => {
                    if self.version_ok(&frame) {
                        return Some(Ok(frame));
                    }
                }
                Ok(None) => return None,
                Err(e) => {
                    self.fail(e);
                    return Some(Err(e));
                }
            }
        }
        None
    }

    /// True if a complete message (or a framing error) is waiting for `recv`.
    pub fn has_input(&mut self) -> bool {
        let b = self.framer.buffer_mut();
        b.len() >= HEADER_LEN && b.len() >= usize::from(u16::from_be_bytes([b[2], b[3]]))
    }

    /// Bytes received and not yet handed out as messages.
    pub fn buffered_input(&self) -> usize {
        self.framer.buffered()
    }

    /// Queues a message for the peer; refused before the hello exchange completes or after failure.
    pub fn send(&mut self, msg: Bytes) -> Result<(), NotConnected> {
        if self.state != VconnState::Connected {
            return Err(NotConnected);
        }
        self.out.push_back(msg);
        Ok(())
    }

    /// The next bytes to write to the transport.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.out.pop_front()
    }

    /// Everything queued and not yet handed out, as one buffer (what to write before closing).
    pub fn take_unsent(&mut self) -> Bytes {
        match self.out.len() {
            0 => Bytes::new(),
            1 => self.out.pop_front().unwrap_or_default(),
            _ => {
                let mut b = BytesMut::new();
                for m in self.out.take_all() {
                    b.extend_from_slice(&m);
                }
                b.freeze()
            }
        }
    }

    pub fn state(&self) -> VconnState {
        self.state
    }

    /// Why the connection failed, once it has (OVS `vconn_get_status`).
    pub fn error(&self) -> Option<ConnError> {
        self.error
    }

    /// The negotiated version; on a failed negotiation, the version the HELLO_FAILED error was sent in.
    pub fn version(&self) -> Option<u8> {
        self.version
    }

    pub fn peer_versions(&self) -> VersionBitmap {
        self.peer_versions
    }

    pub fn allowed_versions(&self) -> VersionBitmap {
        self.allowed
    }

    pub fn name(&self) -> &str {
        self.name.target()
    }

    /// The name and target, shared (no copy of the text).
    pub fn conn_name(&self) -> &ConnName {
        &self.name
    }

    fn fail(&mut self, err: ConnError) {
        self.state = VconnState::Disconnected;
        self.error = Some(err);
    }

    /// The framer's next message; at the end of the stream, `Eof`, or a protocol error for a message cut
    /// short (OVS vconn-stream's "connection dropped mid-packet").
    fn next_frame(&mut self) -> Result<Option<Bytes>, ConnError> {
        match self.framer.next_frame() {
            Ok(Some(f)) => Ok(Some(f)),
            Ok(None) if !self.eof => {
                if self.framer.buffered() == 0 {
                    // Everything read was handed out: let the buffer go with the last message, so that
                    // an idle connection keeps none.
                    *self.framer.buffer_mut() = BytesMut::new();
                }
                Ok(None)
            }
            Ok(None) if self.framer.buffered() > 0 => {
                error!(target: "vconn_stream", "connection dropped mid-packet");
                Err(ConnError::PROTOCOL)
            }
            Ok(None) => Err(ConnError::Eof),
            Err(e) => {
                error!(target: "vconn_stream", "{e}");
                Err(ConnError::PROTOCOL)
            }
        }
    }

    fn recv_hello(&mut self) {
        let frame = match self.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => return,
            // The stream ending before the hello is a reset, as OVS reports it.
            Err(ConnError::Eof) => return self.fail(ConnError::CONNECTION_RESET),
            Err(e) => return self.fail(e),
        };
        let is_hello = matches!(raw::pull(&frame), Ok((r, _)) if r.msg_type() == MsgType::Hello);
        if !is_hello {
            warn!(target: "vconn", "{}: received message while expecting hello: {}", self.name.target(),
                  ofp_to_string(&frame, 1).trim_end());
            return self.fail(ConnError::PROTOCOL);
        }
        let hello = Hello::decode(frame[0], &mut Reader::new(frame.slice(HEADER_LEN..)));
        self.report_hello_oddities(&hello, &frame);
        self.peer_versions = hello.versions;

        let common = self.peer_versions.intersect(self.allowed);
        let (local_s, peer_s) = (version_bitmap_to_string(self.allowed), version_bitmap_to_string(self.peer_versions));
        match common.highest() {
            Some(v) => {
                self.version = Some(v);
                debug!(target: "vconn", "{}: negotiated OpenFlow version 0x{v:02x} (we support {local_s}, peer supports {peer_s})", self.name.target());
                self.state = VconnState::Connected;
            }
            None => {
                let v = self.peer_versions.highest().unwrap_or(1);
                self.version = Some(v);
                warn!(target: "vconn", "{}: version negotiation failed (we support {local_s}, peer supports {peer_s})", self.name.target());
                self.state = VconnState::SendError;
                self.out.push_back(hello_failed(v, &hello_failed_text(self.allowed, self.peer_versions)));
                self.fail(ConnError::PROTOCOL);
            }
        }
    }

    fn report_hello_oddities(&self, hello: &Hello, frame: &[u8]) {
        if hello.claimed_version0 {
            warn!(target: "ofp_util", "peer claims to support invalid OpenFlow version 0x00");
        }
        if hello.junk.contains(&HelloJunk::EmptyBitmap) {
            warn!(target: "ofp_util", "peer does not support any OpenFlow version (between 0x01 and 0x1f)");
        }
        if !hello.is_clean() && log_enabled!(target: "vconn", Level::Warn) {
            let mut dump = String::new();
            hex_dump(frame, 0, &mut dump);
            warn!(target: "vconn", "{}: unknown data in hello:\n{}", self.name.target(), dump.trim_end());
        }
    }

    /// After the hello exchange: true to deliver `frame`; false if it was answered with BAD_VERSION.
    fn version_ok(&mut self, frame: &Bytes) -> bool {
        let negotiated = self.version.unwrap_or(0);
        if self.recv_any_version || frame[0] == negotiated {
            return true;
        }
        let passes = matches!(raw::pull(frame), Ok((r, _)) if matches!(r.msg_type(),
            MsgType::Hello | MsgType::Error | MsgType::EchoRequest | MsgType::EchoReply));
        if !passes {
            error!(target: "vconn", "{}: received OpenFlow version 0x{:02x} != expected {negotiated:02x}", self.name.target(), frame[0]);
            self.out.push_back(error_reply(OfpErr::OFPBRC_BAD_VERSION, frame));
        }
        passes
    }
}

/// OVS's words for a version set in hello negotiation messages: "version 0x04", "version 0x04 and
/// earlier", "versions 0x01, 0x04", or "no versions".
pub fn version_bitmap_to_string(bitmap: VersionBitmap) -> String {
    let Some(top) = bitmap.highest() else {
        return "no versions".to_string();
    };
    if bitmap.0.is_power_of_two() {
        format!("version 0x{top:02x}")
    } else if ((bitmap.0 >> 1) + 1).is_power_of_two() {
        format!("version 0x{top:02x} and earlier")
    } else {
        let mut s = "versions ".to_string();
        Hello::format_bitmap(bitmap, &mut s);
        s
    }
}

/// The HELLO_FAILED text OVS sends, cut to 127 bytes as its 128-byte buffer does.
pub fn hello_failed_text(ours: VersionBitmap, peers: VersionBitmap) -> String {
    let mut s = format!(
        "We support {}, you support {}, no common versions.",
        version_bitmap_to_string(ours),
        version_bitmap_to_string(peers)
    );
    s.truncate(127);
    s
}

/// OpenFlow's error domain for `version`: OVS encodes errors for versions it does not know in OF1.0's.
fn error_domain_version(version: u8) -> u8 {
    if (1..=6).contains(&version) {
        version
    } else {
        1
    }
}

/// OFPT_ERROR HELLO_FAILED/INCOMPATIBLE with xid 0 (OVS `ofperr_encode_hello`).
pub fn hello_failed(version: u8, text: &str) -> Bytes {
    let body = Message::Error(ErrorMsg::hello_failed(OfpErr::OFPHFC_INCOMPATIBLE, text));
    OfpMsg::new(error_domain_version(version), 0, body).to_bytes()
}

/// The OFPT_ERROR answering `request` (OVS 3.1 `ofperr_encode_reply`): the request's version (OF1.0's
/// domain for unknown versions) and xid, and as much of the request as fits.
pub fn error_reply(err: OfpErr, request: &Bytes) -> Bytes {
    let h = Header::parse(request);
    let (version, xid) = h.map_or((1, 0), |h| (h.version, h.xid));
    let body = Message::Error(ErrorMsg::new(err, request.clone()));
    OfpMsg::new(error_domain_version(version), xid, body).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vb(bits: u32) -> VersionBitmap {
        VersionBitmap(bits)
    }

    #[test]
    fn bitmap_phrases() {
        assert_eq!(version_bitmap_to_string(vb(0)), "no versions");
        assert_eq!(version_bitmap_to_string(vb(1 << 4)), "version 0x04");
        assert_eq!(version_bitmap_to_string(vb(0b11110)), "version 0x04 and earlier");
        assert_eq!(version_bitmap_to_string(vb(0x12)), "versions 0x01, 0x04");
        assert_eq!(version_bitmap_to_string(vb(0x60)), "versions 0x05, 0x06");
        // A hello header version of 32 or more means every version up to 31.
        assert_eq!(version_bitmap_to_string(VersionBitmap::up_to(40)), "version 0x1f and earlier");
    }

    #[test]
    fn hello_failed_text_is_cut_at_127_bytes() {
        let t = hello_failed_text(vb(0x02), vb(0xaaaa_aaa8));
        assert_eq!(t.len(), 127);
        assert!(t.starts_with("We support version 0x01, you support versions 0x03, 0x05, 0x07,"));
        let short = hello_failed_text(vb(0x02), vb(0x10));
        assert_eq!(short, "We support version 0x01, you support version 0x04, no common versions.");
    }

    #[test]
    fn errors_for_unknown_versions_use_of10() {
        let b = hello_failed(0x1f, "x");
        assert_eq!(&b[..], [1, 1, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, b'x']);
        let req = Bytes::from_static(&[7, 5, 0, 8, 0, 0, 0, 9]);
        let b = error_reply(OfpErr::OFPBRC_BAD_VERSION, &req);
        assert_eq!(&b[..], [1, 1, 0, 20, 0, 0, 0, 9, 0, 1, 0, 0, 7, 5, 0, 8, 0, 0, 0, 9]);
    }

    #[test]
    fn error_reply_carries_the_whole_request() {
        let mut req = vec![4, 0x13, 0, 0, 0, 0, 0, 3];
        req.resize(100, 0xab);
        req[3] = 100;
        let b = error_reply(OfpErr::OFPBRC_BAD_VERSION, &Bytes::from(req.clone()));
        assert_eq!(b.len(), 12 + 100);
        assert_eq!(&b[12..], &req[..]);
    }

    #[test]
    fn bytes_read_into_the_receive_buffer_are_received_as_handed_over() {
        let mut v = Vconn::new("t".into(), VersionBitmap::DEFAULT);
        // Before the transport is up, bytes would be discarded: no buffer is lent.
        assert!(v.recv_buffer().is_none());
        v.handle_connected(1);
        let hello = [4, 0, 0, 8, 0, 0, 0, 1];
        let echo = [4, 2, 0, 12, 0, 0, 0, 7, b'a', b'b', b'c', b'd'];
        // A byte at a time, as the smallest reads would append them: the hello is taken as it
        // completes, the echo waits for `recv`.
        for b in hello.iter().chain(&echo) {
            v.recv_buffer().expect("receiving").extend_from_slice(&[*b]);
            v.handle_received();
        }
        assert_eq!((v.state(), v.version()), (VconnState::Connected, Some(4)));
        assert_eq!(v.recv(), Some(Ok(Bytes::copy_from_slice(&echo))));
        assert_eq!(v.recv(), None);
        // A message of another version is refused with BAD_VERSION either way.
        v.recv_buffer().unwrap().extend_from_slice(&[1, 18, 0, 8, 0, 0, 0, 9]);
        v.handle_received();
        assert_eq!(v.recv(), None);
        let reply = std::iter::from_fn(|| v.poll_transmit()).last().unwrap();
        assert_eq!(&reply[..4], [1, 1, 0, 20]);
        v.handle_error(ConnError::Eof);
        assert!(v.recv_buffer().is_none());
    }

    #[test]
    fn junk_after_the_hello_is_reported_not_fatal() {
        let mut v = Vconn::accepted("t".into(), VersionBitmap::DEFAULT, 1);
        v.handle_bytes(&[4, 0, 0, 16, 0, 0, 0, 1, 0, 9, 0, 8, 0, 0, 0, 0]);
        assert_eq!(v.state(), VconnState::Connected);
        assert_eq!(v.version(), Some(4));
    }
}
