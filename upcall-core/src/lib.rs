//! Sans-IO miss-upcall dispatcher (OVS `ofproto-dpif-upcall.c`): hashing, bounded queues, batching.
