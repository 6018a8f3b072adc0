//! Flow monitor requests and replies (NX 1.0-1.2, ONF 1.3, OF1.4+).

use crate::msg::opaque::opaque_body;

opaque_body!(FlowMonitorRequest, FlowMonitorReply);
