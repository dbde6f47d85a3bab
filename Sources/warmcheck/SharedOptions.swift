#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import WarmcheckCore

/// `--no-build`, the same on every command that starts reference fixtures.
struct BuildOptions: ParsableArguments {
    @Flag(help: "Do not build the reference fixtures first.")
    var noBuild = false
}

/// `--fixture` of the commands whose fixtures default to the three reference ones (matrix,
/// refusals, selftest; `run` adds the reference fixtures to the ones named, and stress and
/// bench default to go and rust, so they keep their own).
struct ReferenceFixtureOptions: ParsableArguments {
    @Option(name: .customLong("fixture"), help: "Implementation: go, rust, swift, or NAME=COMMAND (repeatable; default go, rust, swift).")
    var fixtures: [String] = []

    /// The fixtures named, or the reference ones.
    func specs() throws -> [FixtureSpec] {
        try (fixtures.isEmpty ? Repo.referenceNames : fixtures).map(Repo.parseFixture)
    }
}

/// `--fixture-uid`, the same on every command that runs scenario cases (run, mutate, conform).
struct FixtureCredentialOptions: ParsableArguments {
    @Option(name: .customLong("fixture-uid"),
            help: "Run the scenario fixtures under this uid and gid, or `harness` for warmcheck's own (default: 424242 when warmcheck runs as root, else its own; docs/DRIVER.md).")
    var fixtureUid: String?

    /// The credentials the options ask for.
    func credentials() throws -> FixtureCredentials? {
        guard let s = fixtureUid else { return FixtureCredentials.whenRoot }
        guard let c = FixtureCredentials.parse(s) else { throw UsageError("--fixture-uid: \(s) is neither a uid nor `harness`") }
        if let c, geteuid() != 0, c.uid != geteuid() {
            throw UsageError("--fixture-uid \(c.uid) needs root (warmcheck's euid is \(geteuid()))")
        }
        return c
    }
}
