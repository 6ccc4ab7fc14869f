/// The running daemon: the services of `detour run` in one ServiceGroup.
public enum DetourDaemon {}
