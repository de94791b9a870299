import RegistrarCore
import Testing

/// The `task-create` kind's parameters and chunk message (docs/workflows.md, "Tasks").
@Suite struct TaskCreationTests {
    @Test func paramsRoundTripAndEachBadFieldIsNamed() throws {
        let p = TaskCreateParams(projectID: "3F2504E0-4F89-11D3-9A0C-0305E82C3301", datasetID: "6fa459ea-ee8a-3ca4-894e-db77e160355e", maxUnitID: 12_345)
        #expect(p.projectID == "3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        #expect(TaskCreateParams.parse(p.json) == .success(p))
        func field(_ json: String) -> String? {
            if case .failure(let issue) = TaskCreateParams.parse(JSONValue.parse(Array(json.utf8))!) { return issue.field }
            return nil
        }
        #expect(field(#"{"datasetId": "6fa459ea-ee8a-3ca4-894e-db77e160355e", "maxUnitId": 1}"#) == "projectId")
        #expect(field(#"{"projectId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "datasetId": "x", "maxUnitId": 1}"#) == "datasetId")
        #expect(field(#"{"projectId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "datasetId": "6fa459ea-ee8a-3ca4-894e-db77e160355e", "maxUnitId": -1}"#) == "maxUnitId")
        #expect(field(#"{"projectId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "datasetId": "6fa459ea-ee8a-3ca4-894e-db77e160355e", "maxUnitId": 1.5}"#) == "maxUnitId")
    }

    @Test func chunksRoundTripAndGarbageIsRefused() {
        let c = TaskCreateChunk(jobID: "j", seq: 3, tenantID: "t", projectID: "p", datasetID: "d", firstUnit: 15_000, unitIDs: [7, 9, 1 << 40])
        #expect(TaskCreateChunk.decode(c.bytes) == c)
        #expect(TaskCreateChunk.decode(Array(#"{"job":"j","seq":1}"#.utf8)) == nil)
        #expect(TaskCreateChunk.decode(Array(#"{"job":"j","seq":1,"tenant":"t","project":"p","dataset":"d","first":0,"units":["x"]}"#.utf8)) == nil)
    }
}
