import RegistrarCore

/// Small, valid media and manifests built in code, for tests of every layer.
public enum Fixtures {
    /// A valid PNG of the given size (signature, IHDR, one IDAT, IEND, correct CRCs): what the
    /// probe reads as `image/png` width × height.
    public static func png(width: Int, height: Int) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + data
            return be32(data.count) + typed + be32(Int(crc32(typed)))
        }
        let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        // A zlib stream of one empty stored block: enough for a header probe and a whole object.
        let idat: [UInt8] = [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A JSON manifest of images, one per URL (titles `img-0`, `img-1`, …).
    public static func imagesManifest(_ urls: [String], skipDuplicates: Bool = false) -> [UInt8] {
        let items = urls.enumerated().map { "{\"objectUrl\":\"\($0.element)\",\"title\":\"img-\($0.offset)\"}" }
        return Array("{\"images\":[\(items.joined(separator: ","))]\(skipDuplicates ? ",\"skip_duplicate_urls\":true" : "")}".utf8)
    }
}

extension Fixtures {
    /// The entries a manifest reads as (what chunks carry), in order.
    public static func entries(_ manifest: [UInt8], format: ManifestFormat = .json) throws -> [ManifestEntry] {
        var reader = makeManifestReader(format: format, source: MemoryByteSource(manifest))
        var out: [ManifestEntry] = []
        while let e = try reader.next() { _ = reader.takeIssues(); out.append(e) }
        return out
    }

    /// The units a manifest reads as (rejected items left out).
    public static func units(_ manifest: String) throws -> [RegistrationUnit] {
        try entries(Array(manifest.utf8)).compactMap { if case .unit(let u) = $0 { return u } else { return nil } }
    }
}
