//! OFPT_PACKET_OUT (OF1.0-1.5).

use crate::msg::opaque::opaque_body;

opaque_body!(PacketOut);
