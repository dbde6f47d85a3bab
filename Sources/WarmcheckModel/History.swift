// A history of operations, in porcupine's Operation shape.
//
// `call` and `return` are nanoseconds of ONE monotonic clock (the orchestrator's), taken
// just before sending the request and just after reading the response; intervals are closed,
// so equal timestamps count as concurrent. An operation whose outcome is unknown (Jepsen's
// :info — the fixture died or could not tell) has `return` = +infinity (`UInt64.max`): it may
// take effect at any point after its call, or never.

public struct Operation<Input, Output> {
    public var clientId: Int
    public var input: Input
    public var call: UInt64
    public var output: Output
    public var `return`: UInt64

    public init(clientId: Int, input: Input, call: UInt64, output: Output, return ret: UInt64) {
        self.clientId = clientId
        self.input = input
        self.call = call
        self.output = output
        self.return = ret
    }
}

extension Operation: Sendable where Input: Sendable, Output: Sendable {}
extension Operation: Equatable where Input: Equatable, Output: Equatable {}

public typealias CacheOperation = Operation<CacheInput, CacheOutput>

extension Operation where Input == CacheInput, Output == CacheOutput {
    /// An operation of the cache. `return` is ignored (+infinity) when `output` is `.unknown`.
    public init(clientId: Int, input: CacheInput, call: UInt64, output: CacheOutput, returnAt: UInt64?) {
        let ret = (output == .unknown) ? UInt64.max : (returnAt ?? UInt64.max)
        self.init(clientId: clientId, input: input, call: call, output: output, return: ret)
    }

    public var outcomeUnknown: Bool { output == .unknown || self.return == UInt64.max }
}

/// A history being recorded. Appending is all the orchestrator does during a run.
public struct History: Sendable {
    public private(set) var operations: [CacheOperation] = []

    public init(_ operations: [CacheOperation] = []) { self.operations = operations }

    /// Records a completed (or unknown-outcome) operation; returns its index.
    @discardableResult
    public mutating func append(_ op: CacheOperation) -> Int {
        operations.append(op)
        return operations.count - 1
    }

    @discardableResult
    public mutating func append(clientId: Int, input: CacheInput, call: UInt64, output: CacheOutput,
                                returnAt: UInt64?) -> Int {
        append(CacheOperation(clientId: clientId, input: input, call: call, output: output, returnAt: returnAt))
    }

    public var count: Int { operations.count }

    /// Problems that make the history meaningless (not a linearizability verdict):
    /// an operation returning before its call, or a known outcome without a return time.
    public func problems() -> [String] {
        var out: [String] = []
        for (i, op) in operations.enumerated() {
            if op.return < op.call {
                out.append("operation #\(i) (client \(op.clientId)) returns at \(op.return) before its call at \(op.call)")
            }
            if op.output != .unknown && op.return == UInt64.max {
                out.append("operation #\(i) (client \(op.clientId)) has a known outcome but no return time")
            }
        }
        return out
    }

    public func check(model: CacheModel = CacheModel(), budget: SearchBudget = SearchBudget()) -> LinearizabilityReport {
        checkLinearizability(operations, model: model, budget: budget)
    }
}
