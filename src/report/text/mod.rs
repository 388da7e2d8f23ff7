//! The terminal reports, for a person reading them: ranked incidents
//! (`analyze`), a sweep's summary, a baseline's and one host's profile, and
//! a detection score against a scenario's truth. The machine-readable
//! writers sit beside this module in `report`.

pub mod baseline;
pub mod incidents;
pub mod profile;
pub mod score;
pub mod sweep;
pub mod wrap;
