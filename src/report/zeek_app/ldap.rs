//! `ldap.log` and `ldap_search.log` (Zeek's `LDAP::MessageInfo` and
//! `LDAP::SearchInfo`): a line per bind and other operation, and a line per
//! search, built by pairing the LDAP analyzer's requests with their results
//! by message id.

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::ldap::{BindMethod, Message, Operation};
use crate::model::event::Timestamp;
use std::collections::BTreeMap;

/// One `ldap.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LdapInfo {
    /// Time of the request.
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// Message id.
    pub message_id: Option<u64>,
    /// Protocol version (binds).
    pub version: Option<u64>,
    /// Operation name (`bind`).
    pub opcode: Option<String>,
    /// Result name (`success`, `invalid_credentials`).
    pub result: Option<String>,
    /// Diagnostic message of the result.
    pub diagnostic_message: Option<String>,
    /// The object (bind name).
    pub object: Option<String>,
    /// The argument (bind method: `SASL: GSS-SPNEGO`, or `REDACTED` for a simple password).
    pub argument: Option<String>,
}

/// One `ldap_search.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LdapSearchInfo {
    /// Time of the request.
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// Message id.
    pub message_id: Option<u64>,
    /// Scope name.
    pub scope: Option<String>,
    /// Alias dereferencing name.
    pub deref_aliases: Option<String>,
    /// Base DN.
    pub base_object: Option<String>,
    /// Entries returned.
    pub result_count: u64,
    /// Result name.
    pub result: Option<String>,
    /// Diagnostic message.
    pub diagnostic_message: Option<String>,
    /// Filter text.
    pub filter: Option<String>,
    /// Attributes asked for.
    pub attributes: Vec<String>,
}

/// Pairs the client's requests with the server's responses by message id:
/// binds and other operations go to the first list, searches to the second.
pub fn records(
    ts: Timestamp,
    conn: &ConnRef,
    requests: &[Message],
    responses: &[Message],
) -> (Vec<LdapInfo>, Vec<LdapSearchInfo>) {
    let mut results = BTreeMap::new();
    let mut entries: BTreeMap<i64, u64> = BTreeMap::new();
    for m in responses {
        match &m.op {
            Operation::Result(r) => {
                results.entry(m.id).or_insert(r);
            }
            Operation::Entry(_) => *entries.entry(m.id).or_default() += 1,
            _ => {}
        }
    }
    let id = |m: &Message| u64::try_from(m.id).ok();
    let mut ops = Vec::new();
    let mut searches = Vec::new();
    for m in requests {
        let result = results.get(&m.id);
        let result_name = result.map(|r| {
            r.code
                .name()
                .map_or_else(|| r.code.0.to_string(), str::to_string)
        });
        let diagnostic = result
            .map(|r| r.diagnostic.clone())
            .filter(|d| !d.is_empty());
        match &m.op {
            Operation::Search(s) => searches.push(LdapSearchInfo {
                ts,
                conn: conn.clone(),
                message_id: id(m),
                scope: Some(
                    match s.scope {
                        0 => "base",
                        1 => "single",
                        2 => "tree",
                        _ => "unknown",
                    }
                    .to_string(),
                ),
                deref_aliases: Some(
                    match s.deref {
                        0 => "never",
                        1 => "searching",
                        2 => "finding",
                        3 => "always",
                        _ => "unknown",
                    }
                    .to_string(),
                ),
                base_object: Some(s.base.clone()),
                result_count: entries.get(&m.id).copied().unwrap_or(0),
                result: result_name,
                diagnostic_message: diagnostic,
                filter: Some(s.filter.clone()),
                attributes: s.attributes.clone(),
            }),
            op => {
                let (version, object, argument) = match op {
                    Operation::Bind {
                        version,
                        name,
                        method,
                    } => (
                        u64::try_from(*version).ok(),
                        Some(name.clone()),
                        Some(match method {
                            BindMethod::Simple { .. } => "REDACTED".to_string(),
                            BindMethod::Sasl(mech) => format!("SASL: {mech}"),
                            BindMethod::Other(t) => format!("unknown-{t}"),
                        }),
                    ),
                    _ => (None, None, None),
                };
                ops.push(LdapInfo {
                    ts,
                    conn: conn.clone(),
                    message_id: id(m),
                    version,
                    opcode: m.opcode.name().map(str::to_string),
                    result: result_name,
                    diagnostic_message: diagnostic,
                    object,
                    argument,
                });
            }
        }
    }
    (ops, searches)
}

impl ZeekLog for LdapInfo {
    const PATH: &'static str = "ldap";

    fn columns(&self) -> Vec<Column> {
        let s = |v: &Option<String>| Value::opt_str(v.as_deref());
        let mut c = conn_columns(self.ts, &self.conn);
        c.extend([
            col("message_id", "int", Value::opt_count(self.message_id)),
            col("version", "int", Value::opt_count(self.version)),
            col("opcode", "string", s(&self.opcode)),
            col("result", "string", s(&self.result)),
            col("diagnostic_message", "string", s(&self.diagnostic_message)),
            col("object", "string", s(&self.object)),
            col("argument", "string", s(&self.argument)),
        ]);
        c
    }
}

impl ZeekLog for LdapSearchInfo {
    const PATH: &'static str = "ldap_search";

    fn columns(&self) -> Vec<Column> {
        let s = |v: &Option<String>| Value::opt_str(v.as_deref());
        let mut c = conn_columns(self.ts, &self.conn);
        c.extend([
            col("message_id", "int", Value::opt_count(self.message_id)),
            col("scope", "string", s(&self.scope)),
            col("deref_aliases", "string", s(&self.deref_aliases)),
            col("base_object", "string", s(&self.base_object)),
            col("result_count", "count", Value::Count(self.result_count)),
            col("result", "string", s(&self.result)),
            col("diagnostic_message", "string", s(&self.diagnostic_message)),
            col("filter", "string", s(&self.filter)),
            col(
                "attributes",
                "vector[string]",
                Value::List(self.attributes.clone()),
            ),
        ]);
        c
    }
}
