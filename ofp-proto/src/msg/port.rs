//! Ports: port status, port mod and port description.

use crate::msg::opaque::opaque_body;

opaque_body!(PortStatus, PortMod, PortDescRequest, PortDescReply);
