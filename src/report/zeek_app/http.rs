//! `http.log` (Zeek's `HTTP::Info`): one line per request/response pair,
//! built from the HTTP analyzer's transactions.

use super::{Column, ConnRef, Value, ZeekLog, col, conn_columns};
use crate::analyzer::http::Transaction;
use crate::model::event::Timestamp;

/// One `http.log` record, fields in Zeek's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpInfo {
    /// Time of the request (or of the response when no request was seen).
    pub ts: Timestamp,
    /// The connection.
    pub conn: ConnRef,
    /// Position of the transaction in the connection.
    pub trans_depth: u64,
    /// Method.
    pub method: Option<String>,
    /// `Host` header.
    pub host: Option<String>,
    /// Request target.
    pub uri: Option<String>,
    /// `Referer` header.
    pub referrer: Option<String>,
    /// Version (from the request, else the response).
    pub version: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// `Origin` header.
    pub origin: Option<String>,
    /// Request body bytes.
    pub request_body_len: u64,
    /// Response body bytes.
    pub response_body_len: u64,
    /// Status code.
    pub status_code: Option<u64>,
    /// Reason phrase.
    pub status_msg: Option<String>,
    /// Last informational (1xx) code.
    pub info_code: Option<u64>,
    /// Its reason phrase.
    pub info_msg: Option<String>,
    /// User name of a Basic credential.
    pub username: Option<String>,
}

impl HttpInfo {
    /// Builds the record from one transaction.
    pub fn from_transaction(ts: Timestamp, conn: ConnRef, t: &Transaction) -> HttpInfo {
        let req = t.request.as_ref();
        let resp = t.response.as_ref();
        HttpInfo {
            ts,
            conn,
            trans_depth: u64::from(t.depth),
            method: req.map(|r| r.method.clone()),
            host: req.and_then(|r| r.host.clone()),
            uri: req.map(|r| r.uri.clone()),
            referrer: req.and_then(|r| r.referrer.clone()),
            version: req
                .map(|r| r.version.clone())
                .or(resp.map(|r| r.version.clone())),
            user_agent: req.and_then(|r| r.user_agent.clone()),
            origin: req.and_then(|r| r.origin.clone()),
            request_body_len: req.map_or(0, |r| r.body_len),
            response_body_len: resp.map_or(0, |r| r.body_len),
            status_code: resp.map(|r| u64::from(r.status)),
            status_msg: resp.map(|r| r.reason.clone()),
            info_code: t.info.as_ref().map(|r| u64::from(r.status)),
            info_msg: t.info.as_ref().map(|r| r.reason.clone()),
            username: req
                .and_then(|r| r.authorization.as_ref())
                .and_then(|a| a.basic_user()),
        }
    }
}

impl ZeekLog for HttpInfo {
    const PATH: &'static str = "http";

    fn columns(&self) -> Vec<Column> {
        let s = |v: &Option<String>| Value::opt_str(v.as_deref());
        let mut c = conn_columns(self.ts, &self.conn);
        c.extend([
            col("trans_depth", "count", Value::Count(self.trans_depth)),
            col("method", "string", s(&self.method)),
            col("host", "string", s(&self.host)),
            col("uri", "string", s(&self.uri)),
            col("referrer", "string", s(&self.referrer)),
            col("version", "string", s(&self.version)),
            col("user_agent", "string", s(&self.user_agent)),
            col("origin", "string", s(&self.origin)),
            col(
                "request_body_len",
                "count",
                Value::Count(self.request_body_len),
            ),
            col(
                "response_body_len",
                "count",
                Value::Count(self.response_body_len),
            ),
            col("status_code", "count", Value::opt_count(self.status_code)),
            col("status_msg", "string", s(&self.status_msg)),
            col("info_code", "count", Value::opt_count(self.info_code)),
            col("info_msg", "string", s(&self.info_msg)),
            col("tags", "set[enum]", Value::List(Vec::new())),
            col("username", "string", s(&self.username)),
            col("password", "string", Value::Unset),
            col("proxied", "set[string]", Value::Unset),
            col("orig_fuids", "vector[string]", Value::Unset),
            col("orig_filenames", "vector[string]", Value::Unset),
            col("orig_mime_types", "vector[string]", Value::Unset),
            col("resp_fuids", "vector[string]", Value::Unset),
            col("resp_filenames", "vector[string]", Value::Unset),
            col("resp_mime_types", "vector[string]", Value::Unset),
        ]);
        c
    }
}
