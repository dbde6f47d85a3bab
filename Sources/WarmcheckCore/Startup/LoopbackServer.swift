#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Redis or memcached on 127.0.0.1, started from Debian's binaries for rows (d) and (e) and
/// always stopped (deinit, error paths and the shutdown handling all kill its process group).
final class LoopbackServer {
    enum Kind: String { case redis, memcached }
    let kind: Kind
    let port: UInt16
    private let child: TimedChild

    var address: String { "127.0.0.1:\(port)" }

    /// Starts the server on `port` (0: a free one) and waits until it accepts connections.
    init(_ kind: Kind, port wanted: UInt16) throws {
        self.kind = kind
        let binary = kind == .redis ? "redis-server" : "memcached"
        guard let path = LoopbackServer.which(binary) else {
            throw StartupError("\(binary) not found: scripts/setup.sh installs it (Debian packages redis-server, memcached); or pass --without-servers to leave rows (d) and (e) out")
        }
        let port = wanted != 0 ? wanted : try LoopbackServer.freePort()
        // Someone else's server on the port would answer our probes: refuse rather than measure it.
        guard LoopbackServer.canBind(port) else { throw StartupError("port \(port) is in use: \(binary) cannot listen there (choose another with --\(kind.rawValue)-port)") }
        self.port = port
        let argv: [String]
        switch kind {
        case .redis:
            argv = [path, "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        case .memcached:
            argv = [path, "-l", "127.0.0.1", "-p", "\(port)", "-U", "0", "-m", "2048", "-t", "1"] + (geteuid() == 0 ? ["-u", "root"] : [])
        }
        child = try TimedChild(argv)
        let deadline = realtimeNs() + 5_000_000_000
        while !LoopbackServer.accepts(port) {
            var st: Int32 = 0
            if waitpid(child.pid, &st, WNOHANG) == child.pid {
                child.stop()
                throw StartupError("\(binary) exited while starting on port \(port) (status \(st >> 8)); its messages are above")
            }
            if realtimeNs() > deadline {
                child.stop()
                throw StartupError("\(binary) did not accept connections on port \(port) within 5 s")
            }
            usleep(10_000)
        }
    }

    func stop() { child.stop() }
    deinit { child.stop() }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/sbin", "/usr/bin"] {
            let p = "\(dir)/\(name)"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    private static func withSocket<T>(_ body: (Int32, inout sockaddr_in) -> T) -> T? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return body(fd, &a)
    }

    static func freePort() throws -> UInt16 {
        let p: UInt16? = withSocket { fd, a in
            a.sin_port = 0
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 } }
            return ok ? UInt16(bigEndian: a.sin_port) : nil
        } ?? nil
        guard let p else { throw StartupError("no free loopback port") }
        return p
    }

    static func canBind(_ port: UInt16) -> Bool {
        withSocket { fd, a in
            a.sin_port = port.bigEndian
            return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
        } ?? false
    }

    static func accepts(_ port: UInt16) -> Bool {
        withSocket { fd, a in
            a.sin_port = port.bigEndian
            return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 } }
        } ?? false
    }
}
