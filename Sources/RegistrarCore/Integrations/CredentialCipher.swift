// Encryption at rest for integration credentials: AES-256-GCM under a key ring read from the
// environment (REGISTRAR_ENCRYPTION_KEYS or a mounted file). Pure: the caller hands in the ring's
// text; nothing here reads the environment or touches a database.

import Crypto

/// The credential key ring: `ID:BASE64KEY[,ID:BASE64KEY...]`, 32-byte keys, the first is current.
///
/// New ciphertexts are always sealed with the current key; older keys stay in the ring so
/// existing ciphertexts still open until `integrations rotate-key` has re-encrypted them. The key
/// bytes never appear in a description or an error.
public struct EncryptionKeyRing: Sendable, CustomStringConvertible {
    /// Key ids in ring order; `ids[0]` is the current key.
    public let ids: [String]
    private let keys: [String: SymmetricKey]

    /// The id new ciphertexts are sealed with.
    public var currentID: String { ids[0] }

    /// Why a key ring could not be read. Names entries by position and id, never by key.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses the ring text (whitespace and newlines around entries are ignored, so a mounted
    /// file may end with a newline).
    public init(text: String) throws(ParseError) {
        let entries = text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingASCIISpaces() }
            .filter { !$0.isEmpty }
        guard !entries.isEmpty else {
            throw ParseError(description: "the encryption key ring is empty (expected ID:BASE64KEY[,ID:BASE64KEY...])")
        }
        var ids: [String] = []
        var keys: [String: SymmetricKey] = [:]
        for (n, entry) in entries.enumerated() {
            let position = "entry \(n + 1)"
            guard let colon = entry.firstIndex(of: ":") else {
                throw ParseError(description: "encryption key ring \(position) is not ID:BASE64KEY")
            }
            let id = String(entry[..<colon])
            guard EncryptionKeyRing.isValidID(id) else {
                throw ParseError(description: "encryption key ring \(position): the id must be 1-64 characters of A-Z a-z 0-9 . _ -")
            }
            guard let bytes = SigningBase64.decode(String(entry[entry.index(after: colon)...])) else {
                throw ParseError(description: "encryption key ring \(position) (id \(id)): the key is not valid base64")
            }
            guard bytes.count == 32 else {
                throw ParseError(description: "encryption key ring \(position) (id \(id)): the key is \(bytes.count) bytes; AES-256 needs 32 (e.g. `openssl rand -base64 32`)")
            }
            guard keys[id] == nil else {
                throw ParseError(description: "encryption key ring \(position): id \(id) appears twice")
            }
            ids.append(id)
            keys[id] = SymmetricKey(data: bytes)
        }
        self.ids = ids
        self.keys = keys
    }

    /// Ids are stored next to each ciphertext and shown to operators: keep them plain.
    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        }
    }

    func key(_ id: String) -> SymmetricKey? { keys[id] }

    /// `EncryptionKeyRing(current: ID, ids: [...])`; never the keys.
    public var description: String { "EncryptionKeyRing(current: \(currentID), ids: \(ids))" }
}

/// Seals and opens credential blobs. The envelope is text, `v1:KEYID:BASE64(nonce ‖ ciphertext ‖ tag)`,
/// so the key id travels with the ciphertext (rotation finds what to re-encrypt) and the row can be
/// read with plain SQL tools. The associated data binds a ciphertext to its record: a blob copied
/// onto another integration's row does not open.
public enum CredentialCipher {
    /// Why a blob could not be opened. Carries no ciphertext and no key.
    public enum OpenError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Not a `v1:KEYID:BASE64` envelope.
        case malformed
        /// Sealed with a key id the ring does not hold (removed too early, or the wrong ring).
        case unknownKey(String)
        /// The key is right by id but authentication failed: wrong key bytes, tampering, or a
        /// blob that belongs to another record.
        case authenticationFailed(keyID: String)

        public var description: String {
            switch self {
            case .malformed: return "the stored credentials are not a v1 envelope"
            case .unknownKey(let id): return "the stored credentials were encrypted with key '\(id)', which is not in the key ring (REGISTRAR_ENCRYPTION_KEYS)"
            case .authenticationFailed(let id): return "the stored credentials do not decrypt with key '\(id)' (wrong key material, or the data was altered)"
            }
        }
    }

    /// Seals `plaintext` with the ring's current key.
    public static func seal(_ plaintext: [UInt8], ring: EncryptionKeyRing, associatedData: String) -> String {
        let id = ring.currentID
        // AES.GCM.seal only fails for invalid nonces/keys, and both are constructed valid here.
        let box = try! AES.GCM.seal(plaintext, using: ring.key(id)!, nonce: AES.GCM.Nonce(),
                                    authenticating: Array(associatedData.utf8))
        return "v1:\(id):" + SigningBase64.encode(Array(box.combined!))
    }

    /// The key id an envelope was sealed with, or nil when it is not an envelope.
    public static func keyID(of envelope: String) -> String? {
        let parts = envelope.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", EncryptionKeyRing.isValidID(String(parts[1])) else { return nil }
        return String(parts[1])
    }

    /// Opens an envelope sealed by `seal` with any key still in the ring.
    public static func open(_ envelope: String, ring: EncryptionKeyRing, associatedData: String) throws(OpenError) -> [UInt8] {
        let parts = envelope.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let bytes = SigningBase64.decode(String(parts[2])),
              bytes.count >= 12 + 16 else { throw .malformed }
        let id = String(parts[1])
        guard let key = ring.key(id) else { throw .unknownKey(id) }
        do {
            let box = try AES.GCM.SealedBox(combined: bytes)
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(associatedData.utf8)))
        } catch {
            throw .authenticationFailed(keyID: id)
        }
    }
}

extension Substring {
    func trimmingASCIISpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
