#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What a create case can see of §4.1 steps 1 and 2 from outside: at `create.after_open_temp`
/// the directory holds exactly one private file of the creator, `B' + ".init." + pid + "." +
/// random` with B' the spec's cut of the final name (CreateCases.cut), mode 0600; and the sweep of
/// step 2 has already removed a dead creator's file and left the rest. Names are compared as
/// bytes (readdir), since a cut that splits a UTF-8 sequence makes a name no String can hold.
extension RefusalGate {
    static let createPause = "create.after_open_temp"
    static let beforeFlock = "create.before_flock"

    /// The planted pids: above Linux's largest pid_max (2^22), so never a live process's.
    static let deadPid = "4194305", livePid = "4194306"

    /// What follows the prefix in the near misses a sweep case plants: no pid, no random, no
    /// dot, a letter in the pid, upper-case or non-hex random, a second dot.
    static let nearMisses = ["\(deadPid).", ".ab12", deadPid, "41x5.ab12", "x5.ab12", "\(deadPid).AB12", "\(deadPid).ab1g", "\(deadPid).ab.12"]

    /// Every name in `dir` but `.` and `..`, as bytes.
    static func entries(_ dir: String) -> [[UInt8]] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [[UInt8]] = []
        while let e = readdir(d) {
            let name: [UInt8] = withUnsafeBytes(of: e.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != [0x2E] && name != [0x2E, 0x2E] { out.append(name) }
        }
        return out
    }

    /// Whether a name has a private file's `.init.` in it.
    static func isPrivate(_ name: [UInt8]) -> Bool {
        let mark = Array(".init.".utf8)
        return name.count >= mark.count && (0...(name.count - mark.count)).contains { Array(name[$0..<($0 + mark.count)]) == mark }
    }

    static func show(_ name: [UInt8]) -> String {
        String(validating: name, as: UTF8.self) ?? name.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
    }

    /// The checks at the pause: nil when they hold, else what is wrong.
    func checkPrivateFile(path: String, pid: Int64, planted: PlantedInit) -> String? {
        let dir = (path as NSString).deletingLastPathComponent
        let prefix = CreateCases.cut(Array((path as NSString).lastPathComponent.utf8)) + Array(".init.\(pid).".utf8)
        if let wrong = planted.wrong(in: dir, at: Self.createPause) { return wrong }
        let mine = Self.entries(dir).filter { Self.isPrivate($0) && !planted.survivors.contains($0) }
        guard mine.count == 1, let name = mine.first else {
            return "\(mine.count) private files (\(mine.map(Self.show).joined(separator: ", "))), expected exactly one"
        }
        let random = name.count > prefix.count ? name[prefix.count...] : []
        guard name.starts(with: prefix), (1...16).contains(random.count),
              random.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            return "the private file is \(Self.show(name)), expected \(Self.show(prefix)) and 1–16 lowercase hex digits"
        }
        var st = stat()
        guard lstat((dir as NSString).appendingPathComponent(String(decoding: name, as: UTF8.self)), &st) == 0 else {
            return "cannot lstat \(Self.show(name)): \(String(cString: strerror(errno)))"
        }
        if st.st_mode & S_IFMT != S_IFREG || st.st_mode & 0o7777 != 0o600 {
            return "\(Self.show(name)) has mode \(String(st.st_mode, radix: 8)), expected a regular file of mode 0600"
        }
        return nil
    }

    /// At `create.before_flock`, does what another creator's sweep may do in that instant: takes
    /// the free lock of the creator's TMP and removes it. Nil when it could; else what was wrong
    /// (TMP missing, or locked already, which is not step 1's state).
    func sweepAsAnotherCreator(path: String, pid: Int64) -> String? {
        let dir = (path as NSString).deletingLastPathComponent
        let prefix = CreateCases.cut(Array((path as NSString).lastPathComponent.utf8)) + Array(".init.\(pid).".utf8)
        let mine = Self.entries(dir).filter { $0.starts(with: prefix) }
        guard mine.count == 1, let name = mine.first else {
            return "\(mine.count) private files named \(Self.show(prefix))…, expected exactly one"
        }
        let full = (dir as NSString).appendingPathComponent(String(decoding: name, as: UTF8.self))
        let fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return "cannot open \(Self.show(name)): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return "\(Self.show(name)) is locked already (step 2 comes after the point)" }
        guard unlink(full) == 0 else { return "cannot unlink \(Self.show(name)): \(String(cString: strerror(errno)))" }
        return nil
    }

    /// Plants the private files of a `.sweep` case next to `path` (nothing for other settings).
    func plant(_ setting: CreateSetting, path: String) throws -> PlantedInit {
        guard case .sweep(let name) = setting else { return PlantedInit() }
        let dir = (path as NSString).deletingLastPathComponent
        let b = CreateCases.cut(Array(name.utf8))
        let prefix = b + Array(".init.".utf8)
        var other = b
        other[other.count - 1] = other.last == 0x78 ? 0x79 : 0x78  // another prefix: the last byte changed
        var p = PlantedInit()
        p.dir = dir
        let live = prefix + Array("\(Self.livePid).cd34".utf8)
        p.survivors = [live, prefix + Array("7.init.\(Self.deadPid).ab12".utf8), other + Array(".init.\(Self.deadPid).ab12".utf8)]
            // Unlocked names the prefix begins but §4.1 step 1's grammar (decimal pid, a dot,
            // lowercase hex) does not describe: no creator made them, so none may be removed.
            + Self.nearMisses.map { prefix + Array($0.utf8) }
        // Two dead creators: a pid above pid_max, and the shortest name the grammar allows (a
        // one-digit pid, as a creator that is a container's pid 7 has, and one hex digit).
        p.dead = [prefix + Array("\(Self.deadPid).ab12".utf8), prefix + Array("7.f".utf8)]
        for f in p.dead + p.survivors {
            let full = p.full(f)
            let fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { p.remove(); throw UsageError("cannot plant \(full): \(String(cString: strerror(errno)))") }
            _ = write(fd, "dead creator", 12)
            if f == live {
                // The live creator: the gate holds its flock through the create.
                guard flock(fd, LOCK_EX) == 0 else { close(fd); p.remove(); throw UsageError("flock \(full): \(String(cString: strerror(errno)))") }
                p.heldFd = fd
            } else {
                close(fd)
            }
        }
        return p
    }
}

/// The private files a sweep case planted: `dead` must go, `survivors` must stay (none planted:
/// both empty).
struct PlantedInit {
    var dir = ""
    var dead: [[UInt8]] = []
    var survivors: [[UInt8]] = []
    var heldFd: Int32 = -1

    func full(_ name: [UInt8]) -> String { (dir as NSString).appendingPathComponent(String(decoding: name, as: UTF8.self)) }

    /// What the sweep did wrong, seen in `dir` (at the pause point or after the create).
    func wrong(in dir: String, at point: String? = nil) -> String? {
        guard !dead.isEmpty else { return nil }
        let names = RefusalGate.entries(dir)
        let when = point.map { " at \($0)" } ?? ""
        if let left = dead.first(where: names.contains) { return "left the dead creator's \(RefusalGate.show(left))\(when)" }
        if let gone = survivors.first(where: { !names.contains($0) }) { return "removed \(RefusalGate.show(gone))\(when)" }
        return nil
    }

    func remove() {
        if heldFd >= 0 { close(heldFd) }
        for f in survivors + dead { unlink(full(f)) }
    }
}
