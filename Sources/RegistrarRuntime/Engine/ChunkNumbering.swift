import RegistrarCore

/// What every planner over a snapshot of ids shares (`dataset-attach`, `task-create`, `export`):
/// chunks numbered from seq 0, units counted from 0, ids read page by page by keyset (after the
/// last id of the page before) so a re-plan gives the same chunks. A chunk's message is built
/// only when the engine must publish it.
public struct ChunkNumbering {
    public private(set) var seq = 0
    public private(set) var unit = 0

    public init() {}

    /// Emits `ids` as the next chunk; `message(seq, firstUnit, ids)` is its body.
    public mutating func emit(_ ids: [Int64], to emit: (PlannedChunk) throws -> Void,
                              message: @escaping (_ seq: Int, _ firstUnit: Int, _ ids: [Int64]) -> [UInt8]) throws {
        let (seq, first) = (self.seq, unit)
        try emit(PlannedChunk(ledger: LedgerChunk(seq: seq, firstUnit: first, unitCount: ids.count), encode: { message(seq, first, ids) }))
        self.seq += 1
        unit += ids.count
    }

    /// Reads pages of at most `limit` ids (`read(after, limit)`, ascending), each page one
    /// chunk, until a short or empty page.
    public mutating func emitPages(limit: Int, read: (_ after: Int64, _ limit: Int) throws -> [Int64], to emit: (PlannedChunk) throws -> Void,
                                   message: @escaping (_ seq: Int, _ firstUnit: Int, _ ids: [Int64]) -> [UInt8]) throws {
        var after: Int64 = 0
        while true {
            let ids = try read(after, limit)
            guard let last = ids.last else { return }
            try self.emit(ids, to: emit, message: message)
            after = last
            if ids.count < limit { return }
        }
    }
}
