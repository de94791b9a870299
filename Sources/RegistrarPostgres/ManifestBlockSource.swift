import RegistrarCore

/// Streams a stored manifest block by block.
struct ManifestBlockSource: ByteSource {
    let connection: PGConnection
    let jobID: String
    var seq = 0
    var block: [UInt8] = []
    var offset = 0
    var done = false

    init(connection: PGConnection, jobID: String) {
        self.connection = connection
        self.jobID = jobID
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if offset == block.count {
            if done { return 0 }
            let rows = try connection.query("SELECT data FROM manifest_blocks WHERE job_id = $1 AND seq = $2", [jobID, String(seq)])
            guard rows.count == 1, let hex = rows[0, 0] else { done = true; return 0 }
            block = try Hex.decodeBytea(hex)
            offset = 0
            seq += 1
            if block.isEmpty { done = true; return 0 }
        }
        let n = min(buffer.count, block.count - offset)
        block.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}
