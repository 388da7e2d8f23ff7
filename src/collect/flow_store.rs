//! Finished connection records, kept in output order within bounded memory.
//!
//! Flow tables hand their finished records here as they go. Up to a limit
//! they stay in memory; beyond it they are sorted and written to a
//! temporary file as a run, and the output merges the runs. So a capture
//! with a hundred million connections (a SYN flood from random ports) costs
//! disk, not memory, and the output order (the total order of [`Flow`]:
//! `ts`, then `uid`, then every other field) is the same however records
//! were split into runs, whatever the thread count. A store may keep the
//! failed attempts (a SYN flood's records) apart and spill them at a limit
//! of their own ([`FlowStore::with_attempts_at`]), so that an analysis,
//! which holds the rest, can leave a flood's out as it reads them back
//! ([`SortedFlows::into_vec_where`]).
//!
//! Runs are anonymous temporary files (see [`spill_file`]): private to the
//! process (mode 0600), never named in the temporary directory where the
//! platform allows it, so they vanish when the run ends or is killed.

use crate::model::event::{ConnState, Flow, Timestamp};
use crate::stats::Histo;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::sync::Mutex;

/// Records held in memory before a run is spilled to disk.
pub const DEFAULT_SPILL_AT: usize = 65_536;

/// True for a failed attempt, a record whose responder never answered:
/// Zeek's `S0`, `REJ`, `RSTOS0` and `SH`. A SYN flood is made of them.
pub fn is_attempt(f: &Flow) -> bool {
    matches!(
        f.conn_state,
        ConnState::S0 | ConnState::REJ | ConnState::RSTOS0 | ConnState::SH
    )
}

struct Inner {
    mem: Vec<Flow>,
    /// Failed attempts ([`is_attempt`]) held apart, when the store spills
    /// them at a limit of their own ([`FlowStore::with_attempts_at`]).
    attempts: Vec<Flow>,
    runs: Vec<File>,
    count: u64,
    /// Failed attempts among them ([`is_attempt`]).
    attempt_count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    durations: Histo,
    error: Option<io::Error>,
    /// Why the failed attempts are held in memory after all: no temporary
    /// file could be made for their first run (no usable `$TMPDIR`).
    attempts_kept: Option<String>,
}

/// A thread-safe collector of finished records.
pub struct FlowStore {
    spill_at: usize,
    /// Failed attempts held before they are spilled apart (`usize::MAX`:
    /// they are held with the others, under `spill_at`).
    attempts_at: usize,
    inner: Mutex<Inner>,
}

impl Default for FlowStore {
    fn default() -> Self {
        FlowStore::new(DEFAULT_SPILL_AT)
    }
}

impl FlowStore {
    /// A store that spills a sorted run whenever `spill_at` records are held.
    pub fn new(spill_at: usize) -> FlowStore {
        FlowStore::with_attempts_at(spill_at, usize::MAX)
    }

    /// A store that spills the other records at `spill_at` and the failed
    /// attempts ([`is_attempt`]) apart, whenever `attempts_at` of them are
    /// held (`usize::MAX`: with the others). An analysis holds every record
    /// in memory (`spill_at` `usize::MAX`) but a flood's attempts on disk,
    /// where reading them back leaves out what no detector reads
    /// (`crate::profile::light`). The output is the same records in the
    /// same order whatever the limits.
    pub fn with_attempts_at(spill_at: usize, attempts_at: usize) -> FlowStore {
        FlowStore {
            spill_at: spill_at.max(1),
            attempts_at: attempts_at.max(1),
            inner: Mutex::new(Inner {
                mem: Vec::new(),
                attempts: Vec::new(),
                runs: Vec::new(),
                count: 0,
                attempt_count: 0,
                first: None,
                last: None,
                durations: Histo::new(),
                error: None,
                attempts_kept: None,
            }),
        }
    }

    /// Adds finished records (the vector is drained, its memory kept by the caller).
    pub fn push(&self, flows: &mut Vec<Flow>) {
        if flows.is_empty() {
            return;
        }
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        for f in flows.iter() {
            g.count += 1;
            g.attempt_count += u64::from(is_attempt(f));
            g.first = Some(g.first.map_or(f.ts, |t| t.min(f.ts)));
            g.last = Some(g.last.map_or(f.ts, |t| t.max(f.ts)));
            let micros = f.duration.map_or(0, |d| (d.0 / 1000).max(0) as u64);
            g.durations.record(micros);
        }
        if self.attempts_at != usize::MAX {
            self.push_apart(&mut g, flows);
            return;
        }
        // A run is spilled before a hand-over would take it past `spill_at`,
        // and room grows to exactly `spill_at` records (or one larger
        // hand-over): not past it, as a plain append's doubling would.
        if !g.mem.is_empty()
            && g.mem.len() + flows.len() > self.spill_at
            && g.error.is_none()
            && let Err(e) = spill_mem(&mut g)
        {
            g.error = Some(e);
        }
        let need = g.mem.len() + flows.len();
        if need > g.mem.capacity() {
            // Doubling, but never past `spill_at` (a store that never
            // spills has `usize::MAX` there).
            let room = need.max(self.spill_at.min(need.saturating_mul(2))) - g.mem.len();
            g.mem.reserve_exact(room);
        }
        g.mem.append(flows);
        if g.mem.len() >= self.spill_at
            && g.error.is_none()
            && let Err(e) = spill_mem(&mut g)
        {
            g.error = Some(e);
        }
    }

    /// [`FlowStore::push`] with the failed attempts held apart: each kind
    /// is spilled as a run of its own when it reaches its limit.
    fn push_apart(&self, g: &mut Inner, flows: &mut Vec<Flow>) {
        if g.attempts.capacity() == 0 && self.attempts_at <= DEFAULT_SPILL_AT * 4 {
            // Room for a whole run at once: no doubling slack.
            g.attempts.reserve_exact(self.attempts_at);
        }
        for f in flows.drain(..) {
            if is_attempt(&f) {
                g.attempts.push(f);
                if g.attempts.len() >= self.attempts_at
                    && g.error.is_none()
                    && g.attempts_kept.is_none()
                {
                    // Spilling them is a saving, not a need: without a
                    // temporary file they are held as they were before.
                    match spill_file() {
                        Ok(file) => {
                            let Inner { attempts, runs, .. } = &mut *g;
                            if let Err(e) = spill_to(file, attempts, runs) {
                                g.error = Some(e);
                            }
                        }
                        Err(e) => {
                            g.attempts_kept = Some(format!(
                                "cannot make a temporary file in {} ({e}): failed connection attempts are held in memory",
                                std::env::temp_dir().display()
                            ));
                        }
                    }
                }
            } else {
                g.mem.push(f);
                if g.mem.len() >= self.spill_at && g.error.is_none() {
                    let Inner { mem, runs, .. } = &mut *g;
                    if let Err(e) = spill(mem, runs) {
                        g.error = Some(e);
                    }
                }
            }
        }
    }

    /// Ends collection: what remains in memory is sorted, and the result
    /// can be read in order. A failed spill (disk full) is reported here.
    pub fn finish(self) -> io::Result<SortedFlows> {
        let mut g = match self.inner.into_inner() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(e) = g.error.take() {
            return Err(e);
        }
        let mut attempts = std::mem::take(&mut g.attempts);
        g.mem.append(&mut attempts);
        g.mem.sort_unstable();
        Ok(SortedFlows {
            attempts_kept: g.attempts_kept,
            mem: g.mem,
            runs: g.runs,
            count: g.count,
            attempts: g.attempt_count,
            first: g.first,
            last: g.last,
            durations: g.durations,
        })
    }
}

fn spill_mem(g: &mut Inner) -> io::Result<()> {
    spill(&mut g.mem, &mut g.runs)
}

/// Sorts `mem` and writes it to a new run of `runs`, leaving it empty.
fn spill(mem: &mut Vec<Flow>, runs: &mut Vec<File>) -> io::Result<()> {
    spill_to(spill_file()?, mem, runs)
}

/// [`spill`] into `file`, a new temporary file.
fn spill_to(file: File, mem: &mut Vec<Flow>, runs: &mut Vec<File>) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, &file);
    mem.sort_unstable();
    let mut buf = Vec::with_capacity(256);
    for f in mem.drain(..) {
        buf.clear();
        buf = postcard::to_extend(&f, buf).map_err(io::Error::other)?;
        w.write_all(&(buf.len() as u32).to_le_bytes())?;
        w.write_all(&buf)?;
    }
    w.flush()?;
    drop(w);
    runs.push(file);
    Ok(())
}

/// A new temporary file for a spilled run, in the temporary directory
/// (`$TMPDIR`): readable and writable by this user only (0600) and unlinked
/// from the start where the platform allows (on Linux it never has a name),
/// so nothing is left behind when the process ends, however it ends.
pub fn spill_file() -> io::Result<File> {
    // On Linux, an anonymous file (O_TMPFILE) created private: never,
    // not for an instant, readable by anyone else.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let private = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(std::env::temp_dir());
        if let Ok(file) = private {
            return Ok(file);
        }
        // A file system without O_TMPFILE: the crate's way, below.
    }
    let file = tempfile::tempfile()?;
    // An anonymous file is created with the umask's mode (often 0644).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Reads a spilled run from its start, with a position of its own, so
/// several readers of one file do not disturb each other.
pub(crate) struct RunFileReader<'a> {
    file: &'a File,
    pos: u64,
}

impl<'a> RunFileReader<'a> {
    /// A reader at the start of `file`.
    pub(crate) fn new(file: &'a File) -> RunFileReader<'a> {
        RunFileReader { file, pos: 0 }
    }
}

impl Read for RunFileReader<'_> {
    #[cfg(unix)]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }

    #[cfg(windows)]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = std::os::windows::fs::FileExt::seek_read(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }

    #[cfg(not(any(unix, windows)))]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Seek;
        let mut f = self.file;
        f.seek(io::SeekFrom::Start(self.pos))?;
        let n = f.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// All records of a run, readable in output order.
#[derive(Debug, Default)]
pub struct SortedFlows {
    mem: Vec<Flow>,
    runs: Vec<File>,
    count: u64,
    attempts: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// Distribution of flow durations in microseconds.
    pub durations: Histo,
    /// Why failed attempts meant to be spilled apart were held in memory
    /// ([`FlowStore::with_attempts_at`]), if they were.
    pub attempts_kept: Option<String>,
}

struct RunReader<'a> {
    r: BufReader<RunFileReader<'a>>,
    buf: Vec<u8>,
}

impl RunReader<'_> {
    fn next(&mut self) -> io::Result<Option<Flow>> {
        let mut len = [0u8; 4];
        match self.r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        self.buf.resize(u32::from_le_bytes(len) as usize, 0);
        self.r.read_exact(&mut self.buf)?;
        postcard::from_bytes(&self.buf)
            .map(Some)
            .map_err(io::Error::other)
    }
}

impl SortedFlows {
    /// Number of records.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Failed attempts among the records ([`is_attempt`]).
    pub fn attempts(&self) -> u64 {
        self.attempts
    }

    /// Earliest record start.
    pub fn first_ts(&self) -> Option<Timestamp> {
        self.first
    }

    /// Latest record start.
    pub fn last_ts(&self) -> Option<Timestamp> {
        self.last
    }

    /// Sorted runs written to disk (0 when everything fit in memory).
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// Calls `f` on every record in output order, merging spilled runs.
    pub fn for_each(&self, mut f: impl FnMut(&Flow) -> io::Result<()>) -> io::Result<()> {
        if self.runs.is_empty() {
            for r in &self.mem {
                f(r)?;
            }
            return Ok(());
        }
        merge(&self.runs, self.mem.iter().cloned(), |x| f(&x))
    }

    /// Every record in order, in memory (for tests and small runs).
    pub fn to_vec(&self) -> io::Result<Vec<Flow>> {
        let mut v = Vec::with_capacity(self.count as usize);
        self.for_each(|f| {
            v.push(f.clone());
            Ok(())
        })?;
        Ok(v)
    }

    /// Every record in order, taken out of the store. When nothing was
    /// spilled (a store made with a spill limit above the number of records)
    /// the records held in memory are handed over as they are: neither
    /// copied nor written to disk and read back.
    pub fn into_vec(self) -> io::Result<Vec<Flow>> {
        if self.runs.is_empty() {
            return Ok(self.mem);
        }
        let mut v = Vec::with_capacity(self.count as usize);
        merge(&self.runs, self.mem.into_iter(), |x| {
            v.push(x);
            Ok(())
        })?;
        Ok(v)
    }

    /// The records `keep` accepts, in order, taken out of the store; `keep`
    /// sees every record once, in order, and the others are dropped as
    /// they are read (from the spilled runs: never all in memory). As
    /// [`SortedFlows::into_vec`], the records held in memory are not
    /// copied when nothing was spilled.
    pub fn into_vec_where(self, mut keep: impl FnMut(&Flow) -> bool) -> io::Result<Vec<Flow>> {
        if self.runs.is_empty() {
            let mut mem = self.mem;
            mem.retain(|f| keep(f));
            return Ok(mem);
        }
        let mut v = Vec::new();
        merge(&self.runs, self.mem.into_iter(), |x| {
            if keep(&x) {
                v.push(x);
            }
            Ok(())
        })?;
        Ok(v)
    }
}

/// Merges the sorted runs on disk with the sorted records `mem`, calling
/// `f` on each record in output order.
fn merge(
    runs: &[File],
    mut mem: impl Iterator<Item = Flow>,
    mut f: impl FnMut(Flow) -> io::Result<()>,
) -> io::Result<()> {
    let mut readers = Vec::with_capacity(runs.len());
    for file in runs {
        readers.push(RunReader {
            r: BufReader::with_capacity(256 << 10, RunFileReader::new(file)),
            buf: Vec::new(),
        });
    }
    // Heap of (next record, source); source usize::MAX is the in-memory part.
    let mut heap: BinaryHeap<Reverse<(Flow, usize)>> = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some(x) = r.next()? {
            heap.push(Reverse((x, i)));
        }
    }
    if let Some(x) = mem.next() {
        heap.push(Reverse((x, usize::MAX)));
    }
    while let Some(Reverse((x, src))) = heap.pop() {
        f(x)?;
        let next = if src == usize::MAX {
            mem.next()
        } else {
            match readers.get_mut(src) {
                Some(r) => r.next()?,
                None => None,
            }
        };
        if let Some(n) = next {
            heap.push(Reverse((n, src)));
        }
    }
    Ok(())
}

impl crate::source::FlowSink for FlowStore {
    fn push(&self, flows: &mut Vec<Flow>) {
        FlowStore::push(self, flows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{ConnState, Transport};

    fn flow(ts: i64, n: u16) -> Flow {
        Flow {
            ts: Timestamp(ts),
            uid: format!("C{n:017}").into(),
            orig_h: [10, 0, 0, 1].into(),
            orig_p: n,
            resp_h: [10, 0, 0, 2].into(),
            resp_p: 445,
            proto: Transport::Tcp,
            service: None,
            duration: None,
            orig_bytes: None,
            resp_bytes: None,
            conn_state: ConnState::S0,
            missed_bytes: 0,
            history: "S".into(),
            orig_pkts: 1,
            orig_ip_bytes: 40,
            resp_pkts: 0,
            resp_ip_bytes: 0,
            ip_proto: 6,
            origin: None,
        }
    }

    #[test]
    fn spilled_runs_merge_to_the_same_order_as_a_full_sort() {
        let mut all: Vec<Flow> = (0..5000u32)
            .map(|i| flow(i64::from((i * 7919) % 1000), (i % 60_000) as u16))
            .collect();
        let small = FlowStore::new(700);
        for chunk in all.chunks(333) {
            small.push(&mut chunk.to_vec());
        }
        let sorted = small.finish().unwrap();
        assert!(sorted.spilled_runs() >= 5);
        assert_eq!(sorted.len(), 5000);
        all.sort();
        assert_eq!(sorted.to_vec().unwrap(), all);
        assert_eq!(sorted.into_vec().unwrap(), all);
        let big = FlowStore::new(1_000_000);
        big.push(&mut all.clone());
        let whole = big.finish().unwrap();
        assert_eq!(whole.spilled_runs(), 0);
        assert_eq!(whole.to_vec().unwrap(), all);
        assert_eq!(whole.into_vec().unwrap(), all);
    }

    #[test]
    fn attempts_spilled_apart_merge_to_the_same_order() {
        let mut all: Vec<Flow> = (0..5000u32)
            .map(|i| {
                let mut f = flow(i64::from((i * 7919) % 1000), (i % 60_000) as u16);
                if i % 3 == 0 {
                    f.conn_state = ConnState::SF;
                }
                f
            })
            .collect();
        let store = FlowStore::with_attempts_at(usize::MAX, 500);
        for chunk in all.chunks(333) {
            store.push(&mut chunk.to_vec());
        }
        let sorted = store.finish().unwrap();
        // Only the attempts (two thirds) were spilled, 500 at a time.
        assert_eq!(sorted.spilled_runs(), 3333 / 500);
        assert_eq!(sorted.len(), 5000);
        all.sort();
        assert_eq!(sorted.to_vec().unwrap(), all);
        let odd: Vec<Flow> = all.iter().filter(|f| f.orig_p % 2 == 1).cloned().collect();
        let mut seen = 0;
        let kept = sorted
            .into_vec_where(|f| {
                seen += 1;
                f.orig_p % 2 == 1
            })
            .unwrap();
        assert_eq!(seen, 5000);
        assert_eq!(kept, odd);
        // Nothing spilled: the records held are filtered in place.
        let held = FlowStore::with_attempts_at(usize::MAX, 1_000_000);
        held.push(&mut all.clone());
        let whole = held.finish().unwrap();
        assert_eq!(whole.spilled_runs(), 0);
        assert_eq!(whole.into_vec_where(|f| f.orig_p % 2 == 1).unwrap(), odd);
    }
}
