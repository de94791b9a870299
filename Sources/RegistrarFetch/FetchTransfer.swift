import CCurl
import RegistrarCore

// The fetcher's bookkeeping: one easy handle's state, one request's progress, a host's queue.

/// Per easy-handle state; C callbacks reach it through an unretained pointer (the fetcher's
/// `transfers` array keeps it alive for the handle's lifetime).
final class Transfer {
    let easy: UnsafeMutableRawPointer
    let slot: Int
    let errorBuffer: UnsafeMutablePointer<CChar>
    var job = -1
    var body: [UInt8] = []
    var limit = 0
    var reachedLimit = false
    /// This attempt's timeout is what was left of the request's deadline (shorter than the
    /// per-attempt timeout): a timeout then means the deadline.
    var cutByDeadline = false
    var vetted: [IPAddress] = []
    var refusedAddress: IPAddress? = nil
    var socketsOpened = 0
    var headerList: UnsafeMutablePointer<curl_slist>? = nil
    var resolveList: UnsafeMutablePointer<curl_slist>? = nil
    var destination: Destination? = nil

    init(easy: UnsafeMutableRawPointer, slot: Int) {
        self.easy = easy
        self.slot = slot
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    func releaseLists() {
        if let l = headerList { curl_slist_free_all(l); headerList = nil }
        if let l = resolveList { curl_slist_free_all(l); resolveList = nil }
    }
}

struct Job {
    var request: FetchRequest
    var destination: Destination? = nil
    var sendExtraHeaders = true
    var attempts = 0
    var redirects = 0
    var firstStart: Double = -1
    /// firstStart + the policy's deadline − the request's `timeUsed`.
    var deadlineAt: Double = .infinity
    /// The message of the last failed attempt, for a deadline message.
    var lastFailure: String? = nil
    var nextIsRedirectHop = false

    init(request: FetchRequest) { self.request = request }
}

/// FIFO of job indices.
struct JobQueue {
    private var items: [Int] = []
    private var head = 0
    var isEmpty: Bool { head >= items.count }

    /// Returns true when the queue was empty before.
    mutating func push(_ j: Int) -> Bool {
        let wasEmpty = isEmpty
        if wasEmpty { items.removeAll(keepingCapacity: true); head = 0 }
        items.append(j)
        return wasEmpty
    }

    mutating func pop() -> Int? {
        guard head < items.count else { return nil }
        defer { head += 1 }
        return items[head]
    }
}
