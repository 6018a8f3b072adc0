//! Asynchronous message configuration (OF1.3 masks, OF1.4 properties, NXT_SET_ASYNC_CONFIG).

use crate::msg::opaque::opaque_body;

opaque_body!(AsyncConfig);
