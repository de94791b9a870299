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
