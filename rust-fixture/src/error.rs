//! Typed errors (PROTOCOL.md §15). Every error has a stable `code()` string, spelled as in the
//! spec and shared by all implementations, and a message saying what went wrong and where.

use std::fmt;

/// Why opening or creating a segment failed (§15, first list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenErrorKind {
    NotFound,
    Symlink,
    NotRegularFile,
    ForeignOwner,
    TooShort,
    BadMagic,
    UnsupportedMajor,
    NotReady,
    BadHeaderChecksum,
    UnsupportedFeatures,
    LayoutMismatch,
    BadGeometry,
    Truncated,
    NoSpace,
    Exists,
    ParticipantsFull,
    Io,
}

impl OpenErrorKind {
    /// The §15 code.
    pub fn code(self) -> &'static str {
        use OpenErrorKind::*;
        match self {
            NotFound => "not_found",
            Symlink => "symlink",
            NotRegularFile => "not_regular_file",
            ForeignOwner => "foreign_owner",
            TooShort => "too_short",
            BadMagic => "bad_magic",
            UnsupportedMajor => "unsupported_major",
            NotReady => "not_ready",
            BadHeaderChecksum => "bad_header_checksum",
            UnsupportedFeatures => "unsupported_features",
            LayoutMismatch => "layout_mismatch",
            BadGeometry => "bad_geometry",
            Truncated => "truncated",
            NoSpace => "no_space",
            Exists => "exists",
            ParticipantsFull => "participants_full",
            Io => "io",
        }
    }
}

/// An open/create failure: a §15 kind plus a human message (path, values found, expected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenError {
    pub kind: OpenErrorKind,
    pub message: String,
}

impl OpenError {
    pub fn new(kind: OpenErrorKind, message: impl Into<String>) -> Self {
        OpenError { kind, message: message.into() }
    }

    pub fn bad_geometry(message: impl Into<String>) -> Self {
        OpenError::new(OpenErrorKind::BadGeometry, message)
    }

    /// An `io` error naming the errno symbolically (§4.2 step 1: "io with the errno's name").
    pub fn io(what: &str, path: &str, errno: i32) -> Self {
        OpenError::new(
            OpenErrorKind::Io,
            format!("{what} {path}: {} ({})", errno_name(errno), std::io::Error::from_raw_os_error(errno)),
        )
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for OpenError {}

/// Why an operation did not take effect (§15, second list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpErrorKind {
    TooLarge,
    NotFound,
    Full,
    VersionNotNewer,
    Busy,
    /// 1.1, §18: the handle has no open stage in that namespace.
    NotStaging,
    /// 1.1, §18: a rollback with no previous version.
    NoPrevious,
    /// 1.1, §18: the handle already holds a pin.
    Pinned,
    /// 1.1, §18: a namespace index ≥ NS_COUNT, or an ill-formed table word.
    BadNamespace,
}

impl OpErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            OpErrorKind::TooLarge => "too_large",
            OpErrorKind::NotFound => "not_found",
            OpErrorKind::Full => "full",
            OpErrorKind::VersionNotNewer => "version_not_newer",
            OpErrorKind::Busy => "busy",
            OpErrorKind::NotStaging => "not_staging",
            OpErrorKind::NoPrevious => "no_previous",
            OpErrorKind::Pinned => "pinned",
            OpErrorKind::BadNamespace => "bad_namespace",
        }
    }
}

/// An operation failure with a message saying where (shard, slot, limits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    pub kind: OpErrorKind,
    pub message: String,
}

impl OpError {
    pub fn new(kind: OpErrorKind, message: impl Into<String>) -> Self {
        OpError { kind, message: message.into() }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for OpError {}

/// `set_sim_clock` on a segment without feature `SIM_CLOCK` (§12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoSimClock;

impl fmt::Display for NoSimClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the segment does not have feature SIM_CLOCK (features_incompat bit 0)")
    }
}

impl std::error::Error for NoSimClock {}

/// Symbolic name of an errno value (for `io` messages, so they read the same in every
/// implementation).
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::ETXTBSY => "ETXTBSY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOLCK => "ENOLCK",
        libc::ELOOP => "ELOOP",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EDQUOT => "EDQUOT",
        libc::ENXIO => "ENXIO",
        _ => "EUNKNOWN",
    }
}
