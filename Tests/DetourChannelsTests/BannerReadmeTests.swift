import DetourChannels
import Foundation
import Testing
import TestKit

/// channels/banner/README.md tells site owners how fast a page sees a change; these pin its
/// numbers to the code that makes them true.
@Suite struct BannerReadmeTests {
    private let readme: String
    private let settings = BannerStreamSettings()

    init() throws {
        readme = try String(contentsOfFile: Repo.path("channels/banner/README.md"), encoding: .utf8)
            .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
    }

    @Test func thePollingIntervalInTheReadmeIsTheScripts() throws {
        let match = try #require(BannerScript.text.firstMatch(of: /var POLL_MS = (\d+) \* 1000;/), "banner.js has POLL_MS")
        let seconds = String(match.1)
        #expect(readme.contains("**every \(seconds) seconds**"))
        #expect(readme.contains("within \(seconds) seconds"))
        let retry = try #require(BannerScript.text.firstMatch(of: /var STREAM_RETRY_MS = (\d+) \* 60 \* 1000;/))
        #expect(readme.contains("tries the stream again after \(retry.1) minutes"))
    }

    @Test func theStreamSettingsInTheReadmeAreTheDefaults() {
        #expect(settings.heartbeat == .seconds(15))
        #expect(readme.contains("(`: heartbeat`) every 15 seconds"))
        #expect(settings.retry == .seconds(5))
        #expect(readme.contains("`retry: 5000` hint (a browser whose stream drops reconnects after 5 seconds)"))
        #expect(settings.maxStreamsPerBusiness == 1_000)
        #expect(readme.contains("At most 1,000 streams per business"))
        #expect(settings.maxDuration == .seconds(600))
        #expect(readme.contains("A stream ends after about 10 minutes"))
    }
}
