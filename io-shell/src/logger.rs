//! A `log` backend writing OVS's log-file line format to stderr:
//! `2024-05-01T12:00:00.123Z|00042|connmgr|INFO|br0<->tcp:127.0.0.1:6653: connected`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Vlog {
    seq: AtomicU64,
}

static LOGGER: Vlog = Vlog { seq: AtomicU64::new(0) };

/// Installs the logger; `level` filters every module.
pub fn init(level: LevelFilter) {
    // Only fails if a logger is already installed, which leaves that one in place.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

impl Log for Vlog {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let line = format!(
            "{}|{seq:05}|{}|{}|{}\n",
            timestamp(SystemTime::now()),
            module(r.target()),
            level(r.level()),
            r.args()
        );
        // A closed stderr must not take the daemon down.
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// OVS's level names.
fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "ERR",
        Level::Warn => "WARN",
        Level::Info => "INFO",
        Level::Debug | Level::Trace => "DBG",
    }
}

/// The module as OVS names it: the cores log under OVS's module names ("connmgr", "rconn"); this
/// crate's module paths ("io_shell::event_loop") lose their crate prefix.
fn module(target: &str) -> &str {
    target.rsplit("::").next().unwrap_or(target)
}

/// UTC "YYYY-MM-DDTHH:MM:SS.mmmZ".
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{y:04}-{m:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}.{:03}Z", d.subsec_millis())
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (the well-known
/// era-based conversion).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_iso8601_with_millis() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (leap day) 12:34:56.789 UTC.
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(timestamp(t), "2000-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(timestamp(t), "2025-12-31T23:59:59.000Z");
    }

    #[test]
    fn modules_and_levels_as_ovs_names_them() {
        assert_eq!(module("io_shell::event_loop"), "event_loop");
        assert_eq!(module("connmgr"), "connmgr");
        assert_eq!(level(Level::Error), "ERR");
        assert_eq!(level(Level::Debug), "DBG");
    }
}
