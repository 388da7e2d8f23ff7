//! Lines in the shape of the LANL 2015 data set's `auth.txt`
//! (`time,src_user@domain,dst_user@domain,src_computer,dst_computer,
//! auth_type,logon_type,orientation,outcome`), for benchmarks.
//!
//! Two shapes:
//!
//! - [`auth_lines`], uniform: users (`U123@DOM1`, 12,000 of them),
//!   machine accounts (`C123$@DOM1`) and computers (`C123`, 17,000) are
//!   drawn uniformly by a small linear congruential generator: almost every
//!   (account, source, destination) triple is new, the hardest case for
//!   profiles and detectors, which is what a throughput bound should be
//!   measured on.
//! - [`auth_lines_realistic`], repetitive as the published data set is
//!   (Kent 2015: about 1.05 billion events over 58 days, 18 M a day, from
//!   about 12,000 users and 17,000 computers, heavy-tailed): most events
//!   are machine accounts asking a handful of domain controllers for
//!   tickets; each user works from a home computer (now and then one of
//!   two others) and reaches a small, heavy-tailed set of servers; a few
//!   administrator and service accounts reach many hosts; the day has
//!   office hours.
//!
//! Same arguments, same bytes.

use std::io::Write;

/// A small linear congruential generator (the high bits are used).
struct Lcg(u64);

impl Lcg {
    /// A number below `m` (0 when `m` is 0).
    fn below(&mut self, m: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33).checked_rem(m).unwrap_or(0)
    }

    /// A number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        self.below(1 << 30) as f64 / (1u64 << 30) as f64
    }
}

const ORIENT: [&str; 7] = ["LogOn", "LogOn", "LogOff", "TGS", "TGS", "TGT", "AuthMap"];
const AUTH: [&str; 4] = ["NTLM", "Kerberos", "Negotiate", "?"];
const LOGON: [&str; 5] = ["Network", "Network", "Interactive", "Service", "?"];

fn pick(list: &[&'static str], i: u64) -> &'static str {
    list.get(i as usize).copied().unwrap_or("?")
}

/// Writes `lines` uniform auth.txt lines to `out`, in time order (about 70
/// bytes each, one to three per second).
pub fn auth_lines(lines: u64, out: &mut dyn Write) -> std::io::Result<()> {
    let mut r = Lcg(7);
    let mut t = 1;
    for _ in 0..lines {
        t += r.below(3) / 2;
        let user = if r.below(10) < 7 {
            format!("U{}@DOM1", r.below(12_000))
        } else {
            format!("C{}$@DOM1", r.below(17_000))
        };
        let (src, dst) = (r.below(17_000), r.below(17_000));
        let auth = pick(&AUTH, r.below(4));
        let logon = pick(&LOGON, r.below(5));
        let orient = pick(&ORIENT, r.below(7));
        let outcome = if r.below(50) == 0 { "Fail" } else { "Success" };
        writeln!(
            out,
            "{t},{user},{user},C{src},C{dst},{auth},{logon},{orient},{outcome}"
        )?;
    }
    Ok(())
}

/// Users in the realistic shape.
const USERS: u64 = 12_000;
/// Computers in the realistic shape.
const COMPUTERS: u64 = 17_000;
/// Domain controllers (`C1` to `C5`).
const DCS: u64 = 5;
/// Servers users reach (`C6` to `C505`).
const SERVERS: u64 = 500;
/// Administrator and service accounts (`U12000` on), each reaching many hosts.
const ADMINS: u64 = 20;

/// A mixed hash of `a` and `b` (splitmix64's finaliser).
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(1);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The relative activity of second `s` of a day: office hours (8 to 18)
/// are busiest, nights quietest.
fn activity(s: u64) -> f64 {
    match (s % 86_400) / 3_600 {
        8..=17 => 1.0,
        6 | 7 | 18 | 19 => 0.5,
        _ => 0.15,
    }
}

/// A computer a non-domain-controller host: `C506` on (workstations).
fn workstation(h: u64) -> u64 {
    1 + DCS + SERVERS + h % (COMPUTERS - DCS - SERVERS)
}

/// Writes `lines` auth.txt lines in the realistic shape (module docs)
/// spread over `days` days (at least one) with office hours, in time order.
pub fn auth_lines_realistic(lines: u64, days: u64, out: &mut dyn Write) -> std::io::Result<()> {
    let seconds = days.max(1) * 86_400;
    let total: f64 = (0..86_400).map(activity).sum::<f64>() * days.max(1) as f64;
    let mut r = Lcg(11);
    let (mut s, mut filled) = (0u64, activity(0));
    for i in 0..lines {
        // The second whose cumulative activity reaches this line's share.
        let want = (i as f64 + 0.5) * total / lines.max(1) as f64;
        while filled < want && s + 1 < seconds {
            s += 1;
            filled += activity(s);
        }
        let t = s + 1;
        let kind = r.below(100);
        let fail = r.below(100) == 0;
        let (user, src, dst, auth, logon, orient) = if kind < 55 {
            // A machine account asking a domain controller for tickets.
            let c = workstation(r.below(COMPUTERS));
            let dc = 1 + mix(c, 0) % DCS;
            let orient = pick(&["TGS", "TGS", "TGT", "LogOn", "LogOff"], r.below(5));
            (format!("C{c}$@DOM1"), c, dc, "Kerberos", "Network", orient)
        } else if kind < 96 {
            // A user: heavy-tailed activity (a few users most of it),
            // from the home computer or now and then one of two others,
            // to the domain controller or one of a few servers.
            let u = (USERS as f64 * r.unit().powi(3)) as u64;
            let src = match r.below(20) {
                0 => workstation(mix(u, 1)),
                1 => workstation(mix(u, 2)),
                _ => workstation(mix(u, 0)),
            };
            let servers = 1 + (8.0 * r.unit().powi(4)) as u64 + mix(u, 3) % 3;
            let dst = match r.below(4) {
                0 => 1 + mix(u, 4) % DCS,
                1 => src,
                _ => 1 + DCS + mix(u, 5 + r.below(servers)) % SERVERS,
            };
            let (auth, logon, orient) = match r.below(6) {
                0 => ("Negotiate", "Interactive", "LogOn"),
                1 => ("NTLM", "Network", "LogOn"),
                2 => ("?", "Network", "LogOff"),
                _ => ("Kerberos", "Network", pick(&["LogOn", "TGS"], r.below(2))),
            };
            (format!("U{u}@DOM1"), src, dst, auth, logon, orient)
        } else {
            // An administrator or service account: from one of its few
            // consoles to any host.
            let a = r.below(ADMINS);
            let src = workstation(mix(a + USERS, r.below(3)));
            let dst = 1 + r.below(COMPUTERS);
            let logon = pick(&["Network", "Service", "Network"], r.below(3));
            (
                format!("U{}@DOM1", USERS + a),
                src,
                dst,
                pick(&["NTLM", "Kerberos"], r.below(2)),
                logon,
                "LogOn",
            )
        };
        let outcome = if fail { "Fail" } else { "Success" };
        writeln!(
            out,
            "{t},{user},{user},C{src},C{dst},{auth},{logon},{orient},{outcome}"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: u64, days: u64) -> String {
        let mut out = Vec::new();
        auth_lines_realistic(lines, days, &mut out).expect("written");
        String::from_utf8(out).expect("text")
    }

    /// Distinct (account, source, destination) triples of auth.txt lines.
    fn triples_of(text: &str) -> usize {
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[1], f[3], f[4])
            })
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    #[test]
    fn realistic_lines_are_in_time_order_over_the_days_and_repeat() {
        let t = text(20_000, 2);
        assert_eq!(t, text(20_000, 2));
        let times: Vec<u64> = t
            .lines()
            .map(|l| {
                l.split(',')
                    .next()
                    .and_then(|x| x.parse().ok())
                    .expect("time")
            })
            .collect();
        assert_eq!(times.len(), 20_000);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(*times.last().expect("last") > 86_400);
        // Far fewer distinct (account, source, destination) triples than
        // the uniform shape on as many lines: the realistic one repeats.
        let mut uniform = Vec::new();
        auth_lines(200_000, &mut uniform).expect("written");
        let uniform = String::from_utf8(uniform).expect("text");
        let (triples, uniform_triples) = (triples_of(&text(200_000, 2)), triples_of(&uniform));
        assert!(triples * 2 < uniform_triples, "{triples} {uniform_triples}");
    }
}
