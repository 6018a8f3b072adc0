//! OFPT_PACKET_IN (OF1.0-1.5) and NXT_PACKET_IN/NXT_PACKET_IN2.

use crate::msg::opaque::opaque_body;

opaque_body!(PacketIn);
