//! `kerberos.log` (Zeek's `KRB::Info`): one line per KDC exchange, built
//! from the Kerberos analyzer's request and its reply or error.

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::app::kerberos_fields;
use crate::analyzer::kerberos::{KdcRequest, Message, MsgType, kerberos_time_secs};
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

/// The KDC `e-text`s Zeek's `KRB::ignored_errors` drops from the log (as
/// of Zeek a13de64f, `scripts/base/protocols/krb/main.zeek`).
const IGNORED_ERRORS: [&str; 2] = [
    "NEEDED_PREAUTH",
    "Need to use PA-ENC-TIMESTAMP/PA-PK-AS-REQ",
];

fn ktime(t: Option<&str>) -> Option<Timestamp> {
    kerberos_time_secs(t?).map(|s| Timestamp::from_parts(s, 0))
}

impl KerberosInfo {
    /// Builds the record as Zeek's `base/protocols/krb` script fills it:
    /// the request gives the type, service, times and flags, and an AS
    /// request the client (`name/REALM`, the name empty when absent); a
    /// reply the client (when still unset), the ticket's service and cipher
    /// and success; an error failure, the client it names (when still
    /// unset) and its message: the KDC's `e-text` when present, else the
    /// code's name. `None` for an exchange Zeek does not log: an error
    /// whose `e-text` is one of `KRB::ignored_errors` (the
    /// pre-authentication-required answer that precedes most logons).
    pub fn from_exchange(
        ts: Timestamp,
        conn: ConnRef,
        request: Option<&KdcRequest>,
        answer: Option<&Message>,
    ) -> Option<KerberosInfo> {
        let f = kerberos_fields(request, answer);
        let mut client = match request {
            Some(r) if r.msg_type == Some(MsgType::AS_REQ) => Some(format!(
                "{}/{}",
                r.client.as_ref().map(|c| c.joined()).unwrap_or_default(),
                r.realm
            )),
            Some(_) => None,
            None => f.client.clone(),
        };
        let mut error_msg = f.error_msg;
        match answer {
            Some(Message::Error(e)) => {
                if e.text
                    .as_deref()
                    .is_some_and(|t| IGNORED_ERRORS.contains(&t))
                {
                    return None;
                }
                if client.is_none() && (e.client.is_some() || e.client_realm.is_some()) {
                    client = Some(format!(
                        "{}{}",
                        e.client
                            .as_ref()
                            .map(|c| format!("{}/", c.joined()))
                            .unwrap_or_default(),
                        e.client_realm.as_deref().unwrap_or_default()
                    ));
                }
                if let Some(t) = &e.text {
                    error_msg = Some(t.clone());
                }
            }
            Some(Message::Reply(_)) if client.is_none() => client = f.client,
            _ => {}
        }
        Some(KerberosInfo {
            ts,
            conn,
            request_type: f.request_type,
            client,
            service: f.service,
            success: f.success,
            error_msg,
            from: request.and_then(|r| ktime(r.from.as_deref())),
            till: request.and_then(|r| ktime(r.till.as_deref())),
            cipher: f.cipher,
            forwardable: request.map(|r| r.options.forwardable()),
            renewable: request.map(|r| r.options.renewable()),
        })
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
