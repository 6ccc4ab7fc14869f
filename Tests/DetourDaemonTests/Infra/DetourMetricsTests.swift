import DetourCore
@testable import DetourDaemon
import DetourStore
import Testing

@Suite struct DetourMetricsTests {
    /// The value of the series whose line starts with `series` (name and labels), if present.
    private func value(_ metrics: DetourMetrics, _ series: String) -> Double? {
        metrics.render().split(separator: "\n")
            .first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    @Test func seriesKnownUpFrontStartAtZero() {
        let metrics = DetourMetrics()
        #expect(value(metrics, #"detour_deliveries_total{channel="webhook",outcome="dead"}"#) == 0)
        #expect(value(metrics, #"detour_queue_depth{state="queued"}"#) == 0)
        #expect(value(metrics, "detour_incidents_opened_total") == 0)
        #expect(value(metrics, "detour_incidents_open") == 0)
        #expect(value(metrics, "detour_config_reload_success") == 1)
        #expect(value(metrics, #"detour_delivery_seconds_count{channel="banner"}"#) == 0)
    }

    @Test func aPlatformHasExactlyOneCurrentState() {
        let metrics = DetourMetrics()
        metrics.setPlatformState(.whatsapp, .down)
        metrics.setPlatformState(.whatsapp, .operational)
        #expect(value(metrics, #"detour_platform_state{platform="whatsapp",state="operational"}"#) == 1)
        for state in ["degraded", "down", "unknown"] {
            #expect(value(metrics, #"detour_platform_state{platform="whatsapp",state="\#(state)"}"#) == 0)
        }
    }

    @Test func deliveriesQueueIncidentsProbesAndReloadsAreCounted() {
        let metrics = DetourMetrics()
        metrics.deliveryFinished(channel: .webhook, outcome: DetourMetrics.Outcome(.retry(error: "503", retryAt: .now)), seconds: 2)
        metrics.deliveryFinished(channel: .webhook, outcome: .sent, seconds: 0.2)
        metrics.setQueueDepth([.queued: 4, .dead: 1])
        metrics.setOpenIncidents(2)
        metrics.incidentOpened()
        metrics.probeRound(platform: .facebook)
        metrics.probeRound(platform: .facebook)
        metrics.reloadResult(success: false)

        #expect(value(metrics, #"detour_deliveries_total{channel="webhook",outcome="retry"}"#) == 1)
        #expect(value(metrics, #"detour_deliveries_total{channel="webhook",outcome="sent"}"#) == 1)
        #expect(value(metrics, #"detour_delivery_seconds_count{channel="webhook"}"#) == 2)
        #expect(value(metrics, #"detour_delivery_seconds_bucket{channel="webhook",le="0.25"}"#) == 1)
        #expect(value(metrics, #"detour_queue_depth{state="queued"}"#) == 4)
        #expect(value(metrics, #"detour_queue_depth{state="dead"}"#) == 1)
        #expect(value(metrics, #"detour_queue_depth{state="sent"}"#) == 0)
        #expect(value(metrics, "detour_incidents_open") == 2)
        #expect(value(metrics, "detour_incidents_opened_total") == 1)
        #expect(value(metrics, #"detour_probe_rounds_total{platform="facebook"}"#) == 2)
        #expect(value(metrics, "detour_config_reload_success") == 0)
    }

    @Test func twoMetricsObjectsDoNotShareCounters() {
        let one = DetourMetrics(), two = DetourMetrics()
        one.incidentOpened()
        #expect(value(two, "detour_incidents_opened_total") == 0)
    }
}
