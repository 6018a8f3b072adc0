//! Role request/reply (OF1.2+, NXT for 1.0) and role status (OF1.4, ONF 1.3).

use crate::msg::opaque::opaque_body;

opaque_body!(RoleMsg, RoleStatus);
