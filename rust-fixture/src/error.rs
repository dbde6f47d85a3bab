//! Typed errors (PROTOCOL.md §15). Every error has a stable `code()` string, spelled as in the
//! spec and shared by all implementations, and a message saying what went wrong and where.

use std::fmt;

/// Why opening or creating a segment failed (§15, first list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenErrorKind {
    /// `not_found`: no file at the path.
    NotFound,
    /// `symlink`: the path is a symbolic link (§13).
    Symlink,
    /// `not_regular_file`: the path is not a regular file.
    NotRegularFile,
    /// `foreign_owner`: the file belongs to another user.
    ForeignOwner,
    /// `too_short`: the file is shorter than a header.
    TooShort,
    /// `bad_magic`: not a warmcache segment.
    BadMagic,
    /// `unsupported_major`: another protocol major.
    UnsupportedMajor,
    /// `not_ready`: the creator never set `ready`.
    NotReady,
    /// `bad_header_checksum`: the immutable header does not match its checksum.
    BadHeaderChecksum,
    /// `unsupported_features`: an unknown `features_incompat` bit.
    UnsupportedFeatures,
    /// `layout_mismatch`: another layout fingerprint (cache line, word size, endianness, header sizes).
    LayoutMismatch,
    /// `bad_geometry`: the geometry breaks the §3 rules.
    BadGeometry,
    /// `truncated`: the file is shorter than `total_len`.
    Truncated,
    /// `no_space`: the file could not be allocated.
    NoSpace,
    /// `exists`: create found a file at the path.
    Exists,
    /// `participants_full`: every participant entry is held.
    ParticipantsFull,
    /// `io`: another system error, named by its errno.
    Io,
    /// The file has holes: `st_blocks × 512 < total_len` (§4.2 step 11, §13.2).
    Sparse,
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
            Sparse => "sparse",
        }
    }
}

/// An open/create failure: a §15 kind plus a human message (path, values found, expected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenError {
    /// The §15 kind.
    pub kind: OpenErrorKind,
    /// What went wrong and where.
    pub message: String,
}

impl OpenError {
    /// An error of `kind` with `message`.
    pub fn new(kind: OpenErrorKind, message: impl Into<String>) -> Self {
        OpenError { kind, message: message.into() }
    }

    /// A `bad_geometry` error.
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

    /// The §15 code of the kind.
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
    /// `too_large`: the key or value exceeds its capacity.
    TooLarge,
    /// `not_found`: no entry for the key.
    NotFound,
    /// `full`: no slot of the key's window could be taken.
    Full,
    /// `version_not_newer`: an explicit version not above the current one.
    VersionNotNewer,
    /// `busy`: the key's slot stayed claimed by a live writer.
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
    /// The §15 code.
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
    /// The §15 kind.
    pub kind: OpErrorKind,
    /// What went wrong and where.
    pub message: String,
}

impl OpError {
    /// An error of `kind` with `message`.
    pub fn new(kind: OpErrorKind, message: impl Into<String>) -> Self {
        OpError { kind, message: message.into() }
    }

    /// The §15 code of the kind.
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
