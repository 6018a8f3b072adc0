//! Switch description, table statistics and port statistics multiparts.

use crate::msg::opaque::opaque_body;

opaque_body!(DescStats, PortStatsRequest, PortStatsReply, TableStatsReply);
