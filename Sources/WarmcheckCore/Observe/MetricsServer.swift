import Foundation

// The HTTP side of `warmcheck exporter`: one listening TCP socket on an IPv4 address, one request
// per connection, answered in turn on the calling thread. That is all a Prometheus scrape needs
// (a GET every few seconds), so this is a few POSIX calls rather than SwiftNIO: NIO would be the
// largest dependency of the package for a single GET path, built anew by every clean CI run, and
// warmcheck is otherwise synchronous. A client that sends nothing is dropped after
// `clientTimeout` seconds, so a stuck client delays the next scrape, never hangs the exporter.

public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String, port: UInt16
    public var description: String { "\(host):\(port)" }

    /// `HOST:PORT` with an IPv4 literal (`127.0.0.1:9464`); port 0 asks the kernel for a free one.
    public init(parsing text: String) throws {
        let bad = ObserveError(description: "--listen \(text): expected IPV4:PORT, e.g. 127.0.0.1:9464", status: 2)
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { throw bad }
        host = String(text[..<colon])
        var a = in_addr()
        guard inet_pton(AF_INET, host, &a) == 1 else { throw bad }
        self.port = port
    }
}

public final class MetricsServer {
    public let address: ListenAddress
    /// The port actually bound (differs from the requested one when that was 0).
    public let boundPort: UInt16
    private let fd: Int32
    public static let clientTimeout = 5.0

    public init(listen a: ListenAddress) throws {
        address = a
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw ObserveError(description: "socket: \(String(cString: strerror(errno)))", status: 2) }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = a.port.bigEndian
        inet_pton(AF_INET, a.host, &sin.sin_addr)
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(s, 16) == 0 else {
            let e = errno
            close(s)
            let why = e == EADDRINUSE ? "the address is already in use (another exporter or service listens there)"
                : String(cString: strerror(e))
            throw ObserveError(description: "cannot listen on \(a): \(why)", status: 2)
        }
        var got = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &got) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        boundPort = UInt16(bigEndian: got.sin_port)
        fd = s
    }

    deinit { close(fd) }

    /// Waits up to `timeout` seconds for one connection and answers it with `respond(method, path)`
    /// → (status, content type, body). Returns false on timeout (nothing was served).
    public func serveOne(timeout: Double, respond: (String, String) -> (Int, String, String)) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&p, 1, Int32(timeout * 1000))
        guard n > 0 else { return false }
        let c = accept(fd, nil, nil)
        guard c >= 0 else { return false }
        _ = fcntl(c, F_SETFD, FD_CLOEXEC)
        defer { close(c) }
        var tv = timeval(tv_sec: Int(Self.clientTimeout), tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard let head = readHead(c) else { return true }
        let first = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = first.split(separator: " ").map(String.init)
        let (status, type, body): (Int, String, String)
        if parts.count != 3 || !parts[2].hasPrefix("HTTP/1.") {
            (status, type, body) = (400, "text/plain", "bad request line\n")
        } else {
            (status, type, body) = respond(parts[0], parts[1])
        }
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][status] ?? "Error"
        let bytes = Array(body.utf8)
        let response = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
        writeAll(c, Array(response.utf8) + (parts.first == "HEAD" ? [] : bytes))
        return true
    }

    /// The request up to the blank line (at most 16 KiB), nil if the client sent nothing usable.
    private func readHead(_ c: Int32) -> String? {
        var buf = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while buf.count < 16384 {
            let n = read(c, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            buf += chunk[0..<n]
            if buf.count >= 4, buf.suffix(from: max(0, buf.count - n - 3)).windowsContain([13, 10, 13, 10]) { break }
        }
        return buf.isEmpty ? nil : String(decoding: buf, as: UTF8.self)
    }

    private func writeAll(_ c: Int32, _ b: [UInt8]) {
        var done = 0
        while done < b.count {
            let n = b[done...].withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            done += n
        }
    }
}

extension ArraySlice where Element == UInt8 {
    func windowsContain(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        var i = startIndex
        while i + needle.count <= endIndex {
            if self[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
