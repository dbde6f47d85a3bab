#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Every answer of the gate, a refusal as much as an accepted open or create followed by its
/// close, leaves the fixture holding no descriptor of a file in the gate's directory. The paths
/// that refuse are where a library forgets one: a create that starts again after a sweep took
/// its TMP (§4.1 step 2's `st_nlink` 0), an open that fails a §4.2 check after it opened the file,
/// a create that fails after its sweep opened the directory. Nothing in the segment shows such a
/// leak; a service that retries runs out of descriptors. Read from /proc (OpenDescriptors).
extension RefusalGate {
    /// `answer`, or a failing answer naming the descriptors the fixture still holds under `dir`.
    func withoutLeakedDescriptors(_ answer: Answer, _ fx: FixtureProcess, dir: String) -> Answer {
        guard !fx.hasExited else { return answer }
        let pid = pid_t(truncatingIfNeeded: Hello(fx.hello).pid ?? Int64(fx.pid))
        guard let held = OpenDescriptors.held(by: pid, where: { $0 == dir || $0.hasPrefix(dir + "/") }), !held.isEmpty else {
            return answer
        }
        return Answer(text: "\(answer.text), and still holds \(held.count) descriptor(s) or mapping(s) of the gate's files",
                      detail: "§4.1, §4.2: a refused open or create, and a closed handle, release every descriptor and mapping they took "
                        + "(/proc/\(pid)/fd and maps after the answer): " + held.joined(separator: "; "))
    }
}
