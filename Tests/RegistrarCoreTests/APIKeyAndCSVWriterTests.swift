import RegistrarCore
import Testing

@Suite struct APIKeyTests {
    @Test func generatedKeysAreWellFormedUniqueAndHashStably() {
        var seen = Set<String>()
        for _ in 0..<200 {
            let key = APIKey.generate()
            #expect(APIKey.isWellFormed(key))
            #expect(seen.insert(key).inserted)
        }
        let key = seen.first!
        #expect(APIKey.hash(key) == APIKey.hash(key))
        #expect(APIKey.hash(key).count == 64)
        #expect(APIKey.hash(key) != APIKey.hash(seen.dropFirst().first!))
        // sha256("abc"), FIPS 180-2 example.
        #expect(APIKey.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(APIKey.displayPrefix(key).count == 10 && key.hasPrefix(APIKey.displayPrefix(key)))
    }

    @Test func malformedKeysAreRefusedBeforeAnyLookup() {
        for bad in ["", "rgk_", "rgk_" + String(repeating: "a", count: 39), "rgk_" + String(repeating: "a", count: 41),
                    "xyz_" + String(repeating: "a", count: 40), "rgk_" + String(repeating: "a", count: 39) + "-",
                    "rgk_" + String(repeating: "é", count: 40)] {
            #expect(!APIKey.isWellFormed(bad), "\(bad)")
        }
    }
}

@Suite struct CSVWriterTests {
    @Test func formulaCellsAreNeutralisedAndQuotingFollowsRFC4180() {
        #expect(CSVWriter.cell("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSVWriter.cell("+1") == "'+1")
        #expect(CSVWriter.cell("-2") == "'-2")
        #expect(CSVWriter.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVWriter.cell("\tx") == "'\tx")
        #expect(CSVWriter.cell("plain") == "plain")
        #expect(CSVWriter.cell("a,b") == "\"a,b\"")
        #expect(CSVWriter.cell("line\nbreak") == "\"line\nbreak\"")
        #expect(CSVWriter.cell("") == "")
        #expect(CSVWriter.row(["1", "not_found", "x=y"]) == "1,not_found,x=y\r\n")
    }

    @Test func rowsReadBackThroughOurCSVReader() throws {
        let cells = ["=cmd|' /C calc'!A0", "quote \" inside", "comma, inside", "ok", "-1"]
        let text = CSVWriter.row(cells)
        var reader = CSVRowReader(source: MemoryByteSource(text))
        let row = try #require(try reader.next())
        #expect(row.fields == ["'=cmd|' /C calc'!A0", "quote \" inside", "comma, inside", "ok", "'-1"])
    }
}
