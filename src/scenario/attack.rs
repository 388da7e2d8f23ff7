//! The attack scenarios and the benign novelties: planned once (hosts,
//! accounts, times, ATT&CK techniques, the truth steps), then rendered as
//! packets and log records in the buckets where they happen.
//!
//! Every attack begins after the first 60% of the span, so the first part
//! is a clean baseline and the attacker's edges are new. The benign
//! novelties (a new hire's workstation, an admin's first RDP to a server, a
//! one-off help-desk session, a software roll-out) also fall in the
//! detection part: they are what trips a naive detector.

use crate::model::event::{NANOS_PER_SEC, Timestamp};
use crate::scenario::Plan;
use crate::scenario::Scenario;
use crate::scenario::benign::{self, at_day, day_of, weekday};
use crate::scenario::emit::{End, Ex, Out, plus};
use crate::scenario::logs::{self, Auth, Peer};
use crate::scenario::network::{Network, Role};
use crate::scenario::truth::{Step, StepKind};
use crate::synth::bulk::Rng;

const NS: i64 = NANOS_PER_SEC;

/// One scripted action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    /// PsExec: SMB logon, ADMIN$ write, service creation (lateral, execution steps).
    PsExec {
        /// Source host.
        src: usize,
        /// Target host.
        dst: usize,
        /// Account.
        user: String,
        /// Service name installed.
        service: String,
        /// Lateral step.
        lateral: usize,
        /// Execution step.
        execution: usize,
    },
    /// An RDP session.
    Rdp {
        /// Source.
        src: usize,
        /// Target.
        dst: usize,
        /// Account.
        user: String,
        /// Length.
        minutes: u32,
        /// Step.
        step: usize,
    },
    /// SMB/RPC probes of many hosts.
    Recon {
        /// Source.
        src: usize,
        /// Probed hosts.
        targets: Vec<usize>,
        /// Step.
        step: usize,
    },
    /// Remote WMI: RPC endpoint mapper then a dynamic port, with a logon.
    Wmi {
        /// Source.
        src: usize,
        /// Target.
        dst: usize,
        /// Account.
        user: String,
        /// Step.
        step: usize,
    },
    /// SMB to ADMIN$ with a privileged logon.
    AdminShare {
        /// Source.
        src: usize,
        /// Target.
        dst: usize,
        /// Account.
        user: String,
        /// Step.
        step: usize,
    },
    /// A large SMB write.
    Stage {
        /// Source.
        src: usize,
        /// Target.
        dst: usize,
        /// Account.
        user: String,
        /// Bytes written.
        bytes: usize,
        /// Step.
        step: usize,
    },
    /// An SSH session with a key.
    Ssh {
        /// Source.
        src: usize,
        /// Target.
        dst: usize,
        /// Account.
        user: String,
        /// Commands run as root with sudo afterwards.
        sudo: Option<String>,
        /// Exchanges, 30 seconds apart.
        rounds: usize,
        /// Step.
        step: usize,
    },
    /// A large upload over HTTPS to an external host.
    Upload {
        /// Source.
        src: usize,
        /// External host.
        dst: usize,
        /// Bytes.
        bytes: usize,
        /// Step.
        step: usize,
    },
    /// Password spray over SMB: one failed NTLM logon per account.
    SpraySmb {
        /// Source.
        src: usize,
        /// Target server.
        dst: usize,
        /// Accounts tried.
        users: Vec<String>,
        /// Seconds between tries.
        every: u32,
        /// Step.
        step: usize,
    },
    /// Password spray over SSH.
    SpraySsh {
        /// Source.
        src: usize,
        /// Target server.
        dst: usize,
        /// Accounts tried.
        users: Vec<String>,
        /// Seconds between tries.
        every: u32,
        /// Step.
        step: usize,
    },
    /// A successful NTLM network logon over SMB.
    Logon {
        /// Source.
        src: usize,
        /// Target.
        dst: usize,
        /// Account.
        user: String,
        /// Step.
        step: usize,
    },
    /// One host copying a package to many over SMB (roll-out).
    Rollout {
        /// Source.
        src: usize,
        /// Targets.
        targets: Vec<usize>,
        /// Step.
        step: usize,
    },
}

/// An action at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// When it starts.
    pub at: Timestamp,
    /// What it is.
    pub act: Act,
}

/// A host calling back to its C2 at regular intervals with regular sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beacon {
    /// The infected host.
    pub host: usize,
    /// Its step.
    pub step: usize,
    /// First callback.
    pub from: Timestamp,
    /// No callback at or after this.
    pub until: Timestamp,
    /// Interval in seconds.
    pub period: f64,
}

/// The plan of the scripted part of a scenario.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Attack steps and benign novelties (times filled in while rendering).
    pub steps: Vec<Step>,
    /// Scripted actions in time order.
    pub actions: Vec<Action>,
    /// Beacons.
    pub beacons: Vec<Beacon>,
    /// The new hire's workstation is off before this.
    pub new_hire_from: Timestamp,
    /// The contractor's workstation (SSHes to the first Linux server in the baseline).
    pub contractor: usize,
    /// Workstations left on day and night (the infected ones).
    pub always_on: Vec<usize>,
    /// Workstations that join the network late (besides the new hire), and when.
    pub late: Vec<(usize, Timestamp)>,
}

struct Builder<'a> {
    net: &'a Network,
    scenario: &'static str,
    steps: Vec<Step>,
    actions: Vec<Action>,
    n_attack: usize,
    n_benign: usize,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        kind: StepKind,
        technique: Option<(&'static str, &'static str)>,
        source: usize,
        destination: Option<usize>,
        port: Option<u16>,
        user: Option<&str>,
        description: String,
    ) -> usize {
        let id = if kind == StepKind::Benign {
            self.n_benign += 1;
            format!("benign-{}", self.n_benign)
        } else {
            self.n_attack += 1;
            format!("{}-{}", self.scenario, self.n_attack)
        };
        self.steps.push(Step {
            id,
            kind,
            technique: technique.map(|t| t.0),
            technique_name: technique.map(|t| t.1),
            source,
            destination,
            port,
            user: user.map(str::to_string),
            description,
            first: None,
            last: None,
        });
        self.steps.len() - 1
    }

    fn name(&self, h: usize) -> &str {
        &self.net.hosts[h].name
    }

    fn act(&mut self, at: Timestamp, act: Act) {
        self.actions.push(Action { at, act });
    }
}

const SMB_SHARES: (&str, &str) = ("T1021.002", "Remote Services: SMB/Windows Admin Shares");
const RDP: (&str, &str) = ("T1021.001", "Remote Services: Remote Desktop Protocol");
const SSH: (&str, &str) = ("T1021.004", "Remote Services: SSH");
const SERVICE: (&str, &str) = ("T1569.002", "System Services: Service Execution");
const WMI: (&str, &str) = ("T1047", "Windows Management Instrumentation");
const WEB_C2: (&str, &str) = ("T1071.001", "Application Layer Protocol: Web Protocols");
const DISCOVERY: (&str, &str) = ("T1018", "Remote System Discovery");
const STAGING: (&str, &str) = ("T1074.002", "Data Staged: Remote Data Staging");
const EXFIL: (&str, &str) = ("T1048", "Exfiltration Over Alternative Protocol");
const SPRAY: (&str, &str) = ("T1110.003", "Brute Force: Password Spraying");
const VALID: (&str, &str) = ("T1078", "Valid Accounts");

/// The first weekday time at `hour` (UTC) at or after `from` leaving
/// `room` seconds before `end`.
fn work_time(from: Timestamp, end: Timestamp, hour: f64, room: f64) -> Option<Timestamp> {
    let mut d = day_of(from);
    loop {
        let t = at_day(d, hour * 3600.0);
        if plus(t, room) > end {
            return None;
        }
        if t >= from && weekday(d) < 5 {
            return Some(t);
        }
        d += 1;
    }
}

/// Plans the scripted part of a scenario.
pub fn plan(
    scenario: Scenario,
    net: &Network,
    seed: u64,
    start: Timestamp,
    end: Timestamp,
    attack_from: Timestamp,
    shape: &crate::scenario::shape::Shape,
) -> Script {
    let _ = start;
    let mut rng = Rng::new(seed ^ 0x5c41_7074);
    let window = (end.0 - attack_from.0) as f64 / NS as f64;
    let frac = |f: f64| plus(attack_from, window * f);
    // Roles of particular workstations (never the new hire, the last one).
    let n_ws = net.workstations.len() - 1;
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < 5 {
        let w = net.workstations[rng.below(n_ws as u64) as usize];
        if !chosen.contains(&w) {
            chosen.push(w);
        }
    }
    let lawmakers = [chosen[0], chosen[1], chosen[2]];
    let contractor = chosen[3];
    let sprayer = chosen[4];
    let mut b = Builder {
        net,
        scenario: scenario.name(),
        steps: Vec::new(),
        actions: Vec::new(),
        n_attack: 0,
        n_benign: 0,
    };
    let mut beacons = Vec::new();
    let mut always_on = Vec::new();
    let user = |h: usize| net.hosts[h].user.clone().unwrap_or_default();
    let stolen = user(net.admins[0]);
    let dc = net.dcs[0];
    let fs = net.file_servers[0];
    let chamber = net.chamber;
    match scenario {
        Scenario::Diet => {
            always_on.extend_from_slice(&lawmakers);
            let period = (window / 10.0).min(300.0);
            let (l0, g) = match work_time(plus(attack_from, 3600.0), end, 10.0, 4.0 * 3600.0) {
                Some(t) => (t, 1200.0),
                None => (frac(0.15), window * 0.07),
            };
            for (i, &w) in lawmakers.iter().enumerate() {
                let d = format!(
                    "{} calls back to the C2 server {} over HTTPS every {period:.0} s with requests and answers of fixed sizes",
                    b.name(w),
                    net.hosts[net.c2].name
                );
                let s = b.step(
                    StepKind::Beacon,
                    Some(WEB_C2),
                    w,
                    Some(net.c2),
                    Some(443),
                    None,
                    d,
                );
                beacons.push(Beacon {
                    host: w,
                    step: s,
                    from: plus(attack_from, i as f64 * period * 0.37),
                    until: end,
                    period,
                });
            }
            for (i, &w) in lawmakers.iter().enumerate() {
                let u = user(w);
                let d = format!(
                    "{} logs on to {} over SMB with {u}'s password (NTLM) and writes a service binary to ADMIN$",
                    b.name(w),
                    b.name(chamber)
                );
                let lateral = b.step(
                    StepKind::Lateral,
                    Some(SMB_SHARES),
                    w,
                    Some(chamber),
                    Some(445),
                    Some(&u),
                    d,
                );
                let service = format!("WinSvcUpd{}", i + 1);
                let d = format!(
                    "{} installs and starts the service {service} on {} (7045, 4697), PsExec style",
                    b.name(w),
                    b.name(chamber)
                );
                let execution = b.step(
                    StepKind::Execution,
                    Some(SERVICE),
                    w,
                    Some(chamber),
                    Some(445),
                    Some(&u),
                    d,
                );
                b.act(
                    plus(l0, g * i as f64),
                    Act::PsExec {
                        src: w,
                        dst: chamber,
                        user: u,
                        service,
                        lateral,
                        execution,
                    },
                );
            }
            for (k, &w) in lawmakers[1..].iter().enumerate() {
                let d = format!(
                    "{} opens an RDP session on {} with the stolen account {stolen} (4624 type 10 from a new source)",
                    b.name(w),
                    b.name(chamber)
                );
                let s = b.step(
                    StepKind::Lateral,
                    Some(RDP),
                    w,
                    Some(chamber),
                    Some(3389),
                    Some(&stolen),
                    d,
                );
                b.act(
                    plus(l0, g * (3.0 + k as f64)),
                    Act::Rdp {
                        src: w,
                        dst: chamber,
                        user: stolen.clone(),
                        minutes: ((g / 60.0) as u32).clamp(2, 25),
                        step: s,
                    },
                );
            }
            let targets: Vec<usize> = net
                .servers()
                .into_iter()
                .filter(|&s| s != chamber)
                .take(12)
                .collect();
            let d = format!(
                "{} probes {} servers on SMB and RPC ports",
                b.name(chamber),
                targets.len()
            );
            let s = b.step(
                StepKind::Recon,
                Some(DISCOVERY),
                chamber,
                None,
                Some(445),
                None,
                d,
            );
            b.act(
                plus(l0, g * 5.0),
                Act::Recon {
                    src: chamber,
                    targets,
                    step: s,
                },
            );
            let d = format!(
                "{} runs commands on the domain controller {} over WMI (RPC 135 and a dynamic port) as {stolen}",
                b.name(chamber),
                b.name(dc)
            );
            let s = b.step(
                StepKind::Execution,
                Some(WMI),
                chamber,
                Some(dc),
                Some(135),
                Some(&stolen),
                d,
            );
            b.act(
                plus(l0, g * 6.0),
                Act::Wmi {
                    src: chamber,
                    dst: dc,
                    user: stolen.clone(),
                    step: s,
                },
            );
            let d = format!(
                "{} logs on to {} over SMB as {stolen} with administrator rights (4624 type 3, 4672) and opens ADMIN$",
                b.name(chamber),
                b.name(dc)
            );
            let s = b.step(
                StepKind::Lateral,
                Some(SMB_SHARES),
                chamber,
                Some(dc),
                Some(445),
                Some(&stolen),
                d,
            );
            b.act(
                plus(l0, g * 6.5),
                Act::AdminShare {
                    src: chamber,
                    dst: dc,
                    user: stolen.clone(),
                    step: s,
                },
            );
            let bytes = (net.internal_count() * 64 * 1024).clamp(1_500_000, 256 << 20);
            let d = format!(
                "{} copies {} MB of documents to a share on {}",
                b.name(chamber),
                bytes / 1_000_000,
                b.name(fs)
            );
            let s = b.step(
                StepKind::Exfil,
                Some(STAGING),
                chamber,
                Some(fs),
                Some(445),
                Some(&stolen),
                d,
            );
            b.act(
                plus(l0, g * 8.0),
                Act::Stage {
                    src: chamber,
                    dst: fs,
                    user: stolen.clone(),
                    bytes,
                    step: s,
                },
            );
        }
        Scenario::Contractor => {
            let u = user(contractor);
            let hops = [contractor, net.linux[0], net.linux[1], net.linux[2]];
            let mut nights: Vec<Timestamp> = Vec::new();
            let mut d = day_of(attack_from);
            while at_day(d, 0.0) < end {
                let t = at_day(d, 2.0 * 3600.0 + rng.below(5400) as f64);
                if t >= attack_from && plus(t, 3.0 * 3600.0) < end {
                    nights.push(t);
                }
                d += 1;
            }
            // One hop a night; with two nights, two hops on the first.
            let times: Vec<Timestamp> = match nights.as_slice() {
                [a, b, c, ..] => vec![*a, *b, *c],
                [a, b] => vec![*a, plus(*a, 5400.0), *b],
                _ => (0..3).map(|k| frac(0.1 + 0.25 * k as f64)).collect(),
            };
            let gap = if nights.len() >= 2 {
                2400.0
            } else {
                window * 0.08
            };
            for k in 0..3 {
                let (src, dst) = (hops[k], hops[k + 1]);
                let d = if k == 0 {
                    format!(
                        "{} (a contractor's workstation) logs on to {} over SSH at night with a key",
                        b.name(src),
                        b.name(dst)
                    )
                } else {
                    format!(
                        "{} reaches {} over SSH with the contractor's key, the next hop",
                        b.name(src),
                        b.name(dst)
                    )
                };
                let s = b.step(
                    StepKind::Lateral,
                    Some(SSH),
                    src,
                    Some(dst),
                    Some(22),
                    Some(&u),
                    d,
                );
                let sudo = (k == 2).then(|| "/bin/tar czf /tmp/.cache.tgz /srv/data".to_string());
                let rounds = ((gap * 0.5 / 30.0) as usize).clamp(2, 24);
                b.act(
                    times[k],
                    Act::Ssh {
                        src,
                        dst,
                        user: u.clone(),
                        sudo,
                        rounds,
                        step: s,
                    },
                );
            }
            let bytes = (net.internal_count() * 32 * 1024).clamp(1_000_000, 128 << 20);
            let d = format!(
                "{} uploads {} MB over HTTPS to {}",
                b.name(hops[3]),
                bytes / 1_000_000,
                net.hosts[net.c2].name
            );
            let s = b.step(
                StepKind::Exfil,
                Some(EXFIL),
                hops[3],
                Some(net.c2),
                Some(443),
                None,
                d,
            );
            b.act(
                plus(times[2], gap),
                Act::Upload {
                    src: hops[3],
                    dst: net.c2,
                    bytes,
                    step: s,
                },
            );
        }
        Scenario::Spray => {
            let t0 = work_time(attack_from, end, 10.5, 3.0 * 3600.0).unwrap_or(frac(0.1));
            let mut victims: Vec<String> = net
                .workstations
                .iter()
                .chain(net.admins.iter())
                .filter(|&&w| w != sprayer)
                .filter_map(|&w| net.hosts[w].user.clone())
                .take(60)
                .collect();
            victims.sort();
            let every = if window < 4.0 * 3600.0 { 5 } else { 20 };
            let d = format!(
                "{} tries one password against {} accounts over SMB on {} (4625, 4776)",
                b.name(sprayer),
                victims.len(),
                b.name(fs)
            );
            let s = b.step(
                StepKind::Credential,
                Some(SPRAY),
                sprayer,
                Some(fs),
                Some(445),
                None,
                d,
            );
            let spray_len = (victims.len() as u32 * every) as f64;
            b.act(
                t0,
                Act::SpraySmb {
                    src: sprayer,
                    dst: fs,
                    users: victims.clone(),
                    every,
                    step: s,
                },
            );
            let lnx = net.linux[0];
            let ssh_users: Vec<String> = victims.iter().take(15).cloned().collect();
            let d = format!(
                "{} tries the same password against {} accounts over SSH on {}",
                b.name(sprayer),
                ssh_users.len(),
                b.name(lnx)
            );
            let s = b.step(
                StepKind::Credential,
                Some(SPRAY),
                sprayer,
                Some(lnx),
                Some(22),
                None,
                d,
            );
            b.act(
                plus(t0, spray_len + 30.0),
                Act::SpraySsh {
                    src: sprayer,
                    dst: lnx,
                    users: ssh_users,
                    every,
                    step: s,
                },
            );
            let victim = victims[victims.len() / 2].clone();
            let t1 = plus(t0, spray_len + 30.0 + 15.0 * every as f64 + 60.0);
            let d = format!(
                "{} logs on to {} as {victim}, whose password the spray found",
                b.name(sprayer),
                b.name(fs)
            );
            let s = b.step(
                StepKind::Credential,
                Some(VALID),
                sprayer,
                Some(fs),
                Some(445),
                Some(&victim),
                d,
            );
            b.act(
                t1,
                Act::Logon {
                    src: sprayer,
                    dst: fs,
                    user: victim.clone(),
                    step: s,
                },
            );
            let d = format!(
                "{} opens an RDP session on {} as {victim}",
                b.name(sprayer),
                b.name(chamber)
            );
            let s = b.step(
                StepKind::Lateral,
                Some(RDP),
                sprayer,
                Some(chamber),
                Some(3389),
                Some(&victim),
                d,
            );
            b.act(
                plus(t1, 300.0),
                Act::Rdp {
                    src: sprayer,
                    dst: chamber,
                    user: victim,
                    minutes: 20,
                    step: s,
                },
            );
        }
        Scenario::Quiet => {}
    }
    // Benign novelties.
    let new_hire = *net.workstations.last().unwrap_or(&0);
    let new_hire_from = work_time(attack_from, end, 9.75, 3600.0).unwrap_or(frac(0.05));
    let d = format!(
        "{}, a new hire's workstation, appears for the first time and starts its working days",
        b.name(new_hire)
    );
    let s = b.step(
        StepKind::Benign,
        None,
        new_hire,
        None,
        None,
        user(new_hire).as_str().into(),
        d,
    );
    b.steps[s].first = Some(new_hire_from);
    b.steps[s].last = Some(end);
    let adm = net.admins[0];
    let mail = net.mail;
    let t = work_time(plus(attack_from, 1800.0), end, 14.0, 3600.0).unwrap_or(frac(0.3));
    let d = format!(
        "{} opens its first RDP session on {} (a new server for this admin)",
        b.name(adm),
        b.name(mail)
    );
    let s = b.step(
        StepKind::Benign,
        None,
        adm,
        Some(mail),
        Some(3389),
        Some(&user(adm)),
        d,
    );
    b.act(
        t,
        Act::Rdp {
            src: adm,
            dst: mail,
            user: user(adm),
            minutes: 15,
            step: s,
        },
    );
    let hd = *net.admins.last().unwrap_or(&adm);
    let helped = net
        .workstations
        .iter()
        .copied()
        .take(n_ws)
        .find(|w| !chosen.contains(w))
        .unwrap_or(net.workstations[0]);
    let t = work_time(plus(attack_from, 7200.0), end, 11.25, 3600.0).unwrap_or(frac(0.45));
    let d = format!(
        "help desk at {} takes over {} over RDP once to fix a problem",
        b.name(hd),
        b.name(helped)
    );
    let s = b.step(
        StepKind::Benign,
        None,
        hd,
        Some(helped),
        Some(3389),
        Some(&user(hd)),
        d,
    );
    b.act(
        t,
        Act::Rdp {
            src: hd,
            dst: helped,
            user: user(hd),
            minutes: 12,
            step: s,
        },
    );
    let targets: Vec<usize> = net.workstations.iter().copied().take(2000).collect();
    let t = work_time(attack_from, end, 16.5, 2.0 * 3600.0).unwrap_or(frac(0.6));
    let d = format!(
        "{} pushes a software package to {} workstations over SMB (ADMIN$), once",
        b.name(net.deploy),
        targets.len()
    );
    let s = b.step(
        StepKind::Benign,
        None,
        net.deploy,
        None,
        Some(445),
        Some("svc-deploy"),
        d,
    );
    b.act(
        t,
        Act::Rollout {
            src: net.deploy,
            targets,
            step: s,
        },
    );
    // Roll-outs by administrators from their own workstations.
    for r in 0..usize::from(shape.admin_rollouts) {
        let src = net.admins[r % net.admins.len()];
        let mut targets: Vec<usize> = Vec::new();
        let want = 20.min(n_ws.saturating_sub(chosen.len()));
        while targets.len() < want {
            let w = net.workstations[rng.below(n_ws as u64) as usize];
            if !chosen.contains(&w) && !targets.contains(&w) {
                targets.push(w);
            }
        }
        let from = frac(0.15 + 0.3 * r as f64);
        let t = work_time(from, end, 10.0 + 2.0 * r as f64, 3600.0).unwrap_or(from);
        let d = format!(
            "{} rolls a software update out to {} workstations over SMB (ADMIN$), announced",
            b.name(src),
            targets.len()
        );
        let s = b.step(
            StepKind::Benign,
            None,
            src,
            None,
            Some(445),
            Some(&user(src)),
            d,
        );
        b.act(
            t,
            Act::Rollout {
                src,
                targets,
                step: s,
            },
        );
    }
    // New machines joining during the detection window.
    let mut late = Vec::new();
    for k in 0..usize::from(shape.new_machines) {
        let Some(&w) = net
            .workstations
            .iter()
            .rev()
            .skip(1 + k * 7)
            .find(|w| !chosen.contains(w))
        else {
            break;
        };
        let from = work_time(frac(0.1 + 0.15 * k as f64), end, 9.0, 3600.0).unwrap_or(frac(0.5));
        let d = format!("{} is a new machine, first on the network", b.name(w));
        let s = b.step(
            StepKind::Benign,
            None,
            w,
            None,
            None,
            user(w).as_str().into(),
            d,
        );
        b.steps[s].first = Some(from);
        b.steps[s].last = Some(end);
        late.push((w, from));
    }
    b.actions.sort_by_key(|a| a.at);
    Script {
        steps: b.steps,
        actions: b.actions,
        beacons,
        new_hire_from,
        contractor,
        always_on,
        late,
    }
}

/// Renders the scripted actions and beacons that start in `[b0, b1)`.
pub fn bucket(plan: &Plan, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    for bc in &plan.script.beacons {
        beacon(plan, bc, b0, b1, out);
    }
    for a in &plan.script.actions {
        if a.at >= b0 && a.at < b1 {
            render(plan, a, out);
        }
    }
}

fn beacon(plan: &Plan, bc: &Beacon, b0: Timestamp, b1: Timestamp, out: &mut Out) {
    let net = &plan.net;
    let p = bc.period * NS as f64;
    let k0 = (((b0.0 - bc.from.0) as f64 / p).floor() as i64 - 1).max(0);
    let c2 = &net.hosts[net.c2];
    let me = net.hosts[bc.host].ip;
    let dc = net.hosts[net.dc_for(bc.host)].ip;
    for k in k0.. {
        let mut r = Rng::new(crate::scenario::mix(
            plan.spec.seed ^ bc.host as u64,
            k as u64,
        ));
        let jitter = (r.below(4000) as f64 - 2000.0) / 1000.0;
        let t = plus(bc.from, k as f64 * bc.period + jitter);
        if t >= b1 || t >= bc.until {
            break;
        }
        if t < b0 || t < bc.from {
            continue;
        }
        let mut first = t;
        if k % 4 == 0 {
            out.dns(t, me, dc, &c2.name, c2.ip);
            first = t;
        }
        let c = out.conv(me, c2.ip, 443, plus(t, 0.03));
        let last = out.tcp(
            &c,
            &[Ex::c(517), Ex::s(1146), Ex::c(230), Ex::s(96)],
            End::Fin,
        );
        out.seen(bc.step, first, last);
    }
}

fn peer(net: &Network, h: usize, port: u16) -> Peer<'_> {
    Peer {
        host: &net.hosts[h],
        port,
    }
}

fn render(plan: &Plan, a: &Action, out: &mut Out) {
    let net = &plan.net;
    let t = a.at;
    match &a.act {
        Act::PsExec {
            src,
            dst,
            user,
            service,
            lateral,
            execution,
        } => {
            let (src, dst) = (*src, *dst);
            let c = out.conv(net.hosts[src].ip, net.hosts[dst].ip, 445, t);
            let last = out.tcp(
                &c,
                &[
                    Ex::c(400),
                    Ex::s(500),
                    Ex::c(1200),
                    Ex::s(300),
                    Ex::c(60_000).after(0.5),
                    Ex::s(400),
                    Ex::c(2000).after(1.0),
                    Ex::s(800),
                    Ex::c(600).after(2.0),
                    Ex::s(300),
                ],
                End::Fin,
            );
            let p = peer(net, src, c.cport);
            let t1 = plus(t, 0.05);
            out.logs.push(logs::logon(t1, dst, user, 3, p, Auth::Ntlm));
            out.logs.push(logs::privileged(t1, dst, user));
            out.logs.push(logs::ntlm_validation(
                t1,
                net.dc_for(dst),
                user,
                &net.hosts[src],
                true,
            ));
            out.logs
                .push(logs::share(plus(t, 0.08), dst, user, "ADMIN$", None, p));
            let exe = format!("{service}.exe");
            out.logs.push(logs::share(
                plus(t, 0.1),
                dst,
                user,
                "ADMIN$",
                Some(&exe),
                p,
            ));
            let t_svc = plus(last, -0.5).max(plus(t, 0.2));
            let image = format!("%SystemRoot%\\{exe}");
            out.logs.push(logs::service_installed(
                t_svc, dst, user, service, &image, true,
            ));
            out.logs.push(logs::service_installed(
                t_svc, dst, user, service, &image, false,
            ));
            out.seen(*lateral, t, last);
            out.seen(*execution, t, last);
        }
        Act::Rdp {
            src,
            dst,
            user,
            minutes,
            step,
        } => {
            let (f, l) = benign::rdp(plan, out, *src, *dst, user, t, f64::from(*minutes));
            out.seen(*step, f, l);
        }
        Act::Recon { src, targets, step } => {
            let mut last = t;
            for (i, &tg) in targets.iter().enumerate() {
                for (k, port) in [445u16, 135, 139].into_iter().enumerate() {
                    let c = out.conv(
                        net.hosts[*src].ip,
                        net.hosts[tg].ip,
                        port,
                        plus(t, i as f64 * 0.7 + k as f64 * 0.05),
                    );
                    let open = net.hosts[tg].role.is_windows() && port != 139;
                    last = last.max(if open {
                        out.probe_open(&c)
                    } else {
                        out.rejected(&c)
                    });
                }
            }
            out.seen(*step, t, last);
        }
        Act::Wmi {
            src,
            dst,
            user,
            step,
        } => {
            let c = out.conv(net.hosts[*src].ip, net.hosts[*dst].ip, 135, t);
            let t1 = out.tcp(&c, &[Ex::c(160), Ex::s(150)], End::Fin);
            let c2 = out.conv(
                net.hosts[*src].ip,
                net.hosts[*dst].ip,
                49_671,
                plus(t1, 0.01),
            );
            let last = out.tcp(
                &c2,
                &[
                    Ex::c(900),
                    Ex::s(600),
                    Ex::c(1400).after(1.0),
                    Ex::s(3000),
                    Ex::c(500).after(4.0),
                    Ex::s(400),
                ],
                End::Fin,
            );
            out.logs.push(logs::logon(
                plus(c2.start, 0.02),
                *dst,
                user,
                3,
                peer(net, *src, c2.cport),
                Auth::Kerberos,
            ));
            out.logs
                .push(logs::privileged(plus(c2.start, 0.02), *dst, user));
            out.seen(*step, t, last);
        }
        Act::AdminShare {
            src,
            dst,
            user,
            step,
        } => {
            let c = out.conv(net.hosts[*src].ip, net.hosts[*dst].ip, 445, t);
            let last = out.tcp(
                &c,
                &[
                    Ex::c(400),
                    Ex::s(500),
                    Ex::c(1200),
                    Ex::s(300),
                    Ex::c(800).after(1.0),
                    Ex::s(9000),
                ],
                End::Fin,
            );
            let p = peer(net, *src, c.cport);
            out.logs.push(logs::kerberos(
                t,
                *dst,
                user,
                &format!("{}$", net.hosts[*dst].name.to_ascii_uppercase()),
                p,
                false,
            ));
            out.logs
                .push(logs::logon(plus(t, 0.03), *dst, user, 3, p, Auth::Kerberos));
            out.logs.push(logs::privileged(plus(t, 0.03), *dst, user));
            out.logs
                .push(logs::share(plus(t, 0.05), *dst, user, "ADMIN$", None, p));
            out.logs.push(logs::share(
                plus(t, 0.07),
                *dst,
                user,
                "ADMIN$",
                Some("ntds.dit.bak"),
                p,
            ));
            out.seen(*step, t, last);
        }
        Act::Stage {
            src,
            dst,
            user,
            bytes,
            step,
        } => {
            let c = out.conv(net.hosts[*src].ip, net.hosts[*dst].ip, 445, t);
            let last = out.tcp(
                &c,
                &[
                    Ex::c(400),
                    Ex::s(500),
                    Ex::c(1200),
                    Ex::s(300),
                    Ex::c(*bytes).after(0.5),
                    Ex::s(600),
                ],
                End::Fin,
            );
            let p = peer(net, *src, c.cport);
            out.logs
                .push(logs::logon(plus(t, 0.03), *dst, user, 3, p, Auth::Ntlm));
            out.logs.push(logs::privileged(plus(t, 0.03), *dst, user));
            out.logs
                .push(logs::share(plus(t, 0.05), *dst, user, "Shared", None, p));
            out.logs.push(logs::share(
                plus(t, 0.06),
                *dst,
                user,
                "Shared",
                Some("tmp\\~arc01.rar"),
                p,
            ));
            out.seen(*step, t, last);
        }
        Act::Ssh {
            src,
            dst,
            user,
            sudo,
            rounds,
            step,
        } => {
            let (f, l) = benign::ssh(
                plan,
                out,
                *src,
                *dst,
                user,
                "publickey",
                t,
                *rounds,
                30.0,
                (12_000, 60_000),
            );
            if let Some(cmd) = sudo {
                let pid = 3000 + out.pick(20_000) as u32;
                out.logs.push(logs::sys(
                    plus(t, 15.0 * *rounds as f64),
                    *dst,
                    "sudo",
                    pid,
                    format!("{user} : TTY=pts/1 ; PWD=/home/{user} ; USER=root ; COMMAND={cmd}"),
                ));
            }
            out.seen(*step, f, l);
        }
        Act::Upload {
            src,
            dst,
            bytes,
            step,
        } => {
            let dns_at = t;
            let dc = net.hosts[net.dc_for(*src)].ip;
            let c2 = &net.hosts[*dst];
            let t1 = out.dns(dns_at, net.hosts[*src].ip, dc, &c2.name, c2.ip);
            let c = out.conv(net.hosts[*src].ip, c2.ip, 443, t1);
            let last = out.tcp(
                &c,
                &[Ex::c(517), Ex::s(3000), Ex::c(*bytes), Ex::s(300)],
                End::Fin,
            );
            out.seen(*step, t, last);
        }
        Act::SpraySmb {
            src,
            dst,
            users,
            every,
            step,
        } => {
            let mut last = t;
            let dc = net.dc_for(*dst);
            for (i, u) in users.iter().enumerate() {
                let at = plus(t, (i as u32 * every) as f64 + out.uniform(0.0, 1.0));
                let c = out.conv(net.hosts[*src].ip, net.hosts[*dst].ip, 445, at);
                last = last.max(out.tcp(
                    &c,
                    &[Ex::c(190), Ex::s(250), Ex::c(420), Ex::s(120)],
                    End::ClientReset,
                ));
                out.logs.push(logs::ntlm_validation(
                    plus(at, 0.02),
                    dc,
                    u,
                    &net.hosts[*src],
                    false,
                ));
                out.logs.push(logs::logon_failed(
                    plus(at, 0.03),
                    *dst,
                    u,
                    3,
                    peer(net, *src, c.cport),
                ));
            }
            out.seen(*step, t, last);
        }
        Act::SpraySsh {
            src,
            dst,
            users,
            every,
            step,
        } => {
            let mut last = t;
            for (i, u) in users.iter().enumerate() {
                let at = plus(t, (i as u32 * every) as f64 + out.uniform(0.0, 1.0));
                let c = out.conv(net.hosts[*src].ip, net.hosts[*dst].ip, 22, at);
                let end = out.ssh(&c, 1, 200, 100, 0.0);
                last = last.max(end);
                let pid = 4000 + out.pick(20_000) as u32;
                let ip = net.hosts[*src].ip;
                let p = c.cport;
                out.logs.push(logs::sys(
                    plus(at, 0.05),
                    *dst,
                    "sshd",
                    pid,
                    format!("Failed password for {u} from {ip} port {p} ssh2"),
                ));
                out.logs.push(logs::sys(
                    end,
                    *dst,
                    "sshd",
                    pid,
                    format!("Connection closed by authenticating user {u} {ip} port {p} [preauth]"),
                ));
            }
            out.seen(*step, t, last);
        }
        Act::Logon {
            src,
            dst,
            user,
            step,
        } => {
            let c = out.conv(net.hosts[*src].ip, net.hosts[*dst].ip, 445, t);
            let last = out.tcp(
                &c,
                &[
                    Ex::c(190),
                    Ex::s(250),
                    Ex::c(420),
                    Ex::s(120),
                    Ex::c(300).after(2.0),
                    Ex::s(5000),
                ],
                End::Fin,
            );
            out.logs.push(logs::ntlm_validation(
                plus(t, 0.02),
                net.dc_for(*dst),
                user,
                &net.hosts[*src],
                true,
            ));
            out.logs.push(logs::logon(
                plus(t, 0.03),
                *dst,
                user,
                3,
                peer(net, *src, c.cport),
                Auth::Ntlm,
            ));
            out.logs.push(logs::share(
                plus(t, 0.05),
                *dst,
                user,
                "Shared",
                None,
                peer(net, *src, c.cport),
            ));
            out.seen(*step, t, last);
        }
        Act::Rollout { src, targets, step } => {
            let mut last = t;
            for (i, &w) in targets.iter().enumerate() {
                let at = plus(t, i as f64 * 1.5);
                let c = out.conv(net.hosts[*src].ip, net.hosts[w].ip, 445, at);
                let on = benign::always_on(plan, w) || {
                    let wd = benign::workday(plan, w, day_of(at));
                    wd.works && at >= wd.arrive && at < wd.leave
                };
                last = last.max(if on && net.hosts[w].role != Role::External {
                    out.tcp(
                        &c,
                        &[
                            Ex::c(400),
                            Ex::s(500),
                            Ex::c(1200),
                            Ex::s(300),
                            Ex::c(60_000),
                            Ex::s(400),
                        ],
                        End::Fin,
                    )
                } else {
                    out.unanswered(&c)
                });
            }
            out.seen(*step, t, last);
        }
    }
}
