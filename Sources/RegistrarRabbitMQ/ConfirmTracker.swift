/// Tracks publish sequence numbers awaiting basic.ack/basic.nack. Sequence numbers are handed out
/// in order from 1; everything below `floor` is settled, plus the individually settled ones in
/// `settledAbove`, so memory stays proportional to out-of-order confirms, not to the window.
struct ConfirmTracker {
    private(set) var nextSequence: UInt64 = 1
    private var floor: UInt64 = 1
    private var settledAbove = Set<UInt64>()
    var nacked: [UInt64] = []

    var outstanding: Int { Int(nextSequence - floor) - settledAbove.count }

    mutating func published() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    mutating func settle(tag: UInt64, multiple: Bool, ack: Bool) {
        guard tag < nextSequence else { return }  // not ours; ignore
        if multiple {
            if tag >= floor {
                var t = floor
                while t <= tag {
                    if !settledAbove.contains(t) {
                        if !ack { nacked.append(t) }
                    } else {
                        settledAbove.remove(t)
                    }
                    t += 1
                }
                floor = tag + 1
            }
        } else if tag >= floor, !settledAbove.contains(tag) {
            if !ack { nacked.append(tag) }
            if tag == floor { floor += 1 } else { settledAbove.insert(tag) }
        }
        while settledAbove.remove(floor) != nil { floor += 1 }
    }
}
