//! Snoop monitors: connections that get a copy of every message an `Rconn` sends or receives.

use log::{debug, info};

use crate::error::ConnError;

/// OVS's `MAXIMUM_MONITORS`.
pub const MAX_MONITORS: usize = 8;

/// The caller's name for one monitor connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorId(pub u64);

/// The monitor was not added: there are already [`MAX_MONITORS`] (or one with this id); close it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitorRefused;

type MonitorList = Vec<(MonitorId, Box<str>)>;

/// Boxed: almost no connection has monitors, and an empty box is one word where a `Vec` is three.
#[allow(clippy::box_collection)]
#[derive(Debug, Default)]
pub(crate) struct Monitors {
    list: Option<Box<MonitorList>>,
}

impl Monitors {
    pub(crate) fn add(&mut self, id: MonitorId, name: &str) -> Result<(), MonitorRefused> {
        let list = self.list.get_or_insert_with(Default::default);
        if list.len() >= MAX_MONITORS || list.iter().any(|(i, _)| *i == id) {
            debug!(target: "rconn", "too many monitor connections, discarding {name}");
            return Err(MonitorRefused);
        }
        info!(target: "rconn", "new monitor connection from {name}");
        list.push((id, name.into()));
        Ok(())
    }

    /// Forgets monitor `id` (its connection closed for `reason`); false if there was none.
    pub(crate) fn remove(&mut self, rconn_name: &str, id: MonitorId, reason: ConnError) -> bool {
        let Some(list) = self.list.as_mut() else { return false };
        let Some(i) = list.iter().position(|(m, _)| *m == id) else {
            return false;
        };
        let (_, name) = list.swap_remove(i);
        if list.is_empty() {
            self.list = None;
        }
        debug!(target: "rconn", "{rconn_name}: closing monitor connection to {name}: {reason}");
        true
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = MonitorId> + '_ {
        self.list.iter().flat_map(|l| l.iter()).map(|(id, _)| *id)
    }

    pub(crate) fn len(&self) -> usize {
        self.list.as_ref().map_or(0, |l| l.len())
    }
}
