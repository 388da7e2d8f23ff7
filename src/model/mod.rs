//! The model: the vocabulary every stage shares, defined once.
//!
//! Sources write these types, profiles and detectors read them, outputs
//! render them. Nothing here imports a later stage: a helper an early stage
//! needs from a later one belongs here instead.
//! - [`Action`]: what a log event says happened (ECS `event.action`);
//! - [`Role`]: what part a host plays on the network;
//! - [`Service`] and [`AdminService`]: what a flow's responder offers, and
//!   the remote-administration services lateral movement rides on;
//! - [`attack_names`]: ATT&CK technique names by id.

pub mod action;
pub mod attack_names;
pub mod community_id;
pub mod ecs;
pub mod event;
pub mod host;
pub mod parallel;
pub mod role;
pub mod service;

pub use action::Action;
pub use host::HostKey;
pub use role::{Role, UnknownRole};
pub use service::{AdminService, Service};
