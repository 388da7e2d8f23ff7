//! The capture analyzers' events as Zeek logs: `smb_mapping.log`,
//! `smb_files.log`, `dce_rpc.log` and `ntlm.log`, written beside conn.log
//! by `lateral flows --zeek-dir`. An output of the report stage.
//!
//! Each log is one [`ZeekLog`]: its `#path`, which events it takes, and its
//! columns in the order of Zeek's record (`SMB::TreeInfo`, `SMB::FileInfo`,
//! `DCE_RPC::Info`, `NTLM::Info` in `scripts/base/protocols/*/main.zeek`),
//! each with its Zeek type and how its value is read from an event. The
//! writer iterates that table; there is no second list of columns. Values
//! the wire did not show are unset (`-`).

use crate::model::Action;
use crate::model::event::{LogEvent, Outcome, Timestamp};
use crate::report::conn_log::zeek_date;
use std::io::Write as _;

/// Escapes a string field as Zeek's ASCII writer does: a backslash doubled
/// (share paths read `\\\\HOST\\C$`), tabs, newlines and other
/// non-printable bytes as `\xHH`; empty as `(empty)`.
fn tsv_str(out: &mut Vec<u8>, s: &str) {
    if s.is_empty() {
        out.extend_from_slice(b"(empty)");
        return;
    }
    for &b in s.as_bytes() {
        if b == b'\\' {
            out.extend_from_slice(b"\\\\");
        } else if !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02x}");
        } else {
            out.push(b);
        }
    }
}

/// The calls Zeek's `dce_rpc.log` leaves out by default
/// (`DCE_RPC::ignored_operations`): registry, printer and workstation calls
/// every Windows host makes all day. The events keep them; only the log
/// matches Zeek's.
const ZEEK_IGNORED_OPERATIONS: &[(&str, &[&str])] = &[
    (
        "winreg",
        &[
            "BaseRegCloseKey",
            "BaseRegGetVersion",
            "BaseRegOpenKey",
            "BaseRegQueryValue",
            "BaseRegDeleteKeyEx",
            "OpenLocalMachine",
            "BaseRegEnumKey",
            "OpenClassesRoot",
        ],
    ),
    ("spoolss", &["RpcSplOpenPrinter", "RpcClosePrinter"]),
    ("wkssvc", &["NetrWkstaGetInfo"]),
];

/// Whether Zeek writes this call to `dce_rpc.log`: its endpoint has no
/// ignored operations, or it has a named operation that is not one of them.
fn zeek_logs_operation(e: &LogEvent) -> bool {
    let ignored = e
        .rpc_endpoint()
        .and_then(|ep| ZEEK_IGNORED_OPERATIONS.iter().find(|(name, _)| *name == ep));
    match ignored {
        None => true,
        Some((_, ops)) => e.rpc_operation().is_some_and(|op| !ops.contains(&op)),
    }
}

/// A column's value in one event.
enum Value<'a> {
    /// A string (escaped as Zeek escapes).
    Str(&'a str),
    /// An address.
    Addr(std::net::IpAddr),
    /// A number (ports, counts).
    Num(u64),
    /// A time (epoch seconds with six decimals).
    Time(Timestamp),
    /// A boolean (`T`/`F`).
    Bool(bool),
    /// Not known (`-`).
    Unset,
}

/// One column: Zeek's field name and type, and its reader.
struct Column {
    name: &'static str,
    ty: &'static str,
    get: for<'a> fn(&'a LogEvent) -> Value<'a>,
}

/// One Zeek log the analyzers' events make.
pub struct ZeekLog {
    /// `#path` (and the file name without `.log`).
    pub path: &'static str,
    /// The event dataset it takes.
    dataset: &'static str,
    /// Which events of that dataset are rows.
    keep: fn(&LogEvent) -> bool,
    columns: &'static [Column],
}

fn opt<'a>(s: Option<&'a str>) -> Value<'a> {
    s.map_or(Value::Unset, Value::Str)
}

/// The columns every one of these logs opens with.
macro_rules! conn_id {
    ($($rest:expr),* $(,)?) => {
        &[
            Column { name: "ts", ty: "time", get: |e| Value::Time(e.ts) },
            Column { name: "uid", ty: "string", get: |e| opt(e.label("zeek_uid")) },
            Column { name: "id.orig_h", ty: "addr", get: |e| e.source_ip.map_or(Value::Unset, Value::Addr) },
            Column { name: "id.orig_p", ty: "port", get: |e| e.source_port.map_or(Value::Unset, |p| Value::Num(u64::from(p))) },
            Column { name: "id.resp_h", ty: "addr", get: |e| e.destination_ip.map_or(Value::Unset, Value::Addr) },
            Column { name: "id.resp_p", ty: "port", get: |e| e.destination_port.map_or(Value::Unset, |p| Value::Num(u64::from(p))) },
            $($rest),*
        ]
    };
}

/// The four logs, in the order they are written.
pub const LOGS: &[ZeekLog] = &[
    ZeekLog {
        path: "smb_mapping",
        dataset: "zeek.smb_mapping",
        keep: |e| e.action == Action::ShareAccessed,
        columns: conn_id![
            Column {
                name: "path",
                ty: "string",
                get: |e| opt(e.share_name())
            },
            Column {
                name: "service",
                ty: "string",
                get: |_| Value::Unset
            },
            Column {
                name: "native_file_system",
                ty: "string",
                get: |_| Value::Unset
            },
            Column {
                name: "share_type",
                ty: "string",
                get: |e| opt(e.label("share_type"))
            },
        ],
    },
    ZeekLog {
        path: "smb_files",
        dataset: "zeek.smb_files",
        keep: |_| true,
        columns: conn_id![
            Column {
                name: "fuid",
                ty: "string",
                get: |_| Value::Unset
            },
            Column {
                name: "action",
                ty: "enum",
                get: |e| opt(e.label("smb_action"))
            },
            Column {
                name: "path",
                ty: "string",
                get: |e| opt(e.share_name())
            },
            Column {
                name: "name",
                ty: "string",
                // Zeek names the share's own directory (an empty create
                // name) `<share_root>`.
                get: |e| match e.share_target() {
                    Some("") => Value::Str("<share_root>"),
                    t => opt(t),
                }
            },
            Column {
                name: "size",
                ty: "count",
                get: |e| opt(e.label("file_size"))
            },
            Column {
                name: "prev_name",
                ty: "string",
                get: |e| opt(e.label("file_prev_name"))
            },
            Column {
                name: "times.modified",
                ty: "time",
                get: |e| opt(e.label("file_mtime"))
            },
            Column {
                name: "times.accessed",
                ty: "time",
                get: |e| opt(e.label("file_accessed"))
            },
            Column {
                name: "times.created",
                ty: "time",
                get: |e| opt(e.label("file_created"))
            },
            Column {
                name: "times.changed",
                ty: "time",
                get: |e| opt(e.label("file_ctime"))
            },
        ],
    },
    ZeekLog {
        path: "dce_rpc",
        dataset: "zeek.dce_rpc",
        keep: |e| e.action == Action::RpcCall && zeek_logs_operation(e),
        columns: conn_id![
            Column {
                name: "rtt",
                ty: "interval",
                get: |e| opt(e.label("rtt"))
            },
            Column {
                name: "named_pipe",
                ty: "string",
                get: |e| opt(e.label("named_pipe"))
            },
            Column {
                name: "endpoint",
                ty: "string",
                get: |e| opt(e.rpc_endpoint())
            },
            Column {
                name: "operation",
                ty: "string",
                get: |e| opt(e.rpc_operation())
            },
        ],
    },
    ZeekLog {
        path: "ntlm",
        dataset: "zeek.ntlm",
        keep: |e| e.action == Action::NtlmAuthentication,
        columns: conn_id![
            Column {
                name: "username",
                ty: "string",
                get: |e| opt(e.user_name.as_deref())
            },
            Column {
                name: "hostname",
                ty: "string",
                get: |e| opt(e.source_domain.as_deref())
            },
            Column {
                name: "domainname",
                ty: "string",
                get: |e| opt(e.user_domain.as_deref())
            },
            Column {
                name: "server_nb_computer_name",
                ty: "string",
                get: |e| opt(e.destination_domain.as_deref())
            },
            Column {
                name: "server_dns_computer_name",
                ty: "string",
                get: |_| Value::Unset
            },
            Column {
                name: "server_tree_name",
                ty: "string",
                get: |_| Value::Unset
            },
            Column {
                name: "success",
                ty: "bool",
                get: |e| match e.outcome {
                    Some(Outcome::Success) => Value::Bool(true),
                    Some(Outcome::Failure) => Value::Bool(false),
                    _ => Value::Unset,
                },
            },
        ],
    },
];

impl ZeekLog {
    /// Writes the whole log (header, one row per event it takes, in the
    /// order given, and the `#close` line) for `events`.
    pub fn write(&self, events: &[LogEvent], out: &mut Vec<u8>) {
        let rows: Vec<&LogEvent> = events
            .iter()
            .filter(|e| e.dataset == self.dataset && (self.keep)(e))
            .collect();
        out.extend_from_slice(
            b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t",
        );
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(b"\n#open\t");
        zeek_date(rows.first().map(|e| e.ts).unwrap_or_default(), out);
        out.extend_from_slice(b"\n#fields");
        for c in self.columns {
            out.push(b'\t');
            out.extend_from_slice(c.name.as_bytes());
        }
        out.extend_from_slice(b"\n#types");
        for c in self.columns {
            out.push(b'\t');
            out.extend_from_slice(c.ty.as_bytes());
        }
        out.push(b'\n');
        for e in &rows {
            for (i, c) in self.columns.iter().enumerate() {
                if i > 0 {
                    out.push(b'\t');
                }
                match (c.get)(e) {
                    Value::Str(s) => tsv_str(out, s),
                    Value::Addr(a) => out.extend_from_slice(a.to_string().as_bytes()),
                    Value::Num(n) => {
                        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes())
                    }
                    Value::Time(t) => t.write_epoch_micros(out),
                    Value::Bool(b) => out.push(if b { b'T' } else { b'F' }),
                    Value::Unset => out.push(b'-'),
                }
            }
            out.push(b'\n');
        }
        out.extend_from_slice(b"#close\t");
        zeek_date(rows.last().map(|e| e.ts).unwrap_or_default(), out);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Category;

    #[test]
    fn a_call_is_one_row_in_zeek_order_and_its_host_log_twin_is_not() {
        let mut e = LogEvent {
            ts: Timestamp::from_parts(1_596_695_249, 897_638_000),
            category: Some(Category::Network),
            action: Action::RpcCall,
            dataset: "zeek.dce_rpc".into(),
            source_ip: "172.18.39.5".parse().ok(),
            source_port: Some(54736),
            destination_ip: "172.18.39.6".parse().ok(),
            destination_port: Some(445),
            ..LogEvent::default()
        };
        e.push_label("zeek_uid".into(), "C0RNRi1VjOXA8TFJyQ".into());
        e.push_label("named_pipe".into(), "svcctl".into());
        e.set_rpc_endpoint(Some("svcctl".into()));
        e.set_rpc_operation(Some("CreateServiceA".into()));
        let mut twin = e.clone();
        twin.action = Action::ServiceInstalled;
        let mut out = Vec::new();
        let log = LOGS.iter().find(|l| l.path == "dce_rpc").expect("dce_rpc");
        log.write(&[e, twin], &mut out);
        let text = String::from_utf8(out).expect("text");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[6],
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\trtt\tnamed_pipe\tendpoint\toperation"
        );
        assert_eq!(
            lines[8],
            "1596695249.897638\tC0RNRi1VjOXA8TFJyQ\t172.18.39.5\t54736\t172.18.39.6\t445\t-\tsvcctl\tsvcctl\tCreateServiceA"
        );
        assert_eq!(lines.len(), 10);
        assert!(lines[9].starts_with("#close\t2020-08-06-"));
    }

    #[test]
    fn the_calls_zeek_ignores_by_default_are_left_out_of_the_log_only() {
        let call = |endpoint: &str, operation: Option<&str>| {
            let mut e = LogEvent {
                ts: Timestamp::from_parts(1_596_695_249, 0),
                action: Action::RpcCall,
                dataset: "zeek.dce_rpc".into(),
                ..LogEvent::default()
            };
            e.set_rpc_endpoint(Some(endpoint.into()));
            e.set_rpc_operation(operation.map(Into::into));
            e
        };
        let events = [
            call("winreg", Some("BaseRegCloseKey")),
            call("winreg", Some("BaseRegSetValue")),
            call("winreg", None),
            call("spoolss", Some("RpcClosePrinter")),
            call("svcctl", Some("OpenSCManagerW")),
            call("svcctl", None),
        ];
        let kept: Vec<bool> = events.iter().map(zeek_logs_operation).collect();
        assert_eq!(kept, [false, true, false, false, true, true]);
        let mut out = Vec::new();
        let log = LOGS.iter().find(|l| l.path == "dce_rpc").expect("dce_rpc");
        log.write(&events, &mut out);
        let text = String::from_utf8(out).expect("text");
        let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rows.len(), 3, "{text}");
        assert!(rows.iter().all(|r| !r.contains("BaseRegCloseKey")));
    }
}
