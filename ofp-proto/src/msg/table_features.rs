//! Table features multipart request and reply.

use crate::msg::opaque::opaque_body;

opaque_body!(TableFeaturesMsg);
