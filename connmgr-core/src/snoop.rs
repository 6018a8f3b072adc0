//! Snoop connections (OVS `add_snooper` and rconn monitors): an accepted transport that gets a copy
//! of every message to and from the most important controller.

use std::sync::Arc;

use bytes::Bytes;
use rconn_core::{ConnError, Vconn};

/// Copies queued to a snoop that has not read them at which further copies are dropped, as OVS
/// drops them when the snoop's stream would block.
const MAX_QUEUED_COPIES: usize = 100;

#[derive(Debug)]
pub(crate) struct Snoop {
    pub vconn: Vconn,
    /// The active service whose rconn copies to it.
    pub watching: Arc<str>,
    queued: usize,
}

impl Snoop {
    pub fn new(mut vconn: Vconn, watching: Arc<str>) -> Snoop {
        vconn.set_recv_any_version();
        Snoop { vconn, watching, queued: 0 }
    }

    /// Queues a copy unless the snoop is still saying hello or is not keeping up.
    pub fn copy(&mut self, msg: Bytes) {
        if self.queued < MAX_QUEUED_COPIES && self.vconn.send(msg).is_ok() {
            self.queued += 1;
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        let b = self.vconn.poll_transmit()?;
        self.queued = self.queued.saturating_sub(1);
        Some(b)
    }

    /// Bytes from the snoop were appended to its vconn's receive buffer: stray messages are
    /// discarded, as OVS does. Returns the error that ends the snoop, if any.
    pub fn handle_received(&mut self) -> Option<ConnError> {
        self.vconn.handle_received();
        while let Some(r) = self.vconn.recv() {
            if let Err(e) = r {
                return Some(e);
            }
        }
        self.vconn.error()
    }
}
