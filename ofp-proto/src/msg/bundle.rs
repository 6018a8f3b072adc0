//! Bundle control and bundle-add messages (OF1.4+ and ONF 1.3 experimenter 2300/2301).

use crate::msg::opaque::opaque_body;

opaque_body!(BundleCtrl, BundleAdd);
