//! Outputs: the last stage of the pipeline. Each writer turns records into
//! bytes in one ecosystem's format; field names follow Zeek for flows and
//! Elastic Common Schema for events and alerts.

pub mod alerts_jsonl;
pub mod conn_log;
pub mod graph_export;
pub mod html;
pub mod novelty;
pub mod text;
pub mod timesketch;
pub mod zeek_app;
pub mod zeek_app_logs;
