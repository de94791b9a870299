import ArgumentParser
import RegistrarCore
import RegistrarRuntime

/// `registrar validate MANIFEST [--format json|csv] [--json]`: a dry run of registration's first
/// step. Reads the whole manifest streaming, and reports units and URLs per type, duplicates
/// within the file, warnings and errors. Exit 0: can be registered; 1: cannot; 2: usage error.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a JSON or CSV registration manifest without registering anything.",
        discussion: """
        Exit status: 0 when the manifest can be registered, 1 when it cannot, 2 on usage errors.
        Errors and warnings name the item (type[index] or CSV line), the field and a stable code.
        """
    )

    @Argument(help: "The manifest file (.json or .csv).")
    var manifest: String

    @Option(help: "The manifest format; by default from the extension, else from the content.")
    var format: ManifestFormat?

    @Flag(help: "Print one JSON object instead of the text report.")
    var json = false

    @Option(help: "Most URLs a manifest may list.")
    var maxUrls = ManifestLimits.default.maxURLs

    @Option(help: "Most units (items) a manifest may list.")
    var maxUnits = ManifestLimits.default.maxUnits

    @Option(help: "Largest manifest file accepted, in bytes.")
    var maxFileBytes = ManifestLimits.default.maxFileBytes

    @Option(help: "How many warnings and how many errors to list (the totals are always given).")
    var maxListed = 1000

    func validate() throws {
        guard maxUrls > 0, maxUnits > 0, maxFileBytes > 0 else {
            throw ValidationError("limits must be positive")
        }
        guard maxListed >= 0 else { throw ValidationError("--max-listed must not be negative") }
    }

    func run() throws {
        var limits = ManifestLimits()
        limits.maxURLs = maxUrls
        limits.maxUnits = maxUnits
        limits.maxFileBytes = maxFileBytes

        let source = try FileByteSource(path: manifest)
        let format = self.format ?? ManifestFormat.detect(fileName: manifest, firstBytes: source.peek(512))
        let scanner = ManifestScanner(limits: limits, maxListedIssues: maxListed)
        let summary: ManifestSummary
        switch format {
        case .json:
            var reader = JSONManifestReader(source: source, limits: limits)
            summary = scanner.scan(&reader, format: format)
        case .csv:
            var reader = CSVManifestReader(source: source, limits: limits)
            summary = scanner.scan(&reader, format: format)
        }
        if json {
            print(ValidateReport.json(summary))
        } else {
            print(ValidateReport.text(summary, path: manifest), terminator: "")
        }
        if !summary.valid { throw ExitCode(1) }
    }
}

extension ManifestFormat: ExpressibleByArgument {}
