import CCurl
import CurlShim

/// A thin typed view of one libcurl easy handle. It owns nothing: whoever created the handle
/// cleans it up. Option setters ignore libcurl's result when an option cannot fail for a valid
/// handle; `check` reports the ones that can.
struct CurlEasy {
    let raw: UnsafeMutableRawPointer

    /// A new easy handle, or nil when libcurl cannot allocate one.
    static func make() -> CurlEasy? {
        guard detour_curl_global_init_once() == CURLE_OK, let raw = curl_easy_init() else { return nil }
        return CurlEasy(raw: raw)
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> CURLcode {
        detour_curl_setopt_long(raw, option, value)
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Bool) -> CURLcode {
        detour_curl_setopt_long(raw, option, value ? 1 : 0)
    }

    @discardableResult
    func set(_ option: CURLoption, offset value: Int64) -> CURLcode {
        detour_curl_setopt_off_t(raw, option, curl_off_t(value))
    }

    /// Sets a string option; libcurl copies it. `nil` clears the option.
    @discardableResult
    func set(_ option: CURLoption, _ value: String?) -> CURLcode {
        guard let value else { return detour_curl_setopt_string(raw, option, nil) }
        return value.withCString { detour_curl_setopt_string(raw, option, $0) }
    }

    @discardableResult
    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) -> CURLcode {
        detour_curl_setopt_pointer(raw, option, value)
    }

    @discardableResult
    func set(_ option: CURLoption, list value: UnsafeMutablePointer<curl_slist>?) -> CURLcode {
        detour_curl_setopt_slist(raw, option, value)
    }

    func long(_ info: CURLINFO) -> Int {
        var value = 0
        return detour_curl_getinfo_long(raw, info, &value) == CURLE_OK ? value : 0
    }

    func offset(_ info: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        return detour_curl_getinfo_off_t(raw, info, &value) == CURLE_OK ? Int64(value) : 0
    }

    func string(_ info: CURLINFO) -> String? {
        var value: UnsafePointer<CChar>?
        guard detour_curl_getinfo_string(raw, info, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    /// The phase timings of the last transfer on this handle.
    func timings() -> TransferTimings {
        func micros(_ info: CURLINFO) -> Duration { .microseconds(offset(info)) }
        return TransferTimings(
            nameLookup: micros(CURLINFO_NAMELOOKUP_TIME_T),
            connect: micros(CURLINFO_CONNECT_TIME_T),
            appConnect: micros(CURLINFO_APPCONNECT_TIME_T),
            startTransfer: micros(CURLINFO_STARTTRANSFER_TIME_T),
            total: micros(CURLINFO_TOTAL_TIME_T)
        )
    }

    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }
}

/// A libcurl string list built from Swift strings, freed by `free()`.
struct CurlStringList {
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init(_ items: [String]) {
        for item in items { head = curl_slist_append(head, item) }
    }

    mutating func free() {
        curl_slist_free_all(head)
        head = nil
    }
}

/// Renders a duration for people: "10s", "2.5s", "250ms".
func describeSeconds(_ duration: Duration) -> String {
    let millis = Int64(duration.components.seconds) * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    if millis < 1000 { return "\(millis)ms" }
    if millis % 1000 == 0 { return "\(millis / 1000)s" }
    return "\(Double(millis) / 1000)s"
}

extension Duration {
    /// Whole milliseconds, at least 1 for any positive duration (libcurl treats 0 as "no limit").
    var curlMilliseconds: Int {
        let millis = Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
        return self > .zero ? max(1, millis) : 0
    }
}
