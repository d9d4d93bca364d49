//! Opaque global ids (`node(id:)`): the type name and the row id, base64url-encoded.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The kinds of object that have a global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    Organization,
    User,
    Question,
    Kit,
    Module,
    Revision,
    ReviewCycle,
    Comment,
    Reply,
    Notification,
    AuditEvent,
}

impl NodeKind {
    /// The GraphQL type name, also the prefix inside the id.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Organization => "Organization",
            NodeKind::User => "User",
            NodeKind::Question => "Question",
            NodeKind::Kit => "Kit",
            NodeKind::Module => "Module",
            NodeKind::Revision => "Revision",
            NodeKind::ReviewCycle => "ReviewCycle",
            NodeKind::Comment => "Comment",
            NodeKind::Reply => "Reply",
            NodeKind::Notification => "Notification",
            NodeKind::AuditEvent => "AuditEvent",
        }
    }
}

impl FromStr for NodeKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "Organization" => NodeKind::Organization,
            "User" => NodeKind::User,
            "Question" => NodeKind::Question,
            "Kit" => NodeKind::Kit,
            "Module" => NodeKind::Module,
            "Revision" => NodeKind::Revision,
            "ReviewCycle" => NodeKind::ReviewCycle,
            "Comment" => NodeKind::Comment,
            "Reply" => NodeKind::Reply,
            "Notification" => NodeKind::Notification,
            "AuditEvent" => NodeKind::AuditEvent,
            _ => return Err(()),
        })
    }
}

/// A decoded global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalId {
    pub kind: NodeKind,
    pub id: i64,
}

/// Why a string is not a global id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("not a valid id")]
    Malformed,
    #[error("this id names a {found}, not a {expected}")]
    WrongKind {
        expected: &'static str,
        found: &'static str,
    },
}

impl GlobalId {
    pub fn new(kind: NodeKind, id: i64) -> Self {
        Self { kind, id }
    }

    /// Decode any global id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.len() > 64 {
            return Err(IdError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| IdError::Malformed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| IdError::Malformed)?;
        let (kind, digits) = text.split_once(':').ok_or(IdError::Malformed)?;
        let kind = kind.parse().map_err(|_| IdError::Malformed)?;
        let id: i64 = digits.parse().map_err(|_| IdError::Malformed)?;
        // Only the canonical decimal form is accepted, so one object has one id.
        if id <= 0 || id.to_string() != digits {
            return Err(IdError::Malformed);
        }
        Ok(Self { kind, id })
    }

    /// Decode a global id that must be of `kind`.
    pub fn parse_kind(s: &str, kind: NodeKind) -> Result<i64, IdError> {
        let gid = Self::parse(s)?;
        if gid.kind != kind {
            return Err(IdError::WrongKind {
                expected: kind.as_str(),
                found: gid.kind.as_str(),
            });
        }
        Ok(gid.id)
    }
}

impl fmt::Display for GlobalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = format!("{}:{}", self.kind.as_str(), self.id);
        f.write_str(&URL_SAFE_NO_PAD.encode(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let gid = GlobalId::new(NodeKind::User, 42);
        let s = gid.to_string();
        assert_eq!(GlobalId::parse(&s), Ok(gid));
        assert_eq!(GlobalId::parse_kind(&s, NodeKind::User), Ok(42));
    }

    #[test]
    fn rejects_wrong_kind_and_junk() {
        let s = GlobalId::new(NodeKind::Question, 7).to_string();
        assert!(matches!(
            GlobalId::parse_kind(&s, NodeKind::User),
            Err(IdError::WrongKind { .. })
        ));
        for junk in [
            "",
            "!!!",
            "VXNlcjo",
            "VXNlcjphYmM",
            "VXNlcjotMQ",
            "VXNlcjowMQ",
        ] {
            assert_eq!(GlobalId::parse(junk), Err(IdError::Malformed), "{junk}");
        }
        let huge = "A".repeat(100);
        assert_eq!(GlobalId::parse(&huge), Err(IdError::Malformed));
    }
}
