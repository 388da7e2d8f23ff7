//! How a generated network differs from the classic one: time zone and
//! weekend, address plan, naming scheme, the mix of roles and the habits of
//! administrators, help desk, monitoring and infrastructure. `lateral gen
//! --vary` draws one [`Shape`] from the seed, so that detectors are judged
//! on many kinds of network, not on the one the project was written
//! against; without `--vary` the classic shape is used and the output is
//! unchanged. The drawn shape is written into `truth.json`.
//!
//! The generator works in the network's local time; the writers shift every
//! capture and log time by [`Shape::output_shift`], which carries the time
//! zone and, as whole days, which days are the weekend.

use crate::model::event::NANOS_PER_SEC;
use crate::synth::bulk::Rng;
use serde::{Deserialize, Serialize};

/// How hosts are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// `ws-017`, `dc01`, `adm-01`, `lnx03`.
    Classic,
    /// `PC0017`, `SRV-DC01`, `ADM0001`, `LNXAPP03`: upper-case asset tags.
    AssetTag,
    /// `tky-lt-0017`, `tky-dc-01`: a site code, a kind and a number.
    SiteCoded,
    /// `DESKTOP-7QK2M1A` for workstations (Windows' random default names),
    /// role words for servers (`files2`, `dc-east`).
    Random,
}

/// Which addresses hosts log on from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressPlan {
    /// IPv4 only (Windows writes `::ffff:a.b.c.d` mapped addresses).
    V4Only,
    /// Workstations also have unique-local IPv6 addresses; Windows servers
    /// log some of their logons from those, and DNS answers AAAA records.
    DualStack,
    /// As [`AddressPlan::DualStack`], and most logons come over IPv6, some
    /// from link-local addresses.
    MostlyV6,
}

/// What the monitoring server (when there is one) polls servers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitoring {
    /// No monitoring server.
    None,
    /// WinRM (5985) to Windows servers, SSH to Linux servers, every few minutes.
    WinrmSsh,
    /// SMB (445, the admin share) to Windows servers, SSH to Linux servers.
    SmbSsh,
}

/// One draw of the network's shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// Local time minus UTC, in minutes.
    pub utc_offset_minutes: i32,
    /// Days the calendar is moved back: 0 keeps a Saturday-Sunday
    /// weekend, 1 gives Friday-Saturday, 2 Thursday-Friday.
    pub weekend_shift_days: u8,
    /// Naming scheme.
    pub naming: Naming,
    /// The internal /16, as its first two octets.
    pub prefix: [u8; 2],
    /// Which addresses logons come from.
    pub address_plan: AddressPlan,
    /// Multipliers of the default counts of domain controllers, file
    /// servers, Linux servers and admin workstations.
    pub role_scale: [f32; 4],
    /// Help-desk workstations, which open C$ and RDP on users' workstations.
    pub help_desk: u8,
    /// The monitoring server's protocols.
    pub monitoring: Monitoring,
    /// Domain controllers forward DNS to an outside resolver.
    pub dns_forwarding: bool,
    /// Domain controllers take time from an outside NTP server.
    pub ntp_upstream: bool,
    /// Local hour the nightly backup starts.
    pub backup_hour: u8,
    /// Chance per admin and working day of a first session on one more
    /// server of a kind it already administers.
    pub admin_spread: f32,
    /// Software roll-outs from an admin workstation to about twenty
    /// workstations (benign novelties).
    pub admin_rollouts: u8,
    /// Workstations that join the network during the detection window,
    /// besides the new hire.
    pub new_machines: u8,
}

impl Shape {
    /// The network `lateral gen` writes without `--vary`.
    pub fn classic() -> Shape {
        Shape {
            utc_offset_minutes: 0,
            weekend_shift_days: 0,
            naming: Naming::Classic,
            prefix: [10, 10],
            address_plan: AddressPlan::V4Only,
            role_scale: [1.0; 4],
            help_desk: 0,
            monitoring: Monitoring::None,
            dns_forwarding: false,
            ntp_upstream: false,
            backup_hour: 1,
            admin_spread: 0.0,
            admin_rollouts: 0,
            new_machines: 0,
        }
    }

    /// A shape drawn at random from `seed` (the generator's seed; the draw
    /// uses its own stream, so the rest of the generation is unaffected).
    pub fn draw(seed: u64) -> Shape {
        let mut rng = Rng::new(seed ^ 0x5ba9_e0d1_7c3f_2a11);
        let mut pick = |n: u64| rng.below(n);
        // Time zones from UTC-8 to UTC+10, some on half hours.
        let utc_offset_minutes = (pick(19) as i32 - 8) * 60 + if pick(5) == 0 { 30 } else { 0 };
        let weekend_shift_days = [0, 0, 0, 1, 2][pick(5) as usize];
        let naming = [
            Naming::Classic,
            Naming::AssetTag,
            Naming::SiteCoded,
            Naming::Random,
        ][pick(4) as usize];
        let prefix = match pick(3) {
            0 => [10, 1 + pick(250) as u8],
            1 => [172, 16 + pick(16) as u8],
            _ => [192, 168],
        };
        let address_plan = [
            AddressPlan::V4Only,
            AddressPlan::V4Only,
            AddressPlan::DualStack,
            AddressPlan::MostlyV6,
        ][pick(4) as usize];
        let mut scale = || 0.5 + pick(21) as f32 / 10.0;
        let role_scale = [scale(), scale(), scale(), scale()];
        let help_desk = pick(4) as u8;
        let monitoring =
            [Monitoring::None, Monitoring::WinrmSsh, Monitoring::SmbSsh][pick(3) as usize];
        let dns_forwarding = pick(3) != 0;
        let ntp_upstream = pick(2) == 0;
        let backup_hour = [19, 21, 22, 23, 0, 1, 2, 3][pick(8) as usize];
        let admin_spread = pick(5) as f32 / 10.0;
        let admin_rollouts = pick(3) as u8;
        let new_machines = pick(6) as u8;
        Shape {
            utc_offset_minutes,
            weekend_shift_days,
            naming,
            prefix,
            address_plan,
            role_scale,
            help_desk,
            monitoring,
            dns_forwarding,
            ntp_upstream,
            backup_hour,
            admin_spread,
            admin_rollouts,
            new_machines,
        }
    }

    /// Nanoseconds to subtract from a local time to get the UTC time written
    /// to captures, logs and the truth.
    pub fn output_shift(&self) -> i64 {
        (i64::from(self.utc_offset_minutes) * 60 + i64::from(self.weekend_shift_days) * 86_400)
            * NANOS_PER_SEC
    }

    /// True when this is the classic shape.
    pub fn is_classic(&self) -> bool {
        *self == Shape::classic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ_across_seeds_and_repeat_for_one_seed() {
        let draws: Vec<Shape> = (0..40).map(Shape::draw).collect();
        assert_eq!(Shape::draw(7), Shape::draw(7));
        let namings: std::collections::BTreeSet<String> =
            draws.iter().map(|s| format!("{:?}", s.naming)).collect();
        assert_eq!(namings.len(), 4);
        let zones: std::collections::BTreeSet<i32> =
            draws.iter().map(|s| s.utc_offset_minutes).collect();
        assert!(zones.len() > 8, "{zones:?}");
        assert!(draws.iter().any(|s| s.monitoring == Monitoring::WinrmSsh));
        assert!(
            draws
                .iter()
                .any(|s| s.address_plan == AddressPlan::MostlyV6)
        );
        assert!(
            draws
                .iter()
                .all(|s| s.role_scale.iter().all(|&x| (0.5..=2.5).contains(&x)))
        );
        assert!(Shape::classic().is_classic());
        assert_eq!(Shape::classic().output_shift(), 0);
    }
}
