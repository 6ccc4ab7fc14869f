import DetourConfig
import Foundation
import Testing
import TestKit

/// `node:` and `cluster:` in detour.yaml.
@Suite struct ClusterSettingsTests {
    private func load(_ daemon: String) throws -> (config: DaemonConfigSummary?, errors: [String]) {
        let dir = try TempDir()
        try dir.write("detour.yaml", daemon)
        try FileManager.default.createDirectory(atPath: dir.file("policies"), withIntermediateDirectories: true)
        let (loaded, diagnostics) = ConfigLoader().load(configPath: dir.file("detour.yaml"))
        let summary = loaded.map { DaemonConfigSummary(quorum: $0.daemon.node.quorum, name: $0.daemon.node.name) }
        return (diagnostics.hasErrors ? nil : summary, diagnostics.errors.map(\.description))
    }

    struct DaemonConfigSummary { var quorum: Int?; var name: String? }

    @Test func quorumIsMajorityByDefaultOrANumber() throws {
        #expect(try load("policies: policies\n").config?.quorum == nil)
        #expect(try load("policies: policies\ncluster:\n  quorum: majority\n").config?.quorum == nil)
        let two = try load("policies: policies\nnode:\n  name: node-a\ncluster:\n  quorum: 2\n")
        #expect(two.config?.quorum == 2 && two.config?.name == "node-a", "\(two.errors)")
    }

    @Test func aBadQuorumIsAnErrorAtItsLine() throws {
        for bad in ["0", "most", "-1"] {
            let r = try load("policies: policies\ncluster:\n  quorum: \(bad)\n")
            #expect(r.config == nil)
            #expect(r.errors.contains { $0.contains("detour.yaml:3:") && $0.contains("cluster.quorum") }, "\(r.errors)")
        }
        let unknown = try load("policies: policies\ncluster:\n  quorom: 2\n")
        #expect(unknown.errors.contains { $0.contains("detour.yaml:3:") && $0.contains("quorom") }, "\(unknown.errors)")
    }
}
