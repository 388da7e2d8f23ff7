//! How parallel work over many events is cut: shared by the host directory
//! and the profile builder, which both fold events into per-thread state
//! that is merged afterwards.

/// A chunk length that gives each rayon thread one part of `len` events,
/// and fewer than 64 Ki events one builder. Every builder holds each host
/// and account it meets, so merging costs grow with the number of
/// builders and hosts, not with the events: as few builders as keep the
/// threads busy.
pub fn per_thread(len: usize) -> usize {
    len.div_ceil(rayon::current_num_threads().max(1))
        .max(64 * 1024)
}
