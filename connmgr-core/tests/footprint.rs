//! The heap an idle OpenFlow connection keeps once its hello and an echo are done: thousands of
//! idle controller and tool connections should cost little (the io-shell issue asks for a quarter
//! of ovs-vswitchd's memory per connection). A counting allocator measures what stays allocated.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicIsize, Ordering};

use connmgr_core::fuzzing::NullOwner;
use connmgr_core::{Config, ConnId, ConnMgr, ControllerSettings};
use ofp_proto::msg::Hello;
use ofp_proto::{Instant, Message, OfpMsg, VersionBitmap};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap bytes per idle OF1.3 connection in connection management (OfConn, its rconn and vconn, map
/// entries, names, counters). Measured 498 when this was written (850 before queues, maps and counters
/// cost nothing while empty, 2,314 before the first slimming); the whole daemon then kept about 0.7 KB
/// of RSS per idle connection, ovs-vswitchd about 3 KB.
const BUDGET: isize = 550;

const N: u64 = 1000;
const LISTENER: &str = "ptcp:6653";

/// Runs every step due now and hands every queued byte to the (discarding) transport.
fn settle(mgr: &mut ConnMgr, owner: &mut NullOwner, now: Instant, ids: &[ConnId]) {
    loop {
        while mgr.poll_output().is_some() {}
        while mgr.poll_event().is_some() {}
        for id in ids {
            while mgr.poll_transmit(now, *id).is_some() {}
        }
        match mgr.poll_timeout() {
            Some(t) if t <= now => mgr.handle_timeout(now, owner),
            _ => return,
        }
    }
}

#[test]
fn an_idle_connection_keeps_less_than_the_budget() {
    let mut mgr = ConnMgr::new(Config { name: "br0".into(), seed: 1 });
    let mut owner = NullOwner;
    let now = Instant::from_secs(1000);
    let services = BTreeMap::from([(LISTENER.to_string(), ControllerSettings::default())]);
    assert!(mgr.set_controllers(now, &services, &mut owner).is_empty());
    settle(&mut mgr, &mut owner, now, &[]);

    let hello = OfpMsg::new(4, 1, Message::Hello(Hello::new(VersionBitmap(1 << 4)))).to_bytes();
    let echo = OfpMsg::new(4, 2, Message::EchoRequest(Default::default())).to_bytes();
    let mut ids = Vec::with_capacity(N as usize);
    // One connection comes and goes first, so that one-time tables (the codec's message index) are
    // built before counting.
    let warm = mgr.handle_accept(now, LISTENER, "tcp:127.0.0.1:19999").expect("accepted");
    for msg in [&hello, &echo] {
        mgr.handle_bytes(now, warm, msg);
    }
    mgr.handle_eof(now, warm);
    settle(&mut mgr, &mut owner, now, &[warm]);
    let before = LIVE.load(Ordering::Relaxed);
    for i in 0..N {
        let peer = format!("tcp:127.0.0.1:{}", 20000 + i);
        let id = mgr.handle_accept(now, LISTENER, &peer).expect("accepted");
        mgr.handle_bytes(now, id, &hello);
        mgr.handle_bytes(now, id, &echo);
        ids.push(id);
        settle(&mut mgr, &mut owner, now, &ids[ids.len() - 1..]);
    }
    let after = LIVE.load(Ordering::Relaxed);
    let ids_vec = (ids.capacity() * std::mem::size_of::<ConnId>()) as isize;
    let per_conn = (after - before - ids_vec) / N as isize;

    assert_eq!(mgr.memory_usage().ofconns, N as usize);
    assert!(ids.iter().all(|id| mgr.conn_info(*id).is_some_and(|c| c.protocol.is_some())), "every hello exchange done");
    eprintln!("heap per idle OF1.3 connection: {per_conn} bytes");
    assert!(per_conn <= BUDGET, "an idle connection keeps {per_conn} bytes of heap (budget {BUDGET})");
    // Nothing leaks while they come and go: closing them all returns to where it started.
    for id in &ids {
        mgr.handle_eof(now, *id);
        settle(&mut mgr, &mut owner, now, std::slice::from_ref(id));
    }
    assert_eq!((mgr.transports().count(), mgr.memory_usage().ofconns), (0, 0));
    let closed = LIVE.load(Ordering::Relaxed) - ids_vec;
    assert!(closed - before <= 1024, "{} bytes still allocated after every connection closed", closed - before);
}
