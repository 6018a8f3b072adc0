//! Sans-IO OpenFlow connection: vconn hello negotiation and the rconn reliable connection.
