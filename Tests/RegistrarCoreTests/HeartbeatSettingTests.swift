import RegistrarCore
import Testing

@Suite struct HeartbeatSettingTests {
    @Test func wholeSecondsInRangeAreAccepted() throws {
        #expect(try HeartbeatSetting.parse("1", source: "--amqp-heartbeat") == 1)
        #expect(try HeartbeatSetting.parse("60", source: "--amqp-heartbeat") == 60)
        #expect(try HeartbeatSetting.parse("3600", source: "--amqp-heartbeat") == 3600)
        #expect(HeartbeatSetting.defaultSeconds == 60)
    }

    @Test func badValuesNameTheSourceTheValueAndTheRange() {
        let cases: [(String, String)] = [
            ("0", "REGISTRAR_AMQP_HEARTBEAT_SECONDS: 0 s is outside 1…3600 s"),
            ("3601", "REGISTRAR_AMQP_HEARTBEAT_SECONDS: 3601 s is outside 1…3600 s"),
            ("-5", "REGISTRAR_AMQP_HEARTBEAT_SECONDS: -5 s is outside 1…3600 s"),
            ("1.5", #"REGISTRAR_AMQP_HEARTBEAT_SECONDS: "1.5" is not a whole number of seconds"#),
            ("60s", #"REGISTRAR_AMQP_HEARTBEAT_SECONDS: "60s" is not a whole number of seconds"#),
            ("", #"REGISTRAR_AMQP_HEARTBEAT_SECONDS: "" is not a whole number of seconds"#),
        ]
        for (text, message) in cases {
            #expect(throws: HeartbeatSetting.ParseError(description: message)) {
                try HeartbeatSetting.parse(text, source: "REGISTRAR_AMQP_HEARTBEAT_SECONDS")
            }
        }
    }
}
