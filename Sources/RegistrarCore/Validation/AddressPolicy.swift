/// SSRF rules for fetching object URLs (docs/design.md, "Security"). Pure: no I/O. The HTTP layer resolves a
/// host once, asks `AddressPolicy.check(host:addresses:)` about every address it got, and connects
/// only to the vetted addresses.
///
/// Refused unless allow-listed: loopback, private (RFC 1918, ULA), link-local, shared address space
/// (CGNAT 100.64/10), multicast, unspecified (0.0.0.0/8, ::), broadcast, reserved/documentation
/// ranges, every IPv6 form that embeds an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated,
/// IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) classified by the embedded
/// address, and cloud metadata endpoints by address and by name.

// MARK: - IP addresses

/// An IPv4 or IPv6 address. IPv4 lives in the low 32 bits of `lo`; IPv6 is `hi:lo`, both in
/// host order (so prefix arithmetic is plain shifting).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable, Hashable { case v4, v6 }
    public let family: Family
    public let hi: UInt64
    public let lo: UInt64

    public init(v4 value: UInt32) { family = .v4; hi = 0; lo = UInt64(value) }
    public init(v4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.init(v4: UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }
    public init(v6Hi hi: UInt64, lo: UInt64) { family = .v6; self.hi = hi; self.lo = lo }

    /// From network-order bytes: 4 for IPv4, 16 for IPv6; nil for any other count.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        switch bytes.count {
        case 4:
            var v: UInt32 = 0
            for b in bytes { v = v << 8 | UInt32(b) }
            self.init(v4: v)
        case 16:
            var h: UInt64 = 0, l: UInt64 = 0, i = 0
            for b in bytes {
                if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
                i += 1
            }
            self.init(v6Hi: h, lo: l)
        default:
            return nil
        }
    }

    /// Parses a literal: strict dotted-quad IPv4 (no octal/hex/short forms, no leading zeros) or
    /// RFC 4291 IPv6 text (with an optional trailing dotted quad), optionally in brackets. Zone
    /// identifiers (`%eth0`) are refused: a zone makes the destination interface-dependent.
    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        if let v4 = IPAddress.parseV4(s) { self.init(v4: v4); return }
        guard let (h, l) = IPAddress.parseV6(s) else { return nil }
        self.init(v6Hi: h, lo: l)
    }

    /// Network-order bytes (4 or 16).
    public var bytes: [UInt8] {
        switch family {
        case .v4: return (0..<4).map { UInt8(truncatingIfNeeded: lo >> (24 - 8 * UInt64($0))) }
        case .v6: return (0..<8).map { UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64($0))) }
                      + (0..<8).map { UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64($0))) }
        }
    }

    public var v4Value: UInt32 { UInt32(truncatingIfNeeded: lo) }
    public var bitWidth: Int { family == .v4 ? 32 : 128 }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed,
    /// IPv4-mapped addresses as `::ffff:a.b.c.d`).
    public var description: String {
        switch family {
        case .v4: return IPAddress.dotted(v4Value)
        case .v6:
            if hi == 0, lo >> 32 == 0xFFFF {
                return "::ffff:" + IPAddress.dotted(UInt32(truncatingIfNeeded: lo))
            }
            let groups: [UInt16] = (0..<8).map { i in
                let word = i < 4 ? hi : lo
                return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(i % 4)))
            }
            // Longest run of at least two zero groups (first one on a tie).
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if groups[i] == 0 {
                    var j = i
                    while j < 8 && groups[j] == 0 { j += 1 }
                    if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                    i = j
                } else { i += 1 }
            }
            func hex(_ r: Range<Int>) -> String { r.map { String(groups[$0], radix: 16) }.joined(separator: ":") }
            if bestStart < 0 { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex((bestStart + bestLen)..<8)
        }
    }

    static func dotted(_ v: UInt32) -> String {
        "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
    }

    static func parseV4(_ s: Substring) -> UInt32? {
        var value: UInt32 = 0, parts = 0, digits = 0, part: UInt32 = 0, leadingZero = false
        for b in s.utf8 {
            if b >= 0x30 && b <= 0x39 {
                if digits == 0 && b == 0x30 { leadingZero = true } else if leadingZero { return nil }
                digits += 1
                part = part * 10 + UInt32(b - 0x30)
                if digits > 3 || part > 255 { return nil }
            } else if b == 0x2E {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part; parts += 1; digits = 0; part = 0; leadingZero = false
            } else { return nil }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    static func parseV6(_ s: Substring) -> (UInt64, UInt64)? {
        guard !s.isEmpty, s.utf8.count <= 45 else { return nil }
        let utf8 = Array(s.utf8)
        // Find "::" (at most one).
        var doubleColon: Int? = nil
        var i = 0
        while i + 1 < utf8.count {
            if utf8[i] == 0x3A && utf8[i + 1] == 0x3A {
                if doubleColon != nil { return nil }
                doubleColon = i
                i += 2
            } else { i += 1 }
        }
        func groups(_ part: ArraySlice<UInt8>, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = part.split(separator: 0x3A, omittingEmptySubsequences: false)
            for (n, f) in fields.enumerated() {
                if f.isEmpty { return nil }
                if n == fields.count - 1, allowV4Tail, f.contains(0x2E) {
                    guard let v4 = parseV4(Substring(decoding: f, as: UTF8.self)) else { return nil }
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard f.count <= 4 else { return nil }
                var g: UInt16 = 0
                for c in f {
                    let d: UInt16
                    switch c {
                    case 0x30...0x39: d = UInt16(c - 0x30)
                    case 0x61...0x66: d = UInt16(c - 0x61 + 10)
                    case 0x41...0x46: d = UInt16(c - 0x41 + 10)
                    default: return nil
                    }
                    g = g << 4 | d
                }
                out.append(g)
            }
            return out
        }
        var all: [UInt16]
        if let dc = doubleColon {
            guard let head = groups(utf8[0..<dc], allowV4Tail: false),
                  let tail = groups(utf8[(dc + 2)...], allowV4Tail: true),
                  head.count + tail.count <= 7 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let g = groups(utf8[...], allowV4Tail: true), g.count == 8 else { return nil }
            all = g
        }
        var h: UInt64 = 0, l: UInt64 = 0
        for k in 0..<4 { h = h << 16 | UInt64(all[k]) }
        for k in 4..<8 { l = l << 16 | UInt64(all[k]) }
        return (h, l)
    }
}

// MARK: - Networks

/// A CIDR block such as `127.0.0.0/8` or `fc00::/7`. Host bits are masked off.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init?(_ address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bitWidth else { return nil }
        self.prefixLength = prefixLength
        switch address.family {
        case .v4:
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
            self.address = IPAddress(v4: address.v4Value & mask)
        case .v6:
            let (mh, ml) = IPNetwork.v6Mask(prefixLength)
            self.address = IPAddress(v6Hi: address.hi & mh, lo: address.lo & ml)
        }
    }

    /// `a.b.c.d/n`, `x::y/n`, or a bare address (a single-address network).
    public init?(_ text: some StringProtocol) {
        let s = Substring(text)
        if let slash = s.firstIndex(of: "/") {
            let lenText = s[s.index(after: slash)...]
            guard let addr = IPAddress(s[..<slash]), !lenText.isEmpty, lenText.utf8.count <= 3,
                  lenText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let len = Int(lenText) else { return nil }
            self.init(addr, prefixLength: len)
        } else {
            guard let addr = IPAddress(s) else { return nil }
            self.init(addr, prefixLength: addr.bitWidth)
        }
    }

    public func contains(_ a: IPAddress) -> Bool {
        guard a.family == address.family else { return false }
        switch a.family {
        case .v4:
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
            return a.v4Value & mask == address.v4Value
        case .v6:
            let (mh, ml) = IPNetwork.v6Mask(prefixLength)
            return a.hi & mh == address.hi && a.lo & ml == address.lo
        }
    }

    public var isSingleAddress: Bool { prefixLength == address.bitWidth }
    public var description: String { "\(address)/\(prefixLength)" }

    static func v6Mask(_ n: Int) -> (UInt64, UInt64) {
        if n <= 0 { return (0, 0) }
        if n < 64 { return (~UInt64(0) << UInt64(64 - n), 0) }
        if n == 64 { return (~UInt64(0), 0) }
        if n < 128 { return (~UInt64(0), ~UInt64(0) << UInt64(128 - n)) }
        return (~UInt64(0), ~UInt64(0))
    }
}

// MARK: - Classification

/// Why an address is (or is not) a fetch destination. `global` is the only class allowed without
/// an allow-list entry.
public enum AddressClass: String, Sendable, CaseIterable {
    case global
    case loopback
    case privateUse = "private"
    case linkLocal = "link-local"
    case sharedAddressSpace = "cgnat"
    case multicast
    case unspecified
    case broadcast
    case reserved
    case metadata = "cloud metadata"
}

public enum AddressClassifier {
    /// Cloud metadata endpoints: AWS/Azure/GCP/OpenStack 169.254.169.254, AWS ECS task metadata
    /// 169.254.170.2, Alibaba 100.100.100.200, Oracle 192.0.0.192, AWS IPv6 fd00:ec2::254,
    /// GCP IPv6 fd20:ce::254.
    public static let metadataAddresses: Set<IPAddress> = [
        IPAddress(v4: 169, 254, 169, 254), IPAddress(v4: 169, 254, 170, 2),
        IPAddress(v4: 100, 100, 100, 200), IPAddress(v4: 192, 0, 0, 192),
        IPAddress("fd00:ec2::254")!, IPAddress("fd20:ce::254")!,
    ]

    /// Host names that reach metadata services without a metadata IP in sight (compared lower-cased,
    /// without a trailing dot).
    public static let metadataHostNames: Set<String> = [
        "metadata.google.internal", "metadata", "metadata.goog",
        "instance-data", "instance-data.ec2.internal", "metadata.azure.internal",
    ]

    /// The class of `a` and, for IPv6 forms that embed an IPv4 address, that address (the
    /// class is then the embedded address's class).
    public static func classify(_ a: IPAddress) -> (AddressClass, embedded: IPAddress?) {
        switch a.family {
        case .v4: return (classifyV4(a), nil)
        case .v6:
            if let v4 = embeddedV4(a) {
                let c = classifyV4(v4)
                return (c, v4)
            }
            return (classifyV6(a), nil)
        }
    }

    /// The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:0:0/96`, IPv4-translated
    /// `::ffff:0:0:0/96`, IPv4-compatible `::/96` (except `::` and `::1`), NAT64 `64:ff9b::/96`,
    /// 6to4 `2002::/16`.
    public static func embeddedV4(_ a: IPAddress) -> IPAddress? {
        guard a.family == .v6 else { return nil }
        let low32 = IPAddress(v4: UInt32(truncatingIfNeeded: a.lo))
        if a.hi == 0 {
            let top = a.lo >> 32
            if top == 0xFFFF { return low32 }                            // ::ffff:a.b.c.d
            if top == 0, a.lo > 1 { return low32 }                       // ::a.b.c.d (deprecated)
            if top == 0xFFFF_0000 { return low32 }                       // ::ffff:0:a.b.c.d
        }
        if a.hi == 0x0064_FF9B_0000_0000, a.lo >> 32 == 0 { return low32 }  // 64:ff9b::/96
        if a.hi >> 48 == 0x2002 { return IPAddress(v4: UInt32(truncatingIfNeeded: a.hi >> 16)) }  // 2002:AABB:CCDD::/48
        return nil
    }

    static func classifyV4(_ a: IPAddress) -> AddressClass {
        let v = a.v4Value
        if metadataAddresses.contains(a) { return .metadata }
        func inNet(_ net: UInt32, _ len: UInt32) -> Bool { v & (~UInt32(0) << (32 - len)) == net }
        if v == 0xFFFF_FFFF { return .broadcast }
        if inNet(0x0000_0000, 8) { return .unspecified }          // 0.0.0.0/8 ("this network"; 0.0.0.0 reaches localhost)
        if inNet(0x7F00_0000, 8) { return .loopback }             // 127/8
        if inNet(0x0A00_0000, 8) || inNet(0xAC10_0000, 12) || inNet(0xC0A8_0000, 16) { return .privateUse }
        if inNet(0xA9FE_0000, 16) { return .linkLocal }           // 169.254/16
        if inNet(0x6440_0000, 10) { return .sharedAddressSpace }  // 100.64/10
        if inNet(0xE000_0000, 4) { return .multicast }            // 224/4
        if inNet(0xF000_0000, 4) { return .reserved }             // 240/4
        if inNet(0xC000_0000, 24)                                 // 192.0.0/24 IETF protocol assignments
            || inNet(0xC000_0200, 24) || inNet(0xC633_6400, 24) || inNet(0xCB00_7100, 24)  // TEST-NET-1/2/3
            || inNet(0xC612_0000, 15)                             // 198.18/15 benchmarking
            || inNet(0xC058_6300, 24) { return .reserved }        // 192.88.99/24 6to4 relay anycast
        return .global
    }

    static func classifyV6(_ a: IPAddress) -> AddressClass {
        if metadataAddresses.contains(a) { return .metadata }
        if a.hi == 0 && a.lo == 0 { return .unspecified }
        if a.hi == 0 && a.lo == 1 { return .loopback }
        let top16 = a.hi >> 48
        if top16 & 0xFF00 == 0xFF00 { return .multicast }        // ff00::/8
        if top16 & 0xFFC0 == 0xFE80 { return .linkLocal }        // fe80::/10
        if top16 & 0xFFC0 == 0xFEC0 { return .privateUse }       // fec0::/10 (site-local, deprecated)
        if top16 & 0xFE00 == 0xFC00 { return .privateUse }       // fc00::/7 (ULA)
        if a.hi >> 16 == 0x0064_FF9B_0001 { return .privateUse } // 64:ff9b:1::/48 local-use NAT64
        if a.hi >> 32 == 0x2001_0DB8 { return .reserved }        // 2001:db8::/32 documentation
        if a.hi >> 32 == 0x2001_0000 { return .reserved }        // 2001::/32 Teredo (tunnels to an embedded IPv4)
        if a.hi == 0x0100_0000_0000_0000 { return .reserved }   // 100::/64 discard
        if a.hi >> 44 == 0x3_FFF0 { return .reserved }           // 3fff::/20 documentation (RFC 9637)
        if top16 & 0xE000 != 0x2000 { return .reserved }         // outside 2000::/3 global unicast
        return .global
    }
}

// MARK: - Policy

public struct AddressPolicy: Sendable, Equatable {
    /// Networks the operator allows in spite of their class. A network wider than one address
    /// never unlocks a cloud metadata address; name that address exactly (`169.254.169.254/32`)
    /// if you really mean it.
    public var allowedNetworks: [IPNetwork]
    /// Host names allowed whatever they resolve to (lower case, no trailing dot); `*.example.com`
    /// matches names below example.com (not example.com itself).
    public var allowedHosts: [String]

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var entry: String
        public init(entry: String) { self.entry = entry }
        public var description: String { "allow-list entry '\(entry)' is neither an IP network (CIDR), an address nor a host name" }
    }

    /// Strict: only globally routable addresses.
    public init() { allowedNetworks = []; allowedHosts = [] }

    public init(allowedNetworks: [IPNetwork], allowedHosts: [String] = []) {
        self.allowedNetworks = allowedNetworks
        self.allowedHosts = allowedHosts.map(AddressPolicy.normalizeHost)
    }

    /// Parses an operator allow-list (what `REGISTRAR_FETCH_ALLOW` holds): entries separated by
    /// commas and/or whitespace, each a CIDR (`127.0.0.0/8`, `::1/128`), a single address, a host
    /// name (`minio.internal`) or a wildcard (`*.svc.cluster.local`).
    public init(allowList: String) throws(ParseError) {
        self.init()
        for raw in allowList.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" }) {
            if let net = IPNetwork(raw) { allowedNetworks.append(net); continue }
            let name = AddressPolicy.normalizeHost(raw)
            guard AddressPolicy.isValidHostPattern(name) else { throw ParseError(entry: String(raw)) }
            allowedHosts.append(name)
        }
    }

    public enum Decision: Sendable, Equatable {
        case allowed
        /// `reason` names the host and the class, never the URL.
        case refused(AddressClass, reason: String)
    }

    /// Whether a host name is refused before resolving it (metadata names, unless allowed).
    public func checkName(_ host: String) -> Decision {
        let name = AddressPolicy.normalizeHost(host)
        if isAllowedHost(name) { return .allowed }
        if AddressClassifier.metadataHostNames.contains(name) {
            return .refused(.metadata, reason: "refusing to fetch from \(name): it is a cloud metadata host name")
        }
        return .allowed
    }

    /// The verdict for `host` resolving to `addresses`: refused if the name is refused or if ANY
    /// address is not global and not allowed. An empty address list is refused.
    public func check(host: String, addresses: [IPAddress]) -> Decision {
        let name = AddressPolicy.normalizeHost(host)
        if isAllowedHost(name) { return .allowed }
        if case .refused = checkName(name) { return checkName(name) }
        guard !addresses.isEmpty else {
            return .refused(.unspecified, reason: "refusing to fetch from \(name): it resolves to no address")
        }
        for a in addresses where !permits(a) {
            let (cls, _) = AddressClassifier.classify(a)
            let article = cls.rawValue.first.map { "aeiou".contains($0) } == true ? "an" : "a"
            let what = IPAddress(name) != nil ? "it is \(article) \(cls.rawValue) address" : "it resolves to \(article) \(cls.rawValue) address"
            return .refused(cls, reason: "refusing to fetch from \(name): \(what), not in the fetch allow-list")
        }
        return .allowed
    }

    /// Whether one address may be connected to (regardless of host name).
    public func permits(_ a: IPAddress) -> Bool {
        let (cls, embedded) = AddressClassifier.classify(a)
        if cls == .global { return true }
        for net in allowedNetworks {
            if cls == .metadata && !net.isSingleAddress { continue }
            if net.contains(a) { return true }
            if let e = embedded, net.contains(e) { return true }
        }
        return false
    }

    public func isAllowedHost(_ host: String) -> Bool {
        let name = AddressPolicy.normalizeHost(host)
        for pattern in allowedHosts {
            if pattern.hasPrefix("*.") {
                if name.hasSuffix(pattern.dropFirst()) && name.utf8.count > pattern.utf8.count - 1 { return true }
            } else if pattern == name { return true }
        }
        return false
    }

    /// Lower case (ASCII), brackets and a trailing dot removed.
    public static func normalizeHost(_ host: some StringProtocol) -> String {
        var s = Substring(host)
        if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        if s.hasSuffix(".") { s = s.dropLast() }
        var out = ""
        out.unicodeScalars.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            if u.value >= 0x41 && u.value <= 0x5A { out.unicodeScalars.append(Unicode.Scalar(u.value + 0x20)!) } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    static func isValidHostPattern(_ s: String) -> Bool {
        var body = Substring(s)
        if body.hasPrefix("*.") { body = body.dropFirst(2) }
        guard !body.isEmpty, body.utf8.count <= 253 else { return false }
        for label in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63,
                  label.utf8.first != UInt8(ascii: "-"), label.utf8.last != UInt8(ascii: "-") else { return false }
            for b in label.utf8 where !((b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F) {
                return false
            }
        }
        return true
    }
}
