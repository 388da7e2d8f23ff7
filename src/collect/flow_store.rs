//! Finished connection records, kept in output order within bounded memory.
//!
//! Flow tables hand their finished records here as they go. Up to a limit
//! they stay in memory; beyond it they are sorted and written to a
//! temporary file as a run, and the output merges the runs. So a capture
//! with a hundred million connections (a SYN flood from random ports) costs
//! disk, not memory, and the output order (the total order of [`Flow`]:
//! `ts`, then `uid`, then every other field) is the same however records
//! were split into runs, whatever the thread count.
//!
//! Runs are anonymous temporary files (see [`spill_file`]): private to the
//! process (mode 0600), never named in the temporary directory where the
//! platform allows it, so they vanish when the run ends or is killed.

use crate::model::event::{Flow, Timestamp};
use crate::stats::Histo;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::sync::Mutex;

/// Records held in memory before a run is spilled to disk.
pub const DEFAULT_SPILL_AT: usize = 65_536;

struct Inner {
    mem: Vec<Flow>,
    runs: Vec<File>,
    count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    durations: Histo,
    error: Option<io::Error>,
}

/// A thread-safe collector of finished records.
pub struct FlowStore {
    spill_at: usize,
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
        FlowStore {
            spill_at: spill_at.max(1),
            inner: Mutex::new(Inner {
                mem: Vec::new(),
                runs: Vec::new(),
                count: 0,
                first: None,
                last: None,
                durations: Histo::new(),
                error: None,
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
            g.first = Some(g.first.map_or(f.ts, |t| t.min(f.ts)));
            g.last = Some(g.last.map_or(f.ts, |t| t.max(f.ts)));
            let micros = f.duration.map_or(0, |d| (d.0 / 1000).max(0) as u64);
            g.durations.record(micros);
        }
        // A run is spilled before a hand-over would take it past `spill_at`,
        // and room grows to exactly `spill_at` records (or one larger
        // hand-over): not past it, as a plain append's doubling would.
        if !g.mem.is_empty()
            && g.mem.len() + flows.len() > self.spill_at
            && g.error.is_none()
            && let Err(e) = spill(&mut g)
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
            && let Err(e) = spill(&mut g)
        {
            g.error = Some(e);
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
        g.mem.sort_unstable();
        Ok(SortedFlows {
            mem: g.mem,
            runs: g.runs,
            count: g.count,
            first: g.first,
            last: g.last,
            durations: g.durations,
        })
    }
}

fn spill(g: &mut Inner) -> io::Result<()> {
    let file = spill_file()?;
    let mut w = BufWriter::with_capacity(1 << 20, &file);
    g.mem.sort_unstable();
    let mut buf = Vec::with_capacity(256);
    for f in g.mem.drain(..) {
        buf.clear();
        buf = postcard::to_extend(&f, buf).map_err(io::Error::other)?;
        w.write_all(&(buf.len() as u32).to_le_bytes())?;
        w.write_all(&buf)?;
    }
    w.flush()?;
    drop(w);
    g.runs.push(file);
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
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// Distribution of flow durations in microseconds.
    pub durations: Histo,
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
}
