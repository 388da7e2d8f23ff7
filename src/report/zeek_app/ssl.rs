//! `ssl.log` (Zeek's `SSL::Info`): one line per TLS connection, built from
//! the TLS analyzer's two flights. Zeek's own columns come first, then the
//! client and server fingerprints as the widely used Zeek packages append
//! them: `ja3` and `ja3s` (Salesforce's `ja3`), `ja4` (FoxIO's `ja4`).

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::tls::Flight;
use crate::model::event::Timestamp;

/// One `ssl.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SslInfo {
    /// Connection start.
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// Negotiated version (`TLSv12`).
    pub version: Option<String>,
    /// Chosen cipher suite.
    pub cipher: Option<String>,
    /// Key exchange curve.
    pub curve: Option<String>,
    /// SNI.
    pub server_name: Option<String>,
    /// Whether the session was resumed (abbreviated handshake).
    pub resumed: bool,
    /// Last alert seen in clear.
    pub last_alert: Option<String>,
    /// ALPN protocol the server chose.
    pub next_protocol: Option<String>,
    /// Whether the handshake finished (both sides changed cipher spec).
    pub established: bool,
    /// Handshake messages in Zeek's `ssl_history` letters (client's, then server's).
    pub ssl_history: Option<String>,
    /// Certificate fingerprints (needs certificate parsing; empty here).
    pub cert_chain_fps: Vec<String>,
    /// Client certificate fingerprints (empty here).
    pub client_cert_chain_fps: Vec<String>,
    /// Whether the SNI matches the certificate (unset here).
    pub sni_matches_cert: Option<bool>,
    /// JA3 of the client hello (the `ja3` column of Salesforce's Zeek
    /// `ja3` package, appended after Zeek's own columns).
    pub ja3: Option<String>,
    /// JA3S of the server hello (the package's `ja3s` column).
    pub ja3s: Option<String>,
    /// JA4 of the client hello (the `ja4` column of FoxIO's Zeek package).
    pub ja4: Option<String>,
}

impl SslInfo {
    /// Builds the record from the client's and server's flights.
    pub fn from_flights(ts: Timestamp, conn: ConnRef, client: &Flight, server: &Flight) -> SslInfo {
        let sh = server.server_hello.as_ref();
        let ch = client.client_hello.as_ref();
        let mut history = String::new();
        for m in &client.messages {
            history.push(m.history_letter(true));
        }
        for m in &server.messages {
            history.push(m.history_letter(false));
        }
        SslInfo {
            ts,
            conn,
            version: sh
                .and_then(|s| s.negotiated_version().zeek_name())
                .map(str::to_string),
            cipher: sh.map(|s| s.cipher.name()),
            curve: server
                .ske_curve
                .or(sh.and_then(|s| s.key_share))
                .and_then(|g| g.name())
                .map(str::to_string),
            server_name: ch.and_then(|c| c.server_name.clone()),
            resumed: matches!((ch, sh), (Some(c), Some(s)) if !c.session_id.is_empty() && c.session_id == s.session_id),
            last_alert: None,
            next_protocol: sh.and_then(|s| s.alpn.clone()),
            established: client.change_cipher_spec && server.change_cipher_spec,
            ssl_history: Some(history).filter(|h| !h.is_empty()),
            cert_chain_fps: Vec::new(),
            client_cert_chain_fps: Vec::new(),
            sni_matches_cert: None,
            ja3: ch.map(|c| c.ja3()),
            ja3s: sh.map(|s| s.ja3s()),
            ja4: ch.map(|c| c.ja4()),
        }
    }
}

impl ZeekLog for SslInfo {
    const PATH: &'static str = "ssl";

    fn columns(&self) -> Vec<Column> {
        let mut c = conn_columns(self.ts, &self.conn);
        c.extend([
            col("version", "string", Value::opt_str(self.version.as_deref())),
            col("cipher", "string", Value::opt_str(self.cipher.as_deref())),
            col("curve", "string", Value::opt_str(self.curve.as_deref())),
            col(
                "server_name",
                "string",
                Value::opt_str(self.server_name.as_deref()),
            ),
            col("resumed", "bool", Value::Bool(self.resumed)),
            col(
                "last_alert",
                "string",
                Value::opt_str(self.last_alert.as_deref()),
            ),
            col(
                "next_protocol",
                "string",
                Value::opt_str(self.next_protocol.as_deref()),
            ),
            col("established", "bool", Value::Bool(self.established)),
            col(
                "ssl_history",
                "string",
                Value::opt_str(self.ssl_history.as_deref()),
            ),
            col(
                "cert_chain_fps",
                "vector[string]",
                Value::List(self.cert_chain_fps.clone()),
            ),
            col(
                "client_cert_chain_fps",
                "vector[string]",
                Value::List(self.client_cert_chain_fps.clone()),
            ),
            col(
                "sni_matches_cert",
                "bool",
                Value::opt_bool(self.sni_matches_cert),
            ),
            col("ja3", "string", Value::opt_str(self.ja3.as_deref())),
            col("ja3s", "string", Value::opt_str(self.ja3s.as_deref())),
            col("ja4", "string", Value::opt_str(self.ja4.as_deref())),
        ]);
        c
    }
}
