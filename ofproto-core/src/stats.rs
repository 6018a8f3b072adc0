//! Flow, aggregate and table statistics and table features (OVS `handle_flow_stats_request`,
//! `handle_aggregate_stats_request`, `handle_table_stats_request`, `query_tables`).

use ofp_proto::msg::flow_stats::{AggregateStats, FlowStats, FlowStatsRequest};
use ofp_proto::msg::stats::{TableStats, TableStatsReply};
use ofp_proto::msg::table_features::{FeaturesView, TableFeaturesMsg};
use ofp_proto::Instant;

use crate::datapath::Datapath;
use crate::flow_mod::{Criteria, Refusal};
use crate::ofproto::OfProto;
use crate::rule::Rule;

/// OVS `age_secs`: milliseconds to whole seconds, at most 65535.
fn age_secs(ms: u64) -> u32 {
    (ms / 1000).min(u64::from(u16::MAX)) as u32
}

fn since(now: Instant, t: Instant) -> u64 {
    now.as_millis().saturating_sub(t.as_millis())
}

/// One flow's statistics at `now`.
pub fn flow_stats_of(r: &Rule, now: Instant) -> FlowStats {
    let ms = since(now, r.st.created);
    FlowStats {
        table_id: r.table_id,
        match_: r.match_(),
        priority: r.priority as u16,
        cookie: r.st.cookie,
        duration_sec: u32::try_from(ms / 1000).unwrap_or(u32::MAX),
        duration_nsec: (ms % 1000) as u32 * 1_000_000,
        idle_timeout: r.st.idle_timeout,
        hard_timeout: r.st.hard_timeout,
        importance: r.st.importance,
        flags: r.st.flags,
        idle_age: Some(age_secs(since(now, r.st.used))),
        hard_age: Some(age_secs(since(now, r.st.modified))),
        packet_count: r.st.packet_count,
        byte_count: r.st.byte_count,
        instructions: (*r.st.instructions).clone(),
    }
}

fn criteria(fsr: &FlowStatsRequest) -> Criteria {
    Criteria::read(fsr.table_id, &fsr.match_, fsr.cookie, fsr.cookie_mask, fsr.out_port, fsr.out_group)
}

impl<D: Datapath> OfProto<D> {
    /// The statistics of the visible flows `fsr` selects, by table, priority and age. Postponed if
    /// one of them has an operation pending (seed 002).
    pub fn flow_stats(&self, now: Instant, fsr: &FlowStatsRequest) -> Result<Vec<FlowStats>, Refusal> {
        let ids = self.collect(&criteria(fsr), None)?;
        Ok(ids.into_iter().map(|id| flow_stats_of(self.rules.at(id), now)).collect())
    }

    /// Totals over the flows `fsr` selects (same selection and postponement as `flow_stats`).
    pub fn aggregate_stats(&self, fsr: &FlowStatsRequest) -> Result<AggregateStats, Refusal> {
        let ids = self.collect(&criteria(fsr), None)?;
        let mut a = AggregateStats::default();
        for id in ids {
            let st = &self.rules.at(id).st;
            a.packet_count = a.packet_count.wrapping_add(st.packet_count);
            a.byte_count = a.byte_count.wrapping_add(st.byte_count);
            a.flow_count += 1;
        }
        Ok(a)
    }

    /// Every visible table's statistics in `version`'s layout, hidden rules not counted.
    pub fn table_stats(&self, version: u8) -> TableStatsReply {
        let n_visible = self.n_visible_tables();
        let tables = (0..n_visible)
            .map(|i| {
                let t = &self.tables[usize::from(i)];
                let active = (t.cls.len() - t.n_hidden_rules) as u32;
                let view = FeaturesView::ovs_default(i, n_visible);
                TableStats::from_view(&view, active, t.n_matched + t.n_missed, t.n_matched, version)
            })
            .collect();
        TableStatsReply { tables }
    }

    /// The visible tables' features, as ovs-vswitchd reports them.
    pub fn table_features(&self, version: u8) -> TableFeaturesMsg {
        TableFeaturesMsg::ovs_reply(version, self.n_visible_tables())
    }
}
