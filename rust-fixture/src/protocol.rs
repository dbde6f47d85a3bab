//! The protocol versions a handle can speak (PROTOCOL.md §14 and the changelog, §14.1).
//!
//! A handle told to speak 1.0 writes minor 0 into the header, its participant entry and its
//! records' provenance, creates only 1.0 features, and as a reader knows only the 1.0 feature
//! bits, so it refuses a `FAST_CHECKSUM` segment with `unsupported_features` exactly as a 1.0
//! build does. That is how old-format segments and old readers are produced without old code.

use crate::layout::{FEATURE_FAST_CHECKSUM, KNOWN_INCOMPAT_FEATURES, KNOWN_INCOMPAT_FEATURES_1_0, PROTOCOL_MAJOR};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
/// A protocol version a handle can speak.
pub enum Protocol {
    /// 1.0: the first release.
    V1_0,
    /// The newest, and the default.
    #[default]
    V1_1,
}

impl Protocol {
    /// Every version this implementation speaks, oldest first (`hello.protocols`).
    pub const ALL: [Protocol; 2] = [Protocol::V1_0, Protocol::V1_1];

    /// The major, 1 for every version here.
    pub fn major(self) -> u64 {
        PROTOCOL_MAJOR
    }

    /// The minor written into `version`, participant `info` and record provenance.
    pub fn minor(self) -> u64 {
        match self {
            Protocol::V1_0 => 0,
            Protocol::V1_1 => 1,
        }
    }

    /// The `features_incompat` bits a reader speaking this version understands (§4.2 step 8).
    pub fn known_incompat(self) -> u64 {
        match self {
            Protocol::V1_0 => KNOWN_INCOMPAT_FEATURES_1_0,
            Protocol::V1_1 => KNOWN_INCOMPAT_FEATURES,
        }
    }

    /// The §3 names of those features (`hello.features`).
    pub fn features(self) -> Vec<&'static str> {
        let mut out = vec!["SIM_CLOCK"];
        if self.known_incompat() & FEATURE_FAST_CHECKSUM != 0 {
            out.push("FAST_CHECKSUM");
        }
        out
    }

    /// Reads `"1.0"` or `"1.1"`.
    pub fn parse(s: &str) -> Result<Protocol, String> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.to_string() == s)
            .ok_or_else(|| format!("protocol {s:?} is not one this implementation speaks (1.0, 1.1)"))
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major(), self.minor())
    }
}

/// A future-version test image (§14, FoundationDB's trick): a segment claiming a version that
/// does not exist yet, so that today's readers are checked against it. Tests only; the creator's
/// own handle works on it as on any segment it created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutureImage {
    /// 1.9 with `features_compat` bit 63: every 1.x reader reads it.
    Minor,
    /// 1.9 with `features_incompat` bit 63: refused with `unsupported_features`.
    Incompat,
    /// 2.0: refused with `unsupported_major`.
    Major,
}

/// Bit 63 of either feature word, never assigned to a feature (§3).
pub const FUTURE_UNKNOWN_BIT: u64 = 1 << 63;

impl FutureImage {
    /// Reads `minor`, `incompat` or `major`.
    pub fn parse(s: &str) -> Option<FutureImage> {
        match s {
            "minor" => Some(FutureImage::Minor),
            "incompat" => Some(FutureImage::Incompat),
            "major" => Some(FutureImage::Major),
            _ => None,
        }
    }

    /// Rewrites the version and feature words of a header being created, before its checksum.
    pub(crate) fn apply(self, version: &mut u64, incompat: &mut u64, compat: &mut u64) {
        let size = crate::layout::HEADER_SIZE << 32;
        match self {
            FutureImage::Minor => {
                *version = PROTOCOL_MAJOR | (9 << 16) | size;
                *compat |= FUTURE_UNKNOWN_BIT;
            }
            FutureImage::Incompat => {
                *version = PROTOCOL_MAJOR | (9 << 16) | size;
                *incompat |= FUTURE_UNKNOWN_BIT;
            }
            FutureImage::Major => *version = 2 | size,
        }
    }
}
