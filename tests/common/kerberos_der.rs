//! Kerberos messages in DER (RFC 4120), built for captures the tests write.

/// A DER element: tag byte, definite length, body.
pub fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend([0x81, n as u8]);
    } else {
        v.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(body);
    v
}

/// A one-byte INTEGER.
pub fn int(n: u8) -> Vec<u8> {
    der(0x02, &[n])
}

/// A PrincipalName of `name_type` with `parts`.
pub fn principal(name_type: u8, parts: &[&str]) -> Vec<u8> {
    let names: Vec<u8> = parts.iter().flat_map(|p| der(0x1b, p.as_bytes())).collect();
    der(
        0x30,
        &[der(0xa0, &int(name_type)), der(0xa1, &der(0x30, &names))].concat(),
    )
}

/// EncryptedData of `etype` with `len` bytes of cipher text.
pub fn encrypted(etype: u8, len: usize) -> Vec<u8> {
    der(
        0x30,
        &[
            der(0xa0, &int(etype)),
            der(0xa2, &der(0x04, &vec![0x5a; len])),
        ]
        .concat(),
    )
}

/// A TGS-REP (RFC 4120 5.4.2) granting `user@CORP.LOCAL` a ticket for
/// `service` encrypted with `etype`: `ticket_len` bytes of ticket cipher
/// text (a PAC-sized ticket makes the reply larger than one packet) and
/// `part_len` of the reply's own encrypted part (AES256).
pub fn tgs_rep(
    user: &str,
    service: &[&str],
    etype: u8,
    ticket_len: usize,
    part_len: usize,
) -> Vec<u8> {
    let realm = der(0x1b, b"CORP.LOCAL");
    let ticket = der(
        0x61,
        &der(
            0x30,
            &[
                der(0xa0, &int(5)),
                der(0xa1, &realm),
                der(0xa2, &principal(2, service)),
                der(0xa3, &encrypted(etype, ticket_len)),
            ]
            .concat(),
        ),
    );
    der(
        0x6d,
        &der(
            0x30,
            &[
                der(0xa0, &int(5)),
                der(0xa1, &int(13)),
                der(0xa3, &realm),
                der(0xa4, &principal(1, &[user])),
                der(0xa5, &ticket),
                der(0xa6, &encrypted(18, part_len)),
            ]
            .concat(),
        ),
    )
}
