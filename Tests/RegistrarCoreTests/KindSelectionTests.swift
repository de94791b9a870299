import Testing
@testable import RegistrarCore

struct KindSelectionTests {
    let known = ["registration", "attach", "export"]

    @Test func emptyOrAllSelectsEveryKnownKind() throws {
        #expect(try KindSelection.parse("", known: known) == known)
        #expect(try KindSelection.parse("  ALL ", known: known) == known)
    }

    @Test func namesAreKeptInKnownOrderWithoutRepeats() throws {
        #expect(try KindSelection.parse("export, Registration,export", known: known) == ["registration", "export"])
    }

    @Test func anUnknownKindIsNamedWithWhatThisBuildRuns() {
        #expect(throws: KindSelection.Invalid(description:
            "--kinds: unknown job kind 'exprt' (this build runs: registration, attach, export, or all)")) {
            try KindSelection.parse("registration,exprt", known: known)
        }
    }

    @Test func anEmptyItemSaysWhichOne() {
        #expect(throws: KindSelection.Invalid(description:
            "REGISTRAR_WORKER_KINDS: item 2 is empty (write kinds separated by commas, e.g. registration)")) {
            try KindSelection.parse("registration,,export", known: known, source: "REGISTRAR_WORKER_KINDS")
        }
    }
}

/// `registrar worker --kinds` with the real binary: a bad selection is refused before any server
/// is contacted (exit 2, the message names the source and the kinds this build runs).
@Suite struct WorkerKindsCommandTests {
    @Test func anUnknownKindIsRefusedBeforeConnecting() throws {
        let cli = ValidateCommandTests()
        let flag = try cli.registrar(["worker", "--kinds", "registration,exprt"])
        #expect(flag.status == 2 && flag.stderr.contains("--kinds: unknown job kind 'exprt' (this build runs: registration, dataset-attach, task-create, export, webhook-deliver, sequence-encode, folder-sync, or all)"), "\(flag)")
        let env = try cli.registrar(["worker"], environment: ["REGISTRAR_WORKER_KINDS": "registration,,"])
        #expect(env.status == 2 && env.stderr.contains("REGISTRAR_WORKER_KINDS: item 2 is empty"), "\(env)")
    }
}
