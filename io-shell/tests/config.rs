//! Configuration through the binary: every flag, the embedded default, OVS's defaults and limits,
//! file-then-flags precedence, and bad files (exit status 2, the line and key named, nothing started).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;

use serde_json::{json, Value};

use common::{run, text, TempDir};

/// `ofagent run --dry-run ARGS`: the configuration in effect.
fn effective(args: &[&str]) -> Value {
    let mut a = vec!["run", "--dry-run", "--control-socket", "/nonexistent/ofagent.ctl"];
    a.extend_from_slice(args);
    let out = run(&a);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `ofagent run ARGS` must fail with status 2 and this message, without starting anything.
fn refused(args: &[&str]) -> String {
    let dir = TempDir::new("refused");
    let ctl = dir.path("ctl");
    let mut a = vec!["run", "--control-socket", ctl.to_str().unwrap()];
    a.extend_from_slice(args);
    let out = run(&a);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(!ctl.exists(), "{args:?} created the control socket");
    text(&out.stderr)
}

#[test]
fn every_run_flag_is_parsed() {
    let dir = TempDir::new("flags");
    let file = dir.write("c.toml", "[[snoop]]\ntarget = \"punix:/tmp/from-file.snoop\"\n");
    let c = effective(&[
        "--config",
        file.to_str().unwrap(),
        "--bridge",
        "br7",
        "--datapath-id",
        "00000000000000ff",
        "--controller",
        "tcp:10.0.0.1",
        "--controller",
        "unix:/run/c.sock",
        "--listen",
        "ptcp:6635",
        "--listen",
        "punix:/run/l.sock",
        "--snoop",
        "ptcp:6699:127.0.0.1",
        "--protocols",
        "OpenFlow13,openflow14",
        "--inactivity-probe",
        "9000",
        "--max-backoff",
        "3000",
        "--controller-rate-limit",
        "400",
        "--controller-burst-limit",
        "30",
        "--controller-queue-size",
        "7",
        "--fail-mode",
        "secure",
        "--bundle-idle-timeout",
        "20",
        "--ports",
        "8",
        "--log-level",
        "warn",
        "--seed",
        "42",
    ]);
    let remote = |target: &str| {
        json!({
            "target": target, "max_backoff": 3, "probe_interval": 9, "enable_async_messages": true,
            "allowed_versions": ["OpenFlow13", "OpenFlow14"], "controller_queue_size": 7,
            "controller_rate_limit": 400, "controller_burst_limit": 30
        })
    };
    assert_eq!(
        c,
        json!({
            "bridge": "br7",
            "datapath_id": "00000000000000ff",
            "fail_mode": "secure",
            "protocols": ["OpenFlow13", "OpenFlow14"],
            "bundle_idle_timeout": 20,
            "ports": 8,
            "controllers": [remote("tcp:10.0.0.1"), remote("unix:/run/c.sock")],
            "listeners": [remote("ptcp:6635"), remote("punix:/run/l.sock")],
            "snoops": ["ptcp:6699:127.0.0.1"],
            "control_socket": "/nonexistent/ofagent.ctl",
            "log_level": "warn",
            "seed": 42
        })
    );
}

#[test]
fn embedded_default() {
    let c = effective(&[]);
    assert_eq!(
        c,
        json!({
            "bridge": "br0",
            "datapath_id": "0000000000000001",
            "fail_mode": "standalone",
            "protocols": ["OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"],
            "bundle_idle_timeout": 10,
            "ports": 4,
            "controllers": [],
            "listeners": [{
                "target": "ptcp:6634:127.0.0.1", "max_backoff": 8, "probe_interval": 5,
                "enable_async_messages": true,
                "allowed_versions": ["OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"],
                "controller_queue_size": 100, "controller_rate_limit": 0, "controller_burst_limit": 0
            }],
            "snoops": [],
            "control_socket": "/nonexistent/ofagent.ctl",
            "log_level": "info"
        })
    );
}

/// OVS's defaults and limits (vswitch.ovsschema, bridge.c, connmgr.c, pinsched.c, ofproto.c): the
/// flags given, the setting checked, the value in effect, or `Err(message)`.
#[test]
fn defaults_and_limits_table() {
    type Row<'a> = (&'a [&'a str], &'a str, Result<Value, &'a str>);
    let rows: &[Row<'_>] = &[
        // inactivity_probe (ms) → probe interval (s): unset 5 s, 0 off, anything under 5 s is 5 s.
        (&[], "probe_interval", Ok(json!(5))),
        (&["--inactivity-probe", "0"], "probe_interval", Ok(json!(0))),
        (&["--inactivity-probe", "1"], "probe_interval", Ok(json!(5))),
        (&["--inactivity-probe", "999"], "probe_interval", Ok(json!(5))),
        (&["--inactivity-probe", "4999"], "probe_interval", Ok(json!(5))),
        (&["--inactivity-probe", "5000"], "probe_interval", Ok(json!(5))),
        (&["--inactivity-probe", "12999"], "probe_interval", Ok(json!(12))),
        // max_backoff (ms) → seconds: default 8 s, at least 1000 ms.
        (&[], "max_backoff", Ok(json!(8))),
        (&["--max-backoff", "1000"], "max_backoff", Ok(json!(1))),
        (&["--max-backoff", "2500"], "max_backoff", Ok(json!(2))),
        (&["--max-backoff", "999"], "max_backoff", Err("--max-backoff: 999 is less than minimum allowed value 1000")),
        // controller_queue_size: default 100, 1..=512.
        (&[], "controller_queue_size", Ok(json!(100))),
        (&["--controller-queue-size", "1"], "controller_queue_size", Ok(json!(1))),
        (&["--controller-queue-size", "512"], "controller_queue_size", Ok(json!(512))),
        (&["--controller-queue-size", "0"], "", Err("--controller-queue-size: 0 is less than minimum allowed value 1")),
        (
            &["--controller-queue-size", "513"],
            "",
            Err("--controller-queue-size: 513 is greater than maximum allowed value 512"),
        ),
        // Rate limit: off by default, at least 100; burst at least 25, default a quarter of the rate.
        (&[], "controller_rate_limit", Ok(json!(0))),
        (&[], "controller_burst_limit", Ok(json!(0))),
        (&["--controller-rate-limit", "100"], "controller_burst_limit", Ok(json!(25))),
        (&["--controller-rate-limit", "1000"], "controller_burst_limit", Ok(json!(250))),
        (
            &["--controller-rate-limit", "1000", "--controller-burst-limit", "25"],
            "controller_burst_limit",
            Ok(json!(25)),
        ),
        (&["--controller-burst-limit", "50"], "controller_burst_limit", Ok(json!(0))),
        (
            &["--controller-rate-limit", "99"],
            "",
            Err("--controller-rate-limit: 99 is less than minimum allowed value 100"),
        ),
        (
            &["--controller-burst-limit", "24"],
            "",
            Err("--controller-burst-limit: 24 is less than minimum allowed value 25"),
        ),
        // Bridge settings: bundle idle timeout 0 means OVS's 10 s; ports up to 0xfeff.
        (&[], "bundle_idle_timeout", Ok(json!(10))),
        (&["--bundle-idle-timeout", "0"], "bundle_idle_timeout", Ok(json!(10))),
        (&["--bundle-idle-timeout", "3"], "bundle_idle_timeout", Ok(json!(3))),
        (&["--ports", "0"], "ports", Ok(json!(0))),
        (&["--ports", "65279"], "ports", Ok(json!(65279))),
        (&["--ports", "65280"], "", Err("--ports: 65280 is greater than maximum allowed value 65279")),
        (&["--datapath-id", "0x1f"], "datapath_id", Ok(json!("000000000000001f"))),
        (
            &["--datapath-id", "1f"],
            "",
            Err("--datapath-id: \"1f\" is not a datapath ID (16 hex digits, or 0x and up to 16 hex digits, not zero)"),
        ),
        (
            &["--protocols", ""],
            "protocols",
            Ok(json!(["OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15"])),
        ),
        (&["--protocols", "OpenFlow15 OpenFlow10"], "protocols", Ok(json!(["OpenFlow10", "OpenFlow15"]))),
    ];
    for (flags, key, want) in rows {
        let mut args = vec!["--controller", "tcp:127.0.0.1"];
        args.extend_from_slice(flags);
        match want {
            Ok(v) => {
                let c = effective(&args);
                let got = c.get(*key).unwrap_or(&c["controllers"][0][*key]);
                assert_eq!(got, v, "{flags:?} {key}");
            }
            Err(msg) => assert_eq!(refused(&args), format!("ofagent: {msg}\n"), "{flags:?}"),
        }
    }
}

#[test]
fn flags_override_the_file() {
    let dir = TempDir::new("override");
    let file = dir.write(
        "c.toml",
        r#"
[bridge]
name = "br1"
datapath_id = "0x10"
fail_mode = "secure"
protocols = ["OpenFlow13"]
ports = 2

[[controller]]
target = "tcp:10.0.0.1:6633"
inactivity_probe = 7000
max_backoff = 4000
enable_async_messages = false
protocols = ["OpenFlow10"]

[[listener]]
target = "ptcp:6640"
controller_queue_size = 50
"#,
    );
    let f = file.to_str().unwrap();
    let c = effective(&["--config", f]);
    assert_eq!(
        (c["bridge"].clone(), c["datapath_id"].clone(), c["fail_mode"].clone()),
        (json!("br1"), json!("0000000000000010"), json!("secure"))
    );
    assert_eq!(c["ports"], 2);
    let ctl = &c["controllers"][0];
    assert_eq!((ctl["probe_interval"].clone(), ctl["max_backoff"].clone()), (json!(7), json!(4)));
    assert_eq!(ctl["enable_async_messages"], false);
    assert_eq!(ctl["allowed_versions"], json!(["OpenFlow10"]));
    // The listener takes the bridge's protocols; the file replaces the default listener.
    assert_eq!(c["listeners"][0]["allowed_versions"], json!(["OpenFlow13"]));
    assert_eq!(c["listeners"][0]["controller_queue_size"], 50);
    assert_eq!(c["listeners"].as_array().unwrap().len(), 1);

    let c = effective(&["--config", f, "--bridge", "br2", "--inactivity-probe", "9000", "--fail-mode", "standalone"]);
    assert_eq!((c["bridge"].clone(), c["fail_mode"].clone()), (json!("br2"), json!("standalone")));
    assert_eq!(c["controllers"][0]["probe_interval"], 9);
    assert_eq!(c["listeners"][0]["probe_interval"], 9);
    // Flags replace target lists, keeping the file's settings elsewhere.
    let c = effective(&["--config", f, "--controller", "tcp:10.0.0.9"]);
    assert_eq!(c["controllers"].as_array().unwrap().len(), 1);
    assert_eq!(c["controllers"][0]["target"], "tcp:10.0.0.9");
    assert_eq!(c["controllers"][0]["probe_interval"], 5);
    assert_eq!(c["listeners"][0]["target"], "ptcp:6640");
    // `listener = []` means no listener at all.
    let none = dir.write("none.toml", "listener = []\n");
    assert_eq!(effective(&["--config", none.to_str().unwrap()])["listeners"], json!([]));
}

#[test]
fn bad_files_name_the_line_and_key_and_exit_2() {
    let dir = TempDir::new("bad");
    let cases: &[(&str, &str)] = &[
        ("[bridge]\nname = \"br0\"\nport = 4\n", "3: [bridge] port: unknown key (expected one of: name, datapath_id, fail_mode, protocols, bundle_idle_timeout, ports)"),
        ("[bridge]\nports = \"four\"\n", "2: [bridge] ports: expected an integer, found string"),
        ("[bridge]\ndatapath_id = \"0\"\n", "2: [bridge] datapath_id: \"0\" is not a datapath ID (16 hex digits, or 0x and up to 16 hex digits, not zero)"),
        ("[bridge]\nfail_mode = \"open\"\n", "2: [bridge] fail_mode: \"open\" is not one of standalone, secure"),
        ("[bridge]\nprotocols = [\"OpenFlow13\", \"OpenFlow16\"]\n", "2: [bridge] protocols: Unknown OpenFlow version: \"OpenFlow16\""),
        ("[bridge]\nname = \"a/b\"\n", "2: [bridge] name: \"a/b\" is not a bridge name (1 to 15 letters, digits, '_', '-' or '.', not starting with '.')"),
        (
            "[[controller]]\ntarget = \"tcp:127.0.0.1\"\n\n[[controller]]\ntarget = \"tcp:127.0.0.2\"\ncontroller_rate_limit = 50\n",
            "6: [[controller]] controller_rate_limit: 50 is less than minimum allowed value 100",
        ),
        ("[[controller]]\ntarget = \"ssl:127.0.0.1\"\n", "2: [[controller]] target: ssl:127.0.0.1: SSL connections are not supported yet (use tcp:/ptcp: or unix:/punix:)"),
        ("[[controller]]\ntarget = \"ptcp:6653\"\n", "2: [[controller]] target: ptcp:6653: expected an active target (tcp: or unix:); passive targets are listeners"),
        ("[[controller]]\ntarget = \"tcp:localhost\"\n", "2: [[controller]] target: tcp:localhost: bad IP address (host names are not resolved)"),
        ("[[controller]]\ntarget = \"tcp:127.0.0.1\"\nenable_async_messages = 1\n", "3: [[controller]] enable_async_messages: expected true or false, found integer"),
        ("[[listener]]\ninactivity_probe = 1000\n", "1: [[listener]] target: missing (every entry needs a target)"),
        ("[[listener]]\ntarget = \"ptcp:6640\"\nmax_backoff = -1\n", "3: [[listener]] max_backoff: -1 is less than minimum allowed value 1000"),
        ("[[snoop]]\ntarget = \"tcp:1.2.3.4\"\n", "2: [[snoop]] target: tcp:1.2.3.4: expected a passive target (ptcp: or punix:)"),
        ("[switch]\nname = \"x\"\n", "1: switch: unknown section (expected [bridge], [[controller]], [[listener]], [[snoop]])"),
        ("controller = \"tcp:1.2.3.4\"\n", "1: controller: expected an array of tables ([[section]]), found string"),
    ];
    for (i, (contents, want)) in cases.iter().enumerate() {
        let f = dir.write(&format!("bad{i}.toml"), contents);
        let err = refused(&["--config", f.to_str().unwrap()]);
        assert_eq!(err, format!("ofagent: {}:{want}\n", f.display()), "{contents}");
    }
    // Syntax errors name the line too.
    let f = dir.write("syntax.toml", "[bridge]\nname = \"br0\"\nports = = 4\n");
    let err = refused(&["--config", f.to_str().unwrap()]);
    assert!(err.starts_with(&format!("ofagent: {}:3: ", f.display())), "{err}");
    let f = dir.write("dup.toml", "[bridge]\nports = 1\nports = 2\n");
    let err = refused(&["--config", f.to_str().unwrap()]);
    assert!(err.starts_with(&format!("ofagent: {}:3: ", f.display())), "{err}");
    let missing = dir.path("missing.toml");
    let err = refused(&["--config", missing.to_str().unwrap()]);
    assert!(err.starts_with(&format!("ofagent: {}: cannot read: ", missing.display())), "{err}");
}

#[test]
fn bad_flags_exit_2() {
    assert_eq!(refused(&["--controller", "udp:1.2.3.4"]), "ofagent: --controller: udp:1.2.3.4: unknown connection type (expected tcp:, ssl:, unix:, ptcp:, pssl: or punix:)\n");
    assert_eq!(refused(&["--log-level", "loud"]), "ofagent: --log-level: unknown level \"loud\"\n");
    assert_eq!(
        refused(&["--listen", "ptcp:6634", "--listen", "ptcp:6634"]),
        "ofagent: ptcp:6634: target configured twice\n"
    );
    // Usage errors come from clap, with the same status.
    assert!(refused(&["--fail-mode", "open"]).contains("invalid value 'open' for '--fail-mode <MODE>'"));
    assert!(refused(&["--ports", "x"]).contains("invalid value 'x' for '--ports <N>'"));
    assert!(refused(&["--no-such-flag"]).contains("unexpected argument '--no-such-flag'"));
}

#[test]
fn help_lists_the_subcommands() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let t = text(&out.stdout);
    for cmd in ["run", "status", "inject", "reconnect", "ofp-print"] {
        assert!(t.lines().any(|l| l.trim_start().starts_with(cmd)), "{cmd} missing from:\n{t}");
    }
    let out = run(&["status", "--help"]);
    assert!(text(&out.stdout).contains("--json") && text(&out.stdout).contains("--control-socket"));
    let out = run(&["inject", "--help"]);
    assert!(text(&out.stdout).contains("--port <N>"));
    assert_eq!(run(&[]).status.code(), Some(2));
}
