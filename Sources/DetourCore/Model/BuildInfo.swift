/// What this build of Detour is: the one place its version is written, for the CLI, the daemon's
/// status and the User-Agent of every HTTP request it makes.
public enum BuildInfo {
    /// The release version, e.g. "0.1.0".
    public static let version = "0.1.0"
}
