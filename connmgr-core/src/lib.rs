//! Sans-IO OpenFlow connection manager (OVS `connmgr.c`, `pinsched.c`, `bundles.c`, `fail-open.c`).
