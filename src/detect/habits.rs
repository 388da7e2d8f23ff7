//! Habits: what the baseline shows about how accounts, edges and hosts
//! behave, beyond the questions of [`super::BaselineView`]. Detectors ask
//! them through [`Habits`] to tell routine from novelty on principle: an
//! account's own working hours (not those of the desk it sits at, which
//! polls the outside around the clock), how many hosts a source already
//! administers over a service, on how many hosts an account is already
//! privileged, and which hosts reach the outside on behalf of others.
//!
//! [`super::profiles_view::ProfilesView`] answers them from profiles
//! (which keep account and edge hours, see [`crate::profile::WeekHours`]),
//! learned or stored alike. A `None` answer (a baseline that does not keep
//! the habit) makes a detector fall back to what [`super::BaselineView`]
//! tells.

use super::AdminService;
pub use crate::profile::week::WeekHours;
use std::net::IpAddr;

/// Habits the baseline shows; `None` when the baseline does not keep them.
pub trait Habits: Sync {
    /// When the account logged on over the network (to any host).
    fn account_hours(&self, user: &str) -> Option<WeekHours>;
    /// When `src` used `svc` on `dst`.
    fn edge_hours(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<WeekHours>;
    /// Distinct hosts `src` used `svc` on, answered.
    fn service_reach(&self, src: IpAddr, svc: AdminService) -> Option<usize>;
    /// Distinct hosts on which the account received special privileges.
    fn privileged_hosts(&self, user: &str) -> Option<usize>;
    /// Whether the host reaches the outside on behalf of others: it served
    /// internal clients and most connections it made went outside (a web
    /// proxy, a mail relay, a forwarding resolver).
    fn forwarder(&self, ip: IpAddr) -> Option<bool>;
}
