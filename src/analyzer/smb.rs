//! SMB messages in, sessions, share mappings, files and pipe calls out:
//! the SMB analyzer, fed whole NetBIOS session messages of a TCP
//! connection to port 445 or 139 by the stream framer.
//!
//! SMB2 and SMB3: negotiate (the dialect), session setup (NTLMSSP's user,
//! domain and workstation; Kerberos marked as such, its account not being
//! visible), tree connect and disconnect (the share path and type), create
//! (file and named-pipe names), read, write and pipe transceive (bytes per
//! file; a pipe's bytes go to a [`dcerpc::Association`] of its own), close
//! and logoff. Messages under an SMB3 transform header are sealed: the
//! session is marked encrypted and their contents are not read. SMB1:
//! session setup (NTLMSSP), tree connect, and named pipes (NT create, the
//! TRANSACTION TransactNmPipe call, WRITE_ANDX, READ_ANDX, close), whose
//! DCE-RPC is read as over SMB2. Requests are matched to their
//! responses by message id, in a table of bounded size.

use crate::analyzer::dcerpc::{self, DceRpcFraming};
use crate::analyzer::kerberos;
use crate::analyzer::ntlm;
use crate::analyzer::reassembly::{Budget, Chunk, Framer, Framing, Limits, ReassemblyCounters};
use crate::model::event::Text;
use std::collections::BTreeMap;

/// NetBIOS session service framing: a type byte and a 24-bit length.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetbiosFraming;

impl Framing for NetbiosFraming {
    fn message_len(&self, head: &[u8]) -> Option<Result<usize, ()>> {
        let [ty, l0, l1, l2]: [u8; 4] = head.get(..4)?.try_into().ok()?;
        let len = (usize::from(l0) << 16) | (usize::from(l1) << 8) | usize::from(l2);
        match ty {
            0x00 => {
                let proto = head.get(4..8)?;
                let smb = matches!(proto, [0xfc..=0xff, b'S', b'M', b'B']);
                if smb && len >= 4 {
                    Some(Ok(len + 4))
                } else {
                    Some(Err(()))
                }
            }
            // Session request, positive and negative response, retarget, keepalive.
            0x81..=0x85 if len < 1024 => Some(Ok(len + 4)),
            _ => Some(Err(())),
        }
    }
}

/// SMB2 commands read here.
mod cmd {
    pub const NEGOTIATE: u16 = 0;
    pub const SESSION_SETUP: u16 = 1;
    pub const LOGOFF: u16 = 2;
    pub const TREE_CONNECT: u16 = 3;
    pub const TREE_DISCONNECT: u16 = 4;
    pub const CREATE: u16 = 5;
    pub const CLOSE: u16 = 6;
    pub const READ: u16 = 8;
    pub const WRITE: u16 = 9;
    pub const IOCTL: u16 = 0x0b;
    pub const SET_INFO: u16 = 0x11;
}

/// FSCTL_PIPE_TRANSCEIVE: a pipe write and read in one IOCTL.
const FSCTL_PIPE_TRANSCEIVE: u32 = 0x0011_c017;
/// STATUS_BUFFER_OVERFLOW: a pipe read with more to come.
const BUFFER_OVERFLOW: u32 = 0x8000_0005;
/// STATUS_MORE_PROCESSING_REQUIRED: a session setup leg, not its end.
const MORE_PROCESSING: u32 = 0xc000_0016;
/// Most requests awaiting a response, files and trees held per connection.
const MAX_TABLE: usize = 256;
/// Longest share path or file name kept (bytes of UTF-8).
const MAX_NAME: usize = 512;

/// One thing the analyzer learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A session setup finished (or was refused).
    Session {
        /// `NTLM`, `Kerberos`, or `unknown`.
        mechanism: &'static str,
        /// The account, when NTLM shows it.
        auth: Option<ntlm::Authenticate>,
        /// The NT status of the final response (0: success).
        status: u32,
    },
    /// The server's names from an NTLM CHALLENGE.
    Challenge(ntlm::Challenge),
    /// A Kerberos AP-REQ in a session setup (Zeek logs it in kerberos.log
    /// as request type `AP`), with the session setup's outcome.
    KerberosAp(kerberos::ApRequest),
    /// A tree connect succeeded (Zeek smb_mapping).
    Mapping {
        /// The share path, e.g. `\\WORKSTATION6\ADMIN$`.
        path: Text,
        /// `DISK`, `PIPE` or `PRINT`.
        share_type: &'static str,
    },
    /// A file (not a pipe) action Zeek logs in smb_files.log: an open, the
    /// first read or write of a file as it was opened, a rename or a
    /// delete (repeats of the same action on the same unchanged file within
    /// three minutes are not reported, as Zeek's `recent_files`).
    File(Box<FileRow>),
    /// A DCE-RPC finding on a named pipe.
    Rpc {
        /// The pipe's file id.
        pipe: [u8; 16],
        /// What the pipe's bytes held.
        finding: dcerpc::Finding,
    },
    /// The first sealed (SMB3-encrypted) message of a connection.
    Encrypted,
    /// The dialect the server chose, e.g. `SMB 3.1.1`.
    Dialect(&'static str),
}

/// An smb_files.log action (Zeek's `SMB::Action`, the ones it logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileAction {
    /// `SMB::FILE_OPEN`: a create answered with success.
    Open,
    /// `SMB::FILE_READ`: a read request.
    Read,
    /// `SMB::FILE_WRITE`: a write request.
    Write,
    /// `SMB::FILE_RENAME`: a rename (SET_INFO FileRenameInformation).
    Rename,
    /// `SMB::FILE_DELETE`: a delete (SET_INFO FileDispositionInformation,
    /// or a create with FILE_DELETE_ON_CLOSE).
    Delete,
}

impl FileAction {
    /// Zeek's name of the action, e.g. `SMB::FILE_OPEN`.
    pub fn zeek(self) -> &'static str {
        match self {
            FileAction::Open => "SMB::FILE_OPEN",
            FileAction::Read => "SMB::FILE_READ",
            FileAction::Write => "SMB::FILE_WRITE",
            FileAction::Rename => "SMB::FILE_RENAME",
            FileAction::Delete => "SMB::FILE_DELETE",
        }
    }
}

/// A file's MAC times as the create response gave them: Windows FILETIMEs
/// (100 ns since 1601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MacTimes {
    /// Last write.
    pub modified: u64,
    /// Last access.
    pub accessed: u64,
    /// Creation.
    pub created: u64,
    /// Last change (metadata).
    pub changed: u64,
}

impl MacTimes {
    /// A FILETIME as Zeek shows it: epoch seconds as a double, computed as
    /// Zeek computes it (`filetime2zeektime`), with six decimals.
    pub fn zeek_time(ft: u64) -> String {
        #[allow(clippy::cast_precision_loss)]
        let secs = (ft as f64 / 10_000_000.0) - 11_644_473_600.0;
        format!("{secs:.6}")
    }
}

/// One smb_files.log row: what Zeek's `SMB::FileInfo` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// The action.
    pub action: FileAction,
    /// The share's path (`-` when its tree connect was not seen).
    pub path: Text,
    /// The file's name inside it.
    pub name: Text,
    /// The name before a rename.
    pub prev_name: Option<Text>,
    /// End of file as the create response gave it.
    pub size: u64,
    /// The create response's times (unset when it gave none: a zero
    /// modification time, as Zeek).
    pub times: Option<MacTimes>,
}

/// What a request awaiting its response was.
#[derive(Debug)]
enum Pending {
    SessionSetup {
        mechanism: &'static str,
        auth: Option<ntlm::Authenticate>,
        ap: Option<Box<kerberos::ApRequest>>,
    },
    TreeConnect(Text),
    Create {
        tree: (u64, u32),
        name: Text,
        delete_on_close: bool,
    },
    Read([u8; 16]),
    Transceive([u8; 16]),
}

/// What an SMB1 request awaiting its response was.
#[derive(Debug)]
enum Smb1Pending {
    TreeConnect(Text),
    Create {
        tree: (u64, u32),
        name: Text,
    },
    /// A TransactNmPipe call on this FID.
    Pipe(u16),
    /// A session setup carrying a Kerberos AP-REQ.
    Kerberos(Box<kerberos::ApRequest>),
    Read(u16),
}

/// Marks an SMB1 user id in the tree table's session key (SMB2 session
/// ids fill the other bits).
const SMB1_SESSION: u64 = 1 << 63;

/// The files-table key of an SMB1 FID (SMB2 keys are 16-byte file ids).
fn smb1_fid(fid: u16) -> [u8; 16] {
    let [a, b] = fid.to_le_bytes();
    [a, b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53]
}

/// An SMB1 string at `at` (from the header): `len` bytes, or up to its
/// terminator; UTF-16 (aligned to an even offset) when `unicode`.
fn smb1_string(smb: &[u8], at: usize, len: Option<usize>, unicode: bool) -> Text {
    let at = if unicode { at + at % 2 } else { at };
    let rest = smb.get(at..).unwrap_or(&[]);
    let rest = rest.get(..len.unwrap_or(rest.len())).unwrap_or(rest);
    if unicode {
        let end = rest
            .chunks_exact(2)
            .position(|c| c == [0, 0])
            .map_or(rest.len(), |i| i * 2);
        utf16_at(rest, 0, end).unwrap_or_default()
    } else {
        let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
        let s = String::from_utf8_lossy(rest.get(..end).unwrap_or(&[])).into_owned();
        crate::model::event::capped_text(&s, MAX_NAME)
    }
}

/// A pipe's DCE-RPC state: its association and one framer per direction.
#[derive(Debug, Default)]
struct Pipe {
    assoc: dcerpc::Association,
    framers: [Framer; 2],
}

impl Pipe {
    /// The pipe is closed: what its framers and association held goes back
    /// to the budget.
    fn release(&mut self, budget: &mut Budget) {
        for fr in &mut self.framers {
            fr.reset(budget);
        }
        self.assoc.release(budget);
    }
}

#[derive(Debug)]
struct File {
    path: Text,
    name: Text,
    prev_name: Option<Text>,
    size: u64,
    times: Option<MacTimes>,
    /// Actions already reported for this file as it is now (bit per
    /// [`FileAction`]): a fast path before the connection's recent set.
    reported: u8,
    pipe: Option<Box<Pipe>>,
}

impl File {
    fn new(path: Text, name: Text, size: u64, times: Option<MacTimes>, pipe: bool) -> File {
        File {
            path,
            name,
            prev_name: None,
            size,
            times,
            reported: 0,
            pipe: pipe.then(Box::default),
        }
    }
}

/// A reported file action as Zeek's `recent_files` keys it: the action,
/// name, path, size and times with the access time left out.
type RecentKey = (FileAction, Text, Text, u64, u64, u64, u64);

/// How long a reported file action hides its repeats (Zeek's
/// `recent_files` `&read_expire=3min`), in nanoseconds.
const RECENT_NS: i64 = 180 * 1_000_000_000;

/// Counts of what the analyzer passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmbCounters {
    /// SMB messages read (each command of a compound counts).
    pub messages: u64,
    /// Sealed messages not read.
    pub encrypted: u64,
    /// Compressed messages not read.
    pub compressed: u64,
    /// Messages too short or inconsistent to read.
    pub malformed: u64,
    /// Responses with no request seen (capture began after it, or table full).
    pub unmatched: u64,
    /// Entries refused because a table was full.
    pub table_full: u64,
    /// What the pipes' DCE-RPC analyzers counted.
    pub dcerpc: dcerpc::DceRpcCounters,
}

/// The SMB state of one TCP connection.
#[derive(Debug, Default)]
pub struct SmbConnection {
    pending: BTreeMap<u64, Pending>,
    sessions: BTreeMap<u64, &'static str>,
    trees: BTreeMap<(u64, u32), (Text, bool)>,
    files: BTreeMap<[u8; 16], File>,
    encrypted_noted: bool,
    /// SMB1 requests awaiting responses, by (pid, mid).
    smb1_pending: BTreeMap<(u16, u16), Smb1Pending>,
    /// File actions reported lately, with when each was last looked up.
    recent: BTreeMap<RecentKey, i64>,
}

/// Shared pieces a message is read with.
pub struct Tools<'a> {
    /// Memory limits.
    pub limits: &'a Limits,
    /// The capture's memory budget.
    pub budget: &'a mut Budget,
    /// Reassembly counters (pipe framers).
    pub reassembly: &'a mut ReassemblyCounters,
    /// SMB counters.
    pub counters: &'a mut SmbCounters,
    /// The message's capture time (nanoseconds since the epoch).
    pub now: i64,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

fn file_id(b: &[u8], at: usize) -> Option<[u8; 16]> {
    b.get(at..at.checked_add(16)?)?.try_into().ok()
}

/// The four FILETIMEs at the given offsets (last write, last access,
/// creation, change), or `None` when the last write time is not after the
/// epoch (Zeek keeps no times then: pipes answer with zeros).
fn mac_times(
    b: &[u8],
    modified: usize,
    accessed: usize,
    created: usize,
    changed: usize,
) -> Option<MacTimes> {
    let t = MacTimes {
        modified: le64(b, modified)?,
        accessed: le64(b, accessed)?,
        created: le64(b, created)?,
        changed: le64(b, changed)?,
    };
    // 1970-01-01 as a FILETIME.
    (t.modified > 116_444_736_000_000_000).then_some(t)
}

/// `len` bytes at `off` (from the SMB2 header), as UTF-16 text.
fn utf16_at(smb: &[u8], off: usize, len: usize) -> Option<Text> {
    let b = smb.get(off..off.checked_add(len)?)?;
    let s = ntlm::text(b, true);
    Some(crate::model::event::capped_text(&s, MAX_NAME))
}

/// Named pipes that carry DCE-RPC, as clients open them (`svcctl`, `\\PIPE\\samr`).
fn is_rpc_pipe_name(name: &str) -> bool {
    const PIPES: [&str; 16] = [
        "svcctl",
        "atsvc",
        "samr",
        "lsarpc",
        "lsass",
        "netlogon",
        "srvsvc",
        "wkssvc",
        "winreg",
        "epmapper",
        "drsuapi",
        "spoolss",
        "eventlog",
        "ntsvcs",
        "browser",
        "protected_storage",
    ];
    let n = name.trim_start_matches('\\');
    let n = n
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("PIPE\\"))
        .map_or(n, |_| n.get(5..).unwrap_or(""));
    PIPES.iter().any(|p| p.eq_ignore_ascii_case(n))
}

fn share_type(t: u8) -> &'static str {
    match t {
        1 => "DISK",
        2 => "PIPE",
        3 => "PRINT",
        _ => "UNKNOWN",
    }
}

fn dialect_name(d: u16) -> &'static str {
    match d {
        0x0202 => "SMB 2.0.2",
        0x0210 => "SMB 2.1",
        0x0300 => "SMB 3.0",
        0x0302 => "SMB 3.0.2",
        0x0311 => "SMB 3.1.1",
        0x02ff => "SMB 2.???",
        _ => "SMB 2 (unknown dialect)",
    }
}

fn insert_capped<K: Ord, V>(map: &mut BTreeMap<K, V>, k: K, v: V, counters: &mut SmbCounters) {
    if map.len() < MAX_TABLE {
        map.insert(k, v);
    } else {
        counters.table_full += 1;
    }
}

impl SmbConnection {
    /// Reads one NetBIOS session message (`complete` false: only its head
    /// was kept) sent by the client (`from_client`) or the server.
    pub fn message(
        &mut self,
        from_client: bool,
        msg: &[u8],
        complete: bool,
        tools: &mut Tools<'_>,
        out: &mut Vec<Finding>,
    ) {
        if msg.first() != Some(&0) {
            return;
        }
        let Some(mut smb) = msg.get(4..) else {
            return;
        };
        match smb.get(..4) {
            Some([0xfd, b'S', b'M', b'B']) => {
                tools.counters.encrypted += 1;
                if !self.encrypted_noted {
                    self.encrypted_noted = true;
                    out.push(Finding::Encrypted);
                }
                return;
            }
            Some([0xfc, b'S', b'M', b'B']) => {
                tools.counters.compressed += 1;
                return;
            }
            Some([0xff, b'S', b'M', b'B']) => {
                self.smb1(from_client, smb, tools, out);
                return;
            }
            Some([0xfe, b'S', b'M', b'B']) => {}
            _ => {
                tools.counters.malformed += 1;
                return;
            }
        }
        // Compound requests: each command's NextCommand offset leads on.
        for _ in 0..64 {
            let next = le32(smb, 20).unwrap_or(0) as usize;
            let this = if next > 0 {
                smb.get(..next).unwrap_or(smb)
            } else {
                smb
            };
            self.smb2(from_client, this, complete, tools, out);
            if next < 64 {
                return;
            }
            match smb.get(next..) {
                Some(rest) if rest.len() >= 64 => smb = rest,
                _ => return,
            }
        }
    }

    fn smb2(
        &mut self,
        from_client: bool,
        smb: &[u8],
        complete: bool,
        tools: &mut Tools<'_>,
        out: &mut Vec<Finding>,
    ) {
        let (Some(status), Some(command), Some(flags), Some(mid), Some(session)) = (
            le32(smb, 8),
            le16(smb, 12),
            le32(smb, 16),
            le64(smb, 24),
            le64(smb, 40),
        ) else {
            tools.counters.malformed += 1;
            return;
        };
        tools.counters.messages += 1;
        let response = flags & 1 != 0;
        if response == from_client {
            // A response from the client side or the other way round: not ours to read.
            tools.counters.malformed += 1;
            return;
        }
        let async_msg = flags & 2 != 0;
        let tree = if async_msg {
            0
        } else {
            le32(smb, 36).unwrap_or(0)
        };
        let body = 64usize;
        if !response {
            self.request(command, mid, session, tree, smb, body, complete, tools, out);
        } else {
            self.response(command, status, mid, session, tree, smb, body, tools, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        command: u16,
        mid: u64,
        session: u64,
        tree: u32,
        smb: &[u8],
        body: usize,
        complete: bool,
        tools: &mut Tools<'_>,
        out: &mut Vec<Finding>,
    ) {
        match command {
            cmd::SESSION_SETUP => {
                let off = usize::from(le16(smb, body + 12).unwrap_or(0));
                let len = usize::from(le16(smb, body + 14).unwrap_or(0));
                let blob = smb.get(off..off.saturating_add(len)).unwrap_or(&[]);
                let mechanism = ntlm::mechanism(blob);
                let auth = match ntlm::find(blob) {
                    Some(ntlm::Message::Authenticate(a)) => Some(a),
                    _ => None,
                };
                let ap = if mechanism == Some("NTLM") {
                    None
                } else {
                    ntlm::kerberos_ap_request(blob).map(Box::new)
                };
                let mechanism = mechanism.or(ap.as_ref().map(|_| "Kerberos"));
                // Keep the leg that names the account over earlier ones.
                let prior = match self.pending.get(&mid) {
                    Some(Pending::SessionSetup { mechanism, .. }) => *mechanism,
                    _ => "unknown",
                };
                let mechanism = mechanism.unwrap_or(prior);
                insert_capped(
                    &mut self.pending,
                    mid,
                    Pending::SessionSetup {
                        mechanism,
                        auth,
                        ap,
                    },
                    tools.counters,
                );
            }
            cmd::LOGOFF => {
                self.sessions.remove(&session);
            }
            cmd::TREE_CONNECT => {
                let off = usize::from(le16(smb, body + 4).unwrap_or(0));
                let len = usize::from(le16(smb, body + 6).unwrap_or(0));
                if let Some(path) = utf16_at(smb, off, len) {
                    insert_capped(
                        &mut self.pending,
                        mid,
                        Pending::TreeConnect(path),
                        tools.counters,
                    );
                }
            }
            cmd::TREE_DISCONNECT => {
                self.trees.remove(&(session, tree));
            }
            cmd::CREATE => {
                let off = usize::from(le16(smb, body + 44).unwrap_or(0));
                let len = usize::from(le16(smb, body + 46).unwrap_or(0));
                let name = if len == 0 {
                    Some(Text::default())
                } else {
                    utf16_at(smb, off, len)
                };
                // CreateOptions FILE_DELETE_ON_CLOSE.
                let delete_on_close = le32(smb, body + 40).unwrap_or(0) & 0x1000 != 0;
                if let Some(name) = name {
                    insert_capped(
                        &mut self.pending,
                        mid,
                        Pending::Create {
                            tree: (session, tree),
                            name,
                            delete_on_close,
                        },
                        tools.counters,
                    );
                }
            }
            cmd::CLOSE => {
                if let Some(id) = file_id(smb, body + 8)
                    && let Some(f) = self.files.remove(&id)
                    && let Some(mut p) = f.pipe
                {
                    p.release(tools.budget);
                }
            }
            cmd::READ => {
                if let Some(id) = file_id(smb, body + 16) {
                    self.file_action(id, FileAction::Read, tools.now, out);
                    insert_capped(&mut self.pending, mid, Pending::Read(id), tools.counters);
                }
            }
            cmd::SET_INFO => self.set_info(smb, body, tools.now, out),
            cmd::WRITE => {
                let (Some(off), Some(len), Some(id)) = (
                    le16(smb, body + 2),
                    le32(smb, body + 4),
                    file_id(smb, body + 16),
                ) else {
                    tools.counters.malformed += 1;
                    return;
                };
                let data = if complete {
                    let off = usize::from(off);
                    smb.get(off..off.saturating_add(len as usize))
                } else {
                    None
                };
                self.file_action(id, FileAction::Write, tools.now, out);
                self.file_bytes(id, true, u64::from(len), data, tools, out);
            }
            cmd::IOCTL => {
                let (Some(code), Some(id)) = (le32(smb, body + 4), file_id(smb, body + 8)) else {
                    tools.counters.malformed += 1;
                    return;
                };
                if code == FSCTL_PIPE_TRANSCEIVE {
                    let off = le32(smb, body + 24).unwrap_or(0) as usize;
                    let len = le32(smb, body + 28).unwrap_or(0) as usize;
                    let data = smb.get(off..off.saturating_add(len));
                    self.file_bytes(id, true, len as u64, data, tools, out);
                    insert_capped(
                        &mut self.pending,
                        mid,
                        Pending::Transceive(id),
                        tools.counters,
                    );
                }
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn response(
        &mut self,
        command: u16,
        status: u32,
        mid: u64,
        session: u64,
        tree: u32,
        smb: &[u8],
        body: usize,
        tools: &mut Tools<'_>,
        out: &mut Vec<Finding>,
    ) {
        if command == cmd::NEGOTIATE {
            if status == 0
                && let Some(d) = le16(smb, body + 4)
            {
                out.push(Finding::Dialect(dialect_name(d)));
            }
            return;
        }
        if status == 0x0000_0103 {
            // STATUS_PENDING: an interim answer; the final one follows.
            return;
        }
        if command == cmd::SESSION_SETUP && status == MORE_PROCESSING {
            // The server's CHALLENGE names it; the request stays pending.
            let off = usize::from(le16(smb, body + 4).unwrap_or(0));
            let len = usize::from(le16(smb, body + 6).unwrap_or(0));
            let blob = smb.get(off..off.saturating_add(len)).unwrap_or(&[]);
            if let Some(ntlm::Message::Challenge(c)) = ntlm::find(blob) {
                out.push(Finding::Challenge(c));
            }
            // A Kerberos leg answered in more than one step: its outcome
            // is not this response's.
            if let Some(Pending::SessionSetup { ap: Some(ap), .. }) = self.pending.remove(&mid) {
                out.push(Finding::KerberosAp(*ap));
            }
            return;
        }
        let Some(p) = self.pending.remove(&mid) else {
            if matches!(
                command,
                cmd::SESSION_SETUP | cmd::TREE_CONNECT | cmd::CREATE | cmd::READ | cmd::IOCTL
            ) {
                tools.counters.unmatched += 1;
            }
            return;
        };
        match (command, p) {
            (
                cmd::SESSION_SETUP,
                Pending::SessionSetup {
                    mechanism,
                    auth,
                    ap,
                },
            ) => {
                if status == 0 {
                    insert_capped(&mut self.sessions, session, mechanism, tools.counters);
                }
                if let Some(mut ap) = ap {
                    ap.accepted = Some(status == 0);
                    out.push(Finding::KerberosAp(*ap));
                }
                out.push(Finding::Session {
                    mechanism,
                    auth,
                    status,
                });
            }
            (cmd::TREE_CONNECT, Pending::TreeConnect(path)) if status == 0 => {
                let ty = smb.get(body + 2).copied().unwrap_or(0);
                let pipe = ty == 2 || path.to_ascii_uppercase().ends_with("\\IPC$");
                insert_capped(
                    &mut self.trees,
                    (session, tree),
                    (path.clone(), pipe),
                    tools.counters,
                );
                out.push(Finding::Mapping {
                    path,
                    share_type: share_type(ty),
                });
            }
            (
                cmd::CREATE,
                Pending::Create {
                    tree,
                    name,
                    delete_on_close,
                },
            ) if status == 0 => {
                let Some(id) = file_id(smb, body + 64) else {
                    tools.counters.malformed += 1;
                    return;
                };
                let (path, pipe) = self.tree_of(&tree, &name);
                let times = mac_times(smb, body + 24, body + 16, body + 8, body + 32);
                let size = le64(smb, body + 48).unwrap_or(0);
                let file = File::new(path, name, size, times, pipe);
                self.open_file(id, file, delete_on_close, tools, out);
            }
            (cmd::READ, Pending::Read(id)) if status == 0 => {
                let off = usize::from(smb.get(body + 2).copied().unwrap_or(0));
                let len = le32(smb, body + 4).unwrap_or(0) as usize;
                let data = smb.get(off..off.saturating_add(len));
                self.file_bytes(id, false, len as u64, data, tools, out);
            }
            (cmd::IOCTL, Pending::Transceive(id)) if status == 0 || status == 0x8000_0005 => {
                let off = le32(smb, body + 32).unwrap_or(0) as usize;
                let len = le32(smb, body + 36).unwrap_or(0) as usize;
                let data = smb.get(off..off.saturating_add(len));
                self.file_bytes(id, false, len as u64, data, tools, out);
            }
            _ => {}
        }
    }

    /// A create answered: the file is held by its id and, unless it is a
    /// pipe, its open reported (and its delete, when the create asked for
    /// delete on close).
    fn open_file(
        &mut self,
        id: [u8; 16],
        file: File,
        delete_on_close: bool,
        tools: &mut Tools<'_>,
        out: &mut Vec<Finding>,
    ) {
        let pipe = file.pipe.is_some();
        if self.files.len() >= MAX_TABLE && !self.files.contains_key(&id) {
            tools.counters.table_full += 1;
            return;
        }
        if let Some(old) = self.files.insert(id, file)
            && let Some(mut p) = old.pipe
        {
            // A reused id: what the old pipe held goes back to the budget.
            p.release(tools.budget);
        }
        if !pipe {
            self.file_action(id, FileAction::Open, tools.now, out);
            if delete_on_close {
                self.file_action(id, FileAction::Delete, tools.now, out);
            }
        }
    }

    /// Reports `action` on an open file (not a pipe) unless it was reported
    /// for the file as it is now, or, within three minutes, for the same
    /// name, path, size and times (Zeek's `recent_files`; a file without
    /// times is reported each time, as Zeek does).
    fn file_action(&mut self, id: [u8; 16], action: FileAction, now: i64, out: &mut Vec<Finding>) {
        let Some(f) = self.files.get_mut(&id) else {
            return;
        };
        if f.pipe.is_some() {
            return;
        }
        let bit = 1u8 << (action as u8);
        if let Some(t) = f.times {
            if f.reported & bit != 0 && !matches!(action, FileAction::Rename | FileAction::Delete) {
                return;
            }
            let key: RecentKey = (
                action,
                f.name.clone(),
                f.path.clone(),
                f.size,
                t.modified,
                t.created,
                t.changed,
            );
            f.reported |= bit;
            match self.recent.get_mut(&key) {
                Some(seen) if now.saturating_sub(*seen) <= RECENT_NS => {
                    *seen = now;
                    return;
                }
                _ => {}
            }
            if self.recent.len() >= MAX_TABLE * 4 {
                self.recent
                    .retain(|_, seen| now.saturating_sub(*seen) <= RECENT_NS);
                if self.recent.len() >= MAX_TABLE * 4 {
                    self.recent.clear();
                }
            }
            self.recent.insert(key, now);
        }
        out.push(Finding::File(Box::new(FileRow {
            action,
            path: f.path.clone(),
            name: f.name.clone(),
            prev_name: f.prev_name.clone(),
            size: f.size,
            times: f.times,
        })));
    }

    /// SMB2 SET_INFO: a rename (FileRenameInformation) or a delete
    /// (FileDispositionInformation with DeletePending) of an open file,
    /// reported from the request as Zeek does.
    fn set_info(&mut self, smb: &[u8], body: usize, now: i64, out: &mut Vec<Finding>) {
        let (Some(1), Some(class), Some(len), Some(off), Some(id)) = (
            smb.get(body + 2).copied(),
            smb.get(body + 3).copied(),
            le32(smb, body + 4),
            le16(smb, body + 8),
            file_id(smb, body + 16),
        ) else {
            return;
        };
        let off = usize::from(off);
        let Some(buf) = smb.get(off..off.saturating_add(len as usize)) else {
            return;
        };
        match class {
            // FileRenameInformation: the new name after 20 bytes.
            0x0a => {
                let n = le32(buf, 16).unwrap_or(0) as usize;
                let Some(new) = utf16_at(buf, 20, n) else {
                    return;
                };
                let Some(f) = self.files.get_mut(&id) else {
                    return;
                };
                if f.pipe.is_some() {
                    return;
                }
                f.prev_name = Some(std::mem::replace(&mut f.name, new));
                f.reported = 0;
                self.file_action(id, FileAction::Rename, now, out);
            }
            // FileDispositionInformation: DeletePending.
            0x0d if buf.first().is_some_and(|b| *b != 0) => {
                self.file_action(id, FileAction::Delete, now, out);
            }
            _ => {}
        }
    }

    /// The share path of a tree and whether it holds pipes; for a tree
    /// connected before the capture began, `-` and whether `name` is one of
    /// the well-known RPC pipes.
    fn tree_of(&self, tree: &(u64, u32), name: &str) -> (Text, bool) {
        self.trees
            .get(tree)
            .cloned()
            .unwrap_or_else(|| (Text::from("-"), is_rpc_pipe_name(name)))
    }

    /// A pipe's bytes go to its DCE-RPC association (`len` of them, `data`
    /// when they were kept).
    fn file_bytes(
        &mut self,
        id: [u8; 16],
        from_client: bool,
        len: u64,
        data: Option<&[u8]>,
        tools: &mut Tools<'_>,
        out: &mut Vec<Finding>,
    ) {
        let Some(f) = self.files.get_mut(&id) else {
            return;
        };
        let Some(pipe) = f.pipe.as_mut() else {
            return;
        };
        let Some(framer) = pipe.framers.get_mut(usize::from(!from_client)) else {
            return;
        };
        let chunk = match data {
            Some(d) => Chunk::Data(d),
            None => Chunk::Gap(len),
        };
        let mut pdus: Vec<Vec<u8>> = Vec::new();
        framer.feed(
            chunk,
            &DceRpcFraming,
            tools.limits,
            tools.budget,
            tools.reassembly,
            &mut |m, _| pdus.push(m.to_vec()),
        );
        let mut found = Vec::new();
        for p in &pdus {
            pipe.assoc.pdu(
                from_client,
                p,
                tools.budget,
                &mut tools.counters.dcerpc,
                &mut found,
            );
        }
        for finding in found {
            out.push(Finding::Rpc { pipe: id, finding });
        }
    }

    /// SMB1: session setup (NTLMSSP), tree connect, and named pipes: NT
    /// create, the TRANSACTION named-pipe calls, WRITE_ANDX and READ_ANDX
    /// carrying DCE-RPC, and close.
    fn smb1(
        &mut self,
        from_client: bool,
        smb: &[u8],
        tools: &mut Tools<'_>,
        out: &mut Vec<Finding>,
    ) {
        let (Some(command), Some(status), Some(flags2), Some(tid), Some(pid), Some(uid), Some(mid)) = (
            smb.get(4).copied(),
            le32(smb, 5),
            le16(smb, 10),
            le16(smb, 24),
            le16(smb, 26),
            le16(smb, 28),
            le16(smb, 30),
        ) else {
            tools.counters.malformed += 1;
            return;
        };
        tools.counters.messages += 1;
        let unicode = flags2 & 0x8000 != 0;
        let tree = (SMB1_SESSION | u64::from(uid), u32::from(tid));
        match (command, from_client) {
            // SESSION_SETUP_ANDX: the NTLMSSP token is in the security blob.
            (0x73, true) => {
                if let Some(ntlm::Message::Authenticate(a)) = ntlm::find(smb) {
                    out.push(Finding::Session {
                        mechanism: "NTLM",
                        auth: Some(a),
                        status: u32::MAX,
                    });
                } else if let Some(ap) = ntlm::kerberos_ap_request(smb) {
                    insert_capped(
                        &mut self.smb1_pending,
                        (pid, mid),
                        Smb1Pending::Kerberos(Box::new(ap)),
                        tools.counters,
                    );
                }
            }
            (0x73, false) => {
                if let Some(ntlm::Message::Challenge(c)) = ntlm::find(smb) {
                    out.push(Finding::Challenge(c));
                }
                if let Some(Smb1Pending::Kerberos(mut ap)) = self.smb1_pending.remove(&(pid, mid)) {
                    ap.accepted = (status != MORE_PROCESSING).then_some(status == 0);
                    out.push(Finding::KerberosAp(*ap));
                }
            }
            // TREE_CONNECT_ANDX request: password, then the path.
            (0x75, true) => {
                let pw = usize::from(le16(smb, 39).unwrap_or(0));
                let at = 43usize.saturating_add(pw);
                let p = smb1_string(smb, at, None, unicode);
                insert_capped(
                    &mut self.smb1_pending,
                    (pid, mid),
                    Smb1Pending::TreeConnect(p),
                    tools.counters,
                );
            }
            (0x75, false) => {
                if let Some(Smb1Pending::TreeConnect(path)) = self.smb1_pending.remove(&(pid, mid))
                    && status == 0
                {
                    let pipe = path.to_ascii_uppercase().ends_with("\\IPC$");
                    insert_capped(&mut self.trees, tree, (path.clone(), pipe), tools.counters);
                    out.push(Finding::Mapping {
                        path,
                        share_type: if pipe { "PIPE" } else { "DISK" },
                    });
                }
            }
            // NT_CREATE_ANDX request: the name after the 24 parameter words.
            (0xa2, true) => {
                let len = usize::from(le16(smb, 38).unwrap_or(0));
                let name = smb1_string(smb, 83, Some(len), unicode);
                let name = Text::from(name.trim_start_matches('\\'));
                insert_capped(
                    &mut self.smb1_pending,
                    (pid, mid),
                    Smb1Pending::Create { tree, name },
                    tools.counters,
                );
            }
            (0xa2, false) => {
                let Some(Smb1Pending::Create { tree, name }) =
                    self.smb1_pending.remove(&(pid, mid))
                else {
                    return;
                };
                if status != 0 {
                    return;
                }
                let Some(fid) = le16(smb, 38) else {
                    tools.counters.malformed += 1;
                    return;
                };
                let (path, pipe) = self.tree_of(&tree, &name);
                let times = mac_times(smb, 60, 52, 44, 68);
                let size = le64(smb, 88).unwrap_or(0);
                let file = File::new(path, name, size, times, pipe);
                self.open_file(smb1_fid(fid), file, false, tools, out);
            }
            // CLOSE.
            (0x04, true) => {
                if let Some(fid) = le16(smb, 33)
                    && let Some(f) = self.files.remove(&smb1_fid(fid))
                    && let Some(mut p) = f.pipe
                {
                    p.release(tools.budget);
                }
            }
            // TRANSACTION request: TransactNmPipe (setup 0x26, fid) writes
            // its data to the pipe and reads the answer.
            (0x25, true) => {
                let setup_count = smb.get(59).copied().unwrap_or(0);
                let (Some(0x26), Some(fid), Some(len), Some(off)) = (
                    le16(smb, 61).filter(|_| setup_count >= 2),
                    le16(smb, 63),
                    le16(smb, 55),
                    le16(smb, 57),
                ) else {
                    return;
                };
                let (len, off) = (usize::from(len), usize::from(off));
                let data = smb.get(off..off.saturating_add(len));
                self.file_bytes(smb1_fid(fid), true, len as u64, data, tools, out);
                insert_capped(
                    &mut self.smb1_pending,
                    (pid, mid),
                    Smb1Pending::Pipe(fid),
                    tools.counters,
                );
            }
            // TRANSACTION response: the pipe's answer, maybe in parts.
            (0x25, false) => {
                let Some(&Smb1Pending::Pipe(fid)) = self.smb1_pending.get(&(pid, mid)) else {
                    return;
                };
                let (Some(total), Some(len), Some(off), Some(disp)) =
                    (le16(smb, 35), le16(smb, 45), le16(smb, 47), le16(smb, 49))
                else {
                    self.smb1_pending.remove(&(pid, mid));
                    tools.counters.malformed += 1;
                    return;
                };
                if u32::from(disp) + u32::from(len) >= u32::from(total)
                    || (status != 0 && status != BUFFER_OVERFLOW)
                {
                    self.smb1_pending.remove(&(pid, mid));
                }
                if status == 0 || status == BUFFER_OVERFLOW {
                    let (len, off) = (usize::from(len), usize::from(off));
                    let data = smb.get(off..off.saturating_add(len));
                    self.file_bytes(smb1_fid(fid), false, len as u64, data, tools, out);
                }
            }
            // WRITE_ANDX request.
            (0x2f, true) => {
                let (Some(fid), Some(len), Some(off)) =
                    (le16(smb, 37), le16(smb, 53), le16(smb, 55))
                else {
                    tools.counters.malformed += 1;
                    return;
                };
                let high = le16(smb, 51).unwrap_or(0);
                let len = (usize::from(high) << 16) | usize::from(len);
                let off = usize::from(off);
                let data = smb.get(off..off.saturating_add(len));
                self.file_action(smb1_fid(fid), FileAction::Write, tools.now, out);
                self.file_bytes(smb1_fid(fid), true, len as u64, data, tools, out);
            }
            // READ_ANDX request, then its response's data.
            (0x2e, true) => {
                if let Some(fid) = le16(smb, 37)
                    && self.files.contains_key(&smb1_fid(fid))
                {
                    self.file_action(smb1_fid(fid), FileAction::Read, tools.now, out);
                    insert_capped(
                        &mut self.smb1_pending,
                        (pid, mid),
                        Smb1Pending::Read(fid),
                        tools.counters,
                    );
                }
            }
            (0x2e, false) => {
                let Some(Smb1Pending::Read(fid)) = self.smb1_pending.remove(&(pid, mid)) else {
                    return;
                };
                if status != 0 && status != BUFFER_OVERFLOW {
                    return;
                }
                let (Some(len), Some(off)) = (le16(smb, 43), le16(smb, 45)) else {
                    tools.counters.malformed += 1;
                    return;
                };
                let (len, off) = (usize::from(len), usize::from(off));
                let data = smb.get(off..off.saturating_add(len));
                self.file_bytes(smb1_fid(fid), false, len as u64, data, tools, out);
            }
            _ => {}
        }
    }

    /// The connection ended: what the pipes buffered is given back and the
    /// tables are emptied.
    pub fn finish(&mut self, budget: &mut Budget, _out: &mut Vec<Finding>) {
        for f in std::mem::take(&mut self.files).into_values() {
            if let Some(mut p) = f.pipe {
                p.release(budget);
            }
        }
        self.pending.clear();
        self.smb1_pending.clear();
        self.recent.clear();
    }

    /// Entries held in this connection's tables (for the memory tests).
    pub fn state_len(&self) -> usize {
        self.pending.len()
            + self.sessions.len()
            + self.trees.len()
            + self.files.len()
            + self.smb1_pending.len()
            + self.recent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SMB2 message in its NetBIOS frame: `command`, `mid`, a response
    /// when `status` is some, then `body`.
    fn smb2(command: u16, mid: u64, status: Option<u32>, body: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(&[0xfe, b'S', b'M', b'B']);
        h[4] = 64;
        h[8..12].copy_from_slice(&status.unwrap_or(0).to_le_bytes());
        h[12..14].copy_from_slice(&command.to_le_bytes());
        h[16] = u8::from(status.is_some());
        h[24..32].copy_from_slice(&mid.to_le_bytes());
        h.extend_from_slice(body);
        let len = u32::try_from(h.len()).unwrap_or(0).to_be_bytes();
        let mut m = vec![0, len[1], len[2], len[3]];
        m.extend_from_slice(&h);
        m
    }

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn create_request(name: &str, options: u32) -> Vec<u8> {
        let n = utf16(name);
        let mut b = vec![0u8; 56];
        b[40..44].copy_from_slice(&options.to_le_bytes());
        b[44..46].copy_from_slice(&120u16.to_le_bytes());
        b[46..48].copy_from_slice(&u16::try_from(n.len()).unwrap_or(0).to_le_bytes());
        b.extend_from_slice(&n);
        b
    }

    /// A create response for file id `id`: times 2020-01-01 plus `t` s, `size`.
    fn create_response(id: u8, t: u64, size: u64) -> Vec<u8> {
        let mut b = vec![0u8; 88];
        let ft = 132_223_104_000_000_000 + t * 10_000_000;
        for at in [8, 16, 24, 32] {
            b[at..at + 8].copy_from_slice(&ft.to_le_bytes());
        }
        b[48..56].copy_from_slice(&size.to_le_bytes());
        b[64] = id;
        b
    }

    fn set_info(id: u8, class: u8, buf: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 32];
        b[2] = 1;
        b[3] = class;
        b[4..8].copy_from_slice(&u32::try_from(buf.len()).unwrap_or(0).to_le_bytes());
        b[8..10].copy_from_slice(&96u16.to_le_bytes());
        b[16] = id;
        b.extend_from_slice(buf);
        b
    }

    /// A create of `name` (message and file id `n`) and its answer.
    fn opened(n: u8, name: &str, options: u32, t: u64, size: u64) -> [(bool, Vec<u8>); 2] {
        let mid = u64::from(n);
        [
            (
                true,
                smb2(cmd::CREATE, mid, None, &create_request(name, options)),
            ),
            (
                false,
                smb2(cmd::CREATE, mid, Some(0), &create_response(n, t, size)),
            ),
        ]
    }

    fn run(msgs: &[(bool, Vec<u8>)]) -> Vec<FileRow> {
        let limits = Limits::default();
        let mut budget = Budget::new(limits.global_bytes);
        let mut reassembly = ReassemblyCounters::default();
        let mut counters = SmbCounters::default();
        let mut conn = SmbConnection::default();
        let mut out = Vec::new();
        for (i, (client, m)) in msgs.iter().enumerate() {
            let mut tools = Tools {
                limits: &limits,
                budget: &mut budget,
                reassembly: &mut reassembly,
                counters: &mut counters,
                now: i64::try_from(i).unwrap_or(0) * 1_000_000_000,
            };
            conn.message(*client, m, true, &mut tools, &mut out);
        }
        out.into_iter()
            .filter_map(|f| match f {
                Finding::File(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_rename_and_a_delete_are_rows_with_the_previous_name() {
        let mut rename = vec![0u8; 20];
        let new = utf16("dir\\new.exe");
        rename[16..20].copy_from_slice(&u32::try_from(new.len()).unwrap_or(0).to_le_bytes());
        rename.extend_from_slice(&new);
        let rows = run(&[
            opened(7, "dir\\old.tmp", 0, 5, 4096).to_vec(),
            vec![
                (
                    true,
                    smb2(cmd::SET_INFO, 8, None, &set_info(7, 0x0a, &rename)),
                ),
                (true, smb2(cmd::SET_INFO, 9, None, &set_info(7, 0x0d, &[1]))),
            ],
        ]
        .concat());
        let got: Vec<(FileAction, &str, Option<&str>, u64)> = rows
            .iter()
            .map(|r| (r.action, r.name.as_str(), r.prev_name.as_deref(), r.size))
            .collect();
        assert_eq!(
            got,
            [
                (FileAction::Open, "dir\\old.tmp", None, 4096),
                (
                    FileAction::Rename,
                    "dir\\new.exe",
                    Some("dir\\old.tmp"),
                    4096
                ),
                (
                    FileAction::Delete,
                    "dir\\new.exe",
                    Some("dir\\old.tmp"),
                    4096
                ),
            ]
        );
        let t = rows.first().and_then(|r| r.times).map(|t| t.modified);
        assert_eq!(
            t.map(MacTimes::zeek_time).as_deref(),
            Some("1577836805.000000")
        );
    }

    #[test]
    fn delete_on_close_is_a_delete_and_an_unchanged_reopen_is_not_a_row() {
        let rows = run(&[
            opened(1, "a.dat", 0x1000, 5, 0),
            opened(2, "b.dat", 0, 6, 10),
            // The same file, same times, again: Zeek's recent_files hides it.
            opened(3, "b.dat", 0, 6, 10),
            // Changed since: a row.
            opened(4, "b.dat", 0, 9, 20),
        ]
        .concat());
        let got: Vec<(FileAction, &str, u64)> = rows
            .iter()
            .map(|r| (r.action, r.name.as_str(), r.size))
            .collect();
        assert_eq!(
            got,
            [
                (FileAction::Open, "a.dat", 0),
                (FileAction::Delete, "a.dat", 0),
                (FileAction::Open, "b.dat", 10),
                (FileAction::Open, "b.dat", 20),
            ]
        );
    }
}
