import DetourConfig
import Foundation

/// Prints diagnostics the way compilers do, so editors and CI logs can point at them.
enum DiagnosticPrinter {
    static func print(_ diagnostics: Diagnostics) {
        for d in diagnostics.sorted {
            FileHandle.standardError.write(Data((d.description + "\n").utf8))
        }
    }
}
