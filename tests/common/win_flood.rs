//! The lines of a generated Windows failure flood (Winlogbeat 8 JSON
//! lines): most of them failed network logons (4625) and failed Kerberos
//! pre-authentications (4771) from a distinct outside address, some
//! logons accepted from inside, on twelve servers and a domain controller.

/// The Winlogbeat stamp of second `t` counted from 1 May 2024, 00:00.
pub fn stamp(t: u64) -> String {
    let (d, s) = (1 + t / 86_400, t % 86_400);
    format!(
        "2024-05-{d:02}T{:02}:{:02}:{:02}.000Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// One Security event of `id` at second `t`, written by `host`, with the
/// event data `data` (a JSON object's members).
pub fn event(t: u64, id: u32, host: &str, data: &str) -> String {
    format!(
        "{{\"@timestamp\":\"{}\",\"event\":{{\"code\":\"{id}\",\"kind\":\"event\",\"provider\":\"Microsoft-Windows-Security-Auditing\"}},\"host\":{{\"name\":\"{host}.corp.local\"}},\"winlog\":{{\"channel\":\"Security\",\"computer_name\":\"{host}.corp.local\",\"event_id\":\"{id}\",\"provider_name\":\"Microsoft-Windows-Security-Auditing\",\"event_data\":{{{data}}}}}}}\n",
        stamp(t)
    )
}

/// A network logon (4624) or failed one (4625) on `host` for `user` from
/// `addr` (the workstation not written).
pub fn logon(t: u64, ok: bool, host: &str, user: &str, addr: &str) -> String {
    let data = format!(
        "\"TargetUserName\":\"{user}\",\"TargetDomainName\":\"CORP\",\"LogonType\":\"3\",\"IpAddress\":\"{addr}\",\"IpPort\":\"49800\",\"WorkstationName\":\"-\",\"AuthenticationPackageName\":\"NTLM\",\"LogonProcessName\":\"NtLmSsp \"{}",
        if ok {
            ""
        } else {
            ",\"Status\":\"0xc000006d\",\"SubStatus\":\"0xc000006a\""
        }
    );
    event(t, if ok { 4624 } else { 4625 }, host, &data)
}

/// A failed Kerberos pre-authentication (4771) at `dc01` for `user` from
/// `addr`.
pub fn preauth_failed(t: u64, user: &str, addr: &str) -> String {
    let data = format!(
        "\"TargetUserName\":\"{user}\",\"ServiceName\":\"krbtgt/CORP\",\"Status\":\"0x18\",\"PreAuthType\":\"2\",\"IpAddress\":\"::ffff:{addr}\",\"IpPort\":\"51000\""
    );
    event(t, 4771, "dc01", &data)
}

/// One flood line at second `t` from the draw `r`: a logon accepted from
/// inside one time in six, a failed pre-authentication at the domain
/// controller two in six, else a failed network logon on one of twelve
/// servers; the account one of `users`, the outside address drawn from
/// `r`.
pub fn line(t: u64, r: u64, users: &[&str]) -> String {
    let u = super::sshd_flood::account(users, r, "administrator");
    let host = format!("fs{:02}", (r >> 8) % 12);
    let addr = super::sshd_flood::outside_addr(r);
    match (r >> 56) % 6 {
        0 => {
            let inside = format!("10.0.{}.{}", (r >> 20) % 3, 1 + (r >> 28) % 20);
            logon(t, true, &host, u, &inside)
        }
        1 | 2 => preauth_failed(t, u, &addr),
        _ => logon(t, false, &host, u, &addr),
    }
}
