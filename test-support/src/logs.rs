//! A process-wide logger that keeps each test thread's lines apart, in the form
//! `LEVEL target: message` with OVS's level names.

use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    static LOGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, r: &log::Record) {
        let level = match r.level() {
            log::Level::Error => "ERR",
            log::Level::Warn => "WARN",
            log::Level::Info => "INFO",
            log::Level::Debug | log::Level::Trace => "DBG",
        };
        LOGS.with(|l| l.borrow_mut().push(format!("{level} {}: {}", r.target(), r.args())));
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;

/// Starts capturing log lines on this thread (each test runs on its own thread), dropping any
/// captured before.
pub fn capture_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&CAPTURE).expect("no other logger in tests");
        log::set_max_level(log::LevelFilter::Trace);
    });
    take_logs();
}

/// The log lines captured on this thread since the last call.
pub fn take_logs() -> Vec<String> {
    LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
}
