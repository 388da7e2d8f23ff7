//! The less common fields of a [`LogEvent`], kept apart so that events stay
//! small: part of the normalised-event seam between sources and the rest.
//!
//! `analyze`, `baseline` and `sweep` hold every event of their input in
//! memory, and most events (a LANL authentication record, say) carry none
//! of these fields; a Windows logon carries two or three. So they live in
//! one boxed list holding only the fields present (32 bytes each), not in
//! the event itself. Sources set them with the `set_*` and `push_*`
//! methods; consumers read them with the accessors of the same names.

use super::{Duration, LogEvent, Text};
use serde::{Deserialize, Serialize};

/// The less common fields of one [`LogEvent`]: only those present, in a
/// fixed order (field by field; labels and DNS answers in the order given),
/// so that two events with the same fields compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventDetail {
    /// The fields present, ordered by [`Field::rank`].
    fields: Box<[Field]>,
}

/// One less common field and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Field {
    SubjectUser(Text),
    LogonProcess(Text),
    Status(Text),
    ProcessExecutable(Text),
    ProcessCommandLine(Text),
    ServiceName(Text),
    ShareName(Text),
    ShareTarget(Text),
    RpcEndpoint(Text),
    RpcOperation(Text),
    NetworkBytes(u64),
    NetworkPackets(u64),
    Duration(Duration),
    IpProto(u8),
    DnsQuestion(Text),
    DnsAnswer(Text),
    /// Boxed so that every field stays 32 bytes.
    Label(Box<(Text, Text)>),
    // Last, so that stored events written before it read back alike.
    UserId(Text),
}

/// Which field a [`Field`] is: its place in the order of [`EventDetail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    UserId,
    SubjectUser,
    LogonProcess,
    Status,
    ProcessExecutable,
    ProcessCommandLine,
    ServiceName,
    ShareName,
    ShareTarget,
    RpcEndpoint,
    RpcOperation,
    NetworkBytes,
    NetworkPackets,
    Duration,
    IpProto,
    DnsQuestion,
    DnsAnswer,
    Label,
}

impl Field {
    fn rank(&self) -> Rank {
        match self {
            Field::UserId(_) => Rank::UserId,
            Field::SubjectUser(_) => Rank::SubjectUser,
            Field::LogonProcess(_) => Rank::LogonProcess,
            Field::Status(_) => Rank::Status,
            Field::ProcessExecutable(_) => Rank::ProcessExecutable,
            Field::ProcessCommandLine(_) => Rank::ProcessCommandLine,
            Field::ServiceName(_) => Rank::ServiceName,
            Field::ShareName(_) => Rank::ShareName,
            Field::ShareTarget(_) => Rank::ShareTarget,
            Field::RpcEndpoint(_) => Rank::RpcEndpoint,
            Field::RpcOperation(_) => Rank::RpcOperation,
            Field::NetworkBytes(_) => Rank::NetworkBytes,
            Field::NetworkPackets(_) => Rank::NetworkPackets,
            Field::Duration(_) => Rank::Duration,
            Field::IpProto(_) => Rank::IpProto,
            Field::DnsQuestion(_) => Rank::DnsQuestion,
            Field::DnsAnswer(_) => Rank::DnsAnswer,
            Field::Label(_) => Rank::Label,
        }
    }

    /// The text of a text field.
    fn text(&self) -> Option<&str> {
        match self {
            Field::UserId(t)
            | Field::SubjectUser(t)
            | Field::LogonProcess(t)
            | Field::Status(t)
            | Field::ProcessExecutable(t)
            | Field::ProcessCommandLine(t)
            | Field::ServiceName(t)
            | Field::ShareName(t)
            | Field::ShareTarget(t)
            | Field::RpcEndpoint(t)
            | Field::RpcOperation(t)
            | Field::DnsQuestion(t)
            | Field::DnsAnswer(t) => Some(t),
            _ => None,
        }
    }
}

impl EventDetail {
    /// True when the event has none of the less common fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// How many fields are present (each label and DNS answer counts one).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    fn get(&self, rank: Rank) -> Option<&Field> {
        self.fields.iter().find(|f| f.rank() == rank)
    }

    fn text(&self, rank: Rank) -> Option<&str> {
        self.get(rank).and_then(Field::text)
    }

    fn all(&self, rank: Rank) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(move |f| f.rank() == rank)
    }

    /// Replaces the field of `rank` by `value` (`None`: removes it).
    fn set(&mut self, rank: Rank, value: Option<Field>) {
        if let Some(at) = self.fields.iter().position(|f| f.rank() == rank) {
            let mut v = std::mem::take(&mut self.fields).into_vec();
            match value {
                Some(f) => {
                    if let Some(slot) = v.get_mut(at) {
                        *slot = f;
                    }
                }
                None => {
                    v.remove(at);
                }
            }
            self.fields = v.into_boxed_slice();
        } else if let Some(f) = value {
            self.push(f);
        }
    }

    /// Adds `f` after every field of its rank or before it.
    fn push(&mut self, f: Field) {
        let rank = f.rank();
        let at = self
            .fields
            .iter()
            .position(|g| g.rank() > rank)
            .unwrap_or(self.fields.len());
        let mut v = std::mem::take(&mut self.fields).into_vec();
        // Room for exactly one more: the boxed slice keeps the allocation.
        v.reserve_exact(1);
        v.insert(at.min(v.len()), f);
        self.fields = v.into_boxed_slice();
    }
}

/// Getter and setter pairs for the text fields of [`EventDetail`].
macro_rules! text_fields {
    ($($(#[$doc:meta])* $get:ident, $set:ident, $variant:ident;)*) => {
        impl LogEvent {
            $(
                $(#[$doc])*
                pub fn $get(&self) -> Option<&str> {
                    self.detail.text(Rank::$variant)
                }

                #[doc = concat!("Sets or (with `None`) removes [`LogEvent::", stringify!($get), "`].")]
                pub fn $set(&mut self, value: Option<Text>) {
                    self.detail.set(Rank::$variant, value.map(Field::$variant));
                }
            )*
        }
    };
}

text_fields! {
    /// The account's security identifier (`user.id`), e.g. a logon's
    /// TargetUserSid; set only where the record names one.
    user_id, set_user_id, UserId;
    /// The account that initiated the action when different (`user.effective`/subject).
    subject_user, set_subject_user, SubjectUser;
    /// Logon process name (Windows) or service (`sshd`, `sudo`).
    logon_process, set_logon_process, LogonProcess;
    /// Failure status (Windows Status/SubStatus, Kerberos result code).
    status, set_status, Status;
    /// Process or service image path (`process.executable`).
    process_executable, set_process_executable, ProcessExecutable;
    /// Process command line (`process.command_line`).
    process_command_line, set_process_command_line, ProcessCommandLine;
    /// Installed service name (`service.name`).
    service_name, set_service_name, ServiceName;
    /// Share name for file-share access (`file.share` style), e.g. `\\*\ADMIN$`.
    share_name, set_share_name, ShareName;
    /// Relative target name inside the share (`file.path`).
    share_target, set_share_target, ShareTarget;
    /// RPC interface called, e.g. `svcctl`, `ITaskSchedulerService` (Zeek dce_rpc `endpoint`).
    rpc_endpoint, set_rpc_endpoint, RpcEndpoint;
    /// RPC operation called, e.g. `CreateServiceW` (Zeek dce_rpc `operation`).
    rpc_operation, set_rpc_operation, RpcOperation;
    /// Name asked in a DNS answer record (`dns.question.name`).
    dns_question, set_dns_question, DnsQuestion;
}

impl LogEvent {
    /// Bytes of a flow summarised by the record, both directions (`network.bytes`).
    pub fn network_bytes(&self) -> Option<u64> {
        match self.detail.get(Rank::NetworkBytes) {
            Some(Field::NetworkBytes(n)) => Some(*n),
            _ => None,
        }
    }

    /// Sets or (with `None`) removes [`LogEvent::network_bytes`].
    pub fn set_network_bytes(&mut self, value: Option<u64>) {
        self.detail
            .set(Rank::NetworkBytes, value.map(Field::NetworkBytes));
    }

    /// Packets of a flow summarised by the record, both directions (`network.packets`).
    pub fn network_packets(&self) -> Option<u64> {
        match self.detail.get(Rank::NetworkPackets) {
            Some(Field::NetworkPackets(n)) => Some(*n),
            _ => None,
        }
    }

    /// Sets or (with `None`) removes [`LogEvent::network_packets`].
    pub fn set_network_packets(&mut self, value: Option<u64>) {
        self.detail
            .set(Rank::NetworkPackets, value.map(Field::NetworkPackets));
    }

    /// How long the summarised activity lasted (`event.duration`).
    pub fn duration(&self) -> Option<Duration> {
        match self.detail.get(Rank::Duration) {
            Some(Field::Duration(d)) => Some(*d),
            _ => None,
        }
    }

    /// Sets or (with `None`) removes [`LogEvent::duration`].
    pub fn set_duration(&mut self, value: Option<Duration>) {
        self.detail.set(Rank::Duration, value.map(Field::Duration));
    }

    /// IP protocol number of a flow record (`network.iana_number`).
    pub fn ip_proto(&self) -> Option<u8> {
        match self.detail.get(Rank::IpProto) {
            Some(Field::IpProto(p)) => Some(*p),
            _ => None,
        }
    }

    /// Sets or (with `None`) removes [`LogEvent::ip_proto`].
    pub fn set_ip_proto(&mut self, value: Option<u8>) {
        self.detail.set(Rank::IpProto, value.map(Field::IpProto));
    }

    /// Answers of a DNS record as text, addresses or names, in record order
    /// (`dns.answers[].data`).
    pub fn dns_answers(&self) -> impl Iterator<Item = &str> {
        self.detail.all(Rank::DnsAnswer).filter_map(Field::text)
    }

    /// Adds one answer after those already there.
    pub fn push_dns_answer(&mut self, answer: Text) {
        self.detail.push(Field::DnsAnswer(answer));
    }

    /// Source-specific details without an ECS field, as (key, value) in the
    /// order they were added (`labels`).
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.detail.all(Rank::Label).filter_map(|f| match f {
            Field::Label(kv) => Some((kv.0.as_str(), kv.1.as_str())),
            _ => None,
        })
    }

    /// The value of the first label named `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Adds one label after those already there.
    pub fn push_label(&mut self, key: Text, value: Text) {
        self.detail.push(Field::Label(Box::new((key, value))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_back_replace_and_clear() {
        let mut e = LogEvent::default();
        assert!(e.detail.is_empty());
        assert_eq!(e.status(), None);
        e.set_status(Some("0xc000006d".into()));
        e.set_subject_user(Some("alice".into()));
        e.set_network_bytes(Some(144));
        e.set_duration(Some(Duration::from_secs(9)));
        assert_eq!(e.status(), Some("0xc000006d"));
        assert_eq!(e.subject_user(), Some("alice"));
        assert_eq!(e.network_bytes(), Some(144));
        assert_eq!(e.network_packets(), None);
        assert_eq!(e.duration(), Some(Duration::from_secs(9)));
        e.set_status(Some("preauth".into()));
        assert_eq!(e.status(), Some("preauth"));
        assert_eq!(e.detail.len(), 4);
        e.set_status(None);
        e.set_ip_proto(None);
        assert_eq!(e.status(), None);
        assert_eq!(e.detail.len(), 3);
        e.set_subject_user(None);
        e.set_network_bytes(None);
        e.set_duration(None);
        assert!(e.detail.is_empty());
        assert_eq!(e, LogEvent::default());
    }

    #[test]
    fn the_order_fields_are_set_in_does_not_matter() {
        let mut a = LogEvent::default();
        a.set_share_name(Some("\\\\*\\C$".into()));
        a.push_label("k1".into(), "v1".into());
        a.set_logon_process(Some("NtLmSsp".into()));
        a.push_dns_answer("10.0.0.1".into());
        a.push_label("k2".into(), "v2".into());
        let mut b = LogEvent::default();
        b.push_label("k1".into(), "v1".into());
        b.push_dns_answer("10.0.0.1".into());
        b.push_label("k2".into(), "v2".into());
        b.set_logon_process(Some("NtLmSsp".into()));
        b.set_share_name(Some("\\\\*\\C$".into()));
        assert_eq!(a, b);
        b.push_label("k3".into(), "v3".into());
        assert_ne!(a, b);
    }

    #[test]
    fn labels_and_answers_keep_their_order() {
        let mut e = LogEvent::default();
        e.push_label("b".into(), "1".into());
        e.push_dns_answer("srv.corp".into());
        e.push_label("a".into(), "2".into());
        e.push_label("b".into(), "3".into());
        e.push_dns_answer("10.0.0.2".into());
        e.set_dns_question(Some("q.corp".into()));
        let labels: Vec<_> = e.labels().collect();
        assert_eq!(labels, [("b", "1"), ("a", "2"), ("b", "3")]);
        assert_eq!(e.label("b"), Some("1"));
        assert_eq!(e.label("c"), None);
        let answers: Vec<_> = e.dns_answers().collect();
        assert_eq!(answers, ["srv.corp", "10.0.0.2"]);
        assert_eq!(e.dns_question(), Some("q.corp"));
    }

    #[test]
    fn each_field_takes_32_bytes() {
        // The list's whole point: a field present costs 32 bytes, not the
        // 300-odd of a struct with room for every one of them.
        assert!(std::mem::size_of::<Field>() <= 32);
    }
}
