import DetourChannels
import DetourCore
import Foundation
import Testing
import TestKit

/// Where node is, if it is installed.
enum NodeJS {
    static let path: String? = ["/usr/bin/node", "/usr/local/bin/node"].first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs the real compiled-in banner.js in node against a small fake DOM (no innerHTML: it throws).
@Suite(.enabled(if: NodeJS.path != nil, "node is not installed"))
struct BannerScriptTests {

    /// What the fake page looked like after banner.js ran, and after a click on "Dismiss".
    struct Outcome: Decodable {
        struct Link: Decodable, Equatable { var href: String; var text: String }
        struct Banner: Decodable {
            var role: String?
            var ariaLive: String?
            var text: String
            var links: [Link]
            var background: String?
            var first: Bool
        }
        var fetched: [String]
        var banner: Banner?
        var afterDismiss: Bool
        var dismissRemembered: Bool
        /// The URLs of the event streams the script opened, in order.
        var streams: [String]
        /// How many of them it closed.
        var closedStreams: Int
        /// The banner's text after each event the stream delivered (nil: no banner).
        var shownAfterEvents: [String?]
        /// The delays the script asked `setInterval` for, in milliseconds.
        var intervals: [Int]
    }

    /// What the fake EventSource does once the script opens it.
    enum Stream {
        /// Opens and delivers these `banner` events, one after another.
        case delivers([[String: Any]])
        /// Is refused (a 503 or 404: the browser gives up, readyState CLOSED).
        case refused
        /// Drops and reconnects by itself (readyState CONNECTING).
        case drops
    }

    private static let harness = #"""
    const fs = require("fs"), vm = require("vm");
    const [script, scenarioText] = [fs.readFileSync(process.argv[2], "utf8"), fs.readFileSync(process.argv[3], "utf8")];
    const scenario = JSON.parse(scenarioText);
    class El {
      constructor(tag) { this.tagName = tag; this.childNodes = []; this.attributes = {}; this.style = {}; this.parentNode = null; this.listeners = {}; this.text = ""; }
      appendChild(c) { c.parentNode = this; this.childNodes.push(c); return c; }
      insertBefore(c, ref) { c.parentNode = this; const i = this.childNodes.indexOf(ref); if (i < 0) this.childNodes.push(c); else this.childNodes.splice(i, 0, c); return c; }
      removeChild(c) { this.childNodes = this.childNodes.filter(x => x !== c); c.parentNode = null; return c; }
      replaceChild(n, o) { this.childNodes[this.childNodes.indexOf(o)] = n; n.parentNode = this; o.parentNode = null; }
      get firstChild() { return this.childNodes[0] || null; }
      setAttribute(k, v) { this.attributes[k] = String(v); }
      getAttribute(k) { return k in this.attributes ? this.attributes[k] : null; }
      addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); }
      set textContent(v) { this.childNodes = []; this.text = String(v); }
      get textContent() { return this.text + this.childNodes.map(c => c.textContent).join(""); }
      set innerHTML(v) { throw new Error("banner.js used innerHTML"); }
      find(tag) { return [].concat(...this.childNodes.map(c => (c.tagName === tag ? [c] : []).concat(c.find ? c.find(tag) : []))); }
    }
    const body = new El("body"); body.appendChild(new El("header"));
    const tag = new El("script"); tag.src = scenario.src; Object.assign(tag.attributes, scenario.attributes);
    const storage = new Map(); const fetched = []; const streams = []; const intervals = []; const timers = []; const docListeners = {};
    const document = {
      currentScript: tag, baseURI: "https://bakery.example/", readyState: "complete", visibilityState: "visible", body,
      createElement: t => new El(t), createTextNode: t => ({ textContent: String(t) }), querySelector: () => null,
      addEventListener(t, f) { (docListeners[t] = docListeners[t] || []).push(f); },
    };
    const window = { sessionStorage: { getItem: k => storage.has(k) ? storage.get(k) : null, setItem: (k, v) => storage.set(k, String(v)) } };
    const fetch = async url => { fetched.push(url); return { status: 200, ok: true, json: async () => scenario.document }; };
    class EventSource {
      constructor(url) { this.url = url; this.readyState = 0; this.listeners = {}; this.closed = false; streams.push(this); }
      addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); }
      close() { this.readyState = 2; this.closed = true; }
      emit(t, event) { (this.listeners[t] || []).forEach(f => f(event)); }
    }
    const context = { document, window, fetch, URL, JSON, Date, Array, Object, String, isNaN,
                      setInterval(f, ms) { intervals.push(ms); timers.push(f); } };
    if (scenario.stream) { context.EventSource = EventSource; }
    vm.runInNewContext(script, context);
    const settle = () => new Promise(r => setTimeout(r, 20));
    const shownText = () => { const box = body.firstChild.tagName === "header" ? null : body.firstChild; return box ? box.find("p")[0].textContent : null; };
    const setVisibility = v => { document.visibilityState = v; (docListeners.visibilitychange || []).forEach(f => f()); };
    (async () => {
      await settle();
      const shownAfterEvents = [];
      const stream = streams[0];
      if (scenario.stream && stream) {
        if (scenario.stream.mode === "refused") { stream.readyState = 2; stream.emit("error", {}); }
        if (scenario.stream.mode === "drops") { stream.readyState = 0; stream.emit("error", {}); }
        for (const event of scenario.stream.events || []) {
          stream.readyState = 1;
          stream.emit("banner", { data: JSON.stringify(event) });
          await settle();
          shownAfterEvents.push(shownText());
        }
        await settle();
      }
      for (let i = 0; i < (scenario.ticks || 0); i++) { timers.forEach(f => f()); await settle(); }
      if (scenario.hideAndShow) { setVisibility("hidden"); await settle(); setVisibility("visible"); await settle(); }
      const box = body.firstChild.tagName === "header" ? null : body.firstChild;
      let banner = null, afterDismiss = false;
      if (box) {
        banner = { role: box.getAttribute("role"), ariaLive: box.getAttribute("aria-live"), text: box.find("p")[0].textContent,
                   links: box.find("a").map(a => ({ href: a.href, text: a.textContent })), background: box.style.background || null, first: true };
        box.find("button")[0].listeners.click.forEach(f => f());
        afterDismiss = body.childNodes.includes(box);
      }
      console.log(JSON.stringify({ fetched, banner, afterDismiss, dismissRemembered: [...storage.values()].includes("1"),
                                   streams: streams.map(s => s.url), closedStreams: streams.filter(s => s.closed).length,
                                   shownAfterEvents, intervals }));
    })();
    """#

    /// Runs banner.js on a fake page. Without `stream` the page has no EventSource (an old browser).
    /// `ticks` runs the script's interval timers that many times; `hideAndShow` hides the tab and shows it again.
    private func run(document: [String: Any], src: String = "https://bakery.example/detour/rosies-bakery/banner.js",
                     attributes: [String: String] = [:], stream: Stream? = nil, ticks: Int = 0,
                     hideAndShow: Bool = false) throws -> Outcome {
        let tmp = try TempDir("banner-js")
        let script = try tmp.write("banner.js", BannerScript.text)
        var scenarioObject: [String: Any] = ["document": document, "src": src, "attributes": attributes, "ticks": ticks,
                                             "hideAndShow": hideAndShow]
        switch stream {
        case .delivers(let events)?: scenarioObject["stream"] = ["mode": "delivers", "events": events]
        case .refused?: scenarioObject["stream"] = ["mode": "refused"]
        case .drops?: scenarioObject["stream"] = ["mode": "drops"]
        case nil: break
        }
        let scenario = try JSONSerialization.data(withJSONObject: scenarioObject)
        let scenarioPath = try tmp.write("scenario.json", scenario)
        let harnessPath = try tmp.write("harness.js", Self.harness)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(NodeJS.path))
        process.arguments = [harnessPath, script, scenarioPath]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(problems)")
        return try JSONDecoder().decode(Outcome.self, from: data)
    }

    private func document(active: Bool = true, expiresIn seconds: TimeInterval = 600, message: String = "DMs are down",
                          links: [[String: String]] = [["label": "Call us", "url": "tel:+441614960000"]]) -> [String: Any] {
        ["version": 1, "business": ["id": "rosies-bakery", "name": "Rosie's Bakery"], "active": active, "test": false,
         "event": "opened", "incident": "inc-1", "message": message, "links": links, "platforms": ["Instagram"],
         "since": "2024-03-09T15:43:20Z", "expires_at": BannerFixture.iso(Date().addingTimeInterval(seconds))]
    }

    @Test func anActiveBannerIsShownAtTheTopAsTextWithOnlySafeLinksAndCanBeDismissed() throws {
        let hostile = "<img src=x onerror=alert(1)> Instagram is down"
        let outcome = try run(document: document(message: hostile, links: [
            ["label": "Call us", "url": "tel:+441614960000"],
            ["label": "<b>Evil</b>", "url": "javascript:alert(1)"],
            ["label": "Order online", "url": "https://rosies.example/order"],
        ]))
        #expect(outcome.fetched == ["https://bakery.example/detour/rosies-bakery/banner.json"])
        let banner = try #require(outcome.banner)
        #expect(banner.text == hostile, "set as text, never parsed as HTML")
        #expect(banner.links == [.init(href: "tel:+441614960000", text: "Call us"), .init(href: "https://rosies.example/order", text: "Order online")])
        #expect(banner.role == "status")
        #expect(banner.ariaLive == "polite")
        #expect(banner.background != nil, "styled through element.style, which CSP style-src allows")
        #expect(outcome.afterDismiss == false)
        #expect(outcome.dismissRemembered)
    }

    @Test func anExpiredOrInactiveBannerIsNotShown() throws {
        #expect(try run(document: document(expiresIn: -60)).banner == nil, "left behind by a daemon that stopped renewing it")
        #expect(try run(document: document(active: false)).banner == nil)
    }

    @Test func dataDetourBannerPointsAtAnotherJSONAndTheDaemonPathIsDerived() throws {
        let custom = try run(document: document(), attributes: ["data-detour-banner": "/status/banner.json"])
        #expect(custom.fetched == ["https://bakery.example/status/banner.json"])
        let daemon = try run(document: document(), src: "https://detour.example/banner/rosies-bakery.js?v=2")
        #expect(daemon.fetched == ["https://detour.example/banner/rosies-bakery.json"])
    }

    // MARK: - Following the daemon's event stream

    private static let daemonScript = "https://detour.example/banner/rosies-bakery.js"
    private static let daemonJSON = "https://detour.example/banner/rosies-bakery.json"
    private static let daemonEvents = "https://detour.example/banner/rosies-bakery/events"

    @Test func servedByTheDaemonItFollowsTheEventStreamAndShowsAndRemovesTheBannerWithoutPolling() throws {
        let outcome = try run(document: document(message: "never fetched"), src: Self.daemonScript, stream: .delivers([
            document(message: "Instagram DMs are down"),
            document(message: "Instagram DMs are down. Call us!"),
            document(active: false),
            document(message: "Down again"),
        ]), ticks: 3)
        #expect(outcome.streams == [Self.daemonEvents])
        #expect(outcome.shownAfterEvents == ["Instagram DMs are down", "Instagram DMs are down. Call us!", nil, "Down again"],
                "each event is applied as it arrives")
        #expect(outcome.fetched.isEmpty, "banner.json is not polled while the stream is open")
        #expect(outcome.closedStreams == 0)
    }

    @Test func aRefusedStreamFallsBackToPollingBannerJSONEveryTwentySeconds() throws {
        let outcome = try run(document: document(message: "From banner.json"), src: Self.daemonScript, stream: .refused, ticks: 2)
        #expect(outcome.streams == [Self.daemonEvents], "not tried again right away")
        #expect(outcome.closedStreams == 1)
        #expect(outcome.fetched == [Self.daemonJSON, Self.daemonJSON, Self.daemonJSON], "once when refused, then on each tick")
        #expect(outcome.intervals == [20_000])
        #expect(outcome.banner?.text == "From banner.json")
    }

    @Test func aDroppedStreamReconnectsByItselfAndNothingIsPolled() throws {
        let outcome = try run(document: document(), src: Self.daemonScript, stream: .drops, ticks: 2)
        #expect(outcome.streams == [Self.daemonEvents])
        #expect(outcome.closedStreams == 0)
        #expect(outcome.fetched.isEmpty)
    }

    @Test func aBannerJSONOnTheBusinessSiteOrWithoutEventSourceIsPolledEveryTwentySeconds() throws {
        let ownSite = try run(document: document(), stream: .delivers([]), ticks: 1)
        #expect(ownSite.streams.isEmpty, "a banner.json on the business's own site has no stream")
        #expect(ownSite.fetched.count == 2)
        #expect(ownSite.intervals == [20_000])
        #expect(ownSite.banner != nil)

        let oldBrowser = try run(document: document(), src: Self.daemonScript, ticks: 1)
        #expect(oldBrowser.fetched == [Self.daemonJSON, Self.daemonJSON])
        #expect(oldBrowser.banner != nil)

        let optedOut = try run(document: document(), src: Self.daemonScript, attributes: ["data-detour-events": "none"],
                               stream: .delivers([]))
        #expect(optedOut.streams.isEmpty)
        #expect(optedOut.fetched == [Self.daemonJSON])

        let named = try run(document: document(), attributes: ["data-detour-events": "https://detour.example/banner/rosies-bakery/events"],
                            stream: .delivers([document(message: "Streamed")]))
        #expect(named.streams == [Self.daemonEvents])
        #expect(named.fetched.isEmpty)
        #expect(named.banner?.text == "Streamed")
    }

    @Test func aHiddenTabGivesItsStreamBackAndFollowsAgainWhenShown() throws {
        let outcome = try run(document: document(), src: Self.daemonScript, stream: .delivers([document(message: "Up")]),
                              hideAndShow: true)
        #expect(outcome.streams == [Self.daemonEvents, Self.daemonEvents])
        #expect(outcome.closedStreams == 1)
        #expect(outcome.fetched.isEmpty)
    }
}
