//! The simulated enterprise: hosts with roles, addresses, names and users,
//! built once from the host count and the seed, before any traffic. Every
//! later part of the generator ([`super::benign`], [`super::attack`]) asks
//! this table who talks to whom.
//!
//! Layout of `10.10.0.0/16` (domain `shugiin.local`, NetBIOS `SHUGIIN`):
//! servers in `10.10.1.0/24` (domain controllers `.10`-`.19`, file servers
//! `.20`-`.29`, mail `.30`, proxy `.40`, the shared chamber server `.50`,
//! backup `.60`, vulnerability scanner `.70`, software deployment `.80`),
//! administrators' hosts in `10.10.2.0/24`, Linux servers in
//! `10.10.3.0/24`, workstations from `10.10.16.1` on. Internet peers use
//! the documentation ranges (`192.0.2.0/24`, `198.51.100.0/24`,
//! `203.0.113.0/24`).

use crate::scenario::shape::{AddressPlan, Monitoring, Naming, Shape};
use crate::synth::bulk::Rng;
use std::net::{Ipv4Addr, Ipv6Addr};

/// DNS domain of the simulated enterprise.
pub const DOMAIN: &str = "shugiin.local";
/// NetBIOS domain name written in Windows events.
pub const NETBIOS_DOMAIN: &str = "SHUGIIN";
/// The internal address block.
pub const INTERNAL_NET: &str = "10.10.0.0/16";

/// What a host is for; decides its traffic and whether it writes logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Active Directory domain controller: DNS, Kerberos, LDAP, SYSVOL.
    DomainController,
    /// Windows file server (SMB shares).
    FileServer,
    /// Mail server (HTTPS for clients, SMTP to the internet).
    MailServer,
    /// Linux web proxy on 8080/3128.
    Proxy,
    /// The shared chamber server: an intranet application on HTTPS.
    ChamberServer,
    /// Windows backup server touching every server nightly.
    Backup,
    /// Linux vulnerability scanner sweeping every host weekly.
    Scanner,
    /// Windows software-deployment server polled by workstations.
    Deploy,
    /// Linux application and database servers (SSH for administration).
    Linux,
    /// An administrator's workstation (RDP and SSH to servers).
    Admin,
    /// A help-desk workstation (C$ and RDP on users' workstations).
    HelpDesk,
    /// A Linux monitoring server polling every server every few minutes.
    Monitor,
    /// A user's Windows workstation.
    Workstation,
    /// An internet host named in the ground truth (the C2 server).
    External,
}

impl Role {
    /// The role's name in `truth.json`.
    pub fn name(self) -> &'static str {
        match self {
            Role::DomainController => "domain_controller",
            Role::FileServer => "file_server",
            Role::MailServer => "mail_server",
            Role::Proxy => "proxy",
            Role::ChamberServer => "chamber_server",
            Role::Backup => "backup_server",
            Role::Scanner => "vulnerability_scanner",
            Role::Deploy => "deployment_server",
            Role::Linux => "linux_server",
            Role::Admin => "admin_workstation",
            Role::HelpDesk => "help_desk_workstation",
            Role::Monitor => "monitoring_server",
            Role::Workstation => "workstation",
            Role::External => "external",
        }
    }

    /// True for hosts running Windows (they write Security event logs when servers).
    pub fn is_windows(self) -> bool {
        !matches!(
            self,
            Role::Proxy | Role::Scanner | Role::Linux | Role::Monitor | Role::External
        )
    }

    /// True for servers (hosts whose logs are collected).
    pub fn is_server(self) -> bool {
        !matches!(
            self,
            Role::Admin | Role::HelpDesk | Role::Workstation | Role::External
        )
    }
}

/// One host of the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its address.
    pub ip: Ipv4Addr,
    /// Short host name (`ws-017`); the FQDN adds [`DOMAIN`].
    pub name: String,
    /// What it is for.
    pub role: Role,
    /// The account that normally uses it (workstations and admin hosts).
    pub user: Option<String>,
    /// Its unique-local IPv6 address, in dual-stack networks.
    pub v6: Option<Ipv6Addr>,
    /// Its link-local IPv6 address, in mostly-IPv6 networks.
    pub link_local: Option<Ipv6Addr>,
}

impl Host {
    /// Fully qualified name.
    pub fn fqdn(&self) -> String {
        format!("{}.{DOMAIN}", self.name)
    }

    /// NetBIOS name as Windows writes it in `WorkstationName`.
    pub fn netbios(&self) -> String {
        self.name.to_ascii_uppercase()
    }
}

/// An internet service the enterprise uses (not part of the host table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Its address.
    pub ip: Ipv4Addr,
    /// The name clients resolve.
    pub name: String,
}

/// The whole enterprise.
#[derive(Debug, Clone)]
pub struct Network {
    /// Every internal host, then the external ones named in the truth.
    pub hosts: Vec<Host>,
    /// Indices of domain controllers.
    pub dcs: Vec<usize>,
    /// Indices of file servers.
    pub file_servers: Vec<usize>,
    /// Index of the mail server.
    pub mail: usize,
    /// Index of the proxy.
    pub proxy: usize,
    /// Index of the shared chamber server.
    pub chamber: usize,
    /// Index of the backup server.
    pub backup: usize,
    /// Index of the vulnerability scanner.
    pub scanner: usize,
    /// Index of the deployment server.
    pub deploy: usize,
    /// Indices of Linux servers.
    pub linux: Vec<usize>,
    /// Indices of administrators' hosts.
    pub admins: Vec<usize>,
    /// Indices of help-desk hosts.
    pub help_desk: Vec<usize>,
    /// Index of the monitoring server, when there is one.
    pub monitor: Option<usize>,
    /// Indices of workstations (the last one is the new hire's).
    pub workstations: Vec<usize>,
    /// Index of the C2 server (an external host).
    pub c2: usize,
    /// Popular web sites reached through the proxy or directly.
    pub sites: Vec<Site>,
    /// The antivirus update service every workstation polls hourly.
    pub av: Site,
    /// The internet mail relay exchanging SMTP with the mail server.
    pub mx: Site,
    /// The outside resolver domain controllers forward DNS to.
    pub resolver: Site,
    /// The outside NTP server domain controllers take time from.
    pub ntp: Site,
    /// The internal /16's first two octets.
    pub prefix: [u8; 2],
    /// Per admin host (same order as `admins`): the servers it administers.
    pub admin_targets: Vec<Vec<usize>>,
}

const SURNAMES: [&str; 48] = [
    "sato",
    "suzuki",
    "takahashi",
    "tanaka",
    "watanabe",
    "ito",
    "yamamoto",
    "nakamura",
    "kobayashi",
    "kato",
    "yoshida",
    "yamada",
    "sasaki",
    "yamaguchi",
    "matsumoto",
    "inoue",
    "kimura",
    "hayashi",
    "shimizu",
    "yamazaki",
    "mori",
    "abe",
    "ikeda",
    "hashimoto",
    "yamashita",
    "ishikawa",
    "nakajima",
    "maeda",
    "fujita",
    "ogawa",
    "goto",
    "okada",
    "hasegawa",
    "murakami",
    "kondo",
    "ishii",
    "saito",
    "sakamoto",
    "endo",
    "aoki",
    "fujii",
    "nishimura",
    "fukuda",
    "ota",
    "miura",
    "okamoto",
    "matsuda",
    "nakagawa",
];

fn user_name(i: usize) -> String {
    let initial = (b'a' + (i % 26) as u8) as char;
    let sur = SURNAMES[(i / 26) % SURNAMES.len()];
    let round = i / (26 * SURNAMES.len());
    if round == 0 {
        format!("{initial}{sur}")
    } else {
        format!("{initial}{sur}{round}")
    }
}

/// Names hosts and hands out addresses for one [`Shape`].
struct Namer {
    naming: Naming,
    prefix: [u8; 2],
    site: &'static str,
    rng: Rng,
    taken: std::collections::BTreeSet<String>,
}

const SITES: [&str; 6] = ["tky", "osk", "ngy", "fuk", "spr", "sdj"];

impl Namer {
    fn ip(&self, c: u8, d: u8) -> Ipv4Addr {
        Ipv4Addr::new(self.prefix[0], self.prefix[1], c, d)
    }

    /// The name of the `i`-th (from 0) host of `role`; `classic` is the
    /// classic scheme's name, kept when the scheme is classic.
    fn name(&mut self, role: Role, i: usize, classic: String) -> String {
        let n = i + 1;
        let site = self.site;
        let name = match self.naming {
            Naming::Classic => classic,
            Naming::AssetTag => match role {
                Role::DomainController => format!("SRV-DC{n:02}"),
                Role::FileServer => format!("SRV-FS{n:02}"),
                Role::MailServer => "SRV-EXCH01".into(),
                Role::Proxy => "SRV-PRX01".into(),
                Role::ChamberServer => "SRV-APP01".into(),
                Role::Backup => "SRV-BKP01".into(),
                Role::Scanner => "SRV-VSCAN01".into(),
                Role::Deploy => "SRV-SCCM01".into(),
                Role::Monitor => "SRV-MON01".into(),
                Role::Linux => format!("LNXAPP{n:02}"),
                Role::Admin => format!("ADM{n:04}"),
                Role::HelpDesk => format!("HD{n:04}"),
                Role::Workstation => format!("PC{n:05}"),
                Role::External => classic,
            },
            Naming::SiteCoded => match role {
                Role::DomainController => format!("{site}-dc-{n:02}"),
                Role::FileServer => format!("{site}-fs-{n:02}"),
                Role::MailServer => format!("{site}-mx-01"),
                Role::Proxy => format!("{site}-px-01"),
                Role::ChamberServer => format!("{site}-app-01"),
                Role::Backup => format!("{site}-bk-01"),
                Role::Scanner => format!("{site}-vs-01"),
                Role::Deploy => format!("{site}-sd-01"),
                Role::Monitor => format!("{site}-mon-01"),
                Role::Linux => format!("{site}-lx-{n:03}"),
                Role::Admin => format!("{site}-adm-{n:02}"),
                Role::HelpDesk => format!("{site}-hd-{n:02}"),
                Role::Workstation => format!("{site}-lt-{n:04}"),
                Role::External => classic,
            },
            Naming::Random => {
                const DCS: [&str; 9] = [
                    "dc-east", "dc-west", "dc3", "dc4", "dc5", "dc6", "dc7", "dc8", "dc9",
                ];
                const DBS: [&str; 6] = ["db", "api", "web", "etl", "git", "ci"];
                match role {
                    Role::DomainController => DCS.get(i).map_or(classic, |s| s.to_string()),
                    Role::FileServer if i == 0 => "files".into(),
                    Role::FileServer => format!("files{n}"),
                    Role::MailServer => "exchange".into(),
                    Role::Proxy => "squid".into(),
                    Role::ChamberServer => "intranet".into(),
                    Role::Backup => "veeam".into(),
                    Role::Scanner => "nessus".into(),
                    Role::Deploy => "wsus".into(),
                    Role::Monitor => "zabbix".into(),
                    Role::Linux => format!("{}{}", DBS[i % DBS.len()], i / DBS.len() + 1),
                    Role::Admin => format!("it-pc{n}"),
                    Role::HelpDesk => format!("helpdesk{n}"),
                    Role::Workstation => loop {
                        let head = if self.rng.below(3) == 0 {
                            "LAPTOP-"
                        } else {
                            "DESKTOP-"
                        };
                        let tail: String = (0..7)
                            .map(|_| {
                                let k = self.rng.below(36) as u8;
                                if k < 10 {
                                    (b'0' + k) as char
                                } else {
                                    (b'A' + k - 10) as char
                                }
                            })
                            .collect();
                        let name = format!("{head}{tail}");
                        if !self.taken.contains(&name) {
                            break name;
                        }
                    },
                    Role::External => classic,
                }
            }
        };
        self.taken.insert(name.clone());
        name
    }
}

/// Fewest hosts a network has, whatever was asked: the fixed servers, one
/// admin host and eight workstations (one the new hire).
pub const MIN_HOSTS: usize = 20;

fn scaled(n: usize, by: f32, lo: usize, hi: usize) -> usize {
    ((n as f32 * by).round() as usize).clamp(lo, hi)
}

/// A unique-local IPv6 address for internal host `i`, under the network's
/// /48 drawn from `seed`.
fn ula(seed: u64, i: usize) -> Ipv6Addr {
    let mut rng = Rng::new(seed ^ 0x0006_0ca1);
    let g = rng.next_u64();
    let mut r = Rng::new(crate::scenario::mix(seed ^ 0x6666, i as u64));
    Ipv6Addr::new(
        0xfd00 | (g >> 56) as u16,
        (g >> 40) as u16,
        (g >> 24) as u16,
        1,
        r.below(1 << 16) as u16,
        r.below(1 << 16) as u16,
        r.below(1 << 16) as u16,
        r.below(1 << 16) as u16,
    )
}

impl Network {
    /// Builds the classic network for about `hosts` internal hosts (at
    /// least [`MIN_HOSTS`]); the seed shuffles which user sits where.
    pub fn build(hosts: usize, seed: u64) -> Network {
        Network::build_shaped(hosts, seed, &Shape::classic())
    }

    /// Builds the network of `shape` for about `hosts` internal hosts.
    pub fn build_shaped(hosts: usize, seed: u64, shape: &Shape) -> Network {
        let hosts = hosts.clamp(MIN_HOSTS, 12_000);
        let mut rng = Rng::new(seed ^ 0x6e65_7477);
        let mut namer = Namer {
            naming: shape.naming,
            prefix: shape.prefix,
            site: SITES[(seed % SITES.len() as u64) as usize],
            rng: Rng::new(seed ^ 0x6e61_6d65),
            taken: std::collections::BTreeSet::new(),
        };
        let v6 = shape.address_plan != AddressPlan::V4Only;
        let mostly_v6 = shape.address_plan == AddressPlan::MostlyV6;
        let mut list: Vec<Host> = Vec::with_capacity(hosts + 1);
        let add = |list: &mut Vec<Host>, ip, name: String, role, user: Option<String>| {
            let user_host = matches!(role, Role::Workstation | Role::Admin | Role::HelpDesk);
            list.push(Host {
                ip,
                name,
                role,
                user,
                v6: (v6 && user_host).then(|| ula(seed, list.len())),
                link_local: (mostly_v6 && user_host).then(|| {
                    let u = ula(seed, list.len()).segments();
                    Ipv6Addr::new(0xfe80, 0, 0, 0, u[4], u[5], u[6], u[7])
                }),
            });
            list.len() - 1
        };
        let sc = shape.role_scale;
        let n_dc = scaled(1 + hosts / 2000, sc[0], 1, 9);
        let n_fs = scaled(1 + hosts / 1000, sc[1], 1, 9);
        let n_linux = scaled((hosts / 40).clamp(3, 250), sc[2], 3, 250);
        let n_admin = scaled((hosts / 150).clamp(1, 60), sc[3], 1, 60);
        let dcs: Vec<usize> = (0..n_dc)
            .map(|i| {
                let name = namer.name(Role::DomainController, i, format!("dc{:02}", i + 1));
                add(
                    &mut list,
                    namer.ip(1, 10 + i as u8),
                    name,
                    Role::DomainController,
                    None,
                )
            })
            .collect();
        let file_servers: Vec<usize> = (0..n_fs)
            .map(|i| {
                let name = namer.name(Role::FileServer, i, format!("fs{:02}", i + 1));
                add(
                    &mut list,
                    namer.ip(1, 20 + i as u8),
                    name,
                    Role::FileServer,
                    None,
                )
            })
            .collect();
        let mut single = |list: &mut Vec<Host>, d: u8, role: Role, classic: &str| {
            let name = namer.name(role, 0, classic.into());
            add(list, namer.ip(1, d), name, role, None)
        };
        let mail = single(&mut list, 30, Role::MailServer, "mail01");
        let proxy = single(&mut list, 40, Role::Proxy, "proxy01");
        let chamber = single(&mut list, 50, Role::ChamberServer, "srv-chamber");
        let backup = single(&mut list, 60, Role::Backup, "backup01");
        let scanner = single(&mut list, 70, Role::Scanner, "scan01");
        let deploy = single(&mut list, 80, Role::Deploy, "deploy01");
        let monitor = (shape.monitoring != Monitoring::None)
            .then(|| single(&mut list, 90, Role::Monitor, "mon01"));
        let linux: Vec<usize> = (0..n_linux)
            .map(|i| {
                let name = namer.name(Role::Linux, i, format!("lnx{:02}", i + 1));
                add(&mut list, namer.ip(3, 1 + i as u8), name, Role::Linux, None)
            })
            .collect();
        let admins: Vec<usize> = (0..n_admin)
            .map(|i| {
                let name = namer.name(Role::Admin, i, format!("adm-{:02}", i + 1));
                add(
                    &mut list,
                    namer.ip(2, 1 + i as u8),
                    name,
                    Role::Admin,
                    Some(match i / SURNAMES.len() {
                        0 => format!("adm-{}", SURNAMES[(i * 7 + 34) % SURNAMES.len()]),
                        k => format!("adm-{}{k}", SURNAMES[(i * 7 + 34) % SURNAMES.len()]),
                    }),
                )
            })
            .collect();
        let help_desk: Vec<usize> = (0..usize::from(shape.help_desk))
            .map(|i| {
                let name = namer.name(Role::HelpDesk, i, format!("hd-{:02}", i + 1));
                add(
                    &mut list,
                    namer.ip(2, 100 + i as u8),
                    name,
                    Role::HelpDesk,
                    Some(format!("hd-{}", SURNAMES[(i * 11 + 5) % SURNAMES.len()])),
                )
            })
            .collect();
        let n_ws = hosts.saturating_sub(list.len()).max(8);
        let width = if n_ws < 1000 { 3 } else { 5 };
        // Users are dealt to workstations in a seed-dependent order.
        let offset = rng.below(26 * SURNAMES.len() as u64) as usize;
        let workstations: Vec<usize> = (0..n_ws)
            .map(|i| {
                let ip = namer.ip(16 + (i / 250) as u8, 1 + (i % 250) as u8);
                let name = namer.name(Role::Workstation, i, format!("ws-{:0width$}", i + 1));
                add(
                    &mut list,
                    ip,
                    name,
                    Role::Workstation,
                    Some(user_name(offset + i)),
                )
            })
            .collect();
        let c2 = add(
            &mut list,
            Ipv4Addr::new(203, 0, 113, 66),
            "cdn-updates.net".into(),
            Role::External,
            None,
        );
        let sites = (0..40u8)
            .map(|i| Site {
                ip: Ipv4Addr::new(198, 51, 100, 10 + i),
                name: format!("www.site{:02}.example.jp", i + 1),
            })
            .collect();
        // Each admin looks after the chamber server (the first admin always),
        // a few Windows servers and a few Linux servers.
        let windows_servers: Vec<usize> = (0..list.len())
            .filter(|&i| list[i].role.is_server() && list[i].role.is_windows())
            .collect();
        let admin_targets = (0..n_admin)
            .map(|a| {
                let mut t = vec![chamber];
                for k in 0..3 {
                    let s = windows_servers[(a * 3 + k + 1) % windows_servers.len()];
                    if !t.contains(&s) && s != mail {
                        t.push(s);
                    }
                }
                for k in 0..3 {
                    let s = linux[(a * 3 + k) % linux.len()];
                    if !t.contains(&s) {
                        t.push(s);
                    }
                }
                t
            })
            .collect();
        Network {
            hosts: list,
            dcs,
            file_servers,
            mail,
            proxy,
            chamber,
            backup,
            scanner,
            deploy,
            monitor,
            linux,
            admins,
            help_desk,
            workstations,
            c2,
            sites,
            av: Site {
                ip: Ipv4Addr::new(198, 51, 100, 200),
                name: "av-definitions.example.net".into(),
            },
            mx: Site {
                ip: Ipv4Addr::new(192, 0, 2, 25),
                name: "mx.example-isp.jp".into(),
            },
            resolver: Site {
                ip: Ipv4Addr::new(192, 0, 2, 53),
                name: "resolver.example-isp.jp".into(),
            },
            ntp: Site {
                ip: Ipv4Addr::new(192, 0, 2, 123),
                name: "ntp.example-isp.jp".into(),
            },
            admin_targets,
            prefix: shape.prefix,
        }
    }

    /// True for an address of the internal /16.
    pub fn is_internal(&self, ip: Ipv4Addr) -> bool {
        let o = ip.octets();
        o[0] == self.prefix[0] && o[1] == self.prefix[1]
    }

    /// Number of internal hosts (the `hosts` of the truth file).
    pub fn internal_count(&self) -> usize {
        self.hosts
            .iter()
            .filter(|h| h.role != Role::External)
            .count()
    }

    /// The domain controller a host authenticates against.
    pub fn dc_for(&self, h: usize) -> usize {
        self.dcs[h % self.dcs.len()]
    }

    /// The file server holding a host's shares.
    pub fn fs_for(&self, h: usize) -> usize {
        self.file_servers[h % self.file_servers.len()]
    }

    /// Windows servers (they write Security logs).
    pub fn windows_servers(&self) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|&i| self.hosts[i].role.is_server() && self.hosts[i].role.is_windows())
            .collect()
    }

    /// Every server (Windows and Linux).
    pub fn servers(&self) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|&i| self.hosts[i].role.is_server())
            .collect()
    }

    /// Index of the host with this address.
    pub fn by_ip(&self, ip: Ipv4Addr) -> Option<usize> {
        self.hosts.iter().position(|h| h.ip == ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_networks_have_every_role_and_unique_addresses() {
        for n in [10, 200, 10_000] {
            let net = Network::build(n, 1);
            assert!(net.internal_count() >= n.min(MIN_HOSTS));
            assert!(net.linux.len() >= 3 && net.workstations.len() >= 5);
            let mut ips: Vec<_> = net.hosts.iter().map(|h| h.ip).collect();
            ips.sort();
            ips.dedup();
            assert_eq!(ips.len(), net.hosts.len());
            let mut names: Vec<_> = net.hosts.iter().map(|h| h.name.clone()).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), net.hosts.len());
            let mut users: Vec<_> = net.hosts.iter().filter_map(|h| h.user.clone()).collect();
            users.sort();
            users.dedup();
            assert_eq!(users.len(), net.workstations.len() + net.admins.len());
        }
        assert_eq!(Network::build(200, 1).internal_count(), 200);
    }
}
