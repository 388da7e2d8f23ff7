//! Connection records as Zeek's conn.log: TSV with Zeek's header lines (so
//! `zeek-cut` and friends read it), or JSON Lines with the same field names.
//!
//! Times in JSON are RFC 3339 UTC (Zeek's `JSON::TS_ISO8601`); unset fields
//! are `-` in TSV and omitted in JSON, as Zeek writes them. The `#open` and
//! `#close` lines carry the first and last record's time rather than the
//! wall clock, so the same input always gives the same bytes.

use crate::model::event::{Flow, Timestamp};
use std::io::Write as _;

/// Output format for connection records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnFormat {
    /// Zeek TSV with header lines.
    Zeek,
    /// One JSON object per line.
    Jsonl,
}

/// conn.log field names, in Zeek's order.
pub const FIELDS: [&str; 22] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
    "ip_proto",
];

/// conn.log field types, matching [`FIELDS`].
pub const TYPES: [&str; 22] = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
    "count",
];

/// Writes a time as Zeek's `#open`/`#close` lines do (`YYYY-MM-DD-HH-MM-SS`).
pub fn zeek_date(ts: Timestamp, out: &mut Vec<u8>) {
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

/// How conn.log is written: its format, and whether each row ends with
/// the flow's `community_id` (Community ID v1, seed 0), as Zeek writes it
/// with `@load policy/protocols/conn/community-id-logging`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLog {
    /// TSV or JSON Lines.
    pub format: ConnFormat,
    /// Add the `community_id` column.
    pub community_id: bool,
}

impl ConnLog {
    /// Zeek's default conn.log in `format`, no optional column.
    pub fn plain(format: ConnFormat) -> ConnLog {
        ConnLog {
            format,
            community_id: false,
        }
    }

    /// The TSV header (nothing for JSON Lines); `first` is the earliest
    /// record's time, if any.
    pub fn header(&self, first: Option<Timestamp>, out: &mut Vec<u8>) {
        if self.format == ConnFormat::Zeek {
            zeek_header(first, self.community_id, out);
        }
    }

    /// One record.
    pub fn row(&self, f: &Flow, out: &mut Vec<u8>) {
        let cid = self
            .community_id
            .then(|| {
                crate::model::community_id::community_id_v1(
                    f.orig_h, f.orig_p, f.resp_h, f.resp_p, f.ip_proto,
                )
            })
            .flatten();
        match self.format {
            ConnFormat::Zeek => {
                zeek_row_fields(f, out);
                if self.community_id {
                    out.push(b'\t');
                    match &cid {
                        Some(c) => out.extend_from_slice(c.as_bytes()),
                        None => out.push(b'-'),
                    }
                }
                out.push(b'\n');
            }
            ConnFormat::Jsonl => {
                json_row_members(f, out);
                if let Some(c) = &cid {
                    out.extend_from_slice(b",\"community_id\":\"");
                    out.extend_from_slice(c.as_bytes());
                    out.push(b'"');
                }
                out.extend_from_slice(b"}\n");
            }
        }
    }

    /// The TSV trailer (nothing for JSON Lines); `last` is the latest
    /// record's time, if any.
    pub fn footer(&self, last: Option<Timestamp>, out: &mut Vec<u8>) {
        if self.format == ConnFormat::Zeek {
            write_zeek_footer(last, out);
        }
    }
}

/// Writes the TSV header; `first` is the earliest record's time, if any.
pub fn write_zeek_header(first: Option<Timestamp>, out: &mut Vec<u8>) {
    zeek_header(first, false, out);
}

fn zeek_header(first: Option<Timestamp>, community_id: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t");
    zeek_date(first.unwrap_or_default(), out);
    out.extend_from_slice(b"\n#fields");
    let cid = community_id.then_some(("community_id", "string"));
    for f in FIELDS.iter().copied().chain(cid.map(|c| c.0)) {
        out.push(b'\t');
        out.extend_from_slice(f.as_bytes());
    }
    out.extend_from_slice(b"\n#types");
    for t in TYPES.iter().copied().chain(cid.map(|c| c.1)) {
        out.push(b'\t');
        out.extend_from_slice(t.as_bytes());
    }
    out.push(b'\n');
}

/// Writes the TSV trailer; `last` is the latest record's time, if any.
pub fn write_zeek_footer(last: Option<Timestamp>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"#close\t");
    zeek_date(last.unwrap_or_default(), out);
    out.push(b'\n');
}

fn num(out: &mut Vec<u8>, v: u64) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

fn opt_num(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => num(out, v),
        None => out.push(b'-'),
    }
}

/// Escapes a TSV string field the way Zeek does: tabs, newlines, backslashes
/// and non-printable bytes become `\xHH`; empty becomes `(empty)`.
fn tsv_str(out: &mut Vec<u8>, s: &str) {
    if s.is_empty() {
        out.extend_from_slice(b"(empty)");
        return;
    }
    for &b in s.as_bytes() {
        if b == b'\t' || b == b'\n' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02x}");
        } else {
            out.push(b);
        }
    }
}

/// Writes one record as a TSV line.
pub fn write_zeek_row(f: &Flow, out: &mut Vec<u8>) {
    zeek_row_fields(f, out);
    out.push(b'\n');
}

/// Zeek's default columns of one record, without the line's end.
fn zeek_row_fields(f: &Flow, out: &mut Vec<u8>) {
    f.ts.write_epoch_micros(out);
    out.push(b'\t');
    out.extend_from_slice(f.uid.as_bytes());
    let _ = write!(
        out,
        "\t{}\t{}\t{}\t{}\t{}\t",
        f.orig_h,
        f.orig_p,
        f.resp_h,
        f.resp_p,
        f.proto.zeek_name()
    );
    match &f.service {
        Some(s) => tsv_str(out, s),
        None => out.push(b'-'),
    }
    out.push(b'\t');
    match f.duration {
        Some(d) => d.write_secs_micros(out),
        None => out.push(b'-'),
    }
    out.push(b'\t');
    opt_num(out, f.orig_bytes);
    out.push(b'\t');
    opt_num(out, f.resp_bytes);
    out.push(b'\t');
    out.extend_from_slice(f.conn_state.code().as_bytes());
    out.extend_from_slice(b"\t-\t-\t");
    num(out, f.missed_bytes);
    out.push(b'\t');
    if f.history.is_empty() {
        out.push(b'-');
    } else {
        tsv_str(out, &f.history);
    }
    for v in [f.orig_pkts, f.orig_ip_bytes, f.resp_pkts, f.resp_ip_bytes] {
        out.push(b'\t');
        num(out, v);
    }
    out.extend_from_slice(b"\t-\t");
    num(out, u64::from(f.ip_proto));
}

/// Writes one record as a JSON object line.
pub fn write_json_row(f: &Flow, out: &mut Vec<u8>) {
    json_row_members(f, out);
    out.extend_from_slice(b"}\n");
}

/// One record's JSON object, without its closing brace.
fn json_row_members(f: &Flow, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"ts\":\"");
    f.ts.write_rfc3339_micros(out);
    out.extend_from_slice(b"\",\"uid\":\"");
    out.extend_from_slice(f.uid.as_bytes());
    let _ = write!(
        out,
        "\",\"id.orig_h\":\"{}\",\"id.orig_p\":{},\"id.resp_h\":\"{}\",\"id.resp_p\":{},\"proto\":\"{}\"",
        f.orig_h,
        f.orig_p,
        f.resp_h,
        f.resp_p,
        f.proto.zeek_name()
    );
    if let Some(s) = &f.service {
        out.extend_from_slice(b",\"service\":");
        // serde_json escapes any string correctly; services are short.
        let _ = serde_json::to_writer(&mut *out, s);
    }
    if let Some(d) = f.duration {
        out.extend_from_slice(b",\"duration\":");
        d.write_secs_micros(out);
    }
    if let Some(b) = f.orig_bytes {
        out.extend_from_slice(b",\"orig_bytes\":");
        num(out, b);
    }
    if let Some(b) = f.resp_bytes {
        out.extend_from_slice(b",\"resp_bytes\":");
        num(out, b);
    }
    out.extend_from_slice(b",\"conn_state\":\"");
    out.extend_from_slice(f.conn_state.code().as_bytes());
    out.extend_from_slice(b"\",\"missed_bytes\":");
    num(out, f.missed_bytes);
    if !f.history.is_empty() {
        out.extend_from_slice(b",\"history\":");
        let _ = serde_json::to_writer(&mut *out, &f.history);
    }
    for (name, v) in [
        ("orig_pkts", f.orig_pkts),
        ("orig_ip_bytes", f.orig_ip_bytes),
        ("resp_pkts", f.resp_pkts),
        ("resp_ip_bytes", f.resp_ip_bytes),
    ] {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        num(out, v);
    }
    out.extend_from_slice(b",\"ip_proto\":");
    num(out, u64::from(f.ip_proto));
}

/// Writes one record in the chosen format.
pub fn write_row(format: ConnFormat, f: &Flow, out: &mut Vec<u8>) {
    match format {
        ConnFormat::Zeek => write_zeek_row(f, out),
        ConnFormat::Jsonl => write_json_row(f, out),
    }
}
