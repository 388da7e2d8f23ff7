//! DCE-RPC connection-oriented PDUs in, calls out: the DCE-RPC analyzer,
//! fed whole PDUs by the TCP stream framer (port 135, the dynamic ports
//! that start with a bind) or by the SMB analyzer (named pipes).
//!
//! One [`Association`] per TCP connection or per opened pipe remembers
//! which interface each presentation context was bound to (bind and
//! alter-context), so a request's context id and opnum give the interface
//! and operation names of [`super::names`]. The request header is clear
//! even when the stub is sealed (authentication level packet privacy):
//! the call is recorded either way, with the level. A request split into
//! fragments is one call, recorded at its first fragment (which holds the
//! header); later fragments are counted, not re-recorded. When the
//! analyzer reads the stub (svcctl's service creations), the fragments'
//! stubs are joined, up to [`MAX_JOINED_STUB`] bytes taken from the
//! capture's memory budget, and what the whole stub names is given as a
//! [`Finding::CallStub`] at the last fragment.
//! NTLM tokens in the auth verifiers of bind, alter-context and AUTH3
//! are handed to [`super::ntlm`].

use crate::analyzer::names::{interface_name, operation_name};
use crate::analyzer::ntlm;
use crate::analyzer::reassembly::{Budget, Framing};
use crate::model::event::Text;
use std::collections::BTreeMap;

/// Packet types (`PTYPE`) this analyzer reads.
pub mod ptype {
    /// A call's request.
    pub const REQUEST: u8 = 0;
    /// A call's response.
    pub const RESPONSE: u8 = 2;
    /// A call failed.
    pub const FAULT: u8 = 3;
    /// Bind presentation contexts.
    pub const BIND: u8 = 11;
    /// Bind accepted.
    pub const BIND_ACK: u8 = 12;
    /// Bind refused.
    pub const BIND_NAK: u8 = 13;
    /// Add presentation contexts to an association.
    pub const ALTER_CONTEXT: u8 = 14;
    /// Alter-context answered.
    pub const ALTER_CONTEXT_RESP: u8 = 15;
    /// Third leg of a three-leg authentication.
    pub const AUTH3: u8 = 16;
}

/// First fragment of a PDU.
const PFC_FIRST_FRAG: u8 = 0x01;
/// PFC_LAST_FRAG: the last fragment of a PDU.
const PFC_LAST_FRAG: u8 = 0x02;
/// An object UUID follows the request header.
const PFC_OBJECT_UUID: u8 = 0x80;

/// Most presentation contexts remembered per association.
const MAX_CONTEXTS: usize = 256;

/// Longest PDU accepted (the fragment length is 16 bits).
const MAX_PDU: usize = 65_535;

/// Most stub bytes joined from a fragmented request the analyzer reads
/// (service name and binary path of a service creation fit many times).
pub const MAX_JOINED_STUB: usize = 64 << 10;

/// DCE-RPC framing: the fragment length at offset 8 in the header's byte order.
#[derive(Debug, Clone, Copy, Default)]
pub struct DceRpcFraming;

impl Framing for DceRpcFraming {
    fn message_len(&self, head: &[u8]) -> Option<Result<usize, ()>> {
        let h = head.get(..10)?;
        if !looks_like_header(h) {
            return Some(Err(()));
        }
        let len = usize::from(frag_len(h)?);
        if !(16..=MAX_PDU).contains(&len) {
            return Some(Err(()));
        }
        Some(Ok(len))
    }
}

/// True when `h` (10 bytes or more) starts like a connection-oriented PDU.
fn looks_like_header(h: &[u8]) -> bool {
    matches!(h.first(), Some(5))
        && matches!(h.get(1), Some(0 | 1))
        && h.get(2).is_some_and(|t| *t <= 20)
        && h.get(4).is_some_and(|d| d & 0xef == 0)
}

/// True when a TCP payload starts with a DCE-RPC bind: how a connection to
/// a port the endpoint mapper handed out is recognised.
pub fn starts_with_bind(payload: &[u8]) -> bool {
    payload.len() >= 16
        && looks_like_header(payload)
        && payload.get(2) == Some(&ptype::BIND)
        && frag_len(payload).is_some_and(|l| l >= 16)
}

fn little_endian(pdu: &[u8]) -> bool {
    pdu.get(4).is_none_or(|d| d & 0x10 != 0)
}

fn u16_at(pdu: &[u8], at: usize, le: bool) -> Option<u16> {
    let b: [u8; 2] = pdu.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if le {
        u16::from_le_bytes(b)
    } else {
        u16::from_be_bytes(b)
    })
}

fn u32_at(pdu: &[u8], at: usize, le: bool) -> Option<u32> {
    let b: [u8; 4] = pdu.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

fn frag_len(pdu: &[u8]) -> Option<u16> {
    u16_at(pdu, 8, little_endian(pdu))
}

/// A UUID as text from its wire form (first three fields in `le` order).
pub fn uuid_text(b: &[u8], le: bool) -> Option<String> {
    let d1 = u32_at(b, 0, le)?;
    let d2 = u16_at(b, 4, le)?;
    let d3 = u16_at(b, 6, le)?;
    let rest = b.get(8..16)?;
    let mut s = format!("{d1:08x}-{d2:04x}-{d3:04x}-");
    for (i, x) in rest.iter().enumerate() {
        if i == 2 {
            s.push('-');
        }
        s.push_str(&format!("{x:02x}"));
    }
    Some(s)
}

/// One call seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Interface name (or UUID text when unknown; `unknown` when the
    /// context was bound before the capture began).
    pub endpoint: Text,
    /// Operation name (`opnum_N` when unknown).
    pub operation: Text,
    /// The operation number.
    pub opnum: u16,
    /// Authentication level of the association (6 = packet privacy: stub sealed).
    pub auth_level: u8,
    /// The service a `CreateService*` call names, when its stub is clear.
    pub service: Option<String>,
    /// The binary path a `CreateService*` call names, when its stub is clear.
    pub binary: Option<String>,
    /// The request's call id (its response carries the same).
    pub call_id: u32,
    /// The secondary address of the association's bind ack (`\\PIPE\\lsass`
    /// over a pipe, the port over TCP): Zeek's `named_pipe`.
    pub named_pipe: Option<Text>,
}

/// What one PDU yielded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A request.
    Call(Call),
    /// The last fragment of a response to the request of this call id.
    Response(u32),
    /// The last fragment of a request sent in several fragments (its first
    /// gave the [`Finding::Call`]): Zeek's round-trip time starts here.
    RequestEnd(u32),
    /// What the joined stub of a fragmented request names: the service and
    /// binary of the call of this id, which its first fragment alone could
    /// not give.
    CallStub {
        /// The call id.
        call_id: u32,
        /// The service name.
        service: Option<String>,
        /// The binary path.
        binary: Option<String>,
    },
    /// An NTLM message from an auth verifier.
    Ntlm(ntlm::Message),
    /// Kerberos was used to authenticate the association (auth type 16, or
    /// SPNEGO carrying Kerberos): no account is visible.
    Kerberos,
}

/// Counts of what the analyzer passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DceRpcCounters {
    /// PDUs read.
    pub pdus: u64,
    /// Later fragments of requests already recorded.
    pub later_fragments: u64,
    /// Requests on a context never bound in the capture.
    pub unbound_requests: u64,
    /// PDUs too short or inconsistent to read.
    pub malformed: u64,
    /// Fragmented requests whose stubs were joined and read.
    pub joined_requests: u64,
    /// Fragmented requests given up before their last fragment: the
    /// joined stub would pass [`MAX_JOINED_STUB`] or the memory budget,
    /// a fragment was missing, or another call's fragments came between.
    pub unjoined_requests: u64,
}

impl DceRpcCounters {
    /// Adds another run's counts.
    pub fn add(&mut self, o: &DceRpcCounters) {
        self.pdus += o.pdus;
        self.later_fragments += o.later_fragments;
        self.unbound_requests += o.unbound_requests;
        self.malformed += o.malformed;
        self.joined_requests += o.joined_requests;
        self.unjoined_requests += o.unjoined_requests;
    }
}

/// A fragmented request being joined: the call, how its stub is read, and
/// the stub so far (its bytes are held in the capture's budget).
#[derive(Debug)]
struct PartialStub {
    call_id: u32,
    /// `CreateServiceW` (wide strings) rather than `CreateServiceA`.
    wide: bool,
    stub: Vec<u8>,
}

/// One association: a TCP connection or an opened named pipe.
#[derive(Debug, Default)]
pub struct Association {
    contexts: BTreeMap<u16, Text>,
    /// The last bind ack's non-empty secondary address.
    sec_addr: Option<Text>,
    auth_level: u8,
    kerberos_noted: bool,
    partial: Option<PartialStub>,
}

impl Association {
    /// Gives back the bytes a request being joined holds (the association
    /// ends, or another call's fragments came first).
    pub fn release(&mut self, budget: &mut Budget) {
        if let Some(p) = self.partial.take() {
            budget.give(p.stub.len());
        }
    }

    /// Reads one whole PDU sent by the client (`from_client`) or the
    /// server; `budget` holds the stub of a fragmented request being joined.
    pub fn pdu(
        &mut self,
        from_client: bool,
        pdu: &[u8],
        budget: &mut Budget,
        counters: &mut DceRpcCounters,
        out: &mut Vec<Finding>,
    ) {
        let Some(h) = pdu.get(..16) else {
            counters.malformed += 1;
            return;
        };
        if !looks_like_header(h) {
            counters.malformed += 1;
            return;
        }
        counters.pdus += 1;
        let le = little_endian(h);
        let ty = h.get(2).copied().unwrap_or(0xff);
        let flags = h.get(3).copied().unwrap_or(0);
        let flen = usize::from(u16_at(h, 8, le).unwrap_or(0)).min(pdu.len());
        let auth_len = usize::from(u16_at(h, 10, le).unwrap_or(0));
        let pdu = pdu.get(..flen).unwrap_or(pdu);
        // The auth verifier: an 8-byte trailer, then the token, at the end.
        let trailer_at = (auth_len > 0)
            .then(|| flen.checked_sub(auth_len)?.checked_sub(8))
            .flatten();
        let (auth_type, auth_level, token) = match trailer_at {
            Some(t) => (
                pdu.get(t).copied().unwrap_or(0),
                pdu.get(t + 1).copied().unwrap_or(0),
                pdu.get(t + 8..).unwrap_or(&[]),
            ),
            None => (0, 0, &[][..]),
        };
        match ty {
            ptype::BIND | ptype::ALTER_CONTEXT if from_client => {
                self.bind(pdu, le);
                self.auth(auth_type, auth_level, token, out);
            }
            ptype::AUTH3 if from_client => self.auth(auth_type, auth_level, token, out),
            ptype::RESPONSE if !from_client && flags & PFC_LAST_FRAG != 0 => {
                if let Some(id) = u32_at(pdu, 12, le) {
                    out.push(Finding::Response(id));
                }
            }
            ptype::BIND_ACK | ptype::ALTER_CONTEXT_RESP if !from_client => {
                if ty == ptype::BIND_ACK {
                    self.bind_ack(pdu, le);
                }
                if let Some(ntlm::Message::Challenge(c)) = ntlm::find(token) {
                    out.push(Finding::Ntlm(ntlm::Message::Challenge(c)));
                }
            }
            ptype::REQUEST if from_client => {
                let stub_at = if flags & PFC_OBJECT_UUID != 0 { 40 } else { 24 };
                let stub_end = trailer_at
                    .map(|t| t.saturating_sub(usize::from(pdu.get(t + 2).copied().unwrap_or(0))))
                    .unwrap_or(flen);
                let stub = pdu.get(stub_at..stub_end.max(stub_at)).unwrap_or(&[]);
                let call_id = u32_at(pdu, 12, le).unwrap_or(0);
                if flags & PFC_FIRST_FRAG == 0 {
                    counters.later_fragments += 1;
                    self.join(
                        call_id,
                        flags & PFC_LAST_FRAG != 0,
                        stub,
                        le,
                        budget,
                        counters,
                        out,
                    );
                    if flags & PFC_LAST_FRAG != 0 {
                        out.push(Finding::RequestEnd(call_id));
                    }
                    return;
                }
                if self.partial.is_some() {
                    // A new call before the last one's last fragment.
                    counters.unjoined_requests += 1;
                    self.release(budget);
                }
                let (Some(ctx), Some(opnum)) = (u16_at(pdu, 20, le), u16_at(pdu, 22, le)) else {
                    counters.malformed += 1;
                    return;
                };
                if auth_len > 0 {
                    self.auth_level = self.auth_level.max(auth_level);
                }
                let endpoint = match self.contexts.get(&ctx) {
                    Some(e) => e.clone(),
                    None => {
                        counters.unbound_requests += 1;
                        Text::from("unknown")
                    }
                };
                let operation = operation_name(&endpoint, opnum)
                    .map(Text::from)
                    .unwrap_or_else(|| Text::from(format!("opnum_{opnum}")));
                let sealed = auth_len > 0 && self.auth_level >= 6;
                let wide = match opnum {
                    12 | 45 => Some(true),
                    24 | 44 => Some(false),
                    _ => None,
                }
                .filter(|_| endpoint == "svcctl" && !sealed);
                let (service, binary) = match wide {
                    Some(wide) if flags & PFC_LAST_FRAG != 0 => create_service(stub, le, wide),
                    Some(wide) => {
                        // The first of several fragments: joined until the last.
                        if stub.len() <= MAX_JOINED_STUB && budget.take(stub.len()) {
                            self.partial = Some(PartialStub {
                                call_id,
                                wide,
                                stub: stub.to_vec(),
                            });
                        } else {
                            counters.unjoined_requests += 1;
                        }
                        (None, None)
                    }
                    None => (None, None),
                };
                out.push(Finding::Call(Call {
                    endpoint,
                    operation,
                    opnum,
                    auth_level: if auth_len > 0 { auth_level } else { 0 },
                    service,
                    binary,
                    call_id,
                    named_pipe: self.sec_addr.clone(),
                }));
            }
            _ => {}
        }
    }

    /// Adds a later fragment's stub to the request being joined, when it is
    /// that call's; at the last fragment, reads the whole stub.
    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        call_id: u32,
        last: bool,
        stub: &[u8],
        le: bool,
        budget: &mut Budget,
        counters: &mut DceRpcCounters,
        out: &mut Vec<Finding>,
    ) {
        let Some(p) = self.partial.as_mut().filter(|p| p.call_id == call_id) else {
            return;
        };
        if p.stub.len() + stub.len() > MAX_JOINED_STUB || !budget.take(stub.len()) {
            counters.unjoined_requests += 1;
            self.release(budget);
            return;
        }
        p.stub.extend_from_slice(stub);
        if last {
            let (service, binary) = create_service(&p.stub, le, p.wide);
            counters.joined_requests += 1;
            self.release(budget);
            if service.is_some() || binary.is_some() {
                out.push(Finding::CallStub {
                    call_id,
                    service,
                    binary,
                });
            }
        }
    }

    /// Remembers a bind ack's secondary address (its trailing NUL left
    /// out), when it has one.
    fn bind_ack(&mut self, pdu: &[u8], le: bool) {
        let Some(n) = u16_at(pdu, 24, le) else {
            return;
        };
        let Some(a) = pdu.get(26..26 + usize::from(n)) else {
            return;
        };
        let a = a.strip_suffix(&[0]).unwrap_or(a);
        if !a.is_empty() {
            let s = String::from_utf8_lossy(a);
            self.sec_addr = Some(crate::model::event::capped_text(&s, 256));
        }
    }

    /// Remembers the interfaces a bind or alter-context offers.
    fn bind(&mut self, pdu: &[u8], le: bool) {
        let n = usize::from(pdu.get(24).copied().unwrap_or(0));
        let mut at = 28usize;
        for _ in 0..n {
            let (Some(ctx), Some(n_syn)) = (u16_at(pdu, at, le), pdu.get(at + 2)) else {
                return;
            };
            let Some(uuid) = pdu.get(at + 4..at + 20).and_then(|u| uuid_text(u, le)) else {
                return;
            };
            let name = interface_name(&uuid).map_or_else(|| Text::from(uuid.as_str()), Text::from);
            if self.contexts.len() < MAX_CONTEXTS || self.contexts.contains_key(&ctx) {
                self.contexts.insert(ctx, name);
            }
            at = at + 24 + 20 * usize::from(*n_syn);
        }
    }

    fn auth(&mut self, auth_type: u8, level: u8, token: &[u8], out: &mut Vec<Finding>) {
        if token.is_empty() {
            return;
        }
        self.auth_level = self.auth_level.max(level);
        match auth_type {
            // NTLMSSP (10) or SPNEGO (9) carrying it.
            9 | 10 => match ntlm::mechanism(token) {
                Some("NTLM") => {
                    if let Some(m @ ntlm::Message::Authenticate(_)) = ntlm::find(token) {
                        out.push(Finding::Ntlm(m));
                    }
                }
                Some(_) => self.note_kerberos(out),
                None => {}
            },
            16 => self.note_kerberos(out),
            _ => {}
        }
    }

    fn note_kerberos(&mut self, out: &mut Vec<Finding>) {
        if !self.kerberos_noted {
            self.kerberos_noted = true;
            out.push(Finding::Kerberos);
        }
    }
}

/// NDR: a conformant varying string at `at` (4-aligned), of 2-byte
/// (`wide`) or 1-byte characters; the text and the offset after it.
fn ndr_string(stub: &[u8], at: usize, le: bool, wide: bool) -> Option<(String, usize)> {
    let at = at.checked_add(3)? & !3;
    let actual = u32_at(stub, at + 8, le)? as usize;
    let width = if wide { 2 } else { 1 };
    let bytes = stub.get(at + 12..at + 12 + actual.checked_mul(width)?)?;
    let text = if wide {
        ntlm::text(bytes, true)
    } else {
        ntlm::text(bytes, false)
    };
    Some((
        text.trim_end_matches('\0').to_string(),
        at + 12 + bytes.len(),
    ))
}

/// The service name and binary path of an `RCreateServiceW`/`A` stub.
fn create_service(stub: &[u8], le: bool, wide: bool) -> (Option<String>, Option<String>) {
    // hSCManager (20 bytes), lpServiceName (string), lpDisplayName (unique
    // pointer to a string), dwDesiredAccess, dwServiceType, dwStartType,
    // dwErrorControl, lpBinaryPathName (string).
    let Some((service, mut at)) = ndr_string(stub, 20, le, wide) else {
        return (None, None);
    };
    let binary = (|| {
        at = (at + 3) & !3;
        let referent = u32_at(stub, at, le)?;
        at += 4;
        if referent != 0 {
            at = ndr_string(stub, at, le, wide)?.1;
        }
        at = ((at + 3) & !3) + 16;
        ndr_string(stub, at, le, wide).map(|(s, _)| s)
    })();
    (Some(service).filter(|s| !s.is_empty()), binary)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little-endian PDU of type `ty` with `body` after the 16-byte header.
    pub(crate) fn pdu(ty: u8, flags: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![5, 0, ty, flags, 0x10, 0, 0, 0];
        p.extend_from_slice(&((16 + body.len()) as u16).to_le_bytes());
        p.extend_from_slice(&0u16.to_le_bytes());
        p.extend_from_slice(&2u32.to_le_bytes());
        p.extend_from_slice(body);
        p
    }

    /// A bind offering `uuid` (wire bytes) as context `ctx`.
    pub(crate) fn bind(ctx: u16, uuid: [u8; 16]) -> Vec<u8> {
        let mut b = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0];
        b.extend_from_slice(&ctx.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&uuid);
        b.extend_from_slice(&[2, 0, 0, 0]);
        b.extend_from_slice(&[0u8; 20]);
        pdu(ptype::BIND, 3, &b)
    }

    /// svcctl's UUID on the wire.
    pub(crate) const SVCCTL_WIRE: [u8; 16] = [
        0x81, 0xbb, 0x7a, 0x36, 0x44, 0x98, 0xf1, 0x35, 0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10,
        0x03,
    ];

    fn wstr(s: &str) -> Vec<u8> {
        let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
        let mut b = Vec::new();
        for n in [units.len() as u32, 0, units.len() as u32] {
            b.extend_from_slice(&n.to_le_bytes());
        }
        for u in units {
            b.extend_from_slice(&u.to_le_bytes());
        }
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    /// An RCreateServiceW request on context `ctx`.
    pub(crate) fn create_service_w(ctx: u16, name: &str, path: &str) -> Vec<u8> {
        let mut stub = vec![0u8; 20];
        stub.extend_from_slice(&wstr(name));
        stub.extend_from_slice(&0u32.to_le_bytes());
        stub.extend_from_slice(&[0u8; 16]);
        stub.extend_from_slice(&wstr(path));
        let mut b = Vec::new();
        b.extend_from_slice(&(stub.len() as u32).to_le_bytes());
        b.extend_from_slice(&ctx.to_le_bytes());
        b.extend_from_slice(&12u16.to_le_bytes());
        b.extend_from_slice(&stub);
        pdu(ptype::REQUEST, 3, &b)
    }

    #[test]
    fn bind_then_request_names_interface_operation_and_service() {
        let mut a = Association::default();
        let mut c = DceRpcCounters::default();
        let mut budget = Budget::new(1 << 20);
        let mut out = Vec::new();
        a.pdu(true, &bind(1, SVCCTL_WIRE), &mut budget, &mut c, &mut out);
        a.pdu(
            true,
            &create_service_w(1, "Cyb3rWard0g", "C:\\x.exe"),
            &mut budget,
            &mut c,
            &mut out,
        );
        let Some(Finding::Call(call)) = out.first() else {
            panic!("no call: {out:?}");
        };
        assert_eq!(call.endpoint, "svcctl");
        assert_eq!(call.operation, "CreateServiceW");
        assert_eq!(call.service.as_deref(), Some("Cyb3rWard0g"));
        assert_eq!(call.binary.as_deref(), Some("C:\\x.exe"));
        // A later fragment of a call is not a new call.
        let mut later = create_service_w(1, "x", "y");
        later[3] = 2;
        a.pdu(true, &later, &mut budget, &mut c, &mut out);
        let calls = out.iter().filter(|f| matches!(f, Finding::Call(_))).count();
        assert_eq!(calls, 1, "{out:?}");
        assert_eq!(c.later_fragments, 1);
    }

    #[test]
    fn every_cut_of_a_request_is_survived() {
        let mut a = Association::default();
        let mut c = DceRpcCounters::default();
        let mut budget = Budget::new(1 << 20);
        let mut out = Vec::new();
        let b = bind(1, SVCCTL_WIRE);
        let r = create_service_w(1, "svc", "C:\\p.exe");
        for cut in 0..r.len() {
            a.pdu(
                true,
                b.get(..cut.min(b.len())).unwrap_or(&[]),
                &mut budget,
                &mut c,
                &mut out,
            );
            a.pdu(
                true,
                r.get(..cut).unwrap_or(&[]),
                &mut budget,
                &mut c,
                &mut out,
            );
        }
        assert!(DceRpcFraming.message_len(&r) == Some(Ok(r.len())));
        assert!(starts_with_bind(&b) && !starts_with_bind(&r));
    }

    /// `request` (one whole PDU) cut into fragments of `size` stub bytes,
    /// each with its own header and the first/last flags.
    fn fragments(request: &[u8], size: usize) -> Vec<Vec<u8>> {
        let (head, stub) = request.split_at(24);
        let pieces: Vec<&[u8]> = stub.chunks(size).collect();
        let n = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, piece)| {
                let mut f = head.to_vec();
                f[3] = u8::from(i == 0) | if i + 1 == n { 2 } else { 0 };
                f.extend_from_slice(piece);
                let len = f.len() as u16;
                f[8..10].copy_from_slice(&len.to_le_bytes());
                f
            })
            .collect()
    }

    #[test]
    fn a_service_creation_in_tiny_fragments_is_joined_and_read() {
        let mut a = Association::default();
        let mut c = DceRpcCounters::default();
        let mut budget = Budget::new(1 << 20);
        let mut out = Vec::new();
        a.pdu(true, &bind(1, SVCCTL_WIRE), &mut budget, &mut c, &mut out);
        let path = "C:\\Windows\\Temp\\evil.exe -k now";
        let whole = create_service_w(1, "Updater", path);
        let frags = fragments(&whole, 5);
        assert!(frags.len() > 20);
        for f in &frags {
            a.pdu(true, f, &mut budget, &mut c, &mut out);
        }
        let calls: Vec<&Call> = out
            .iter()
            .filter_map(|f| match f {
                Finding::Call(call) => Some(call),
                _ => None,
            })
            .collect();
        assert_eq!(calls.len(), 1, "{out:?}");
        // The first fragment alone names neither.
        assert_eq!(calls[0].service, None);
        assert!(out.contains(&Finding::CallStub {
            call_id: 2,
            service: Some("Updater".into()),
            binary: Some(path.into()),
        }));
        assert!(out.contains(&Finding::RequestEnd(2)));
        assert_eq!((c.joined_requests, c.unjoined_requests), (1, 0));
        assert_eq!(budget.used, 0);
    }

    #[test]
    fn a_stub_past_the_cap_or_the_budget_is_given_up_and_given_back() {
        for (budget_cap, path_len) in [(1 << 20, MAX_JOINED_STUB), (300, 400)] {
            let mut a = Association::default();
            let mut c = DceRpcCounters::default();
            let mut budget = Budget::new(budget_cap);
            let mut out = Vec::new();
            a.pdu(true, &bind(1, SVCCTL_WIRE), &mut budget, &mut c, &mut out);
            let whole = create_service_w(1, "s", &"p".repeat(path_len));
            for f in fragments(&whole, 200) {
                a.pdu(true, &f, &mut budget, &mut c, &mut out);
            }
            assert!(!out.iter().any(|f| matches!(f, Finding::CallStub { .. })));
            assert_eq!((c.joined_requests, c.unjoined_requests), (0, 1));
            assert_eq!(budget.used, 0);
        }
    }

    #[test]
    fn another_calls_first_fragment_ends_the_join_and_release_gives_back() {
        let mut a = Association::default();
        let mut c = DceRpcCounters::default();
        let mut budget = Budget::new(1 << 20);
        let mut out = Vec::new();
        a.pdu(true, &bind(1, SVCCTL_WIRE), &mut budget, &mut c, &mut out);
        let frags = fragments(&create_service_w(1, "one", "C:\\a.exe"), 8);
        a.pdu(true, &frags[0], &mut budget, &mut c, &mut out);
        assert!(budget.used > 0);
        a.pdu(true, &frags[0], &mut budget, &mut c, &mut out);
        assert_eq!(c.unjoined_requests, 1);
        a.release(&mut budget);
        assert_eq!(budget.used, 0);
    }
}
