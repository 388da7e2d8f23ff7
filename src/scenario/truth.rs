//! The ground truth of a generated scenario, written as `truth.json`: the
//! host table, every attack step and every benign novelty, each with its
//! hosts, port, user, ATT&CK technique and the first and last time its
//! packets or log records appear. The schema is documented in
//! [`crate::scenario`]; the scorer (`lateral eval`) reads it.

use crate::model::event::Timestamp;
use crate::scenario::network::Network;
use serde::{Deserialize, Serialize};

/// What an attack step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Movement from one internal host to another.
    Lateral,
    /// Regular command-and-control callbacks.
    Beacon,
    /// Credential use or guessing.
    Credential,
    /// Remote execution (service creation, WMI).
    Execution,
    /// Staging or sending data out.
    Exfil,
    /// Discovery of other hosts.
    Recon,
    /// A benign novelty (not an attack).
    Benign,
}

/// One step as planned, before its times are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Stable id, `<scenario>-<n>` or `benign-<n>`.
    pub id: String,
    /// What it is.
    pub kind: StepKind,
    /// ATT&CK technique id (none for benign novelties).
    pub technique: Option<&'static str>,
    /// ATT&CK technique name.
    pub technique_name: Option<&'static str>,
    /// Source host index.
    pub source: usize,
    /// Destination host index (none when it touches many hosts).
    pub destination: Option<usize>,
    /// Destination port.
    pub port: Option<u16>,
    /// Account used.
    pub user: Option<String>,
    /// What happens.
    pub description: String,
    /// First packet or record (filled in by the generator).
    pub first: Option<Timestamp>,
    /// Last packet or record.
    pub last: Option<Timestamp>,
}

/// One host of `hosts_table`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthHost {
    /// Address.
    pub ip: String,
    /// Short name.
    pub name: String,
    /// Role name.
    pub role: String,
}

/// One entry of `steps` or `benign_novelties`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthStep {
    /// Stable id.
    pub id: String,
    /// Kind (`lateral`, `beacon`, `credential`, `execution`, `exfil`, `recon`, `benign`).
    pub kind: StepKind,
    /// ATT&CK technique id, or null for benign novelties.
    pub technique: Option<String>,
    /// ATT&CK technique name, or null.
    pub technique_name: Option<String>,
    /// Source address.
    pub source: String,
    /// Source host name.
    pub source_name: String,
    /// Destination address, or null.
    pub destination: Option<String>,
    /// Destination host name, or null.
    pub destination_name: Option<String>,
    /// Destination port, or null.
    pub port: Option<u16>,
    /// Account, or null.
    pub user: Option<String>,
    /// First time (RFC 3339 UTC).
    pub first: String,
    /// Last time (RFC 3339 UTC).
    pub last: String,
    /// What happens, for a person.
    pub description: String,
}

/// The whole `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Internal hosts in the table.
    pub hosts: usize,
    /// Length of the scenario in days (fractional for short ones).
    pub days: f64,
    /// Start of the capture and logs.
    pub start: String,
    /// End.
    pub end: String,
    /// Internal address blocks.
    pub internal_networks: Vec<String>,
    /// Every host, internal ones then external ones named in steps.
    pub hosts_table: Vec<TruthHost>,
    /// Attack steps in time order.
    pub steps: Vec<TruthStep>,
    /// Benign novelties in time order.
    pub benign_novelties: Vec<TruthStep>,
    /// The network's shape when drawn with `lateral gen --vary` (absent
    /// for the classic network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<crate::scenario::shape::Shape>,
}

fn entry(net: &Network, s: &Step) -> TruthStep {
    let host = |i: usize| net.hosts.get(i);
    let first = s.first.unwrap_or_default();
    TruthStep {
        id: s.id.clone(),
        kind: s.kind,
        technique: s.technique.map(str::to_string),
        technique_name: s.technique_name.map(str::to_string),
        source: host(s.source).map(|h| h.ip.to_string()).unwrap_or_default(),
        source_name: host(s.source).map(|h| h.name.clone()).unwrap_or_default(),
        destination: s.destination.and_then(host).map(|h| h.ip.to_string()),
        destination_name: s.destination.and_then(host).map(|h| h.name.clone()),
        port: s.port,
        user: s.user.clone(),
        first: first.to_rfc3339(),
        last: s.last.unwrap_or(first).to_rfc3339(),
        description: s.description.clone(),
    }
}

/// Builds the truth document from the network and the rendered steps.
#[allow(clippy::too_many_arguments)]
pub fn build(
    scenario: &str,
    seed: u64,
    net: &Network,
    days: f64,
    start: Timestamp,
    end: Timestamp,
    steps: &[Step],
    shape: &crate::scenario::shape::Shape,
) -> Truth {
    let mut attack: Vec<&Step> = steps
        .iter()
        .filter(|s| s.kind != StepKind::Benign)
        .collect();
    let mut benign: Vec<&Step> = steps
        .iter()
        .filter(|s| s.kind == StepKind::Benign)
        .collect();
    attack.sort_by_key(|s| (s.first, s.id.clone()));
    benign.sort_by_key(|s| (s.first, s.id.clone()));
    Truth {
        scenario: scenario.to_string(),
        seed,
        hosts: net.internal_count(),
        days,
        start: start.to_rfc3339(),
        end: end.to_rfc3339(),
        internal_networks: vec![format!("{}.{}.0.0/16", net.prefix[0], net.prefix[1])],
        hosts_table: net
            .hosts
            .iter()
            .map(|h| TruthHost {
                ip: h.ip.to_string(),
                name: h.name.clone(),
                role: h.role.name().to_string(),
            })
            .collect(),
        steps: attack.into_iter().map(|s| entry(net, s)).collect(),
        benign_novelties: benign.into_iter().map(|s| entry(net, s)).collect(),
        shape: (!shape.is_classic()).then_some(*shape),
    }
}
