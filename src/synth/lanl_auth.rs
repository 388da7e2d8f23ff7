//! Lines in the shape of the LANL 2015 data set's `auth.txt`
//! (`time,src_user@domain,dst_user@domain,src_computer,dst_computer,
//! auth_type,logon_type,orientation,outcome`), for benchmarks.
//!
//! Users (`U123@DOM1`, 12,000 of them), machine accounts (`C123$@DOM1`)
//! and computers (`C123`, 17,000) are drawn uniformly by a small linear
//! congruential generator: almost every (account, source, destination)
//! triple is new, the hardest case for profiles and detectors, which is
//! what a throughput bound should be measured on. Same `lines`, same bytes.

use std::io::Write;

/// Writes `lines` auth.txt lines to `out`, in time order (about 70 bytes
/// each, one to three per second).
pub fn auth_lines(lines: u64, out: &mut dyn Write) -> std::io::Result<()> {
    let mut x: u64 = 7;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    const ORIENT: [&str; 7] = ["LogOn", "LogOn", "LogOff", "TGS", "TGS", "TGT", "AuthMap"];
    const AUTH: [&str; 4] = ["NTLM", "Kerberos", "Negotiate", "?"];
    const LOGON: [&str; 5] = ["Network", "Network", "Interactive", "Service", "?"];
    let pick = |list: &[&'static str], i: u64| list.get(i as usize).copied().unwrap_or("?");
    let mut t = 1;
    for _ in 0..lines {
        t += next(3) / 2;
        let user = if next(10) < 7 {
            format!("U{}@DOM1", next(12_000))
        } else {
            format!("C{}$@DOM1", next(17_000))
        };
        let (src, dst) = (next(17_000), next(17_000));
        let auth = pick(&AUTH, next(4));
        let logon = pick(&LOGON, next(5));
        let orient = pick(&ORIENT, next(7));
        let outcome = if next(50) == 0 { "Fail" } else { "Success" };
        writeln!(
            out,
            "{t},{user},{user},C{src},C{dst},{auth},{logon},{orient},{outcome}"
        )?;
    }
    Ok(())
}
