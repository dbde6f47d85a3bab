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
