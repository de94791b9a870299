import Foundation
import RegistrarCore

/// The credential key ring from `REGISTRAR_ENCRYPTION_KEYS` ("ID:BASE64KEY,…", first = current)
/// or the file named by `REGISTRAR_ENCRYPTION_KEYS_FILE` (a mounted secret). Every process that
/// seals or opens credentials (CLI, API, workers) reads it the same way.
public enum KeyRingLoader {
    public struct Unavailable: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(Unavailable) -> EncryptionKeyRing {
        let text: String
        if let inline = env["REGISTRAR_ENCRYPTION_KEYS"], !inline.isEmpty {
            text = inline
        } else if let path = env["REGISTRAR_ENCRYPTION_KEYS_FILE"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Unavailable(description: "cannot read the key ring file REGISTRAR_ENCRYPTION_KEYS_FILE=\(path)")
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            throw Unavailable(description: "no credential encryption key is configured: set REGISTRAR_ENCRYPTION_KEYS=ID:BASE64KEY "
                              + "(a 32-byte key, e.g. `openssl rand -base64 32`) or REGISTRAR_ENCRYPTION_KEYS_FILE to a file holding it")
        }
        do { return try EncryptionKeyRing(text: text) } catch { throw Unavailable(description: "\(error)") }
    }
}
