//! Reads the TOML configuration file into [`Raw`] settings, each tagged with its line and key, so that
//! every later error names where the bad value is.
//!
//! ```toml
//! [bridge]
//! name = "br0"
//! datapath_id = "0000000000000001"
//! fail_mode = "secure"            # or "standalone"
//! protocols = ["OpenFlow13"]
//! bundle_idle_timeout = 10        # seconds
//! ports = 4
//!
//! [[controller]]
//! target = "tcp:127.0.0.1:6653"
//! inactivity_probe = 5000         # ms
//! max_backoff = 8000              # ms
//! controller_rate_limit = 1000
//! controller_burst_limit = 250
//! controller_queue_size = 100
//! enable_async_messages = true
//! protocols = ["OpenFlow13"]      # this controller only
//!
//! [[listener]]                    # same keys as [[controller]]; `listener = []`: none
//! target = "ptcp:6634:127.0.0.1"
//!
//! [[snoop]]
//! target = "punix:/run/ofagent/br0.snoop"
//! ```

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::config::{ConfigError, Origin, Raw, RawRemote, Setting};

const BRIDGE_KEYS: &[&str] = &["name", "datapath_id", "fail_mode", "protocols", "bundle_idle_timeout", "ports"];
const REMOTE_KEYS: &[&str] = &[
    "target",
    "inactivity_probe",
    "max_backoff",
    "controller_rate_limit",
    "controller_burst_limit",
    "controller_queue_size",
    "enable_async_messages",
    "protocols",
];
const SNOOP_KEYS: &[&str] = &["target"];

/// Parses `text`, the contents of the file named `path`.
pub fn parse(path: &str, text: &str) -> Result<Raw, ConfigError> {
    let doc = DeTable::parse(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        ConfigError(format!("{path}:{line}: {}", e.message().trim_end()))
    })?;
    let file = File { path, text };
    let mut raw = Raw::default();
    for (key, value) in doc.get_ref().iter() {
        let origin = file.origin(key.span(), "", key.get_ref());
        match key.get_ref().as_ref() {
            "bridge" => file.bridge(&mut raw, table(value, &origin)?)?,
            "controller" => raw.controllers = Some(file.remotes(value, "[[controller]]", &origin)?),
            "listener" => raw.listeners = Some(file.remotes(value, "[[listener]]", &origin)?),
            "snoop" => raw.snoops = Some(file.snoops(value, &origin)?),
            _ => {
                return Err(origin.error("unknown section (expected [bridge], [[controller]], [[listener]], [[snoop]])"))
            }
        }
    }
    Ok(raw)
}

struct File<'a> {
    path: &'a str,
    text: &'a str,
}

type Entry<'i> = (&'i Spanned<std::borrow::Cow<'i, str>>, &'i Spanned<DeValue<'i>>);

impl File<'_> {
    fn origin(&self, span: Range<usize>, section: &'static str, key: &str) -> Origin {
        Origin::File {
            path: self.path.to_string(),
            line: line_of(self.text, span.start),
            section,
            key: key.to_string(),
        }
    }

    /// The entries of a table, refusing keys not in `allowed`; each with the origin of its value.
    fn entries<'i>(
        &self,
        t: &'i DeTable<'i>,
        section: &'static str,
        allowed: &[&str],
    ) -> Result<Vec<(Entry<'i>, Origin)>, ConfigError> {
        t.iter()
            .map(|(k, v)| {
                let key: &str = k.get_ref();
                if !allowed.contains(&key) {
                    let origin = self.origin(k.span(), section, key);
                    return Err(origin.error(format!("unknown key (expected one of: {})", allowed.join(", "))));
                }
                Ok(((k, v), self.origin(v.span(), section, key)))
            })
            .collect()
    }

    fn bridge(&self, raw: &mut Raw, t: &DeTable<'_>) -> Result<(), ConfigError> {
        for ((k, v), origin) in self.entries(t, "[bridge]", BRIDGE_KEYS)? {
            let v = v.get_ref();
            match k.get_ref().as_ref() {
                "name" => raw.bridge = Some(string(v, origin)?),
                "datapath_id" => raw.datapath_id = Some(string(v, origin)?),
                "fail_mode" => raw.fail_mode = Some(string(v, origin)?),
                "protocols" => raw.protocols = Some(strings(v, origin)?),
                "bundle_idle_timeout" => raw.bundle_idle_timeout = Some(integer(v, origin)?),
                _ => raw.ports = Some(integer(v, origin)?),
            }
        }
        Ok(())
    }

    fn remotes(
        &self,
        v: &Spanned<DeValue<'_>>,
        section: &'static str,
        origin: &Origin,
    ) -> Result<Vec<RawRemote>, ConfigError> {
        tables(v, origin)?.into_iter().map(|(span, t)| self.remote(span, t, section)).collect()
    }

    fn remote(&self, span: Range<usize>, tab: &DeTable<'_>, section: &'static str) -> Result<RawRemote, ConfigError> {
        let table_origin = self.origin(span, section, "target");
        let mut target = None;
        let mut r = RawRemote::new(Setting { value: String::new(), origin: table_origin.clone() });
        for ((k, v), origin) in self.entries(tab, section, REMOTE_KEYS)? {
            let v = v.get_ref();
            match k.get_ref().as_ref() {
                "target" => target = Some(string(v, origin)?),
                "inactivity_probe" => r.inactivity_probe = Some(integer(v, origin)?),
                "max_backoff" => r.max_backoff = Some(integer(v, origin)?),
                "controller_rate_limit" => r.controller_rate_limit = Some(integer(v, origin)?),
                "controller_burst_limit" => r.controller_burst_limit = Some(integer(v, origin)?),
                "controller_queue_size" => r.controller_queue_size = Some(integer(v, origin)?),
                "enable_async_messages" => r.enable_async_messages = Some(boolean(v, origin)?),
                _ => r.protocols = Some(strings(v, origin)?),
            }
        }
        r.target = target.ok_or_else(|| table_origin.error("missing (every entry needs a target)"))?;
        Ok(r)
    }

    fn snoops(&self, v: &Spanned<DeValue<'_>>, origin: &Origin) -> Result<Vec<Setting<String>>, ConfigError> {
        tables(v, origin)?
            .into_iter()
            .map(|(span, tab)| {
                let table_origin = self.origin(span, "[[snoop]]", "target");
                let mut target = None;
                for ((_, v), origin) in self.entries(tab, "[[snoop]]", SNOOP_KEYS)? {
                    target = Some(string(v.get_ref(), origin)?);
                }
                target.ok_or_else(|| table_origin.error("missing (every entry needs a target)"))
            })
            .collect()
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn type_error(v: &DeValue<'_>, expected: &str, origin: Origin) -> ConfigError {
    origin.error(format!("expected {expected}, found {}", v.type_str()))
}

fn table<'a, 'i>(v: &'a Spanned<DeValue<'i>>, origin: &Origin) -> Result<&'a DeTable<'i>, ConfigError> {
    v.get_ref().as_table().ok_or_else(|| type_error(v.get_ref(), "a table", origin.clone()))
}

/// An array of tables (`[[name]]` sections, or `name = []` for none).
fn tables<'a, 'i>(
    v: &'a Spanned<DeValue<'i>>,
    origin: &Origin,
) -> Result<Vec<(Range<usize>, &'a DeTable<'i>)>, ConfigError> {
    let expected = "an array of tables ([[section]])";
    let arr = v.get_ref().as_array().ok_or_else(|| type_error(v.get_ref(), expected, origin.clone()))?;
    arr.iter()
        .map(|t| match t.get_ref().as_table() {
            Some(tab) => Ok((t.span(), tab)),
            None => Err(type_error(t.get_ref(), expected, origin.clone())),
        })
        .collect()
}

fn string(v: &DeValue<'_>, origin: Origin) -> Result<Setting<String>, ConfigError> {
    match v.as_str() {
        Some(s) => Ok(Setting { value: s.to_string(), origin }),
        None => Err(type_error(v, "a string", origin)),
    }
}

fn strings(v: &DeValue<'_>, origin: Origin) -> Result<Setting<Vec<String>>, ConfigError> {
    let expected = "an array of strings";
    let arr = v.as_array().ok_or_else(|| type_error(v, expected, origin.clone()))?;
    let value = arr
        .iter()
        .map(|s| {
            s.get_ref().as_str().map(str::to_string).ok_or_else(|| type_error(s.get_ref(), expected, origin.clone()))
        })
        .collect::<Result<_, _>>()?;
    Ok(Setting { value, origin })
}

fn integer(v: &DeValue<'_>, origin: Origin) -> Result<Setting<i64>, ConfigError> {
    let n = v.as_integer().ok_or_else(|| type_error(v, "an integer", origin.clone()))?;
    match i64::from_str_radix(n.as_str(), n.radix()) {
        Ok(value) => Ok(Setting { value, origin }),
        Err(_) => Err(origin.error(format!("{} is out of range", n.as_str()))),
    }
}

fn boolean(v: &DeValue<'_>, origin: Origin) -> Result<Setting<bool>, ConfigError> {
    match v.as_bool() {
        Some(value) => Ok(Setting { value, origin }),
        None => Err(type_error(v, "true or false", origin)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse("ofagent.toml", text).unwrap_err().0
    }

    #[test]
    fn settings_carry_their_line_and_key() {
        let raw = parse(
            "f.toml",
            "[bridge]\nname = \"br9\"\nports = 0x10\n\n[[controller]]\ntarget = \"tcp:10.0.0.1\"\n\
             inactivity_probe = 0\nprotocols = [\"OpenFlow13\"]\n\n[[controller]]\ntarget = \"unix:/x\"\n\
             [[snoop]]\ntarget = \"punix:/s\"\n",
        )
        .unwrap();
        let b = raw.bridge.unwrap();
        assert_eq!(b.value, "br9");
        assert_eq!(b.origin.error("x").0, "f.toml:2: [bridge] name: x");
        assert_eq!(raw.ports.unwrap().value, 16);
        let c = raw.controllers.unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].inactivity_probe.as_ref().unwrap().origin.error("x").0,
            "f.toml:7: [[controller]] inactivity_probe: x"
        );
        assert_eq!(c[1].target.value, "unix:/x");
        assert_eq!(raw.listeners, None);
        assert_eq!(raw.snoops.unwrap()[0].value, "punix:/s");
        assert_eq!(parse("f", "listener = []\n").unwrap().listeners, Some(vec![]));
    }

    #[test]
    fn errors_name_line_and_key() {
        assert_eq!(
            err("[bridge]\nname = \"br0\"\nport = 4\n"),
            "ofagent.toml:3: [bridge] port: unknown key (expected one of: name, datapath_id, fail_mode, protocols, \
             bundle_idle_timeout, ports)"
        );
        assert_eq!(
            err("[[controller]]\ntarget = \"tcp:1.2.3.4\"\n\ninactivity_probe = \"5s\"\n"),
            "ofagent.toml:4: [[controller]] inactivity_probe: expected an integer, found string"
        );
        assert_eq!(
            err("[[listener]]\nmax_backoff = 1000\n"),
            "ofagent.toml:1: [[listener]] target: missing (every entry needs a target)"
        );
        assert_eq!(
            err("[bridges]\n"),
            "ofagent.toml:1: bridges: unknown section (expected [bridge], [[controller]], [[listener]], [[snoop]])"
        );
        assert_eq!(
            err("[bridge]\nports = 99999999999999999999\n"),
            "ofagent.toml:2: [bridge] ports: 99999999999999999999 is out of range"
        );
        assert!(err("[bridge\nname = 1\n").starts_with("ofagent.toml:1: "));
        assert_eq!(
            err("[controller]\ntarget = \"x\"\n"),
            "ofagent.toml:1: controller: expected an array of tables ([[section]]), found table"
        );
    }
}
