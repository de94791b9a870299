#if canImport(Glibc)
import Glibc
#endif
import RegistrarCore

/// Joins an export's part files into the file users download (docs/labels.md, "Exports"):
/// JSON parts become one JSON list, COCO parts one COCO document with ids shifted. Streams
/// through a temporary file, so memory holds one part at a time; the bytes depend only on the
/// parts, so assembling twice (two API processes at once) writes the same file, and the first
/// recorded file wins.
public enum ExportAssembler {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// The key of an export's file.
    public static func fileKey(job: String, format: ExportFormat) -> String {
        "exports/\(job.lowercased())/export-\(format.rawValue).json"
    }

    public static func assemble(_ record: ExportRecord, store: ExportStore, storage: ObjectStorage, tempDirectory: String) throws -> StoredObject {
        if let file = record.file { return file }
        let parts = try store.exportParts(jobID: record.jobID)
        let path = tempDirectory + "/registrar-export-\(record.jobID)-\(getpid()).json"
        guard let out = fopen(path, "w") else { throw Failure(description: "cannot write \(path)") }
        var closed = false
        defer { if !closed { fclose(out) }; unlink(path) }
        func put(_ s: String, _ file: UnsafeMutablePointer<FILE>, _ name: String) throws {
            let ok = s.utf8.withContiguousStorageIfAvailable { fwrite($0.baseAddress, 1, $0.count, file) == $0.count } ?? {
                let bytes = Array(s.utf8)
                return fwrite(bytes, 1, bytes.count, file) == bytes.count
            }()
            if !ok { throw Failure(description: "cannot write \(name): disk full?") }
        }
        func write(_ s: String) throws { try put(s, out, path) }
        func read(_ part: ExportPartRecord) throws -> [UInt8] {
            guard let key = ObjectKey(part.key), let (_, reader) = try storage.open(key) else {
                throw Failure(description: "part \(part.seq) of export \(record.jobID) is missing from storage")
            }
            var source = reader
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 { break }
                bytes += buffer[0..<n]
            }
            return bytes
        }
        switch record.params.format {
        case .json:
            try write("[")
            var first = true
            for part in parts {
                let bytes = try read(part)
                guard !bytes.isEmpty else { continue }
                try write((first ? "" : ",") + String(decoding: bytes, as: UTF8.self))
                first = false
            }
            try write("]")
        case .coco:
            // Categories come from the first part (made from the ontology when the job ran).
            var categories: [JSONValue] = []
            if let first = parts.first, let head = JSONValue.parse(try read(first)), case .array(let c)? = head["categories"] { categories = c }
            // Annotations wait in a second temporary file while the images are written.
            let spillPath = path + ".annotations"
            guard let spill = fopen(spillPath, "w+") else { throw Failure(description: "cannot write \(spillPath)") }
            defer { fclose(spill); unlink(spillPath) }
            try CocoAssembly.assemble(title: record.projectTitle, version: record.params.versionName, categories: categories,
                                      partCount: parts.count, read: { i in
                guard let v = JSONValue.parse(try read(parts[i])) else { throw Failure(description: "part \(parts[i].seq) is not JSON") }
                return v
            }, write: write, spill: { try put($0, spill, spillPath) }, replaySpill: {
                fflush(spill)
                rewind(spill)
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let n = fread(&buffer, 1, buffer.count, spill)
                    if n == 0 { break }
                    guard fwrite(buffer, 1, n, out) == n else { throw Failure(description: "cannot write \(path): disk full?") }
                }
                if ferror(spill) != 0 { throw Failure(description: "cannot read \(spillPath)") }
            })
        }
        fflush(out)
        fclose(out)
        closed = true
        guard let key = ObjectKey(fileKey(job: record.jobID, format: record.params.format)) else { throw Failure(description: "bad key") }
        var source = try FileByteSource(path: path)
        let stored = try storage.write(key, contentType: "application/json", from: &source, expectedSHA256: nil)
        return try store.recordExportFile(jobID: record.jobID, file: stored)
    }
}
