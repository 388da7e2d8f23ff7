//! `dns.log` (Zeek's `DNS::Info`): one line per DNS query and its
//! response, built from the DNS analyzer's transactions.

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::app::NETBIOS_NS_PORT;
use crate::analyzer::dns::{
    Transaction, decode_netbios_name, netbios_opcode_name, opcode_name, qclass_name, qtype_name,
    rcode_name,
};
use crate::model::event::Timestamp;

/// One `dns.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsInfo {
    /// Time of the query (of the response when no query was seen).
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// `udp` or `tcp`.
    pub proto: &'static str,
    /// Transaction id.
    pub trans_id: u16,
    /// Response time minus query time (nanoseconds), when both were seen
    /// and the response had an answer record.
    pub rtt: Option<i64>,
    /// The queried name (lower-cased).
    pub query: Option<Vec<u8>>,
    /// QCLASS.
    pub qclass: Option<u16>,
    /// QTYPE.
    pub qtype: Option<u16>,
    /// Response code.
    pub rcode: Option<u8>,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// The Z bits.
    pub z: u8,
    /// Answers as Zeek renders them.
    pub answers: Vec<Vec<u8>>,
    /// The answers' TTLs (seconds).
    pub ttls: Vec<u32>,
    /// The server rejected the query.
    pub rejected: bool,
    /// The last message's opcode.
    pub opcode: Option<u8>,
    /// NetBIOS name service (either port 137): opcodes get NetBIOS names.
    pub netbios: bool,
}

impl DnsInfo {
    /// Builds the record as Zeek's `base/protocols/dns` script fills it:
    /// the query gives the name, class, type, RD, TC and Z; the response
    /// the rcode, rejection (an error without a question, or a response
    /// without any record), and for each answer-section record AA, RA, the
    /// rtt (once) and, when it renders to text, the answer and its TTL.
    pub fn from_transaction(conn: ConnRef, t: &Transaction) -> DnsInfo {
        let netbios = !t.tcp && (conn.orig_p == NETBIOS_NS_PORT || conn.resp_p == NETBIOS_NS_PORT);
        let mut d = DnsInfo {
            ts: t.ts,
            conn,
            proto: if t.tcp { "tcp" } else { "udp" },
            trans_id: t.trans_id,
            netbios,
            ..DnsInfo::default()
        };
        // Zeek decodes a query to a NetBIOS name server (and names SRV
        // NBSTAT there).
        let nbns_server = d.nbns_server();
        if let Some(q) = &t.query {
            d.rd = q.rd;
            d.tc = q.tc;
            d.z = q.z;
            d.opcode = Some(q.opcode);
            if let Some(qq) = &q.question {
                d.query = Some(match nbns_server {
                    true => decode_netbios_name(&qq.name).unwrap_or_else(|| qq.name.clone()),
                    false => qq.name.clone(),
                });
                d.qclass = Some(qq.qclass);
                d.qtype = Some(qq.qtype);
            }
        }
        if let Some((rts, r)) = &t.response {
            d.opcode = Some(r.opcode);
            d.rcode = Some(r.rcode);
            if (r.rcode != 0 && r.qdcount == 0)
                || (r.question.is_some() && r.ancount == 0 && r.nscount == 0 && r.arcount == 0)
            {
                d.rejected = true;
            }
            for a in &r.answers {
                if d.query.is_none() {
                    d.query = Some(a.name.clone());
                }
                d.aa = r.aa;
                d.ra = r.ra;
                if d.rtt.is_none() {
                    let rtt = rts.0.saturating_sub(t.ts.0);
                    d.rtt = (rtt != 0 && t.query.is_some()).then_some(rtt);
                }
                if !a.text.is_empty() {
                    d.answers.push(a.text.clone());
                    d.ttls.push(a.ttl);
                }
            }
        }
        d
    }
}

impl DnsInfo {
    /// True when the responder is a NetBIOS name server (UDP 137).
    fn nbns_server(&self) -> bool {
        self.netbios && self.conn.resp_p == NETBIOS_NS_PORT
    }
}

impl ZeekLog for DnsInfo {
    const PATH: &'static str = "dns";

    fn columns(&self) -> Vec<Column> {
        let mut c = conn_columns(self.ts, &self.conn);
        let some_list = |v: Value, empty: bool| if empty { Value::Unset } else { v };
        c.extend([
            col("proto", "enum", Value::Str(self.proto.to_string())),
            col("trans_id", "count", Value::Count(u64::from(self.trans_id))),
            col(
                "rtt",
                "interval",
                self.rtt.map_or(Value::Unset, Value::Interval),
            ),
            col(
                "query",
                "string",
                self.query.clone().map_or(Value::Unset, Value::Bytes),
            ),
            col(
                "qclass",
                "count",
                Value::opt_count(self.qclass.map(u64::from)),
            ),
            col(
                "qclass_name",
                "string",
                self.qclass
                    .map_or(Value::Unset, |q| Value::Str(qclass_name(q))),
            ),
            col(
                "qtype",
                "count",
                Value::opt_count(self.qtype.map(u64::from)),
            ),
            col(
                "qtype_name",
                "string",
                self.qtype.map_or(Value::Unset, |q| {
                    Value::Str(if q == 33 && self.nbns_server() {
                        "NBSTAT".to_string()
                    } else {
                        qtype_name(q)
                    })
                }),
            ),
            col(
                "rcode",
                "count",
                Value::opt_count(self.rcode.map(u64::from)),
            ),
            col(
                "rcode_name",
                "string",
                self.rcode
                    .map_or(Value::Unset, |r| Value::Str(rcode_name(r))),
            ),
            col("AA", "bool", Value::Bool(self.aa)),
            col("TC", "bool", Value::Bool(self.tc)),
            col("RD", "bool", Value::Bool(self.rd)),
            col("RA", "bool", Value::Bool(self.ra)),
            col("Z", "count", Value::Count(u64::from(self.z))),
            col(
                "answers",
                "vector[string]",
                some_list(
                    Value::ByteList(self.answers.clone()),
                    self.answers.is_empty(),
                ),
            ),
            col(
                "TTLs",
                "vector[interval]",
                some_list(
                    Value::Intervals(
                        self.ttls
                            .iter()
                            .map(|t| i64::from(*t) * 1_000_000_000)
                            .collect(),
                    ),
                    self.ttls.is_empty(),
                ),
            ),
            col("rejected", "bool", Value::Bool(self.rejected)),
            col(
                "opcode",
                "count",
                Value::opt_count(self.opcode.map(u64::from)),
            ),
            col(
                "opcode_name",
                "string",
                self.opcode.map_or(Value::Unset, |o| {
                    Value::Str(if self.netbios {
                        netbios_opcode_name(o)
                    } else {
                        opcode_name(o)
                    })
                }),
            ),
        ]);
        c
    }
}
