//! Throughput statistics.
