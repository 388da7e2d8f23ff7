//! The records of one audit event, joined: auditd writes an event as
//! several lines (`SYSCALL`, `EXECVE`, `CWD`, `PATH`, `PROCTITLE`, `EOE`)
//! sharing its serial, and on a busy machine the lines of other events
//! come in between.
//!
//! [`Joiner`] holds the records of up to [`MAX_OPEN`] events at once,
//! each keyed by its serial and `node=` host, and hands an event's records
//! on, in the order they were read, when it is complete: at its `EOE`
//! record, at `ausearch`'s `----` separator (which ends every open event),
//! when it holds [`MAX_GROUP`] records, when more than [`MAX_OPEN`] events
//! are open (the oldest first, counted in [`Joiner::evicted`] when it had a
//! `SYSCALL`) and at the end of the input ([`Joiner::finish`]).
//!
//! It is generic over what a record is, so that both the main pipeline
//! ([`super::auditd`]: one `process-created` event per exec) and the Sigma
//! pass (`sigma::linux`: `EXECVE` records as process creations) join with
//! this one.

/// Audit events read at once (their records interleaved); beyond, the
/// oldest is handed on with what it has.
pub const MAX_OPEN: usize = 32;

/// Records of one audit event held before it is handed on as it is.
pub const MAX_GROUP: usize = 64;

/// One audit event being read.
#[derive(Debug)]
struct Open<T> {
    host: Option<String>,
    serial: u64,
    /// It has a `SYSCALL` record.
    syscall: bool,
    records: Vec<T>,
}

/// Joins the records of audit events by serial and host; see the module
/// documentation.
#[derive(Debug)]
pub struct Joiner<T> {
    /// The events being read, oldest first.
    open: Vec<Open<T>>,
    /// Events with a `SYSCALL` record handed on before their end because
    /// more than [`MAX_OPEN`] events were open.
    pub evicted: u64,
}

impl<T> Default for Joiner<T> {
    fn default() -> Self {
        Joiner {
            open: Vec::new(),
            evicted: 0,
        }
    }
}

impl<T> Joiner<T> {
    /// Adds one record of type `kind` (`SYSCALL`, `EXECVE`, ..., `EOE`)
    /// of the event `serial` on `host`; `done` gets the records of every
    /// event this completes, in the order they were read.
    pub fn push(
        &mut self,
        host: Option<&str>,
        serial: u64,
        kind: &str,
        record: T,
        done: &mut dyn FnMut(Vec<T>),
    ) {
        let at = self
            .open
            .iter()
            .rposition(|o| o.serial == serial && o.host.as_deref() == host);
        let at = match at {
            Some(i) => i,
            None => {
                if self.open.len() >= MAX_OPEN {
                    let oldest = self.open.remove(0);
                    if oldest.syscall {
                        self.evicted += 1;
                    }
                    done(oldest.records);
                }
                self.open.push(Open {
                    host: host.map(str::to_string),
                    serial,
                    syscall: false,
                    records: Vec::new(),
                });
                self.open.len() - 1
            }
        };
        let Some(event) = self.open.get_mut(at) else {
            return;
        };
        event.syscall |= kind == "SYSCALL";
        event.records.push(record);
        if kind == "EOE" || event.records.len() >= MAX_GROUP {
            let event = self.open.remove(at);
            done(event.records);
        }
    }

    /// Hands on every open event, oldest first: at the end of the input,
    /// or at `ausearch`'s `----` separator between events.
    pub fn finish(&mut self, done: &mut dyn FnMut(Vec<T>)) {
        for o in std::mem::take(&mut self.open) {
            done(o.records);
        }
    }
}

/// True for `ausearch`'s separator line between events (`----`).
pub fn is_separator(line: &str) -> bool {
    line.trim_start().starts_with("----")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(records: &[(u64, &'static str, u32)]) -> (Vec<Vec<u32>>, u64) {
        let mut j: Joiner<u32> = Joiner::default();
        let mut out = Vec::new();
        for &(serial, kind, id) in records {
            j.push(None, serial, kind, id, &mut |g| out.push(g));
        }
        j.finish(&mut |g| out.push(g));
        (out, j.evicted)
    }

    #[test]
    fn interleaved_events_are_joined_in_end_order() {
        let (out, evicted) = run(&[
            (1, "SYSCALL", 1),
            (2, "SYSCALL", 2),
            (1, "EXECVE", 3),
            (2, "EXECVE", 4),
            (2, "EOE", 5),
            (1, "CWD", 6),
        ]);
        assert_eq!(out, vec![vec![2, 4, 5], vec![1, 3, 6]]);
        assert_eq!(evicted, 0);
    }

    #[test]
    fn too_many_open_events_let_the_oldest_go() {
        let mut recs = Vec::new();
        for s in 0..(MAX_OPEN as u64 + 2) {
            recs.push((s, if s == 0 { "SYSCALL" } else { "PATH" }, s as u32));
        }
        let (out, evicted) = run(&recs);
        assert_eq!(out.len(), MAX_OPEN + 2);
        assert_eq!(out.first(), Some(&vec![0]));
        assert_eq!(evicted, 1);
    }

    #[test]
    fn hosts_keep_events_apart() {
        let mut j: Joiner<u32> = Joiner::default();
        let mut out = Vec::new();
        j.push(Some("a"), 7, "SYSCALL", 1, &mut |g| out.push(g));
        j.push(Some("b"), 7, "SYSCALL", 2, &mut |g| out.push(g));
        j.push(Some("a"), 7, "EOE", 3, &mut |g| out.push(g));
        j.finish(&mut |g| out.push(g));
        assert_eq!(out, vec![vec![1, 3], vec![2]]);
    }
}
