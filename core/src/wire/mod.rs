//! PDU views and representations.
