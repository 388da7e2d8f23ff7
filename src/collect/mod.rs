//! Collect: the stage after the sources. Reads every input in parallel
//! ([`pipeline`]), gathers what each parser pushed (events, connection
//! records) into one run in time order, held in memory or spilled to
//! anonymous temporary files ([`event_store`], [`flow_store`]), and streams
//! it out as ECS when asked ([`ecs_stream`]), as JSON Lines or as a Parquet
//! dataset ([`parquet_sink`]).

pub mod ecs_stream;
pub mod event_store;
pub mod flow_store;
pub mod parquet_sink;
pub mod pipeline;
