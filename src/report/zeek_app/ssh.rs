//! `ssh.log` (Zeek's `SSH::Info`): one line per SSH connection, built from
//! the SSH analyzer's per-connection state.

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::ssh::{AuthGuess, SshState};
use crate::model::event::Timestamp;

/// Zeek's `SSH::compression_algorithms`: with these agreed, its script
/// leaves `auth_success` unset and `auth_attempts` at 0.
const COMPRESSED: [&str; 2] = ["zlib", "zlib@openssh.com"];

/// One `ssh.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshInfo {
    /// Connection start.
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// Major protocol version (1 or 2).
    pub version: Option<u64>,
    /// Authentication outcome guessed from packet sizes.
    pub auth_success: Option<bool>,
    /// Authentication attempts counted.
    pub auth_attempts: Option<u64>,
    /// `INBOUND`/`OUTBOUND` (needs local networks; unset here).
    pub direction: Option<String>,
    /// Client version string.
    pub client: Option<String>,
    /// Server version string.
    pub server: Option<String>,
    /// Cipher agreed.
    pub cipher_alg: Option<String>,
    /// MAC agreed.
    pub mac_alg: Option<String>,
    /// Compression agreed.
    pub compression_alg: Option<String>,
    /// Key exchange agreed.
    pub kex_alg: Option<String>,
    /// Host key algorithm agreed.
    pub host_key_alg: Option<String>,
    /// Host key fingerprint (`host_key_fingerprint` since Zeek 8.1, which
    /// dropped the MD5 `host_key`): see [`zeek_fingerprint`].
    pub host_key_fingerprint: Option<String>,
}

impl SshInfo {
    /// Builds the record from a connection's state.
    pub fn from_state(ts: Timestamp, conn: ConnRef, s: &SshState) -> SshInfo {
        let n = s.negotiated().unwrap_or_default();
        // Zeek's script counts no attempt when the stream is compressed
        // (`SSH::compression_algorithms`): the packet sizes say nothing then.
        let auth = if n
            .compression
            .as_deref()
            .is_some_and(|c| COMPRESSED.contains(&c))
        {
            AuthGuess::default()
        } else {
            s.auth()
        };
        let version = s
            .server
            .version
            .as_ref()
            .or(s.client.version.as_ref())
            .map(|v| u64::from(v.major()));
        SshInfo {
            ts,
            conn,
            version,
            auth_success: auth.success,
            auth_attempts: Some(u64::from(auth.attempts)),
            direction: None,
            client: s.client.version.as_ref().map(|v| v.line.clone()),
            server: s.server.version.as_ref().map(|v| v.line.clone()),
            cipher_alg: n.cipher,
            mac_alg: n.mac,
            compression_alg: n.compression,
            kex_alg: n.kex,
            host_key_alg: n.host_key,
            host_key_fingerprint: s.host_key_sha256().map(|d| zeek_fingerprint(&d)),
        }
    }
}

/// The host key fingerprint as Zeek 8.1's SSH analyzer logs it: `SHA256:`
/// and the base64 of the key blob's SHA-256, cut to its first 32
/// characters (Zeek sizes the text for the 32 digest bytes, so the last 12
/// of `ssh-keygen -l`'s 43 characters are not in its log).
pub fn zeek_fingerprint(digest: &[u8; 32]) -> String {
    let mut b64 = String::with_capacity(44);
    crate::model::community_id::base64_into(digest, &mut b64);
    b64.truncate(32);
    format!("SHA256:{b64}")
}

impl ZeekLog for SshInfo {
    const PATH: &'static str = "ssh";

    fn columns(&self) -> Vec<Column> {
        let mut c = conn_columns(self.ts, &self.conn);
        c.extend([
            col("version", "count", Value::opt_count(self.version)),
            col("auth_success", "bool", Value::opt_bool(self.auth_success)),
            col(
                "auth_attempts",
                "count",
                Value::opt_count(self.auth_attempts),
            ),
            col(
                "direction",
                "enum",
                Value::opt_str(self.direction.as_deref()),
            ),
            col("client", "string", Value::opt_str(self.client.as_deref())),
            col("server", "string", Value::opt_str(self.server.as_deref())),
            col(
                "cipher_alg",
                "string",
                Value::opt_str(self.cipher_alg.as_deref()),
            ),
            col("mac_alg", "string", Value::opt_str(self.mac_alg.as_deref())),
            col(
                "compression_alg",
                "string",
                Value::opt_str(self.compression_alg.as_deref()),
            ),
            col("kex_alg", "string", Value::opt_str(self.kex_alg.as_deref())),
            col(
                "host_key_alg",
                "string",
                Value::opt_str(self.host_key_alg.as_deref()),
            ),
            col(
                "host_key_fingerprint",
                "string",
                Value::opt_str(self.host_key_fingerprint.as_deref()),
            ),
        ]);
        c
    }
}
