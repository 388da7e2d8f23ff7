//! Collect: the stage after the sources. Gathers what every input's parser
//! pushed (events, connection records) into one run, in time order, held
//! in memory or spilled, and streams it out as ECS when asked.
//!
//! The orchestrator of reading ([`crate::pipeline`]), the event and flow
//! stores ([`crate::event_store`], [`crate::flow_store`]) belong to this
//! stage too and move under it as the tree is reorganised.

pub mod ecs_stream;
