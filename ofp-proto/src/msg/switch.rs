//! Switch features and switch configuration.

use crate::msg::opaque::opaque_body;

opaque_body!(SwitchFeatures, SwitchConfig);
