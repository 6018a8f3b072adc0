//! OFPT_FLOW_REMOVED and NXT_FLOW_REMOVED.

use crate::msg::opaque::opaque_body;

opaque_body!(FlowRemoved);
