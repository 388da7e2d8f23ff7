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

use crate::synth::bulk::Rng;
use std::net::Ipv4Addr;

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
            Role::Workstation => "workstation",
            Role::External => "external",
        }
    }

    /// True for hosts running Windows (they write Security event logs when servers).
    pub fn is_windows(self) -> bool {
        !matches!(
            self,
            Role::Proxy | Role::Scanner | Role::Linux | Role::External
        )
    }

    /// True for servers (hosts whose logs are collected).
    pub fn is_server(self) -> bool {
        !matches!(self, Role::Admin | Role::Workstation | Role::External)
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

fn v4(c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 10, c, d)
}

/// Fewest hosts a network has, whatever was asked: the fixed servers, one
/// admin host and eight workstations (one the new hire).
pub const MIN_HOSTS: usize = 20;

impl Network {
    /// Builds the network for about `hosts` internal hosts (at least
    /// [`MIN_HOSTS`]); the seed shuffles which user sits where.
    pub fn build(hosts: usize, seed: u64) -> Network {
        let hosts = hosts.clamp(MIN_HOSTS, 12_000);
        let mut rng = Rng::new(seed ^ 0x6e65_7477);
        let mut list: Vec<Host> = Vec::with_capacity(hosts + 1);
        let add = |list: &mut Vec<Host>, ip, name: String, role, user: Option<String>| {
            list.push(Host {
                ip,
                name,
                role,
                user,
            });
            list.len() - 1
        };
        let n_dc = (1 + hosts / 2000).min(9);
        let n_fs = (1 + hosts / 1000).min(9);
        let n_linux = (hosts / 40).clamp(3, 250);
        let n_admin = (hosts / 150).clamp(1, 60);
        let dcs: Vec<usize> = (0..n_dc)
            .map(|i| {
                add(
                    &mut list,
                    v4(1, 10 + i as u8),
                    format!("dc{:02}", i + 1),
                    Role::DomainController,
                    None,
                )
            })
            .collect();
        let file_servers: Vec<usize> = (0..n_fs)
            .map(|i| {
                add(
                    &mut list,
                    v4(1, 20 + i as u8),
                    format!("fs{:02}", i + 1),
                    Role::FileServer,
                    None,
                )
            })
            .collect();
        let mail = add(
            &mut list,
            v4(1, 30),
            "mail01".into(),
            Role::MailServer,
            None,
        );
        let proxy = add(&mut list, v4(1, 40), "proxy01".into(), Role::Proxy, None);
        let chamber = add(
            &mut list,
            v4(1, 50),
            "srv-chamber".into(),
            Role::ChamberServer,
            None,
        );
        let backup = add(&mut list, v4(1, 60), "backup01".into(), Role::Backup, None);
        let scanner = add(&mut list, v4(1, 70), "scan01".into(), Role::Scanner, None);
        let deploy = add(&mut list, v4(1, 80), "deploy01".into(), Role::Deploy, None);
        let linux: Vec<usize> = (0..n_linux)
            .map(|i| {
                add(
                    &mut list,
                    v4(3, 1 + i as u8),
                    format!("lnx{:02}", i + 1),
                    Role::Linux,
                    None,
                )
            })
            .collect();
        let admins: Vec<usize> = (0..n_admin)
            .map(|i| {
                add(
                    &mut list,
                    v4(2, 1 + i as u8),
                    format!("adm-{:02}", i + 1),
                    Role::Admin,
                    Some(match i / SURNAMES.len() {
                        0 => format!("adm-{}", SURNAMES[(i * 7 + 34) % SURNAMES.len()]),
                        k => format!("adm-{}{k}", SURNAMES[(i * 7 + 34) % SURNAMES.len()]),
                    }),
                )
            })
            .collect();
        let n_ws = hosts.saturating_sub(list.len()).max(8);
        let width = if n_ws < 1000 { 3 } else { 5 };
        // Users are dealt to workstations in a seed-dependent order.
        let offset = rng.below(26 * SURNAMES.len() as u64) as usize;
        let workstations: Vec<usize> = (0..n_ws)
            .map(|i| {
                let ip = v4(16 + (i / 250) as u8, 1 + (i % 250) as u8);
                add(
                    &mut list,
                    ip,
                    format!("ws-{:0width$}", i + 1),
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
            linux,
            admins,
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
            admin_targets,
        }
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
