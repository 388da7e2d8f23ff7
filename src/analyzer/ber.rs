//! BER/DER reading for the application analyzers: the one place that turns
//! ASN.1 tag-length-value bytes into typed pieces, shared by the Kerberos
//! and LDAP parsers (stage 2, source: capture payloads in, typed records out).
//!
//! Only definite lengths are accepted, every length is checked against the
//! bytes present before anything is sliced, and the reader never recurses on
//! its own: callers walk the structures they expect, so nesting depth is
//! bounded by code, not by input.

use thiserror::Error;

/// Why an application payload could not be read. The reason is a fixed text
/// suitable as a `Diagnostics` skip reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The bytes end before the structure does (may parse once more arrive).
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// The bytes are not the expected structure.
    #[error("malformed: {0}")]
    Malformed(&'static str),
}

/// ASN.1 tag classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Universal (INTEGER, SEQUENCE, ...).
    Universal,
    /// `[APPLICATION n]`.
    Application,
    /// `[n]`, context-specific.
    Context,
    /// Private.
    Private,
}

/// One tag-length-value element, borrowing its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Tag class.
    pub class: Class,
    /// Constructed (holds further elements) or primitive.
    pub constructed: bool,
    /// Tag number.
    pub tag: u32,
    /// The value bytes.
    pub body: &'a [u8],
}

/// Universal tag numbers used by the analyzers.
pub mod universal {
    /// BOOLEAN.
    pub const BOOLEAN: u32 = 1;
    /// INTEGER.
    pub const INTEGER: u32 = 2;
    /// BIT STRING.
    pub const BIT_STRING: u32 = 3;
    /// OCTET STRING.
    pub const OCTET_STRING: u32 = 4;
    /// ENUMERATED.
    pub const ENUMERATED: u32 = 10;
    /// SEQUENCE / SEQUENCE OF.
    pub const SEQUENCE: u32 = 16;
    /// SET / SET OF.
    pub const SET: u32 = 17;
}

/// Reads one element from the front of `input`; returns it and the rest.
pub fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), ParseError> {
    let first = *input.first().ok_or(ParseError::Truncated("ber tag"))?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut at = 1usize;
    let mut tag = u32::from(first & 0x1f);
    if tag == 0x1f {
        tag = 0;
        let mut n = 0;
        loop {
            let b = *input.get(at).ok_or(ParseError::Truncated("ber tag"))?;
            at += 1;
            n += 1;
            if n > 4 {
                return Err(ParseError::Malformed("ber tag too long"));
            }
            tag = (tag << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let l0 = *input.get(at).ok_or(ParseError::Truncated("ber length"))?;
    at += 1;
    let len = if l0 & 0x80 == 0 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 {
            return Err(ParseError::Malformed("ber indefinite length"));
        }
        if n > 4 {
            return Err(ParseError::Malformed("ber length too long"));
        }
        let bytes = input
            .get(at..at + n)
            .ok_or(ParseError::Truncated("ber length"))?;
        at += n;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let end = at
        .checked_add(len)
        .ok_or(ParseError::Malformed("ber length"))?;
    let body = input
        .get(at..end)
        .ok_or(ParseError::Truncated("ber value"))?;
    let rest = input.get(end..).unwrap_or(&[]);
    Ok((
        Tlv {
            class,
            constructed,
            tag,
            body,
        },
        rest,
    ))
}

/// Reads the element at the front of `input` and checks its class and tag.
pub fn expect<'a>(
    input: &'a [u8],
    class: Class,
    tag: u32,
    what: &'static str,
) -> Result<(Tlv<'a>, &'a [u8]), ParseError> {
    let (t, rest) = read_tlv(input)?;
    if t.class != class || t.tag != tag {
        return Err(ParseError::Malformed(what));
    }
    Ok((t, rest))
}

impl<'a> Tlv<'a> {
    /// The elements inside a constructed value, in order.
    pub fn children(&self) -> Children<'a> {
        Children { rest: self.body }
    }

    /// The value as a signed integer of at most eight bytes.
    pub fn int(&self) -> Result<i64, ParseError> {
        int_of(self.body)
    }

    /// The body of the one element inside an explicit tag (`[n] EXPLICIT`).
    pub fn inner(&self) -> Result<Tlv<'a>, ParseError> {
        read_tlv(self.body).map(|(t, _)| t)
    }
}

/// Two's-complement big-endian integer bytes as an `i64`.
pub fn int_of(body: &[u8]) -> Result<i64, ParseError> {
    if body.is_empty() {
        return Err(ParseError::Malformed("ber empty integer"));
    }
    // Allow one leading sign byte beyond eight (unsigned 64-bit values).
    let body = if body.len() == 9 && body.first() == Some(&0) {
        body.get(1..).unwrap_or(&[])
    } else {
        body
    };
    if body.len() > 8 {
        return Err(ParseError::Malformed("ber integer too long"));
    }
    let neg = body.first().is_some_and(|b| b & 0x80 != 0);
    let mut v: i64 = if neg { -1 } else { 0 };
    for b in body {
        v = (v << 8) | i64::from(*b);
    }
    Ok(v)
}

/// Iterator over the elements in a constructed body; stops after the first error.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read_tlv(self.rest) {
            Ok((t, rest)) => {
                self.rest = rest;
                Some(Ok(t))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// The explicitly tagged context fields `[n]` of a SEQUENCE body, by number:
/// `fields[n]` holds the inner element of `[n]` for `n < N`. Other elements
/// are ignored; a repeated tag keeps the first.
pub fn context_fields<'a, const N: usize>(
    seq: &Tlv<'a>,
) -> Result<[Option<Tlv<'a>>; N], ParseError> {
    let mut out = [None; N];
    for child in seq.children() {
        let child = child?;
        if child.class != Class::Context {
            continue;
        }
        if let Some(slot) = usize::try_from(child.tag).ok().and_then(|i| out.get_mut(i))
            && slot.is_none()
        {
            *slot = Some(child.inner()?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        let (t, rest) = read_tlv(&[0x02, 0x01, 0x05, 0xff]).unwrap();
        assert_eq!((t.class, t.tag, t.int().unwrap()), (Class::Universal, 2, 5));
        assert_eq!(rest, &[0xff]);
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(b'a', 256));
        let (t, rest) = read_tlv(&long).unwrap();
        assert_eq!(t.body.len(), 256);
        assert!(rest.is_empty());
    }

    #[test]
    fn lengths_past_the_end_and_indefinite_are_refused() {
        assert_eq!(
            read_tlv(&[0x30, 0x05, 0x01]),
            Err(ParseError::Truncated("ber value"))
        );
        assert!(matches!(
            read_tlv(&[0x30, 0x80, 0, 0]),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            read_tlv(&[0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Err(ParseError::Malformed(_))
        ));
        assert!(read_tlv(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn high_tag_numbers_and_negative_integers() {
        let (t, _) = read_tlv(&[0x7f, 0x81, 0x00, 0x00]).unwrap();
        assert_eq!(
            (t.class, t.tag, t.constructed),
            (Class::Application, 128, true)
        );
        assert_eq!(int_of(&[0xff]).unwrap(), -1);
        assert_eq!(int_of(&[0xff, 0x79]).unwrap(), -135);
        assert_eq!(int_of(&[0x00, 0xff]).unwrap(), 255);
    }
}
