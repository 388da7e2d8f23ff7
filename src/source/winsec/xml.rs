//! A Windows event in its XML rendering (`<Event xmlns=…><System>…`), as
//! Splunk's `XmlWinEventLog` keeps it in `_raw`: read into the same
//! [`Header`] and [`EventData`] as every other shape.
//!
//! The reader knows only what the rendering holds: elements, attributes in
//! single or double quotes, text, the five named entities and numeric
//! character references, comments and processing instructions. A leaf's
//! text is its value: `System`'s `EventID`, `Channel` and `Computer`,
//! `TimeCreated/@SystemTime`, `Provider/@Name`, `Security/@UserID`,
//! `EventData`'s `Data` by its `Name`, and the leaves of `UserData` by
//! their element names. Anything malformed ends the reading with what was
//! read so far; at most [`MAX_FIELDS`] fields are kept.

use super::{EventData, Header, MAX_TEXT, Text, bounded};
use crate::model::event::Timestamp;
use std::borrow::Cow;

/// The most event-data fields read from one event.
pub const MAX_FIELDS: usize = 256;

/// Decodes XML entities: `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and
/// `&#N;`/`&#xH;`; anything else is kept as written.
pub(crate) fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let tail = rest.get(at..).unwrap_or("");
        // The longest reference is `&#x10FFFF;`: look no further for its `;`.
        let end = tail.bytes().take(12).position(|b| b == b';');
        let decoded = end.and_then(|end| {
            let name = tail.get(1..end)?;
            let c = match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let n = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(n)?
                }
            };
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = tail.get(len..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// One start tag: its name and raw attribute text.
struct Tag<'a> {
    name: &'a str,
    attrs: &'a str,
}

impl<'a> Tag<'a> {
    /// The value of attribute `key`, entities decoded.
    fn attr(&self, key: &str) -> Option<String> {
        let mut rest = self.attrs;
        loop {
            let eq = rest.find('=')?;
            let k = rest.get(..eq)?.trim();
            let after = rest.get(eq + 1..)?.trim_start();
            let quote = after.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let body = after.get(1..)?;
            let close = body.find(quote)?;
            if k == key {
                return Some(decode_entities(body.get(..close)?));
            }
            rest = body.get(close + 1..)?;
        }
    }
}

/// What the rendering says, before it becomes a [`Header`] and [`EventData`].
#[derive(Default)]
struct Read {
    id: Option<String>,
    channel: Option<String>,
    provider: Option<String>,
    computer: Option<String>,
    time: Option<String>,
    fields: Vec<(String, String)>,
}

impl Read {
    /// Takes a leaf element (`tag` with `text`), inside `UserData` or not.
    fn leaf(&mut self, tag: &Tag<'_>, text: &str, in_user_data: bool) {
        let value = || decode_entities(bounded(text.trim(), MAX_TEXT));
        match tag.name {
            "EventID" => self.id = Some(value()),
            "Channel" => self.channel = Some(value()),
            "Computer" => self.computer = Some(value()),
            "Provider" => self.provider = tag.attr("Name"),
            "TimeCreated" => self.time = tag.attr("SystemTime"),
            "Security" => {
                if let Some(sid) = tag.attr("UserID") {
                    self.field("UserID".into(), sid);
                }
            }
            "Data" => {
                if let Some(name) = tag.attr("Name") {
                    self.field(name, value());
                }
            }
            name if in_user_data => self.field(name.to_string(), value()),
            _ => {}
        }
    }

    fn field(&mut self, name: String, value: String) {
        if self.fields.len() < MAX_FIELDS {
            self.fields.push((name, value));
        }
    }
}

/// Reads an event's XML; `None` when it names no event id. `fallback_ts`
/// stands in when the XML has no `TimeCreated`.
pub(super) fn read_event(
    xml: &str,
    fallback_ts: Option<Timestamp>,
) -> Option<(Header<'static>, EventData<'static>)> {
    let read = scan(xml);
    let id: u32 = read.id.as_deref()?.trim().parse().ok()?;
    let ts = read
        .time
        .as_deref()
        .and_then(Timestamp::parse_rfc3339)
        .or(fallback_ts);
    let header = Header {
        event_id: Some(id),
        channel: read.channel.or(read.provider).map(Cow::Owned),
        computer: read.computer.map(Cow::Owned),
        ts,
    };
    let mut data = EventData::default();
    for (k, v) in read.fields {
        data.set(&k, Text(Some(Cow::Owned(v))));
    }
    Some((header, data))
}

/// Walks the elements of `xml`, collecting leaves.
fn scan(xml: &str) -> Read {
    let mut read = Read::default();
    let mut rest = xml;
    // The innermost open element, replaced when a child opens and cleared
    // when one closes: only leaves carry values, and a leaf's text is the
    // text just before its end tag.
    let mut open: Option<Tag<'_>> = None;
    let mut user_data = false;
    while let Some(lt) = rest.find('<') {
        let text = rest.get(..lt).unwrap_or("");
        let tail = rest.get(lt..).unwrap_or("");
        if let Some(after) = tail.strip_prefix("<!--") {
            let Some(end) = after.find("-->") else { break };
            rest = after.get(end + 3..).unwrap_or("");
            continue;
        }
        if let Some(after) = tail.strip_prefix("<?") {
            let Some(end) = after.find("?>") else { break };
            rest = after.get(end + 2..).unwrap_or("");
            continue;
        }
        let Some(gt) = tail.find('>') else { break };
        let inner = tail.get(1..gt).unwrap_or("");
        rest = tail.get(gt + 1..).unwrap_or("");
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim();
            if let Some(tag) = open.take()
                && tag.name == name
            {
                read.leaf(&tag, text, user_data);
            }
            if name == "UserData" {
                user_data = false;
            }
            continue;
        }
        let self_closing = inner.ends_with('/');
        let inner = inner.trim_end_matches('/');
        let (name, attrs) = match inner.find(|c: char| c.is_whitespace()) {
            Some(sp) => (inner.get(..sp).unwrap_or(""), inner.get(sp..).unwrap_or("")),
            None => (inner, ""),
        };
        let tag = Tag { name, attrs };
        if self_closing {
            read.leaf(&tag, "", user_data);
            open = None;
        } else {
            if name == "UserData" {
                user_data = true;
            }
            open = Some(tag);
        }
    }
    read
}
