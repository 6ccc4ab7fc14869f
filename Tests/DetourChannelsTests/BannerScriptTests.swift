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
    const storage = new Map(); const fetched = [];
    const document = {
      currentScript: tag, baseURI: "https://bakery.example/", readyState: "complete", visibilityState: "visible", body,
      createElement: t => new El(t), createTextNode: t => ({ textContent: String(t) }), querySelector: () => null, addEventListener() {},
    };
    const window = { sessionStorage: { getItem: k => storage.has(k) ? storage.get(k) : null, setItem: (k, v) => storage.set(k, String(v)) } };
    const fetch = async url => { fetched.push(url); return { status: 200, ok: true, json: async () => scenario.document }; };
    vm.runInNewContext(script, { document, window, fetch, URL, JSON, Date, Array, Object, String, isNaN, setInterval() {} });
    setTimeout(() => {
      const box = body.firstChild.tagName === "header" ? null : body.firstChild;
      let banner = null, afterDismiss = false;
      if (box) {
        banner = { role: box.getAttribute("role"), ariaLive: box.getAttribute("aria-live"), text: box.find("p")[0].textContent,
                   links: box.find("a").map(a => ({ href: a.href, text: a.textContent })), background: box.style.background || null, first: true };
        box.find("button")[0].listeners.click.forEach(f => f());
        afterDismiss = body.childNodes.includes(box);
      }
      console.log(JSON.stringify({ fetched, banner, afterDismiss, dismissRemembered: [...storage.values()].includes("1") }));
    }, 50);
    """#

    private func run(document: [String: Any], src: String = "https://bakery.example/detour/rosies-bakery/banner.js",
                     attributes: [String: String] = [:]) throws -> Outcome {
        let tmp = try TempDir("banner-js")
        let script = try tmp.write("banner.js", BannerScript.text)
        let scenario = try JSONSerialization.data(withJSONObject: ["document": document, "src": src, "attributes": attributes])
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
}
