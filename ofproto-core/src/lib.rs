//! Flow tables with asynchronous operations (OVS `ofproto.c`), and the `Switch` composing the cores.
