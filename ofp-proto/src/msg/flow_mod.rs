//! OFPT_FLOW_MOD (OF1.0, OF1.1+) and NXT_FLOW_MOD.

use crate::msg::opaque::opaque_body;

opaque_body!(FlowMod);
