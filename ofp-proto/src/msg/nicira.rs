//! Small Nicira extension messages: flow format and packet-in format.

use crate::msg::opaque::opaque_body;

opaque_body!(FlowFormat, PacketInFormat);
