//! Typed decoders for the replies a client depends on.
#![allow(unused_variables)]

use super::ReplyRef;
use crate::time::Timestamp;
use core::net::{Ipv4Addr, SocketAddrV4};

/// The address of a 227 reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PassiveAddr {
    /// The IPv4 address the server wrote.
    pub ip: Ipv4Addr,
    /// The port (1..=65535).
    pub port: u16,
}

impl PassiveAddr {
    /// As a socket address.
    pub fn socket_addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.ip, self.port)
    }
}

/// One FEAT line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Feature {
    /// The feature label, upper-cased.
    pub name: String,
    /// The parameters as sent (may be empty).
    pub params: String,
}

/// The features of a 211 FEAT reply, in the order sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    list: Vec<Feature>,
}

impl Features {
    /// Whether the feature `name` is present (case ignored).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// The parameters of `name` (case ignored), if present.
    pub fn params(&self, name: &str) -> Option<&str> {
        self.get(name).map(|f| f.params.as_str())
    }
    /// The feature `name` (case ignored), if present.
    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.list.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
    /// The features in order.
    pub fn iter(&self) -> core::slice::Iter<'_, Feature> {
        self.list.iter()
    }
    /// Number of features.
    pub fn len(&self) -> usize {
        self.list.len()
    }
    /// Whether there are no features.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Why a decoder refused a reply.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The reply has a code the decoder does not handle.
    #[error("unexpected reply code {got} (expected {expected})")]
    UnexpectedCode {
        /// The code received.
        got: u16,
        /// The code(s) expected, e.g. `"227"` or `"150 or 125"`.
        expected: &'static str,
    },
    /// The decoder needs a single-line reply.
    #[error("expected a single-line {code} reply")]
    MultiLine {
        /// The code received.
        code: u16,
    },
    /// The reply text does not have the expected form.
    #[error("malformed {kind} reply: {reason}")]
    Malformed {
        /// Which reply (`"PASV"`, `"EPSV"`, `"PWD"`, `"SIZE"`, `"MDTM"`, `"FEAT"`, `"transfer"`).
        kind: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// 227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).
pub fn pasv(r: ReplyRef<'_>) -> Result<PassiveAddr, DecodeError> {
    todo!()
}
/// 229 Entering Extended Passive Mode (|||port|).
pub fn epsv(r: ReplyRef<'_>) -> Result<u16, DecodeError> {
    todo!()
}
/// 257 "path".
pub fn path(r: ReplyRef<'_>) -> Result<Vec<u8>, DecodeError> {
    todo!()
}
/// 213 size.
pub fn size(r: ReplyRef<'_>) -> Result<u64, DecodeError> {
    todo!()
}
/// 213 YYYYMMDDHHMMSS[.fff].
pub fn mdtm(r: ReplyRef<'_>) -> Result<Timestamp, DecodeError> {
    todo!()
}
/// 211 FEAT.
pub fn feat(r: ReplyRef<'_>) -> Result<Features, DecodeError> {
    todo!()
}
/// 150/125 "(N bytes)".
pub fn transfer_size(r: ReplyRef<'_>) -> Result<Option<u64>, DecodeError> {
    todo!()
}
