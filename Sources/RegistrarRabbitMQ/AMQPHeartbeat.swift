// The connection lock and the heartbeat thread of one `AMQPConnection`.
//
// Why a thread: rabbitmq-c sends heartbeats only inside its own calls, and a worker spends a whole
// chunk's verification away from the connection. Without heartbeats the broker must either drop a
// busy worker (and redeliver its chunk while it is still being verified) or wait for a very long
// heartbeat before it notices a worker that vanished (a frozen VM, a lost node: no FIN, no RST), and
// until then that worker's unacknowledged chunks are stuck. With this thread the connection can use
// a heartbeat near the broker's default (60 s) and still sit busy for hours.
//
// How it stays safe with a library that is not thread-safe: every use of the rabbitmq-c connection,
// by the owner or by this thread, happens under one mutex. The thread only ever writes a heartbeat
// frame (`amqp_send_frame`, channel 0), and only when the owner has written nothing for half the
// heartbeat. It never reads: the broker's heartbeats and deliveries wait in the socket buffer.
//
// rabbitmq-c's own bookkeeping (librabbitmq 0.11, amqp_socket.c / amqp_connection.c): it keeps
// `next_send_heartbeat` (last write + heartbeat; `amqp_send_frame` moves it, so our frames count) and
// `next_recv_heartbeat` (last read + 2 × heartbeat). After a long busy spell the receive deadline is
// in the past, but its next read calls `recv()` before it looks at any deadline, finds the broker's
// heartbeats waiting in the socket buffer and moves the deadline on; only when nothing at all arrived
// for 2 × heartbeat (the broker really is gone: it sends a heartbeat every half interval) does it
// report `AMQP_STATUS_HEARTBEAT_TIMEOUT`. The adapter test `aBusyConnectionOutlivesSeveralHeartbeats`
// covers exactly that.

import CRabbitMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Nanoseconds on the monotonic clock (the clock the heartbeat thread's waits use too).
private func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The mutex guarding one rabbitmq-c connection, and the thread that keeps it alive while its owner
/// is busy elsewhere. Shared by reference between the owner and the thread; the thread never
/// touches the `AMQPConnection` itself, so dropping the connection ends both.
final class AMQPHeartbeat: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    // Everything below is read and written only with `mutex` held.
    private var connection: amqp_connection_state_t?
    private var intervalNanos: UInt64 = 0
    private var lastWrite = monotonicNanos()
    private var stopped = false
    /// Why the last heartbeat could not be sent (the connection is then unusable).
    private(set) var failure: String?
    /// Heartbeat frames this thread sent (for tests and logs).
    private(set) var framesSent = 0

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(wake, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// The owner wrote to the socket (any method frame counts as a heartbeat for the broker).
    /// Call with the lock held.
    func noteWrite() { lastWrite = monotonicNanos() }

    /// Starts the thread for a connection whose negotiated heartbeat is `seconds` (0: none, no
    /// thread). Call once, with the lock held or before anyone else can use the connection.
    func start(_ c: amqp_connection_state_t, heartbeatSeconds seconds: Int) -> Bool {
        guard seconds > 0 else { return true }
        connection = c
        // A frame after half an interval of silence: RabbitMQ gives up after two to three silent ones.
        intervalNanos = UInt64(seconds) * 500_000_000
        lastWrite = monotonicNanos()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attributes) }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, &attributes, { raw in
            let heartbeat = Unmanaged<AMQPHeartbeat>.fromOpaque(raw!).takeRetainedValue()
            heartbeat.run()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<AMQPHeartbeat>.fromOpaque(box).release()
            connection = nil
            return false
        }
        return true
    }

    /// Stops the thread and forgets the connection; after this the thread never touches it again.
    /// Call with the lock held, before the connection is destroyed.
    func stop() {
        stopped = true
        connection = nil
        pthread_cond_signal(wake)
    }

    private func run() {
        lock()
        defer { unlock() }
        while !stopped, let c = connection {
            let now = monotonicNanos()
            let due = lastWrite &+ intervalNanos
            if now >= due {
                var frame = amqp_frame_t()
                frame.frame_type = UInt8(AMQP_FRAME_HEARTBEAT)
                frame.channel = 0
                let rc = amqp_send_frame(c, &frame)
                if rc != AMQP_STATUS_OK.rawValue {
                    // The owner's next call reports it; nothing more to do here.
                    failure = amqp_error_string2(rc).map { String(cString: $0) } ?? "rabbitmq-c error \(rc)"
                    connection = nil
                    return
                }
                framesSent += 1
                lastWrite = monotonicNanos()
                continue
            }
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let wait = due - now
            deadline.tv_sec += Int(wait / 1_000_000_000)
            deadline.tv_nsec += Int(wait % 1_000_000_000)
            if deadline.tv_nsec >= 1_000_000_000 {
                deadline.tv_sec += 1
                deadline.tv_nsec -= 1_000_000_000
            }
            // Releases the lock while waiting: the owner uses the connection meanwhile.
            _ = pthread_cond_timedwait(wake, mutex, &deadline)
        }
    }
}
