//! Synthetic data writers: valid frames, capture files and TCP/UDP
//! conversations with known ground truth, for tests now and for the
//! scenario generator; and generated flows and logon events for profile
//! benchmarks ([`load`]).

pub mod bulk;
pub mod demo;
pub mod dns;
pub mod frame;
pub mod lanl_auth;
pub mod load;
pub mod pcap_writer;
pub mod tcp_session;
