/// What happened in one case, per process and in time: the data behind the HTML failure report.
/// Times are nanoseconds of the run's monotonic clock (the same axis as the history).
public struct Timeline: Sendable {
    public struct Event: Sendable {
        public enum Kind: String, Sendable {
            /// An operation was sent to the lane's process.
            case call
            /// The operation stopped at a pause point (label = point name).
            case pause
            /// The operation went on after a pause (a scheduler or a `resume` step chose it).
            case resume
            /// A slot transition the process reported (label = "claim WRITING→READY shard s slot j seq n").
            case transition
            /// The operation's answer arrived (label = summary).
            case returned
            /// The process died (killed at a crash point, or by a `crash` step).
            case died
            /// An orchestrator step that is not an operation (advance the clock, corrupt, …).
            case note
        }
        public var lane: String
        public var kind: Kind
        public var label: String
        public var t: UInt64
        /// Set on the event where the violation was detected.
        public var violating: Bool

        public init(lane: String, kind: Kind, label: String, t: UInt64, violating: Bool = false) {
            self.lane = lane
            self.kind = kind
            self.label = label
            self.t = t
            self.violating = violating
        }
    }

    public var title: String
    /// Lanes in display order: one per process ("reader (go)"), plus "orchestrator".
    public var lanes: [String]
    public var events: [Event]
    /// The prose explanation (what was observed, what the spec allows, the steps that led there).
    public var explanation: String
    /// The one command that reruns the case.
    public var rerun: String

    public init(title: String, lanes: [String], events: [Event], explanation: String, rerun: String) {
        self.title = title
        self.lanes = lanes
        self.events = events
        self.explanation = explanation
        self.rerun = rerun
    }
}
