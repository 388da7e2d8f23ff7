//! Application-layer analyzers of captures: the capture source's step
//! after packet decoding, beside the flow table. Packets of the TCP
//! connections worth reading are reassembled ([`reassembly`]) and handed
//! to a protocol analyzer ([`smb`], [`dcerpc`], with [`ntlm`] for the
//! tokens they carry); what those find becomes normalised [`LogEvent`]s
//! (datasets `zeek.smb_mapping`, `zeek.smb_files`, `zeek.dce_rpc`,
//! `zeek.ntlm`) tied to the connection's uid, so the detectors that read
//! host logs read them too.
//!
//! Only connections an analyzer claims are followed: by the responder's
//! port ([`analyzer_for`]) or, for DCE-RPC on the dynamic ports the
//! endpoint mapper hands out, by a first payload that is a DCE-RPC bind.
//! Every other packet costs a hash lookup at most. Memory is bounded by
//! [`reassembly::Limits`]: connections followed at once, bytes held per
//! direction, bytes held in all; everything refused is counted.
//!
//! ## Adding a protocol
//! Write its parser in its own file with a type implementing
//! [`StreamAnalyzer`], add its `pub mod` line here, and one arm to
//! [`analyzer_for`] naming the ports (or the first bytes) that select it.
//! Nothing else changes: the connection table, reassembly, uids and event
//! plumbing are shared.

pub mod app;
pub mod ber;
pub mod dcerpc;
pub mod dns;
pub mod http;
pub mod kerberos;
pub mod ldap;
pub mod names;
pub mod ntlm;
pub mod rdp;
pub mod reassembly;
pub mod smb;
pub mod ssh;
pub mod tls;

use crate::model::Action;
use crate::model::event::{Category, LogEvent, Origin, Outcome, Position, Text, Timestamp};
use crate::source::capture_flows::PacketTap;
use crate::source::decode::{Packet, ip_proto, tcp_flags};
use crate::source::flow_table::{FlowKey, uid_of_first_packet};
use reassembly::{Budget, Chunk, Direction, Framer, Limits, ReassemblyCounters};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// How the analyzers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzerConfig {
    /// False: no connection is followed (`--no-analyzers`).
    pub enabled: bool,
    /// Memory limits.
    pub limits: Limits,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig {
            enabled: true,
            limits: Limits::default(),
        }
    }
}

/// What the analyzers of one capture counted: connections, and everything
/// dropped or passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyzerCounters {
    /// Connections followed.
    pub flows: u64,
    /// Most connections followed at once.
    pub peak_flows: u64,
    /// Connections to a dynamic port recognised by their DCE-RPC bind.
    pub dcerpc_by_bind: u64,
    /// Connections whose SYN was remembered but whose uid had to be
    /// computed from a later packet (the SYN table was full).
    pub syn_table_full: u64,
    /// Most bytes held at once.
    pub peak_bytes: u64,
    /// Reassembly's counts.
    pub reassembly: ReassemblyCounters,
    /// The SMB analyzer's counts.
    pub smb: smb::SmbCounters,
    /// The DCE-RPC-over-TCP analyzer's counts.
    pub dcerpc: dcerpc::DceRpcCounters,
    /// HTTP requests with an NTLM or Kerberos `Authorization` header.
    pub http_auth: u64,
    /// Counts of each analyzer, by name (`smb`, `kerberos`, `tls`, ...).
    pub per_analyzer: BTreeMap<&'static str, PerAnalyzer>,
    /// Kerberos datagrams read (UDP 88).
    pub udp_datagrams: u64,
    /// Followed TCP connections let go because no packet came for
    /// [`IDLE_SECS`] of capture time: their held segments delivered, their
    /// analyzer finished and its state freed.
    pub reaped: u64,
    /// UDP Kerberos and DNS conversations let go after [`UDP_IDLE_SECS`] idle.
    pub reaped_udp: u64,
    /// Remembered SYNs on other ports forgotten after [`IDLE_SECS`]
    /// without payload.
    pub reaped_syns: u64,
    /// Followed TCP connections ended by a FIN from each side.
    pub ended_fin: u64,
    /// Followed TCP connections ended by a RST.
    pub ended_rst: u64,
    /// Followed TCP connections let go [`LINGER_SECS`] after their last
    /// packet when one side had sent a FIN and the other had not (Zeek's
    /// `tcp_connection_linger`): half-closed, abandoned.
    pub reaped_half_closed: u64,
}

/// What one analyzer counted over a capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerAnalyzer {
    /// Connections it followed.
    pub connections: u64,
    /// Bytes reassembly delivered to it, in order.
    pub bytes: u64,
    /// Records it produced (Zeek log lines of the application logs).
    pub records: u64,
    /// Messages or streams that did not parse.
    pub parse_errors: u64,
    /// Bytes not read: beyond its per-connection cap, refused by the
    /// memory budget, or after a gap.
    pub bytes_skipped: u64,
    /// Connections it would have followed, refused because the table of
    /// followed connections was full.
    pub refused: u64,
}

impl AnalyzerCounters {
    /// Adds `o`'s counts to these (peaks: the larger).
    pub fn add(&mut self, o: &AnalyzerCounters) {
        self.flows += o.flows;
        self.peak_flows = self.peak_flows.max(o.peak_flows);
        self.dcerpc_by_bind += o.dcerpc_by_bind;
        self.syn_table_full += o.syn_table_full;
        self.peak_bytes = self.peak_bytes.max(o.peak_bytes);
        self.reassembly.add(&o.reassembly);
        self.http_auth += o.http_auth;
        self.udp_datagrams += o.udp_datagrams;
        self.reaped += o.reaped;
        self.reaped_udp += o.reaped_udp;
        self.reaped_syns += o.reaped_syns;
        self.ended_fin += o.ended_fin;
        self.ended_rst += o.ended_rst;
        self.reaped_half_closed += o.reaped_half_closed;
        self.dcerpc.add(&o.dcerpc);
        for (k, v) in &o.per_analyzer {
            let m = self.per_analyzer.entry(k).or_default();
            m.connections += v.connections;
            m.bytes += v.bytes;
            m.records += v.records;
            m.parse_errors += v.parse_errors;
            m.bytes_skipped += v.bytes_skipped;
            m.refused += v.refused;
        }
    }

    /// The counts of the application analyzer of `kind`.
    pub fn app_mut(&mut self, kind: app::AppKind) -> &mut PerAnalyzer {
        self.per_analyzer.entry(kind.name()).or_default()
    }

    /// Counts a connection followed by the application analyzer of `kind`.
    pub fn app_connection(&mut self, kind: app::AppKind) {
        self.app_mut(kind).connections += 1;
    }
}

/// Everything the analyzers of one capture produced.
#[derive(Debug, Default)]
pub struct AnalyzerOutput {
    /// Events, in time order (ties in the order found).
    pub events: Vec<LogEvent>,
    /// Application records for the Zeek logs, in time order, then uid.
    pub records: Vec<app::AppFinding>,
    /// Counters.
    pub counters: AnalyzerCounters,
}

/// The connection a finding was made on, as events name it.
#[derive(Debug, Clone)]
pub struct FlowInfo {
    /// The flow's uid (as in conn.log).
    pub uid: Text,
    /// Originator address and port.
    pub orig: (IpAddr, u16),
    /// Responder address and port.
    pub resp: (IpAddr, u16),
}

/// The account a connection authenticated as, when visible.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// `NTLM` or `Kerberos`.
    pub method: Option<&'static str>,
    /// User name (NTLM only).
    pub user: Option<Text>,
    /// Domain (NTLM only).
    pub domain: Option<Text>,
    /// Client workstation name (NTLM only).
    pub workstation: Option<Text>,
}

/// Everything an analyzer needs to turn a finding into events.
pub struct Cx<'a> {
    /// The connection.
    pub flow: &'a FlowInfo,
    /// Time of the packet that completed the message.
    pub ts: Timestamp,
    /// Offset of that packet's record in the input.
    pub offset: u64,
    /// The input's name.
    pub file: &'a Arc<str>,
    /// Where events go.
    pub events: &'a mut Vec<LogEvent>,
    /// Where application records go.
    pub records: &'a mut Vec<app::AppFinding>,
    /// Memory limits.
    pub limits: &'a Limits,
    /// The capture's memory budget.
    pub budget: &'a mut Budget,
    /// Counters.
    pub counters: &'a mut AnalyzerCounters,
}

impl Cx<'_> {
    /// An event of `dataset` about this connection: time, addresses (the
    /// responder is the host acted on), uid label and origin filled in.
    pub fn event(&self, dataset: &str, category: Category, action: Action) -> LogEvent {
        let mut e = LogEvent {
            ts: self.ts,
            category: Some(category),
            action,
            outcome: Some(Outcome::Unknown),
            dataset: Text::from(dataset),
            source_ip: Some(self.flow.orig.0),
            source_port: Some(self.flow.orig.1),
            destination_ip: Some(self.flow.resp.0),
            destination_port: Some(self.flow.resp.1),
            host_ip: Some(self.flow.resp.0),
            origin: Some(Origin {
                file: self.file.clone(),
                at: Position::Offset(self.offset),
            }),
            ..LogEvent::default()
        };
        e.push_label("zeek_uid".into(), self.flow.uid.clone());
        e
    }

    /// Sets the account fields of `e` from `a`.
    pub fn with_account(e: &mut LogEvent, a: &Account) {
        e.user_name = a.user.clone();
        e.user_domain = a.domain.clone();
        if e.source_domain.is_none() {
            e.source_domain = a.workstation.clone();
        }
        e.auth_method = a.method.map(Text::from);
    }
}

/// A protocol analyzer of one TCP connection: takes each direction's
/// bytes in order (with gaps marked) and pushes events.
pub trait StreamAnalyzer: Send {
    /// The next piece of the originator's (`from_orig`) or responder's stream.
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>);
    /// The connection ended; give back held memory.
    fn finish(&mut self, cx: &mut Cx<'_>);
    /// The analyzer's name in counters (`smb`, `kerberos`, ...).
    fn name(&self) -> &'static str;
    /// True when the analyzer counts its connection itself, once it knows
    /// which protocol it is reading.
    fn deferred(&self) -> bool {
        false
    }
    /// True when nothing more is to be read from this connection: it is
    /// finished at once and its later packets are passed over.
    fn done(&self) -> bool {
        false
    }
    /// The connection was seen from its SYN, so each direction's first
    /// bytes are its protocol's first bytes: an analyzer of a framed
    /// protocol may then give up at once on a stream that does not start
    /// with one of its messages.
    fn seen_from_syn(&mut self) {}
}

/// Ports DCE-RPC listens on by convention (endpoint mapper, RPC over HTTP).
const DCERPC_PORTS: [u16; 2] = [135, 593];

/// The analyzer for a new connection to `resp_port` whose first payload
/// (from the originator) starts with `first`: one arm per protocol.
pub fn analyzer_for(resp_port: u16, first: Option<&[u8]>) -> Option<Box<dyn StreamAnalyzer>> {
    use app::{AppKind, ByPort};
    let by_port =
        |k: AppKind| -> Option<Box<dyn StreamAnalyzer>> { Some(Box::new(ByPort::new(k))) };
    match resp_port {
        445 | 139 => Some(Box::<SmbAnalyzer>::default()),
        // RPC over HTTP (593) starts with a text preamble, not a PDU.
        593 => Some(Box::new(DceRpcAnalyzer {
            lenient: true,
            ..DceRpcAnalyzer::default()
        })),
        p if DCERPC_PORTS.contains(&p) => Some(Box::<DceRpcAnalyzer>::default()),
        88 => by_port(AppKind::Kerberos),
        53 => Some(Box::<app::DnsTcp>::default()),
        80 | 8080 | 8000 | 5985 | 47001 => by_port(AppKind::Http),
        443 | 636 | 3269 | 5986 | 8443 => by_port(AppKind::Tls),
        3389 => by_port(AppKind::Rdp),
        22 => by_port(AppKind::Ssh),
        389 | 3268 => by_port(AppKind::Ldap),
        _ if first.is_some_and(dcerpc::starts_with_bind) => Some(Box::<DceRpcAnalyzer>::default()),
        _ => {
            let kind = app::sniff(first?)?;
            Some(Box::new(ByPort::new(kind)))
        }
    }
}

/// True when `port` is claimed by an analyzer whatever the payload.
fn port_claimed(port: u16) -> bool {
    matches!(
        port,
        445 | 139
            | 88
            | 53
            | 80
            | 8080
            | 8000
            | 5985
            | 47001
            | 443
            | 636
            | 3269
            | 5986
            | 8443
            | 3389
            | 22
            | 389
            | 3268
    ) || DCERPC_PORTS.contains(&port)
}

/// Kerberos over UDP.
const KERBEROS_PORT: u16 = 88;

/// DNS over UDP.
const DNS_PORT: u16 = 53;

/// True for a UDP port Zeek's DNS analyzer takes (its `DNS::ports`):
/// DNS (53), NetBIOS name service (137), mDNS (5353) and LLMNR (5355).
#[inline]
fn dns_port(port: u16) -> bool {
    matches!(port, DNS_PORT | 137 | 5353 | 5355)
}

/// Seconds a UDP Kerberos exchange's uid is kept for the next datagram of
/// its address pair (Zeek's UDP inactivity timeout).
pub const UDP_IDLE_SECS: i64 = 60;
const UDP_IDLE_NS: i64 = UDP_IDLE_SECS * 1_000_000_000;

/// One UDP conversation (a client port and the KDC or DNS server).
struct UdpConv {
    info: FlowInfo,
    orig_side: u8,
    last: Timestamp,
    pending: UdpPending,
}

/// What a UDP conversation waits on.
enum UdpPending {
    /// A Kerberos request waiting for its answer.
    Kerberos(Option<(Timestamp, kerberos::KdcRequest)>),
    /// DNS queries waiting for their responses.
    Dns(dns::Pending),
}

/// One followed connection.
struct Tracked {
    info: FlowInfo,
    orig_side: u8,
    dirs: [Direction; 2],
    analyzer: Box<dyn StreamAnalyzer>,
    last: Timestamp,
    closed: [bool; 2],
}

/// The analyzers of one capture: the connections followed and their state.
pub struct Analyzers {
    cfg: AnalyzerConfig,
    file: Arc<str>,
    flows: FxHashMap<FlowKey, Tracked>,
    /// Connections whose SYN was seen on an unclaimed port: their uid, in
    /// case their first payload is a DCE-RPC bind.
    syns: FxHashMap<FlowKey, (Text, u8, Timestamp)>,
    /// Bytes of out-of-order segments held (half the global cap).
    held: Budget,
    /// Bytes of message heads buffered by the analyzers (the other half).
    budget: Budget,
    counters: AnalyzerCounters,
    events: Vec<LogEvent>,
    records: Vec<app::AppFinding>,
    udp: FxHashMap<FlowKey, UdpConv>,
    /// Connections on claimed ports whose analyzer is done: passed over
    /// (see [`Ignored`]).
    ignored: IgnoredSet,
    /// Reaps so far: the age of an ignored connection's end.
    epoch: u32,
    packets: u64,
    /// Capture time of the next look for idle connections.
    next_reap: Option<Timestamp>,
    /// While a reassembled datagram is read: the time of its first
    /// fragment, which the flow table's uid was made from.
    uid_ts: Option<Timestamp>,
}

/// A connection passed over because its analyzer is done, until it ends.
#[derive(Debug, Clone, Copy, Default)]
struct Ignored {
    /// FINs seen, by side.
    fins: [bool; 2],
    /// The reap epoch in which both FINs or a RST were seen.
    ended: Option<u32>,
}

impl Ignored {
    /// Notes a packet's FIN or RST from `side` in reap epoch `epoch`.
    fn note(&mut self, flags: u8, side: u8, epoch: u32) {
        if let Some(f) = self.fins.get_mut(usize::from(side & 1)) {
            *f |= flags & tcp_flags::FIN != 0;
        }
        if self.ended.is_none() && (flags & tcp_flags::RST != 0 || self.fins.iter().all(|f| *f)) {
            self.ended = Some(epoch);
        }
    }
}

/// The passed-over connections, by their key: an IPv4 connection's by its
/// address and port pair packed in 16 bytes (a cheap hash and a small
/// entry, looked up for every packet on a claimed port), others' by their
/// [`FlowKey`].
#[derive(Debug, Default)]
struct IgnoredSet {
    v4: FxHashMap<u128, Ignored>,
    other: FxHashMap<FlowKey, Ignored>,
}

/// The (unordered) address and port pair of an IPv4 packet, packed:
/// lower side first, as [`FlowKey`] orders them.
fn packed_v4(p: &Packet) -> Option<u128> {
    if p.v6 || p.proto != ip_proto::TCP {
        return None;
    }
    let ip = |b: &[u8; 16]| {
        let [b0, b1, b2, b3, ..] = *b;
        u32::from_be_bytes([b0, b1, b2, b3])
    };
    let a = (ip(&p.src), p.sport);
    let b = (ip(&p.dst), p.dport);
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    Some(
        (u128::from(lo.0) << 96)
            | (u128::from(lo.1) << 80)
            | (u128::from(hi.0) << 48)
            | (u128::from(hi.1) << 32),
    )
}

impl IgnoredSet {
    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.other.is_empty()
    }

    fn len(&self) -> usize {
        self.v4.len() + self.other.len()
    }

    fn clear(&mut self) {
        self.v4.clear();
        self.other.clear();
    }

    fn contains(&self, p: &Packet) -> bool {
        match packed_v4(p) {
            Some(k) => self.v4.contains_key(&k),
            None => self.other.contains_key(&FlowKey::of(p).0),
        }
    }

    fn get_mut(&mut self, p: &Packet, key: &FlowKey) -> Option<&mut Ignored> {
        match packed_v4(p) {
            Some(k) => self.v4.get_mut(&k),
            None => self.other.get_mut(key),
        }
    }

    fn remove(&mut self, p: &Packet, key: &FlowKey) {
        match packed_v4(p) {
            Some(k) => self.v4.remove(&k),
            None => self.other.remove(key),
        };
    }

    fn insert(&mut self, p: &Packet, key: FlowKey) {
        match packed_v4(p) {
            Some(k) => self.v4.insert(k, Ignored::default()),
            None => self.other.insert(key, Ignored::default()),
        };
    }

    /// Forgets the connections that ended before reap epoch `epoch`.
    fn retain_ended_in(&mut self, epoch: u32) {
        let keep = |ig: &mut Ignored| ig.ended.is_none_or(|e| e == epoch);
        self.v4.retain(|_, ig| keep(ig));
        self.other.retain(|_, ig| keep(ig));
    }
}

/// Seconds of capture time without a packet after which a followed
/// connection is let go (Zeek's `tcp_inactivity_timeout`, 5 min).
pub const IDLE_SECS: i64 = 300;
const IDLE_NS: i64 = IDLE_SECS * 1_000_000_000;

/// Seconds a followed connection with a FIN from one side only is kept
/// after its last packet (Zeek's `tcp_connection_linger`).
pub const LINGER_SECS: i64 = 5;
const LINGER_NS: i64 = LINGER_SECS * 1_000_000_000;

/// Idle connections are looked for every 8,192 packets, and at least once
/// per this much capture time, so a sparse capture spread over hours keeps
/// no more than its last [`IDLE_SECS`] plus this of connections.
const REAP_EVERY_NS: i64 = 30 * 1_000_000_000;

fn ip_of(b: &[u8; 16], v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(*b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

impl Analyzers {
    /// Analyzers for the capture named `file`.
    pub fn new(cfg: AnalyzerConfig, file: Arc<str>) -> Analyzers {
        Analyzers {
            held: Budget::new(cfg.limits.global_bytes / 2),
            budget: Budget::new(cfg.limits.global_bytes / 2),
            cfg,
            file,
            flows: FxHashMap::default(),
            syns: FxHashMap::default(),
            counters: AnalyzerCounters::default(),
            events: Vec::new(),
            records: Vec::new(),
            udp: FxHashMap::default(),
            ignored: IgnoredSet::default(),
            epoch: 0,
            packets: 0,
            next_reap: None,
            uid_ts: None,
        }
    }

    /// True when a packet could interest an analyzer: TCP, or UDP to or
    /// from the Kerberos or DNS port; analyzers on. Callers skip fetching
    /// the payload of every other packet.
    #[inline]
    pub fn wants(&self, p: &Packet) -> bool {
        self.cfg.enabled
            && (p.proto == ip_proto::TCP
                || (p.proto == ip_proto::UDP
                    && (p.dport == KERBEROS_PORT
                        || p.sport == KERBEROS_PORT
                        || dns_port(p.dport)
                        || dns_port(p.sport))))
    }

    /// True when the analyzers follow this packet's connection or may start
    /// to: a claimed port, a SYN, or a connection already known. Callers
    /// fetch the payload only then.
    #[inline]
    pub fn interested(&self, p: &Packet) -> bool {
        if !self.wants(p) {
            return false;
        }
        if p.proto == ip_proto::UDP {
            return true;
        }
        if port_claimed(p.dport) || port_claimed(p.sport) || p.flags & tcp_flags::SYN != 0 {
            // A connection whose analyzer is done is passed over (a SYN
            // may start a new one on the same ports).
            // Its FIN or RST is shown, to note the end.
            return self.ignored.is_empty()
                || p.flags & (tcp_flags::SYN | tcp_flags::FIN | tcp_flags::RST) != 0
                || !self.ignored.contains(p);
        }
        if self.flows.is_empty() && self.syns.is_empty() {
            return false;
        }
        let (key, _) = FlowKey::of(p);
        self.flows.contains_key(&key) || self.syns.contains_key(&key)
    }

    /// Accounts one decoded TCP packet and its payload.
    pub fn packet(&mut self, p: &Packet, payload: &[u8]) {
        if !self.wants(p) {
            return;
        }
        self.packets += 1;
        match self.next_reap {
            None => self.next_reap = Some(Timestamp(p.ts.0.saturating_add(REAP_EVERY_NS))),
            Some(at) if p.ts > at || self.packets.is_multiple_of(8192) => self.reap(p.ts),
            Some(_) => {}
        }
        if p.proto == ip_proto::UDP {
            self.datagram(p, payload);
            return;
        }
        let (key, side) = FlowKey::of(p);
        let syn_only = p.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;
        if !self.ignored.is_empty()
            && let Some(ig) = self.ignored.get_mut(p, &key)
        {
            if !syn_only {
                ig.note(p.flags, side, self.epoch);
                return;
            }
            self.ignored.remove(p, &key);
        }
        if syn_only
            && self
                .flows
                .get(&key)
                .is_some_and(|t| t.closed.iter().any(|c| *c))
        {
            // A new connection on the same ports: the old one is over.
            self.close(&key, p.ts, p.offset);
        }
        if !self.flows.contains_key(&key) && !self.start(p, &key, side, syn_only, payload) {
            return;
        }
        let Some(t) = self.flows.get_mut(&key) else {
            return;
        };
        t.last = p.ts;
        let from_orig = side == t.orig_side;
        let dir = usize::from(!from_orig);
        let mut cx = Cx {
            flow: &t.info,
            ts: p.ts,
            offset: p.offset,
            file: &self.file,
            events: &mut self.events,
            records: &mut self.records,
            limits: &self.cfg.limits,
            budget: &mut self.budget,
            counters: &mut self.counters,
        };
        let analyzer = &mut t.analyzer;
        let mut reasm = ReassemblyCounters::default();
        let mut delivered = 0u64;
        if let Some(d) = t.dirs.get_mut(dir) {
            d.segment(
                p.seq,
                p.flags & tcp_flags::SYN != 0,
                payload,
                &self.cfg.limits,
                &mut self.held,
                &mut reasm,
                &mut |chunk| {
                    if let Chunk::Data(b) = chunk {
                        delivered += b.len() as u64;
                    }
                    analyzer.chunk(from_orig, chunk, &mut cx)
                },
            );
        }
        if delivered > 0 {
            let name = t.analyzer.name();
            self.counters.per_analyzer.entry(name).or_default().bytes += delivered;
        }
        self.counters.reassembly.add(&reasm);
        if p.flags & (tcp_flags::FIN | tcp_flags::RST) != 0
            && let Some(c) = t.closed.get_mut(dir)
        {
            *c = true;
        }
        let rst = p.flags & tcp_flags::RST != 0;
        let done = rst || t.closed.iter().all(|c| *c);
        let read_all = t.analyzer.done();
        if done {
            if rst {
                self.counters.ended_rst += 1;
            } else {
                self.counters.ended_fin += 1;
            }
            self.close(&key, p.ts, p.offset);
        } else if read_all {
            self.close(&key, p.ts, p.offset);
            if self.ignored.len() >= self.cfg.limits.max_flows {
                self.ignored.clear();
            }
            self.ignored.insert(p, key);
        }
        self.note_peak();
    }

    /// The uid and originator side of a connection starting with `p`, as
    /// the flow table makes them (from the first fragment's time when `p`
    /// is a reassembled datagram).
    fn uid_of(&self, p: &Packet) -> (Text, u8) {
        match self.uid_ts {
            Some(ts) => uid_of_first_packet(&Packet { ts, ..*p }),
            None => uid_of_first_packet(p),
        }
    }

    fn note_peak(&mut self) {
        let peak = (self.budget.peak + self.held.peak) as u64;
        self.counters.peak_bytes = self.counters.peak_bytes.max(peak);
    }

    /// Starts following a connection if an analyzer claims it.
    fn start(
        &mut self,
        p: &Packet,
        key: &FlowKey,
        side: u8,
        syn_only: bool,
        payload: &[u8],
    ) -> bool {
        let (orig_port, resp_port) = (p.sport, p.dport);
        let claimed = port_claimed(p.dport) || port_claimed(p.sport);
        if !claimed {
            if syn_only {
                if self.syns.len() >= self.cfg.limits.max_flows {
                    self.counters.syn_table_full += 1;
                    self.syns.clear();
                }
                let (uid, side) = self.uid_of(p);
                self.syns.insert(*key, (uid, side, p.ts));
                return false;
            }
            if payload.is_empty() {
                return false;
            }
            // First payload of a connection on another port: a bind, or
            // the first bytes of a protocol an analyzer knows, claims it.
            let Some(remembered) = self.syns.remove(key) else {
                return false;
            };
            if dcerpc::starts_with_bind(payload) {
                self.counters.dcerpc_by_bind += 1;
            } else if app::sniff(payload).is_none() {
                return false;
            }
            let (uid, orig_side, _) = remembered;
            let resp = if side == orig_side {
                resp_port
            } else {
                orig_port
            };
            let Some(analyzer) = analyzer_for(resp, Some(payload)) else {
                return false;
            };
            return self.track(p, key, side, uid, orig_side, analyzer);
        }
        let (uid, orig_side) = self.uid_of(p);
        // The responder is the side on the claimed port.
        let orig_side = if port_claimed(p.dport) && !port_claimed(p.sport) {
            side
        } else if port_claimed(p.sport) && !port_claimed(p.dport) {
            side ^ 1
        } else {
            orig_side
        };
        let resp = if side == orig_side { p.dport } else { p.sport };
        let Some(analyzer) = analyzer_for(resp, None) else {
            return false;
        };
        self.track(p, key, side, uid, orig_side, analyzer)
    }

    fn track(
        &mut self,
        p: &Packet,
        key: &FlowKey,
        side: u8,
        uid: Text,
        orig_side: u8,
        analyzer: Box<dyn StreamAnalyzer>,
    ) -> bool {
        if self.flows.len() >= self.cfg.limits.max_flows {
            self.counters.reassembly.flows_refused += 1;
            self.counters
                .per_analyzer
                .entry(analyzer.name())
                .or_default()
                .refused += 1;
            return false;
        }
        let mut analyzer = analyzer;
        if p.flags & tcp_flags::SYN != 0 {
            analyzer.seen_from_syn();
        }
        if !analyzer.deferred() {
            self.counters
                .per_analyzer
                .entry(analyzer.name())
                .or_default()
                .connections += 1;
        }
        let (me, peer) = (
            (ip_of(&p.src, p.v6), p.sport),
            (ip_of(&p.dst, p.v6), p.dport),
        );
        let (orig, resp) = if side == orig_side {
            (me, peer)
        } else {
            (peer, me)
        };
        self.flows.insert(
            *key,
            Tracked {
                info: FlowInfo { uid, orig, resp },
                orig_side,
                dirs: [Direction::default(), Direction::default()],
                analyzer,
                last: p.ts,
                closed: [false; 2],
            },
        );
        self.counters.flows += 1;
        self.counters.peak_flows = self.counters.peak_flows.max(self.flows.len() as u64);
        true
    }

    /// Ends a followed connection: held segments are delivered after gaps,
    /// then the analyzer gives its memory back.
    fn close(&mut self, key: &FlowKey, ts: Timestamp, offset: u64) {
        let Some(mut t) = self.flows.remove(key) else {
            return;
        };
        let mut cx = Cx {
            flow: &t.info,
            ts,
            offset,
            file: &self.file,
            events: &mut self.events,
            records: &mut self.records,
            limits: &self.cfg.limits,
            budget: &mut self.budget,
            counters: &mut self.counters,
        };
        let analyzer = &mut t.analyzer;
        let mut reasm = ReassemblyCounters::default();
        for (i, d) in t.dirs.iter_mut().enumerate() {
            let from_orig = i == 0;
            d.finish(&mut self.held, &mut reasm, &mut |chunk| {
                analyzer.chunk(from_orig, chunk, &mut cx)
            });
        }
        analyzer.finish(&mut cx);
        self.counters.reassembly.add(&reasm);
    }

    /// One UDP datagram to or from the Kerberos or DNS port: a request
    /// waits for its answer on the same address pair; an answer completes
    /// it.
    fn datagram(&mut self, p: &Packet, payload: &[u8]) {
        if payload.is_empty() {
            return;
        }
        let kerberos = p.dport == KERBEROS_PORT || p.sport == KERBEROS_PORT;
        let (kind, port) = if kerberos {
            (app::AppKind::Kerberos, KERBEROS_PORT)
        } else if dns_port(p.dport) {
            (app::AppKind::Dns, p.dport)
        } else {
            (app::AppKind::Dns, p.sport)
        };
        if kerberos {
            self.counters.udp_datagrams += 1;
        }
        let (key, side) = FlowKey::of(p);
        let fresh = self
            .udp
            .get(&key)
            .is_none_or(|c| p.ts.0.saturating_sub(c.last.0) > UDP_IDLE_NS);
        if fresh {
            if let Some(old) = self.udp.remove(&key) {
                self.close_udp(old, p.offset);
            }
            if self.udp.len() >= self.cfg.limits.max_flows {
                self.counters.reassembly.flows_refused += 1;
                self.counters.app_mut(kind).refused += 1;
                return;
            }
            let (uid, orig_side) = self.uid_of(p);
            // The client is the side not on the service's port.
            let orig_side = if p.dport == port && p.sport != port {
                side
            } else if p.sport == port && p.dport != port {
                side ^ 1
            } else {
                orig_side
            };
            let (me, peer) = (
                (ip_of(&p.src, p.v6), p.sport),
                (ip_of(&p.dst, p.v6), p.dport),
            );
            let (orig, resp) = if side == orig_side {
                (me, peer)
            } else {
                (peer, me)
            };
            self.counters.app_connection(kind);
            let pending = if kerberos {
                UdpPending::Kerberos(None)
            } else {
                UdpPending::Dns(dns::Pending::default())
            };
            self.udp.insert(
                key,
                UdpConv {
                    info: FlowInfo { uid, orig, resp },
                    orig_side,
                    last: p.ts,
                    pending,
                },
            );
        }
        let Some(conv) = self.udp.get_mut(&key) else {
            return;
        };
        conv.last = p.ts;
        let _ = conv.orig_side;
        let kind = match conv.pending {
            UdpPending::Kerberos(_) => app::AppKind::Kerberos,
            UdpPending::Dns(_) => app::AppKind::Dns,
        };
        self.counters
            .per_analyzer
            .entry(kind.name())
            .or_default()
            .bytes += payload.len() as u64;
        let mut cx = Cx {
            flow: &conv.info,
            ts: p.ts,
            offset: p.offset,
            file: &self.file,
            events: &mut self.events,
            records: &mut self.records,
            limits: &self.cfg.limits,
            budget: &mut self.budget,
            counters: &mut self.counters,
        };
        match &mut conv.pending {
            UdpPending::Kerberos(k) => app::kerberos_datagram(k, payload, &mut cx),
            UdpPending::Dns(d) => app::dns_message(d, false, payload, &mut cx),
        }
    }

    /// Ends a UDP conversation: a request never answered is a record.
    fn close_udp(&mut self, mut conv: UdpConv, offset: u64) {
        let ts = match &conv.pending {
            UdpPending::Kerberos(Some((ts, _))) => *ts,
            UdpPending::Dns(d) if !d.is_empty() => conv.last,
            _ => return,
        };
        let mut cx = Cx {
            flow: &conv.info,
            ts,
            offset,
            file: &self.file,
            events: &mut self.events,
            records: &mut self.records,
            limits: &self.cfg.limits,
            budget: &mut self.budget,
            counters: &mut self.counters,
        };
        match &mut conv.pending {
            UdpPending::Kerberos(k) => {
                if let Some((ts, req)) = k.take() {
                    app::unanswered(ts, req, &mut cx);
                }
            }
            UdpPending::Dns(d) => app::dns_finish(d, &mut cx),
        }
    }

    /// Lets go of connections idle for longer than the TCP timeout, and
    /// forgets passed-over connections that ended before the last reap
    /// (their last ACKs have had 8,192 packets' time to arrive).
    fn reap(&mut self, now: Timestamp) {
        self.next_reap = Some(Timestamp(now.0.saturating_add(REAP_EVERY_NS)));
        let syns = self.syns.len();
        self.syns
            .retain(|_, (_, _, ts)| now.0.saturating_sub(ts.0) <= IDLE_NS);
        self.counters.reaped_syns += (syns - self.syns.len()) as u64;
        let epoch = self.epoch;
        self.ignored.retain_ended_in(epoch);
        self.epoch = self.epoch.wrapping_add(1);
        let mut idle_udp: Vec<(Timestamp, FlowKey)> = self
            .udp
            .iter()
            .filter(|(_, c)| now.0.saturating_sub(c.last.0) > UDP_IDLE_NS)
            .map(|(k, c)| (c.last, *k))
            .collect();
        idle_udp.sort();
        for (_, k) in idle_udp {
            if let Some(c) = self.udp.remove(&k) {
                self.counters.reaped_udp += 1;
                self.close_udp(c, 0);
            }
        }
        let mut idle: Vec<(FlowKey, Timestamp, bool)> = self
            .flows
            .iter()
            .filter_map(|(k, t)| {
                let quiet = now.0.saturating_sub(t.last.0);
                if quiet > IDLE_NS {
                    Some((*k, t.last, false))
                } else if quiet > LINGER_NS && t.closed.iter().any(|c| *c) {
                    Some((*k, t.last, true))
                } else {
                    None
                }
            })
            .collect();
        // Closed in a fixed order, whatever the map's.
        idle.sort();
        for (k, last, half_closed) in idle {
            if half_closed {
                self.counters.reaped_half_closed += 1;
            } else {
                self.counters.reaped += 1;
            }
            self.close(&k, last, 0);
        }
    }

    /// Connections followed now and bytes held now (for the memory tests).
    pub fn state(&self) -> (usize, usize) {
        (
            self.flows.len() + self.syns.len(),
            self.budget.used + self.held.used,
        )
    }

    /// Ends every connection and returns the events and records (in a
    /// fixed order) and counters.
    pub fn finish(mut self) -> AnalyzerOutput {
        let mut keys: Vec<(Timestamp, FlowKey)> =
            self.flows.iter().map(|(k, t)| (t.last, *k)).collect();
        keys.sort();
        for (last, k) in keys {
            self.close(&k, last, 0);
        }
        let mut udp: Vec<(Timestamp, FlowKey)> =
            self.udp.iter().map(|(k, c)| (c.last, *k)).collect();
        udp.sort();
        for (_, k) in udp {
            if let Some(c) = self.udp.remove(&k) {
                self.close_udp(c, 0);
            }
        }
        self.note_peak();
        let mut events = self.events;
        // Findings come out as packets complete messages; ties keep that order.
        events.sort_by_key(|e| e.ts);
        let mut records = self.records;
        records.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.flow.uid.cmp(&b.flow.uid)));
        AnalyzerOutput {
            events,
            records,
            counters: self.counters,
        }
    }
}

impl PacketTap for Analyzers {
    fn interested(&self, p: &Packet) -> bool {
        Analyzers::interested(self, p)
    }

    fn packet(&mut self, p: &Packet, payload: &[u8]) {
        Analyzers::packet(self, p, payload)
    }

    fn joined(&mut self, p: &Packet, first_ts: Timestamp, payload: &[u8]) {
        self.uid_ts = Some(first_ts);
        Analyzers::packet(self, p, payload);
        self.uid_ts = None;
    }
}

/// SMB on 445/139: NetBIOS framing, then [`smb::SmbConnection`].
#[derive(Default)]
struct SmbAnalyzer {
    framers: [Framer; 2],
    conn: smb::SmbConnection,
    account: Account,
    rpc: RpcPending,
    server_name: Option<Text>,
    first: FirstBytes,
}

/// Whether a framed protocol's connection, seen from its SYN, has shown
/// it really is that protocol: each direction's first bytes must start a
/// message, or the analyzer gives up on the connection at once (random
/// bytes on a well-known port cost no framing and no resynchronising).
#[derive(Debug, Default)]
struct FirstBytes {
    /// The connection was seen from its SYN.
    strict: bool,
    /// Directions that have delivered something.
    started: [bool; 2],
    /// A message was framed in either direction.
    framed: bool,
    /// The first bytes were not a message: nothing more is read.
    gave_up: bool,
}

impl FirstBytes {
    /// Judges a direction's chunk: false when the analyzer gives up (and
    /// counts it as a parse error of `name`).
    fn accept(
        &mut self,
        dir: usize,
        chunk: &Chunk<'_>,
        framing: &dyn reassembly::Framing,
        name: &'static str,
        cx: &mut Cx<'_>,
    ) -> bool {
        if self.gave_up {
            return false;
        }
        let Some(started) = self.started.get_mut(dir) else {
            return true;
        };
        if *started {
            return true;
        }
        match chunk {
            Chunk::Gap(_) => *started = true,
            Chunk::Data([]) => {}
            Chunk::Data(d) => {
                *started = true;
                if self.strict && !self.framed && framing.message_len(d) == Some(Err(())) {
                    self.gave_up = true;
                    cx.counters
                        .per_analyzer
                        .entry(name)
                        .or_default()
                        .parse_errors += 1;
                    return false;
                }
            }
        }
        true
    }
}

impl StreamAnalyzer for SmbAnalyzer {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        let dir = usize::from(!from_orig);
        if !self
            .first
            .accept(dir, &chunk, &smb::NetbiosFraming, "smb", cx)
        {
            return;
        }
        let Some(framer) = self.framers.get_mut(dir) else {
            return;
        };
        let mut msgs: Vec<(Vec<u8>, bool)> = Vec::new();
        framer.feed(
            chunk,
            &smb::NetbiosFraming,
            cx.limits,
            cx.budget,
            &mut cx.counters.reassembly,
            &mut |m, complete| msgs.push((m.to_vec(), complete)),
        );
        self.first.framed |= !msgs.is_empty();
        let mut found = Vec::new();
        for (m, complete) in &msgs {
            let mut smb_counters = std::mem::take(&mut cx.counters.smb);
            let mut reasm = std::mem::take(&mut cx.counters.reassembly);
            let mut tools = smb::Tools {
                limits: cx.limits,
                budget: cx.budget,
                reassembly: &mut reasm,
                counters: &mut smb_counters,
                now: cx.ts.0,
            };
            self.conn
                .message(from_orig, m, *complete, &mut tools, &mut found);
            cx.counters.smb = smb_counters;
            cx.counters.reassembly = reasm;
        }
        for f in found {
            self.emit(f, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        for f in &mut self.framers {
            f.reset(cx.budget);
        }
        self.rpc.clear();
        let mut found = Vec::new();
        self.conn.finish(cx.budget, &mut found);
        for f in found {
            self.emit(f, cx);
        }
    }

    fn name(&self) -> &'static str {
        "smb"
    }

    fn done(&self) -> bool {
        self.first.gave_up
    }

    fn seen_from_syn(&mut self) {
        self.first.strict = true;
    }
}

impl SmbAnalyzer {
    fn emit(&mut self, f: smb::Finding, cx: &mut Cx<'_>) {
        match f {
            smb::Finding::Session {
                mechanism,
                auth,
                status,
            } => {
                let ok = status == 0;
                if ok || status == u32::MAX {
                    self.account.method = Some(mechanism).filter(|m| *m != "unknown");
                }
                if let Some(a) = auth {
                    let e = ntlm_event(&a, self.server_name.clone(), status, cx);
                    if ok || status == u32::MAX {
                        self.account.user = e.user_name.clone();
                        self.account.domain = e.user_domain.clone();
                        self.account.workstation = e.source_domain.clone();
                    }
                    cx.events.push(e);
                }
            }
            smb::Finding::KerberosAp(ap) => {
                let record = app::AppRecord::Kerberos {
                    request: None,
                    answer: Some(kerberos::Message::ApRequest(ap)),
                };
                app::emit(app::AppKind::Kerberos, cx.ts, record, cx);
            }
            smb::Finding::Challenge(c) => {
                self.server_name = c
                    .nb_computer
                    .or(c.dns_computer)
                    .map(|s| crate::model::event::capped_text(&s, 256));
            }
            smb::Finding::Mapping { path, share_type } => {
                let mut e = cx.event("zeek.smb_mapping", Category::Network, Action::ShareAccessed);
                e.outcome = Some(Outcome::Success);
                Cx::with_account(&mut e, &self.account);
                e.set_share_name(Some(path));
                e.push_label("share_type".into(), share_type.into());
                cx.events.push(e);
            }
            smb::Finding::File(row) => {
                let smb::FileRow {
                    action,
                    path,
                    name,
                    prev_name,
                    size,
                    times,
                } = *row;
                let act = match action {
                    smb::FileAction::Open => Action::FileOpened,
                    smb::FileAction::Read => Action::FileRead,
                    smb::FileAction::Write => Action::FileWritten,
                    smb::FileAction::Rename => Action::FileRenamed,
                    smb::FileAction::Delete => Action::FileDeleted,
                };
                let mut e = cx.event("zeek.smb_files", Category::Network, act);
                e.outcome = Some(Outcome::Success);
                Cx::with_account(&mut e, &self.account);
                e.set_share_name(Some(path));
                e.set_share_target(Some(name));
                e.push_label("smb_action".into(), action.zeek().into());
                e.push_label("file_size".into(), Text::from(size.to_string()));
                if let Some(p) = prev_name {
                    e.push_label("file_prev_name".into(), p);
                }
                if let Some(t) = times {
                    for (key, ft) in [
                        ("file_mtime", t.modified),
                        ("file_accessed", t.accessed),
                        ("file_created", t.created),
                        ("file_ctime", t.changed),
                    ] {
                        e.push_label(key.into(), Text::from(smb::MacTimes::zeek_time(ft)));
                    }
                }
                cx.events.push(e);
            }
            smb::Finding::Rpc { pipe, finding } => {
                rpc_events(finding, pipe, &mut self.account, &mut self.rpc, cx);
            }
            smb::Finding::Encrypted | smb::Finding::Dialect(_) => {}
        }
    }
}

/// The `zeek.ntlm` event of an AUTHENTICATE (`status` u32::MAX: outcome unknown).
fn ntlm_event(a: &ntlm::Authenticate, server: Option<Text>, status: u32, cx: &Cx<'_>) -> LogEvent {
    let mut e = cx.event(
        "zeek.ntlm",
        Category::Authentication,
        Action::NtlmAuthentication,
    );
    e.outcome = Some(match status {
        0 => Outcome::Success,
        u32::MAX => Outcome::Unknown,
        _ => Outcome::Failure,
    });
    if status != 0 && status != u32::MAX {
        e.set_status(Some(Text::from(format!("0x{status:08x}"))));
    }
    let t = |s: &str| Some(s).filter(|s| !s.is_empty()).map(Text::from);
    e.user_name = t(&a.user);
    e.user_domain = t(&a.domain);
    e.source_domain = t(&a.workstation);
    e.destination_domain = server;
    e.auth_method = Some("NTLM".into());
    e.push_label("ntlm_version".into(), a.version.into());
    e
}

/// A connection's DCE-RPC calls awaiting their response, by pipe (file
/// id; zeros over TCP) and call id: where the call's event is in the
/// events, and when its request's last fragment was seen, so the response
/// can give it its round-trip time.
type RpcPending = BTreeMap<([u8; 16], u32), (usize, Timestamp)>;

/// Most calls awaiting a response per connection (beyond it a call's
/// `rtt` stays unset).
const MAX_RPC_PENDING: usize = 256;

/// The events of one DCE-RPC finding: `zeek.dce_rpc` calls (and, for the
/// calls that are remote execution or replication, the event a host log
/// would hold), `zeek.ntlm` for NTLM tokens; a response gives its call's
/// event `rtt` (seconds from the request's last fragment, as Zeek's
/// interval; unset when no time passed, as Zeek).
fn rpc_events(
    f: dcerpc::Finding,
    pipe: [u8; 16],
    account: &mut Account,
    pending: &mut RpcPending,
    cx: &mut Cx<'_>,
) {
    match f {
        dcerpc::Finding::Response(id) => {
            if let Some((at, sent)) = pending.remove(&(pipe, id))
                && let Some(e) = cx.events.get_mut(at)
                && sent != cx.ts
            {
                #[allow(clippy::cast_precision_loss)]
                let rtt = cx.ts.0.saturating_sub(sent.0) as f64 / 1e9;
                e.push_label("rtt".into(), Text::from(format!("{rtt:.6}")));
            }
        }
        dcerpc::Finding::CallStub {
            call_id,
            service,
            binary,
        } => {
            let Some(&(at, _)) = pending.get(&(pipe, call_id)) else {
                return;
            };
            // The call's event, and the host-log equivalent pushed after it.
            for e in cx.events.iter_mut().skip(at).take(2) {
                if e.rpc_endpoint().is_none_or(|p| p != "svcctl") {
                    break;
                }
                if let Some(s) = &service {
                    e.set_service_name(Some(crate::model::event::capped_text(s, 256)));
                }
                if let Some(b) = &binary {
                    e.set_process_executable(Some(crate::model::event::capped_text(b, 1024)));
                }
            }
        }
        dcerpc::Finding::RequestEnd(id) => {
            if let Some((_, sent)) = pending.get_mut(&(pipe, id)) {
                *sent = cx.ts;
            }
        }
        dcerpc::Finding::Ntlm(ntlm::Message::Authenticate(a)) => {
            let e = ntlm_event(&a, None, u32::MAX, cx);
            account.method = Some("NTLM");
            account.user = e.user_name.clone();
            account.domain = e.user_domain.clone();
            account.workstation = e.source_domain.clone();
            cx.events.push(e);
        }
        dcerpc::Finding::Ntlm(_) => {}
        dcerpc::Finding::Kerberos => {
            if account.method.is_none() {
                account.method = Some("Kerberos");
            }
        }
        dcerpc::Finding::Call(call) => {
            let mut e = cx.event("zeek.dce_rpc", Category::Network, Action::RpcCall);
            Cx::with_account(&mut e, account);
            e.set_rpc_endpoint(Some(call.endpoint.clone()));
            e.set_rpc_operation(Some(call.operation.clone()));
            if let Some(p) = call.named_pipe.clone() {
                e.push_label("named_pipe".into(), p);
            }
            if pending.len() < MAX_RPC_PENDING || pending.contains_key(&(pipe, call.call_id)) {
                pending.insert((pipe, call.call_id), (cx.events.len(), cx.ts));
            }
            if call.auth_level > 0 {
                e.push_label(
                    "rpc_auth_level".into(),
                    Text::from(call.auth_level.to_string()),
                );
            }
            let equivalent = match (call.endpoint.as_str(), call.operation.as_str()) {
                ("svcctl", op) if op.starts_with("CreateService") => {
                    Some((Action::ServiceInstalled, Category::Process))
                }
                ("atsvc", "NetrJobAdd") | ("ITaskSchedulerService", "SchRpcRegisterTask") => {
                    Some((Action::ScheduledTaskCreated, Category::Process))
                }
                ("drsuapi", "DRSGetNCChanges") => {
                    Some((Action::DirectoryReplicationRequested, Category::Iam))
                }
                _ => None,
            };
            if let Some(s) = &call.service {
                e.set_service_name(Some(crate::model::event::capped_text(s, 256)));
            }
            if let Some(b) = &call.binary {
                e.set_process_executable(Some(crate::model::event::capped_text(b, 1024)));
            }
            if let Some((action, category)) = equivalent {
                // What the target's own log would say, from the wire: the
                // request was seen, not its result.
                let mut h = e.clone();
                h.action = action;
                h.category = Some(category);
                h.push_label("evidence".into(), Text::from("dce_rpc request"));
                cx.events.push(e);
                cx.events.push(h);
            } else {
                cx.events.push(e);
            }
        }
    }
}

/// DCE-RPC over TCP: PDU framing, then one [`dcerpc::Association`].
#[derive(Default)]
struct DceRpcAnalyzer {
    framers: [Framer; 2],
    assoc: dcerpc::Association,
    account: Account,
    rpc: RpcPending,
    first: FirstBytes,
    /// Never give up on the first bytes (RPC over HTTP's preamble).
    lenient: bool,
}

impl StreamAnalyzer for DceRpcAnalyzer {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        let dir = usize::from(!from_orig);
        if !self
            .first
            .accept(dir, &chunk, &dcerpc::DceRpcFraming, "dcerpc", cx)
        {
            return;
        }
        let Some(framer) = self.framers.get_mut(dir) else {
            return;
        };
        let mut pdus: Vec<Vec<u8>> = Vec::new();
        framer.feed(
            chunk,
            &dcerpc::DceRpcFraming,
            cx.limits,
            cx.budget,
            &mut cx.counters.reassembly,
            &mut |m, _| pdus.push(m.to_vec()),
        );
        self.first.framed |= !pdus.is_empty();
        let mut found = Vec::new();
        for p in &pdus {
            self.assoc
                .pdu(from_orig, p, cx.budget, &mut cx.counters.dcerpc, &mut found);
        }
        for f in found {
            rpc_events(f, [0; 16], &mut self.account, &mut self.rpc, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        for f in &mut self.framers {
            f.reset(cx.budget);
        }
        self.assoc.release(cx.budget);
        self.rpc.clear();
    }

    fn name(&self) -> &'static str {
        "dcerpc"
    }

    fn done(&self) -> bool {
        self.first.gave_up
    }

    fn seen_from_syn(&mut self) {
        self.first.strict = !self.lenient;
    }
}

/// Reads the `Authorization` header of an HTTP request head at the front of
/// `d` (request heads start a segment in practice; a head split across
/// segments is missed, not guessed at): NTLM AUTHENTICATE gives a
/// `zeek.ntlm` event; every NTLM or Negotiate header is counted.
pub(crate) fn http_auth(d: &[u8], cx: &mut Cx<'_>) {
    let head_end = d
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(d.len());
    match ntlm::from_http(d.get(..head_end).unwrap_or(d)) {
        Some(("NTLM", Some(ntlm::Message::Authenticate(a)))) => {
            cx.counters.http_auth += 1;
            let e = ntlm_event(&a, None, u32::MAX, cx);
            cx.events.push(e);
        }
        Some((_, _)) => {
            cx.counters.http_auth += 1;
        }
        None => {}
    }
}

/// Runs arbitrary bytes through one analyzer (`smb`, `dcerpc`, `ntlm`,
/// `app`: every application parser, or `stream`: the whole path from TCP
/// segments cut from the bytes),
/// discarding the results: the entry point of the fuzz targets in `fuzz/`.
/// Never panics, by contract.
pub fn fuzz(kind: &str, data: &[u8]) {
    let limits = Limits {
        max_message: 4096,
        global_bytes: 1 << 16,
        max_flows: 16,
        ..Limits::default()
    };
    let mut budget = Budget::new(limits.global_bytes);
    let mut reasm = ReassemblyCounters::default();
    match kind {
        "smb" => {
            let mut counters = smb::SmbCounters::default();
            let mut conn = smb::SmbConnection::default();
            let mut out = Vec::new();
            // The bytes as messages of both directions, split at each 0x00 type byte.
            for (i, msg) in data.split(|b| *b == 0xa5).enumerate() {
                let mut tools = smb::Tools {
                    limits: &limits,
                    budget: &mut budget,
                    reassembly: &mut reasm,
                    counters: &mut counters,
                    now: i64::try_from(i).unwrap_or(0).saturating_mul(1_000_000_000),
                };
                conn.message(i % 2 == 0, msg, i % 3 != 0, &mut tools, &mut out);
            }
            conn.finish(&mut budget, &mut out);
        }
        "dcerpc" => {
            let mut a = dcerpc::Association::default();
            let mut c = dcerpc::DceRpcCounters::default();
            let mut out = Vec::new();
            for (i, pdu) in data.split(|b| *b == 0xa5).enumerate() {
                a.pdu(i % 2 == 0, pdu, &mut budget, &mut c, &mut out);
            }
            a.release(&mut budget);
            // Every byte a joined request held is given back.
            assert_eq!(budget.used, 0, "dcerpc stub bytes leaked from the budget");
        }
        "ntlm" => {
            let _ = ntlm::parse(data);
            let _ = ntlm::find(data);
            let _ = ntlm::mechanism(data);
            let _ = ntlm::from_http(data);
        }
        "app" => fuzz_app(data),
        _ => fuzz_stream(data),
    }
}

/// The bytes through every application parser, whole and cut in two.
fn fuzz_app(data: &[u8]) {
    let half = data.len() / 2;
    for d in [
        data,
        data.get(..half).unwrap_or(&[]),
        data.get(half..).unwrap_or(&[]),
    ] {
        let _ = app::sniff(d);
        let _ = kerberos::parse_message(d);
        let _ = kerberos::parse_tcp_record(d);
        let reqs = http::parse_requests(d);
        let _ = http::parse_responses(d, &http::head_flags(&reqs.messages));
        let _ = rdp::parse_connection_request(d);
        let _ = rdp::parse_connection_confirm(d);
        let _ = rdp::parse_client_core(d);
        let mut st = ssh::SshState::default();
        st.client.segment(d);
        st.server.segment(d);
        let _ = st.auth();
        let _ = st.negotiated();
        let _ = tls::parse_flight(d, true);
        let _ = tls::parse_flight(d, false);
        let _ = ldap::parse_messages(d);
    }
}

/// The bytes as TCP segments of a few connections to analyzed ports: each
/// segment's header (side, port choice, sequence offset, length) is read
/// from the bytes themselves.
fn fuzz_stream(data: &[u8]) {
    let cfg = AnalyzerConfig {
        enabled: true,
        limits: Limits {
            max_message: 4096,
            global_bytes: 1 << 16,
            max_flows: 8,
            ..Limits::default()
        },
    };
    let mut a = Analyzers::new(cfg, Arc::from("fuzz"));
    let mut rest = data;
    let mut seq = [1000u32, 5000u32];
    let mut t = 0i64;
    while let Some((&hdr, tail)) = rest.split_first() {
        let len = usize::from(tail.first().copied().unwrap_or(0)) * 4;
        let body = tail.get(1..).unwrap_or(&[]);
        let payload = body.get(..len.min(body.len())).unwrap_or(&[]);
        rest = body.get(payload.len()..).unwrap_or(&[]);
        let side = usize::from(hdr & 1);
        let port = [445u16, 135, 5985, 49700, 88, 3389, 443, 389][usize::from(hdr >> 1 & 7)];
        let flags = match hdr >> 3 & 3 {
            0 => tcp_flags::SYN,
            1 => tcp_flags::FIN | tcp_flags::ACK,
            2 => tcp_flags::RST,
            _ => tcp_flags::ACK | tcp_flags::PSH,
        };
        let jump = u32::from(hdr >> 5) * 97;
        let (src, dst, sport, dport) = if side == 0 {
            ([10, 0, 0, 1], [10, 0, 0, 2], 50000, port)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], port, 50000)
        };
        let mut s16 = [0u8; 16];
        let mut d16 = [0u8; 16];
        s16[..4].copy_from_slice(&src);
        d16[..4].copy_from_slice(&dst);
        let Some(sq) = seq.get_mut(side) else {
            break;
        };
        *sq = sq.wrapping_add(jump);
        let p = Packet {
            ts: Timestamp(t),
            src: s16,
            dst: d16,
            v6: false,
            proto: ip_proto::TCP,
            sport,
            dport,
            flags,
            seq: *sq,
            ack: 0,
            window: 0,
            payload_len: payload.len() as u32,
            ip_len: 0,
            fragment: crate::source::decode::Fragment::Whole,
            wire_len: 0,
            offset: t as u64,
        };
        *sq = sq.wrapping_add(payload.len() as u32);
        t += 1_000_000;
        a.packet(&p, payload);
    }
    let _ = a.finish();
}
