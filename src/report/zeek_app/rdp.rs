//! `rdp.log` (Zeek's `RDP::Info`): one line per RDP connection, built from
//! the RDP analyzer's connection request, confirm and client core data.

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::app::rdp_result;
use crate::analyzer::rdp::{ClientCore, ConnectionConfirm, ConnectionRequest};
use crate::model::event::Timestamp;

/// One `rdp.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RdpInfo {
    /// Connection start.
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// The `mstshash` cookie (usually the user name).
    pub cookie: Option<String>,
    /// `encrypted` when the server chose TLS or CredSSP, `Success` for
    /// standard RDP security, or the negotiation failure's name.
    pub result: Option<String>,
    /// Selected security protocol (`RDP`, `SSL`, `HYBRID`, ...).
    pub security_protocol: Option<String>,
    /// Keyboard layout (LCID), from client core data.
    pub keyboard_layout: Option<String>,
    /// Client build, from client core data.
    pub client_build: Option<String>,
    /// Client computer name, from client core data.
    pub client_name: Option<String>,
    /// Desktop width.
    pub desktop_width: Option<u64>,
    /// Desktop height.
    pub desktop_height: Option<u64>,
}

impl RdpInfo {
    /// Builds the record from what the analyzer read.
    pub fn from_parts(
        ts: Timestamp,
        conn: ConnRef,
        request: Option<&ConnectionRequest>,
        confirm: Option<&ConnectionConfirm>,
        core: Option<&ClientCore>,
    ) -> RdpInfo {
        let (mut result, security_protocol) = rdp_result(confirm);
        // Zeek's RDP analyzer raises `rdp_begin_encryption` when the server
        // selects an enhanced security protocol (TLS, CredSSP, ...), and its
        // script then logs `encrypted`: the rest of the exchange is unseen.
        if let Some(ConnectionConfirm::Selected(p)) = confirm
            && p.0 != 0
        {
            result = Some("encrypted".to_string());
        }
        RdpInfo {
            ts,
            conn,
            cookie: request.and_then(|r| r.cookie.clone()),
            result,
            security_protocol,
            keyboard_layout: core.map(|c| format!("0x{:08x}", c.keyboard_layout)),
            client_build: core.map(|c| c.client_build.to_string()),
            client_name: core.map(|c| c.client_name.clone()),
            desktop_width: core.map(|c| u64::from(c.desktop_width)),
            desktop_height: core.map(|c| u64::from(c.desktop_height)),
        }
    }
}

impl ZeekLog for RdpInfo {
    const PATH: &'static str = "rdp";

    fn columns(&self) -> Vec<Column> {
        let s = |v: &Option<String>| Value::opt_str(v.as_deref());
        let mut c = conn_columns(self.ts, &self.conn);
        c.extend([
            col("cookie", "string", s(&self.cookie)),
            col("result", "string", s(&self.result)),
            col("security_protocol", "string", s(&self.security_protocol)),
            col("client_channels", "vector[string]", Value::Unset),
            col("keyboard_layout", "string", s(&self.keyboard_layout)),
            col("client_build", "string", s(&self.client_build)),
            col("client_name", "string", s(&self.client_name)),
            col("client_dig_product_id", "string", Value::Unset),
            col(
                "desktop_width",
                "count",
                Value::opt_count(self.desktop_width),
            ),
            col(
                "desktop_height",
                "count",
                Value::opt_count(self.desktop_height),
            ),
            col("requested_color_depth", "string", Value::Unset),
            col("cert_type", "string", Value::Unset),
            col("cert_count", "count", Value::Count(0)),
            col("cert_permanent", "bool", Value::Unset),
            col("encryption_level", "string", Value::Unset),
            col("encryption_method", "string", Value::Unset),
        ]);
        c
    }
}
