//! Routine traffic of the simulated enterprise, generated per host and per
//! time bucket, with the log records the servers write about it.
//!
//! - Workstations follow a working day: arrive between 07:30 and 09:30
//!   (Kerberos TGT and service tickets from the domain controller, LDAP,
//!   SYSVOL over SMB, the mapped drive on the file server; 4768/4769 and
//!   4624 type 3 in the logs), then web through the proxy (8080, with the
//!   proxy's own HTTPS to the site) or directly on 443, mail, the file
//!   server, the chamber intranet application, deployment-agent polls and
//!   Group Policy refreshes; a quieter lunch hour; leave between 17:00 and
//!   19:30. Most are switched off at night and at weekends; some stay on
//!   and keep polling the antivirus service hourly.
//! - Admin hosts do the same and RDP or SSH to the servers they look after.
//! - Servers refresh Group Policy, the mail server exchanges SMTP, Linux
//!   servers call each other's HTTPS APIs, the backup server touches every
//!   server nightly (SMB or SSH, with logons), the scanner sweeps every
//!   host on 24 ports once a week (open, REJ and S0 answers, credentialed
//!   logons on servers).

use crate::model::event::{NANOS_PER_SEC, Timestamp};
use crate::scenario::Plan;
use crate::scenario::emit::{End, Ex, Out, plus};
use crate::scenario::logs::{self, Auth, Peer};
use crate::scenario::network::{Network, Role};
use crate::synth::bulk::Rng;

const NS: i64 = NANOS_PER_SEC;
const DAY: i64 = 86_400 * NS;

/// Day number (since 1970-01-01) of a time.
pub fn day_of(t: Timestamp) -> i64 {
    t.0.div_euclid(DAY)
}

/// Weekday of a day number: 0 = Monday ... 6 = Sunday.
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The time `secs` after midnight of `day`.
pub fn at_day(day: i64, secs: f64) -> Timestamp {
    Timestamp(day * DAY + (secs * 1e9) as i64)
}

/// Seconds since midnight.
pub fn sod(t: Timestamp) -> f64 {
    t.0.rem_euclid(DAY) as f64 / 1e9
}

/// A user's day at their machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workday {
    /// True on working days the user is in.
    pub works: bool,
    /// Arrival (logon).
    pub arrive: Timestamp,
    /// Departure.
    pub leave: Timestamp,
}

fn unit(rng: &mut Rng) -> f64 {
    rng.below(1 << 30) as f64 / f64::from(1u32 << 30)
}

/// The working day of user host `h` on `day`.
pub fn workday(plan: &Plan, h: usize, day: i64) -> Workday {
    let mut rng = Rng::new(crate::scenario::mix(
        crate::scenario::mix(plan.spec.seed, h as u64),
        day as u64 ^ 0xd47,
    ));
    let arrive = at_day(day, 7.5 * 3600.0 + unit(&mut rng) * 2.0 * 3600.0);
    let leave = at_day(day, 17.0 * 3600.0 + unit(&mut rng) * 2.5 * 3600.0);
    let mut works = weekday(day) < 5 && unit(&mut rng) > 0.04;
    let mut arrive = arrive;
    let late = plan.script.late.iter().find(|l| l.0 == h).map(|l| l.1);
    if plan.net.workstations.last() == Some(&h) || late.is_some() {
        // The new hire or a new machine: nothing before their first day.
        let from = late.unwrap_or(plan.script.new_hire_from);
        if leave <= from {
            works = false;
        } else if arrive < from {
            arrive = from;
        }
    }
    Workday {
        works,
        arrive,
        leave,
    }
}

/// True for machines left on day and night (never the new hire's).
pub fn always_on(plan: &Plan, h: usize) -> bool {
    let mut rng = Rng::new(crate::scenario::mix(plan.spec.seed ^ 0xa1, h as u64));
    plan.net.workstations.last() != Some(&h)
        && !plan.script.late.iter().any(|l| l.0 == h)
        && (unit(&mut rng) < 0.12 || plan.script.always_on.contains(&h))
}

/// Generates host `h`'s own traffic in `[b0, b1)`.
pub fn host_bucket(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let Some(host) = plan.net.hosts.get(h) else {
        return;
    };
    match host.role {
        Role::Workstation | Role::Admin | Role::HelpDesk => user_host(plan, h, b0, b1, out),
        Role::Monitor => monitor(plan, h, b0, b1, out),
        Role::External => {}
        Role::Proxy => {}
        Role::Scanner => scanner(plan, h, b0, b1, out),
        Role::Linux => linux(plan, h, b0, b1, out),
        Role::Backup => {
            member_server(plan, h, b0, b1, out);
            backup(plan, h, b0, b1, out);
        }
        Role::MailServer => {
            member_server(plan, h, b0, b1, out);
            smtp(plan, h, b0, b1, out);
        }
        Role::DomainController => dc(plan, h, b0, b1, out),
        Role::FileServer | Role::ChamberServer | Role::Deploy => {
            member_server(plan, h, b0, b1, out)
        }
    }
}

fn rand_in(out: &mut Out, s: Timestamp, e: Timestamp) -> Timestamp {
    let span = (e.0 - s.0).max(1) as f64;
    Timestamp(s.0 + (out.uniform(0.0, 1.0) * span) as i64)
}

/// How many events of a rate `per_bucket` fall in a slice of `frac` of a bucket.
fn count(out: &mut Out, per_bucket: f64, frac: f64) -> usize {
    let mean = per_bucket * frac;
    let whole = mean.floor();
    whole as usize + usize::from(out.chance(mean - whole))
}

/// LDAP payloads are whole BER elements of the fill byte (`41 41` + 65
/// bytes), so Wireshark's LDAP dissector never sees a cut element.
fn ber(n: usize) -> usize {
    (n / 67).max(1) * 67
}

fn size(out: &mut Out, lo: usize, hi: usize) -> usize {
    lo + out.pick(hi.saturating_sub(lo).max(1))
}

/// Kerberos over TCP to a domain controller, with its 4768/4769 record.
pub fn kerberos(
    plan: &Plan,
    out: &mut Out,
    h: usize,
    user: &str,
    service: &str,
    t: Timestamp,
    tgt: bool,
) -> Timestamp {
    let net = &plan.net;
    let dc = net.dc_for(h);
    let c = out.conv(net.hosts[h].ip, net.hosts[dc].ip, 88, t);
    let req = size(out, 250, 1400);
    let rep = size(out, 1200, 1700);
    let end = out.tcp(&c, &[Ex::c(req), Ex::s(rep)], End::Fin);
    out.logs.push(logs::kerberos(
        plus(t, 0.004),
        dc,
        user,
        service,
        Peer {
            host: &net.hosts[h],
            port: c.cport,
        },
        tgt,
    ));
    end
}

/// Writes a logon (and its 4672 for administrators) on a Windows server.
#[allow(clippy::too_many_arguments)]
fn windows_logon(
    net: &Network,
    out: &mut Out,
    server: usize,
    client: usize,
    cport: u16,
    user: &str,
    lt: u8,
    auth: Auth,
    t: Timestamp,
) {
    if !(net.hosts[server].role.is_server() && net.hosts[server].role.is_windows()) {
        return;
    }
    let peer = Peer {
        host: &net.hosts[client],
        port: cport,
    };
    out.logs.push(logs::logon(t, server, user, lt, peer, auth));
    if user.starts_with("adm-") || user.starts_with("svc-") {
        out.logs.push(logs::privileged(t, server, user));
    }
}

/// An SMB session from `client` to `server` with a logon and share access
/// on the server's log. Returns the last packet's time.
#[allow(clippy::too_many_arguments)]
pub fn smb(
    plan: &Plan,
    out: &mut Out,
    client: usize,
    server: usize,
    user: &str,
    share: &str,
    auth: Auth,
    t: Timestamp,
    exchanges: &[Ex],
    logon: bool,
) -> (u16, Timestamp) {
    let net = &plan.net;
    let c = out.conv(net.hosts[client].ip, net.hosts[server].ip, 445, t);
    let end = out.tcp(&c, exchanges, End::Fin);
    if logon {
        windows_logon(
            net,
            out,
            server,
            client,
            c.cport,
            user,
            3,
            auth,
            plus(t, 0.01),
        );
        if net.hosts[server].role.is_server() && net.hosts[server].role.is_windows() {
            out.logs.push(logs::share(
                plus(t, 0.02),
                server,
                user,
                share,
                None,
                Peer {
                    host: &net.hosts[client],
                    port: c.cport,
                },
            ));
        }
    }
    (c.cport, end)
}

/// An RDP session of about `minutes`, with 4624 type 10 (and 4672, 4634)
/// on a Windows server. Returns (first, last) packet times.
pub fn rdp(
    plan: &Plan,
    out: &mut Out,
    client: usize,
    server: usize,
    user: &str,
    t: Timestamp,
    minutes: f64,
) -> (Timestamp, Timestamp) {
    let net = &plan.net;
    let c = out.conv(net.hosts[client].ip, net.hosts[server].ip, 3389, t);
    let rounds = ((minutes * 60.0 / 45.0) as usize).clamp(2, 120);
    let mut ex = vec![
        Ex::c(size(out, 300, 600)),
        Ex::s(size(out, 800, 1400)),
        Ex::c(size(out, 1500, 3000)),
        Ex::s(size(out, 8000, 20000)),
    ];
    for _ in 0..rounds {
        let pause = out.uniform(20.0, 70.0);
        ex.push(Ex::c(size(out, 100, 1500)).after(pause));
        ex.push(Ex::s(size(out, 800, 6000)));
    }
    let end = out.tcp(&c, &ex, End::Fin);
    windows_logon(
        net,
        out,
        server,
        client,
        c.cport,
        user,
        10,
        Auth::Negotiate,
        plus(t, 0.5),
    );
    if net.hosts[server].role.is_server() && net.hosts[server].role.is_windows() {
        out.logs.push(logs::logoff(end, server, user, 10));
    }
    (t, end)
}

/// An SSH session with its sshd/pam lines on a Linux server.
/// Returns (first, last) packet times.
#[allow(clippy::too_many_arguments)]
pub fn ssh(
    plan: &Plan,
    out: &mut Out,
    client: usize,
    server: usize,
    user: &str,
    method: &str,
    t: Timestamp,
    rounds: usize,
    pause: f64,
    bytes: (usize, usize),
) -> (Timestamp, Timestamp) {
    let net = &plan.net;
    let c = out.conv(net.hosts[client].ip, net.hosts[server].ip, 22, t);
    let end = out.ssh(&c, rounds, bytes.0, bytes.1, pause);
    if !net.hosts[server].role.is_windows() {
        let pid = 1000 + out.pick(30_000) as u32;
        let ip = net.hosts[client].ip;
        let p = c.cport;
        let login = plus(t, 0.05);
        let key = if method == "publickey" {
            ": ED25519 SHA256:Gq3m9yJ0xQp2KfVw8Lr4sT6uZ1aB5cD7eF9gH0iJ2kL"
        } else {
            ""
        };
        out.logs.push(logs::sys(
            login,
            server,
            "sshd",
            pid,
            format!("Accepted {method} for {user} from {ip} port {p} ssh2{key}"),
        ));
        out.logs.push(logs::sys(
            login,
            server,
            "sshd",
            pid,
            format!("pam_unix(sshd:session): session opened for user {user} by (uid=0)"),
        ));
        out.logs.push(logs::sys(
            end,
            server,
            "sshd",
            pid,
            format!("Received disconnect from {ip} port {p}:11: disconnected by user"),
        ));
        out.logs.push(logs::sys(
            end,
            server,
            "sshd",
            pid,
            format!("Disconnected from user {user} {ip} port {p}"),
        ));
        out.logs.push(logs::sys(
            end,
            server,
            "sshd",
            pid,
            format!("pam_unix(sshd:session): session closed for user {user}"),
        ));
    }
    (t, end)
}

fn user_host(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let Some(user) = net.hosts[h].user.clone() else {
        return;
    };
    let day = day_of(b0);
    let wd = workday(plan, h, day);
    let on_all = always_on(plan, h);
    let (on_s, on_e) = if on_all {
        (b0, b1)
    } else if wd.works {
        (
            Timestamp(wd.arrive.0 - 300 * NS).max(b0),
            Timestamp(wd.leave.0 + 600 * NS).min(b1),
        )
    } else {
        (b1, b1)
    };
    if on_s < on_e {
        av_poll(plan, h, on_s, on_e, out);
    }
    if !wd.works {
        return;
    }
    if wd.arrive >= b0 && wd.arrive < b1 {
        morning(plan, h, &user, wd.arrive, out);
    }
    let s = wd.arrive.max(b0);
    let e = wd.leave.min(b1);
    if s >= e {
        return;
    }
    let frac = (e.0 - s.0) as f64 / (600 * NS) as f64;
    let hour = sod(s) / 3600.0;
    let pace = if (12.0..13.0).contains(&hour) {
        0.3
    } else {
        1.0
    };
    routine(plan, h, &user, s, e, frac * pace, out);
    if net.hosts[h].role == Role::Admin {
        admin_sessions(plan, h, &user, wd, b0, b1, out);
    }
    if net.hosts[h].role == Role::HelpDesk {
        help_desk_sessions(plan, h, &user, wd, b0, b1, out);
    }
    if plan.script.contractor == h && out.chance(0.06 * frac) {
        let t = rand_in(out, s, e);
        let lnx = net.linux[0];
        let rounds = 3 + out.pick(10);
        ssh(
            plan,
            out,
            h,
            lnx,
            &user,
            "password",
            t,
            rounds,
            20.0,
            (3000, 12000),
        );
    }
}

/// The antivirus service is polled hourly at a host-specific minute: a
/// benign, perfectly regular beacon every workstation shares.
fn av_poll(plan: &Plan, h: usize, s: Timestamp, e: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let minute = ((h * 37) % 60) as f64;
    let day = day_of(s);
    for hr in 0..24 {
        let t = at_day(
            day,
            hr as f64 * 3600.0 + minute * 60.0 + out.uniform(0.0, 20.0),
        );
        if t >= s && t < e {
            if out.chance(0.25) {
                let dc = net.dc_for(h);
                out.dns(
                    t,
                    net.hosts[h].ip,
                    net.hosts[dc].ip,
                    &net.av.name,
                    net.av.ip,
                );
            }
            let c = out.conv(net.hosts[h].ip, net.av.ip, 443, plus(t, 0.05));
            let up = size(out, 500, 700);
            let down = size(out, 300, 900);
            out.tcp(&c, &[Ex::c(up), Ex::s(down)], End::Fin);
        }
    }
}

fn morning(plan: &Plan, h: usize, user: &str, t: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let dc = net.dc_for(h);
    let fs = net.fs_for(h);
    let me = net.hosts[h].ip;
    let t1 = out.dns(
        t,
        me,
        net.hosts[dc].ip,
        &net.hosts[dc].fqdn(),
        net.hosts[dc].ip,
    );
    // A dual-stack client checks its own AAAA record as it registers in DNS.
    let t1 = match net.hosts[h].v6 {
        Some(v6) => out.dns_aaaa(
            plus(t1, 0.02),
            me,
            net.hosts[dc].ip,
            &net.hosts[h].fqdn(),
            v6,
        ),
        None => t1,
    };
    // Domain members take their time from their domain controller, which
    // takes it from outside.
    let t1 = if plan.spec.shape.ntp_upstream {
        let ntp = ntp_packet();
        out.udp(plus(t1, 0.01), me, net.hosts[dc].ip, 123, &ntp, &ntp)
    } else {
        t1
    };
    let t2 = kerberos(plan, out, h, user, "krbtgt", plus(t1, 0.05), true);
    let t3 = kerberos(
        plan,
        out,
        h,
        user,
        &format!("{}$", net.hosts[h].name.to_ascii_uppercase()),
        plus(t2, 0.05),
        false,
    );
    let t4 = kerberos(
        plan,
        out,
        h,
        user,
        &format!("{}$", net.hosts[dc].name.to_ascii_uppercase()),
        plus(t3, 0.05),
        false,
    );
    let c = out.conv(me, net.hosts[dc].ip, 389, plus(t4, 0.05));
    let q = ber(size(out, 200, 600));
    let a = ber(size(out, 1000, 4000));
    let t5 = out.tcp(&c, &[Ex::c(q), Ex::s(a)], End::Fin);
    let g = size(out, 3000, 9000);
    let (_, t6) = smb(
        plan,
        out,
        h,
        dc,
        user,
        "SYSVOL",
        Auth::Kerberos,
        plus(t5, 0.05),
        &[Ex::c(1200), Ex::s(g)],
        true,
    );
    let t7 = out.dns(
        plus(t6, 0.2),
        me,
        net.hosts[dc].ip,
        &net.hosts[fs].fqdn(),
        net.hosts[fs].ip,
    );
    let t8 = kerberos(
        plan,
        out,
        h,
        user,
        &format!("{}$", net.hosts[fs].name.to_ascii_uppercase()),
        plus(t7, 0.05),
        false,
    );
    let d = size(out, 1500, 5000);
    smb(
        plan,
        out,
        h,
        fs,
        user,
        "Users",
        Auth::Kerberos,
        plus(t8, 0.05),
        &[Ex::c(900), Ex::s(d)],
        true,
    );
}

fn routine(
    plan: &Plan,
    h: usize,
    user: &str,
    s: Timestamp,
    e: Timestamp,
    frac: f64,
    out: &mut Out,
) {
    let net = &plan.net;
    let me = net.hosts[h].ip;
    let dc = net.dc_for(h);
    let dc_ip = net.hosts[dc].ip;
    // Web.
    for _ in 0..count(out, 1.3, frac) {
        let t = rand_in(out, s, e);
        let site = out.pick(net.sites.len()).min(out.pick(net.sites.len()));
        let site = &net.sites[site];
        let req = size(out, 350, 900);
        let resp = size(out, 300, 3500);
        if out.chance(0.85) {
            let port = if h.is_multiple_of(5) { 3128 } else { 8080 };
            let proxy = net.hosts[net.proxy].ip;
            let c = out.conv(me, proxy, port, t);
            let end = if out.chance(0.06) {
                End::ClientReset
            } else {
                End::Fin
            };
            out.tcp(&c, &[Ex::c(req), Ex::s(resp)], end);
            if out.chance(0.3) {
                out.dns(plus(t, 0.002), proxy, dc_ip, &site.name, site.ip);
            }
            let c2 = out.conv(proxy, site.ip, 443, plus(t, 0.004));
            out.tcp(&c2, &[Ex::c(req + 200), Ex::s(resp)], End::Fin);
        } else {
            let t2 = out.dns(t, me, dc_ip, &site.name, site.ip);
            let c = out.conv(me, site.ip, 443, t2);
            out.tcp(&c, &[Ex::c(req + 200), Ex::s(resp)], End::Fin);
        }
    }
    // Mail.
    if out.chance(0.5 * frac) {
        let t = rand_in(out, s, e);
        let c = out.conv(me, net.hosts[net.mail].ip, 443, t);
        let a = size(out, 400, 1500);
        let b = size(out, 300, 3000);
        out.tcp(&c, &[Ex::c(a), Ex::s(b)], End::Fin);
    }
    // File server.
    if out.chance(0.3 * frac) {
        let t = rand_in(out, s, e);
        let fs = net.fs_for(h);
        let a = size(out, 300, 2000);
        let b = size(out, 500, 4000);
        let pause = out.uniform(1.0, 20.0);
        let new_session = out.chance(0.3);
        smb(
            plan,
            out,
            h,
            fs,
            user,
            "Shared",
            Auth::Kerberos,
            t,
            &[Ex::c(a), Ex::s(b), Ex::c(300).after(pause), Ex::s(400)],
            new_session,
        );
    }
    // The chamber's intranet application.
    if out.chance(0.2 * frac) {
        let t = rand_in(out, s, e);
        let c = out.conv(me, net.hosts[net.chamber].ip, 443, t);
        let a = size(out, 400, 1200);
        let b = size(out, 600, 4000);
        out.tcp(&c, &[Ex::c(a), Ex::s(b)], End::Fin);
    }
    // Directory lookups and ticket renewals.
    if out.chance(0.12 * frac) {
        let t = rand_in(out, s, e);
        let c = out.conv(me, dc_ip, 389, t);
        let a = ber(size(out, 200, 500));
        let b = ber(size(out, 500, 3000));
        out.tcp(&c, &[Ex::c(a), Ex::s(b)], End::Fin);
    }
    if out.chance(0.06 * frac) {
        let t = rand_in(out, s, e);
        let fs = net.fs_for(h);
        kerberos(
            plan,
            out,
            h,
            user,
            &format!("{}$", net.hosts[fs].name.to_ascii_uppercase()),
            t,
            false,
        );
    }
    // Group Policy refresh (every 90 minutes or so).
    if out.chance(0.11 * frac) {
        let t = rand_in(out, s, e);
        let g = size(out, 2000, 6000);
        smb(
            plan,
            out,
            h,
            dc,
            user,
            "SYSVOL",
            Auth::Kerberos,
            t,
            &[Ex::c(800), Ex::s(g)],
            false,
        );
    }
    // The deployment agent's hourly poll.
    let minute = ((h * 13) % 60) as f64;
    let day = day_of(s);
    for hr in 7..21 {
        let t = at_day(day, hr as f64 * 3600.0 + minute * 60.0);
        if t >= s && t < e {
            let c = out.conv(me, net.hosts[net.deploy].ip, 80, t);
            let b = size(out, 300, 1500);
            out.tcp(&c, &[Ex::c(320), Ex::s(b)], End::Fin);
        }
    }
}

/// An admin's RDP and SSH sessions to the servers they look after.
fn admin_sessions(
    plan: &Plan,
    h: usize,
    user: &str,
    wd: Workday,
    b0: Timestamp,
    b1: Timestamp,
    out: &mut Out,
) {
    let net = &plan.net;
    let Some(a) = net.admins.iter().position(|&x| x == h) else {
        return;
    };
    let targets = &net.admin_targets[a];
    let mut rng = Rng::new(crate::scenario::mix(
        plan.spec.seed ^ 0xad,
        (h as u64) << 20 | day_of(b0) as u64,
    ));
    let n = 3 + rng.below(4) as usize;
    let span = (wd.leave.0 - wd.arrive.0 - 3600 * NS).max(NS);
    for k in 0..n {
        let t =
            Timestamp(wd.arrive.0 + 1800 * NS + (rng.below(1 << 30) as i64 * (span / (1 << 30))));
        // The chamber server is the first admin's daily stop.
        let mut target = if k == 0 && a == 0 {
            net.chamber
        } else {
            targets[rng.below(targets.len() as u64) as usize]
        };
        // Now and then a server of a kind the admin already looks after,
        // but not that one: the first session there.
        let spread = plan.spec.shape.admin_spread;
        if k == 1 && spread > 0.0 && rng.below(1000) < (spread * 1000.0) as u64 {
            let kind = net.hosts[target].role;
            let same: Vec<usize> = net
                .servers()
                .into_iter()
                .filter(|&s| net.hosts[s].role == kind && !targets.contains(&s))
                .collect();
            if !same.is_empty() {
                target = same[rng.below(same.len() as u64) as usize];
            }
        }
        let minutes = 3.0 + rng.below(25) as f64;
        if t < b0 || t >= b1 {
            continue;
        }
        if net.hosts[target].role.is_windows() {
            rdp(plan, out, h, target, user, t, minutes);
        } else {
            let rounds = (minutes * 2.0) as usize;
            let sess = ssh(
                plan,
                out,
                h,
                target,
                user,
                "password",
                t,
                rounds,
                30.0,
                (4000, 20000),
            );
            if out.chance(0.5) {
                let pid = 2000 + out.pick(30_000) as u32;
                out.logs.push(logs::sys(plus(sess.0, 40.0), target, "sudo", pid, format!("{user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl status nginx")));
            }
        }
    }
}

/// A help-desk machine's working day: C$ on a few users' workstations
/// (pushing a fix or pulling a log), now and then a remote-control RDP
/// session, each time on workstations picked afresh.
fn help_desk_sessions(
    plan: &Plan,
    h: usize,
    user: &str,
    wd: Workday,
    b0: Timestamp,
    b1: Timestamp,
    out: &mut Out,
) {
    let net = &plan.net;
    let mut rng = Rng::new(crate::scenario::mix(
        plan.spec.seed ^ 0x4d,
        (h as u64) << 20 | day_of(b0) as u64,
    ));
    let n = 2 + rng.below(5) as usize;
    let span = (wd.leave.0 - wd.arrive.0 - 3600 * NS).max(NS);
    for _ in 0..n {
        let t =
            Timestamp(wd.arrive.0 + 1800 * NS + (rng.below(1 << 30) as i64 * (span / (1 << 30))));
        let ws = net.workstations[rng.below(net.workstations.len() as u64) as usize];
        let rdp_too = rng.below(4) == 0;
        if t < b0 || t >= b1 {
            continue;
        }
        let data = size(out, 3_000, 400_000);
        let (_, end) = smb(
            plan,
            out,
            h,
            ws,
            user,
            "C$",
            Auth::Ntlm,
            t,
            &[Ex::c(1200), Ex::s(2000), Ex::c(data), Ex::s(600)],
            true,
        );
        if rdp_too {
            let minutes = 5.0 + out.uniform(0.0, 20.0);
            rdp(plan, out, h, ws, user, plus(end, 5.0), minutes);
        }
    }
}

/// The monitoring server: every five minutes it checks each server, over
/// WinRM (or SMB) with its service account on Windows and SSH with a key
/// on Linux, day and night.
fn monitor(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    use crate::scenario::shape::Monitoring;
    let net = &plan.net;
    let proto = plan.spec.shape.monitoring;
    let targets: Vec<usize> = net.servers().into_iter().filter(|&s| s != h).collect();
    let period = 300 * NS;
    for (j, &s) in targets.iter().enumerate() {
        let phase = (j as i64 * 7_919 * NS / 10) % period;
        let mut t = b0.0 - (b0.0 - phase).rem_euclid(period);
        while t < b1.0 {
            if t >= b0.0 {
                let at = plus(Timestamp(t), out.uniform(0.0, 2.0));
                let win = net.hosts[s].role.is_windows();
                match (win, proto) {
                    (true, Monitoring::WinrmSsh) => {
                        let c = out.conv(net.hosts[h].ip, net.hosts[s].ip, 5985, at);
                        let a = size(out, 1500, 3000);
                        let b = size(out, 2000, 8000);
                        out.tcp(&c, &[Ex::c(a), Ex::s(b), Ex::c(600), Ex::s(900)], End::Fin);
                        windows_logon(
                            net,
                            out,
                            s,
                            h,
                            c.cport,
                            "svc-monitor",
                            3,
                            Auth::Kerberos,
                            plus(at, 0.01),
                        );
                    }
                    (true, _) => {
                        smb(
                            plan,
                            out,
                            h,
                            s,
                            "svc-monitor",
                            "ADMIN$",
                            Auth::Ntlm,
                            at,
                            &[Ex::c(900), Ex::s(1400)],
                            true,
                        );
                    }
                    (false, _) => {
                        ssh(
                            plan,
                            out,
                            h,
                            s,
                            "monitor",
                            "publickey",
                            at,
                            1,
                            0.5,
                            (600, 1800),
                        );
                    }
                }
            }
            t += period;
        }
    }
}

/// A 48-byte NTP (version 4, client mode) packet.
fn ntp_packet() -> [u8; 48] {
    let mut p = [0u8; 48];
    p[0] = 0x23;
    p
}

/// Member servers: Group Policy and tickets from the domain controller.
fn member_server(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let account = format!("{}$", net.hosts[h].name.to_ascii_uppercase());
    if out.chance(0.11) {
        let t = rand_in(out, b0, b1);
        let dc = net.dc_for(h);
        let t2 = kerberos(
            plan,
            out,
            h,
            &account,
            &format!("{}$", net.hosts[dc].name.to_ascii_uppercase()),
            t,
            false,
        );
        let g = size(out, 2000, 6000);
        smb(
            plan,
            out,
            h,
            dc,
            &account,
            "SYSVOL",
            Auth::Kerberos,
            plus(t2, 0.05),
            &[Ex::c(800), Ex::s(g)],
            true,
        );
    }
}

fn dc(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let shape = &plan.spec.shape;
    // Forwarding: names no zone here holds go to the outside resolver,
    // every minute or two whatever the hour (more in working hours).
    if shape.dns_forwarding {
        let busy = weekday(day_of(b0)) < 5 && (8.0..19.0).contains(&(sod(b0) / 3600.0));
        let rate = if busy { 9.0 } else { 4.0 };
        for _ in 0..count(out, rate, 1.0) {
            let t = rand_in(out, b0, b1);
            let site = &net.sites[out.pick(net.sites.len())];
            out.dns(t, net.hosts[h].ip, net.resolver.ip, &site.name, site.ip);
        }
    }
    // NTP with the outside server every 1024 s (the w32time default poll).
    if shape.ntp_upstream {
        let phase = (h as i64 * 131) % 1024;
        let mut t = b0.0 - (b0.0 / NS - phase).rem_euclid(1024) * NS;
        while t < b1.0 {
            if t >= b0.0 {
                let ntp = ntp_packet();
                out.udp(Timestamp(t), net.hosts[h].ip, net.ntp.ip, 123, &ntp, &ntp);
            }
            t += 1024 * NS;
        }
    }
    // Replication with the next domain controller every 15 minutes.
    if net.dcs.len() > 1 && out.chance(0.66) {
        let i = net.dcs.iter().position(|&d| d == h).unwrap_or(0);
        let peer = net.dcs[(i + 1) % net.dcs.len()];
        let t = rand_in(out, b0, b1);
        let c = out.conv(net.hosts[h].ip, net.hosts[peer].ip, 135, t);
        let t2 = out.tcp(&c, &[Ex::c(160), Ex::s(140)], End::Fin);
        let c = out.conv(net.hosts[h].ip, net.hosts[peer].ip, 49_668, plus(t2, 0.01));
        let b = size(out, 2000, 20000);
        out.tcp(&c, &[Ex::c(600), Ex::s(b)], End::Fin);
    }
}

fn smtp(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let hour = sod(b0) / 3600.0;
    let busy = weekday(day_of(b0)) < 5 && (8.0..19.0).contains(&hour);
    let rate = if busy { 1.2 } else { 0.2 };
    for _ in 0..count(out, rate, 1.0) {
        let t = rand_in(out, b0, b1);
        let inbound = out.chance(0.6);
        let (cl, sv) = if inbound {
            (net.mx.ip, net.hosts[h].ip)
        } else {
            (net.hosts[h].ip, net.mx.ip)
        };
        let c = out.conv(cl, sv, 25, t);
        let body = size(out, 800, 6000);
        out.tcp(
            &c,
            &[Ex::s(60), Ex::c(40), Ex::s(200), Ex::c(body), Ex::s(60)],
            End::Fin,
        );
    }
}

fn linux(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let i = net.linux.iter().position(|&x| x == h).unwrap_or(0);
    // Application servers (odd positions) call the API of the next server.
    if i % 2 == 0 && i + 1 < net.linux.len() {
        let peer = net.linux[i + 1];
        for _ in 0..count(out, 1.0, 1.0) {
            let t = rand_in(out, b0, b1);
            let c = out.conv(net.hosts[h].ip, net.hosts[peer].ip, 443, t);
            let a = size(out, 300, 1200);
            let b = size(out, 300, 2500);
            out.tcp(&c, &[Ex::c(a), Ex::s(b)], End::Fin);
        }
    }
    if out.chance(0.1) {
        let t = rand_in(out, b0, b1);
        let dc = net.dc_for(h);
        let name = net.hosts[net.linux[(i + 1) % net.linux.len()]].fqdn();
        let ip = net.hosts[net.linux[(i + 1) % net.linux.len()]].ip;
        out.dns(t, net.hosts[h].ip, net.hosts[dc].ip, &name, ip);
    }
}

/// Nightly backups from 01:00: every server in turn, SMB with the backup
/// account for Windows (logon, 4672, C$) and SSH with a key for Linux.
fn backup(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let targets: Vec<usize> = net.servers().into_iter().filter(|&s| s != h).collect();
    let day = day_of(b0);
    let spacing = (3.0 * 3600.0 / targets.len().max(1) as f64).min(300.0);
    let start = f64::from(plan.spec.shape.backup_hour) * 3600.0;
    for (j, &s) in targets.iter().enumerate() {
        let t = at_day(day, start + j as f64 * spacing);
        if t < b0 || t >= b1 {
            continue;
        }
        let data = size(out, 20_000, 90_000);
        if net.hosts[s].role.is_windows() {
            smb(
                plan,
                out,
                h,
                s,
                "svc-backup",
                "C$",
                Auth::Ntlm,
                t,
                &[Ex::c(1500), Ex::s(data), Ex::c(400)],
                true,
            );
        } else {
            ssh(
                plan,
                out,
                h,
                s,
                "backup",
                "publickey",
                t,
                2,
                2.0,
                (2000, data),
            );
        }
    }
}

/// Ports the scanner probes.
pub const SCAN_PORTS: [u16; 24] = [
    21, 22, 23, 25, 53, 80, 88, 110, 135, 139, 143, 389, 443, 445, 636, 1433, 3128, 3306, 3389,
    5432, 5900, 5985, 8080, 8443,
];

fn open_ports(role: Role) -> &'static [u16] {
    match role {
        Role::DomainController => &[53, 88, 135, 139, 389, 445, 636, 3389],
        Role::FileServer | Role::Backup | Role::Deploy => &[80, 135, 139, 445, 3389],
        Role::MailServer => &[25, 135, 443, 445, 3389],
        Role::ChamberServer => &[80, 135, 443, 445, 3389],
        Role::Proxy => &[22, 3128, 8080],
        Role::Linux | Role::Scanner => &[22, 443],
        Role::Admin | Role::HelpDesk => &[135, 445, 3389],
        Role::Workstation => &[135, 445],
        Role::Monitor => &[22, 80, 443],
        Role::External => &[],
    }
}

/// When the weekly sweeps start.
pub fn sweep_times(plan: &Plan) -> Vec<Timestamp> {
    let span = plan.end.0 - plan.start.0;
    if span < DAY {
        return vec![Timestamp(plan.start.0 + span / 7)];
    }
    let first_day = day_of(plan.start) + ((plan.days() * 0.3) as i64);
    let mut v = Vec::new();
    let mut d = first_day;
    while at_day(d, 19.0 * 3600.0) < plan.end {
        v.push(at_day(d, 19.0 * 3600.0));
        d += 7;
    }
    v
}

fn scanner(plan: &Plan, h: usize, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let targets: Vec<usize> = (0..net.hosts.len())
        .filter(|&i| i != h && net.hosts[i].role != Role::External)
        .collect();
    let spacing = (3600.0 / targets.len().max(1) as f64).clamp(0.3, 3.0);
    for sweep in sweep_times(plan) {
        if sweep >= b1 || plus(sweep, spacing * targets.len() as f64 + 5.0) < b0 {
            continue;
        }
        for (i, &tg) in targets.iter().enumerate() {
            let t = plus(sweep, i as f64 * spacing);
            if t < b0 || t >= b1 {
                continue;
            }
            let role = net.hosts[tg].role;
            let open = open_ports(role);
            for (k, &p) in SCAN_PORTS.iter().enumerate() {
                let c = out.conv(
                    net.hosts[h].ip,
                    net.hosts[tg].ip,
                    p,
                    plus(t, k as f64 * 0.01),
                );
                if open.contains(&p) {
                    out.probe_open(&c);
                } else if matches!(role, Role::Workstation | Role::Admin | Role::HelpDesk) {
                    out.unanswered(&c);
                } else {
                    out.rejected(&c);
                }
            }
            // Credentialed checks on servers.
            let t2 = plus(t, 0.5);
            if role.is_server() && role.is_windows() {
                smb(
                    plan,
                    out,
                    h,
                    tg,
                    "svc-scan",
                    "IPC$",
                    Auth::Ntlm,
                    t2,
                    &[Ex::c(1200), Ex::s(3000)],
                    true,
                );
            } else if role.is_server() {
                ssh(
                    plan,
                    out,
                    h,
                    tg,
                    "svc-scan",
                    "password",
                    t2,
                    1,
                    1.0,
                    (1500, 4000),
                );
            }
        }
    }
}
