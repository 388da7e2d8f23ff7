//! The movement graph for graph tools (`--graph FILE.graphml`): hosts
//! and users as nodes, and as edges every (source, destination,
//! technique) the alerts name, with the first and last time, the
//! protocol (the technique's service, or the port), how many alerts and
//! their ids; each account's alerts add a `USED` edge from the user to the
//! host it was used on. Written as GraphML (for Gephi, yEd, NetworkX,
//! Cytoscape) and as a pair of CSV files with `neo4j-admin database
//! import` headers (`FILE.nodes.csv`, `FILE.edges.csv`; arrays split on
//! `;`, the importer's default). Nodes and edges are sorted, so the same
//! alerts give the same bytes.

use crate::alert::{Alert, HostRef};
use crate::model::event::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One edge of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEdge {
    /// From (a host's label or a user's name).
    pub src: String,
    /// To (a host's label).
    pub dst: String,
    /// `MOVED` (host to host) or `USED` (user to host).
    pub kind: &'static str,
    /// The technique id.
    pub technique: String,
    /// The protocol: the technique's service, else `port/N`, else the technique.
    pub protocol: String,
    /// First alert start.
    pub first: Timestamp,
    /// Last alert end.
    pub last: Timestamp,
    /// Alerts behind it.
    pub count: usize,
    /// Their ids, sorted.
    pub alert_ids: BTreeSet<String>,
}

/// The graph: nodes (id, kind `host` or `user`) and edges, both sorted.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Node id to kind.
    pub nodes: BTreeMap<String, &'static str>,
    /// Edges by (source, destination, kind, technique).
    pub edges: Vec<GraphEdge>,
}

/// The protocol a technique moves over, when it names one.
pub fn protocol_of(technique: &str) -> Option<&'static str> {
    Some(match technique {
        "T1021.001" => "rdp",
        "T1021.002" => "smb",
        "T1021.003" => "dcom",
        "T1021.004" => "ssh",
        "T1021.005" => "vnc",
        "T1021.006" => "winrm",
        _ => return None,
    })
}

fn label(h: &HostRef) -> String {
    h.label()
}

/// Builds the graph of `alerts`.
pub fn build(alerts: &[Alert]) -> Graph {
    let mut g = Graph::default();
    let mut edges: BTreeMap<(String, String, &'static str, String), GraphEdge> = BTreeMap::new();
    let mut add = |src: String, dst: String, kind: &'static str, a: &Alert| {
        let protocol = protocol_of(a.technique.id)
            .map(String::from)
            .or_else(|| a.destination_port.map(|p| format!("port/{p}")))
            .unwrap_or_else(|| a.technique.id.to_string());
        let e = edges
            .entry((src.clone(), dst.clone(), kind, a.technique.id.to_string()))
            .or_insert_with(|| GraphEdge {
                src,
                dst,
                kind,
                technique: a.technique.id.to_string(),
                protocol,
                first: a.start,
                last: a.end,
                count: 0,
                alert_ids: BTreeSet::new(),
            });
        e.first = e.first.min(a.start);
        e.last = e.last.max(a.end);
        e.count += 1;
        e.alert_ids.insert(a.id.clone());
    };
    for a in alerts {
        let src = a.source.as_ref().map(label);
        let dst = a.destination.as_ref().map(label);
        for h in [&src, &dst].into_iter().flatten() {
            g.nodes.insert(h.clone(), "host");
        }
        if let (Some(s), Some(d)) = (&src, &dst) {
            add(s.clone(), d.clone(), "MOVED", a);
        }
        if let (Some(u), Some(h)) = (&a.user, dst.as_ref().or(src.as_ref())) {
            // A user and a host may share a name: user ids are prefixed.
            let id = format!("user:{u}");
            g.nodes.insert(id.clone(), "user");
            add(id, h.clone(), "USED", a);
        }
    }
    g.edges = edges.into_values().collect();
    g
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

fn node_name(id: &str) -> &str {
    id.strip_prefix("user:").unwrap_or(id)
}

/// The graph as GraphML.
pub fn write_graphml(g: &Graph, out: &mut String) {
    use std::fmt::Write as _;
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n");
    for (id, on, ty) in [
        ("kind", "node", "string"),
        ("name", "node", "string"),
        ("type", "edge", "string"),
        ("technique", "edge", "string"),
        ("protocol", "edge", "string"),
        ("first", "edge", "string"),
        ("last", "edge", "string"),
        ("count", "edge", "int"),
        ("alert_ids", "edge", "string"),
    ] {
        let _ = writeln!(
            out,
            "  <key id=\"{id}\" for=\"{on}\" attr.name=\"{id}\" attr.type=\"{ty}\"/>"
        );
    }
    out.push_str("  <graph id=\"lateral\" edgedefault=\"directed\">\n");
    for (id, kind) in &g.nodes {
        let _ = writeln!(
            out,
            "    <node id=\"{}\"><data key=\"kind\">{kind}</data><data key=\"name\">{}</data></node>",
            xml(id),
            xml(node_name(id))
        );
    }
    for (i, e) in g.edges.iter().enumerate() {
        let ids: Vec<&str> = e.alert_ids.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\"><data key=\"type\">{}</data><data key=\"technique\">{}</data><data key=\"protocol\">{}</data><data key=\"first\">{}</data><data key=\"last\">{}</data><data key=\"count\">{}</data><data key=\"alert_ids\">{}</data></edge>",
            xml(&e.src),
            xml(&e.dst),
            e.kind,
            xml(&e.technique),
            xml(&e.protocol),
            e.first.to_rfc3339(),
            e.last.to_rfc3339(),
            e.count,
            ids.join(" ")
        );
    }
    out.push_str("  </graph>\n</graphml>\n");
}

fn csv(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The graph as `neo4j-admin database import` CSV: (nodes, edges).
pub fn write_neo4j(g: &Graph) -> (String, String) {
    use std::fmt::Write as _;
    let mut nodes = String::from("id:ID,name,kind,:LABEL\n");
    for (id, kind) in &g.nodes {
        let label = if *kind == "user" { "User" } else { "Host" };
        let _ = writeln!(nodes, "{},{},{kind},{label}", csv(id), csv(node_name(id)));
    }
    let mut edges = String::from(
        ":START_ID,:END_ID,:TYPE,technique,protocol,first:datetime,last:datetime,count:int,alert_ids:string[]\n",
    );
    for e in &g.edges {
        let ids: Vec<&str> = e.alert_ids.iter().map(String::as_str).collect();
        let _ = writeln!(
            edges,
            "{},{},{},{},{},{},{},{},{}",
            csv(&e.src),
            csv(&e.dst),
            e.kind,
            csv(&e.technique),
            csv(&e.protocol),
            e.first.to_rfc3339(),
            e.last.to_rfc3339(),
            e.count,
            csv(&ids.join(";"))
        );
    }
    (nodes, edges)
}

/// The CSV pair's paths for a GraphML path: `x.graphml` gives
/// `x.nodes.csv` and `x.edges.csv`.
pub fn neo4j_paths(graphml: &Path) -> (PathBuf, PathBuf) {
    let stem = graphml.with_extension("");
    let with = |suffix: &str| {
        let mut s = stem.clone().into_os_string();
        s.push(suffix);
        PathBuf::from(s)
    };
    (with(".nodes.csv"), with(".edges.csv"))
}
