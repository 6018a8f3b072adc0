//! Flow and aggregate statistics requests and replies.

use crate::msg::opaque::opaque_body;

opaque_body!(FlowStatsRequest, FlowStatsReply, AggregateStats);
