//! Reading ahead on a thread of its own: while the parsers work on one
//! chunk of an input, the next blocks are already being read (and, for a
//! gzip or zstd input, decompressed). Without it, each refill of a
//! [`super::ByteWindow`] left the parser threads idle for the length of a
//! read.
//!
//! Memory is bounded: at most [`DEPTH`] blocks of [`BLOCK`] bytes wait to be
//! taken, and taken blocks are handed back for reuse.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

/// Bytes read per block.
pub const BLOCK: usize = 4 << 20;

/// Bytes of the first block read.
pub const FIRST_BLOCK: usize = 64 << 10;

/// Blocks read ahead of the reader at most.
pub const DEPTH: usize = 2;

/// One block read: its buffer, and how many of its bytes are data.
type Block = (Vec<u8>, usize);

/// A [`Read`] whose data is read by a background thread, [`DEPTH`] blocks
/// ahead. Errors of the inner reader arrive in order, after the data read
/// before them; the end of the input is the end of the channel.
pub struct ReadAhead {
    blocks: Receiver<io::Result<Block>>,
    /// Buffers handed back to the reading thread.
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    /// Data bytes in `current`.
    len: usize,
    /// Bytes of `current` already read.
    pos: usize,
}

impl ReadAhead {
    /// Starts reading `inner` ahead. If no thread can be started, the
    /// inner reader is returned to be read directly.
    pub fn start(inner: Box<dyn Read + Send>) -> Result<ReadAhead, Box<dyn Read + Send>> {
        let (tx, blocks) = sync_channel::<io::Result<Block>>(DEPTH);
        let (spare, recycled) = sync_channel::<Vec<u8>>(DEPTH + 2);
        // The reader moves into the thread only once it exists; a failed
        // spawn gives it back through this slot.
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(inner)));
        let theirs = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || {
                let taken = theirs.lock().ok().and_then(|mut s| s.take());
                if let Some(inner) = taken {
                    read_blocks(inner, &tx, &recycled);
                }
            });
        match spawned {
            Ok(_) => Ok(ReadAhead {
                blocks,
                spare,
                current: Vec::new(),
                len: 0,
                pos: 0,
            }),
            Err(_) => match slot.lock().ok().and_then(|mut s| s.take()) {
                Some(inner) => Err(inner),
                None => Err(Box::new(io::empty())),
            },
        }
    }
}

/// The reading thread: fills blocks until the end, an error, or until the
/// [`ReadAhead`] is dropped (a send fails).
fn read_blocks(
    mut inner: Box<dyn Read + Send>,
    tx: &SyncSender<io::Result<Block>>,
    recycled: &Receiver<Vec<u8>>,
) {
    // Blocks start small and double up to `BLOCK`: a small file costs a
    // small buffer, a large one soon gets large reads.
    let mut size = FIRST_BLOCK;
    loop {
        let mut buf = match recycled.try_recv() {
            Ok(b) if b.len() >= size => b,
            Ok(_) | Err(TryRecvError::Empty | TryRecvError::Disconnected) => vec![0u8; size],
        };
        size = (size * 2).min(BLOCK);
        let mut n = 0;
        let mut failure = None;
        while n < buf.len() {
            match inner.read(buf.get_mut(n..).unwrap_or(&mut [])) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let end = n < buf.len();
        if n > 0 && tx.send(Ok((buf, n))).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = tx.send(Err(e));
            return;
        }
        if end {
            return;
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len {
            let done = std::mem::take(&mut self.current);
            if done.capacity() > 0 {
                // The thread may have gone; the buffer is then just freed.
                let _ = self.spare.try_send(done);
            }
            match self.blocks.recv() {
                Ok(Ok((buf, n))) => {
                    self.current = buf;
                    self.len = n;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The thread ended: the end of the input.
                Err(_) => return Ok(0),
            }
        }
        let avail = self.current.get(self.pos..self.len).unwrap_or(&[]);
        let k = avail.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..k), avail.get(..k)) {
            dst.copy_from_slice(src);
        }
        self.pos += k;
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives its data in odd-sized reads, then fails.
    struct Flaky {
        data: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Flaky {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at >= self.data.len() {
                return if self.fail_at_end {
                    Err(io::Error::other("disk gone"))
                } else {
                    Ok(0)
                };
            }
            let k = out.len().min(777_777).min(self.data.len() - self.at);
            out[..k].copy_from_slice(&self.data[self.at..self.at + k]);
            self.at += k;
            Ok(k)
        }
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn gives_every_byte_in_order_across_blocks() {
        let want = data(3 * BLOCK + 12_345);
        let inner = Flaky {
            data: want.clone(),
            at: 0,
            fail_at_end: false,
        };
        let Ok(mut r) = ReadAhead::start(Box::new(inner)) else {
            panic!("no thread");
        };
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), want.len());
        assert!(got == want);
    }

    #[test]
    fn an_error_comes_after_the_data_read_before_it() {
        let want = data(BLOCK + 5);
        let inner = Flaky {
            data: want.clone(),
            at: 0,
            fail_at_end: true,
        };
        let Ok(mut r) = ReadAhead::start(Box::new(inner)) else {
            panic!("no thread");
        };
        let mut got = vec![0u8; want.len()];
        r.read_exact(&mut got).unwrap();
        assert!(got == want);
        let err = r.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
    }

    #[test]
    fn an_empty_input_ends_at_once() {
        let Ok(mut r) = ReadAhead::start(Box::new(io::empty())) else {
            panic!("no thread");
        };
        assert_eq!(r.read(&mut [0u8; 8]).unwrap(), 0);
    }
}
