// The connection's frame loop: buffered deliveries, reading frames with a timeout, copying a
// delivery out of rabbitmq-c's envelope, and the asynchronous methods (confirms, returns, a
// broker's cancel or close) that arrive between them.

import CRabbitMQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension AMQPConnection {
    enum Pumped {
        case delivery(AMQPDelivery)
        case timeout
        case other
    }

    func takeBuffered() -> AMQPDelivery? {
        guard bufferedIndex < buffered.count else { return nil }
        let d = buffered[bufferedIndex]
        bufferedIndex += 1
        if bufferedIndex == buffered.count {
            buffered.removeAll(keepingCapacity: true)
            bufferedIndex = 0
        }
        return d
    }

    /// Reads one delivery or one other frame (handled here), waiting at most `timeout`.
    func pump(timeout: Duration) throws -> Pumped {
        let c = try ready()
        amqp_maybe_release_buffers(c)
        var tv = timevalFrom(duration: timeout)
        var envelope = amqp_envelope_t()
        let reply = amqp_consume_message(c, &envelope, &tv, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            let delivery = copyDelivery(envelope)
            amqp_destroy_envelope(&envelope)
            return .delivery(delivery)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return .timeout }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // Not a basic.deliver: rabbitmq-c put the frame back; take it and deal with it.
                var frame = amqp_frame_t()
                let rc = amqp_simple_wait_frame(c, &frame)
                if rc != AMQP_STATUS_OK.rawValue {
                    throw fail(.connectionClosed, "reading from \(endpoint) failed: \(libraryMessage(rc))")
                }
                try handle(frame)
                return .other
            }
            throw fail(.connectionClosed, "reading from \(endpoint) failed: \(libraryMessage(reply.library_error))")
        default:
            throw fail(.connectionClosed, "unexpected reply while reading from \(endpoint)")
        }
    }

    func copyDelivery(_ e: amqp_envelope_t) -> AMQPDelivery {
        var body: [UInt8] = []
        if e.message.body.len > 0, let p = e.message.body.bytes {
            body = Array(UnsafeRawBufferPointer(start: p, count: e.message.body.len))
        }
        var count: Int? = nil
        var deathReason: String? = nil
        let props = e.message.properties
        if props._flags & amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) != 0, props.headers.num_entries > 0,
           let entries = props.headers.entries {
            for i in 0..<Int(props.headers.num_entries) {
                switch string(entries[i].key) {
                case "x-delivery-count": count = integer(entries[i].value)
                case "x-death": deathReason = latestDeathReason(entries[i].value)
                default: break
                }
            }
        }
        return AMQPDelivery(body: body, deliveryTag: e.delivery_tag, redelivered: e.redelivered != 0,
                            deliveryCount: count, routingKey: string(e.routing_key), exchange: string(e.exchange),
                            deathReason: deathReason, consumerTag: string(e.consumer_tag))
    }

    /// `x-death` is an array of tables, most recent first; each has a `reason` string.
    func latestDeathReason(_ v: amqp_field_value_t) -> String? {
        guard UInt32(v.kind) == AMQP_FIELD_KIND_ARRAY.rawValue, v.value.array.num_entries > 0,
              let first = v.value.array.entries, UInt32(first.pointee.kind) == AMQP_FIELD_KIND_TABLE.rawValue,
              let fields = first.pointee.value.table.entries else { return nil }
        for i in 0..<Int(first.pointee.value.table.num_entries) where string(fields[i].key) == "reason" {
            let value = fields[i].value
            if UInt32(value.kind) == AMQP_FIELD_KIND_UTF8.rawValue || UInt32(value.kind) == AMQP_FIELD_KIND_BYTES.rawValue {
                return string(value.value.bytes)
            }
        }
        return nil
    }

    func integer(_ v: amqp_field_value_t) -> Int? {
        switch UInt32(v.kind) {
        case AMQP_FIELD_KIND_I8.rawValue: return Int(v.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: return Int(v.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: return Int(v.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: return Int(v.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: return Int(v.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: return Int(v.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: return Int(v.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return Int(exactly: v.value.u64)
        default: return nil
        }
    }

    /// A frame that is not a delivery: confirms, returns, broker closes, consumer cancels.
    func handle(_ frame: amqp_frame_t) throws {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }  // stray content/heartbeat
        let c = try ready()
        let method = frame.payload.method
        switch method.id {
        case methodBasicAck:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            confirms.settle(tag: m.delivery_tag, multiple: m.multiple != 0, ack: true)
        case methodBasicNack:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            confirms.settle(tag: m.delivery_tag, multiple: m.multiple != 0, ack: false)
        case methodBasicReturn:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            returnedKeys.append(string(m.routing_key))
            // The returned message's header and body frames follow: read and drop them.
            var message = amqp_message_t()
            let r = amqp_read_message(c, frame.channel, &message, 0)
            if r.reply_type == AMQP_RESPONSE_NORMAL {
                amqp_destroy_message(&message)
            } else {
                throw fail(.connectionClosed, "reading a returned message from \(endpoint) failed")
            }
        case methodBasicCancel:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            cancelledConsumers.append(string(m.consumer_tag))
        case methodChannelClose:
            let m = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t()
            _ = amqp_send_method(c, frame.channel, methodChannelCloseOk, &ok)
            if frame.channel == adminChannel {
                adminChannelOpen = false
            } else {
                throw fail(.channelClosed, "broker closed channel \(frame.channel): \(string(m.reply_text))",
                           replyCode: Int(m.reply_code))
            }
        case methodConnectionClose:
            let m = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t()
            _ = amqp_send_method(c, 0, methodConnectionCloseOk, &ok)
            throw fail(.connectionClosed, "broker closed the connection: \(string(m.reply_text))",
                       replyCode: Int(m.reply_code))
        default:
            break  // connection.blocked/unblocked, channel.flow, …
        }
    }

    /// Every public operation holds the connection lock from start to end (the heartbeat thread
    /// shares the C connection): `lockConnection(); defer { unlockConnection(wrote: …) }`.
}
