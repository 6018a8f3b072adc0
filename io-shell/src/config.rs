//! The agent's configuration: the embedded default, then a TOML file using OVS's column names, then
//! command-line flags, checked as a whole into one [`Config`] before anything starts. Defaults, units
//! and limits are OVS's (vswitch.ovsschema constraints, bridge.c conversions, connmgr.c/pinsched.c
//! adjustments); a value OVS's database would refuse is an error naming where it came from.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use ofp_proto::{Version, VersionBitmap};
use rconn_core::Target;
use serde::Serialize;

use crate::cli::{FailModeArg, RunArgs};
use crate::config_file;
use crate::control;

/// Settings of one configured target (OVS `struct ofproto_controller`), in the units the core takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Remote {
    /// As written (OVS keys controllers by the target string).
    pub target: String,
    /// Longest reconnection backoff, seconds (OVS: `max_backoff` ms / 1000, at least 1).
    pub max_backoff: u32,
    /// Seconds of silence before a probe; 0: never (OVS: unset 5 s, 0 off, else at least 5 s).
    pub probe_interval: u32,
    pub enable_async_messages: bool,
    #[serde(serialize_with = "versions_json")]
    pub allowed_versions: VersionBitmap,
    /// Packet-ins queued per connection, 1..=512.
    pub controller_queue_size: u32,
    /// Packet-ins per second; 0: no rate limiting.
    pub controller_rate_limit: u32,
    /// Packet-in burst in effect (a quarter of the rate unless set); 0 without a rate limit.
    pub controller_burst_limit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    Standalone,
    Secure,
}

impl fmt::Display for FailMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailMode::Standalone => "standalone",
            FailMode::Secure => "secure",
        })
    }
}

/// The configuration in effect (what `run --dry-run` prints).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    pub bridge: String,
    #[serde(serialize_with = "dpid_json")]
    pub datapath_id: u64,
    pub fail_mode: FailMode,
    #[serde(serialize_with = "versions_json")]
    pub protocols: VersionBitmap,
    /// Seconds (OVS: 0 means the default, 10).
    pub bundle_idle_timeout: u32,
    /// Built-in datapath ports, numbered 1..=ports.
    pub ports: u32,
    pub controllers: Vec<Remote>,
    pub listeners: Vec<Remote>,
    pub snoops: Vec<String>,
    pub control_socket: PathBuf,
    #[serde(serialize_with = "level_json")]
    pub log_level: log::LevelFilter,
    /// The switch's seed; `None`: drawn at startup (and logged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A configuration error; the daemon prints it and exits with status 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a setting was given, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `section` is e.g. "[bridge]" or "[[controller]]".
    File {
        path: String,
        line: usize,
        section: &'static str,
        key: String,
    },
    Flag(&'static str),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line, section: "", key } => write!(f, "{path}:{line}: {key}"),
            Origin::File { path, line, section, key } => write!(f, "{path}:{line}: {section} {key}"),
            Origin::Flag(flag) => f.write_str(flag),
            Origin::Default => f.write_str("default"),
        }
    }
}

impl Origin {
    pub fn error(&self, msg: impl fmt::Display) -> ConfigError {
        ConfigError(format!("{self}: {msg}"))
    }
}

/// A value and where it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    fn flag(value: T, flag: &'static str) -> Setting<T> {
        Setting { value, origin: Origin::Flag(flag) }
    }
}

/// One target's settings before checking; `None`: not given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRemote {
    pub target: Setting<String>,
    pub inactivity_probe: Option<Setting<i64>>,
    pub max_backoff: Option<Setting<i64>>,
    pub controller_rate_limit: Option<Setting<i64>>,
    pub controller_burst_limit: Option<Setting<i64>>,
    pub controller_queue_size: Option<Setting<i64>>,
    pub enable_async_messages: Option<Setting<bool>>,
    pub protocols: Option<Setting<Vec<String>>>,
}

impl RawRemote {
    pub fn new(target: Setting<String>) -> RawRemote {
        RawRemote {
            target,
            inactivity_probe: None,
            max_backoff: None,
            controller_rate_limit: None,
            controller_burst_limit: None,
            controller_queue_size: None,
            enable_async_messages: None,
            protocols: None,
        }
    }
}

/// Settings before checking, from one source; `None`: not given there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Raw {
    pub bridge: Option<Setting<String>>,
    pub datapath_id: Option<Setting<String>>,
    pub fail_mode: Option<Setting<String>>,
    pub protocols: Option<Setting<Vec<String>>>,
    pub bundle_idle_timeout: Option<Setting<i64>>,
    pub ports: Option<Setting<i64>>,
    pub controllers: Option<Vec<RawRemote>>,
    pub listeners: Option<Vec<RawRemote>>,
    pub snoops: Option<Vec<Setting<String>>>,
}

pub const DEFAULT_BRIDGE: &str = "br0";
pub const DEFAULT_DATAPATH_ID: u64 = 1;
pub const DEFAULT_PORTS: u32 = 4;
pub const DEFAULT_LISTENER: &str = "ptcp:6634:127.0.0.1";
/// OVS `BUNDLE_IDLE_TIMEOUT_DEFAULT`, seconds.
pub const BUNDLE_IDLE_TIMEOUT_DEFAULT: u32 = 10;
/// The highest port number OpenFlow 1.0 can carry (below `OFPP_MAX`).
pub const MAX_PORTS: i64 = 0xfeff;
/// vswitch.ovsschema `controller_queue_size` bounds and bridge.c's default.
const QUEUE_SIZE: (i64, i64, u32) = (1, 512, 100);

impl Config {
    /// The configuration for `ofagent run` with these arguments (reading `--config` if given).
    pub fn load(args: &RunArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
                config_file::parse(&path.display().to_string(), &text)?
            }
            None => Raw::default(),
        };
        resolve(file, args)
    }
}

/// Checks the file's settings with the flags applied on top.
pub fn resolve(file: Raw, args: &RunArgs) -> Result<Config, ConfigError> {
    let raw = apply_flags(file, args);
    let bridge = match raw.bridge {
        Some(s) => check_bridge_name(s)?,
        None => DEFAULT_BRIDGE.to_string(),
    };
    let protocols = match raw.protocols {
        Some(s) => versions(&s)?,
        None => VersionBitmap::DEFAULT,
    };
    let ports = raw.ports.map(|s| int_in(&s, 0, MAX_PORTS)).transpose()?.map_or(DEFAULT_PORTS, |v| v as u32);
    let bundle_idle_timeout = match raw.bundle_idle_timeout.map(|s| int_in(&s, 0, i64::from(u32::MAX))).transpose()? {
        None | Some(0) => BUNDLE_IDLE_TIMEOUT_DEFAULT,
        Some(v) => v as u32,
    };
    let default_listener = || vec![RawRemote::new(Setting { value: DEFAULT_LISTENER.into(), origin: Origin::Default })];
    let controllers = remotes(raw.controllers.unwrap_or_default(), false, protocols)?;
    let listeners = remotes(raw.listeners.unwrap_or_else(default_listener), true, protocols)?;
    let snoops = raw
        .snoops
        .unwrap_or_default()
        .into_iter()
        .map(|s| check_target(&s, true).map(|()| s.value))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeSet::new();
    let all = controllers.iter().chain(&listeners).map(|r| &r.target).chain(&snoops);
    if let Some(dup) = all.into_iter().find(|t| !seen.insert(t.as_str())) {
        return Err(ConfigError(format!("{dup}: target configured twice")));
    }
    Ok(Config {
        datapath_id: raw.datapath_id.map(|s| datapath_id(&s)).transpose()?.unwrap_or(DEFAULT_DATAPATH_ID),
        fail_mode: match raw.fail_mode {
            None => FailMode::Standalone,
            Some(s) => match s.value.as_str() {
                "standalone" => FailMode::Standalone,
                "secure" => FailMode::Secure,
                v => return Err(s.origin.error(format!("\"{v}\" is not one of standalone, secure"))),
            },
        },
        protocols,
        bundle_idle_timeout,
        ports,
        controllers,
        listeners,
        snoops,
        control_socket: args.control_socket.clone().unwrap_or_else(|| control::default_socket_path(&bridge)),
        log_level: match &args.log_level {
            Some(l) => {
                log_level(l).ok_or_else(|| Origin::Flag("--log-level").error(format!("unknown level \"{l}\"")))?
            }
            None => log::LevelFilter::Info,
        },
        seed: args.seed,
        bridge,
    })
}

/// Flags override the file: scalars replace, target lists replace, per-target settings apply to
/// every controller and listener.
fn apply_flags(mut raw: Raw, a: &RunArgs) -> Raw {
    let num = |v: Option<u64>, flag| v.map(|v| Setting::flag(i64::try_from(v).unwrap_or(i64::MAX), flag));
    if let Some(v) = &a.bridge {
        raw.bridge = Some(Setting::flag(v.clone(), "--bridge"));
    }
    if let Some(v) = &a.datapath_id {
        raw.datapath_id = Some(Setting::flag(v.clone(), "--datapath-id"));
    }
    if let Some(v) = a.fail_mode {
        let mode = if v == FailModeArg::Standalone { "standalone" } else { "secure" };
        raw.fail_mode = Some(Setting::flag(mode.to_string(), "--fail-mode"));
    }
    if let Some(v) = &a.protocols {
        // OVS's version lists are separated by commas or white space.
        let names = v.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty());
        raw.protocols = Some(Setting::flag(names.map(str::to_string).collect(), "--protocols"));
    }
    raw.bundle_idle_timeout = num(a.bundle_idle_timeout, "--bundle-idle-timeout").or(raw.bundle_idle_timeout);
    raw.ports = num(a.ports, "--ports").or(raw.ports);
    let targets = |v: &[String], flag| v.iter().map(|t| RawRemote::new(Setting::flag(t.clone(), flag))).collect();
    if !a.controllers.is_empty() {
        raw.controllers = Some(targets(&a.controllers, "--controller"));
    }
    if !a.listeners.is_empty() {
        raw.listeners = Some(targets(&a.listeners, "--listen"));
    }
    if !a.snoops.is_empty() {
        raw.snoops = Some(a.snoops.iter().map(|t| Setting::flag(t.clone(), "--snoop")).collect());
    }
    let per_target = [
        num(a.inactivity_probe, "--inactivity-probe"),
        num(a.max_backoff, "--max-backoff"),
        num(a.controller_rate_limit, "--controller-rate-limit"),
        num(a.controller_burst_limit, "--controller-burst-limit"),
        num(a.controller_queue_size, "--controller-queue-size"),
    ];
    for r in raw.controllers.iter_mut().chain(raw.listeners.iter_mut()).flatten() {
        let fields = [
            &mut r.inactivity_probe,
            &mut r.max_backoff,
            &mut r.controller_rate_limit,
            &mut r.controller_burst_limit,
            &mut r.controller_queue_size,
        ];
        for (field, flag) in fields.into_iter().zip(&per_target) {
            if flag.is_some() {
                field.clone_from(flag);
            }
        }
    }
    raw
}

fn remotes(raw: Vec<RawRemote>, passive: bool, protocols: VersionBitmap) -> Result<Vec<Remote>, ConfigError> {
    raw.into_iter().map(|r| remote(r, passive, protocols)).collect()
}

/// One target with OVS's defaults and conversions (bridge.c `bridge_configure_remotes`, connmgr.c
/// `ofconn_reconfigure`, pinsched.c `adjust_limits`).
fn remote(r: RawRemote, passive: bool, protocols: VersionBitmap) -> Result<Remote, ConfigError> {
    check_target(&r.target, passive)?;
    let probe_interval = match r.inactivity_probe.map(|s| int_in(&s, 0, i64::from(u32::MAX) * 1000)).transpose()? {
        None => 5,
        Some(0) => 0,
        // bridge.c turns anything under a second into 1 s, and connmgr raises every probe to 5 s.
        Some(ms) => ((ms / 1000).max(1) as u32).max(5),
    };
    let max_backoff = match r.max_backoff.map(|s| int_in(&s, 1000, i64::from(u32::MAX) * 1000)).transpose()? {
        None => 8,
        Some(ms) => (ms / 1000) as u32,
    };
    let rate = r.controller_rate_limit.map(|s| int_in(&s, 100, i64::from(i32::MAX))).transpose()?;
    let burst = r.controller_burst_limit.map(|s| int_in(&s, 25, i64::from(i32::MAX))).transpose()?;
    let queue = r.controller_queue_size.map(|s| int_in(&s, QUEUE_SIZE.0, QUEUE_SIZE.1)).transpose()?;
    Ok(Remote {
        target: r.target.value,
        max_backoff,
        probe_interval,
        enable_async_messages: r.enable_async_messages.is_none_or(|s| s.value),
        allowed_versions: r.protocols.map(|s| versions(&s)).transpose()?.unwrap_or(protocols),
        controller_queue_size: queue.map_or(QUEUE_SIZE.2, |v| v as u32),
        controller_rate_limit: rate.unwrap_or(0) as u32,
        controller_burst_limit: match rate {
            None => 0,
            Some(rate) => burst.unwrap_or(rate / 4) as u32,
        },
    })
}

/// Targets in OVS syntax; active ones for controllers, passive ones for listeners and snoops.
fn check_target(s: &Setting<String>, passive: bool) -> Result<(), ConfigError> {
    let t = Target::parse(&s.value).map_err(|e| s.origin.error(e))?;
    if t.is_ssl() {
        return Err(s
            .origin
            .error(format!("{}: SSL connections are not supported yet (use tcp:/ptcp: or unix:/punix:)", s.value)));
    }
    match (passive, t.is_passive()) {
        (true, false) => Err(s.origin.error(format!("{}: expected a passive target (ptcp: or punix:)", s.value))),
        (false, true) => Err(s
            .origin
            .error(format!("{}: expected an active target (tcp: or unix:); passive targets are listeners", s.value))),
        _ => Ok(()),
    }
}

/// An integer within OVS's limits for the setting.
fn int_in(s: &Setting<i64>, min: i64, max: i64) -> Result<i64, ConfigError> {
    match s.value {
        v if v < min => Err(s.origin.error(format!("{v} is less than minimum allowed value {min}"))),
        v if v > max => Err(s.origin.error(format!("{v} is greater than maximum allowed value {max}"))),
        v => Ok(v),
    }
}

/// OVS `dpid_from_string`: exactly 16 hex digits, or "0x" and up to 16; zero is not a datapath ID.
fn datapath_id(s: &Setting<String>) -> Result<u64, ConfigError> {
    let v = s.value.as_str();
    let digits = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(d) if (1..=16).contains(&d.len()) => d,
        None if v.len() == 16 => v,
        _ => "",
    };
    match u64::from_str_radix(digits, 16) {
        Ok(id) if id != 0 && digits.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(id),
        _ => Err(s
            .origin
            .error(format!("\"{v}\" is not a datapath ID (16 hex digits, or 0x and up to 16 hex digits, not zero)"))),
    }
}

/// Bridge names become file names (the control socket) and interface-like names: at most 15 of
/// letters, digits, '_', '-' and '.', not starting with '.'.
fn check_bridge_name(s: Setting<String>) -> Result<String, ConfigError> {
    let v = &s.value;
    let ok_chars = v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if v.is_empty() || v.len() > 15 || !ok_chars || v.starts_with('.') {
        return Err(s.origin.error(format!(
            "\"{v}\" is not a bridge name (1 to 15 letters, digits, '_', '-' or '.', not starting with '.')"
        )));
    }
    Ok(s.value)
}

/// OVS `ofputil_versions_from_strings` (names compared without case); an empty list means all.
fn versions(s: &Setting<Vec<String>>) -> Result<VersionBitmap, ConfigError> {
    let vs = s
        .value
        .iter()
        .map(|n| Version::from_ovs_name(n).ok_or_else(|| s.origin.error(format!("Unknown OpenFlow version: \"{n}\""))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if vs.is_empty() { VersionBitmap::DEFAULT } else { VersionBitmap::from_versions(vs) })
}

fn log_level(s: &str) -> Option<log::LevelFilter> {
    use log::LevelFilter as L;
    Some(match s.to_ascii_lowercase().as_str() {
        "off" => L::Off,
        "emer" | "err" | "error" => L::Error,
        "warn" => L::Warn,
        "info" => L::Info,
        "dbg" | "debug" => L::Debug,
        "trace" => L::Trace,
        _ => return None,
    })
}

fn dpid_json<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:016x}"))
}

fn versions_json<S: serde::Serializer>(v: &VersionBitmap, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().filter_map(Version::from_wire).map(Version::ovs_name))
}

fn level_json<S: serde::Serializer>(v: &log::LevelFilter, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.as_str().to_ascii_lowercase())
}

/// The datapath ID as OVS's `datapath_id` column shows it.
pub fn dpid_string(dpid: u64) -> String {
    format!("{dpid:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut RunArgs)) -> RunArgs {
        let mut a = RunArgs { control_socket: Some("/nonexistent/x.ctl".into()), ..RunArgs::default() };
        f(&mut a);
        a
    }

    fn one(f: impl FnOnce(&mut RunArgs)) -> Result<Remote, ConfigError> {
        let a = args(|a| {
            a.controllers = vec!["tcp:127.0.0.1".into()];
            f(a)
        });
        resolve(Raw::default(), &a).map(|c| c.controllers[0].clone())
    }

    #[test]
    fn embedded_default() {
        let c = resolve(Raw::default(), &args(|_| {})).unwrap();
        assert_eq!((c.bridge.as_str(), c.datapath_id, c.ports), ("br0", 1, 4));
        assert_eq!(c.fail_mode, FailMode::Standalone);
        assert_eq!(c.protocols, VersionBitmap::DEFAULT);
        assert_eq!(c.bundle_idle_timeout, 10);
        assert!(c.controllers.is_empty() && c.snoops.is_empty());
        assert_eq!(c.listeners.len(), 1);
        let l = &c.listeners[0];
        assert_eq!((l.target.as_str(), l.probe_interval, l.max_backoff), ("ptcp:6634:127.0.0.1", 5, 8));
    }

    #[test]
    fn probe_backoff_and_rate_conversions_follow_ovs() {
        // (inactivity_probe ms, probe_interval s): unset 5 s, 0 off, under a second and under 5 s → 5 s.
        for (ms, secs) in [(None, 5), (Some(0), 0), (Some(1), 5), (Some(999), 5), (Some(4999), 5), (Some(7500), 7)] {
            assert_eq!(one(|a| a.inactivity_probe = ms).unwrap().probe_interval, secs, "{ms:?}");
        }
        for (ms, secs) in [(None, 8), (Some(1000), 1), (Some(1999), 1), (Some(60_000), 60)] {
            assert_eq!(one(|a| a.max_backoff = ms).unwrap().max_backoff, secs, "{ms:?}");
        }
        let e = one(|a| a.max_backoff = Some(999)).unwrap_err();
        assert_eq!(e.0, "--max-backoff: 999 is less than minimum allowed value 1000");
        let r = one(|a| a.controller_rate_limit = Some(1000)).unwrap();
        assert_eq!((r.controller_rate_limit, r.controller_burst_limit), (1000, 250));
        let r = one(|a| (a.controller_rate_limit, a.controller_burst_limit) = (Some(100), Some(40))).unwrap();
        assert_eq!((r.controller_rate_limit, r.controller_burst_limit), (100, 40));
        assert_eq!(one(|a| a.controller_burst_limit = Some(40)).unwrap().controller_burst_limit, 0);
        assert!(one(|a| a.controller_rate_limit = Some(99)).is_err());
        assert!(one(|a| a.controller_burst_limit = Some(24)).is_err());
        assert_eq!(one(|_| {}).unwrap().controller_queue_size, 100);
        assert!(one(|a| a.controller_queue_size = Some(0)).is_err());
        assert!(one(|a| a.controller_queue_size = Some(513)).is_err());
        assert_eq!(one(|a| a.controller_queue_size = Some(512)).unwrap().controller_queue_size, 512);
    }

    #[test]
    fn datapath_ids_as_ovs_reads_them() {
        let id = |s: &str| datapath_id(&Setting::flag(s.to_string(), "--datapath-id"));
        assert_eq!(id("0000000000000abc"), Ok(0xabc));
        assert_eq!(id("0x1"), Ok(1));
        assert_eq!(id("0XFFFFFFFFFFFFFFFF"), Ok(u64::MAX));
        for bad in ["1", "0x", "0x0", "0000000000000000", "0x12345678901234567", "000000000000000g", "+x1", "0x+1"] {
            assert!(id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn targets_are_checked() {
        let e = |f: fn(&mut RunArgs)| resolve(Raw::default(), &args(f)).unwrap_err().0;
        assert_eq!(
            e(|a| a.controllers = vec!["ssl:1.2.3.4".into()]),
            "--controller: ssl:1.2.3.4: SSL connections are not supported yet (use tcp:/ptcp: or unix:/punix:)"
        );
        assert_eq!(
            e(|a| a.listeners = vec!["tcp:1.2.3.4".into()]),
            "--listen: tcp:1.2.3.4: expected a passive target (ptcp: or punix:)"
        );
        assert_eq!(e(|a| a.controllers = vec!["tcp:".into()]), "--controller: tcp:: host must be specified");
        assert_eq!(e(|a| a.snoops = vec![DEFAULT_LISTENER.into()]), "ptcp:6634:127.0.0.1: target configured twice");
        assert_eq!(
            e(|a| a.protocols = Some("OpenFlow10, OpenFlow99".into())),
            "--protocols: Unknown OpenFlow version: \"OpenFlow99\""
        );
    }
}
