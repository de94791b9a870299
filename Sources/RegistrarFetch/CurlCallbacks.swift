// libcurl's C callbacks: no captures; a transfer's state arrives as user data (an unretained
// `Transfer`).

import CCurl
import RegistrarCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let writeBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, user in
    let total = size * count
    guard total > 0 else { return 0 }
    guard let user, let data else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let room = t.limit - t.body.count
    let take = min(max(room, 0), total)
    if take > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: take) {
            t.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: take))
        }
    }
    if take < total { t.reachedLimit = true; return 0 }  // enough: abort the transfer
    if t.body.count >= t.limit {
        // Full. A 206 ends by itself (and keeps its connection); anything else — a 200 that
        // ignored Range — is cut off now rather than read to its end.
        var code = 0
        _ = registrar_curl_easy_getinfo_long(t.easy, CURLINFO_RESPONSE_CODE, &code)
        if code != 206 { t.reachedLimit = true; return 0 }
    }
    return total
}

let openSocket: @convention(c) (UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?) -> curl_socket_t = { user, _, address in
    guard let user, let address else { return CURL_SOCKET_BAD }
    let t = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let offset = MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
    let ip = HostResolver.address(of: UnsafeRawPointer(address) + offset, length: Int(address.pointee.addrlen))
    guard let ip, t.vetted.contains(ip) else {
        t.refusedAddress = ip ?? IPAddress(v4: 0)
        return CURL_SOCKET_BAD
    }
    #if canImport(Glibc)
    let type = address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue)
    #else
    let type = address.pointee.socktype
    #endif
    let fd = socket(address.pointee.family, type, address.pointee.protocol)
    if fd >= 0 { t.socketsOpened += 1 }
    return fd
}
