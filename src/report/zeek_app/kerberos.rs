//! `kerberos.log` (Zeek's `KRB::Info`): one line per KDC exchange, built
//! from the Kerberos analyzer's request and its reply or error.

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::app::kerberos_fields;
use crate::analyzer::kerberos::{KdcRequest, Message, kerberos_time_secs};
use crate::model::event::Timestamp;

/// One `kerberos.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KerberosInfo {
    /// Time of the first message.
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// `AS` or `TGS`.
    pub request_type: Option<String>,
    /// Client principal and realm (`user/REALM`).
    pub client: Option<String>,
    /// Service principal.
    pub service: Option<String>,
    /// Whether the KDC granted a ticket.
    pub success: Option<bool>,
    /// The error's name, on failure.
    pub error_msg: Option<String>,
    /// Ticket start requested.
    pub from: Option<Timestamp>,
    /// Ticket end requested.
    pub till: Option<Timestamp>,
    /// The ticket's encryption type name.
    pub cipher: Option<String>,
    /// Forwardable flag requested.
    pub forwardable: Option<bool>,
    /// Renewable flag requested.
    pub renewable: Option<bool>,
}

fn ktime(t: Option<&str>) -> Option<Timestamp> {
    kerberos_time_secs(t?).map(|s| Timestamp::from_parts(s, 0))
}

impl KerberosInfo {
    /// Builds the record as Zeek fills it: the request gives the type,
    /// client, service, times and flags; a reply the client (when the
    /// request had none), the ticket's service and cipher and success; an
    /// error failure and its name.
    pub fn from_exchange(
        ts: Timestamp,
        conn: ConnRef,
        request: Option<&KdcRequest>,
        answer: Option<&Message>,
    ) -> KerberosInfo {
        let f = kerberos_fields(request, answer);
        KerberosInfo {
            ts,
            conn,
            request_type: f.request_type,
            client: f.client,
            service: f.service,
            success: f.success,
            error_msg: f.error_msg,
            from: request.and_then(|r| ktime(r.from.as_deref())),
            till: request.and_then(|r| ktime(r.till.as_deref())),
            cipher: f.cipher,
            forwardable: request.map(|r| r.options.forwardable()),
            renewable: request.map(|r| r.options.renewable()),
        }
    }
}

impl ZeekLog for KerberosInfo {
    const PATH: &'static str = "kerberos";

    fn columns(&self) -> Vec<Column> {
        let mut c = conn_columns(self.ts, &self.conn);
        c.extend([
            col(
                "request_type",
                "string",
                Value::opt_str(self.request_type.as_deref()),
            ),
            col("client", "string", Value::opt_str(self.client.as_deref())),
            col("service", "string", Value::opt_str(self.service.as_deref())),
            col("success", "bool", Value::opt_bool(self.success)),
            col(
                "error_msg",
                "string",
                Value::opt_str(self.error_msg.as_deref()),
            ),
            col("from", "time", self.from.map_or(Value::Unset, Value::Time)),
            col("till", "time", self.till.map_or(Value::Unset, Value::Time)),
            col("cipher", "string", Value::opt_str(self.cipher.as_deref())),
            col("forwardable", "bool", Value::opt_bool(self.forwardable)),
            col("renewable", "bool", Value::opt_bool(self.renewable)),
            col("client_cert_subject", "string", Value::Unset),
            col("client_cert_fuid", "string", Value::Unset),
            col("server_cert_subject", "string", Value::Unset),
            col("server_cert_fuid", "string", Value::Unset),
        ]);
        c
    }
}
