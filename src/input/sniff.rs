//! Format sniffing: whether an input is a capture (and which kind),
//! decided from its first bytes (after decompression), never from its
//! name; and the signatures of files that are not evidence (baselines,
//! ground truth). Log formats are recognised by their own entries in
//! `source::formats::REGISTRY`.

/// Which capture an input's bytes are, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Classic libpcap capture (any byte order, micro- or nanosecond, or the
    /// "modified" variant).
    Pcap,
    /// pcapng capture.
    PcapNg,
    /// Not a capture (perhaps a log: see `source::formats`).
    Unknown,
}

impl Format {
    /// Short name used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
            Format::Unknown => "unknown",
        }
    }

    /// True for packet captures.
    pub fn is_capture(self) -> bool {
        matches!(self, Format::Pcap | Format::PcapNg)
    }
}

/// Classic pcap magic numbers as they appear in the first four bytes.
const PCAP_MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1], // LE, microseconds
    [0xa1, 0xb2, 0xc3, 0xd4], // BE, microseconds
    [0x4d, 0x3c, 0xb2, 0xa1], // LE, nanoseconds
    [0xa1, 0xb2, 0x3c, 0x4d], // BE, nanoseconds
    [0x34, 0xcd, 0xb2, 0xa1], // LE, "modified" (Alexey Kuznetsov's patched libpcap)
];

/// Decides an input's format from its first bytes.
pub fn sniff(head: &[u8]) -> Format {
    let Some(first4) = head.get(..4) else {
        return Format::Unknown;
    };
    if PCAP_MAGICS.iter().any(|m| m == first4) {
        return Format::Pcap;
    }
    if first4 == [0x0a, 0x0d, 0x0d, 0x0a] {
        return Format::PcapNg;
    }
    Format::Unknown
}

/// A short, printable description of an input's first bytes, for the
/// "not a capture" message: text is quoted, binary shown as hex.
pub fn describe(head: &[u8]) -> String {
    if head.is_empty() {
        return "nothing: the input is empty".to_string();
    }
    if is_baseline(head) {
        return "a lateral baseline file; pass it with --baseline".to_string();
    }
    let n = head.len().min(16);
    let cut = head.get(..n).unwrap_or(&[]);
    let printable = cut
        .iter()
        .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t' || b == b'\n' || b == b'\r');
    if printable {
        let s: String = cut
            .iter()
            .map(|&b| {
                if b == b'\n' || b == b'\r' || b == b'\t' {
                    ' '
                } else {
                    b as char
                }
            })
            .collect();
        format!("text \"{}\"", s.trim_end())
    } else {
        let hex: Vec<String> = cut.iter().map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

/// The first eight bytes of a baseline file (`lateral baseline build`).
/// Defined here, with the other signatures inputs are recognised by; the
/// baseline writer uses it.
pub const BASELINE_MAGIC: [u8; 8] = *b"LATBASE\0";

/// True when the bytes are a baseline file written by `lateral baseline
/// build` (its magic, [`BASELINE_MAGIC`]): not evidence to read, but
/// something to pass with `--baseline`.
pub fn is_baseline(head: &[u8]) -> bool {
    head.starts_with(&BASELINE_MAGIC)
}

/// True when `head` (an input's first bytes) is a scenario's `truth.json`
/// as the generator writes it: a JSON object whose first key is `scenario`
/// and which lists `steps`. Readers skip such files rather than report
/// them as unreadable.
pub fn looks_like_truth(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head.get(..4096).unwrap_or(head));
    let t = text.trim_start();
    t.strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with("\"scenario\""))
        && t.contains("\"steps\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_capture_magics() {
        assert_eq!(sniff(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]), Format::Pcap);
        assert_eq!(sniff(&[0xa1, 0xb2, 0x3c, 0x4d]), Format::Pcap);
        assert_eq!(sniff(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0]), Format::PcapNg);
        assert_eq!(sniff(b"Jan  1 00:00:00 host sshd"), Format::Unknown);
        assert_eq!(sniff(&[0xd4]), Format::Unknown);
    }

    #[test]
    fn describes_text_and_binary() {
        assert_eq!(describe(b"hello world\n"), "text \"hello world\"");
        assert_eq!(describe(&[0, 1, 2]), "bytes 00 01 02");
        assert_eq!(describe(b""), "nothing: the input is empty");
        assert_eq!(
            describe(b"LATBASE\0\x01\x00\x00\x00"),
            "a lateral baseline file; pass it with --baseline"
        );
    }
}
