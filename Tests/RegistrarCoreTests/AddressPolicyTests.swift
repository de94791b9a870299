import RegistrarCore
import Testing

/// Pure: address parsing, classification and the allow-list. No network.
@Suite("Address policy")
struct AddressPolicyTests {
    @Test("IPv4 literals are classified", arguments: [
        ("127.0.0.1", AddressClass.loopback), ("127.255.255.254", .loopback), ("127.1.2.3", .loopback),
        ("10.0.0.1", .privateUse), ("10.255.255.255", .privateUse),
        ("172.16.0.1", .privateUse), ("172.31.255.255", .privateUse), ("172.15.255.255", .global), ("172.32.0.1", .global),
        ("192.168.0.1", .privateUse), ("192.168.255.255", .privateUse), ("192.169.0.1", .global),
        ("169.254.0.1", .linkLocal), ("169.254.255.255", .linkLocal), ("169.254.169.254", .metadata), ("169.254.170.2", .metadata),
        ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace), ("100.63.255.255", .global),
        ("100.128.0.0", .global), ("100.100.100.200", .metadata),
        ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast),
        ("255.255.255.255", .broadcast), ("240.0.0.1", .reserved), ("254.1.2.3", .reserved),
        ("192.0.2.1", .reserved), ("198.51.100.7", .reserved), ("203.0.113.9", .reserved), ("198.18.0.1", .reserved),
        ("192.0.0.192", .metadata), ("192.0.0.8", .reserved),
        ("8.8.8.8", .global), ("1.1.1.1", .global), ("52.216.8.3", .global), ("142.250.74.110", .global), ("223.255.255.255", .global),
    ])
    func ipv4(_ literal: String, _ expected: AddressClass) throws {
        let a = try #require(IPAddress(literal))
        #expect(a.family == .v4)
        #expect(AddressClassifier.classify(a).0 == expected, "\(literal)")
        #expect(a.description == literal)
    }

    @Test("IPv6 literals are classified, embedded IPv4 by its own class", arguments: [
        ("::", AddressClass.unspecified), ("::1", .loopback),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback), ("::FFFF:127.0.0.1", .loopback),
        ("::ffff:10.1.2.3", .privateUse), ("::ffff:169.254.169.254", .metadata), ("::ffff:8.8.8.8", .global),
        ("::ffff:0:127.0.0.1", .loopback), ("::127.0.0.1", .loopback), ("::10.0.0.1", .privateUse), ("::2", .unspecified),
        ("64:ff9b::127.0.0.1", .loopback), ("64:ff9b::a9fe:a9fe", .metadata), ("64:ff9b::10.0.0.1", .privateUse),
        ("64:ff9b::8.8.8.8", .global), ("64:ff9b:1::1", .privateUse),
        ("2002:7f00:1::1", .loopback), ("2002:a00:1::", .privateUse), ("2002:808:808::1", .global),
        ("fc00::1", .privateUse), ("fd12:3456:789a::1", .privateUse), ("fd00:ec2::254", .metadata), ("fd20:ce::254", .metadata),
        ("fd00:ec2::253", .privateUse),
        ("fe80::1", .linkLocal), ("febf:ffff::1", .linkLocal), ("fec0::1", .privateUse),
        ("ff02::1", .multicast), ("ff05::1:3", .multicast),
        ("2001:db8::1", .reserved), ("2001::1", .reserved), ("100::1", .reserved), ("3fff::1", .reserved),
        ("4000::1", .reserved), ("::2:3:4:5", .reserved),
        ("2606:4700:4700::1111", .global), ("2a00:1450:4001:82b::200e", .global), ("2600:1f18::1", .global),
    ])
    func ipv6(_ literal: String, _ expected: AddressClass) throws {
        let a = try #require(IPAddress(literal))
        #expect(a.family == .v6)
        #expect(AddressClassifier.classify(a).0 == expected, "\(literal)")
    }

    @Test("Only strict literals parse", arguments: [
        "", "127.1", "0x7f.0.0.1", "0177.0.0.1", "127.0.0.01", "2130706433", "256.0.0.1", "1.2.3", "1.2.3.4.5", "1.2.3.",
        ".1.2.3", "1..2.3", " 1.2.3.4", "1.2.3.4 ", "::1::", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::",
        "fe80::1%eth0", "fe80::1%25eth0", ":1", "1:", "::ffff:1.2.3", "::ffff:1.2.3.256", "g::1", "1.2.3.4::", "[::1", "example.com",
    ])
    func rejects(_ literal: String) {
        #expect(IPAddress(literal) == nil, "\(literal)")
    }

    @Test("Canonical text (RFC 5952)", arguments: [
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1::", "1::"), ("::", "::"), ("[::1]", "::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"), ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ])
    func canonical(_ literal: String, _ text: String) throws {
        #expect(try #require(IPAddress(literal)).description == text)
    }

    @Test func bytesRoundTrip() throws {
        for text in ["1.2.3.4", "255.0.127.1", "2001:db8::ff00:42:8329", "::ffff:10.0.0.1"] {
            let a = try #require(IPAddress(text))
            #expect(IPAddress(bytes: a.bytes) == a)
        }
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }

    @Test func networks() throws {
        let v4 = try #require(IPNetwork("127.0.0.0/8"))
        #expect(v4.contains(IPAddress("127.1.2.3")!))
        #expect(!v4.contains(IPAddress("128.0.0.1")!))
        #expect(!v4.contains(IPAddress("::ffff:127.0.0.1")!), "families do not mix")
        #expect(try #require(IPNetwork("127.0.0.1/8")).description == "127.0.0.0/8", "host bits masked")
        #expect(try #require(IPNetwork("::1/128")).contains(IPAddress("::1")!))
        #expect(try #require(IPNetwork("fc00::/7")).contains(IPAddress("fdff::1")!))
        #expect(try #require(IPNetwork("fc00::/7")).contains(IPAddress("fe00::1")!) == false)
        #expect(try #require(IPNetwork("2001:db8::/33")).contains(IPAddress("2001:db8:7fff::1")!))
        #expect(try #require(IPNetwork("2001:db8::/33")).contains(IPAddress("2001:db8:8000::1")!) == false)
        #expect(try #require(IPNetwork("2001:db8::1:0/112")).contains(IPAddress("2001:db8::1:ffff")!))
        #expect(try #require(IPNetwork("0.0.0.0/0")).contains(IPAddress("8.8.8.8")!))
        #expect(try #require(IPNetwork("10.1.2.3")).isSingleAddress)
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/a", "10.0.0/8", "/8", "10.0.0.0/-1", "10.0.0.0/0008"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test func strictPolicy() {
        let p = AddressPolicy()
        #expect(p.check(host: "example.com", addresses: [IPAddress("93.184.215.14")!]) == .allowed)
        #expect(p.check(host: "example.com", addresses: [IPAddress("2606:2800:21f:cb07:6820:80da:af6b:8b2c")!]) == .allowed)
        // ANY bad address refuses the host.
        guard case .refused(.privateUse, let reason) = p.check(host: "Mixed.Example.COM.", addresses: [IPAddress("8.8.8.8")!, IPAddress("10.0.0.1")!]) else {
            Issue.record("mixed public/private must be refused"); return
        }
        #expect(reason.contains("mixed.example.com"))
        #expect(reason.contains("private"))
        guard case .refused(.loopback, _) = p.check(host: "localhost", addresses: [IPAddress("127.0.0.1")!]) else {
            Issue.record("localhost"); return
        }
        guard case .refused(.unspecified, _) = p.check(host: "nothing.example", addresses: []) else {
            Issue.record("no addresses"); return
        }
        for literal in ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "0.0.0.0", "::",
                        "fd00:ec2::254", "100.64.1.1", "224.0.0.251", "255.255.255.255", "fe80::1"] {
            if case .allowed = p.check(host: literal, addresses: [IPAddress(literal)!]) { Issue.record("\(literal) allowed") }
        }
    }

    @Test func metadataNamesAreRefusedWhateverTheyResolveTo() {
        let p = AddressPolicy()
        for name in ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata", "instance-data", "[metadata]"] {
            guard case .refused(.metadata, let reason) = p.check(host: name, addresses: [IPAddress("8.8.8.8")!]) else {
                Issue.record("\(name) allowed"); continue
            }
            #expect(reason.contains("metadata"))
            guard case .refused = p.checkName(name) else { Issue.record("checkName(\(name))"); continue }
        }
        #expect(p.checkName("metadata.example.com") == .allowed)
    }

    @Test func allowList() throws {
        let p = try AddressPolicy(allowList: "127.0.0.0/8, ::1/128,minio.internal  *.svc.cluster.local\n10.1.0.0/16")
        #expect(p.allowedNetworks.count == 3)
        #expect(p.allowedHosts == ["minio.internal", "*.svc.cluster.local"])
        #expect(p.check(host: "127.0.0.1", addresses: [IPAddress("127.0.0.1")!]) == .allowed)
        #expect(p.check(host: "localhost", addresses: [IPAddress("127.0.0.1")!, IPAddress("::1")!]) == .allowed)
        #expect(p.check(host: "x", addresses: [IPAddress("::ffff:127.0.0.1")!]) == .allowed, "mapped form of an allowed address")
        #expect(p.check(host: "x", addresses: [IPAddress("10.1.200.3")!]) == .allowed)
        if case .allowed = p.check(host: "x", addresses: [IPAddress("10.2.0.1")!]) { Issue.record("10.2.0.1 is outside 10.1/16") }
        if case .allowed = p.check(host: "x", addresses: [IPAddress("127.0.0.1")!, IPAddress("192.168.1.1")!]) { Issue.record("one bad address") }
        #expect(p.check(host: "MinIO.Internal.", addresses: [IPAddress("192.168.5.5")!]) == .allowed, "allowed name, any address")
        #expect(p.check(host: "a.b.svc.cluster.local", addresses: [IPAddress("10.9.9.9")!]) == .allowed)
        if case .allowed = p.check(host: "svc.cluster.local", addresses: [IPAddress("10.9.9.9")!]) { Issue.record("wildcard matches below only") }
        if case .allowed = p.check(host: "evilsvc.cluster.local", addresses: [IPAddress("10.9.9.9")!]) { Issue.record("wildcard label boundary") }
        #expect(try AddressPolicy(allowList: "") == AddressPolicy())
        #expect(try AddressPolicy(allowList: " , ,") == AddressPolicy())
    }

    @Test func wideNetworksDoNotUnlockMetadata() throws {
        let wide = try AddressPolicy(allowList: "169.254.0.0/16,fd00::/8,0.0.0.0/0")
        #expect(wide.permits(IPAddress("169.254.1.1")!))
        #expect(!wide.permits(IPAddress("169.254.169.254")!))
        #expect(!wide.permits(IPAddress("fd00:ec2::254")!))
        #expect(!wide.permits(IPAddress("::ffff:169.254.169.254")!))
        let exact = try AddressPolicy(allowList: "169.254.169.254/32")
        #expect(exact.permits(IPAddress("169.254.169.254")!))
    }

    @Test func allowListErrorsNameTheEntry() {
        for (list, entry) in [("127.0.0.0/8,bad host!", "host!"), ("10.0.0.0/40", "10.0.0.0/40"), ("-a.example", "-a.example"),
                              ("a..b", "a..b"), ("*", "*"), ("http://x", "http://x")] {
            #expect(throws: AddressPolicy.ParseError(entry: entry), "\(list)") { try AddressPolicy(allowList: list) }
        }
    }
}
