//! Transaction ids for messages we originate (OVS `alloc_xid`): a counter shared by every connection
//! that is handed a clone, starting at 1.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Hands out 1, 2, 3, … to all its clones together, as OVS numbers the hellos of all its connections.
#[derive(Clone, Debug)]
pub struct XidAllocator(Arc<AtomicU32>);

impl XidAllocator {
    pub fn new() -> Self {
        XidAllocator(Arc::new(AtomicU32::new(1)))
    }

    pub fn next_xid(&self) -> u32 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

impl Default for XidAllocator {
    fn default() -> Self {
        XidAllocator::new()
    }
}
