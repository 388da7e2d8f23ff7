//! What is new today relative to a baseline: hosts never seen, edges
//! (client -> server over a service) never seen, and users logging on to a
//! host for the first time or from a new source.
//!
//! This is the first thing a nightly sweep reports, before any detector
//! runs, and an input detectors can reuse: [`novelties`] (in `compare.rs`)
//! computes [`Novelty`] records from today's normalised events and a
//! [`crate::baseline::Baseline`]; `report::novelty` writes them for people
//! and as ECS JSON Lines.

use crate::model::event::{Origin, Timestamp};
use crate::model::{AdminService, Service};
use serde::Serialize;

mod compare;
pub use compare::novelties;
use std::net::IpAddr;

/// Which kind of novelty a record is (ECS `event.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoveltyKind {
    /// A host the baseline has never seen.
    NewHost,
    /// A client reaching a server over a service for the first time.
    NewEdge,
    /// A user logging on to a host for the first time, or from a new source.
    NewUserOnHost,
}

impl NoveltyKind {
    /// The ECS `event.action` spelling (`new-host`, `new-edge`, `new-user-on-host`).
    pub fn action(self) -> &'static str {
        match self {
            NoveltyKind::NewHost => "new-host",
            NoveltyKind::NewEdge => "new-edge",
            NoveltyKind::NewUserOnHost => "new-user-on-host",
        }
    }
}

/// Why a logon is new on its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserNovelty {
    /// The user has never logged on to this host.
    FirstLogon,
    /// The user has logged on to this host before, never from this source.
    NewSource,
}

/// One end of a novelty: a host by address and/or name.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Endpoint {
    /// An address of the host, when known.
    pub ip: Option<IpAddr>,
    /// A name of the host, when known.
    pub name: Option<String>,
}

impl Endpoint {
    /// True when neither address nor name is known.
    pub fn is_empty(&self) -> bool {
        self.ip.is_none() && self.name.is_none()
    }
}

impl std::fmt::Display for Endpoint {
    /// `10.0.0.5 (dc01)`, `10.0.0.5`, `dc01` or `?`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.ip, &self.name) {
            (Some(ip), Some(n)) => write!(f, "{ip} ({n})"),
            (Some(ip), None) => write!(f, "{ip}"),
            (None, Some(n)) => f.write_str(n),
            (None, None) => f.write_str("?"),
        }
    }
}

/// One thing seen today that the baseline has never seen.
///
/// For [`NoveltyKind::NewHost`], `source` is the new host. For
/// [`NoveltyKind::NewEdge`], `source` is the client and `destination` the
/// server offering `service`. For [`NoveltyKind::NewUserOnHost`],
/// `destination` is the host logged on to, `source` where the logon came
/// from (when the record says), `user` the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Novelty {
    /// What is new.
    pub kind: NoveltyKind,
    /// The first time it was seen today.
    pub first_seen: Timestamp,
    /// The client, the logon's source, or the new host.
    pub source: Endpoint,
    /// The server, or the host logged on to.
    pub destination: Endpoint,
    /// The service of a new edge.
    pub service: Option<Service>,
    /// The remote-admin protocol of a new edge or logon, if it is one.
    pub admin: Option<AdminService>,
    /// The account of a new logon.
    pub user: Option<String>,
    /// Why a logon is new.
    pub user_novelty: Option<UserNovelty>,
    /// How many flows (edges, hosts) or successful logons today showed it.
    pub count: u64,
    /// Of a new edge's flows, how many were failed attempts (S0, REJ, ...).
    pub failed: u64,
    /// Where the first flow or event that showed it was read.
    pub evidence: Option<Origin>,
}

impl Novelty {
    /// Output order: new hosts, then new edges with remote-admin ones
    /// first, then new users; within each by first time seen, then by
    /// every field, so output never depends on input order.
    pub fn order_key(&self) -> impl Ord + '_ {
        (
            self.kind,
            self.admin.is_none(),
            self.first_seen,
            &self.source,
            &self.destination,
            &self.service,
            &self.user,
            self.user_novelty,
            &self.evidence,
        )
    }

    /// A one-line explanation for people (ECS `event.reason`).
    pub fn reason(&self) -> String {
        match self.kind {
            NoveltyKind::NewHost => format!("host {} not in the baseline", self.source),
            NoveltyKind::NewEdge => {
                let svc = self
                    .service
                    .as_ref()
                    .map_or_else(|| "?".to_string(), ToString::to_string);
                let admin = self
                    .admin
                    .map_or_else(String::new, |a| format!(", remote admin: {a}"));
                format!(
                    "{} never reached {} over {svc} before{admin}",
                    self.source, self.destination
                )
            }
            NoveltyKind::NewUserOnHost => {
                let user = self.user.as_deref().unwrap_or("?");
                let from = if self.source.is_empty() {
                    String::new()
                } else {
                    format!(" from {}", self.source)
                };
                match self.user_novelty {
                    Some(UserNovelty::NewSource) => format!(
                        "{user} logged on to {}{from}: a source never seen for this user and host",
                        self.destination
                    ),
                    _ => format!(
                        "{user} logged on to {}{from}: first logon of this user on this host",
                        self.destination
                    ),
                }
            }
        }
    }
}
