//! Per-host behaviour profiles: what each host normally does.
//!
//! Sits after the sources and the host directory and before the detectors
//! and the baseline: flows ([`crate::model::event::Flow`]) and log events
//! ([`crate::model::event::LogEvent`]) go into a [`ProfileBuilder`] (or
//! [`build_parallel`]), and the finished [`Profiles`] answer the questions
//! detectors ask ("has this host ever talked to that one on SMB?", "has
//! this user ever logged on here?"). Profiles are serde-serialisable (the
//! baseline file stores them), mergeable ([`Profiles::merge`], for folding a
//! night into the baseline) and can forget what has not been seen lately
//! ([`Profiles::age_out`]).
//!
//! What is kept, per host identity ([`crate::hosts::HostKey`]):
//! - identity and role: [`HostProfile`] (IPs, names, first/last seen,
//!   [`Role`](crate::model::Role) given or inferred from [`RoleSignals`]);
//! - edges: per (originator, responder, [`Service`](crate::model::Service)) an [`EdgeStats`]
//!   (first/last, days active, flows, failed attempts, bytes each way);
//! - services offered ([`ServedService`]) and used ([`UsedService`]),
//!   with remote-admin protocols ([`AdminService`](crate::model::AdminService)) from flows and from log
//!   events ([`AdminUse`]);
//! - logons: per (user, source host, target host) a [`LogonStats`];
//! - per account the SIDs its successful logons carried
//!   ([`UserInfo::sids`], capped at [`SIDS_PER_USER`]), so a SID can be
//!   told under a name it never had;
//! - habits ([`WeekHours`], 168 bits and a count): per account the hours
//!   of the week of its successful network logons
//!   ([`UserInfo::logon_hours`]), per edge on a remote-admin service the
//!   hours of its flows ([`EdgeHours`], [`Profiles::edge_hours_between`]);
//! - distributions ([`Distribution`], hdrhistogram buckets): bytes per flow
//!   each way, flow duration, flows and distinct peers per hour, bytes per
//!   peer per day; activity by hour of the week.
//!
//! Log events recorded as logons: `logged-in`, `logon-failed`,
//! `invalid-user` (user from source to the writing host); 4648
//! `explicit-credential-logon` (from the writing host to
//! `destination.domain`); successful 4769 `kerberos-service-ticket` for a
//! computer account (`service.name` ending `$`: from the client to that
//! computer, method Kerberos). Privileged: 4672 and sudo to root, recorded
//! on (user, no source, writing host). Kerberos events also count as KDC
//! evidence for the writing host.
//!
//! Queries for detectors (all on [`Profiles`]; hosts by [`HostKey`](crate::hosts::HostKey), which
//! [`crate::hosts::HostDirectory::key_for_ip`] / `key_for_name` give):
//!
//! | question | method | cost |
//! |---|---|---|
//! | profile by key, IP, any spelling of a name | [`Profiles::host`], [`Profiles::host_by_ip`], [`Profiles::host_by_name`] | O(log hosts) |
//! | role | [`Profiles::role`] | O(log hosts) |
//! | stats of (src, dst, service), if ever seen | [`Profiles::edge`], [`Profiles::edges_on_port`] | O(log edges) / O(src degree) |
//! | peers and edges of a host | [`Profiles::outbound`], [`Profiles::inbound`], [`Profiles::peers_out`], [`Profiles::peers_in`] | O(degree) |
//! | does dst serve a service, to how many clients | [`Profiles::served`], [`Profiles::served_port`], [`Profiles::services_offered`] | O(services of dst) / O(in-degree) |
//! | roles of a service's clients | [`Profiles::client_roles`] | O(in-degree) |
//! | services a host used | [`Profiles::services_used`] | O(out-degree) |
//! | remote-admin peers | [`Profiles::admin_peers`], [`Profiles::admin_sources`] | O(degree) |
//! | hosts of role R that used admin protocol P | [`Profiles::hosts_with_role_using`] | O(edges): once per run |
//! | user on host: ever, from where, how, privileged | [`Profiles::user_on_host`], [`Profiles::ever_logged_on`], [`Profiles::ever_privileged`] | O(log logons) |
//! | logons to / from a host; a user's first/last | [`Profiles::logons_to`], [`Profiles::logons_from`], [`Profiles::user`] | O(degree) |
//! | the same by table index, for callers that resolve a host once ([`HostId`]) | [`Profiles::host_id_by_ip`], [`Profiles::edges_between`], [`Profiles::edges_into`], [`Profiles::admin_between`], [`Profiles::logons_into`] (`by_id.rs`) | O(1) / O(log degree) |
//! | typical volumes | [`Profiles::bytes_out_quantile`], [`Profiles::bytes_out_per_peer_day_quantile`], [`Profiles::typical_flows_per_hour`], the [`HostProfile`] distributions | O(buckets) |
//!
//! Users are keyed by lowercase `user.name` without a `DOMAIN\` prefix or
//! `@domain` suffix (domains seen are kept per user), so an account
//! matches across Windows (`pgustavo`, `pgustavo@THESHIRE.LOCAL`) and
//! Linux logs.

mod age_out;
pub mod build;
mod by_id;
pub mod edge;
pub mod exec;
pub mod group;
pub mod held;
pub mod histo;
pub mod host;
mod index;
pub mod light;
pub mod light_baseline;
pub mod logon;
mod merge;
mod order;
mod parts;
mod peer_day;
mod pending;
mod profiles;
mod query;
pub mod role;
pub mod spill;
pub mod stream;
mod table;
pub mod week;

pub use build::{
    ProfileBuilder, build_from_groups, build_parallel, build_parallel_skipping,
    build_parallel_with, profiles_from_run,
};
pub use edge::EdgeStats;
pub use histo::Distribution;
pub use host::HostProfile;
pub use logon::{LogonStats, LogonTypes, Methods};
pub use profiles::Profiles;
pub use query::{AdminPeer, EdgeRef, LogonRef, UsedService, UserOnHost, UserSeen};
pub use role::{RoleSignals, RoleThresholds};
pub use table::{
    AdminStats, AdminUse, Edge, EdgeHours, HostId, Logon, SIDS_PER_USER, ServedService, ServiceId,
    UserId, UserInfo, note_sid,
};
pub use week::{WeekCounts, WeekHours};
