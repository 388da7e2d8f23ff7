//! The lines of a generated sshd flood: most failures from a distinct
//! outside address, some logons accepted from inside, on twelve servers.

/// A xorshift generator of a flood's draws, from its seed.
pub struct Draws(pub u64);

impl Draws {
    /// The next draw.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The syslog stamp of second `t` counted from 1 December, 00:00.
pub fn stamp(t: u64) -> String {
    let (d, s) = (1 + t / 86_400, t % 86_400);
    format!(
        "Dec {d:2} {:02}:{:02}:{:02}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// The account of the draw `r`: one of `users`, or `none` when empty.
pub fn account<'a>(users: &[&'a str], r: u64, none: &'a str) -> &'a str {
    users
        .get((r % users.len().max(1) as u64) as usize)
        .copied()
        .unwrap_or(none)
}

/// The address of the draw `r`: first octet 1 to 222, last 1 to 254.
pub fn outside_addr(r: u64) -> String {
    format!(
        "{}.{}.{}.{}",
        1 + (r >> 16) % 222,
        (r >> 24) % 256,
        (r >> 32) % 256,
        1 + (r >> 40) % 254
    )
}

/// One flood line at second `t` from the draw `r`, written by process
/// `pid`: an accepted logon from inside one time in six, an invalid user
/// one in six, else a failed password; the account one of `users`, the
/// outside address and port drawn from `r`.
pub fn line(t: u64, r: u64, pid: u64, users: &[&str]) -> String {
    let u = account(users, r, "root");
    let host = format!("web{:02}", (r >> 8) % 12);
    let addr = outside_addr(r);
    let port = 1024 + (r >> 48) % 60_000;
    let msg = match (r >> 56) % 6 {
        0 => format!(
            "Accepted password for {u} from 10.0.{}.{} port {port} ssh2",
            (r >> 20) % 3,
            1 + (r >> 28) % 20
        ),
        1 => format!("Invalid user {u} from {addr} port {port}"),
        _ => format!("Failed password for {u} from {addr} port {port} ssh2"),
    };
    format!("{} {host} sshd[{pid}]: {msg}\n", stamp(t))
}
