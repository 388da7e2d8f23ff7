//! Zeek application logs (`kerberos.log`, `http.log`, `ssl.log`, `ssh.log`,
//! `rdp.log`, `ldap.log`, `ldap_search.log`, `dns.log`) written from the analyzers'
//! records: part of the report stage. Each log is one record type whose
//! [`ZeekLog::columns`] lists Zeek's field names, types and this record's
//! values in Zeek's order; the header and the TSV line both come from that
//! one list. Values are written as Zeek's ASCII writer does: `-` for unset,
//! `(empty)` for an empty string or set, `,` between set elements, and
//! `\\` for a backslash, and `\xHH` for tabs, separators and bytes outside
//! printable ASCII.

pub mod dns;
pub mod http;
pub mod kerberos;
pub mod ldap;
pub mod rdp;
pub mod ssh;
pub mod ssl;

use crate::model::event::Timestamp;
use std::io::Write as _;
use std::net::IpAddr;

/// A connection's endpoints (Zeek's `conn_id`), and its uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnRef {
    /// The connection's uid (as in conn.log).
    pub uid: String,
    /// Originator address.
    pub orig_h: IpAddr,
    /// Originator port.
    pub orig_p: u16,
    /// Responder address.
    pub resp_h: IpAddr,
    /// Responder port.
    pub resp_p: u16,
}

impl Default for ConnRef {
    fn default() -> Self {
        ConnRef {
            uid: String::new(),
            orig_h: IpAddr::from([0, 0, 0, 0]),
            orig_p: 0,
            resp_h: IpAddr::from([0, 0, 0, 0]),
            resp_p: 0,
        }
    }
}

/// One field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Unset (`-`).
    Unset,
    /// A time (epoch seconds with microseconds).
    Time(Timestamp),
    /// A string.
    Str(String),
    /// A count.
    Count(u64),
    /// A boolean (`T`/`F`).
    Bool(bool),
    /// An address.
    Addr(IpAddr),
    /// A port.
    Port(u16),
    /// A set or vector of strings.
    List(Vec<String>),
    /// A string of raw bytes.
    Bytes(Vec<u8>),
    /// A vector of strings of raw bytes.
    ByteList(Vec<Vec<u8>>),
    /// An interval (nanoseconds; written as seconds with six decimals).
    Interval(i64),
    /// A vector of intervals (nanoseconds).
    Intervals(Vec<i64>),
}

impl Value {
    /// `Str`, or `Unset` for `None`.
    pub fn opt_str(v: Option<&str>) -> Value {
        v.map_or(Value::Unset, |s| Value::Str(s.to_string()))
    }
    /// `Count`, or `Unset` for `None`.
    pub fn opt_count(v: Option<u64>) -> Value {
        v.map_or(Value::Unset, Value::Count)
    }
    /// `Bool`, or `Unset` for `None`.
    pub fn opt_bool(v: Option<bool>) -> Value {
        v.map_or(Value::Unset, Value::Bool)
    }
}

/// One column: Zeek's field name and type, and this record's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Field name (`id.orig_h`).
    pub name: &'static str,
    /// Zeek type (`addr`, `set[string]`).
    pub ty: &'static str,
    /// The value.
    pub value: Value,
}

/// Shorthand for a [`Column`].
pub fn col(name: &'static str, ty: &'static str, value: Value) -> Column {
    Column { name, ty, value }
}

/// The five leading columns every application log shares: `ts`, `uid` and the `id`.
pub fn conn_columns(ts: Timestamp, c: &ConnRef) -> Vec<Column> {
    vec![
        col("ts", "time", Value::Time(ts)),
        col("uid", "string", Value::Str(c.uid.clone())),
        col("id.orig_h", "addr", Value::Addr(c.orig_h)),
        col("id.orig_p", "port", Value::Port(c.orig_p)),
        col("id.resp_h", "addr", Value::Addr(c.resp_h)),
        col("id.resp_p", "port", Value::Port(c.resp_p)),
    ]
}

/// A Zeek log's record type.
pub trait ZeekLog: Default {
    /// The log's `#path` (`kerberos`).
    const PATH: &'static str;
    /// The record's columns in Zeek's order.
    fn columns(&self) -> Vec<Column>;
}

fn escape(out: &mut Vec<u8>, s: &str, in_set: bool) {
    escape_bytes(out, s.as_bytes(), in_set);
}

fn escape_bytes(out: &mut Vec<u8>, s: &[u8], in_set: bool) {
    if s.is_empty() {
        out.extend_from_slice(b"(empty)");
        return;
    }
    if s == b"-" || s == b"(empty)" {
        // A value that reads as unset or empty gets its first byte escaped.
        let _ = write!(out, "\\x{:02x}", s[0]);
        out.extend_from_slice(s.get(1..).unwrap_or(&[]));
        return;
    }
    for &b in s {
        if b == b'\\' {
            // Zeek's ASCII writer doubles a backslash.
            out.extend_from_slice(b"\\\\");
        } else if b == b'\t' || (in_set && b == b',') || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02x}");
        } else {
            out.push(b);
        }
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Unset => out.push(b'-'),
        Value::Time(t) => t.write_epoch_micros(out),
        Value::Str(s) => escape(out, s, false),
        Value::Count(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push(if *b { b'T' } else { b'F' }),
        Value::Addr(a) => {
            let _ = write!(out, "{a}");
        }
        Value::Port(p) => {
            let _ = write!(out, "{p}");
        }
        Value::List(items) => {
            if items.is_empty() {
                out.extend_from_slice(b"(empty)");
            }
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                escape(out, s, true);
            }
        }
        Value::Bytes(b) => escape_bytes(out, b, false),
        Value::ByteList(items) => {
            if items.is_empty() {
                out.extend_from_slice(b"(empty)");
            }
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                escape_bytes(out, s, true);
            }
        }
        Value::Interval(ns) => write_interval(out, *ns),
        Value::Intervals(v) => {
            if v.is_empty() {
                out.extend_from_slice(b"(empty)");
            }
            for (i, ns) in v.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_interval(out, *ns);
            }
        }
    }
}

/// An interval as Zeek's ASCII writer prints it: seconds, six decimals
/// (rounded to the microsecond).
fn write_interval(out: &mut Vec<u8>, ns: i64) {
    let sign = if ns < 0 { "-" } else { "" };
    let us = (i128::from(ns).abs() + 500) / 1000;
    let _ = write!(out, "{sign}{}.{:06}", us / 1_000_000, us % 1_000_000);
}

/// Writes one record as a TSV line.
pub fn write_line<R: ZeekLog>(record: &R, out: &mut Vec<u8>) {
    for (i, c) in record.columns().iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        write_value(out, &c.value);
    }
    out.push(b'\n');
}

fn zeek_date(ts: Timestamp, out: &mut Vec<u8>) {
    let secs = ts.secs();
    let (y, m, d) = crate::model::event::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}-{:02}-{:02}-{:02}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
}

/// Writes the header lines; `open` is the first record's time (not the
/// wall clock, so the same input gives the same bytes).
pub fn write_header<R: ZeekLog>(open: Timestamp, out: &mut Vec<u8>) {
    let cols = R::default().columns();
    out.extend_from_slice(
        b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t",
    );
    out.extend_from_slice(R::PATH.as_bytes());
    out.extend_from_slice(b"\n#open\t");
    zeek_date(open, out);
    out.extend_from_slice(b"\n#fields");
    for c in &cols {
        out.push(b'\t');
        out.extend_from_slice(c.name.as_bytes());
    }
    out.extend_from_slice(b"\n#types");
    for c in &cols {
        out.push(b'\t');
        out.extend_from_slice(c.ty.as_bytes());
    }
    out.push(b'\n');
}

/// Writes the `#close` line; `close` is the last record's time.
pub fn write_footer(close: Timestamp, out: &mut Vec<u8>) {
    out.extend_from_slice(b"#close\t");
    zeek_date(close, out);
    out.push(b'\n');
}

/// Writes a whole log: header, records in the order given, footer.
pub fn write_log<R: ZeekLog>(records: &[R], times: impl Fn(&R) -> Timestamp, out: &mut Vec<u8>) {
    let first = records.first().map(&times).unwrap_or_default();
    let last = records.last().map(&times).unwrap_or_default();
    write_header::<R>(first, out);
    for r in records {
        write_line(r, out);
    }
    write_footer(last, out);
}

/// The connection a finding was made on, as the logs name it.
pub fn conn_ref(flow: &crate::analyzer::FlowInfo) -> ConnRef {
    ConnRef {
        uid: flow.uid.to_string(),
        orig_h: flow.orig.0,
        orig_p: flow.orig.1,
        resp_h: flow.resp.0,
        resp_p: flow.resp.1,
    }
}

/// The application logs of `findings` (in the order given, which is time
/// then uid): each log's file name (`kerberos.log`) and bytes, only the
/// logs that have a record, in a fixed order.
pub fn write_logs(findings: &[crate::analyzer::app::AppFinding]) -> Vec<(String, Vec<u8>)> {
    use crate::analyzer::app::AppRecord;
    let mut krb = Vec::new();
    let mut http_ = Vec::new();
    let mut rdp_ = Vec::new();
    let mut ssh_ = Vec::new();
    let mut ssl_ = Vec::new();
    let mut ldap_ = Vec::new();
    let mut ldap_search = Vec::new();
    let mut dns_ = Vec::new();
    for f in findings {
        let conn = conn_ref(&f.flow);
        match &f.record {
            AppRecord::Kerberos { request, answer } => {
                krb.extend(kerberos::KerberosInfo::from_exchange(
                    f.ts,
                    conn,
                    request.as_ref(),
                    answer.as_ref(),
                ))
            }
            AppRecord::Http(t) => http_.push(http::HttpInfo::from_transaction(f.ts, conn, t)),
            AppRecord::Rdp {
                request,
                confirm,
                core,
            } => rdp_.push(rdp::RdpInfo::from_parts(
                f.ts,
                conn,
                request.as_ref(),
                confirm.as_ref(),
                core.as_ref(),
            )),
            AppRecord::Ssh(st) => ssh_.push(ssh::SshInfo::from_state(f.ts, conn, st)),
            AppRecord::Tls { client, server } => {
                ssl_.push(ssl::SslInfo::from_flights(f.ts, conn, client, server))
            }
            AppRecord::Ldap {
                requests,
                responses,
            } => {
                let (a, b) = ldap::records(f.ts, &conn, requests, responses);
                ldap_.extend(a);
                ldap_search.extend(b);
            }
            AppRecord::Dns(t) => dns_.push(dns::DnsInfo::from_transaction(conn, t)),
        }
    }
    let mut out = Vec::new();
    fn one<R: ZeekLog>(
        out: &mut Vec<(String, Vec<u8>)>,
        records: &[R],
        times: impl Fn(&R) -> Timestamp,
    ) {
        if records.is_empty() {
            return;
        }
        let mut buf = Vec::new();
        write_log(records, times, &mut buf);
        out.push((format!("{}.log", R::PATH), buf));
    }
    one(&mut out, &krb, |r| r.ts);
    one(&mut out, &http_, |r| r.ts);
    one(&mut out, &rdp_, |r| r.ts);
    one(&mut out, &ssh_, |r| r.ts);
    one(&mut out, &ssl_, |r| r.ts);
    one(&mut out, &ldap_, |r| r.ts);
    one(&mut out, &ldap_search, |r| r.ts);
    one(&mut out, &dns_, |r| r.ts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_unset_empty_and_sets() {
        let mut out = Vec::new();
        write_value(&mut out, &Value::Str("a\tb\\c\u{e9}".into()));
        assert_eq!(out, b"a\\x09b\\\\c\\xc3\\xa9");
        for (v, want) in [
            (Value::Str(String::new()), "(empty)"),
            (Value::Str("-".into()), "\\x2d"),
            (Value::Unset, "-"),
            (Value::List(vec![]), "(empty)"),
            (Value::List(vec!["a,b".into(), "c".into()]), "a\\x2cb,c"),
            (Value::Bool(false), "F"),
            (
                Value::Time(Timestamp::from_parts(1_692_161_647, 506_749_000)),
                "1692161647.506749",
            ),
        ] {
            let mut out = Vec::new();
            write_value(&mut out, &v);
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
