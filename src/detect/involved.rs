//! The hosts each alert involves, with the roles the run judged them by
//! ([`crate::alert::Involved`]): the part of the run's host directory and
//! baseline that suppression entries and the incident builder read.
//! Written with each alert, it lets stored alerts be suppressed and joined
//! into incidents again exactly as the run that found them did.

use super::Directory;
use super::baseline_view::Roles;
use crate::alert::{Alert, Involved};

/// Fills in every alert's [`Alert::involved`]: its source, its destination
/// and each related address, keyed as `names` keys them, with the role
/// `roles` gives (by address when the alert names one, else by key).
pub fn annotate<R: Roles + ?Sized>(alerts: &mut [Alert], roles: &R, names: &Directory) {
    for a in alerts.iter_mut() {
        let mut out: Vec<Involved> = Vec::new();
        for h in [&a.source, &a.destination].into_iter().flatten() {
            match h.ip {
                Some(ip) => out.push(by_ip(ip, roles, names)),
                None => {
                    if let Some(key) = names.key(None, h.name.as_deref()) {
                        let role = roles.role_of_host(&key);
                        out.push(Involved {
                            ip: None,
                            key,
                            role,
                            key_role: role,
                        });
                    }
                }
            }
        }
        for ip in &a.related_ips {
            out.push(by_ip(*ip, roles, names));
        }
        out.sort();
        out.dedup();
        a.involved = out;
    }
}

fn by_ip<R: Roles + ?Sized>(ip: std::net::IpAddr, roles: &R, names: &Directory) -> Involved {
    let key = names.key_for_ip(ip);
    let key_role = roles.role_of_host(&key);
    Involved {
        ip: Some(ip),
        key,
        role: roles.role_of_ip(ip),
        key_role,
    }
}
