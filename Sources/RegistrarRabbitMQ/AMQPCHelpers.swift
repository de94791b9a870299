// Helpers for calling rabbitmq-c: memory that outlives a call (`CArena`), conversions, and the
// method ids the frame loop dispatches on.

import CRabbitMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns malloc'd copies of strings and tables handed to rabbitmq-c for the duration of one call.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for b in blocks { free(b) } }

    private func alloc(_ n: Int) -> UnsafeMutableRawPointer {
        guard let p = malloc(max(n, 1)) else { fatalError("out of memory") }
        blocks.append(p)
        return p
    }

    func bytes(_ s: String) -> amqp_bytes_t {
        let utf8 = Array(s.utf8)
        if utf8.isEmpty { return amqp_bytes_t(len: 0, bytes: nil) }
        let p = alloc(utf8.count)
        utf8.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return amqp_bytes_t(len: utf8.count, bytes: p)
    }

    /// NUL-terminated copy (for the few `const char *` parameters).
    func cString(_ s: String) -> UnsafePointer<CChar> {
        let utf8 = Array(s.utf8)
        let p = alloc(utf8.count + 1)
        utf8.withUnsafeBytes { if $0.count > 0 { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        p.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }

    func table(_ args: [String: AMQPArgument]) -> amqp_table_t {
        if args.isEmpty { return amqp_table_t(num_entries: 0, entries: nil) }
        let raw = alloc(MemoryLayout<amqp_table_entry_t>.stride * args.count)
        let entries = raw.bindMemory(to: amqp_table_entry_t.self, capacity: args.count)
        // Sorted for a deterministic wire order.
        for (i, (key, value)) in args.sorted(by: { $0.key < $1.key }).enumerated() {
            var v = amqp_field_value_t()
            switch value {
            case .string(let s):
                v.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                v.value.bytes = bytes(s)
            case .int(let n):
                v.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                v.value.i64 = Int64(n)
            case .bool(let b):
                v.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
                v.value.boolean = b ? 1 : 0
            }
            (entries + i).initialize(to: amqp_table_entry_t(key: bytes(key), value: v))
        }
        return amqp_table_t(num_entries: Int32(args.count), entries: entries)
    }
}

/// Runs `body` with an arena that stays alive until `body` returns (C calls happen inside it).
func withArena<R>(_ body: (CArena) throws -> R) rethrows -> R {
    let arena = CArena()
    return try withExtendedLifetime(arena) { try body(arena) }
}

func string(_ b: amqp_bytes_t) -> String {
    guard b.len > 0, let p = b.bytes else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
}

func libraryMessage(_ code: Int32) -> String {
    if let p = amqp_error_string2(code) { return String(cString: p) }
    return "rabbitmq-c error \(code)"
}

func timevalFrom(seconds: Double) -> timeval {
    let s = seconds.isNaN ? 0 : min(max(seconds, 0), 1e9)
    let whole = s.rounded(.towardZero)
    return timeval(tv_sec: Int(whole), tv_usec: Int((s - whole) * 1_000_000))
}

/// Seconds as a Duration, clamped to [0, ~30 years] so absurd inputs cannot trap.
func microseconds(_ seconds: Double) -> Duration {
    let s = seconds.isNaN ? 0 : min(max(seconds, 0), 1e9)
    return .microseconds(Int64(s * 1_000_000))
}

func timevalFrom(duration d: Duration) -> timeval {
    if d <= .zero { return timeval(tv_sec: 0, tv_usec: 0) }
    let (sec, atto) = d.components
    return timeval(tv_sec: Int(sec), tv_usec: Int(atto / 1_000_000_000_000))
}

// Method ids (amqp_framing.h defines them as casts, which do not import reliably).
let methodBasicDeliver: UInt32 = 0x003C_003C
let methodBasicAck: UInt32 = 0x003C_0050
let methodBasicNack: UInt32 = 0x003C_0078
let methodBasicReturn: UInt32 = 0x003C_0032
let methodBasicCancel: UInt32 = 0x003C_001E
let methodChannelClose: UInt32 = 0x0014_0028
let methodChannelCloseOk: UInt32 = 0x0014_0029
let methodConnectionClose: UInt32 = 0x000A_0032
let methodConnectionCloseOk: UInt32 = 0x000A_0033
