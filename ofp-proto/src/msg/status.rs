//! Requestforward and table status.

use crate::msg::opaque::opaque_body;

opaque_body!(RequestForward, TableStatus);
